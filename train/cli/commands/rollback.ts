import { defineCommand } from 'citty';
import { S3_ARGS, STORE_ARG, storeFromFlags, withStore } from '../../publish/cli-support.ts';
import { rollback } from '../../publish/versions.ts';

/** `reelrank rollback --store <url> --to <version>`: verify the target, then rewrite the pointer. */
export default defineCommand({
  meta: {
    name: 'rollback',
    description: 'Make an earlier version live again (verified first; only current.json changes).',
  },
  args: {
    ...STORE_ARG,
    to: { type: 'string', required: true, description: 'Version to make live (see `reelrank versions`).' },
    ...S3_ARGS,
  },
  async run({ args }) {
    const store = storeFromFlags(args.store, args);
    const { pointer, from, repairedPointer } = await withStore(store, () => rollback(store, args.to));
    if (repairedPointer !== null)
      console.log(`Replaced the unreadable pointer of ${store.description} (${repairedPointer}).`);
    console.log(`Live version of ${store.description}: ${pointer.version} (was ${from ?? 'none'}).`);
  },
});
