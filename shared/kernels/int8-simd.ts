/**
 * Host side of the WebAssembly SIMD retrieval kernel (int8-simd-wasm.ts): lays an int8-per-row
 * matrix out in the instance's memory once, then scores a float query vector against every row.
 * The query is quantized to int16 with one scale (relative error <= 1/65534 of its largest
 * component), products accumulate exactly in int32, so scores differ from `matVecInt8` by far
 * less than the int8 item quantization itself. This file uses no platform API: the caller
 * instantiates the module (Node from bytes, Workers from the bundled .wasm) and passes its exports.
 */
import type { Int8RowMatrix } from './int8.ts';

/** What the instantiated kernel module exports. */
export interface Int8SimdExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  dot(
    codes: number,
    rows: number,
    cols: number,
    user: number,
    scales: number,
    vscale: number,
    out: number,
  ): void;
}

const PAGE = 65536;
const align16 = (n: number) => (n + 15) & ~15;

/** The widest row the int32 accumulation cannot overflow on (256 * 127 * 32767 < 2^31). */
export const SIMD_MAX_COLS = 256;

/** A matrix bound to one kernel instance (one instance per matrix: its memory never grows again). */
export class SimdInt8MatVec {
  readonly rows: number;
  readonly cols: number;
  /** Row stride inside the kernel: cols rounded up to 16 (padding columns are zero). */
  readonly stride: number;
  private readonly kernel: Int8SimdExports;
  private readonly codesAt = 0;
  private readonly scalesAt: number;
  private readonly userAt: number;
  private readonly outAt: number;
  private readonly user: Int16Array;
  private readonly out: Float32Array;

  constructor(kernel: Int8SimdExports, matrix: Int8RowMatrix) {
    const { rows, cols } = matrix;
    if (cols > SIMD_MAX_COLS)
      throw new RangeError(
        `SimdInt8MatVec: ${cols} columns > ${SIMD_MAX_COLS} (int32 accumulation could overflow)`,
      );
    this.kernel = kernel;
    this.rows = rows;
    this.cols = cols;
    this.stride = align16(Math.max(cols, 1));
    this.scalesAt = align16(rows * this.stride);
    this.userAt = align16(this.scalesAt + 4 * rows);
    this.outAt = align16(this.userAt + 2 * this.stride);
    const needed = this.outAt + 4 * rows;
    const have = kernel.memory.buffer.byteLength;
    if (needed > have) kernel.memory.grow(Math.ceil((needed - have) / PAGE));
    const buffer = kernel.memory.buffer;
    const codes = new Int8Array(buffer, this.codesAt, rows * this.stride);
    if (this.stride === cols) codes.set(matrix.values.subarray(0, rows * cols));
    else
      for (let i = 0; i < rows; i++)
        codes.set(matrix.values.subarray(i * cols, (i + 1) * cols), i * this.stride);
    new Float32Array(buffer, this.scalesAt, rows).set(matrix.scales);
    this.user = new Int16Array(buffer, this.userAt, this.stride);
    this.out = new Float32Array(buffer, this.outAt, rows);
  }

  /**
   * The matrix as views into kernel memory (values + scales), when rows need no padding; null
   * otherwise. Valid for the kernel's lifetime (its memory never grows after construction).
   */
  sharedMatrix(): Int8RowMatrix | null {
    if (this.stride !== this.cols) return null;
    const buffer = this.kernel.memory.buffer;
    return {
      rows: this.rows,
      cols: this.cols,
      values: new Int8Array(buffer, this.codesAt, this.rows * this.cols),
      scales: new Float32Array(buffer, this.scalesAt, this.rows),
    };
  }

  /** Bytes of kernel memory this matrix occupies. */
  get bytes(): number {
    return this.kernel.memory.buffer.byteLength;
  }

  /** scores[i] = row_i . vector (same contract as `matVecInt8`). */
  matVec(vector: ArrayLike<number>, scores: Float32Array = new Float32Array(this.rows)): Float32Array {
    let maxAbs = 0;
    for (let j = 0; j < this.cols; j++) {
      const a = Math.abs(vector[j]!);
      if (a > maxAbs) maxAbs = a;
    }
    if (maxAbs === 0 || !Number.isFinite(maxAbs)) {
      scores.fill(maxAbs === 0 ? 0 : Number.NaN, 0, this.rows);
      return scores;
    }
    const vscale = maxAbs / 32767;
    const inv = 1 / vscale;
    for (let j = 0; j < this.cols; j++) this.user[j] = Math.round(vector[j]! * inv);
    this.kernel.dot(this.codesAt, this.rows, this.stride, this.userAt, this.scalesAt, vscale, this.outAt);
    scores.set(this.out);
    return scores;
  }
}
