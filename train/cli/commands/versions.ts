import { defineCommand } from 'citty';
import { formatBytes, S3_ARGS, STORE_ARG, storeFromFlags, withStore } from '../../publish/cli-support.ts';
import { listVersions } from '../../publish/versions.ts';

/** The first few numeric metrics, one level of nesting flattened ('holdoutRating.rmse=0.8637'). */
function headlineMetrics(metrics: Record<string, unknown>, count = 3): string {
  const flat: [string, number][] = [];
  for (const [key, value] of Object.entries(metrics)) {
    if (typeof value === 'number') flat.push([key, value]);
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value)) {
        if (typeof innerValue === 'number') flat.push([`${key}.${inner}`, innerValue]);
      }
    }
  }
  return flat
    .slice(0, count)
    .map(([key, value]) => `${key}=${value.toFixed(4)}`)
    .join(' ');
}

/** `reelrank versions --store <url>`: every version, the live one marked. */
export default defineCommand({
  meta: {
    name: 'versions',
    description:
      'List the versions in a store, oldest first; * marks the live one, + a canary, with their shares of traffic.',
  },
  args: {
    ...STORE_ARG,
    ...S3_ARGS,
    json: { type: 'boolean', default: false, description: 'Print one JSON object.' },
  },
  async run({ args }) {
    const store = storeFromFlags(args.store, args);
    const { pointer, pointerError, versions } = await withStore(store, () => listVersions(store));
    if (args.json === true) {
      console.log(JSON.stringify({ pointer, pointerError, versions }));
      return;
    }
    if (versions.length === 0) {
      console.log(`No versions in ${store.description}.`);
      if (pointerError !== null) console.log(`The pointer is unreadable: ${pointerError}`);
      return;
    }
    for (const v of versions) {
      const canary = pointer?.canary?.version === v.version ? pointer.canary : null;
      const mark = v.live ? '*' : canary ? '+' : ' ';
      const share = v.live ? `${100 - (pointer?.canary?.percent ?? 0)}%` : canary ? `${canary.percent}%` : '';
      const notes = [
        share ? `serves ${share}` : '',
        canary ? 'canary' : '',
        v.previous ? 'previous' : '',
        v.complete ? '' : 'INCOMPLETE (no valid manifest)',
      ].filter(Boolean);
      const metrics = v.metrics ? headlineMetrics(v.metrics) : '';
      console.log(
        `${mark} ${v.version}  ${v.createdAt ?? '-'}  ${v.objects} files ${formatBytes(v.bytes)}  ${metrics}${notes.length ? `  [${notes.join(', ')}]` : ''}`,
      );
    }
    console.log(
      pointer
        ? `live: ${pointer.version} (published ${pointer.publishedAt})` +
            (pointer.canary
              ? `, ${100 - pointer.canary.percent}%; canary: ${pointer.canary.version}, ${pointer.canary.percent}% (since ${pointer.canary.startedAt})`
              : ', 100%')
        : pointerError !== null
          ? `live: unknown, the pointer is unreadable: ${pointerError} Repair it with \`reelrank rollback --to <version>\`.`
          : 'live: none (no current.json)',
    );
  },
});
