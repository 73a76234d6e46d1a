import { createRng } from '../../../shared/random.ts';
import type { Dataset } from '../../data/dataset.ts';
import { sampledHitRate, sampledNdcg, sampledRank } from '../../eval/metrics.ts';
import type { Recommender } from '../types.ts';
import { containsSorted } from './batches.ts';

/**
 * The NCF evaluation protocol (He et al. 2017): each user's latest rating is held out, and the
 * held-out item is ranked against 99 items the user never rated. A minimal local version for the
 * neural models and their bench; the metric functions are the evaluation harness's own.
 * TODO(eval): move to train/eval when the harness provides the protocol, and use it from there.
 */
export interface LeaveLastOutSplit {
  train: Uint32Array;
  /** One rating index per user with at least two ratings (the latest; ties: the later row). */
  test: Uint32Array;
}

/** Hold out the latest rating of every user who has at least two. */
export function leaveLastOut(dataset: Dataset): LeaveLastOutSplit {
  const { userIndex, timestamp, length } = dataset.ratings;
  const users = dataset.userIds.length;
  const latest = new Int32Array(users).fill(-1);
  const count = new Uint32Array(users);
  for (let r = 0; r < length; r++) {
    const u = userIndex[r]!;
    count[u]!++;
    const current = latest[u]!;
    if (current < 0 || timestamp[r]! >= timestamp[current]!) latest[u] = r;
  }
  const isTest = new Uint8Array(length);
  const test: number[] = [];
  for (let u = 0; u < users; u++) {
    if (count[u]! >= 2) {
      isTest[latest[u]!] = 1;
      test.push(latest[u]!);
    }
  }
  const train = new Uint32Array(length - test.length);
  for (let r = 0, j = 0; r < length; r++) if (!isTest[r]) train[j++] = r;
  return { train, test: Uint32Array.from(test) };
}

export interface SampledResult {
  hitRate: number;
  ndcg: number;
  users: number;
}

/**
 * HR@k and NDCG@k of `model` on held-out ratings, each against `negatives` items the user never
 * rated anywhere in the dataset, drawn with `seed`.
 */
export function evaluateSampled(
  model: Recommender,
  dataset: Dataset,
  test: Uint32Array,
  { negatives = 99, k = 10, seed = 0 }: { negatives?: number; k?: number; seed?: number } = {},
): SampledResult {
  const { userIndex, itemIndex, length } = dataset.ratings;
  const users = dataset.userIds.length;
  const items = dataset.movies.length;
  // Every item each user rated (train and test), sorted, to draw true negatives.
  const offsets = new Uint32Array(users + 1);
  for (let r = 0; r < length; r++) offsets[userIndex[r]! + 1]!++;
  for (let u = 0; u < users; u++) offsets[u + 1]! += offsets[u]!;
  const cursor = offsets.slice(0, users);
  const rated = new Uint32Array(length);
  for (let r = 0; r < length; r++) rated[cursor[userIndex[r]!]!++] = itemIndex[r]!;
  for (let u = 0; u < users; u++) rated.subarray(offsets[u]!, offsets[u + 1]!).sort();

  const rng = createRng(seed);
  const candidates = 1 + negatives;
  const pairUsers = new Uint32Array(test.length * candidates);
  const pairItems = new Uint32Array(test.length * candidates);
  test.forEach((r, t) => {
    const u = userIndex[r]!;
    const base = t * candidates;
    pairUsers.fill(u, base, base + candidates);
    pairItems[base] = itemIndex[r]!;
    const chosen = new Set<number>();
    for (let n = 1; n < candidates; n++) {
      let item: number;
      do item = rng.int(items);
      while (chosen.has(item) || containsSorted(rated, offsets[u]!, offsets[u + 1]!, item));
      chosen.add(item);
      pairItems[base + n] = item;
    }
  });
  const scores = model.predict(pairUsers, pairItems);
  let hits = 0;
  let ndcg = 0;
  for (let t = 0; t < test.length; t++) {
    const base = t * candidates;
    const rank = sampledRank(scores[base]!, scores.subarray(base + 1, base + candidates));
    hits += sampledHitRate(rank, k);
    ndcg += sampledNdcg(rank, k);
  }
  return { hitRate: hits / test.length, ndcg: ndcg / test.length, users: test.length };
}
