/**
 * The hot loops of training, as small named kernels over typed arrays: no closures, no objects,
 * no allocation inside. Rows arrive already in the epoch's shuffled order (see `permuteRows`) so
 * that the reads of user/item/rating are sequential and only the factor rows are random access.
 */

/** Parameters of one biased-MF SGD epoch. */
export interface BiasedMfState {
  factors: number;
  mean: number;
  userFactors: Float32Array;
  itemFactors: Float32Array;
  userBias: Float32Array;
  itemBias: Float32Array;
}

/**
 * One SGD pass of biased MF over rows (Funk/Koren): for each rating,
 * e = r − (μ + b_u + b_i + p_u·q_i); b ← b + lrBias(e − regBias·b); p ← p + lr(e·q − reg·p),
 * q ← q + lr(e·p − reg·q), with p and q updated from each other's old values.
 * Returns the sum of squared errors seen during the pass (before each update).
 */
export function sgdBiasedMfEpoch(
  user: Uint32Array,
  item: Uint32Array,
  rating: Float32Array,
  state: BiasedMfState,
  lr: number,
  reg: number,
  lrBias: number,
  regBias: number,
): number {
  const k = state.factors;
  const mean = state.mean;
  const P = state.userFactors;
  const Q = state.itemFactors;
  const bu = state.userBias;
  const bi = state.itemBias;
  // p ← (1 − lr·reg)·p + lr·e·q: folding the decay into one multiplier saves a multiply per factor.
  const decay = 1 - lr * reg;
  const biasDecay = 1 - lrBias * regBias;
  const n = rating.length;
  let sse = 0;
  // Factor loops are unrolled by 4 with independent accumulators: V8 does not vectorise, and the
  // unrolled form measured ~1.6x the plain loop (bench/train-speed.ts).
  const k4 = k - (k % 4);
  for (let j = 0; j < n; j++) {
    const u = user[j]!;
    const i = item[j]!;
    const pu = u * k;
    const qi = i * k;
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    let f = 0;
    for (; f < k4; f += 4) {
      d0 += P[pu + f]! * Q[qi + f]!;
      d1 += P[pu + f + 1]! * Q[qi + f + 1]!;
      d2 += P[pu + f + 2]! * Q[qi + f + 2]!;
      d3 += P[pu + f + 3]! * Q[qi + f + 3]!;
    }
    for (; f < k; f++) d0 += P[pu + f]! * Q[qi + f]!;
    const err = rating[j]! - (mean + bu[u]! + bi[i]! + (d0 + d1 + (d2 + d3)));
    sse += err * err;
    bu[u] = biasDecay * bu[u]! + lrBias * err;
    bi[i] = biasDecay * bi[i]! + lrBias * err;
    const step = lr * err;
    f = 0;
    for (; f < k4; f += 4) {
      let p = P[pu + f]!;
      let q = Q[qi + f]!;
      P[pu + f] = decay * p + step * q;
      Q[qi + f] = decay * q + step * p;
      p = P[pu + f + 1]!;
      q = Q[qi + f + 1]!;
      P[pu + f + 1] = decay * p + step * q;
      Q[qi + f + 1] = decay * q + step * p;
      p = P[pu + f + 2]!;
      q = Q[qi + f + 2]!;
      P[pu + f + 2] = decay * p + step * q;
      Q[qi + f + 2] = decay * q + step * p;
      p = P[pu + f + 3]!;
      q = Q[qi + f + 3]!;
      P[pu + f + 3] = decay * p + step * q;
      Q[qi + f + 3] = decay * q + step * p;
    }
    for (; f < k; f++) {
      const p = P[pu + f]!;
      const q = Q[qi + f]!;
      P[pu + f] = decay * p + step * q;
      Q[qi + f] = decay * q + step * p;
    }
  }
  return sse;
}

/** Copy rows into `out*` in the order given by `order` (a permutation of 0..n-1). */
export function permuteRows(
  order: Uint32Array,
  user: Uint32Array,
  item: Uint32Array,
  rating: Float32Array,
  outUser: Uint32Array,
  outItem: Uint32Array,
  outRating: Float32Array,
): void {
  for (let j = 0; j < order.length; j++) {
    const src = order[j]!;
    outUser[j] = user[src]!;
    outItem[j] = item[src]!;
    outRating[j] = rating[src]!;
  }
}

/** Sum of squared errors of biased MF on rows (no update). */
export function biasedMfSse(
  user: Uint32Array,
  item: Uint32Array,
  rating: Float32Array,
  state: BiasedMfState,
): number {
  const k = state.factors;
  let sse = 0;
  for (let j = 0; j < rating.length; j++) {
    const u = user[j]!;
    const i = item[j]!;
    let dot = 0;
    for (let f = 0; f < k; f++) dot += state.userFactors[u * k + f]! * state.itemFactors[i * k + f]!;
    const err = rating[j]! - (state.mean + state.userBias[u]! + state.itemBias[i]! + dot);
    sse += err * err;
  }
  return sse;
}
