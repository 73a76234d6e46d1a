import { createRng, shuffleInPlace } from '../../shared/random.ts';

/**
 * SVD++ kernels over shared typed arrays, run by the training thread pool (train/parallel).
 *
 * One epoch is stratified (Gemulla et al. 2011, DSGD): users and items are cut into B blocks each
 * (B = threads); in stratum s, job t trains user block t against item block (t + s) mod B, so no
 * two jobs ever write the same user row (p_u, b_u) or item row (q_i, b_i, y_i), and the result
 * depends only on the seed and B.
 *
 * A user's ratings are processed together, so the implicit term z_u = |N(u)|^-½ Σ_{j∈N(u)} y_j
 * costs O(k) per rating: it is kept as B partial sums, one per item block; the partial of the
 * block being trained is recomputed from the live y_j (owned by this job), the others are the
 * values of the user's last visit to those blocks (at most one epoch old). The y-gradient of a
 * visit, Σ err·|N(u)|^-½·q_i, is kept per stratum; at each visit the user's y_j of that block
 * move by the sum of the last B strata's gradients, so every gradient reaches every y_j exactly
 * once. With B = 1 this is exactly Koren's per-user SVD++ step.
 */
export interface SvdppArrays {
  k: number;
  /** By-user CSR with item indexes ascending within a user. */
  offsets: Uint32Array;
  items: Uint32Array;
  ratings: Float32Array;
  /** [users, blocks + 1]: position of the user's first entry in each item block. */
  segments: Uint32Array;
  blocks: number;
  P: Float32Array;
  Q: Float32Array;
  Y: Float32Array;
  bu: Float32Array;
  bi: Float32Array;
  /** Partial implicit sums per item block, [users, blocks, k]. */
  implicitParts: Float32Array;
  /** y-gradient of the user's visit in each stratum of the epoch, [users, blocks, k]. */
  gradients: Float32Array;
}

export interface SvdppBlockJob extends SvdppArrays {
  mean: number;
  userFrom: number;
  userTo: number;
  itemBlock: number;
  /** Stratum within the epoch (the gradient slot this visit writes). */
  stratum: number;
  seed: number;
  lr: number;
  reg: number;
  lrY: number;
  regY: number;
  lrBias: number;
  regBias: number;
}

/** One job of a stratum: users [userFrom, userTo) × item block `itemBlock`; returns the SSE. */
export function svdppBlock(job: SvdppBlockJob): number {
  const { k, offsets, items, ratings, segments, blocks, P, Q, Y, bu, bi, implicitParts, gradients } = job;
  const { mean, lr, reg, lrY, regY, lrBias, regBias, itemBlock, stratum } = job;
  const rng = createRng(job.seed);
  const users = Uint32Array.from({ length: job.userTo - job.userFrom }, (_, t) => job.userFrom + t);
  shuffleInPlace(users, rng);
  let longest = 0;
  for (const u of users) {
    const s = u * (blocks + 1) + itemBlock;
    longest = Math.max(longest, segments[s + 1]! - segments[s]!);
  }
  const orderBuffer = new Uint32Array(longest);
  const z = new Float64Array(k);
  const gradient = new Float64Array(k);
  const stride = blocks * k;
  let sse = 0;
  for (const u of users) {
    const s = u * (blocks + 1) + itemBlock;
    const start = segments[s]!;
    const end = segments[s + 1]!;
    const slot = u * stride + stratum * k;
    if (end === start) {
      // No rating in this block: this stratum adds no gradient.
      gradients.fill(0, slot, slot + k);
      continue;
    }
    const norm = 1 / Math.sqrt(offsets[u + 1]! - offsets[u]!);
    // Fresh partial sum of this block (its y_j belong to this job), then the whole z_u.
    const part = u * stride + itemBlock * k;
    z.fill(0);
    for (let p = start; p < end; p++) {
      const yj = items[p]! * k;
      for (let f = 0; f < k; f++) z[f] = z[f]! + Y[yj + f]!;
    }
    for (let f = 0; f < k; f++) implicitParts[part + f] = z[f]! * norm;
    z.fill(0);
    for (let c = 0; c < blocks; c++) {
      const at = u * stride + c * k;
      for (let f = 0; f < k; f++) z[f] = z[f]! + implicitParts[at + f]!;
    }
    const order = orderBuffer.subarray(0, end - start);
    for (let t = 0; t < order.length; t++) order[t] = start + t;
    shuffleInPlace(order, rng);
    gradient.fill(0);
    const pu = u * k;
    for (let t = 0; t < order.length; t++) {
      const p = order[t]!;
      const i = items[p]!;
      const qi = i * k;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += Q[qi + f]! * (P[pu + f]! + z[f]!);
      const err = ratings[p]! - (mean + bu[u]! + bi[i]! + dot);
      sse += err * err;
      bu[u] = bu[u]! + lrBias * (err - regBias * bu[u]!);
      bi[i] = bi[i]! + lrBias * (err - regBias * bi[i]!);
      const en = err * norm;
      for (let f = 0; f < k; f++) {
        const q = Q[qi + f]!;
        const pf = P[pu + f]!;
        gradient[f] = gradient[f]! + en * q;
        Q[qi + f] = q + lr * (err * (pf + z[f]!) - reg * q);
        P[pu + f] = pf + lr * (err * q - reg * pf);
      }
    }
    for (let f = 0; f < k; f++) gradients[slot + f] = gradient[f]!;
    // The last `blocks` strata's gradients, applied to this block's y_j.
    gradient.fill(0);
    for (let c = 0; c < blocks; c++) {
      const at = u * stride + c * k;
      for (let f = 0; f < k; f++) gradient[f] = gradient[f]! + gradients[at + f]!;
    }
    for (let p = start; p < end; p++) {
      const yj = items[p]! * k;
      for (let f = 0; f < k; f++) {
        const y = Y[yj + f]!;
        Y[yj + f] = y + lrY * (gradient[f]! - regY * y);
      }
    }
  }
  return sse;
}

export interface SvdppImplicitJob {
  k: number;
  offsets: Uint32Array;
  items: Uint32Array;
  segments: Uint32Array;
  blocks: number;
  P: Float32Array;
  Y: Float32Array;
  implicitParts: Float32Array;
  /** When set: effective[u] = P[u] + z_u (what predictions and the export use). */
  effective: Float32Array | null;
  userFrom: number;
  userTo: number;
}

/** Every partial implicit sum of users [userFrom, userTo) from the current Y (and their effective vectors). */
export function svdppImplicit(job: SvdppImplicitJob): number {
  const { k, offsets, items, segments, blocks, P, Y, implicitParts, effective } = job;
  const z = new Float64Array(k);
  const total = new Float64Array(k);
  for (let u = job.userFrom; u < job.userTo; u++) {
    const count = offsets[u + 1]! - offsets[u]!;
    const norm = count > 0 ? 1 / Math.sqrt(count) : 0;
    total.fill(0);
    for (let c = 0; c < blocks; c++) {
      z.fill(0);
      for (let p = segments[u * (blocks + 1) + c]!; p < segments[u * (blocks + 1) + c + 1]!; p++) {
        const yj = items[p]! * k;
        for (let f = 0; f < k; f++) z[f] = z[f]! + Y[yj + f]!;
      }
      const at = (u * blocks + c) * k;
      for (let f = 0; f < k; f++) {
        implicitParts[at + f] = z[f]! * norm;
        total[f] = total[f]! + implicitParts[at + f]!;
      }
    }
    if (effective) for (let f = 0; f < k; f++) effective[u * k + f] = P[u * k + f]! + total[f]!;
  }
  return 0;
}
