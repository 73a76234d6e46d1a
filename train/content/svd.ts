/**
 * Truncated SVD of a sparse matrix by randomized range finding with power iterations (Halko,
 * Martinsson & Tropp 2011, algorithms 4.4 + 5.1), in float64 typed arrays. Used for LSA: the
 * right-singular vectors of the tf-idf matrix are the term -> concept projection.
 */
import { ReelrankError } from '../../shared/errors.ts';
import { createRng } from '../../shared/random.ts';

/** Compressed sparse rows: row r holds indices[indptr[r]..indptr[r+1]) with their values. */
export interface CsrMatrix {
  rows: number;
  cols: number;
  indptr: Uint32Array;
  indices: Uint32Array;
  values: Float64Array;
}

export interface TruncatedSvd {
  /** Descending singular values [k]. */
  singularValues: Float64Array;
  /** Right-singular vectors, row-major [cols, k] (column c of V in row-major layout). */
  rightVectors: Float64Array;
  k: number;
}

export interface SvdOptions {
  /** Extra random directions beyond k (default 10). */
  oversample?: number;
  /** Power iterations; more sharpens slowly decaying spectra such as tf-idf's (default 4). */
  powerIterations?: number;
  seed?: number;
}

/** out[n, l] = X[n, m] . M[m, l] (M, out column-major: column j at j * rows). */
export function csrTimesDense(x: CsrMatrix, m: Float64Array, l: number, out: Float64Array): Float64Array {
  out.fill(0);
  for (let r = 0; r < x.rows; r++) {
    for (let p = x.indptr[r]!; p < x.indptr[r + 1]!; p++) {
      const c = x.indices[p]!;
      const v = x.values[p]!;
      for (let j = 0; j < l; j++) out[j * x.rows + r] = out[j * x.rows + r]! + v * m[j * x.cols + c]!;
    }
  }
  return out;
}

/** out[m, l] = X^T[m, n] . M[n, l] (column-major like csrTimesDense). */
export function csrTransposeTimesDense(
  x: CsrMatrix,
  m: Float64Array,
  l: number,
  out: Float64Array,
): Float64Array {
  out.fill(0);
  for (let r = 0; r < x.rows; r++) {
    for (let p = x.indptr[r]!; p < x.indptr[r + 1]!; p++) {
      const c = x.indices[p]!;
      const v = x.values[p]!;
      for (let j = 0; j < l; j++) out[j * x.cols + c] = out[j * x.cols + c]! + v * m[j * x.rows + r]!;
    }
  }
  return out;
}

/**
 * Orthonormalise the l columns (column-major, each `length` long) in place by modified
 * Gram-Schmidt applied twice ("twice is enough", Giraud et al.), which keeps orthogonality at
 * machine precision. A column that is (numerically) in the span of the previous ones becomes 0.
 */
export function orthonormalizeColumns(a: Float64Array, length: number, l: number): void {
  // Four partial sums per dot product (independent add chains), and each projection's update
  // fused with the next dot product: one pass over column j per previous column.
  const tail = length - (length % 4);
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < l; j++) {
      const cj = j * length;
      let dot = 0;
      if (j > 0) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let t = 0;
        for (; t < tail; t += 4) {
          s0 += a[t]! * a[cj + t]!;
          s1 += a[t + 1]! * a[cj + t + 1]!;
          s2 += a[t + 2]! * a[cj + t + 2]!;
          s3 += a[t + 3]! * a[cj + t + 3]!;
        }
        for (; t < length; t++) s0 += a[t]! * a[cj + t]!;
        dot = s0 + s1 + s2 + s3;
      }
      for (let i = 0; i < j; i++) {
        const ci = i * length;
        // a_j -= dot·a_i, and the dot product with the next column (or the norm) on the way.
        const cn = i + 1 < j ? ci + length : cj;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let t = 0;
        for (; t < tail; t += 4) {
          const v0 = a[cj + t]! - dot * a[ci + t]!;
          const v1 = a[cj + t + 1]! - dot * a[ci + t + 1]!;
          const v2 = a[cj + t + 2]! - dot * a[ci + t + 2]!;
          const v3 = a[cj + t + 3]! - dot * a[ci + t + 3]!;
          a[cj + t] = v0;
          a[cj + t + 1] = v1;
          a[cj + t + 2] = v2;
          a[cj + t + 3] = v3;
          s0 += a[cn + t]! * v0;
          s1 += a[cn + t + 1]! * v1;
          s2 += a[cn + t + 2]! * v2;
          s3 += a[cn + t + 3]! * v3;
        }
        for (; t < length; t++) {
          const v = a[cj + t]! - dot * a[ci + t]!;
          a[cj + t] = v;
          s0 += a[cn + t]! * v;
        }
        dot = s0 + s1 + s2 + s3;
      }
      // `dot` is now |a_j|² (for j = 0, computed here).
      let norm = dot;
      if (j === 0) {
        norm = 0;
        for (let t = 0; t < length; t++) norm += a[cj + t]! * a[cj + t]!;
      }
      norm = Math.sqrt(norm);
      const scale = norm > 1e-12 ? 1 / norm : 0;
      for (let t = 0; t < length; t++) a[cj + t] = a[cj + t]! * scale;
    }
  }
}

/**
 * Eigen-decomposition of a symmetric n x n matrix (row-major, destroyed) by cyclic Jacobi
 * rotations. Returns eigenvalues descending and eigenvectors as COLUMNS of a row-major n x n.
 */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += a[i]! * a[i]!;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! * a[p * n + q]!;
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y]! - a[x * n + x]! || x - y);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = a[src * n + src]!;
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src]!;
  });
  return { values, vectors };
}

/**
 * Top-k singular values and right-singular vectors of a sparse matrix. Deterministic for a seed;
 * each vector's sign is fixed so that its largest-magnitude entry (first one on ties) is positive.
 * @example truncatedSvd(tfidf, 128).rightVectors // [cols, 128]
 */
export function truncatedSvd(
  x: CsrMatrix,
  k: number,
  { oversample = 10, powerIterations = 4, seed = 7 }: SvdOptions = {},
): TruncatedSvd {
  const maxRank = Math.min(x.rows, x.cols);
  if (!Number.isInteger(k) || k < 1 || k > maxRank) {
    throw new ReelrankError(
      'bad_input',
      `truncatedSvd: k=${k} must be an integer in 1..${maxRank} (min of ${x.rows} rows, ${x.cols} columns)`,
    );
  }
  const l = Math.min(k + oversample, maxRank);
  const rng = createRng(seed);
  const omega = new Float64Array(x.cols * l);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();
  const q = csrTimesDense(x, omega, l, new Float64Array(x.rows * l));
  orthonormalizeColumns(q, x.rows, l);
  const z = new Float64Array(x.cols * l);
  for (let it = 0; it < powerIterations; it++) {
    csrTransposeTimesDense(x, q, l, z);
    orthonormalizeColumns(z, x.cols, l);
    csrTimesDense(x, z, l, q);
    orthonormalizeColumns(q, x.rows, l);
  }
  // B = Q^T X, kept as its transpose Z = X^T Q [cols, l]. B B^T = Z^T Z (l x l) is small.
  csrTransposeTimesDense(x, q, l, z);
  const gram = new Float64Array(l * l);
  for (let i = 0; i < l; i++) {
    for (let j = i; j < l; j++) {
      let dot = 0;
      for (let t = 0; t < x.cols; t++) dot += z[i * x.cols + t]! * z[j * x.cols + t]!;
      gram[i * l + j] = dot;
      gram[j * l + i] = dot;
    }
  }
  const { values, vectors } = symmetricEigen(gram, l);
  const singularValues = new Float64Array(k);
  const rightVectors = new Float64Array(x.cols * k);
  const acc = new Float64Array(x.cols);
  for (let c = 0; c < k; c++) {
    const sigma = Math.sqrt(Math.max(0, values[c]!));
    singularValues[c] = sigma;
    if (sigma < 1e-12) continue; // rank-deficient: leave a zero direction rather than dividing by ~0
    // v_c = Z w_c / sigma_c
    let maxAbs = 0;
    let sign = 1;
    // Z w_c accumulated column by column (the same order of additions per entry as a row loop).
    acc.fill(0);
    for (let i = 0; i < l; i++) {
      const w = vectors[i * l + c]!;
      const zi = i * x.cols;
      for (let t = 0; t < x.cols; t++) acc[t] = acc[t]! + z[zi + t]! * w;
    }
    for (let t = 0; t < x.cols; t++) {
      const s = acc[t]! / sigma;
      rightVectors[t * k + c] = s;
      if (Math.abs(s) > maxAbs + 1e-12) {
        maxAbs = Math.abs(s);
        sign = s < 0 ? -1 : 1;
      }
    }
    if (sign < 0) for (let t = 0; t < x.cols; t++) rightVectors[t * k + c] = -rightVectors[t * k + c]!;
  }
  return { singularValues, rightVectors, k };
}
