/**
 * Scoring used by both runtimes: the edge answers requests with it, training evaluates and checks
 * parity with it. Everything here is synchronous typed-array work over a `ServingModel`.
 */
import { displayTitle } from '../display-title.ts';
import { ReelrankError } from '../errors.ts';
import { type BlendWeightOptions, type BlendWeights, blendScores, blendWeights } from '../kernels/blend.ts';
import { applyMask, buildItemMask } from '../kernels/filters.ts';
import { foldIn } from '../kernels/foldin.ts';
import { foldInImplicit, implicitConfidence, implicitRegularization } from '../kernels/implicit.ts';
import { dequantizeRowInt8, dotInt8, type Int8RowMatrix } from '../kernels/int8.ts';
import { mmr } from '../kernels/mmr.ts';
import { type ItemItemLists, itemItemScores } from '../kernels/sparse-item.ts';
import { topK } from '../kernels/topk.ts';
import { csrRow, NO_NEIGHBOR, type ServingModel, type SimilarChannel } from './model.ts';

/** The user side of a request: a known user's stored row, or a session folded in on the fly. */
export interface UserState {
  /** Factor vector, length = model.dim. */
  vector: Float32Array | Float64Array;
  bias: number;
  /** Item indexes the user rated (excluded when excludeSeen). */
  seen: ArrayLike<number>;
  /** The user's best-rated items, best first (content profile and "because you rated" reasons). */
  favourites: ArrayLike<number>;
  ratingCount: number;
  /**
   * The user's vector in the ranking factor space (length model.ranking.dim) when the version has
   * ranking factors: it scores the collaborative channel. Null/absent: `vector` + item bias do.
   */
  rankVector?: Float32Array | Float64Array | null;
  /** True for an anonymous session folded in on the fly (the learned stage may treat it apart). */
  session?: boolean;
  /** The latest rated items, most recent first, when known (the learned stage's recency signal). */
  recent?: ArrayLike<number>;
  /** Movies acted on since the live version was trained (shared/serving/feedback.ts), for reasons. */
  recentActions?: ReadonlyMap<number, 'rated' | 'watched' | 'clicked' | 'disliked'>;
}

/** A stored user's state. */
export function knownUser(model: ServingModel, userIndex: number): UserState {
  const seen = csrRow(model.seen, userIndex);
  const ranking = model.ranking;
  return {
    vector: model.userFactors.subarray(userIndex * model.dim, (userIndex + 1) * model.dim),
    rankVector: ranking
      ? ranking.userFactors.subarray(userIndex * ranking.dim, (userIndex + 1) * ranking.dim)
      : null,
    bias: model.userBias[userIndex]!,
    seen,
    favourites: model.topRated ? csrRow(model.topRated, userIndex) : seen.subarray(0, 10),
    ratingCount: seen.length,
    recent: model.userRecent ? csrRow(model.userRecent, userIndex) : [],
  };
}

/** One rating of an anonymous session, already mapped to an item index. */
export interface SessionRating {
  itemIndex: number;
  rating: number;
}

/**
 * The ranking vector of a session: the implicit-ALS closed form against the exported Gram matrix
 * (shared/kernels/implicit.ts), each rating an interaction with confidence 1 + α·f(r), exactly as
 * training solved its known users.
 */
export function sessionRankVector(
  model: ServingModel,
  ratings: readonly SessionRating[],
): Float64Array | null {
  const ranking = model.ranking;
  if (!ranking) return null;
  const { dim, config } = ranking;
  const n = ratings.length;
  const rated = new Float32Array(n * dim);
  const confidence = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const { itemIndex, rating } = ratings[r]!;
    dequantizeRowInt8(ranking.itemFactors, itemIndex, rated.subarray(r * dim, (r + 1) * dim));
    confidence[r] = implicitConfidence(rating, config);
  }
  return foldInImplicit({
    gram: ranking.gram,
    k: dim,
    ratedFactors: rated,
    confidence,
    lambda: implicitRegularization(n, config),
  });
}

/**
 * An anonymous session's state by fold-in: ridge regression of its ratings against the item factors
 * and biases (rating predictions); the user bias is the regularised mean residual left after the
 * factors. With ranking factors, also the implicit-ALS fold-in (`sessionRankVector`).
 */
export function sessionUser(model: ServingModel, ratings: readonly SessionRating[]): UserState {
  const { dim } = model;
  const n = ratings.length;
  const ratedFactors = new Float32Array(n * dim);
  const values = new Float64Array(n);
  const biases = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const { itemIndex, rating } = ratings[r]!;
    dequantizeRowInt8(model.itemFactors, itemIndex, ratedFactors.subarray(r * dim, (r + 1) * dim));
    values[r] = rating;
    biases[r] = model.itemBias[itemIndex]!;
  }
  const vector =
    n > 0
      ? foldIn({
          ratedFactors,
          k: dim,
          ratings: values,
          itemBias: biases,
          globalMean: model.globalMean,
          lambda: model.foldInLambda,
        })
      : new Float64Array(dim);
  let residual = 0;
  for (let r = 0; r < n; r++)
    residual +=
      values[r]! - model.globalMean - biases[r]! - dotInt8(model.itemFactors, ratings[r]!.itemIndex, vector);
  const bias = n > 0 ? residual / (n + model.foldInLambda) : 0;
  // Favourites: rated at or above the session's own mean, best first.
  const mean = n > 0 ? values.reduce((a, b) => a + b, 0) / n : 0;
  const favourites = ratings
    .map((r, pos) => ({ ...r, pos }))
    .filter((r) => r.rating >= mean)
    .sort((a, b) => b.rating - a.rating || a.pos - b.pos)
    .map((r) => r.itemIndex);
  return {
    vector,
    bias,
    seen: ratings.map((r) => r.itemIndex),
    favourites,
    ratingCount: n,
    rankVector: n > 0 ? sessionRankVector(model, ratings) : null,
    session: true,
    // Ratings arrive in the order they were given: the last one is the most recent.
    recent: ratings.map((r) => r.itemIndex).reverse(),
  };
}

/** Predicted rating on the dataset's scale (clamped to it): μ + b_u + b_i + u·v_i. */
export function predictRating(model: ServingModel, user: UserState, itemIndex: number): number {
  const raw =
    model.globalMean +
    user.bias +
    model.itemBias[itemIndex]! +
    dotInt8(model.itemFactors, itemIndex, user.vector);
  return Math.min(model.ratingScale.max, Math.max(model.ratingScale.min, raw));
}

export interface RecommendOptions {
  k: number;
  genreMask?: number;
  yearFrom?: number;
  yearTo?: number;
  excludeSeen?: boolean;
  /** 0 = off; otherwise MMR with lambda = 1 - diversity. */
  diversity?: number;
  /** Candidates taken from each channel before blending. */
  poolSize?: number;
  /** Blend weight rule (defaults: reference 003's 70/20/10 -> 30/60/10, see kernels/blend.ts). */
  blend?: BlendWeightOptions;
  /**
   * Which stage ranks: 'auto' (default) = the version's learned stage where it is enabled for this
   * kind of user, else the alternative the version names for it (`LearnedHook.fallback`; the blend
   * when it names none); 'blend', 'learned' or 'itemItem' force one (benchmarks and training's
   * validation compare them). Without a learned stage or item-item lists, the blend ranks.
   */
  stage?: 'auto' | 'blend' | 'learned' | 'itemItem';
}

/**
 * What ranks where the learned stage does not: the linear blend, the sparse item-item channel
 * alone, or the collaborative channel alone (the blend with all weight on it).
 */
export type RankingFallback = 'blend' | 'itemItem' | 'collaborative';

/** A version's learned ranking stage (shared/serving/ranker.ts), as `recommend` calls it. */
export interface LearnedHook {
  /** Whether 'auto' uses it for this user (it won on validation for users or sessions). */
  applies(user: UserState): boolean;
  /** What 'auto' ranks with where the stage does not apply (absent: the blend). */
  fallback?(user: UserState): RankingFallback;
  recommend(model: ServingModel, user: UserState, options: RecommendOptions): RecommendResult;
}

export type Reason =
  | { kind: 'rated'; movieId: number; title: string; text: string }
  | { kind: 'popular'; genre: string | null; text: string };

export interface Recommendation {
  itemIndex: number;
  score: number;
  channels: { collaborative: number; content: number; popularity: number };
  reason: Reason;
}

export interface RecommendResult {
  weights: BlendWeights;
  items: Recommendation[];
}

/** Mean of the content rows of `items` (code space, each row normalised), or null when empty. */
export function contentProfile(
  content: Int8RowMatrix,
  invNorms: Float32Array,
  items: ArrayLike<number>,
  limit: number,
): Float64Array | null {
  const count = Math.min(items.length, limit);
  if (count === 0) return null;
  const profile = new Float64Array(content.cols);
  for (let n = 0; n < count; n++) {
    const row = items[n]!;
    const inv = invNorms[row]!;
    const base = row * content.cols;
    for (let j = 0; j < content.cols; j++) profile[j] = profile[j]! + content.values[base + j]! * inv;
  }
  return profile;
}

/** Cosine of two rows of an int8 matrix through precomputed inverse code norms. */
export function cosineRows(matrix: Int8RowMatrix, invNorms: Float32Array, a: number, b: number): number {
  const { cols: dim, values } = matrix;
  const ba = a * dim;
  const bb = b * dim;
  let dot = 0;
  for (let j = 0; j < dim; j++) dot += values[ba + j]! * values[bb + j]!;
  return dot * invNorms[a]! * invNorms[b]!;
}

/** Takes the top `size` of `scores` (after masking) into the candidate set. */
function collect(scores: Float32Array, size: number, into: Set<number>): void {
  const best = topK(scores, size);
  for (let n = 0; n < best.indexes.length; n++) into.add(best.indexes[n]!);
}

/**
 * Similarity work MMR may do per request (k x shortlist x embedding width): 3k shortlists up to
 * k = 100 over 64-wide vectors (1.9M); wider embeddings get a shorter shortlist (never below k + 10).
 */
const MMR_MULTIPLY_ADDS = 2_000_000;

/**
 * Recommendations for a user: candidates from each channel (collaborative int8 dot product + item
 * bias, content cosine to the user's favourites, popularity), blended with weights that shift with
 * the user's rating count, optionally diversified by MMR, each with a reason.
 */
export function recommend(model: ServingModel, user: UserState, options: RecommendOptions): RecommendResult {
  const { stage = 'auto' } = options;
  const learned = model.learned;
  if (learned && (stage === 'learned' || (stage === 'auto' && learned.applies(user))))
    return learned.recommend(model, user, options);
  const fallback: RankingFallback =
    stage === 'itemItem'
      ? 'itemItem'
      : stage === 'auto' && learned?.fallback && user.ratingCount > 0
        ? learned.fallback(user)
        : 'blend';
  if (fallback === 'itemItem' && model.itemItem && user.seen.length > 0)
    return recommendItemItem(model, model.itemItem, user, options);
  if (fallback === 'collaborative' && options.blend === undefined)
    return recommendBlend(model, user, { ...options, blend: COLLABORATIVE_ONLY });
  return recommendBlend(model, user, options);
}

/** Blend weights that give the collaborative channel everything (the 'collaborative' fallback). */
const COLLABORATIVE_ONLY: BlendWeightOptions = Object.freeze({
  newUser: Object.freeze({ collaborative: 1, content: 0, popularity: 0 }),
  regular: Object.freeze({ collaborative: 1, content: 0, popularity: 0 }),
});

/**
 * Recommendations by the sparse item-item channel alone: the summed item-item rows of the user's
 * rated movies over the unseen (filtered) catalog, top-k or MMR over a 3k shortlist, each with a
 * "because you rated" reason naming the rated movie that contributes most to it.
 */
export function recommendItemItem(
  model: ServingModel,
  lists: ItemItemLists,
  user: UserState,
  options: RecommendOptions,
): RecommendResult {
  const { k, genreMask = 0, yearFrom, yearTo, excludeSeen = true, diversity = 0 } = options;
  const mask = buildItemMask(
    model.filterAttributes,
    { genreMask, yearFrom, yearTo, exclude: excludeSeen ? user.seen : undefined },
    model.scratchMask,
  );
  const scores = applyMask(itemItemScores(lists, user.seen, null, model.scratch), mask);
  let order: ArrayLike<number>;
  if (diversity > 0) {
    const shortlist = topK(scores, 3 * k);
    const useContent = model.contentEmbeddings !== null && model.contentCodeInvNorms !== null;
    const similarity = useContent
      ? (a: number, b: number) => cosineRows(model.contentEmbeddings!, model.contentCodeInvNorms!, a, b)
      : (a: number, b: number) => cosineRows(model.itemFactors, model.itemCodeInvNorms, a, b);
    const picked = mmr({
      candidates: Array.from(shortlist.indexes),
      relevance: Array.from(shortlist.scores),
      similarity,
      k,
      lambda: 1 - diversity,
    });
    order = Array.from(picked, (p) => shortlist.indexes[p]!);
  } else {
    order = topK(scores, k).indexes;
  }
  const weights: BlendWeights = { collaborative: 1, content: 0, popularity: 0 };
  const items: Recommendation[] = [];
  for (let n = 0; n < order.length; n++) {
    const itemIndex = order[n]!;
    // A favourite whose row lists the movie, else any rated movie whose row does.
    const favourite = itemItemSource(lists, user.favourites, itemIndex);
    const source = favourite ?? itemItemSource(lists, user.seen, itemIndex) ?? user.seen[0]!;
    const movie = model.movies[source]!;
    items.push({
      itemIndex,
      score: scores[itemIndex]!,
      channels: { collaborative: 1, content: 0, popularity: model.popularity[itemIndex]! },
      reason: {
        kind: 'rated',
        movieId: movie.movieId,
        title: movie.title,
        text: ratedReason(user, source, movie.title, favourite !== null),
      },
    });
  }
  return { weights, items };
}

/** Of `items`, the one whose item-item row gives `itemIndex` the largest weight (null: none lists it). */
function itemItemSource(lists: ItemItemLists, items: ArrayLike<number>, itemIndex: number): number | null {
  const { offsets, indexes, values, scales, width } = lists;
  let best: number | null = null;
  let bestWeight = Number.NEGATIVE_INFINITY;
  for (let n = 0; n < items.length; n++) {
    const i = items[n]!;
    if (i >= offsets.length - 1) continue;
    const start = offsets[i]!;
    for (let p = start; p < offsets[i + 1]!; p++) {
      if (indexes[p] !== itemIndex) continue;
      const w = scales[start / width]! * values[p]!;
      if (w > bestWeight) {
        bestWeight = w;
        best = i;
      }
      break;
    }
  }
  return best;
}

/** The linear blend of the collaborative, content and popularity channels (see `recommend`). */
function recommendBlend(model: ServingModel, user: UserState, options: RecommendOptions): RecommendResult {
  const { k, genreMask = 0, yearFrom, yearTo, excludeSeen = true, diversity = 0 } = options;
  const poolSize = Math.min(model.itemCount, options.poolSize ?? Math.max(100, 4 * k));
  const mask = buildItemMask(
    model.filterAttributes,
    { genreMask, yearFrom, yearTo, exclude: excludeSeen ? user.seen : undefined },
    model.scratchMask,
  );
  const profile =
    model.contentEmbeddings && model.contentCodeInvNorms
      ? contentProfile(model.contentEmbeddings, model.contentCodeInvNorms, user.favourites, 20)
      : null;
  const weights = blendWeights(
    user.ratingCount,
    { collaborative: user.ratingCount > 0, content: profile !== null },
    options.blend,
  );
  const candidates = new Set<number>();
  const scores = model.scratch;
  // Ranking factors score the collaborative channel when the version has them (no bias: iALS
  // scores are x·y); otherwise the rating factors plus item bias, as older versions did.
  const ranking = model.ranking && user.rankVector ? model.ranking : null;
  const rankVector = ranking ? user.rankVector! : null;
  if (weights.collaborative > 0) {
    if (ranking && rankVector) ranking.matVec(rankVector, scores);
    else {
      model.itemMatVec(user.vector, scores);
      for (let i = 0; i < scores.length; i++) scores[i] = scores[i]! + model.itemBias[i]!;
    }
    collect(applyMask(scores, mask), poolSize, candidates);
  }
  if (weights.content > 0 && profile && model.contentEmbeddings && model.contentCodeInvNorms) {
    model.contentMatVec!(profile, scores);
    // The matVec applies the stored scales; cosine wants values / code norm instead.
    const factor = model.contentCosineFactors!;
    for (let i = 0; i < scores.length; i++) scores[i] = scores[i]! * factor[i]!;
    collect(applyMask(scores, mask), poolSize, candidates);
  }
  // Popularity: walk the precomputed order, skipping filtered items.
  for (let n = 0, taken = 0; n < model.itemCount && taken < poolSize; n++) {
    const i = model.popularityOrder[n]!;
    if (mask !== null && mask[i] === 0) continue;
    candidates.add(i);
    taken++;
  }
  const ids = Uint32Array.from(candidates);
  const m = ids.length;
  const collaborative = weights.collaborative > 0 ? new Float32Array(m) : null;
  const content = weights.content > 0 ? new Float32Array(m) : null;
  const popularity = new Float32Array(m);
  for (let n = 0; n < m; n++) {
    const i = ids[n]!;
    if (collaborative)
      collaborative[n] =
        ranking && rankVector
          ? dotInt8(ranking.itemFactors, i, rankVector)
          : dotInt8(model.itemFactors, i, user.vector) + model.itemBias[i]!;
    popularity[n] = model.popularity[i]!;
  }
  if (content && profile && model.contentEmbeddings && model.contentCodeInvNorms) {
    const { values, cols: dim } = model.contentEmbeddings;
    for (let n = 0; n < m; n++) {
      const i = ids[n]!;
      let dot = 0;
      for (let j = 0; j < dim; j++) dot += values[i * dim + j]! * profile[j]!;
      content[n] = dot * model.contentCodeInvNorms[i]!;
    }
  }
  const blended = blendScores(
    {
      collaborative: collaborative && Float32Array.from(collaborative),
      content: content && Float32Array.from(content),
      popularity: Float32Array.from(popularity),
    },
    weights,
    new Float32Array(m),
  );
  let order: ArrayLike<number>;
  if (diversity > 0 && m > 0) {
    // Re-rank a shortlist (3k best) so MMR stays O(k * shortlist * dim), and at most
    // MMR_MULTIPLY_ADDS of similarity work whatever the embedding width (the 10 ms CPU limit).
    const useContent = model.contentEmbeddings !== null && model.contentCodeInvNorms !== null;
    const width = Math.max(1, useContent ? model.contentEmbeddings!.cols : model.itemFactors.cols);
    const affordable = Math.floor(MMR_MULTIPLY_ADDS / (Math.max(k, 1) * width));
    const shortlist = topK(blended, Math.min(m, 3 * k, Math.max(k + 10, affordable))).indexes;
    const similarity = useContent
      ? (a: number, b: number) => cosineRows(model.contentEmbeddings!, model.contentCodeInvNorms!, a, b)
      : (a: number, b: number) => cosineRows(model.itemFactors, model.itemCodeInvNorms, a, b);
    const shortIds = Array.from(shortlist, (p) => ids[p]!);
    const picked = mmr({
      candidates: shortIds,
      relevance: Array.from(shortlist, (p) => blended[p]!),
      similarity,
      k,
      lambda: 1 - diversity,
    });
    order = Array.from(picked, (p) => shortlist[p]!);
  } else {
    order = topK(blended, k).indexes;
  }
  const scaled = {
    collaborative: collaborative ? minMax(collaborative) : null,
    content: content ? minMax(content) : null,
    popularity: minMax(popularity),
  };
  const items: Recommendation[] = [];
  for (let n = 0; n < order.length; n++) {
    const p = order[n]!;
    const itemIndex = ids[p]!;
    const channels = {
      collaborative: scaled.collaborative ? scaled.collaborative[p]! : 0,
      content: scaled.content ? scaled.content[p]! : 0,
      popularity: scaled.popularity[p]!,
    };
    items.push({
      itemIndex,
      score: blended[p]!,
      channels,
      reason: reasonFor(model, user, itemIndex, channels, weights, genreMask),
    });
  }
  return { weights, items };
}

export function minMax(values: Float32Array): Float32Array {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo;
  return values.map((v) => (span > 0 ? (v - lo) / span : 0));
}

/**
 * Why an item was recommended: the channel in which it stands out most among the candidates (each
 * channel rescaled to [0, 1]; a channel with weight 0 does not count). Blend weights are not
 * applied here: popularity carries most of the weight (see kernels/blend.ts), yet an item that
 * ranks high on the user's own signal is better explained by it. Personal channels name the
 * user's favourite most similar to the item (by content, or by the ranking factors when the version
 * has them, else the rating factors); popularity names a genre (the filtered one if any).
 */
export function reasonFor(
  model: ServingModel,
  user: UserState,
  itemIndex: number,
  channels: { collaborative: number; content: number; popularity: number },
  weights: BlendWeights,
  genreMask: number,
): Reason {
  const collaborative = weights.collaborative > 0 ? channels.collaborative : 0;
  const content = weights.content > 0 ? channels.content : 0;
  const popularity = weights.popularity > 0 ? channels.popularity : 0;
  if (user.favourites.length > 0 && Math.max(collaborative, content) >= popularity) {
    const byContent = content > collaborative && model.contentEmbeddings && model.contentCodeInvNorms;
    let best = user.favourites[0]!;
    let bestSim = Number.NEGATIVE_INFINITY;
    const limit = Math.min(user.favourites.length, 20);
    for (let n = 0; n < limit; n++) {
      const f = user.favourites[n]!;
      const s = byContent
        ? cosineRows(model.contentEmbeddings!, model.contentCodeInvNorms!, f, itemIndex)
        : model.ranking
          ? cosineRows(model.ranking.itemFactors, model.ranking.invNorms, f, itemIndex)
          : cosineRows(model.itemFactors, model.itemCodeInvNorms, f, itemIndex);
      if (s > bestSim) {
        bestSim = s;
        best = f;
      }
    }
    const movie = model.movies[best]!;
    return {
      kind: 'rated',
      movieId: movie.movieId,
      title: movie.title,
      text: ratedReason(user, best, movie.title, true),
    };
  }
  const bits = model.filterAttributes.genreBits[itemIndex]!;
  const filtered = genreMask & bits;
  const bit =
    filtered !== 0 ? 31 - Math.clz32(filtered & -filtered) : bits !== 0 ? 31 - Math.clz32(bits & -bits) : -1;
  const genre = bit >= 0 ? (model.genreNames[bit] ?? null) : null;
  return { kind: 'popular', genre, text: genre ? `popular in ${genre}` : 'popular overall' };
}

/** "because you just rated X" for a recent action, else "because you rated X (highly)". */
function ratedReason(user: UserState, itemIndex: number, title: string, favourite: boolean): string {
  const recent = user.recentActions?.get(itemIndex);
  if (recent !== undefined && recent !== 'disliked')
    return `because you just ${recent} ${displayTitle(title)}`;
  return `because you rated ${displayTitle(title)}${favourite ? ' highly' : ''}`;
}

export interface SimilarItem {
  itemIndex: number;
  score: number;
}

/** Similar movies from a channel's precomputed neighbour list (first k valid entries). */
function fromLists(
  model: ServingModel,
  channel: SimilarChannel,
  itemIndex: number,
  k: number,
): SimilarItem[] | null {
  const lists = model.neighbors[channel];
  if (!lists) return null;
  const out: SimilarItem[] = [];
  const base = itemIndex * lists.width;
  for (let n = 0; n < lists.width && out.length < k; n++) {
    const j = lists.indexes[base + n]!;
    if (j === NO_NEIGHBOR || j === itemIndex) continue;
    out.push({ itemIndex: j, score: lists.scores[base + n]! });
  }
  return out;
}

/** Exact cosine neighbours over an int8 matrix (fallback when a version has no list for a channel). */
function bruteForce(
  model: ServingModel,
  matrix: Int8RowMatrix,
  matVec: ServingModel['itemMatVec'],
  invNorms: Float32Array,
  itemIndex: number,
  k: number,
): SimilarItem[] {
  if (invNorms[itemIndex] === 0) return [];
  const query = new Float32Array(matrix.cols);
  const base = itemIndex * matrix.cols;
  for (let j = 0; j < matrix.cols; j++) query[j] = matrix.values[base + j]!;
  const scores = matVec(query, model.scratch);
  const qInv = invNorms[itemIndex]!;
  for (let i = 0; i < scores.length; i++)
    scores[i] =
      matrix.scales[i]! > 0
        ? (scores[i]! / matrix.scales[i]!) * invNorms[i]! * qInv
        : Number.NEGATIVE_INFINITY;
  scores[itemIndex] = Number.NEGATIVE_INFINITY;
  const best = topK(scores, k);
  return Array.from(best.indexes, (i, n) => ({ itemIndex: i, score: best.scores[n]! }));
}

/** Weights of the ad-hoc hybrid blend of channel lists when a version has no hybrid list. */
const HYBRID_BLEND: Readonly<Record<'content' | 'visual' | 'collaborative', number>> = Object.freeze({
  content: 0.4,
  visual: 0.2,
  collaborative: 0.4,
});

/**
 * Movies similar to `itemIndex` by a channel. Precomputed lists first; collaborative (ranking factors
 * when the version has them, else rating factors) and content fall back to exact cosine over the
 * stored vectors; hybrid falls back to a weighted blend of the other
 * channels. Throws `channel_unavailable` when the version has nothing for the channel.
 */
export function similar(
  model: ServingModel,
  itemIndex: number,
  by: SimilarChannel,
  k: number,
): SimilarItem[] {
  const listed = fromLists(model, by, itemIndex, k);
  if (listed && by === 'visual' && listed.length === 0) {
    // Visual lists are built over movies with a poster only: an empty list means this movie has
    // no poster (or no other movie has one). Say so instead of answering with nothing.
    throw new ReelrankError(
      'no_visual_neighbors',
      `movie ${model.itemIds[itemIndex]} has no poster-based neighbours in version ${model.version} (it has no poster); try by=content or by=hybrid`,
      { parameter: 'by' },
    );
  }
  if (listed) return listed;
  if (by === 'collaborative') {
    // Ranking factors when the version has them: their cosine neighbours are co-liked twice as
    // often (bench/similarity.ts, ml-100k: co-rating lift@10 4.96 vs 2.47 for MF rating factors).
    if (model.ranking)
      return bruteForce(
        model,
        model.ranking.itemFactors,
        model.ranking.matVec,
        model.ranking.invNorms,
        itemIndex,
        k,
      );
    return bruteForce(model, model.itemFactors, model.itemMatVec, model.itemCodeInvNorms, itemIndex, k);
  }
  if (by === 'content' && model.contentEmbeddings && model.contentCodeInvNorms && model.contentMatVec) {
    return bruteForce(
      model,
      model.contentEmbeddings,
      model.contentMatVec,
      model.contentCodeInvNorms,
      itemIndex,
      k,
    );
  }
  if (by === 'hybrid') {
    const total = new Map<number, number>();
    let weightSum = 0;
    for (const channel of ['content', 'visual', 'collaborative'] as const) {
      let items: SimilarItem[];
      try {
        items = similar(model, itemIndex, channel, Math.max(50, 2 * k));
      } catch {
        continue; // channel absent from this version: blend the others
      }
      const w = HYBRID_BLEND[channel];
      weightSum += w;
      // Channels score on different scales (text cosines run high, factor cosines low): rescale
      // each list to [0, 1] first so that no channel wins by its scale alone.
      const scaled = minMax(Float32Array.from(items, (it) => it.score));
      items.forEach((it, n) => {
        total.set(it.itemIndex, (total.get(it.itemIndex) ?? 0) + w * scaled[n]!);
      });
    }
    if (weightSum > 0) {
      return [...total.entries()]
        .map(([i, s]) => ({ itemIndex: i, score: s / weightSum }))
        .sort((a, b) => b.score - a.score || a.itemIndex - b.itemIndex)
        .slice(0, k);
    }
  }
  const have = (['content', 'visual', 'collaborative', 'hybrid'] as const).filter(
    (c) =>
      model.neighbors[c] ||
      c === 'collaborative' ||
      (c === 'content' && model.contentEmbeddings) ||
      c === 'hybrid',
  );
  throw new ReelrankError(
    'channel_unavailable',
    `by: channel '${by}' is not available in version ${model.version}. Available: ${have.join(', ')}`,
    { parameter: 'by' },
  );
}

/** Popular and diverse: for a session with no ratings (popularity candidates, MMR over item factors). */
export function popularDiverse(model: ServingModel, options: RecommendOptions): RecommendResult {
  const empty: UserState = {
    vector: new Float32Array(model.dim),
    bias: 0,
    seen: [],
    favourites: [],
    ratingCount: 0,
  };
  return recommend(model, empty, { ...options, diversity: options.diversity ?? 0.3 });
}
