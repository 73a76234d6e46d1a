import { type CommandDef, defineCommand } from 'citty';
import { loadDataset } from '../../data/index.ts';
import { formatSummary, summarizeDataset } from '../../data/summary.ts';
import { createProgress } from '../progress.ts';

/** `reelrank ingest`: load a dataset folder (default: the embedded ml-latest-small) and report it. */
const ingest = defineCommand({
  meta: {
    name: 'ingest',
    description:
      'Load a dataset (MovieLens 100K / 1M / latest / 20M-32M, or TMDB 5000) and print counts, rating scale, sparsity and skipped rows.',
  },
  args: {
    data: {
      type: 'string',
      description:
        'Dataset folder (format detected from its files). Default: the embedded data/ml-latest-small.',
    },
    tmdb: {
      type: 'string',
      description: 'A tmdb-5000 folder to join into the catalog (overview, keywords, cast, director).',
    },
    posters: { type: 'string', description: 'A folder of <movieId>.jpg|png posters to attach.' },
    strict: {
      type: 'boolean',
      default: false,
      description: 'Fail on the first malformed row instead of skipping it.',
    },
    json: {
      type: 'boolean',
      default: false,
      description: 'Print one JSON object instead of the human summary.',
    },
  },
  async run({ args }) {
    const json = args.json === true;
    const bar = createProgress('ingest', { quiet: json, unit: 'bytes' });
    const started = performance.now();
    let dataset: Awaited<ReturnType<typeof loadDataset>>;
    try {
      dataset = await loadDataset(args.data || undefined, {
        strict: args.strict === true,
        ...(args.tmdb ? { tmdb: args.tmdb } : {}),
        ...(args.posters ? { posters: args.posters } : {}),
        onProgress: ({ done, total }) => bar.update(done, total),
      });
    } finally {
      bar.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    const summary = summarizeDataset(dataset);
    if (json) {
      console.log(JSON.stringify({ ...summary, seconds: Number(seconds.toFixed(3)) }));
    } else {
      console.log(formatSummary(summary, dataset));
      console.log(`  loaded in ${seconds.toFixed(2)} s`);
    }
  },
});

// The lazy command table in main.ts wants the untyped CommandDef; the typed args stay inside.
export default ingest as CommandDef;
