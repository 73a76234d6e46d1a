import type { Dataset } from '../data/dataset.ts';

/**
 * The contract every model implements, so that one evaluation harness, one benchmark table and
 * one exporter serve them all (baselines, MF/PMF, SVD++, BPR/EASE, NCF, deep hybrid, ...).
 */
export interface TrainContext {
  dataset: Dataset;
  /** Indexes into `dataset.ratings` to train on. */
  train: Uint32Array;
  /** Optional indexes for early stopping / learning curves (carved from training data, never the test split). */
  validation?: Uint32Array;
  seed: number;
  /** Progress per epoch, for progress bars and learning curves. */
  onEpoch?: (epoch: EpochLog) => void;
}

export interface EpochLog {
  epoch: number;
  /** Epochs the fit will run (at most, with early stopping), when the model knows it: for "epoch 3/40". */
  totalEpochs?: number;
  trainLoss: number;
  validationLoss?: number;
  /** Validation RMSE on the rating scale, when the model predicts ratings. */
  validationRmse?: number;
  /** Sampled HR@10 on the validation rows, for models that stop early on it (NCF). */
  validationHitRate?: number;
  seconds: number;
}

export interface FitReport {
  epochs: EpochLog[];
  seconds: number;
  /** Model-specific notes (e.g. backend used, early-stopping epoch). */
  notes?: Record<string, unknown>;
}

export interface Recommender {
  readonly name: string;
  /** True when `predict` returns ratings on the dataset's scale (rating-error metrics apply). */
  readonly predictsRatings: boolean;
  fit(context: TrainContext): Promise<FitReport>;
  /** Predicted score (a rating when `predictsRatings`) for each (user, item) pair. */
  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array;
  /** Scores of every catalog item for one user, written into `out` (length = catalog size): higher = better. */
  scoreAll(userIndex: number, out: Float32Array): void;
}

/** The factor form of a model, as the artifact format stores it: r̂ = mean + b_u + b_i + p_u·q_i. */
export interface FactorExport {
  factors: number;
  mean: number;
  /** [users, factors] row-major. */
  userFactors: Float32Array;
  /** [items, factors] row-major. */
  itemFactors: Float32Array;
  userBias: Float32Array;
  itemBias: Float32Array;
  /** L2 weight to fold a new user in against these item factors (the edge's fold-in λ). */
  foldInLambda: number;
}

/** A model whose scores are (or approximate) dot products of exported factors. */
export interface FactorRecommender extends Recommender {
  exportFactors(): FactorExport;
}

/** True when the model can export factors (MF, SVD++, ...). */
export function isFactorRecommender(model: Recommender): model is FactorRecommender {
  return typeof (model as Partial<FactorRecommender>).exportFactors === 'function';
}
