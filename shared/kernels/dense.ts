/**
 * Dense float32 row kernels over row-major matrices (rows x dim), shared by training and serving.
 */

/** Dot product of row `row` of `matrix` with `vector`. */
export function dotRow(matrix: Float32Array, dim: number, row: number, vector: ArrayLike<number>): number {
  let sum = 0;
  const base = row * dim;
  for (let j = 0; j < dim; j++) sum += matrix[base + j]! * vector[j]!;
  return sum;
}

/** scores[i] = matrix[i] . vector for every row. */
export function matVec(
  matrix: Float32Array,
  dim: number,
  vector: ArrayLike<number>,
  scores: Float32Array,
): Float32Array {
  const rows = scores.length;
  for (let i = 0, base = 0; i < rows; i++, base += dim) {
    let sum = 0;
    for (let j = 0; j < dim; j++) sum += matrix[base + j]! * vector[j]!;
    scores[i] = sum;
  }
  return scores;
}

/** Euclidean norm of every row (0 for an all-zero row). */
export function rowNorms(matrix: Float32Array, dim: number): Float32Array {
  const rows = Math.floor(matrix.length / dim);
  const norms = new Float32Array(rows);
  for (let i = 0, base = 0; i < rows; i++, base += dim) {
    let sum = 0;
    for (let j = 0; j < dim; j++) sum += matrix[base + j]! * matrix[base + j]!;
    norms[i] = Math.sqrt(sum);
  }
  return norms;
}

/** A copy of `matrix` with every non-zero row scaled to unit length (cosine similarity = dot). */
export function normalizeRows(matrix: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(matrix.length);
  const norms = rowNorms(matrix, dim);
  for (let i = 0, base = 0; i < norms.length; i++, base += dim) {
    const n = norms[i]!;
    if (n === 0) continue;
    for (let j = 0; j < dim; j++) out[base + j] = matrix[base + j]! / n;
  }
  return out;
}
