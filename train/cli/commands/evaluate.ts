import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CommandDef, defineCommand } from 'citty';
import { PROTOCOLS, type Protocol, type ResultRow } from '../../eval/compare.ts';
import { modelEntry, modelNames } from '../../models/registry.ts';
import { CLIError } from '../errors.ts';
import { applyThreads, threadsArg } from '../threads.ts';

/** Flatten a version's metrics.json ({section: {metric: value}}) into table rows. */
async function versionRows(dir: string): Promise<ResultRow[]> {
  let raw: string;
  try {
    raw = await readFile(join(dir, 'metrics.json'), 'utf8');
  } catch {
    throw new CLIError(
      `version folder ${dir} has no metrics.json (expected a folder written by 'reelrank train')`,
    );
  }
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8').catch(() => '{}')) as {
    trainingConfig?: { model?: string; dataset?: string; seed?: number };
    version?: string;
  };
  const metrics = JSON.parse(raw) as Record<string, Record<string, number>>;
  const rows: ResultRow[] = [];
  for (const [section, values] of Object.entries(metrics)) {
    if (typeof values !== 'object' || values === null) continue;
    for (const [metric, value] of Object.entries(values)) {
      if (typeof value !== 'number') continue;
      rows.push({
        dataset: manifest.trainingConfig?.dataset ?? '?',
        protocol: section,
        model: `${manifest.trainingConfig?.model ?? '?'}@${manifest.version ?? dir}`,
        metric,
        value,
        seed: manifest.trainingConfig?.seed ?? 0,
        trainSeconds: metrics.timing?.productionFitSeconds ?? 0,
      });
    }
  }
  return rows;
}

/** Whether `evaluate` can measure model `name` on `protocol` (official = rating metrics only). */
function canRunOn(name: string, protocol: Protocol): boolean {
  return protocol !== 'official' || modelEntry(name).ratings;
}

/** `reelrank evaluate`: compare models on one protocol, or versions by their metrics.json, side by side. */
const evaluateCommand = defineCommand({
  meta: {
    name: 'evaluate',
    description: 'Compare models (fitted here on one protocol) or trained versions side by side.',
  },
  args: {
    threads: threadsArg,
    data: { type: 'string', description: 'Dataset folder. Default: the embedded data/ml-latest-small.' },
    models: {
      type: 'string',
      default: 'popularity,biases,mf-sgd,svdpp',
      description: `Comma-separated models: ${modelNames().join(', ')}`,
    },
    protocol: {
      type: 'string',
      default: 'random',
      description: `One of: ${Object.keys(PROTOCOLS).join(', ')}`,
    },
    split: {
      type: 'string',
      default: 'u1',
      description: "Official split for --protocol official (e.g. ml-100k's u1).",
    },
    seed: { type: 'string', default: '0', description: 'Seed of the split and the models.' },
    versions: {
      type: 'string',
      description: 'Comma-separated version folders to compare instead of fitting models.',
    },
    backend: {
      type: 'string',
      description:
        'TF.js backend for tower models: auto (default: fastest that loads), gpu, node, wasm or cpu.',
    },
    json: { type: 'boolean', default: false, description: 'Print rows as JSON.' },
  },
  async run({ args, rawArgs }) {
    applyThreads(args.threads);
    const { formatTable, compareModels } = await import('../../eval/compare.ts');
    let rows: ResultRow[];
    if (args.versions) {
      const ignored = ['models', 'protocol', 'split', 'seed', 'data', 'backend'].filter((name) =>
        rawArgs.some((a) => a === `--${name}` || a.startsWith(`--${name}=`)),
      );
      if (ignored.length > 0)
        throw new CLIError(
          `--versions compares the metrics.json of trained versions; ${ignored.map((n) => `--${n}`).join(', ')} would be ignored, so leave ${ignored.length === 1 ? 'it' : 'them'} out`,
        );
      rows = (await Promise.all(args.versions.split(',').map((d) => versionRows(d.trim())))).flat();
    } else {
      const protocol = args.protocol as Protocol;
      if (!(protocol in PROTOCOLS))
        throw new CLIError(
          `--protocol '${args.protocol}' is unknown. Available: ${Object.keys(PROTOCOLS).join(', ')}`,
        );
      const { registerNeuralModels, NEURAL_MODELS } = await import('../../models/neural/index.ts');
      registerNeuralModels();
      const models = args.models
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean);
      const unknown = models.filter((m) => !modelNames().includes(m));
      if (unknown.length > 0)
        throw new CLIError(`--models: unknown ${unknown.join(', ')}. Available: ${modelNames().join(', ')}`);
      // A model that cannot be measured on the protocol is named, not left out of the table.
      const unmeasurable = models.filter((m) => !canRunOn(m, protocol));
      if (unmeasurable.length === models.length)
        throw new CLIError(
          `--protocol ${protocol} measures rating predictions, and ${unmeasurable.join(', ')} ${unmeasurable.length === 1 ? 'predicts' : 'predict'} no ratings; use --protocol ${Object.keys(
            PROTOCOLS,
          )
            .filter((p) => p !== 'official')
            .join(', ')} for ranking models, or --models with a rating model`,
        );
      if (unmeasurable.length > 0)
        console.error(
          `evaluate: ${unmeasurable.join(', ')} left out: --protocol ${protocol} measures rating predictions, which ${unmeasurable.length === 1 ? 'it does' : 'they do'} not make`,
        );
      const seed = Number(args.seed);
      if (!Number.isInteger(seed) || seed < 0)
        throw new CLIError(`--seed must be a non-negative integer, got '${args.seed}'`);
      if (models.some((m) => NEURAL_MODELS[m]?.tfjs) || args.backend) {
        const { parseBackendChoice, selectBackend } = await import('../../backend.ts');
        const selection = await selectBackend({
          backend: parseBackendChoice(typeof args.backend === 'string' ? args.backend : 'auto'),
        });
        console.log(`tfjs backend: ${selection.name}`);
      }
      const { loadDataset } = await import('../../data/index.ts');
      const dataset = await loadDataset(args.data);
      rows = await compareModels(dataset, models, { protocol, seed, officialSplit: args.split });
      const silent = models.filter((m) => canRunOn(m, protocol) && !rows.some((r) => r.model === m));
      if (silent.length > 0)
        console.error(`evaluate: ${silent.join(', ')} produced no metric on --protocol ${protocol}`);
    }
    if (rows.length === 0)
      throw new CLIError(
        args.versions
          ? `--versions ${args.versions}: no numeric metric in their metrics.json`
          : `no model produced a metric on --protocol ${args.protocol}`,
      );
    console.log(args.json ? JSON.stringify(rows, null, 2) : formatTable(rows));
  },
});

// The lazy command table in main.ts wants the untyped CommandDef; the typed args stay inside.
export default evaluateCommand as CommandDef;
