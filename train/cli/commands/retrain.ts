import { defineCommand } from 'citty';
import { S3_ARGS, storeFromFlags, withStore } from '../../publish/cli-support.ts';
import { closeStore } from '../../store/open.ts';
import { CLIError } from '../errors.ts';
import { applyThreads, threadsArg } from '../threads.ts';

/** Exit code of a run whose candidate failed the quality gate (the live version stays). */
export const GATE_REFUSED_EXIT_CODE = 3;

/**
 * `reelrank retrain --to <store>`: the scheduled retraining job. Train, gate on held-out metrics
 * against the live version, publish and prune. Meant for cron / a CI schedule; exit codes: 0
 * published or nothing to do, 3 refused by the quality gate, 1 error.
 */
export default defineCommand({
  meta: {
    name: 'retrain',
    description:
      'Scheduled retraining: train on the current data, publish only if held-out metrics are no worse than the live version (exit 3 if refused), prune old versions.',
  },
  args: {
    threads: threadsArg,
    to: {
      type: 'string',
      required: true,
      description:
        "Store the edge reads: 's3://bucket/prefix' (R2 via its S3 endpoint), 'file://dir' or a path.",
    },
    data: { type: 'string', description: 'Dataset folder. Default: the embedded data/ml-latest-small.' },
    tmdb: { type: 'string', description: 'A tmdb-5000 folder to join for content features.' },
    model: { type: 'string', description: 'Model to train (default: the production default).' },
    content: {
      type: 'boolean',
      default: true,
      description: 'Fit text embeddings for content features (--no-content to skip).',
    },
    out: {
      type: 'string',
      default: 'artifacts',
      description: 'Local folder that receives the candidate version.',
    },
    seed: { type: 'string', default: '0', description: 'Seed of splits, initialisation and shuffles.' },
    gate: {
      type: 'string',
      default: 'holdoutRating.rmse,holdoutRankingRankModel.ndcg@10',
      description: 'Comma-separated metrics.json entries that must not get worse (empty: no gate).',
    },
    tolerance: {
      type: 'string',
      default: '0.02',
      description: 'Relative slack of the gate: 0.02 lets a metric be up to 2% worse than live.',
    },
    keep: {
      type: 'string',
      default: '5',
      description: 'Versions kept in the store after publishing (>= 2).',
    },
    force: {
      type: 'boolean',
      default: false,
      description: 'Retrain even when the data, model and seed equal the live version’s.',
    },
    'allow-dataset-change': {
      type: 'boolean',
      default: false,
      description:
        'Accept a candidate trained on another dataset (folder name) than the live version; refused by default.',
    },
    canary: {
      type: 'string',
      description:
        'Publish a passing candidate as a canary for this percent of people (e.g. 10) instead of live; judge it with `reelrank experiment`, end it with `reelrank promote` or `abort`.',
    },
    'dry-run': {
      type: 'boolean',
      default: false,
      description: 'Train and gate, but do not publish or prune.',
    },
    events: {
      type: 'string',
      description:
        "Feedback events written by the edge ('s3://bucket/prefix/events' or 'file://dir'): merged into the training data; the gate then scores live and candidate on the newest events since the live watermark.",
    },
    'newest-fraction': {
      type: 'string',
      default: '0.1',
      description: 'With --events: share of the new events (newest by time) held out for the gate.',
    },
    'newest-gate': {
      type: 'string',
      default: 'newest.ndcg@10,newest.rmse',
      description:
        'With --events: metrics on the newest rows that must not get worse (newest.ndcg@10, newest.recall@10, newest.rmse).',
    },
    json: {
      type: 'boolean',
      default: false,
      description: 'Print one JSON result (progress goes to stderr).',
    },
    ...S3_ARGS,
  },
  async run({ args }) {
    applyThreads(args.threads);
    const seed = Number(args.seed);
    if (!/^\d+$/.test(args.seed))
      throw new CLIError(`--seed must be a non-negative integer, got '${args.seed}'`);
    const tolerance = Number(args.tolerance);
    if (!Number.isFinite(tolerance) || tolerance < 0)
      throw new CLIError(`--tolerance must be a number >= 0, got '${args.tolerance}'`);
    const keep = Number(args.keep);
    if (!/^\d+$/.test(args.keep) || keep < 2)
      throw new CLIError(`--keep must be a whole number >= 2 (live + previous), got '${args.keep}'`);
    const list = (value: string) =>
      value
        .split(',')
        .map((m) => m.trim())
        .filter((m) => m !== '');
    const gate = list(args.gate);
    const newestGate = list(args['newest-gate']);
    const newestFraction = Number(args['newest-fraction']);
    if (!(newestFraction > 0 && newestFraction <= 1))
      throw new CLIError(`--newest-fraction must be a number in (0, 1], got '${args['newest-fraction']}'`);
    const { registerNeuralModels } = await import('../../models/neural/index.ts');
    registerNeuralModels();
    const { modelNames } = await import('../../models/registry.ts');
    if (args.model !== undefined && !modelNames().includes(args.model))
      throw new CLIError(`--model '${args.model}' is unknown. Available: ${modelNames().join(', ')}`);
    const { retrain } = await import('../../publish/retrain.ts');
    const json = args.json === true;
    const canaryPercent = args.canary === undefined ? undefined : Number(args.canary.replace(/%$/, ''));
    if (canaryPercent !== undefined && !(canaryPercent > 0 && canaryPercent < 100))
      throw new CLIError(
        `--canary takes a percent above 0 and below 100 (e.g. --canary 10), got '${args.canary}'`,
      );
    const store = storeFromFlags(args.to, args);
    const events = args.events === undefined ? undefined : storeFromFlags(args.events, args);
    const result = await withStore(store, () =>
      retrain({
        store,
        ...(events ? { events, newestFraction, newestGate } : {}),
        training: {
          out: args.out,
          seed,
          quickReport: true,
          content: args.content !== false,
          ...(args.data ? { data: args.data } : {}),
          ...(args.tmdb ? { tmdb: args.tmdb } : {}),
          ...(args.model ? { model: args.model } : {}),
        },
        gate,
        tolerance,
        keep,
        force: args.force === true,
        dryRun: args['dry-run'] === true,
        allowDatasetChange: args['allow-dataset-change'] === true,
        ...(canaryPercent === undefined ? {} : { canaryPercent }),
        log: (line) => (json ? console.error(line) : console.log(line)),
      }),
    ).finally(() => {
      if (events) closeStore(events);
    });
    if (json) console.log(JSON.stringify(result));
    if (result.outcome === 'refused' && result.datasetChange !== null) {
      throw new CLIError(
        `refused: the data is '${result.datasetChange.candidate}', the live version ${result.live} was trained on '${result.datasetChange.live}'; nothing trained or published. Check --data, or pass --allow-dataset-change if the switch is intended.`,
        GATE_REFUSED_EXIT_CODE,
      );
    }
    if (result.outcome === 'refused') {
      throw new CLIError(
        `refused by the quality gate: ${result.live} stays live; candidate kept in ${result.candidateDir}.`,
        GATE_REFUSED_EXIT_CODE,
      );
    }
    if (!json)
      console.log(
        {
          published: `Published ${result.candidate} to ${store.description} (was ${result.live ?? 'none'}) in ${result.seconds.toFixed(1)} s.`,
          unchanged: `Nothing to do: ${result.live} was trained on the same data, model and seed.`,
          'dry-run': `Dry run: ${result.candidate} passed the gate and was not published (${result.candidateDir}).`,
        }[result.outcome],
      );
  },
});
