/**
 * Quality of similar-movie lists and of content features for cold start, as measured by
 * bench/similarity.ts and the training report:
 *  - genre overlap@k: mean Jaccard of genre sets (movie vs each of its top-k neighbours), and the
 *    share of neighbours sharing at least one genre;
 *  - co-rating lift@k: among users who rated a movie >= 4, how often they also rated its
 *    neighbours >= 4, divided by the same rate for random movies;
 *  - cold-start AUC: item factors of held-out movies predicted from content by ridge regression.
 */
import { choleskyInPlace, choleskySolveInPlace } from '../models/linalg.ts';
import { ReelrankError } from '../../shared/errors.ts';
import { createRng } from '../../shared/random.ts';
import { type NeighborTable, neighborsOf } from './neighbors.ts';

export interface GenreOverlap {
  /** Mean Jaccard(genres(i), genres(j)) over movies i and their top-k neighbours j. */
  jaccard: number;
  /** Share of (i, j) pairs with at least one genre in common. */
  shareAny: number;
  /** Same two numbers for uniformly random pairs (the chance level). */
  randomJaccard: number;
  randomShareAny: number;
  /** Movies with a non-empty list that were scored. */
  movies: number;
}

function jaccard(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 && b.length === 0) return 0;
  let common = 0;
  for (const g of a) if (b.includes(g)) common++;
  return common / (a.length + b.length - common);
}

/**
 * Genre overlap@k of a neighbour table (rows = catalog order). Movies without genres are skipped.
 * @example genreOverlapAt(tables.content, movies.map((m) => m.genres), 10)
 */
export function genreOverlapAt(
  table: NeighborTable,
  genres: readonly (readonly string[])[],
  k = 10,
  seed = 5,
): GenreOverlap {
  const rng = createRng(seed);
  let pairs = 0;
  let jac = 0;
  let any = 0;
  let rJac = 0;
  let rAny = 0;
  let movies = 0;
  for (let i = 0; i < table.rows; i++) {
    const g = genres[i]!;
    if (g.length === 0) continue;
    const list = neighborsOf(table, i).subarray(0, k);
    if (list.length === 0) continue;
    movies++;
    for (const j of list) {
      const s = jaccard(g, genres[j]!);
      jac += s;
      any += s > 0 ? 1 : 0;
      let r = rng.int(table.rows);
      while (r === i) r = rng.int(table.rows);
      const rs = jaccard(g, genres[r]!);
      rJac += rs;
      rAny += rs > 0 ? 1 : 0;
      pairs++;
    }
  }
  const d = Math.max(pairs, 1);
  return { jaccard: jac / d, shareAny: any / d, randomJaccard: rJac / d, randomShareAny: rAny / d, movies };
}

export interface CoRatingLift {
  /** P(user rated neighbour >= 4 | user rated the movie >= 4), averaged over (movie, neighbour). */
  neighbourRate: number;
  /** Same for random movies. */
  randomRate: number;
  lift: number;
  movies: number;
}

/**
 * Co-rating lift@k. `likedBy[i]` = users who rated item i >= 4 (sorted ascending). Movies with
 * fewer than `minLikes` such users are skipped (their rate is noise).
 */
export function coRatingLiftAt(
  table: NeighborTable,
  likedBy: readonly Uint32Array[],
  k = 10,
  { minLikes = 5, seed = 6 } = {},
): CoRatingLift {
  const rng = createRng(seed);
  let nSum = 0;
  let rSum = 0;
  let pairs = 0;
  let movies = 0;
  const overlap = (a: Uint32Array, b: Uint32Array) => {
    let x = 0;
    let y = 0;
    let c = 0;
    while (x < a.length && y < b.length) {
      if (a[x]! === b[y]!) {
        c++;
        x++;
        y++;
      } else if (a[x]! < b[y]!) x++;
      else y++;
    }
    return c;
  };
  for (let i = 0; i < table.rows; i++) {
    const users = likedBy[i]!;
    if (users.length < minLikes) continue;
    const list = neighborsOf(table, i).subarray(0, k);
    if (list.length === 0) continue;
    movies++;
    for (const j of list) {
      nSum += overlap(users, likedBy[j]!) / users.length;
      let r = rng.int(table.rows);
      while (r === i) r = rng.int(table.rows);
      rSum += overlap(users, likedBy[r]!) / users.length;
      pairs++;
    }
  }
  const neighbourRate = nSum / Math.max(pairs, 1);
  const randomRate = rSum / Math.max(pairs, 1);
  return {
    neighbourRate,
    randomRate,
    lift: randomRate > 0 ? neighbourRate / randomRate : Number.NaN,
    movies,
  };
}

/** Ridge regression weights [(d + 1), t]: last row is the (unpenalised) intercept. */
export interface Ridge {
  features: number;
  targets: number;
  weights: Float64Array;
}

/**
 * Fit Y ~ X W + b by ridge regression on the rows listed in `rows` (normal equations, Cholesky).
 * X is [n, d] row-major float32, Y is [n, t].
 * @example fitRidge(textEmbeddings, 64, itemFactorsWithBias, 41, warmItems, 10)
 */
export function fitRidge(
  x: Float32Array,
  d: number,
  y: Float32Array,
  t: number,
  rows: ArrayLike<number>,
  lambda: number,
): Ridge {
  if (!(lambda >= 0)) throw new ReelrankError('bad_input', `ridge: lambda must be >= 0, got ${lambda}`);
  const p = d + 1;
  const a = new Float64Array(p * p);
  const b = new Float64Array(p * t);
  const row = new Float64Array(p);
  for (let n = 0; n < rows.length; n++) {
    const r = rows[n]!;
    for (let j = 0; j < d; j++) row[j] = x[r * d + j]!;
    row[d] = 1;
    for (let i = 0; i < p; i++) {
      const ri = row[i]!;
      if (ri === 0) continue;
      for (let j = i; j < p; j++) a[i * p + j] = a[i * p + j]! + ri * row[j]!;
      for (let c = 0; c < t; c++) b[c * p + i] = b[c * p + i]! + ri * y[r * t + c]!;
    }
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) a[i * p + j] = a[j * p + i]!;
  for (let i = 0; i < d; i++) a[i * p + i] = a[i * p + i]! + lambda;
  a[d * p + d] = a[d * p + d]! + 1e-9; // keeps the intercept's pivot positive when no row is given
  choleskyInPlace(a, p);
  const weights = new Float64Array(p * t);
  for (let c = 0; c < t; c++) {
    const col = b.slice(c * p, (c + 1) * p);
    choleskySolveInPlace(a, p, col);
    for (let i = 0; i < p; i++) weights[i * t + c] = col[i]!;
  }
  return { features: d, targets: t, weights };
}

/** Predictions [n, t] of a ridge model for every row of X. */
export function predictRidge(model: Ridge, x: Float32Array): Float32Array {
  const { features: d, targets: t, weights } = model;
  const n = x.length / d;
  const out = new Float32Array(n * t);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < t; c++) {
      let s = weights[d * t + c]!;
      for (let j = 0; j < d; j++) s += x[r * d + j]! * weights[j * t + c]!;
      out[r * t + c] = s;
    }
  }
  return out;
}

/**
 * Mean per-user AUC: for each user, the probability that a random positive item scores above a
 * random negative one (ties count 1/2). `score(user, item)`; positives/negatives per user.
 * Users without a positive or a negative are skipped.
 */
export function meanUserAuc(
  users: number,
  positives: readonly number[][],
  negatives: readonly number[][],
  score: (user: number, item: number) => number,
): { auc: number; users: number } {
  let total = 0;
  let counted = 0;
  for (let u = 0; u < users; u++) {
    const pos = positives[u]!;
    const neg = negatives[u]!;
    if (pos.length === 0 || neg.length === 0) continue;
    // Rank-based AUC: sort all scores once, O((p + n) log(p + n)) per user.
    const all = [
      ...pos.map((i) => ({ s: score(u, i), p: 1 })),
      ...neg.map((i) => ({ s: score(u, i), p: 0 })),
    ].sort((a, b) => a.s - b.s);
    let rankSum = 0;
    for (let i = 0; i < all.length; ) {
      let j = i;
      while (j < all.length && all[j]!.s === all[i]!.s) j++;
      const midRank = (i + 1 + j) / 2; // average 1-based rank of the tie group
      for (let m = i; m < j; m++) if (all[m]!.p === 1) rankSum += midRank;
      i = j;
    }
    total += (rankSum - (pos.length * (pos.length + 1)) / 2) / (pos.length * neg.length);
    counted++;
  }
  return { auc: counted > 0 ? total / counted : Number.NaN, users: counted };
}
