import { ReelrankError } from '../../shared/errors.ts';

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

/**
 * Inverse of a symmetric positive definite matrix, in place, by Gauss-Jordan elimination without
 * pivoting (stable for SPD). n³ multiply-adds with a contiguous inner loop: for EASE's item-item
 * Gram matrix this is the whole cost of the fit.
 */
export function invertSpdInPlace(a: Float64Array, n: number): void {
  const pivotRow = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const rowP = p * n;
    const pivot = a[rowP + p]!;
    if (!(pivot > 0)) {
      throw new ReelrankError(
        'numerical',
        `invert: pivot ${p} of ${n} is ${pivot} (must be > 0): the matrix is not positive definite`,
      );
    }
    const inv = 1 / pivot;
    for (let j = 0; j < n; j++) pivotRow[j] = a[rowP + j]! * inv;
    pivotRow[p] = inv;
    for (let i = 0; i < n; i++) {
      if (i === p) continue;
      const rowI = i * n;
      const factor = a[rowI + p]!;
      if (factor === 0) continue;
      a[rowI + p] = 0;
      for (let j = 0; j < n; j++) a[rowI + j] = a[rowI + j]! - factor * pivotRow[j]!;
    }
    for (let j = 0; j < n; j++) a[rowP + j] = pivotRow[j]!;
  }
}
