/**
 * Binary codecs of the artifact files. Every file is a raw little-endian array (no header): its
 * dtype and shape live in the manifest, so a reader can take a typed-array view of the fetched
 * bytes without copying. Layouts (all offsets in bytes from the start of the file):
 *
 *   matrix float32  [rows*cols float32]                                    4*rows*cols bytes
 *   matrix float16  [rows*cols binary16]                                   2*rows*cols bytes
 *   matrix int8     [rows float32 scales][rows*cols int8]                  4*rows + rows*cols bytes
 *                   row r, column c = int8[r*cols + c] * scale[r]  (symmetric: scale = maxabs/127;
 *                   scales come first so both blocks are naturally aligned)
 *                   with scaleDtype 'float16': [rows binary16 scales][rows*cols int8], 2*rows + rows*cols
 *                   bytes (scale rounded UP to a half, so |q| <= 127 still holds); for narrow
 *                   matrices (k < 76) this is what takes int8 past 3.8x smaller than float32
 *   vector          [n float32], [n uint8], [n uint16] or [n uint32]
 *   ids             [n uint32]
 *   neighbors       [rows*k uint32 ids][rows*k float32 | binary16 scores]  row-major, best first;
 *                   a row with fewer than k neighbours is padded with id NO_NEIGHBOR (0xffffffff)
 *                   and score -Infinity
 *   csr             [(rows+1) uint32 offsets][nnz uint32 indexes]        row r = indexes[offsets[r] .. offsets[r+1])
 *   strings         [(n+1) uint32 offsets][UTF-8 text]                     entry i = text[offsets[i] .. offsets[i+1]);
 *                   shape [n, text bytes]; the offsets count UTF-16 code units of the decoded text
 *                   (what String.prototype.slice takes), so the reader decodes the text once and
 *                   slices an entry when it is asked for, never 87k strings up front
 *   json            UTF-8 JSON text
 */
import { ReelrankError } from '../errors.ts';
import { decodeFloat16, encodeFloat16, float16BitsToFloat32, float32ToFloat16Bits } from './float16.ts';

export type MatrixDtype = 'float32' | 'float16' | 'int8';
export type VectorDtype = 'float32' | 'uint8' | 'uint16' | 'uint32';
export type ScoreDtype = 'float32' | 'float16';
/** Element type of the per-row scales of an int8 matrix. */
export type ScaleDtype = 'float32' | 'float16';

export const MATRIX_DTYPES: readonly MatrixDtype[] = Object.freeze(['float32', 'float16', 'int8']);
export const VECTOR_DTYPES: readonly VectorDtype[] = Object.freeze(['float32', 'uint8', 'uint16', 'uint32']);
export const SCORE_DTYPES: readonly ScoreDtype[] = Object.freeze(['float32', 'float16']);
export const SCALE_DTYPES: readonly ScaleDtype[] = Object.freeze(['float32', 'float16']);

/** Padding id of a neighbour row that has fewer than k entries. */
export const NO_NEIGHBOR = 0xffffffff;

export interface Float32Matrix {
  readonly dtype: 'float32';
  readonly rows: number;
  readonly cols: number;
  readonly values: Float32Array;
}
export interface Float16Matrix {
  readonly dtype: 'float16';
  readonly rows: number;
  readonly cols: number;
  /** binary16 bit patterns, row-major. */
  readonly values: Uint16Array;
}
export interface Int8Matrix {
  readonly dtype: 'int8';
  readonly rows: number;
  readonly cols: number;
  /** Quantized values, row-major: value = values[r*cols+c] * scales[r]. */
  readonly values: Int8Array;
  readonly scales: Float32Array;
}
/** A decoded matrix in its stored form (int8 and float16 are NOT expanded: see `matrixToFloat32`). */
export type Matrix = Float32Matrix | Float16Matrix | Int8Matrix;

export interface Neighbors {
  readonly rows: number;
  readonly k: number;
  /** Item indexes, row-major [rows, k]; NO_NEIGHBOR pads short rows. */
  readonly ids: Uint32Array;
  readonly scoreDtype: ScoreDtype;
  /** Scores [rows, k]: float32 values, or binary16 bit patterns when scoreDtype is 'float16'. */
  readonly scores: Float32Array | Uint16Array;
}

export interface Csr {
  readonly rows: number;
  /** rows + 1 offsets into `indexes`; offsets[0] = 0, offsets[rows] = nnz. */
  readonly offsets: Uint32Array;
  readonly indexes: Uint32Array;
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function requireLittleEndianHost(): void {
  // Files are little-endian and views use host order; every Node and Workers host is LE.
  if (!HOST_IS_LITTLE_ENDIAN) {
    throw new ReelrankError(
      'unsupported_platform',
      'Artifact codecs need a little-endian host; this one is big-endian.',
    );
  }
}

type TypedArrayCtor<T> = {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  new (length: number): T;
  readonly BYTES_PER_ELEMENT: number;
};

/**
 * A typed-array view of `length` elements at `offset` in `bytes`: zero-copy when the absolute
 * offset is aligned to the element size, otherwise a copy (e.g. a Node Buffer from the pool).
 */
function viewOf<T>(ctor: TypedArrayCtor<T>, bytes: Uint8Array, offset: number, length: number): T {
  requireLittleEndianHost();
  const start = bytes.byteOffset + offset;
  if (start % ctor.BYTES_PER_ELEMENT === 0) return new ctor(bytes.buffer as ArrayBuffer, start, length);
  const copy = new Uint8Array(length * ctor.BYTES_PER_ELEMENT);
  copy.set(bytes.subarray(offset, offset + copy.length));
  return new ctor(copy.buffer, 0, length);
}

/** The bytes of a typed array (a view, no copy). */
function bytesOf(array: ArrayBufferView): Uint8Array {
  requireLittleEndianHost();
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function checkDim(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new ReelrankError('bad_input', `${what} must be a non-negative integer, got ${value}.`);
  }
}

function checkLength(what: string, actual: number, expected: number, because: string): void {
  if (actual !== expected) {
    throw new ReelrankError(
      'bad_input',
      `${what} has ${actual} elements, expected ${expected} (${because}).`,
    );
  }
}

function checkByteLength(what: string, bytes: Uint8Array, expected: number, because: string): void {
  if (bytes.length !== expected) {
    throw new ReelrankError(
      'artifact_corrupt',
      `${what} has ${bytes.length} bytes, expected ${expected} (${because}).`,
      { expectedBytes: expected, actualBytes: bytes.length },
    );
  }
}

function checkOneOf<T extends string>(
  what: string,
  value: string,
  allowed: readonly T[],
): asserts value is T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ReelrankError(
      'artifact_format',
      `${what} has unknown dtype '${value}'. Supported: ${allowed.map((a) => `'${a}'`).join(', ')}.`,
    );
  }
}

/** Byte size of a stored matrix (`scaleDtype` only matters for int8). */
export function matrixByteLength(
  rows: number,
  cols: number,
  dtype: MatrixDtype,
  scaleDtype: ScaleDtype = 'float32',
): number {
  if (dtype === 'float32') return 4 * rows * cols;
  if (dtype === 'float16') return 2 * rows * cols;
  return (scaleDtype === 'float32' ? 4 : 2) * rows + rows * cols;
}

/** The smallest binary16 value >= x (x >= 0): a float16 scale that never lets |q| exceed 127. */
function float16AtLeast(x: number): number {
  let bits = float32ToFloat16Bits(x);
  if (float16BitsToFloat32(bits) < x) bits++;
  return float16BitsToFloat32(bits);
}

/**
 * Symmetric per-row int8 quantization: scale[r] = max|x[r,:]| / 127, q = round(x / scale),
 * so |x - q*scale| <= scale/2 for every element. An all-zero row gets scale 0.
 */
export function quantizeInt8Rows(
  data: Float32Array,
  rows: number,
  cols: number,
  scaleDtype: ScaleDtype = 'float32',
): { values: Int8Array; scales: Float32Array } {
  const values = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let maxAbs = 0;
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(data[base + c]!);
      if (a > maxAbs) maxAbs = a;
    }
    if (!Number.isFinite(maxAbs)) {
      throw new ReelrankError(
        'bad_input',
        `Matrix row ${r} holds a non-finite value; int8 quantization needs finite values.`,
      );
    }
    // Round the scale to its stored type first, so the reader multiplies by exactly the scale we
    // divided by (a float16 scale is rounded up, keeping every |q| <= 127).
    const scale = scaleDtype === 'float32' ? Math.fround(maxAbs / 127) : float16AtLeast(maxAbs / 127);
    scales[r] = scale;
    if (scale === 0) continue;
    for (let c = 0; c < cols; c++) {
      const x = data[base + c]! / scale;
      // Round half away from zero so that x and -x quantize symmetrically.
      const q = x < 0 ? -Math.round(-x) : Math.round(x);
      values[base + c] = Math.min(127, Math.max(-127, q));
    }
  }
  return { values, scales };
}

/**
 * Encode a row-major float32 matrix in a stored dtype.
 * @example encodeMatrix(itemFactors, items, k, 'int8') // 4*items + items*k bytes
 */
export function encodeMatrix(
  data: Float32Array,
  rows: number,
  cols: number,
  dtype: MatrixDtype,
  { scaleDtype = 'float32' }: { scaleDtype?: ScaleDtype } = {},
): Uint8Array {
  checkDim('rows', rows);
  checkDim('cols', cols);
  checkLength('matrix data', data.length, rows * cols, `rows ${rows} x cols ${cols}`);
  checkOneOf('matrix', dtype, MATRIX_DTYPES);
  checkOneOf('int8 matrix scales', scaleDtype, SCALE_DTYPES);
  if (dtype === 'float32') return bytesOf(data);
  if (dtype === 'float16') return bytesOf(encodeFloat16(data));
  const { values, scales } = quantizeInt8Rows(data, rows, cols, scaleDtype);
  const out = new Uint8Array(matrixByteLength(rows, cols, 'int8', scaleDtype));
  const scaleBytes = scaleDtype === 'float32' ? bytesOf(scales) : bytesOf(encodeFloat16(scales));
  out.set(scaleBytes, 0);
  out.set(bytesOf(values), scaleBytes.length);
  return out;
}

/**
 * Decode a stored matrix, as views over `bytes` where alignment allows (int8 values always; the
 * float16 scales of an int8 matrix are expanded to a small Float32Array).
 */
export function decodeMatrix(
  bytes: Uint8Array,
  rows: number,
  cols: number,
  dtype: string,
  { scaleDtype = 'float32' }: { scaleDtype?: string } = {},
): Matrix {
  checkOneOf('matrix', dtype, MATRIX_DTYPES);
  checkOneOf('int8 matrix scales', scaleDtype, SCALE_DTYPES);
  checkByteLength(
    `${dtype} matrix [${rows}, ${cols}]`,
    bytes,
    matrixByteLength(rows, cols, dtype, scaleDtype),
    'from its shape',
  );
  if (dtype === 'float32') return { dtype, rows, cols, values: viewOf(Float32Array, bytes, 0, rows * cols) };
  if (dtype === 'float16') return { dtype, rows, cols, values: viewOf(Uint16Array, bytes, 0, rows * cols) };
  const scaleBytes = (scaleDtype === 'float32' ? 4 : 2) * rows;
  const scales =
    scaleDtype === 'float32'
      ? viewOf(Float32Array, bytes, 0, rows)
      : decodeFloat16(viewOf(Uint16Array, bytes, 0, rows));
  return { dtype, rows, cols, scales, values: viewOf(Int8Array, bytes, scaleBytes, rows * cols) };
}

/**
 * A float32 copy of any stored matrix (the float32 values themselves when already float32).
 * Serving kernels should prefer the quantized form; this is for training, evaluation and tests.
 */
export function matrixToFloat32(matrix: Matrix): Float32Array {
  if (matrix.dtype === 'float32') return matrix.values;
  if (matrix.dtype === 'float16') return decodeFloat16(matrix.values);
  return dequantizeInt8Rows(matrix.values, matrix.scales, matrix.rows, matrix.cols);
}

/** Dequantize per-row int8 values: out[r*cols+c] = values[r*cols+c] * scales[r]. */
export function dequantizeInt8Rows(
  values: Int8Array,
  scales: Float32Array,
  rows: number,
  cols: number,
  out: Float32Array = new Float32Array(rows * cols),
): Float32Array {
  for (let r = 0; r < rows; r++) {
    const scale = scales[r]!;
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[base + c] = values[base + c]! * scale;
  }
  return out;
}

/** One row of a matrix as float32 (a view for float32 matrices, a fresh array otherwise). */
export function matrixRow(matrix: Matrix, row: number, out?: Float32Array): Float32Array {
  const { cols } = matrix;
  const start = row * cols;
  if (matrix.dtype === 'float32') {
    const view = matrix.values.subarray(start, start + cols);
    if (out === undefined) return view;
    out.set(view);
    return out;
  }
  const target = out ?? new Float32Array(cols);
  if (matrix.dtype === 'float16') return decodeFloat16(matrix.values.subarray(start, start + cols), target);
  const scale = matrix.scales[row]!;
  for (let c = 0; c < cols; c++) target[c] = matrix.values[start + c]! * scale;
  return target;
}

/** A decoded vector: float32 values or unsigned integers, as stored. */
export type Vector = Float32Array | Uint8Array | Uint16Array | Uint32Array;

/** The stored dtype of a vector's array. */
export function vectorDtypeOf(data: Vector): VectorDtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Uint8Array) return 'uint8';
  return data instanceof Uint16Array ? 'uint16' : 'uint32';
}

const VECTOR_WIDTH: Readonly<Record<VectorDtype, number>> = Object.freeze({
  float32: 4,
  uint8: 1,
  uint16: 2,
  uint32: 4,
});

/** Encode a float32, uint8, uint16 or uint32 vector. */
export function encodeVector(data: Vector): Uint8Array {
  return data instanceof Uint8Array ? data : bytesOf(data);
}

/** Decode a vector of `length` elements. */
export function decodeVector(bytes: Uint8Array, length: number, dtype: string): Vector {
  checkOneOf('vector', dtype, VECTOR_DTYPES);
  checkByteLength(`${dtype} vector [${length}]`, bytes, VECTOR_WIDTH[dtype] * length, 'from its shape');
  if (dtype === 'float32') return viewOf(Float32Array, bytes, 0, length);
  if (dtype === 'uint16') return viewOf(Uint16Array, bytes, 0, length);
  if (dtype === 'uint32') return viewOf(Uint32Array, bytes, 0, length);
  return bytes;
}

/** Encode a uint32 id list. */
export function encodeIds(ids: Uint32Array): Uint8Array {
  return bytesOf(ids);
}

/** Decode a uint32 id list of `length` ids. */
export function decodeIds(bytes: Uint8Array, length: number): Uint32Array {
  checkByteLength(`uint32 id list [${length}]`, bytes, 4 * length, 'from its shape');
  return viewOf(Uint32Array, bytes, 0, length);
}

/** Byte size of a stored neighbour table. */
export function neighborsByteLength(rows: number, k: number, scoreDtype: ScoreDtype): number {
  return rows * k * (4 + (scoreDtype === 'float32' ? 4 : 2));
}

/**
 * Encode fixed-K neighbour lists: `ids` and `scores` are row-major [rows, k], best first.
 * @example encodeNeighbors(ids, scores, items, 50, 'float16')
 */
export function encodeNeighbors(
  ids: Uint32Array,
  scores: Float32Array,
  rows: number,
  k: number,
  scoreDtype: ScoreDtype,
): Uint8Array {
  checkDim('rows', rows);
  checkDim('k', k);
  checkLength('neighbour ids', ids.length, rows * k, `rows ${rows} x k ${k}`);
  checkLength('neighbour scores', scores.length, rows * k, `rows ${rows} x k ${k}`);
  checkOneOf('neighbour scores', scoreDtype, SCORE_DTYPES);
  const out = new Uint8Array(neighborsByteLength(rows, k, scoreDtype));
  out.set(bytesOf(ids), 0);
  out.set(bytesOf(scoreDtype === 'float32' ? scores : encodeFloat16(scores)), 4 * rows * k);
  return out;
}

/** Decode fixed-K neighbour lists (views where alignment allows). */
export function decodeNeighbors(bytes: Uint8Array, rows: number, k: number, scoreDtype: string): Neighbors {
  checkOneOf('neighbour scores', scoreDtype, SCORE_DTYPES);
  checkByteLength(
    `neighbour table [${rows}, ${k}] (${scoreDtype} scores)`,
    bytes,
    neighborsByteLength(rows, k, scoreDtype),
    'from its shape',
  );
  const n = rows * k;
  const ids = viewOf(Uint32Array, bytes, 0, n);
  const scores =
    scoreDtype === 'float32' ? viewOf(Float32Array, bytes, 4 * n, n) : viewOf(Uint16Array, bytes, 4 * n, n);
  return { rows, k, ids, scoreDtype, scores };
}

/** Neighbour scores as float32 (the stored array when already float32). */
export function neighborScoresFloat32(neighbors: Neighbors): Float32Array {
  return neighbors.scores instanceof Float32Array ? neighbors.scores : decodeFloat16(neighbors.scores);
}

/** Byte size of a stored CSR list. */
export function csrByteLength(rows: number, nnz: number): number {
  return 4 * (rows + 1 + nnz);
}

/** Encode a CSR list; `offsets` has rows + 1 entries, non-decreasing, ending at indexes.length. */
export function encodeCsr(offsets: Uint32Array, indexes: Uint32Array): Uint8Array {
  validateCsr(offsets, indexes);
  const rows = offsets.length - 1;
  const out = new Uint8Array(csrByteLength(rows, indexes.length));
  out.set(bytesOf(offsets), 0);
  out.set(bytesOf(indexes), 4 * (rows + 1));
  return out;
}

/** Decode a CSR list of `rows` rows and `nnz` entries (shape [rows, nnz] in the manifest). */
export function decodeCsr(bytes: Uint8Array, rows: number, nnz: number): Csr {
  checkByteLength(
    `CSR list [${rows} rows, ${nnz} entries]`,
    bytes,
    csrByteLength(rows, nnz),
    'from its shape',
  );
  const offsets = viewOf(Uint32Array, bytes, 0, rows + 1);
  const indexes = viewOf(Uint32Array, bytes, 4 * (rows + 1), nnz);
  validateCsr(offsets, indexes);
  return { rows, offsets, indexes };
}

/** The entries of row `row` of a CSR list (a view). */
export function csrRow(csr: Csr, row: number): Uint32Array {
  return csr.indexes.subarray(csr.offsets[row]!, csr.offsets[row + 1]!);
}

function validateCsr(offsets: Uint32Array, indexes: Uint32Array): void {
  if (offsets.length === 0) {
    throw new ReelrankError('bad_input', 'CSR offsets must hold rows + 1 entries, got 0.');
  }
  if (offsets[0] !== 0 || offsets[offsets.length - 1] !== indexes.length) {
    throw new ReelrankError(
      'artifact_corrupt',
      `CSR offsets must start at 0 and end at ${indexes.length} (the entry count), got ${offsets[0]} .. ${offsets[offsets.length - 1]}.`,
    );
  }
  for (let r = 1; r < offsets.length; r++) {
    if (offsets[r]! < offsets[r - 1]!) {
      throw new ReelrankError(
        'artifact_corrupt',
        `CSR offsets must not decrease: offsets[${r}] = ${offsets[r]} < offsets[${r - 1}] = ${offsets[r - 1]}.`,
      );
    }
  }
}

/** Encode a JSON value as UTF-8. */
export function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/**
 * Decode UTF-8 JSON; `what` names the file in the error. Bytes that are not UTF-8 and text that is
 * not JSON are both `artifact_corrupt` (a ReelrankError every caller handles), never a bare
 * TypeError from the decoder.
 */
export function decodeJson<T = unknown>(bytes: Uint8Array, what: string): T {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new ReelrankError(
      'artifact_corrupt',
      `${what} is not valid UTF-8 (first bad byte 0x${(bytes[at] ?? 0).toString(16).padStart(2, '0')} at offset ${at}).`,
    );
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new ReelrankError('artifact_corrupt', `${what} is not valid JSON: ${(error as Error).message}.`);
  }
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence (for messages). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const length =
      b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    for (let n = 1; n < length; n++) if ((bytes[i + n]! & 0xc0) !== 0x80) return i;
    i += length;
  }
  return Math.max(0, bytes.length - 1);
}

/**
 * A column of strings as stored: one decoded text and, per entry, where it starts in it. Entry i
 * is `text.slice(offsets[i], offsets[i + 1])` (`stringAt`): a slice of the one text, made when
 * asked for.
 */
export interface StringColumn {
  readonly length: number;
  readonly text: string;
  /** length + 1 offsets into `text` in UTF-16 code units, non-decreasing, ending at text.length. */
  readonly offsets: Uint32Array;
}

/** Entry `i` of a string column. */
export function stringAt(column: StringColumn, i: number): string {
  return column.text.slice(column.offsets[i], column.offsets[i + 1]);
}

/** Byte size of a stored string column of `count` entries whose text is `textBytes` UTF-8 bytes. */
export function stringsByteLength(count: number, textBytes: number): number {
  return 4 * (count + 1) + textBytes;
}

/**
 * Encode strings as a string column; the manifest shape is `[values.length, textBytes]`.
 * @example encodeStrings(['Heat', 'Amélie']) // offsets [0, 4, 10], then 'HeatAmélie' in UTF-8
 */
export function encodeStrings(values: readonly string[]): { bytes: Uint8Array; textBytes: number } {
  const offsets = new Uint32Array(values.length + 1);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== 'string')
      throw new ReelrankError('bad_input', `string column entry ${i} is ${typeof value}, expected a string.`);
    offsets[i + 1] = offsets[i]! + value.length;
  }
  // UTF-8 cannot carry a lone UTF-16 surrogate: TextEncoder writes U+FFFD for it, which is one
  // code unit too, so the offsets stay right.
  const text = values.join('');
  const utf8 = new TextEncoder().encode(text);
  const bytes = new Uint8Array(stringsByteLength(values.length, utf8.length));
  bytes.set(bytesOf(offsets), 0);
  bytes.set(utf8, offsets.byteLength);
  return { bytes, textBytes: utf8.length };
}

/**
 * Decode a string column of `count` entries and `textBytes` bytes of text (shape [count,
 * textBytes]): one UTF-8 decode, then the offsets are checked against the decoded text.
 */
export function decodeStrings(bytes: Uint8Array, count: number, textBytes: number): StringColumn {
  checkByteLength(
    `string column [${count} entries, ${textBytes} text bytes]`,
    bytes,
    stringsByteLength(count, textBytes),
    'from its shape',
  );
  const offsets = viewOf(Uint32Array, bytes, 0, count + 1);
  const utf8 = bytes.subarray(4 * (count + 1));
  let text: string;
  try {
    // ignoreBOM: a title that starts with U+FEFF keeps it (the offsets count it).
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(utf8);
  } catch {
    const at = firstInvalidUtf8(utf8);
    throw new ReelrankError(
      'artifact_corrupt',
      `string column text is not valid UTF-8 (first bad byte 0x${(utf8[at] ?? 0).toString(16).padStart(2, '0')} at text offset ${at}).`,
    );
  }
  if (offsets[0] !== 0 || offsets[count] !== text.length) {
    throw new ReelrankError(
      'artifact_corrupt',
      `string column offsets must start at 0 and end at ${text.length} (the text's length in UTF-16 units), got ${offsets[0]} .. ${offsets[count]}.`,
    );
  }
  for (let i = 1; i <= count; i++) {
    if (offsets[i]! < offsets[i - 1]!) {
      throw new ReelrankError(
        'artifact_corrupt',
        `string column offsets must not decrease: offsets[${i}] = ${offsets[i]} < offsets[${i - 1}] = ${offsets[i - 1]}.`,
      );
    }
  }
  return { length: count, text, offsets };
}
