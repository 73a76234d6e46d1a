/**
 * 2-D maps of embeddings for reports: PCA (exact, via the covariance eigen-decomposition) and
 * t-SNE (van der Maaten & Hinton 2008, exact O(n^2) gradient: fine for a few thousand points;
 * larger inputs are subsampled deterministically). Typed arrays only.
 */
import { ReelrankError } from '../../shared/errors.ts';
import { createRng, shuffleInPlace } from '../../shared/random.ts';
import { symmetricEigen } from '../content/svd.ts';

/**
 * Project rows onto their top `components` principal axes (centred). Returns [rows, components].
 * Axis signs are fixed (largest-magnitude loading positive) so the output is deterministic.
 * @example pca(posterEmbeddings, 1663, 256, 2)
 */
export function pca(x: Float32Array, rows: number, dim: number, components = 2): Float64Array {
  if (x.length !== rows * dim)
    throw new ReelrankError('bad_input', `pca: ${x.length} values is not ${rows} rows x ${dim}`);
  if (!(components >= 1 && components <= dim))
    throw new ReelrankError('bad_input', `pca: components must be in 1..${dim}, got ${components}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < rows; i++) for (let j = 0; j < dim; j++) mean[j] = mean[j]! + x[i * dim + j]! / rows;
  const cov = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < dim; j++) centred[j] = x[i * dim + j]! - mean[j]!;
    for (let a = 0; a < dim; a++) {
      const ca = centred[a]!;
      if (ca === 0) continue;
      for (let b = a; b < dim; b++) cov[a * dim + b] = cov[a * dim + b]! + ca * centred[b]!;
    }
  }
  for (let a = 0; a < dim; a++) for (let b = 0; b < a; b++) cov[a * dim + b] = cov[b * dim + a]!;
  const { vectors } = symmetricEigen(cov, dim);
  for (let c = 0; c < components; c++) {
    let arg = 0;
    for (let a = 1; a < dim; a++)
      if (Math.abs(vectors[a * dim + c]!) > Math.abs(vectors[arg * dim + c]!) + 1e-12) arg = a;
    if (vectors[arg * dim + c]! < 0)
      for (let a = 0; a < dim; a++) vectors[a * dim + c] = -vectors[a * dim + c]!;
  }
  const out = new Float64Array(rows * components);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < components; c++) {
      let s = 0;
      for (let a = 0; a < dim; a++) s += (x[i * dim + a]! - mean[a]!) * vectors[a * dim + c]!;
      out[i * components + c] = s;
    }
  }
  return out;
}

export interface TsneOptions {
  perplexity?: number;
  iterations?: number;
  /** Points above this are subsampled (default 3000): the exact gradient is O(n^2) per iteration. */
  maxPoints?: number;
  /** Reduce inputs to this many PCA dimensions first (default 50, as usual for t-SNE). */
  pcaDims?: number;
  seed?: number;
}

/** A 2-D map and which input rows it shows (all of them unless subsampled). */
export interface Map2d {
  /** [rows.length, 2] */
  points: Float64Array;
  rows: Uint32Array;
}

/** Row-wise Gaussian affinities with the bandwidth found by bisection to match the perplexity. */
function affinities(distances: Float64Array, n: number, perplexity: number): Float64Array {
  const p = new Float64Array(n * n);
  const target = Math.log(perplexity);
  for (let i = 0; i < n; i++) {
    let beta = 1;
    let lo = 0;
    let hi = Number.POSITIVE_INFINITY;
    for (let step = 0; step < 64; step++) {
      let sum = 0;
      let weighted = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const d = distances[i * n + j]!;
        const v = Math.exp(-beta * d);
        p[i * n + j] = v;
        sum += v;
        weighted += d * v;
      }
      const entropy = sum > 0 ? Math.log(sum) + (beta * weighted) / sum : 0;
      if (Math.abs(entropy - target) < 1e-5) break;
      if (entropy > target) {
        lo = beta;
        beta = hi === Number.POSITIVE_INFINITY ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = (beta + lo) / 2;
      }
    }
    let sum = 0;
    for (let j = 0; j < n; j++) sum += p[i * n + j]!;
    if (sum > 0) for (let j = 0; j < n; j++) p[i * n + j] = p[i * n + j]! / sum;
  }
  // Symmetrise: P = (P + P^T) / 2n
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = Math.max((p[i * n + j]! + p[j * n + i]!) / (2 * n), 1e-12);
      p[i * n + j] = v;
      p[j * n + i] = v;
    }
  }
  return p;
}

/**
 * t-SNE to 2-D. Deterministic for a seed. Rows that are all zero (e.g. no poster) should be
 * removed by the caller.
 * @example tsne(textEmbeddings, 9742, 128, { maxPoints: 2000 })
 */
export function tsne(x: Float32Array, rows: number, dim: number, options: TsneOptions = {}): Map2d {
  const { perplexity = 30, iterations = 500, maxPoints = 3000, pcaDims = 50, seed = 1 } = options;
  const rng = createRng(seed);
  let chosen = Uint32Array.from({ length: rows }, (_, i) => i);
  if (rows > maxPoints) chosen = shuffleInPlace(chosen, rng).subarray(0, maxPoints).sort();
  const n = chosen.length;
  if (n < 4) throw new ReelrankError('bad_input', `tsne: needs at least 4 points, got ${n}`);
  const sub = new Float32Array(n * dim);
  chosen.forEach((r, i) => {
    sub.set(x.subarray(r * dim, (r + 1) * dim), i * dim);
  });
  const reducedDim = Math.min(pcaDims, dim);
  const reduced = reducedDim < dim ? pca(sub, n, dim, reducedDim) : Float64Array.from(sub);
  const distances = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let d = 0;
      for (let t = 0; t < reducedDim; t++) {
        const diff = reduced[i * reducedDim + t]! - reduced[j * reducedDim + t]!;
        d += diff * diff;
      }
      distances[i * n + j] = d;
      distances[j * n + i] = d;
    }
  }
  const p = affinities(distances, n, Math.min(perplexity, (n - 1) / 3));
  const y = Float64Array.from({ length: n * 2 }, () => rng.normal() * 1e-4);
  const update = new Float64Array(n * 2);
  const gains = new Float64Array(n * 2).fill(1);
  const q = new Float64Array(n * 2);
  const grad = new Float64Array(n * 2);
  const learningRate = Math.max(n / 12, 50);
  for (let it = 0; it < iterations; it++) {
    const exaggeration = it < 100 ? 12 : 1;
    const momentum = it < 250 ? 0.5 : 0.8;
    tsneGradient(p, y, n, exaggeration, q, grad);
    for (let k = 0; k < n * 2; k++) {
      const same = Math.sign(grad[k]!) === Math.sign(update[k]!);
      gains[k] = Math.max(same ? gains[k]! * 0.8 : gains[k]! + 0.2, 0.01);
      update[k] = momentum * update[k]! - learningRate * gains[k]! * grad[k]!;
      y[k] = y[k]! + update[k]!;
    }
  }
  return { points: y, rows: chosen };
}

/**
 * Exact t-SNE gradient: dC/dy_i = 4 sum_j (e p_ij - q_ij) (y_i - y_j) / (1 + |y_i - y_j|^2), in
 * one pass over the pairs i < j: with v = 1 / (1 + |y_i - y_j|²) and q_ij = v / Σv it is
 * 4 (Σ_j e p_ij v (y_i - y_j) - Σ_j v² (y_i - y_j) / Σv), both sums symmetric in the pair.
 * `num` [n, 2] holds the second sums.
 */
export function tsneGradient(
  p: Float64Array,
  y: Float64Array,
  n: number,
  exaggeration: number,
  num: Float64Array,
  grad: Float64Array,
): void {
  let sumQ = 0;
  grad.fill(0);
  num.fill(0, 0, n * 2);
  for (let i = 0; i < n; i++) {
    const yix = y[i * 2]!;
    const yiy = y[i * 2 + 1]!;
    const row = i * n;
    let ax = 0;
    let ay = 0;
    let bx = 0;
    let by = 0;
    for (let j = i + 1; j < n; j++) {
      const dx = yix - y[j * 2]!;
      const dy = yiy - y[j * 2 + 1]!;
      const v = 1 / (1 + dx * dx + dy * dy);
      sumQ += 2 * v;
      const attract = exaggeration * p[row + j]! * v;
      const repel = v * v;
      ax += attract * dx;
      ay += attract * dy;
      bx += repel * dx;
      by += repel * dy;
      grad[j * 2] = grad[j * 2]! - attract * dx;
      grad[j * 2 + 1] = grad[j * 2 + 1]! - attract * dy;
      num[j * 2] = num[j * 2]! - repel * dx;
      num[j * 2 + 1] = num[j * 2 + 1]! - repel * dy;
    }
    grad[i * 2] = grad[i * 2]! + ax;
    grad[i * 2 + 1] = grad[i * 2 + 1]! + ay;
    num[i * 2] = num[i * 2]! + bx;
    num[i * 2 + 1] = num[i * 2 + 1]! + by;
  }
  for (let k = 0; k < n * 2; k++) grad[k] = 4 * (grad[k]! - num[k]! / sumQ);
}
