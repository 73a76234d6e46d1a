/**
 * Hybrid score blending: collaborative, content and popularity channels, each rescaled over the
 * candidate set, mixed with weights that shift with how much we know about the user.
 *
 * Reference 003's rule was the starting point (new user 70% content / 20% collaborative / 10%
 * popularity, regular user 30 / 60 / 10). Evaluation chose the weights in use
 * (test/node/kernels/blend-eval.test.ts: ml-latest-small, 20% of the ratings held out, NDCG@10 of
 * held-out ratings >= 4 among unseen movies, through the real serving path with the version's
 * implicit-ALS ranking factors (32) scoring the collaborative channel). Weights were picked on a
 * validation carve (20% of the training ratings, models refitted on the rest; 0.1-step grid):
 * regular users 40/20/40 collaborative/content/popularity (validation 0.1932), 5-rating sessions
 * 30/10/60 (0.1609). Held out: regular users 0.2757 (iALS alone 0.2681, popularity alone 0.1585,
 * reference rule 0.2754, content alone 0.018); sessions 0.2152 (iALS fold-in alone 0.1952,
 * popularity 0.1585, reference rule 0.0916). Before the ranking factors the rating factors (MF)
 * scored the collaborative channel and the blend leaned on popularity (20/20/60 and 5/15/80): on
 * the same split 0.1802 regular and 0.1666 sessions. Random-holdout NDCG rewards popular movies
 * (they are rated more, so held out more), so popularity keeps a share; the reference weights stay
 * exported for comparison.
 */

export interface BlendWeights {
  collaborative: number;
  content: number;
  popularity: number;
}

/** Reference 003's rule, the starting point. */
export const REFERENCE_NEW_USER_WEIGHTS: Readonly<BlendWeights> = Object.freeze({
  collaborative: 0.2,
  content: 0.7,
  popularity: 0.1,
});
export const REFERENCE_REGULAR_USER_WEIGHTS: Readonly<BlendWeights> = Object.freeze({
  collaborative: 0.6,
  content: 0.3,
  popularity: 0.1,
});
/** The rule in use, tuned by evaluation (see above). */
export const NEW_USER_WEIGHTS: Readonly<BlendWeights> = Object.freeze({
  collaborative: 0.3,
  content: 0.1,
  popularity: 0.6,
});
export const REGULAR_USER_WEIGHTS: Readonly<BlendWeights> = Object.freeze({
  collaborative: 0.4,
  content: 0.2,
  popularity: 0.4,
});

export interface BlendWeightOptions {
  /** Up to this many ratings a user is "new". */
  newUserMaxRatings?: number;
  /** From this many ratings on a user is "regular"; in between the weights move linearly. */
  regularMinRatings?: number;
  newUser?: Readonly<BlendWeights>;
  regular?: Readonly<BlendWeights>;
}

/**
 * Channel weights for a user with `ratingCount` ratings; channels that are unavailable (no content
 * embeddings in this version, or no ratings at all for collaborative) get 0 and the rest are
 * renormalised to sum to 1.
 * @example blendWeights(3) // { collaborative: 0.3, content: 0.1, popularity: 0.6 }
 */
export function blendWeights(
  ratingCount: number,
  available: { collaborative: boolean; content: boolean } = { collaborative: true, content: true },
  {
    newUserMaxRatings = 5,
    regularMinRatings = 30,
    newUser = NEW_USER_WEIGHTS,
    regular = REGULAR_USER_WEIGHTS,
  }: BlendWeightOptions = {},
): BlendWeights {
  const t =
    ratingCount <= newUserMaxRatings
      ? 0
      : ratingCount >= regularMinRatings
        ? 1
        : (ratingCount - newUserMaxRatings) / (regularMinRatings - newUserMaxRatings);
  const w: BlendWeights = {
    collaborative:
      available.collaborative && ratingCount > 0
        ? newUser.collaborative + t * (regular.collaborative - newUser.collaborative)
        : 0,
    content:
      available.content && ratingCount > 0 ? newUser.content + t * (regular.content - newUser.content) : 0,
    popularity: newUser.popularity + t * (regular.popularity - newUser.popularity),
  };
  const total = w.collaborative + w.content + w.popularity;
  if (total <= 0) return { collaborative: 0, content: 0, popularity: 1 };
  return {
    collaborative: w.collaborative / total,
    content: w.content / total,
    popularity: w.popularity / total,
  };
}

/**
 * Rescales `values` to [0, 1] in place by min-max over the array (all equal -> all 0), so that
 * channels on different scales (dot products, cosines, popularity) can be added.
 */
export function minMaxInPlace(values: Float32Array): Float32Array {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo;
  for (let i = 0; i < values.length; i++) values[i] = span > 0 ? (values[i]! - lo) / span : 0;
  return values;
}

/**
 * out[i] = w.collaborative * collaborative[i] + w.content * content[i] + w.popularity * popularity[i],
 * each channel min-max rescaled over the candidates first. A missing channel is null.
 */
export function blendScores(
  channels: {
    collaborative: Float32Array | null;
    content: Float32Array | null;
    popularity: Float32Array | null;
  },
  weights: BlendWeights,
  out: Float32Array,
): Float32Array {
  out.fill(0);
  const add = (values: Float32Array | null, weight: number) => {
    if (values === null || weight === 0) return;
    const scaled = minMaxInPlace(Float32Array.from(values));
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + weight * scaled[i]!;
  };
  add(channels.collaborative, weights.collaborative);
  add(channels.content, weights.content);
  add(channels.popularity, weights.popularity);
  return out;
}
