import { ReelrankError } from '../../shared/errors.ts';
import { topK } from '../../shared/kernels/topk.ts';
import { createRng } from '../../shared/random.ts';
import type { Dataset } from '../data/dataset.ts';
import type { Recommender } from '../models/types.ts';
import {
  auc,
  averagePrecisionAt,
  catalogCoverage,
  hitRateAt,
  intraListDiversity,
  mae,
  mse,
  ndcgAt,
  novelty,
  precisionAt,
  r2,
  recallAt,
  reciprocalRankAt,
  rmse,
  sampledHitRate,
  sampledNdcg,
  sampledRank,
} from './metrics.ts';

/**
 * One harness for every model: each protocol takes a fitted `Recommender` and index lists into
 * the dataset's ratings, and returns plain metric records (name → value) for tables and JSON.
 */
export type MetricRecord = Record<string, number>;

/** Per-user sets of item indexes from rating rows. */
export function itemsByUser(dataset: Dataset, rows: Uint32Array): Map<number, Set<number>> {
  const out = new Map<number, Set<number>>();
  for (const j of rows) {
    const u = dataset.ratings.userIndex[j]!;
    let set = out.get(u);
    if (!set) {
      set = new Set();
      out.set(u, set);
    }
    set.add(dataset.ratings.itemIndex[j]!);
  }
  return out;
}

/** MSE, RMSE, MAE and R² of `model.predict` on the test rows. */
export function evaluateRating(model: Recommender, dataset: Dataset, test: Uint32Array): MetricRecord {
  if (!model.predictsRatings) {
    throw new ReelrankError(
      'bad_option',
      `model ${model.name} ranks items but does not predict ratings; rating metrics do not apply`,
    );
  }
  const users = new Uint32Array(test.length);
  const items = new Uint32Array(test.length);
  const actual = new Float32Array(test.length);
  test.forEach((j, t) => {
    users[t] = dataset.ratings.userIndex[j]!;
    items[t] = dataset.ratings.itemIndex[j]!;
    actual[t] = dataset.ratings.rating[j]!;
  });
  const predicted = model.predict(users, items);
  return {
    mse: mse(predicted, actual),
    rmse: rmse(predicted, actual),
    mae: mae(predicted, actual),
    r2: r2(predicted, actual),
  };
}

export interface RankingOptions {
  k?: number;
  /** Held-out ratings at or above this count as relevant (default: every held-out rating, binary relevance). */
  relevanceThreshold?: number;
  /** Item feature rows for intra-list diversity (default: genre one-hot of the catalog). */
  features?: { data: Float32Array; dim: number };
}

/** Genre one-hot rows of the catalog, for diversity. */
export function genreFeatures(dataset: Dataset): { data: Float32Array; dim: number } {
  const genres = [...new Set(dataset.movies.flatMap((m) => m.genres))].sort();
  const column = new Map(genres.map((g, c) => [g, c]));
  const dim = Math.max(1, genres.length);
  const data = new Float32Array(dataset.movies.length * dim);
  dataset.movies.forEach((m, i) => {
    for (const g of m.genres) data[i * dim + column.get(g)!] = 1;
  });
  return { data, dim };
}

/**
 * Full-catalog ranking: for every user with relevant test items, score all items, drop the user's
 * training items, take the top k, and average Precision, Recall, NDCG, MRR, HR and MAP @k over
 * users; plus catalog coverage, intra-list diversity (genres) and novelty of the lists.
 */
export function evaluateRanking(
  model: Recommender,
  dataset: Dataset,
  train: Uint32Array,
  test: Uint32Array,
  { k = 10, relevanceThreshold, features }: RankingOptions = {},
): MetricRecord {
  const seen = itemsByUser(dataset, train);
  const relevantRows =
    relevanceThreshold === undefined
      ? test
      : test.filter((j) => dataset.ratings.rating[j]! >= relevanceThreshold);
  const relevant = itemsByUser(dataset, relevantRows);
  const items = dataset.movies.length;
  const userCount = dataset.userIds.length;
  const counts = new Float64Array(items);
  for (const set of seen.values()) for (const i of set) counts[i]!++;
  const rows = features ?? genreFeatures(dataset);
  const scores = new Float32Array(items);
  const sums = { precision: 0, recall: 0, ndcg: 0, mrr: 0, hr: 0, map: 0, diversity: 0, novelty: 0 };
  const lists: Uint32Array[] = [];
  const users = [...relevant.keys()].sort((a, b) => a - b);
  if (users.length === 0)
    throw new ReelrankError('bad_input', 'ranking evaluation: no user has a relevant test item');
  for (const u of users) {
    const rel = relevant.get(u)!;
    const exclude = seen.get(u);
    model.scoreAll(u, scores);
    const list = topK(scores, k, exclude ? (i) => exclude.has(i) : undefined).indexes;
    lists.push(list);
    sums.precision += precisionAt(list, rel, k);
    sums.recall += recallAt(list, rel, k);
    sums.ndcg += ndcgAt(list, rel, k);
    sums.mrr += reciprocalRankAt(list, rel, k);
    sums.hr += hitRateAt(list, rel, k);
    sums.map += averagePrecisionAt(list, rel, k);
    sums.diversity += intraListDiversity(list, rows.data, rows.dim);
    sums.novelty += novelty(list, counts, userCount);
  }
  const n = users.length;
  return {
    [`precision@${k}`]: sums.precision / n,
    [`recall@${k}`]: sums.recall / n,
    [`ndcg@${k}`]: sums.ndcg / n,
    [`mrr@${k}`]: sums.mrr / n,
    [`hr@${k}`]: sums.hr / n,
    [`map@${k}`]: sums.map / n,
    coverage: catalogCoverage(lists, items),
    diversity: sums.diversity / n,
    novelty: sums.novelty / n,
    users: n,
  };
}

export interface SampledOptions {
  negatives?: number;
  k?: number;
  seed?: number;
}

/**
 * NCF sampled protocol: for each test row (one held-out item per user), sample `negatives` items
 * the user never interacted with (in train or test), rank the held-out item among them, and
 * average HR@k and NDCG@k.
 */
export function evaluateSampled(
  model: Recommender,
  dataset: Dataset,
  train: Uint32Array,
  test: Uint32Array,
  { negatives = 99, k = 10, seed = 0 }: SampledOptions = {},
): MetricRecord {
  const rng = createRng(seed);
  const seen = itemsByUser(dataset, train);
  const items = dataset.movies.length;
  const scores = new Float32Array(items);
  const negativeScores = new Float32Array(negatives);
  let hr = 0;
  let ndcg = 0;
  for (const j of test) {
    const u = dataset.ratings.userIndex[j]!;
    const positive = dataset.ratings.itemIndex[j]!;
    const interacted = seen.get(u) ?? new Set<number>();
    if (items - interacted.size - 1 < negatives) {
      throw new ReelrankError(
        'bad_input',
        `user ${u} has too few unseen items to draw ${negatives} negatives`,
      );
    }
    model.scoreAll(u, scores);
    const drawn = new Set<number>();
    while (drawn.size < negatives) {
      const i = rng.int(items);
      if (i === positive || interacted.has(i) || drawn.has(i)) continue;
      drawn.add(i);
    }
    let t = 0;
    for (const i of drawn) negativeScores[t++] = scores[i]!;
    const rank = sampledRank(scores[positive]!, negativeScores);
    hr += sampledHitRate(rank, k);
    ndcg += sampledNdcg(rank, k);
  }
  return { [`hr@${k}`]: hr / test.length, [`ndcg@${k}`]: ndcg / test.length, users: test.length };
}

/**
 * Cold-start items (LightFM protocol): for every user with test interactions on cold items, the
 * AUC of the model's scores over ALL cold items (positives: the cold items the user rated),
 * averaged over users.
 */
export function evaluateColdStart(
  model: Recommender,
  dataset: Dataset,
  test: Uint32Array,
  coldItems: Uint8Array,
): MetricRecord {
  const cold = Array.from({ length: coldItems.length }, (_, i) => i).filter((i) => coldItems[i] === 1);
  const positives = itemsByUser(
    dataset,
    test.filter((j) => coldItems[dataset.ratings.itemIndex[j]!] === 1),
  );
  const scores = new Float32Array(dataset.movies.length);
  const coldScores = new Float32Array(cold.length);
  const labels = new Array<boolean>(cold.length);
  let sum = 0;
  let users = 0;
  for (const [u, rated] of positives) {
    model.scoreAll(u, scores);
    cold.forEach((i, t) => {
      coldScores[t] = scores[i]!;
      labels[t] = rated.has(i);
    });
    const value = auc(coldScores, labels);
    if (Number.isNaN(value)) continue;
    sum += value;
    users++;
  }
  if (users === 0) throw new ReelrankError('bad_input', 'cold-start evaluation: no user rated a cold item');
  return { auc: sum / users, users, coldItems: cold.length };
}
