/**
 * Fold-in: a user vector for an anonymous session, computed on the fly from a handful of ratings
 * against the fixed item factors, without retraining. Ridge regression,
 *   (VᵀV + λI) u = Vᵀ (r − μ − b_i),
 * solved with a small dense Cholesky factorisation (k x k, k = number of factors): the system is
 * symmetric positive definite for λ > 0, so Cholesky is stable and needs no pivoting.
 */

/**
 * In-place Cholesky factorisation of a symmetric positive-definite k x k matrix (row-major):
 * on return the lower triangle holds L with A = L Lᵀ. Returns false if A is not positive definite.
 */
export function choleskyInPlace(a: Float64Array, k: number): boolean {
  for (let j = 0; j < k; j++) {
    let diag = a[j * k + j]!;
    for (let p = 0; p < j; p++) diag -= a[j * k + p]! * a[j * k + p]!;
    if (!(diag > 0)) return false;
    const ljj = Math.sqrt(diag);
    a[j * k + j] = ljj;
    for (let i = j + 1; i < k; i++) {
      let s = a[i * k + j]!;
      for (let p = 0; p < j; p++) s -= a[i * k + p]! * a[j * k + p]!;
      a[i * k + j] = s / ljj;
    }
  }
  return true;
}

/** Solves L Lᵀ x = b given the factor from `choleskyInPlace`; b is overwritten with x. */
export function choleskySolveInPlace(l: Float64Array, k: number, b: Float64Array): Float64Array {
  // Forward: L y = b.
  for (let i = 0; i < k; i++) {
    let s = b[i]!;
    for (let p = 0; p < i; p++) s -= l[i * k + p]! * b[p]!;
    b[i] = s / l[i * k + i]!;
  }
  // Backward: Lᵀ x = y.
  for (let i = k - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let p = i + 1; p < k; p++) s -= l[p * k + i]! * b[p]!;
    b[i] = s / l[i * k + i]!;
  }
  return b;
}

export interface FoldInInput {
  /** Factor rows of the rated items, row-major [n, k] (dequantized). */
  ratedFactors: Float32Array | Float64Array;
  /** Number of factors. */
  k: number;
  /** Ratings of the n items, on the dataset's scale. */
  ratings: ArrayLike<number>;
  /** Item bias of each of the n items. */
  itemBias: ArrayLike<number>;
  /** Global mean rating μ. */
  globalMean: number;
  /** Ridge strength λ (> 0). */
  lambda: number;
}

/**
 * The session's user vector u (length k) solving (VᵀV + λI) u = Vᵀ(r − μ − b_i).
 * With no ratings it returns the zero vector (the prior).
 * @example foldIn({ ratedFactors: Float32Array.of(1, 0), k: 2, ratings: [5], itemBias: [0], globalMean: 3, lambda: 1 }) // [1, 0]
 */
export function foldIn({
  ratedFactors,
  k,
  ratings,
  itemBias,
  globalMean,
  lambda,
}: FoldInInput): Float64Array {
  const n = ratings.length;
  if (!(lambda > 0)) throw new RangeError(`foldIn: lambda must be > 0, got ${lambda}`);
  if (ratedFactors.length !== n * k) {
    throw new RangeError(
      `foldIn: ratedFactors has ${ratedFactors.length} values, expected ${n} ratings x ${k} factors = ${n * k}`,
    );
  }
  const gram = new Float64Array(k * k);
  const rhs = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    const base = r * k;
    const residual = ratings[r]! - globalMean - itemBias[r]!;
    // Only the lower triangle is needed by Cholesky; fill it and mirror afterwards for clarity.
    for (let i = 0; i < k; i++) {
      const vi = ratedFactors[base + i]!;
      rhs[i] = rhs[i]! + vi * residual;
      const row = i * k;
      for (let j = 0; j <= i; j++) gram[row + j] = gram[row + j]! + vi * ratedFactors[base + j]!;
    }
  }
  for (let i = 0; i < k; i++) gram[i * k + i] = gram[i * k + i]! + lambda;
  if (!choleskyInPlace(gram, k)) {
    // Cannot happen for lambda > 0 and finite inputs; a NaN in the factors would land here.
    throw new RangeError(
      'foldIn: the regularised Gram matrix is not positive definite (non-finite factors or ratings?)',
    );
  }
  return choleskySolveInPlace(gram, k, rhs);
}
