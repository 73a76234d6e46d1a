import { ReelrankError } from '../../shared/errors.ts';
import { topK } from '../../shared/kernels/topk.ts';
import { createRng, shuffleInPlace } from '../../shared/random.ts';
import type { Dataset } from '../data/dataset.ts';
import { balancedRanges, sharedFloat32, sharedUint32, trainingPool } from '../parallel/pool.ts';
import { genreFeatures, type MetricRecord } from './harness.ts';
import {
  averagePrecisionAt,
  catalogCoverage,
  hitRateAt,
  intraListDiversity,
  ndcgAt,
  novelty,
  precisionAt,
  recallAt,
  reciprocalRankAt,
} from './metrics.ts';

/**
 * Full-catalog ranking evaluation of a factor model (score = mean + b_u + b_i + x_u·y_i, or the
 * plain dot product), split by user over the training thread pool: the same protocol and metrics
 * as `evaluateRanking` (harness.ts), which needs the model object and so runs on one thread.
 * Per-user values come back in user order and are summed in that order, so the numbers do not
 * depend on the thread count.
 */
export interface FactorScorer {
  factors: number;
  userFactors: Float32Array;
  itemFactors: Float32Array;
  /** Present for rating models (SVD++): scores are mean + b_u + b_i + dot, as their scoreAll. */
  bias?: { mean: number; userBias: Float32Array; itemBias: Float32Array };
}

/** A model that can hand its ranking scores over as factors (so evaluation can run in workers). */
export interface FactorScored {
  rankingScorer(): FactorScorer;
}

export function isFactorScored(model: unknown): model is FactorScored {
  return typeof (model as Partial<FactorScored>).rankingScorer === 'function';
}

export interface FactorRankingJob {
  scorer: FactorScorer;
  items: number;
  k: number;
  users: Uint32Array;
  from: number;
  to: number;
  seenOffsets: Uint32Array;
  seenIndex: Uint32Array;
  relevantOffsets: Uint32Array;
  relevantIndex: Uint32Array;
  counts: Float32Array;
  userCount: number;
  features: { data: Float32Array; dim: number };
}

export const RANKING_METRICS = [
  'precision',
  'recall',
  'ndcg',
  'mrr',
  'hr',
  'map',
  'diversity',
  'novelty',
] as const;

/** Per-user metric values ([users, 8], RANKING_METRICS order) and top-k lists of users [from, to). */
export function factorRankingKernel(job: FactorRankingJob): { values: Float64Array; lists: Uint32Array[] } {
  const { scorer, items, k, users, seenOffsets, seenIndex, relevantOffsets, relevantIndex } = job;
  const d = scorer.factors;
  const { userFactors, itemFactors } = scorer;
  const scores = new Float32Array(items);
  const values = new Float64Array((job.to - job.from) * RANKING_METRICS.length);
  const lists: Uint32Array[] = [];
  for (let t = job.from; t < job.to; t++) {
    const u = users[t]!;
    const pu = u * d;
    const base = scorer.bias ? scorer.bias.mean + scorer.bias.userBias[u]! : 0;
    const itemBias = scorer.bias?.itemBias;
    for (let i = 0, qi = 0; i < items; i++, qi += d) {
      let dot = 0;
      for (let f = 0; f < d; f++) dot += userFactors[pu + f]! * itemFactors[qi + f]!;
      scores[i] = itemBias ? base + itemBias[i]! + dot : dot;
    }
    const seen = new Set(seenIndex.subarray(seenOffsets[t]!, seenOffsets[t + 1]!));
    const rel = new Set(relevantIndex.subarray(relevantOffsets[t]!, relevantOffsets[t + 1]!));
    const list = topK(scores, k, seen.size > 0 ? (i) => seen.has(i) : undefined).indexes;
    lists.push(list);
    const row = (t - job.from) * RANKING_METRICS.length;
    values[row] = precisionAt(list, rel, k);
    values[row + 1] = recallAt(list, rel, k);
    values[row + 2] = ndcgAt(list, rel, k);
    values[row + 3] = reciprocalRankAt(list, rel, k);
    values[row + 4] = hitRateAt(list, rel, k);
    values[row + 5] = averagePrecisionAt(list, rel, k);
    values[row + 6] = intraListDiversity(list, job.features.data, job.features.dim);
    values[row + 7] = novelty(list, job.counts, job.userCount);
  }
  return { values, lists };
}

/** Per-user sorted distinct items of `rows`, as a CSR over `users` (in that order). */
function csrOf(dataset: Dataset, rows: Uint32Array, users: Uint32Array): [Uint32Array, Uint32Array] {
  const position = new Int32Array(dataset.userIds.length).fill(-1);
  users.forEach((u, t) => {
    position[u] = t;
  });
  const lists: number[][] = Array.from({ length: users.length }, () => []);
  for (const j of rows) {
    const t = position[dataset.ratings.userIndex[j]!]!;
    if (t >= 0) lists[t]!.push(dataset.ratings.itemIndex[j]!);
  }
  const offsets = sharedUint32(users.length + 1);
  let total = 0;
  lists.forEach((l, t) => {
    total += new Set(l).size;
    offsets[t + 1] = total;
  });
  const index = sharedUint32(total);
  lists.forEach((l, t) => {
    index.set(
      [...new Set(l)].sort((a, b) => a - b),
      offsets[t]!,
    );
  });
  return [offsets, index];
}

export interface FactorRankingOptions {
  k?: number;
  /**
   * Evaluate at most this many users (a seeded sample of those with a held-out item): full-catalog
   * scoring of every user of a 32M-rating set would cost more than training. Default 10,000.
   */
  maxUsers?: number;
  seed?: number;
}

/**
 * `evaluateRanking` for a factor scorer on the training pool. Same keys as evaluateRanking.
 * @example await evaluateRankingFactors(model.rankingScorer(), dataset, carve.train, split.test)
 */
export async function evaluateRankingFactors(
  scorer: FactorScorer,
  dataset: Dataset,
  train: Uint32Array,
  test: Uint32Array,
  { k = 10, maxUsers = 10_000, seed = 0 }: FactorRankingOptions = {},
): Promise<MetricRecord> {
  const items = dataset.movies.length;
  const userCount = dataset.userIds.length;
  const hasTest = new Uint8Array(userCount);
  for (const j of test) hasTest[dataset.ratings.userIndex[j]!] = 1;
  let eligible: number[] = [];
  for (let u = 0; u < userCount; u++) if (hasTest[u]) eligible.push(u);
  if (eligible.length === 0)
    throw new ReelrankError('bad_input', 'ranking evaluation: no user has a relevant test item');
  if (eligible.length > maxUsers) {
    const sample = Uint32Array.from(eligible);
    shuffleInPlace(sample, createRng(seed ^ 0x2c1b3c6d));
    eligible = [...sample.subarray(0, maxUsers)].sort((a, b) => a - b);
  }
  const users = sharedUint32(eligible);
  const [seenOffsets, seenIndex] = csrOf(dataset, train, users);
  const [relevantOffsets, relevantIndex] = csrOf(dataset, test, users);
  // Item popularity over ALL users' training rows (as evaluateRanking's novelty).
  const counts = sharedFloat32(items);
  {
    const [, allSeen] = csrOf(
      dataset,
      train,
      Uint32Array.from({ length: userCount }, (_, u) => u),
    );
    for (const i of allSeen) counts[i]!++;
  }
  const genres = genreFeatures(dataset);
  const features = { data: sharedFloat32(genres.data), dim: genres.dim };
  const pool = trainingPool();
  const shared: FactorScorer = {
    factors: scorer.factors,
    userFactors: sharedFloat32(scorer.userFactors),
    itemFactors: sharedFloat32(scorer.itemFactors),
    ...(scorer.bias
      ? {
          bias: {
            mean: scorer.bias.mean,
            userBias: sharedFloat32(scorer.bias.userBias),
            itemBias: sharedFloat32(scorer.bias.itemBias),
          },
        }
      : {}),
  };
  // More jobs than threads: user cost is uniform, and short jobs even out a loaded machine.
  const jobs = Math.min(users.length, pool.threads * 4);
  const ranges = balancedRanges(
    Uint32Array.from({ length: users.length + 1 }, (_, t) => t),
    jobs,
    0,
  );
  const results = await pool.map(
    'rank.factors',
    ranges.map(([from, to]) => ({
      scorer: shared,
      items,
      k,
      users,
      from,
      to,
      seenOffsets,
      seenIndex,
      relevantOffsets,
      relevantIndex,
      counts,
      userCount,
      features,
    })),
  );
  const sums = new Float64Array(RANKING_METRICS.length);
  const lists: Uint32Array[] = [];
  for (const r of results) {
    for (let row = 0; row < r.values.length; row += RANKING_METRICS.length)
      for (let m = 0; m < RANKING_METRICS.length; m++) sums[m] = sums[m]! + r.values[row + m]!;
    lists.push(...r.lists);
  }
  const n = users.length;
  return {
    [`precision@${k}`]: sums[0]! / n,
    [`recall@${k}`]: sums[1]! / n,
    [`ndcg@${k}`]: sums[2]! / n,
    [`mrr@${k}`]: sums[3]! / n,
    [`hr@${k}`]: sums[4]! / n,
    [`map@${k}`]: sums[5]! / n,
    coverage: catalogCoverage(lists, items),
    diversity: sums[6]! / n,
    novelty: sums[7]! / n,
    users: n,
  };
}
