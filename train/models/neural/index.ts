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

/**
 * NCF settings shared by GMF, MLP and NeuMF: the paper's batch 256 and 4 negatives redrawn each
 * epoch, up to 20 epochs with early stopping on each user's latest training rating (carved out),
 * then a refit on all training rows; as the PyTorch NCF: embeddings N(0, 0.01) trained by plain
 * (dense) Adam at 1e-3, Glorot-uniform ReLU layers and a LeCun-uniform prediction layer. Sizes,
 * rates and recency chosen on that carve (train/eval/RESULTS.md, neural section).
 */
export const NCF_DEFAULTS = Object.freeze({
  epochs: 20,
  patience: 3,
  // The carve removes each user's most recent rating, the best clue to their next one: once the
  // carve has chosen the epoch count, retrain on every training row for that many epochs.
  refit: true,
  batchSize: 256,
  learningRate: 1e-3,
  embeddingLearningRate: 1e-3,
  tableOptimizer: 'adam' as const,
  towerInit: 'paper' as const,
  gmfDim: 32,
  mlpDim: 32,
});

/** GMF: positives weighted by recency (half-life 30 of the user's later ratings); validation 0.704 vs 0.694 without. */
export const NCF_GMF = Object.freeze({ ...NCF_DEFAULTS, variant: 'gmf' as const, recencyHalfLife: 30 });

/**
 * MLP 64-32-16 over 32 + 32 embeddings, Adam 2e-3 (validation 0.670 vs 0.656 at 1e-3), positives
 * weighted by recency (half-life 100; validation 0.680 vs 0.670).
 */
export const NCF_MLP = Object.freeze({
  ...NCF_DEFAULTS,
  variant: 'mlp' as const,
  learningRate: 2e-3,
  embeddingLearningRate: 2e-3,
  recencyHalfLife: 100,
});

const { variant: _gmf, ...gmfStage } = NCF_GMF;
const { variant: _mlp, ...mlpStage } = NCF_MLP;

/**
 * NeuMF as the paper trains it: GMF and MLP pretrained (NCF_GMF, NCF_MLP), NeuMF initialised from
 * both with the output layer [α·h_GMF ; (1-α)·h_MLP], α chosen on the carve from 0.3–0.7, then
 * trained at a low learning rate with lazy Adam (fresh moments would move every pretrained row by
 * the full rate) while it beats that start on the carve (patience 1): when no epoch does, NeuMF
 * is the pretrained blend itself.
 */
export const NEUMF_PRETRAINED = Object.freeze({
  ...NCF_DEFAULTS,
  variant: 'neumf' as const,
  pretrain: true,
  alpha: 0.5,
  alphaGrid: Object.freeze([0.3, 0.4, 0.5, 0.6, 0.7]) as number[],
  patience: 1,
  learningRate: 2e-4,
  embeddingLearningRate: 2e-4,
  tableOptimizer: 'lazy-adam' as const,
  pretrainGmf: Object.freeze(gmfStage),
  pretrainMlp: Object.freeze(mlpStage),
});

/**
 * Rating-tower settings: trained to convergence, i.e. until the RMSE on a random 5% carve of the
 * training rows has not improved for 3 epochs (the best epoch is kept); 60 epochs is only a cap.
 */
export const RATING_TOWER_DEFAULTS = Object.freeze({ epochs: 60, batchSize: 512, patience: 3 });

/** Two-stage settings: early stopping on a 5% carve, 60 epochs as a cap. */
export const TWO_STAGE_DEFAULTS = Object.freeze({ init: 'genre' as const, epochs: 60, patience: 3 });

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
    about:
      'NCF NeuMF (GMF + MLP 64-32-16) initialised from pretrained GMF and MLP, implicit feedback, 4 sampled negatives, BCE (ref 003)',
    ratings: false,
    tfjs: true,
    create: () => new NcfRecommender(NEUMF_PRETRAINED),
  },
  'ncf-gmf': {
    about: 'NCF GMF only (ref 003)',
    ratings: false,
    tfjs: true,
    create: () => new NcfRecommender(NCF_GMF),
  },
  'ncf-mlp': {
    about: 'NCF MLP only (ref 003)',
    ratings: false,
    tfjs: true,
    create: () => new NcfRecommender(NCF_MLP),
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
    create: () => new TwoStageRecommender(TWO_STAGE_DEFAULTS),
  },
  'two-stage-random': {
    about: 'the two-stage user-movie model from a random init (the comparison for ref 002)',
    ratings: true,
    tfjs: false,
    create: () => new TwoStageRecommender({ ...TWO_STAGE_DEFAULTS, init: 'random' }),
  },
});

/** Add every neural model to the classic registry (train/models/registry.ts). Idempotent. */
export function registerNeuralModels(): void {
  for (const [name, entry] of Object.entries(NEURAL_MODELS)) registerModel(name, entry);
}
