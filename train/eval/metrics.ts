import { ReelrankError } from '../../shared/errors.ts';

/**
 * Every evaluation metric of reelrank, implemented once. Rating metrics take parallel arrays of
 * predictions and truths; ranking metrics take one user's ranked list (item indexes, best first)
 * and that user's set of relevant items (binary relevance, as Microsoft Recommenders does).
 * Harnesses (./harness.ts) average the per-user values.
 */

function checkSameLength(predicted: ArrayLike<number>, actual: ArrayLike<number>, metric: string): void {
  if (predicted.length !== actual.length) {
    throw new ReelrankError(
      'bad_input',
      `${metric}: predicted has ${predicted.length} values but actual has ${actual.length}; they must be equal`,
    );
  }
  if (predicted.length === 0)
    throw new ReelrankError('bad_input', `${metric}: no values to score (length 0)`);
}

/** Mean squared error. @example mse([3, 4], [4, 4]) // 0.5 */
export function mse(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  checkSameLength(predicted, actual, 'mse');
  let sum = 0;
  for (let i = 0; i < predicted.length; i++) {
    const d = predicted[i]! - actual[i]!;
    sum += d * d;
  }
  return sum / predicted.length;
}

/** Root mean squared error. */
export function rmse(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  return Math.sqrt(mse(predicted, actual));
}

/** Mean absolute error. */
export function mae(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  checkSameLength(predicted, actual, 'mae');
  let sum = 0;
  for (let i = 0; i < predicted.length; i++) sum += Math.abs(predicted[i]! - actual[i]!);
  return sum / predicted.length;
}

/** Coefficient of determination: 1 - SSE / SST (SST around the mean of `actual`). */
export function r2(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  checkSameLength(predicted, actual, 'r2');
  let mean = 0;
  for (let i = 0; i < actual.length; i++) mean += actual[i]!;
  mean /= actual.length;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = predicted[i]! - actual[i]!;
    const t = actual[i]! - mean;
    sse += d * d;
    sst += t * t;
  }
  if (sst === 0)
    throw new ReelrankError('bad_input', 'r2: actual values are all equal (variance 0); R² is undefined');
  return 1 - sse / sst;
}

/** A set-membership test for one user's relevant items. */
export type Relevant = ReadonlySet<number>;

function hitsAt(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  let hits = 0;
  const n = Math.min(k, ranked.length);
  for (let r = 0; r < n; r++) if (relevant.has(ranked[r]!)) hits++;
  return hits;
}

/** Precision@k: relevant items in the top k, divided by k (not by the list length). */
export function precisionAt(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  return hitsAt(ranked, relevant, k) / k;
}

/** Recall@k: relevant items in the top k, divided by the number of relevant items. */
export function recallAt(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  if (relevant.size === 0) return 0;
  return hitsAt(ranked, relevant, k) / relevant.size;
}

/** Hit rate@k: 1 when any relevant item is in the top k. */
export function hitRateAt(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  return hitsAt(ranked, relevant, k) > 0 ? 1 : 0;
}

/** Reciprocal rank of the first relevant item within the top k (0 when none). */
export function reciprocalRankAt(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  const n = Math.min(k, ranked.length);
  for (let r = 0; r < n; r++) if (relevant.has(ranked[r]!)) return 1 / (r + 1);
  return 0;
}

/**
 * NDCG@k with binary relevance: DCG = Σ 1/log2(rank+1) over hits (rank 1-based), divided by the
 * ideal DCG of min(|relevant|, k) hits at the top.
 */
export function ndcgAt(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  if (relevant.size === 0) return 0;
  let dcg = 0;
  const n = Math.min(k, ranked.length);
  for (let r = 0; r < n; r++) if (relevant.has(ranked[r]!)) dcg += 1 / Math.log2(r + 2);
  let ideal = 0;
  const idealHits = Math.min(relevant.size, k);
  for (let r = 0; r < idealHits; r++) ideal += 1 / Math.log2(r + 2);
  return dcg / ideal;
}

/**
 * Average precision@k as Microsoft Recommenders' `map_at_k` computes it: the sum of precision@r
 * at every rank r ≤ k holding a relevant item, divided by the number of relevant items (all of
 * them, so a user with 50 held-out items cannot reach 1 with a list of 10).
 */
export function averagePrecisionAt(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  if (relevant.size === 0) return 0;
  let hits = 0;
  let sum = 0;
  const n = Math.min(k, ranked.length);
  for (let r = 0; r < n; r++) {
    if (relevant.has(ranked[r]!)) {
      hits++;
      sum += hits / (r + 1);
    }
  }
  return sum / relevant.size;
}

/**
 * NCF sampled protocol for one user: the 0-based rank of the held-out item's score among
 * itself and the sampled negatives (ties count against the held-out item, pessimistically).
 */
export function sampledRank(positiveScore: number, negativeScores: ArrayLike<number>): number {
  let rank = 0;
  for (let i = 0; i < negativeScores.length; i++) if (negativeScores[i]! >= positiveScore) rank++;
  return rank;
}

/** HR@k for a 0-based rank from `sampledRank`. */
export function sampledHitRate(rank: number, k: number): number {
  return rank < k ? 1 : 0;
}

/** NDCG@k for a single held-out item at 0-based `rank`: 1/log2(rank+2) inside the top k. */
export function sampledNdcg(rank: number, k: number): number {
  return rank < k ? 1 / Math.log2(rank + 2) : 0;
}

/**
 * Area under the ROC curve for one user: the probability that a random positive outscores a
 * random negative, ties counting one half. Returns NaN when either class is empty.
 * @example auc([0.9, 0.1, 0.5], [true, false, false]) // 1
 */
export function auc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  if (scores.length !== positive.length) {
    throw new ReelrankError(
      'bad_input',
      `auc: ${scores.length} scores but ${positive.length} labels; they must be equal`,
    );
  }
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  // Mann-Whitney U with average ranks for ties.
  let rankSumPositive = 0;
  let positives = 0;
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (positive[order[t]!]) {
        rankSumPositive += averageRank;
        positives++;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSumPositive - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Catalog coverage: distinct items recommended across all lists / catalog size. */
export function catalogCoverage(lists: ArrayLike<number>[], catalogSize: number): number {
  const seen = new Set<number>();
  for (const list of lists) for (let r = 0; r < list.length; r++) seen.add(list[r]!);
  return seen.size / catalogSize;
}

/**
 * Intra-list diversity of one list: mean pairwise (1 - cosine similarity) of the items' feature
 * rows (row-major `features`, `dim` columns; all-zero rows count as similarity 0).
 */
export function intraListDiversity(list: ArrayLike<number>, features: Float32Array, dim: number): number {
  const n = list.length;
  if (n < 2) return 0;
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < n; a++) {
    const ba = list[a]! * dim;
    for (let b = a + 1; b < n; b++) {
      const bb = list[b]! * dim;
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let j = 0; j < dim; j++) {
        const x = features[ba + j]!;
        const y = features[bb + j]!;
        dot += x * y;
        na += x * x;
        nb += y * y;
      }
      const cosine = na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
      sum += 1 - cosine;
      pairs++;
    }
  }
  return sum / pairs;
}

/**
 * Novelty of one list: mean self-information -log2(p(i)), where p(i) is the share of training
 * users who interacted with item i (items nobody interacted with use p = 1 / users).
 */
export function novelty(list: ArrayLike<number>, itemUserCounts: ArrayLike<number>, users: number): number {
  if (list.length === 0) return 0;
  let sum = 0;
  for (let r = 0; r < list.length; r++) {
    const count = Math.max(1, itemUserCounts[list[r]!]!);
    sum += -Math.log2(count / users);
  }
  return sum / list.length;
}
