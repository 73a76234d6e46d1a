import { defineCommand } from 'citty';
import { abortCanary } from '../../publish/canary.ts';
import { S3_ARGS, STORE_ARG, storeFromFlags, withStore } from '../../publish/cli-support.ts';

/** `reelrank abort --store <url>`: remove the running canary; the live version serves everyone. */
export default defineCommand({
  meta: {
    name: 'abort',
    description:
      'Remove the running canary: the live version serves 100% again (the canary stays in the store).',
  },
  args: {
    ...STORE_ARG,
    ...S3_ARGS,
    json: { type: 'boolean', default: false, description: 'Print one JSON object.' },
  },
  async run({ args }) {
    const store = storeFromFlags(args.store, args);
    const { pointer, canary } = await withStore(store, () => abortCanary(store));
    if (args.json === true) {
      console.log(JSON.stringify({ pointer, aborted: canary }));
      return;
    }
    console.log(
      `Aborted canary ${canary.version} (was ${canary.percent}%): ${pointer.version} serves 100% of ${store.description}.`,
    );
  },
});
