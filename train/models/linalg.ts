import { ReelrankError } from '../../shared/errors.ts';
import { INVERT_WASM_BASE64 } from './wasm/invert-wasm.ts';
import { lazyWasmModule } from './wasm/module.ts';

/**
 * Small dense linear-algebra kernels for closed-form fits (ALS, ridge, EASE): symmetric positive
 * definite systems only, Float64 row-major, in place, no allocation in the loops.
 */

/**
 * Cholesky factorisation A = L·Lᵀ in place (lower triangle of `a` becomes L; the upper triangle
 * is left untouched). Throws when A is not positive definite.
 */
export function choleskyInPlace(a: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let diag = a[rowJ + j]!;
    for (let k = 0; k < j; k++) diag -= a[rowJ + k]! * a[rowJ + k]!;
    if (!(diag > 0)) {
      throw new ReelrankError(
        'numerical',
        `cholesky: pivot ${j} of ${n} is ${diag} (must be > 0): the matrix is not positive definite; raise the regularisation`,
      );
    }
    const ljj = Math.sqrt(diag);
    a[rowJ + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let sum = a[rowI + j]!;
      // Row-major: both L rows are contiguous, so this inner loop streams memory.
      for (let k = 0; k < j; k++) sum -= a[rowI + k]! * a[rowJ + k]!;
      a[rowI + j] = sum / ljj;
    }
  }
}

/** Solve L·Lᵀ x = b in place (`b` becomes x), with L from `choleskyInPlace`. */
export function choleskySolveInPlace(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let sum = b[i]!;
    const row = i * n;
    for (let k = 0; k < i; k++) sum -= l[row + k]! * b[k]!;
    b[i] = sum / l[row + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let sum = b[i]!;
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i]! * b[k]!;
    b[i] = sum / l[i * n + i]!;
  }
}

/**
 * Solve A x = b for symmetric positive definite A (row-major n×n). `a` is overwritten by its
 * factor; `b` by the solution.
 */
export function solveSpdInPlace(a: Float64Array, n: number, b: Float64Array): void {
  choleskyInPlace(a, n);
  choleskySolveInPlace(a, n, b);
}

/** Pivot block width of `invertSpdInPlace`: its rows stay in cache while every other row streams past. */
const INVERT_BLOCK = 48;

type RowUpdate = (row: number, k: number, len: number, t: number, b: number, stride: number) => void;
const invertModule = lazyWasmModule(INVERT_WASM_BASE64);

/** The SIMD rank-b row update (wasm/invert.wat) over `memory`, or null where wasm SIMD is missing. */
function wasmRowUpdate(memory: WebAssembly.Memory): RowUpdate | null {
  const module = invertModule();
  if (module === null) return null;
  return (new WebAssembly.Instance(module, { env: { memory } }).exports as { update: RowUpdate }).update;
}

/**
 * Inverse of a symmetric positive definite matrix, in place, by the blocked symmetric sweep
 * (Gauss-Jordan elimination without pivoting, stable for SPD) on the upper triangle: n³/2
 * multiply-adds. Each pass over the matrix eliminates a block of INVERT_BLOCK pivots at once, a
 * rank-b update of every other row from pivot rows that stay in cache, in WebAssembly SIMD
 * (wasm/invert.wat; plain loops where wasm SIMD is missing). For EASE's item-item Gram matrix
 * this is the whole cost of the fit.
 */
export function invertSpdInPlace(a: Float64Array, n: number): void {
  const bMax = Math.max(1, Math.min(INVERT_BLOCK, n));
  // One wasm memory (float64 offsets): the matrix [n²], the row coefficients T [b], a copy of the
  // pivot rows [b·n], D = A[K,K]⁻¹ [b²] and a gathered column [b].
  const size = n * n + bMax + bMax * n + bMax * bMax + bMax;
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil((size * 8) / 65536)) });
  const update = wasmRowUpdate(memory);
  const m = update ? new Float64Array(memory.buffer, 0, size) : new Float64Array(size);
  m.set(a.subarray(0, n * n));
  const tAt = n * n;
  const blockAt = tAt + bMax;
  const dAt = blockAt + bMax * n;
  const colAt = dAt + bMax * bMax;
  // row[0..len) -= Σ_r t[r] · K_r[0..len), K_r = `stride` apart (byte offsets, as the wasm kernel).
  const rowUpdate: (row: number, k: number, len: number, t: number, b: number, stride?: number) => void =
    update
      ? (row, k, len, t, b, stride = n) => update(row, k, len, t, b, stride)
      : (row, k, len, t, b, stride = n) => {
          const [r0, k0, t0] = [row / 8, k / 8, t / 8];
          for (let r = 0; r < b; r++) {
            const f = m[t0 + r]!;
            const kr = k0 + r * stride;
            for (let j = 0; j < len; j++) m[r0 + j] = m[r0 + j]! - f * m[kr + j]!;
          }
        };
  const d = new Float64Array(bMax * bMax);
  const pivotRow = new Float64Array(bMax);
  // Only entries on or above the diagonal are kept up to date; the sweep keeps the matrix
  // symmetric (A[i,K] = T_i = A[i,K]·D on both sides), and sweeping every pivot leaves -A⁻¹.
  for (let k0 = 0; k0 < n; k0 += bMax) {
    const b = Math.min(bMax, n - k0);
    const k1 = k0 + b;
    // The pivot rows in full: their part left of the block from the columns above it.
    for (let r = k0; r < k1; r++) for (let j = 0; j < r; j++) m[r * n + j] = m[j * n + r]!;
    // D = A[K,K]⁻¹ by the scalar sweep on a b×b copy.
    for (let r = 0; r < b; r++) for (let c = 0; c < b; c++) d[r * b + c] = m[(k0 + r) * n + k0 + c]!;
    for (let p = 0; p < b; p++) {
      const pivot = d[p * b + p]!;
      if (!(pivot > 0)) {
        throw new ReelrankError(
          'numerical',
          `invert: pivot ${k0 + p} of ${n} is ${pivot} (must be > 0): the matrix is not positive definite`,
        );
      }
      const inv = 1 / pivot;
      for (let c = 0; c < b; c++) pivotRow[c] = d[p * b + c]! * inv;
      pivotRow[p] = inv;
      for (let r = 0; r < b; r++) {
        if (r === p) continue;
        const factor = d[r * b + p]!;
        d[r * b + p] = 0;
        for (let c = 0; c < b; c++) d[r * b + c] = d[r * b + c]! - factor * pivotRow[c]!;
      }
      for (let c = 0; c < b; c++) d[p * b + c] = pivotRow[c]!;
    }
    m.set(d.subarray(0, b * b), dAt);
    // Every other row i, on columns j >= i: A[i,j] -= T_i·A[K,j], T_i = A[K,i]ᵀ·D.
    for (let i = 0; i < n; i++) {
      if (i === k0) i = k1;
      if (i >= n) break;
      const rowI = i * n;
      m.fill(0, tAt, tAt + b);
      for (let r = 0; r < b; r++) m[colAt + r] = -m[(k0 + r) * n + i]!;
      rowUpdate(tAt * 8, dAt * 8, b, colAt * 8, b, b);
      rowUpdate((rowI + i) * 8, (k0 * n + i) * 8, n - i, tAt * 8, b);
      // Rows above the block hold the block's columns in their upper part: T_i.
      if (i < k0) for (let c = 0; c < b; c++) m[rowI + k0 + c] = m[tAt + c]!;
    }
    // The pivot rows right of the block: D·A[K,j] (the same update from a copy); -D on the block.
    m.copyWithin(blockAt, k0 * n, k1 * n);
    for (let r = 0; r < b; r++) {
      const rowR = (k0 + r) * n;
      m.fill(0, rowR + k1, rowR + n);
      for (let c = 0; c < b; c++) m[tAt + c] = -d[r * b + c]!;
      rowUpdate((rowR + k1) * 8, (blockAt + k1) * 8, n - k1, tAt * 8, b);
      for (let c = 0; c < b; c++) m[rowR + k0 + c] = -d[r * b + c]!;
    }
  }
  // -A⁻¹ on and above the diagonal: negate and mirror.
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = -m[i * n + j]!;
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
}
