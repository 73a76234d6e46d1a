import { fitBiases } from './baselines.ts';
import { byUser, type Csr, clampInPlace, gatherRows, itemCounts } from './interactions.ts';
import type { EpochLog, FitReport, Recommender, TrainContext } from './types.ts';

export interface KnnOptions {
  /** Neighbours used per prediction (Surprise's default 40). */
  neighbors?: number;
  /** Shrinkage of the similarity towards 0 for few co-raters (Surprise's default 100). */
  shrinkage?: number;
  /** Only the most-rated items get similarities (memory is items² × 12 bytes); others use the baseline. */
  maxItems?: number;
}

/**
 * Item-kNN with baselines (Koren 2010; Surprise's KNNBaseline with pearson_baseline):
 * r̂ = b_ui + Σ_j s_ij (r_uj − b_uj) / Σ_j s_ij over the k items j rated by u most similar to i
 * (positive similarities only), where s_ij is the shrunk Pearson correlation of baseline residuals.
 */
export class ItemKnnBaseline implements Recommender {
  readonly name = 'item-knn-baseline';
  readonly predictsRatings = true;
  private readonly k: number;
  private readonly shrinkage: number;
  private readonly maxItems: number;
  private mean = 0;
  private userBias: Float32Array = new Float32Array(0);
  private itemBias: Float32Array = new Float32Array(0);
  private slot = new Int32Array(0);
  private modelled = 0;
  private similarity: Float32Array = new Float32Array(0);
  private users: Csr | null = null;
  private scale = { min: 1, max: 5 };

  constructor({ neighbors = 40, shrinkage = 100, maxItems = 3000 }: KnnOptions = {}) {
    this.k = neighbors;
    this.shrinkage = shrinkage;
    this.maxItems = maxItems;
  }

  async fit(context: TrainContext): Promise<FitReport> {
    const started = performance.now();
    this.scale = context.dataset.ratingScale;
    const rows = gatherRows(context.dataset, context.train);
    this.mean = rows.mean;
    const biases = fitBiases(rows);
    this.userBias = biases.userBias;
    this.itemBias = biases.itemBias;
    const counts = itemCounts(rows);
    const ranked = Array.from({ length: rows.items }, (_, i) => i)
      .filter((i) => counts[i]! > 0)
      .sort((a, b) => counts[b]! - counts[a]! || a - b)
      .slice(0, this.maxItems);
    const n = ranked.length;
    this.modelled = n;
    this.slot = new Int32Array(rows.items).fill(-1);
    ranked.forEach((item, s) => {
      this.slot[item] = s;
    });
    const users = byUser(rows);
    this.users = users;
    const cross = new Float32Array(n * n);
    const squares = new Float32Array(n * n);
    const common = new Float32Array(n * n);
    const slots = new Int32Array(n);
    const residual = new Float64Array(n);
    for (let u = 0; u < rows.users; u++) {
      let m = 0;
      for (let p = users.offsets[u]!; p < users.offsets[u + 1]!; p++) {
        const item = users.index[p]!;
        const s = this.slot[item]!;
        if (s < 0) continue;
        slots[m] = s;
        residual[m++] = users.value[p]! - this.mean - this.userBias[u]! - this.itemBias[item]!;
      }
      for (let a = 0; a < m; a++) {
        const row = slots[a]! * n;
        const za = residual[a]!;
        for (let b = 0; b < m; b++) {
          const cell = row + slots[b]!;
          const zb = residual[b]!;
          cross[cell] = cross[cell]! + za * zb;
          squares[cell] = squares[cell]! + za * za;
          common[cell] = common[cell]! + 1;
        }
      }
    }
    // s_ij = cross / sqrt(Σ z_i² · Σ z_j²) over common raters, times (n_ij − 1) / (n_ij − 1 + shrinkage).
    this.similarity = new Float32Array(n * n);
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) {
        if (a === b) continue;
        const cell = a * n + b;
        const c = common[cell]!;
        if (c < 2) continue;
        const denominator = Math.sqrt(squares[cell]! * squares[b * n + a]!);
        if (denominator === 0) continue;
        this.similarity[cell] = ((cross[cell]! / denominator) * (c - 1)) / (c - 1 + this.shrinkage);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const epoch: EpochLog = { epoch: 1, trainLoss: 0, seconds };
    context.onEpoch?.(epoch);
    return { epochs: [epoch], seconds, notes: { modelledItems: n } };
  }

  /** Baseline plus the weighted residuals of the user's k most similar rated items. */
  private estimate(u: number, i: number, best: Float64Array, bestResidual: Float64Array): number {
    const baseline = this.mean + this.userBias[u]! + this.itemBias[i]!;
    const s = this.slot[i] ?? -1;
    const users = this.users;
    if (s < 0 || !users) return baseline;
    const n = this.modelled;
    let filled = 0;
    // Keep the k best positive similarities with an insertion-sorted buffer (k is small).
    for (let p = users.offsets[u]!; p < users.offsets[u + 1]!; p++) {
      const j = users.index[p]!;
      const sj = this.slot[j]!;
      if (sj < 0 || j === i) continue;
      const sim = this.similarity[s * n + sj]!;
      if (!(sim > 0)) continue;
      if (filled === this.k && sim <= best[filled - 1]!) continue;
      let pos = filled < this.k ? filled++ : filled - 1;
      while (pos > 0 && best[pos - 1]! < sim) {
        best[pos] = best[pos - 1]!;
        bestResidual[pos] = bestResidual[pos - 1]!;
        pos--;
      }
      best[pos] = sim;
      bestResidual[pos] = users.value[p]! - this.mean - this.userBias[u]! - this.itemBias[j]!;
    }
    let num = 0;
    let den = 0;
    for (let t = 0; t < filled; t++) {
      num += best[t]! * bestResidual[t]!;
      den += best[t]!;
    }
    return den > 0 ? baseline + num / den : baseline;
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const out = new Float32Array(userIndex.length);
    const best = new Float64Array(this.k);
    const bestResidual = new Float64Array(this.k);
    for (let j = 0; j < out.length; j++)
      out[j] = this.estimate(userIndex[j]!, itemIndex[j]!, best, bestResidual);
    return clampInPlace(out, this.scale.min, this.scale.max);
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    const best = new Float64Array(this.k);
    const bestResidual = new Float64Array(this.k);
    for (let i = 0; i < out.length; i++) out[i] = this.estimate(userIndex, i, best, bestResidual);
  }
}

/**
 * User-kNN with baselines: the item model run on the transposed ratings (users as items), so the
 * neighbours are similar users who rated the item. A different error pattern, useful in blends.
 */
export class UserKnnBaseline implements Recommender {
  readonly name = 'user-knn-baseline';
  readonly predictsRatings = true;
  private readonly inner: ItemKnnBaseline;

  constructor(options: KnnOptions = {}) {
    this.inner = new ItemKnnBaseline(options);
  }

  fit(context: TrainContext): Promise<FitReport> {
    const { dataset } = context;
    const transposed = {
      ...dataset,
      ratings: {
        ...dataset.ratings,
        userIndex: dataset.ratings.itemIndex,
        itemIndex: dataset.ratings.userIndex,
      },
      userIds: new Uint32Array(dataset.movies.length),
      // Only the length of the catalog is read by the item model (to size its arrays).
      movies: new Array(dataset.userIds.length).fill(dataset.movies[0]),
    };
    return this.inner.fit({ ...context, dataset: transposed });
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    return this.inner.predict(itemIndex, userIndex);
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    const items = Uint32Array.from({ length: out.length }, (_, i) => i);
    out.set(this.inner.predict(items, new Uint32Array(out.length).fill(userIndex)));
  }
}
