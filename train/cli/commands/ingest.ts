import { type CommandDef, defineCommand } from 'citty';
import { loadDataset } from '../../data/index.ts';
import { formatSummary, summarizeDataset } from '../../data/summary.ts';
import { CLIError } from '../errors.ts';
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
    'synthetic-users': {
      type: 'string',
      default: '500',
      description: 'Users of the synthetic ratings generated for a catalog without ratings (tmdb-5000).',
    },
    seed: { type: 'string', default: '42', description: 'Seed of those synthetic ratings.' },
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
    const syntheticUsers = Number(args['synthetic-users'] ?? 500);
    const seed = Number(args.seed ?? 42);
    if (!Number.isInteger(syntheticUsers) || syntheticUsers < 1) {
      throw new CLIError(
        `--synthetic-users must be a positive integer, got ${JSON.stringify(args['synthetic-users'])}`,
      );
    }
    if (!Number.isInteger(seed))
      throw new CLIError(`--seed must be an integer, got ${JSON.stringify(args.seed)}`);
    const bar = createProgress('ingest', { quiet: json, unit: 'bytes' });
    const started = performance.now();
    let dataset: Awaited<ReturnType<typeof loadDataset>>;
    try {
      dataset = await loadDataset(args.data || undefined, {
        strict: args.strict === true,
        syntheticUsers,
        seed,
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
