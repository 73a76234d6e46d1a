import { defineCommand } from 'citty';
import { promoteCanary } from '../../publish/canary.ts';
import { S3_ARGS, STORE_ARG, storeFromFlags, withStore } from '../../publish/cli-support.ts';

/** `reelrank promote --store <url>`: the running canary becomes the live version for everyone. */
export default defineCommand({
  meta: {
    name: 'promote',
    description:
      'Make the running canary the live version for everyone (verified first; only current.json changes).',
  },
  args: {
    ...STORE_ARG,
    ...S3_ARGS,
    json: { type: 'boolean', default: false, description: 'Print one JSON object.' },
  },
  async run({ args }) {
    const store = storeFromFlags(args.store, args);
    const { pointer, canary } = await withStore(store, () => promoteCanary(store));
    if (args.json === true) {
      console.log(JSON.stringify({ pointer, promoted: canary }));
      return;
    }
    console.log(
      `Promoted canary ${canary.version} (was ${canary.percent}%): live for everyone in ${store.description} (previous: ${pointer.previous ?? 'none'}).`,
    );
  },
});
