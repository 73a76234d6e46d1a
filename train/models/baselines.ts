import type { Dataset } from '../data/dataset.ts';
import { byItem, byUser, clampInPlace, gatherRows, itemCounts, type TrainingRows } from './interactions.ts';
import type { EpochLog, FitReport, Recommender, TrainContext } from './types.ts';

/** RMSE of a model's predictions on rows of the dataset (for learning curves). */
export function rowsRmse(model: Recommender, dataset: Dataset, indexes: Uint32Array): number {
  const { ratings } = dataset;
  const users = new Uint32Array(indexes.length);
  const items = new Uint32Array(indexes.length);
  for (let j = 0; j < indexes.length; j++) {
    users[j] = ratings.userIndex[indexes[j]!]!;
    items[j] = ratings.itemIndex[indexes[j]!]!;
  }
  const predicted = model.predict(users, items);
  let sum = 0;
  for (let j = 0; j < indexes.length; j++) {
    const d = predicted[j]! - ratings.rating[indexes[j]!]!;
    sum += d * d;
  }
  return Math.sqrt(sum / Math.max(1, indexes.length));
}

/**
 * Most-popular baseline: every user gets the items with the most training interactions. Scores
 * are counts (not ratings), so only ranking metrics apply.
 */
export class PopularityModel implements Recommender {
  readonly name = 'popularity';
  readonly predictsRatings = false;
  private counts = new Float32Array(0);

  async fit(context: TrainContext): Promise<FitReport> {
    const started = performance.now();
    const rows = gatherRows(context.dataset, context.train);
    this.counts = Float32Array.from(itemCounts(rows));
    const seconds = (performance.now() - started) / 1000;
    const epoch: EpochLog = { epoch: 1, trainLoss: 0, seconds };
    context.onEpoch?.(epoch);
    return { epochs: [epoch], seconds };
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const out = new Float32Array(userIndex.length);
    for (let j = 0; j < itemIndex.length; j++) out[j] = this.counts[itemIndex[j]!] ?? 0;
    return out;
  }

  scoreAll(_userIndex: number, out: Float32Array): void {
    out.set(this.counts.subarray(0, out.length));
  }

  /** Interaction count per item (training), for exports and novelty. */
  itemCounts(): Float32Array {
    return this.counts;
  }
}

export interface BiasOptions {
  /** L2 weight on user biases (Surprise BaselineOnly's reg_u default: 15). */
  userReg?: number;
  /** L2 weight on item biases (Surprise's reg_i default: 10). */
  itemReg?: number;
  /** Alternating passes. */
  epochs?: number;
}

/**
 * Fit regularised biases r ≈ μ + b_u + b_i by alternating closed-form updates (each pass solves
 * the item biases given the user biases and vice versa: Koren's baseline estimates).
 */
export function fitBiases(
  rows: TrainingRows,
  { userReg = 15, itemReg = 10, epochs = 10 }: BiasOptions = {},
): { userBias: Float32Array; itemBias: Float32Array } {
  const userBias = new Float32Array(rows.users);
  const itemBias = new Float32Array(rows.items);
  const users = byUser(rows);
  const items = byItem(rows);
  const mean = rows.mean;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = 0; i < rows.items; i++) {
      let sum = 0;
      const end = items.offsets[i + 1]!;
      for (let p = items.offsets[i]!; p < end; p++)
        sum += items.value[p]! - mean - userBias[items.index[p]!]!;
      itemBias[i] = sum / (itemReg + end - items.offsets[i]!);
    }
    for (let u = 0; u < rows.users; u++) {
      let sum = 0;
      const end = users.offsets[u + 1]!;
      for (let p = users.offsets[u]!; p < end; p++)
        sum += users.value[p]! - mean - itemBias[users.index[p]!]!;
      userBias[u] = sum / (userReg + end - users.offsets[u]!);
    }
  }
  return { userBias, itemBias };
}

/** Global mean + user bias + item bias, regularised (Surprise's BaselineOnly). */
export class BiasModel implements Recommender {
  readonly name = 'biases';
  readonly predictsRatings = true;
  mean = 0;
  userBias: Float32Array = new Float32Array(0);
  itemBias: Float32Array = new Float32Array(0);
  private scale = { min: 1, max: 5 };

  constructor(private readonly options: BiasOptions = {}) {}

  async fit(context: TrainContext): Promise<FitReport> {
    const started = performance.now();
    const rows = gatherRows(context.dataset, context.train);
    this.scale = context.dataset.ratingScale;
    this.mean = rows.mean;
    const fitted = fitBiases(rows, this.options);
    this.userBias = fitted.userBias;
    this.itemBias = fitted.itemBias;
    const trainLoss = rowsRmse(this, context.dataset, context.train) ** 2;
    const validationRmse = context.validation
      ? rowsRmse(this, context.dataset, context.validation)
      : undefined;
    const seconds = (performance.now() - started) / 1000;
    const epoch: EpochLog = {
      epoch: 1,
      trainLoss,
      seconds,
      ...(validationRmse === undefined ? {} : { validationRmse }),
    };
    context.onEpoch?.(epoch);
    return { epochs: [epoch], seconds };
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const out = new Float32Array(userIndex.length);
    for (let j = 0; j < out.length; j++) {
      out[j] = this.mean + (this.userBias[userIndex[j]!] ?? 0) + (this.itemBias[itemIndex[j]!] ?? 0);
    }
    return clampInPlace(out, this.scale.min, this.scale.max);
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    const base = this.mean + (this.userBias[userIndex] ?? 0);
    for (let i = 0; i < out.length; i++) out[i] = base + (this.itemBias[i] ?? 0);
  }
}
