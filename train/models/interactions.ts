import { ReelrankError } from '../../shared/errors.ts';
import type { Dataset } from '../data/dataset.ts';

/**
 * Training rows gathered into contiguous arrays, plus compressed-sparse-row views by user and by
 * item. Every model starts from this, so the gather and the CSR build exist once.
 */
export interface TrainingRows {
  users: number;
  items: number;
  length: number;
  user: Uint32Array;
  item: Uint32Array;
  rating: Float32Array;
  timestamp: Uint32Array;
  /** Mean training rating. */
  mean: number;
}

/** Gather the rows `indexes` of the dataset's ratings. */
export function gatherRows(dataset: Dataset, indexes: Uint32Array): TrainingRows {
  const { ratings } = dataset;
  const n = indexes.length;
  if (n === 0) throw new ReelrankError('bad_input', `training set of ${dataset.name} is empty (0 ratings)`);
  const user = new Uint32Array(n);
  const item = new Uint32Array(n);
  const rating = new Float32Array(n);
  const timestamp = new Uint32Array(n);
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const row = indexes[j]!;
    if (row >= ratings.length) {
      throw new ReelrankError(
        'bad_input',
        `training index ${row} is out of range: ${dataset.name} has ${ratings.length} ratings`,
      );
    }
    user[j] = ratings.userIndex[row]!;
    item[j] = ratings.itemIndex[row]!;
    rating[j] = ratings.rating[row]!;
    timestamp[j] = ratings.timestamp[row]!;
    sum += rating[j]!;
  }
  return {
    users: dataset.userIds.length,
    items: dataset.movies.length,
    length: n,
    user,
    item,
    rating,
    timestamp,
    mean: sum / n,
  };
}

/** Rows grouped by a key: entries of group g are `index[offsets[g] .. offsets[g+1])`. */
export interface Csr {
  offsets: Uint32Array;
  /** The other side's index (item for a by-user CSR). */
  index: Uint32Array;
  value: Float32Array;
  /** Position of each entry in the source TrainingRows. */
  row: Uint32Array;
}

/** Group rows by `key` (counting sort: O(n), stable, so entries keep their source order). */
export function buildCsr(key: Uint32Array, other: Uint32Array, value: Float32Array, groups: number): Csr {
  const offsets = new Uint32Array(groups + 1);
  for (let j = 0; j < key.length; j++) offsets[key[j]! + 1]!++;
  for (let g = 0; g < groups; g++) offsets[g + 1]! += offsets[g]!;
  const cursor = offsets.slice(0, groups);
  const index = new Uint32Array(key.length);
  const values = new Float32Array(key.length);
  const row = new Uint32Array(key.length);
  for (let j = 0; j < key.length; j++) {
    const pos = cursor[key[j]!]!++;
    index[pos] = other[j]!;
    values[pos] = value[j]!;
    row[pos] = j;
  }
  return { offsets, index, value: values, row };
}

/** By-user CSR of training rows. */
export function byUser(rows: TrainingRows): Csr {
  return buildCsr(rows.user, rows.item, rows.rating, rows.users);
}

/** By-item CSR of training rows. */
export function byItem(rows: TrainingRows): Csr {
  return buildCsr(rows.item, rows.user, rows.rating, rows.items);
}

/** Number of training rows per item. */
export function itemCounts(rows: TrainingRows): Uint32Array {
  const counts = new Uint32Array(rows.items);
  for (let j = 0; j < rows.length; j++) counts[rows.item[j]!]!++;
  return counts;
}

/** Clamp every value of `out` to the rating scale, in place. */
export function clampInPlace(out: Float32Array, min: number, max: number): Float32Array {
  for (let j = 0; j < out.length; j++) {
    const v = out[j]!;
    out[j] = Math.min(max, Math.max(min, v));
  }
  return out;
}

/** Median number of training rows per user (users with none excluded). */
export function medianRowsPerUser(rows: TrainingRows): number {
  const counts = new Uint32Array(rows.users);
  for (let j = 0; j < rows.length; j++) counts[rows.user[j]!]!++;
  const nonZero = counts.filter((c) => c > 0).sort();
  return nonZero.length === 0 ? 0 : nonZero[nonZero.length >> 1]!;
}
