import { type CommandDef, defineCommand } from 'citty';
import { modelNames } from '../../models/registry.ts';
import { CLIError } from '../errors.ts';
import { applyThreads, threadsArg } from '../threads.ts';

/** `reelrank train`: dataset → split → fit → evaluate → export one artifact version. */
const trainCommand = defineCommand({
  meta: {
    name: 'train',
    description:
      'Train a model, evaluate it on a held-out split and write a version (factors, catalog, seen lists, metrics.json, report.html).',
  },
  args: {
    threads: threadsArg,
    data: { type: 'string', description: 'Dataset folder. Default: the embedded data/ml-latest-small.' },
    tmdb: {
      type: 'string',
      description: 'A tmdb-5000 folder to join (overviews, keywords) for content features.',
    },
    posters: {
      type: 'string',
      description:
        'A folder of <movieId>.jpg|png posters: export poster embeddings, their mask and visual similar-movie lists.',
    },
    cnn: {
      type: 'string',
      description: 'TF.js LayersModel folder for the posters. Default: the bundled MobileNet v1 0.25.',
    },
    'cnn-layer': {
      type: 'string',
      description: 'CNN layer giving the [batch, dim] poster embedding. Default: global_average_pooling2d_1.',
    },
    model: {
      type: 'string',
      default: 'svdpp',
      description:
        'Model to train. Factor models (svdpp, mf-sgd, mf-als, two-stage) write versions the edge serves; tower models (ncf-*, deep-hybrid, title-*) write the TF.js model under neural/<name>/ with no factor form.',
    },
    out: { type: 'string', default: 'artifacts', description: 'Folder that receives the version.' },
    seed: { type: 'string', default: '0', description: 'Seed of every split, initialisation and shuffle.' },
    backend: {
      type: 'string',
      description:
        'TF.js backend for dense parts and posters: auto (default: fastest that loads), gpu, node, wasm or cpu; recorded in the manifest. gpu needs @tensorflow/tfjs-node-gpu on a CUDA machine and fails with a clear message elsewhere; the default model (svdpp + ials) has no dense part and trains with typed arrays on the thread pool.',
    },
    content: {
      type: 'boolean',
      default: true,
      description: 'Fit text embeddings for content features (--no-content to skip).',
    },
    neighbors: {
      type: 'boolean',
      default: true,
      description: 'Precompute top-50 similar-movie lists (--no-neighbors to skip).',
    },
    json: { type: 'boolean', default: false, description: 'Print the result as JSON.' },
  },
  async run({ args }) {
    applyThreads(args.threads);
    const seed = Number(args.seed);
    if (!Number.isInteger(seed) || seed < 0)
      throw new CLIError(`--seed must be a non-negative integer, got '${args.seed}'`);
    const { registerNeuralModels } = await import('../../models/neural/index.ts');
    registerNeuralModels();
    if (!modelNames().includes(args.model)) {
      throw new CLIError(`--model '${args.model}' is unknown. Available: ${modelNames().join(', ')}`);
    }
    if ((args.cnn || args['cnn-layer']) && !args.posters)
      throw new CLIError('--cnn and --cnn-layer need --posters <folder>');
    const { runTraining } = await import('../../pipeline/train.ts');
    const json = args.json === true;
    const result = await runTraining({
      model: args.model,
      out: args.out,
      seed,
      content: args.content !== false,
      neighbors: args.neighbors === true,
      ...(args.data ? { data: args.data } : {}),
      ...(args.tmdb ? { tmdb: args.tmdb } : {}),
      ...(args.backend ? { backend: args.backend } : {}),
      ...(args.posters ? { posters: args.posters } : {}),
      ...(args.cnn ? { cnn: args.cnn } : {}),
      ...(args['cnn-layer'] ? { cnnLayer: args['cnn-layer'] } : {}),
      log: json ? () => {} : (line) => console.log(line),
    });
    if (json) console.log(JSON.stringify(result, null, 2));
  },
});

// The lazy command table in main.ts wants the untyped CommandDef; the typed args stay inside.
export default trainCommand as CommandDef;
