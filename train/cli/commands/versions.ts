import { defineCommand } from 'citty';
import { formatBytes, S3_ARGS, storeFromFlags, withStore } from '../../publish/cli-support.ts';
import { listVersions } from '../../publish/versions.ts';

/** `reelrank versions --store <url>`: every version, the live one marked. */
export default defineCommand({
  meta: {
    name: 'versions',
    description: 'List the versions in a store, oldest first; * marks the live one.',
  },
  args: {
    store: {
      type: 'string',
      required: true,
      description: "Store: 's3://bucket/prefix', 'file://dir' or a path.",
    },
    ...S3_ARGS,
    json: { type: 'boolean', default: false, description: 'Print one JSON object.' },
  },
  async run({ args }) {
    const store = storeFromFlags(args.store, args);
    const { pointer, versions } = await withStore(store, () => listVersions(store));
    if (args.json === true) {
      console.log(JSON.stringify({ pointer, versions }));
      return;
    }
    if (versions.length === 0) {
      console.log(`No versions in ${store.description}.`);
      return;
    }
    for (const v of versions) {
      const mark = v.live ? '*' : ' ';
      const notes = [v.previous ? 'previous' : '', v.complete ? '' : 'INCOMPLETE (no valid manifest)'].filter(
        Boolean,
      );
      const metrics = v.metrics
        ? Object.entries(v.metrics)
            .filter(([, value]) => typeof value === 'number')
            .slice(0, 3)
            .map(([key, value]) => `${key}=${Number(value).toFixed(4)}`)
            .join(' ')
        : '';
      console.log(
        `${mark} ${v.version}  ${v.createdAt ?? '-'}  ${v.objects} files ${formatBytes(v.bytes)}  ${metrics}${notes.length ? `  [${notes.join(', ')}]` : ''}`,
      );
    }
    console.log(
      pointer
        ? `live: ${pointer.version} (published ${pointer.publishedAt})`
        : 'live: none (no current.json)',
    );
  },
});
