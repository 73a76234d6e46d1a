import { SparseTable } from './sparse.ts';
import {
  type FeatureMatrix,
  featurePart,
  type InputPart,
  type PartContext,
  RatingTowerModel,
  type RatingTowerOptions,
  tablePart,
} from './rating-tower.ts';

/**
 * The deep hybrid model of reference 000: user and movie embeddings (trained, sparse) concatenated
 * with per-movie content and poster-visual vectors (given, fixed), through Dense 512-256-128 with
 * BatchNorm, ReLU and Dropout to one rating. MSE loss (MAE is reported by the harness), Adam 1e-3.
 */
export interface DeepHybridOptions extends RatingTowerOptions {
  userDim?: number;
  movieDim?: number;
  dropout?: number;
  /** Text-content vectors per catalog item (e.g. TF-IDF/LSA or SIF); optional. */
  content?: FeatureMatrix;
  /** Poster-visual vectors per catalog item (e.g. MobileNet); optional. */
  visual?: FeatureMatrix;
  embeddingLearningRate?: number;
  /** L2 on the embedding rows seen in a batch. */
  l2?: number;
}

/** Reference 000's tower: 512-256-128 with BatchNorm, ReLU, Dropout. */
export function referenceHybridLayers(dropout: number) {
  return [512, 256, 128].map((units) => ({ units, batchNorm: true, activation: 'relu' as const, dropout }));
}

export class DeepHybridRecommender extends RatingTowerModel {
  readonly name: string;
  private readonly hybrid: DeepHybridOptions;

  constructor(options: DeepHybridOptions = {}) {
    const dropout = options.dropout ?? 0.3;
    super({ hidden: referenceHybridLayers(dropout), epochs: 10, ...options });
    this.hybrid = options;
    const sources = ['ids', ...(options.content ? ['content'] : []), ...(options.visual ? ['visual'] : [])];
    this.name = `deep-hybrid(${sources.join('+')})`;
  }

  protected buildParts({ rows, rng }: PartContext): InputPart[] {
    const {
      userDim = 32,
      movieDim = 32,
      embeddingLearningRate = 1e-3,
      l2 = 0,
      content,
      visual,
    } = this.hybrid;
    const table = (count: number, dim: number) =>
      new SparseTable({ rows: count, dim, rng, initStd: 0.05, learningRate: embeddingLearningRate, l2 });
    const parts = [
      tablePart('user', table(rows.users, userDim), 'user'),
      tablePart('movie', table(rows.items, movieDim), 'item'),
    ];
    if (content) parts.push(featurePart('content', content, rows.items));
    if (visual) parts.push(featurePart('visual', visual, rows.items));
    return parts;
  }
}
