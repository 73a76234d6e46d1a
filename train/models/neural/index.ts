import type { WordVectors } from '../../content/word-vectors.ts';
import { type ModelEntry, type ModelSetup, registerModel } from '../registry.ts';
import type { Recommender } from '../types.ts';
import { DeepHybridRecommender } from './deep-hybrid.ts';
import { NcfRecommender } from './ncf.ts';
import type { FeatureMatrix } from './rating-tower.ts';
import { TitleEmbeddingRecommender } from './title.ts';
import { TwoStageRecommender } from './two-stage.ts';

export { DeepHybridRecommender } from './deep-hybrid.ts';
export { NcfRecommender } from './ncf.ts';
export type { FeatureMatrix } from './rating-tower.ts';
export { TitleEmbeddingRecommender } from './title.ts';
export { TwoStageRecommender } from './two-stage.ts';

/**
 * The neural models of the references, by CLI / benchmark name. Call `selectBackend()`
 * (train/backend.ts) before fitting the ones with a TF.js tower (all but the two-stage models).
 */
export interface NeuralSetup extends ModelSetup {
  /** Per-movie text-content vectors for the deep hybrid model (default: `itemFeatures`). */
  content?: FeatureMatrix;
  /** Per-movie poster vectors for the deep hybrid model. */
  visual?: FeatureMatrix;
  /** Pretrained word vectors for the title models (default: pretrain on the catalog's overviews). */
  wordVectors?: WordVectors;
}

export interface NeuralModelEntry extends ModelEntry {
  /** True when training runs a TF.js tower (needs a selected backend; exports a LayersModel). */
  tfjs: boolean;
  create: (setup: NeuralSetup) => Recommender;
}

/** NCF settings measured by bench/neural.ts (early stopping on a carve of each user's latest rating). */
export const NCF_DEFAULTS = Object.freeze({
  epochs: 8,
  patience: 2,
  batchSize: 1024,
  learningRate: 2e-3,
  embeddingLearningRate: 5e-3,
  gmfDim: 32,
  mlpDim: 32,
});

/** Rating-tower settings measured by bench/neural.ts (early stopping on a 5% carve). */
export const RATING_TOWER_DEFAULTS = Object.freeze({ epochs: 15, batchSize: 512, patience: 2 });

const contentOf = (setup: NeuralSetup): FeatureMatrix | undefined =>
  setup.content ??
  (setup.itemFeatures ? { dim: setup.itemFeatures.dim, values: setup.itemFeatures.data } : undefined);

const titleModel =
  (variant: 'learned' | 'frozen' | 'finetuned') =>
  ({ wordVectors }: NeuralSetup): Recommender =>
    new TitleEmbeddingRecommender({
      ...RATING_TOWER_DEFAULTS,
      variant,
      ...(wordVectors ? { pretrained: wordVectors } : {}),
    });

export const NEURAL_MODELS: Readonly<Record<string, NeuralModelEntry>> = Object.freeze({
  'ncf-neumf': {
    about: 'NCF NeuMF (GMF + MLP 64-32-16), implicit feedback, 4 sampled negatives, BCE (ref 003)',
    ratings: false,
    tfjs: true,
    create: () => new NcfRecommender({ ...NCF_DEFAULTS, variant: 'neumf' }),
  },
  'ncf-gmf': {
    about: 'NCF GMF only (ref 003)',
    ratings: false,
    tfjs: true,
    create: () => new NcfRecommender({ ...NCF_DEFAULTS, variant: 'gmf' }),
  },
  'ncf-mlp': {
    about: 'NCF MLP only (ref 003)',
    ratings: false,
    tfjs: true,
    create: () => new NcfRecommender({ ...NCF_DEFAULTS, variant: 'mlp' }),
  },
  'deep-hybrid': {
    about:
      'user + movie embeddings + content + poster vectors -> Dense 512-256-128 BN/ReLU/Dropout, MSE (ref 000)',
    ratings: true,
    tfjs: true,
    create: (setup) => {
      const content = contentOf(setup);
      return new DeepHybridRecommender({
        ...RATING_TOWER_DEFAULTS,
        ...(content ? { content } : {}),
        ...(setup.visual ? { visual: setup.visual } : {}),
      });
    },
  },
  'title-learned': {
    about: 'user + movie ids + mean title word vectors learned from scratch (ref 001)',
    ratings: true,
    tfjs: true,
    create: titleModel('learned'),
  },
  'title-frozen': {
    about: 'as title-learned, pretrained word vectors kept frozen (ref 001)',
    ratings: true,
    tfjs: true,
    create: titleModel('frozen'),
  },
  'title-finetuned': {
    about: 'as title-learned, pretrained word vectors fine-tuned (ref 001)',
    ratings: true,
    tfjs: true,
    create: titleModel('finetuned'),
  },
  'two-stage': {
    about:
      'movie-genre embeddings by negative sampling, then user-movie dot model initialised from them (ref 002)',
    ratings: true,
    tfjs: false,
    create: () => new TwoStageRecommender({ init: 'genre', epochs: 10 }),
  },
  'two-stage-random': {
    about: 'the two-stage user-movie model from a random init (the comparison for ref 002)',
    ratings: true,
    tfjs: false,
    create: () => new TwoStageRecommender({ init: 'random', epochs: 10 }),
  },
});

/** Add every neural model to the classic registry (train/models/registry.ts). Idempotent. */
export function registerNeuralModels(): void {
  for (const [name, entry] of Object.entries(NEURAL_MODELS)) registerModel(name, entry);
}
