/**
 * Int8-per-row quantized matrices: every row stores int8 values plus one float32 scale, so that
 * row[i][j] ~= values[i * dim + j] * scales[i]. A quarter of float32's bytes (what lets a 100k x 64
 * catalog sit comfortably inside a Worker's 128 MB) with a relative error per row of at most
 * 1/254 of the row's largest magnitude. Shared by the exporter (quantize) and serving (score).
 */

import { quantizeInt8Rows } from '../artifacts/codecs.ts';

/** A row-major int8 matrix with one scale per row. */
export interface Int8RowMatrix {
  rows: number;
  cols: number;
  /** rows * cols values in [-127, 127] (-128 is never produced, so the range is symmetric). */
  values: Int8Array;
  /** One scale per row: value = code * scale. 0 for an all-zero row. */
  scales: Float32Array;
}

/**
 * Quantizes a float32 matrix row by row (symmetric, scale = max|x| / 127).
 * @example quantizeRowsInt8(Float32Array.of(1, -0.5), 2).values // Int8Array [127, -64]
 */
export function quantizeRowsInt8(matrix: Float32Array, dim: number): Int8RowMatrix {
  if (!(dim > 0) || matrix.length % dim !== 0) {
    throw new RangeError(
      `quantizeRowsInt8: matrix length ${matrix.length} is not a multiple of dim ${dim} (dim must be > 0)`,
    );
  }
  const rows = matrix.length / dim;
  // One quantizer for the whole project: the artifact codec's, so that serving a float matrix
  // quantized at load time gives exactly the bytes an int8 artifact file would have held.
  const { values, scales } = quantizeInt8Rows(matrix, rows, dim);
  return { rows, cols: dim, values, scales };
}

/** Row `row` of a quantized matrix as float32 (written into `out`, which is returned). */
export function dequantizeRowInt8(
  matrix: Int8RowMatrix,
  row: number,
  out: Float32Array = new Float32Array(matrix.cols),
): Float32Array {
  const { cols: dim, values } = matrix;
  const scale = matrix.scales[row]!;
  const base = row * dim;
  for (let j = 0; j < dim; j++) out[j] = values[base + j]! * scale;
  return out;
}

/** The whole matrix as float32 (for building neighbour lists or tests; not on the request path). */
export function dequantizeInt8(matrix: Int8RowMatrix): Float32Array {
  const out = new Float32Array(matrix.rows * matrix.cols);
  for (let i = 0; i < matrix.rows; i++)
    dequantizeRowInt8(matrix, i, out.subarray(i * matrix.cols, (i + 1) * matrix.cols));
  return out;
}

/** Dot product of quantized row `row` with a float vector: scale * sum(code * v). */
export function dotInt8(matrix: Int8RowMatrix, row: number, vector: ArrayLike<number>): number {
  const { cols: dim, values } = matrix;
  const base = row * dim;
  let sum = 0;
  for (let j = 0; j < dim; j++) sum += values[base + j]! * vector[j]!;
  return sum * matrix.scales[row]!;
}

/**
 * scores[i] = row_i . vector for every row: the retrieval kernel of serving. The inner loop is
 * unrolled by 4 with independent accumulators, which V8 turns into fewer bound checks and more
 * instruction-level parallelism (measured by bench/latency.ts); the scale is applied once per row.
 * `vector` should be a Float32Array/Float64Array of length dim.
 */
export function matVecInt8(
  matrix: Int8RowMatrix,
  vector: Float32Array | Float64Array,
  scores: Float32Array = new Float32Array(matrix.rows),
): Float32Array {
  const { rows, cols: dim, values, scales } = matrix;
  if (vector.length < dim) throw new RangeError(`matVecInt8: vector length ${vector.length} < dim ${dim}`);
  if (scores.length < rows) throw new RangeError(`matVecInt8: scores length ${scores.length} < rows ${rows}`);
  const tail = dim & 3;
  const body = dim - tail;
  for (let i = 0, base = 0; i < rows; i++, base += dim) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = 0;
    for (; j < body; j += 4) {
      s0 += values[base + j]! * vector[j]!;
      s1 += values[base + j + 1]! * vector[j + 1]!;
      s2 += values[base + j + 2]! * vector[j + 2]!;
      s3 += values[base + j + 3]! * vector[j + 3]!;
    }
    for (; j < dim; j++) s0 += values[base + j]! * vector[j]!;
    scores[i] = (s0 + s1 + s2 + s3) * scales[i]!;
  }
  return scores;
}

/** Scores only the listed rows: out[n] = row_{rowsToScore[n]} . vector. */
export function gatherDotInt8(
  matrix: Int8RowMatrix,
  rowsToScore: ArrayLike<number>,
  vector: ArrayLike<number>,
  out: Float32Array = new Float32Array(rowsToScore.length),
): Float32Array {
  for (let n = 0; n < rowsToScore.length; n++) out[n] = dotInt8(matrix, rowsToScore[n]!, vector);
  return out;
}

/** Cosine similarity of two quantized rows (0 when either is all zero). Scales cancel out. */
export function cosineInt8(matrix: Int8RowMatrix, a: number, b: number): number {
  const { cols: dim, values } = matrix;
  const ba = a * dim;
  const bb = b * dim;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let j = 0; j < dim; j++) {
    const x = values[ba + j]!;
    const y = values[bb + j]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
