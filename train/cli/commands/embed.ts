import { type CommandDef, defineCommand } from 'citty';
import { CLIError } from '../errors.ts';

/** `reelrank embed`: text + poster embeddings, similar-movie lists and 2-D maps for a catalog. */
const embedCommand = defineCommand({
  meta: {
    name: 'embed',
    description:
      'Embed a catalog (text: LSA or SIF; posters: MobileNet or --cnn), precompute top-k similar movies per channel and a blend, and draw 2-D maps.',
  },
  args: {
    data: { type: 'string', description: 'Dataset folder. Default: the embedded data/ml-latest-small.' },
    tmdb: { type: 'string', description: 'A tmdb-5000 folder to join (overviews, keywords).' },
    posters: {
      type: 'string',
      description: 'Folder of <movieId>.jpg|png posters (movies without one get no visual vector).',
    },
    'synthetic-posters': {
      type: 'boolean',
      default: false,
      description:
        'Render genre-coloured posters instead (explicitly synthetic; never mixed with real ones).',
    },
    text: { type: 'string', default: 'lsa', description: 'Text embedding: lsa (default) or sif.' },
    'text-dim': { type: 'string', description: 'LSA dimensions (default 128).' },
    glove: {
      type: 'string',
      description: 'sif: a GloVe-format word-vector file (default: pretrain on the catalog text).',
    },
    cnn: {
      type: 'string',
      description:
        'A TF.js LayersModel folder (model.json + shards) to embed posters with (default: bundled MobileNet v1 0.25).',
    },
    'cnn-layer': {
      type: 'string',
      description:
        'Layer of --cnn whose [batch, dim] output is the embedding (default global_average_pooling2d_1).',
    },
    backend: { type: 'string', description: 'TF.js backend for the CNN: auto, gpu, node, wasm or cpu.' },
    k: { type: 'string', default: '50', description: 'Neighbours per movie.' },
    maps: { type: 'boolean', default: true, description: 'Write t-SNE maps as SVG (--no-maps to skip).' },
    out: { type: 'string', default: 'artifacts/embed', description: 'Output folder.' },
  },
  async run({ args }) {
    const k = Number(args.k);
    if (!Number.isInteger(k) || k < 1) throw new CLIError(`--k must be a positive integer, got '${args.k}'`);
    if (args.text !== 'lsa' && args.text !== 'sif')
      throw new CLIError(`--text '${args.text}' is unknown. Allowed: lsa, sif`);
    const textDim = args['text-dim'] === undefined ? undefined : Number(args['text-dim']);
    if (textDim !== undefined && !(Number.isInteger(textDim) && textDim > 0)) {
      throw new CLIError(`--text-dim must be a positive integer, got '${args['text-dim']}'`);
    }
    const { parseBackendChoice } = await import('../../backend.ts');
    const { embedCatalog } = await import('../../similar/embed-catalog.ts');
    const result = await embedCatalog({
      out: args.out,
      k,
      text: args.text,
      maps: args.maps !== false,
      syntheticPosters: args['synthetic-posters'] === true,
      ...(args.data ? { data: args.data } : {}),
      ...(args.tmdb ? { tmdb: args.tmdb } : {}),
      ...(args.posters ? { posters: args.posters } : {}),
      ...(textDim === undefined ? {} : { textDim }),
      ...(args.glove ? { glove: args.glove } : {}),
      ...(args.cnn ? { cnn: args.cnn } : {}),
      ...(args['cnn-layer'] ? { cnnLayer: args['cnn-layer'] } : {}),
      ...(args.backend ? { backend: parseBackendChoice(args.backend) } : {}),
      log: (line) => console.log(line),
    });
    console.log(`wrote ${result.files.length} files to ${result.out}`);
  },
});

// The lazy command table in main.ts wants the untyped CommandDef; the typed args stay inside.
export default embedCommand as CommandDef;
