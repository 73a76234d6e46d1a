import { ReelrankError } from '../../shared/errors.ts';
import { createRng, shuffleInPlace } from '../../shared/random.ts';
import type { Dataset, Split } from '../data/dataset.ts';
import {
  coldStartItems,
  leaveLastOut as leaveLastOutRows,
  perUserStratified,
  randomHoldout,
} from '../data/splits.ts';

/**
 * The evaluation protocols' splits, as index lists into `dataset.ratings`: thin wrappers over the
 * ingest module's splits (train/data/splits.ts, one implementation) plus the validation carve.
 * Every split is a pure function of (dataset, seed). Hyper-parameters are chosen on `carveValidation(train)`, never on
 * a test split.
 */

function checkFraction(name: string, fraction: number): void {
  if (!(fraction > 0 && fraction < 1)) {
    throw new ReelrankError(
      'bad_option',
      `${name}: fraction ${fraction} is out of range; it must be in (0, 1)`,
    );
  }
}

/** Ratings grouped by user: offsets into `rows` (rating indexes in dataset order). */
function groupByUser(dataset: Dataset, subset?: Uint32Array): { offsets: Uint32Array; rows: Uint32Array } {
  const users = dataset.userIds.length;
  const { userIndex } = dataset.ratings;
  const source = subset ?? Uint32Array.from({ length: dataset.ratings.length }, (_, j) => j);
  const offsets = new Uint32Array(users + 1);
  for (const j of source) offsets[userIndex[j]! + 1]!++;
  for (let u = 0; u < users; u++) offsets[u + 1]! += offsets[u]!;
  const cursor = offsets.slice(0, users);
  const rows = new Uint32Array(source.length);
  for (const j of source) rows[cursor[userIndex[j]!]!++] = j;
  return { offsets, rows };
}

function sorted(values: number[]): Uint32Array {
  return Uint32Array.from(values).sort();
}

/** Uniformly random split: `testFraction` of all ratings to test (ingest's `randomHoldout`). */
export function randomSplit(dataset: Dataset, testFraction: number, seed: number): Split {
  checkFraction('randomSplit', testFraction);
  return randomHoldout(dataset.ratings, testFraction, seed);
}

/**
 * Per-user stratified split (Microsoft Recommenders' python_stratified_split): each user puts
 * round(n·testFraction) of their ratings in test, keeping at least one in training.
 */
export function stratifiedSplit(dataset: Dataset, testFraction: number, seed: number): Split {
  checkFraction('stratifiedSplit', testFraction);
  return perUserStratified(dataset.ratings, testFraction, seed);
}

/**
 * Leave-last-out (NCF protocol): each user's latest rating by timestamp (ties: the later row)
 * is the test item; users with a single rating stay entirely in training.
 */
export function leaveLastOut(dataset: Dataset): Split {
  return leaveLastOutRows(dataset.ratings);
}

export interface ColdItemSplit extends Split {
  /** 1 for items whose ratings were all held out. */
  coldItems: Uint8Array;
}

/**
 * Cold-start items (LightFM protocol): `coldFraction` of the rated movies are chosen at random
 * and ALL their ratings go to test; the model never sees them during training.
 */
export function coldItemSplit(dataset: Dataset, coldFraction: number, seed: number): ColdItemSplit {
  checkFraction('coldItemSplit', coldFraction);
  const split = coldStartItems(dataset.ratings, coldFraction, seed);
  const coldItems = new Uint8Array(dataset.movies.length);
  for (const j of split.test) coldItems[dataset.ratings.itemIndex[j]!] = 1;
  return { ...split, coldItems };
}

/**
 * A validation split carved out of TRAINING rows (never the test split): per user, a random
 * `fraction` of their training ratings, so hyper-parameters and blend weights are chosen
 * without looking at test data.
 */
export function carveValidation(dataset: Dataset, train: Uint32Array, fraction: number, seed: number): Split {
  checkFraction('carveValidation', fraction);
  const rng = createRng(seed ^ 0x5bd1e995);
  const { offsets, rows } = groupByUser(dataset, train);
  const fit: number[] = [];
  const validation: number[] = [];
  for (let u = 0; u + 1 < offsets.length; u++) {
    const mine = rows.slice(offsets[u]!, offsets[u + 1]!);
    shuffleInPlace(mine, rng);
    // Keep at least one training rating per user so every user has a vector.
    const held = mine.length > 1 ? Math.min(mine.length - 1, Math.round(mine.length * fraction)) : 0;
    for (let t = 0; t < mine.length; t++) (t < held ? validation : fit).push(mine[t]!);
  }
  return { name: 'validation', train: sorted(fit), test: sorted(validation) };
}

/**
 * Leave-last-out inside TRAINING rows: each user's latest training rating (ties: later row) is
 * the validation item, so sequence-aware choices are tuned the way the NCF protocol tests them.
 */
export function carveLastOut(dataset: Dataset, train: Uint32Array): Split {
  const { offsets, rows } = groupByUser(dataset, train);
  const { timestamp } = dataset.ratings;
  const fit: number[] = [];
  const validation: number[] = [];
  for (let u = 0; u + 1 < offsets.length; u++) {
    const start = offsets[u]!;
    const end = offsets[u + 1]!;
    if (end - start < 2) {
      for (let p = start; p < end; p++) fit.push(rows[p]!);
      continue;
    }
    let last = start;
    for (let p = start + 1; p < end; p++) if (timestamp[rows[p]!]! >= timestamp[rows[last]!]!) last = p;
    for (let p = start; p < end; p++) (p === last ? validation : fit).push(rows[p]!);
  }
  return { name: 'validation-last-out', train: sorted(fit), test: sorted(validation) };
}
