import { defineCommand } from 'citty';
import { readPointer } from '../../../shared/artifacts/loader.ts';
import { type ArmStats, analyzeExperiment } from '../../experiment/analyze.ts';
import { readEvents } from '../../events/read.ts';
import { S3_ARGS, storeFromFlags, withStore } from '../../publish/cli-support.ts';
import { CLIError } from '../errors.ts';

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

function armLine(a: ArmStats): string {
  const rating =
    a.meanRating === null
      ? 'no ratings'
      : `mean rating ${a.meanRating.toFixed(2)}${a.meanRatingInterval ? ` [${a.meanRatingInterval[0].toFixed(2)}, ${a.meanRatingInterval[1].toFixed(2)}]` : ''}`;
  return (
    `${a.arm.padEnd(9)} ${a.version}  people ${a.people}  lists ${a.lists}  impressions ${a.impressions}  clicks ${a.clicks}  watches ${a.watches}  ratings ${a.ratings}\n` +
    `          click-through ${pct(a.ctr)} [${pct(a.ctrInterval[0])}, ${pct(a.ctrInterval[1])}]  ${rating}  nDCG of clicks ${a.clickNdcg === null ? '-' : a.clickNdcg.toFixed(3)}\n` +
    `          clicks by position ${a.clicksByPosition.join(' ') || '-'}`
  );
}

/** `reelrank experiment --store URL --events URL`: online metrics of the live and canary arms. */
export default defineCommand({
  meta: {
    name: 'experiment',
    description:
      'Per arm (live, canary): people, impressions, clicks, watches, ratings attributed to its recommendations, click-through with 95% intervals, mean rating, nDCG of clicks, a significance test and a verdict.',
  },
  args: {
    store: {
      type: 'string',
      required: true,
      description:
        "Artifact store whose pointer names the arms: 's3://bucket/prefix', 'file://dir' or a path.",
    },
    events: {
      type: 'string',
      required: true,
      description: "Where the Worker's queue consumer writes events, e.g. 's3://bucket/prefix/events'.",
    },
    window: {
      type: 'string',
      default: '24',
      description: 'Hours after a list was shown during which its clicks, watches and ratings count.',
    },
    ...S3_ARGS,
    json: { type: 'boolean', default: false, description: 'Print one JSON object.' },
  },
  async run({ args }) {
    const hours = Number(args.window);
    if (!Number.isFinite(hours) || hours <= 0)
      throw new CLIError(`--window takes hours > 0, got '${args.window}'.`);
    const store = storeFromFlags(args.store, args);
    const pointer = await withStore(store, () => readPointer(store));
    const eventsStore = storeFromFlags(args.events, args);
    const read = await withStore(eventsStore, () =>
      readEvents(eventsStore, { upTo: Number.POSITIVE_INFINITY }),
    );
    if (read.objects.read === 0)
      throw new CLIError(`No event objects (*.ndjson.gz) under ${eventsStore.description}.`);
    const report = analyzeExperiment(read.events, {
      windowSeconds: hours * 3600,
      ...(pointer?.canary
        ? {
            since: Math.floor(Date.parse(pointer.canary.startedAt) / 1000),
            versions: { live: pointer.version, candidate: pointer.canary.version },
          }
        : {}),
    });
    // Only the arms of the pointer's current experiment (older versions' events are history).
    const current = new Set([pointer?.version, pointer?.canary?.version].filter((v): v is string => !!v));
    const others = report.arms.filter((a) => !current.has(a.version));
    if (args.json === true) {
      console.log(
        JSON.stringify({
          pointer,
          read: { objects: read.objects.read, events: read.events.length, duplicates: read.duplicates },
          ...report,
        }),
      );
      return;
    }
    console.log(
      `Experiment in ${store.description}: live ${pointer?.version ?? 'none'}` +
        (pointer?.canary
          ? `, canary ${pointer.canary.version} at ${pointer.canary.percent}% since ${pointer.canary.startedAt}`
          : ', no canary running') +
        `; ${read.events.length} events from ${read.objects.read} objects, window ${hours} h.`,
    );
    for (const a of report.arms.filter((x) => current.has(x.version))) console.log(armLine(a));
    if (others.length > 0)
      console.log(
        `(events of ${others.length} other version(s) not shown: ${others.map((a) => a.version).join(', ')})`,
      );
    if (report.comparison) {
      const c = report.comparison;
      console.log(
        `candidate - live click-through: ${c.difference >= 0 ? '+' : ''}${pct(c.difference)} [${pct(c.interval[0])}, ${pct(c.interval[1])}], z = ${c.z.toFixed(2)}, p = ${c.pValue.toPrecision(2)}`,
      );
    }
    console.log(`verdict: ${report.verdict}`);
  },
});
