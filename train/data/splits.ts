import { ReelrankError } from '../../shared/errors.ts';
import { createRng, shuffleInPlace } from '../../shared/random.ts';
import type { RatingsTable, Split } from './dataset.ts';

function checkFraction(what: string, fraction: number): void {
  if (!(fraction > 0 && fraction < 1)) {
    throw new ReelrankError('bad_input', `${what} must be strictly between 0 and 1, got ${fraction}`);
  }
}

/** Row indexes grouped by user (CSR): rows of user u are rows[offsets[u] .. offsets[u+1]), ascending. */
export interface RowsByUser {
  offsets: Uint32Array;
  rows: Uint32Array;
}

/** Counting sort of row indexes by user index; stable, so each user's rows stay in table order. */
export function groupRowsByUser(ratings: RatingsTable): RowsByUser {
  const { userIndex, length } = ratings;
  let users = 0;
  for (let i = 0; i < length; i++) if (userIndex[i]! + 1 > users) users = userIndex[i]! + 1;
  const offsets = new Uint32Array(users + 1);
  for (let i = 0; i < length; i++) offsets[userIndex[i]! + 1]!++;
  for (let u = 0; u < users; u++) offsets[u + 1]! += offsets[u]!;
  const cursor = offsets.slice(0, users);
  const rows = new Uint32Array(length);
  for (let i = 0; i < length; i++) rows[cursor[userIndex[i]!]!++] = i;
  return { offsets, rows };
}

/** Partition 0..n-1 by a membership mask into ascending train/test index lists. */
function fromMask(name: string, inTest: Uint8Array): Split {
  let testCount = 0;
  for (let i = 0; i < inTest.length; i++) testCount += inTest[i]!;
  const train = new Uint32Array(inTest.length - testCount);
  const test = new Uint32Array(testCount);
  let a = 0;
  let b = 0;
  for (let i = 0; i < inTest.length; i++) {
    if (inTest[i]) test[b++] = i;
    else train[a++] = i;
  }
  return { name, train, test };
}

/**
 * Random holdout: `round(n * testFraction)` ratings, drawn uniformly, go to test.
 * Deterministic by seed. @example randomHoldout(ds.ratings, 0.2, 42)
 */
export function randomHoldout(ratings: RatingsTable, testFraction: number, seed: number): Split {
  checkFraction('testFraction', testFraction);
  const order = new Uint32Array(ratings.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  shuffleInPlace(order, createRng(seed));
  const inTest = new Uint8Array(ratings.length);
  const testCount = Math.round(ratings.length * testFraction);
  for (let k = 0; k < testCount; k++) inTest[order[k]!] = 1;
  return fromMask(`random-holdout-${testFraction}-seed${seed}`, inTest);
}

/**
 * Per-user stratified holdout: each user puts `round(count * testFraction)` of their ratings in
 * test, but always keeps at least one in train (so every test user is a known user).
 */
export function perUserStratified(ratings: RatingsTable, testFraction: number, seed: number): Split {
  checkFraction('testFraction', testFraction);
  const { offsets, rows } = groupRowsByUser(ratings);
  const rng = createRng(seed);
  const inTest = new Uint8Array(ratings.length);
  for (let u = 0; u + 1 < offsets.length; u++) {
    const userRows = rows.subarray(offsets[u]!, offsets[u + 1]!);
    const count = userRows.length;
    const testCount = Math.min(count - 1, Math.round(count * testFraction));
    if (testCount <= 0) continue;
    shuffleInPlace(userRows, rng);
    for (let k = 0; k < testCount; k++) inTest[userRows[k]!] = 1;
  }
  return fromMask(`per-user-stratified-${testFraction}-seed${seed}`, inTest);
}

/**
 * Per-user leave-last-out: each user's latest rating (by timestamp; equal timestamps broken by
 * the later row index) goes to test. Users with a single rating keep it in train.
 */
export function leaveLastOut(ratings: RatingsTable): Split {
  const { offsets, rows } = groupRowsByUser(ratings);
  const inTest = new Uint8Array(ratings.length);
  for (let u = 0; u + 1 < offsets.length; u++) {
    const start = offsets[u]!;
    const end = offsets[u + 1]!;
    if (end - start < 2) continue;
    // Rows are ascending within the user, so `>=` picks the later index on a timestamp tie.
    let last = rows[start]!;
    for (let k = start + 1; k < end; k++) {
      const row = rows[k]!;
      if (ratings.timestamp[row]! >= ratings.timestamp[last]!) last = row;
    }
    inTest[last] = 1;
  }
  return fromMask('leave-last-out', inTest);
}

/**
 * Cold-start item split: `round(ratedItems * itemFraction)` of the rated movies, drawn uniformly,
 * have all their ratings held out, so test movies are never seen in training.
 */
export function coldStartItems(ratings: RatingsTable, itemFraction: number, seed: number): Split {
  checkFraction('itemFraction', itemFraction);
  let items = 0;
  for (let i = 0; i < ratings.length; i++)
    if (ratings.itemIndex[i]! + 1 > items) items = ratings.itemIndex[i]! + 1;
  const rated = new Uint8Array(items);
  for (let i = 0; i < ratings.length; i++) rated[ratings.itemIndex[i]!] = 1;
  const ratedItems: number[] = [];
  for (let j = 0; j < items; j++) if (rated[j]) ratedItems.push(j);
  const order = Uint32Array.from(ratedItems);
  shuffleInPlace(order, createRng(seed));
  const held = new Uint8Array(items);
  const heldCount = Math.round(order.length * itemFraction);
  for (let k = 0; k < heldCount; k++) held[order[k]!] = 1;
  const inTest = new Uint8Array(ratings.length);
  for (let i = 0; i < ratings.length; i++) inTest[i] = held[ratings.itemIndex[i]!]!;
  return fromMask(`cold-start-items-${itemFraction}-seed${seed}`, inTest);
}
