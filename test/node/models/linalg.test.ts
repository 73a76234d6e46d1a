import { describe, expect, it } from 'vitest';
import { invertSpdInPlace } from '../../../train/models/linalg.ts';
import { compileWat } from '../../../train/models/wasm/build.ts';
import { INVERT_WASM_BASE64 } from '../../../train/models/wasm/invert-wasm.ts';
import { createRng } from '../../../shared/random.ts';

/** G = XᵀX + λI of a random 0/1 matrix X [3n, n]: symmetric positive definite, like EASE's Gram. */
function gram(n: number, seed: number, lambda = 3): Float64Array {
  const rng = createRng(seed);
  const g = new Float64Array(n * n);
  for (let u = 0; u < 3 * n; u++) {
    const items: number[] = [];
    for (let i = 0; i < n; i++) if (rng.next() < 0.2) items.push(i);
    for (const i of items) for (const j of items) g[i * n + j]!++;
  }
  for (let i = 0; i < n; i++) g[i * n + i]! += lambda;
  return g;
}

describe('invertSpdInPlace (blocked symmetric sweep)', () => {
  it('the embedded row-update kernel is exactly what invert.wat compiles to', async () => {
    const fresh = await compileWat('invert');
    expect(Buffer.from(fresh).toString('base64')).toBe(INVERT_WASM_BASE64);
  });

  // Sizes below, at and across the pivot block (48), odd and even (the kernel's tail column).
  it.each([1, 2, 7, 47, 48, 49, 97, 130])('G·G⁻¹ = I and G⁻¹ is symmetric (n = %i)', (n) => {
    const g = gram(n, n);
    const inv = g.slice();
    invertSpdInPlace(inv, n);
    let error = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += g[i * n + k]! * inv[k * n + j]!;
        error = Math.max(error, Math.abs(s - (i === j ? 1 : 0)));
        expect(inv[i * n + j]).toBe(inv[j * n + i]);
      }
    }
    expect(error).toBeLessThan(1e-12);
  });

  it('matches the closed form of a 2×2 inverse', () => {
    const a = Float64Array.of(4, 1, 1, 3);
    invertSpdInPlace(a, 2);
    const det = 11;
    expect([...a].map((v) => v * det)).toEqual([3, -1, -1, 4].map((v) => expect.closeTo(v, 12)));
  });

  it('refuses a matrix that is not positive definite, naming the pivot', () => {
    expect(() => invertSpdInPlace(Float64Array.of(1, 2, 2, 1), 2)).toThrow(
      /pivot 1 of 2 .* not positive definite/,
    );
  });
});
