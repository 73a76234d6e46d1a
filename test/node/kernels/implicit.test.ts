/**
 * The implicit-ALS fold-in kernel (shared/kernels/implicit.ts) on hand-computed cases, and against
 * a brute-force weighted least squares over every item of a tiny catalog (what the Gram-matrix
 * shortcut replaces).
 */
import { describe, expect, it } from 'vitest';
import {
  checkImplicitConfig,
  foldInImplicit,
  type ImplicitConfig,
  implicitConfidence,
  implicitRegularization,
} from '../../../shared/kernels/implicit.ts';

const CONFIG: ImplicitConfig = { alpha: 10, lambda: 2, confidence: 'rating', ratingMax: 5, regExponent: 1 };

describe('implicit confidence and regularisation', () => {
  it('computes c = 1 + α·f(r) and λ·n^ν by hand', () => {
    expect(implicitConfidence(4, CONFIG)).toBeCloseTo(9, 12); // 1 + 10 · 4/5
    expect(implicitConfidence(4, { ...CONFIG, confidence: 'binary' })).toBe(11);
    expect(implicitRegularization(3, CONFIG)).toBe(6); // 2 · 3¹
    expect(implicitRegularization(0, CONFIG)).toBe(2); // max(1, 0)
    expect(implicitRegularization(9, { ...CONFIG, regExponent: 0.5 })).toBeCloseTo(6, 12);
    expect(implicitRegularization(9, { ...CONFIG, regExponent: 0 })).toBe(2);
  });

  it('rejects a bad config naming the field, the value and what is allowed', () => {
    expect(() => checkImplicitConfig({ ...CONFIG, lambda: 0 })).toThrow(
      /lambda is 0; it must be a finite number > 0/,
    );
    expect(() => checkImplicitConfig({ ...CONFIG, confidence: 'log' as 'binary' })).toThrow(
      /confidence is log; it must be one of binary, rating/,
    );
  });
});

describe('foldInImplicit', () => {
  it('solves a 2-factor case computed by hand', () => {
    // G = I, one interaction y = (1, 0) with c = 3, λ = 1: A = diag(1 + 2 + 1, 1 + 1), b = (3, 0).
    const x = foldInImplicit({
      gram: Float64Array.of(1, 0, 0, 1),
      k: 2,
      ratedFactors: Float32Array.of(1, 0),
      confidence: [3],
      lambda: 1,
    });
    expect(x[0]).toBeCloseTo(0.75, 12);
    expect(x[1]).toBeCloseTo(0, 12);
    // Two interactions y1 = (1, 1) c = 2, y2 = (0, 1) c = 1; G = [[2, 1], [1, 3]], λ = 1:
    // A = G + λI + 1·y1y1ᵀ = [[4, 2], [2, 5]], b = 2·(1, 1) + (0, 1) = (2, 3) → x = (4/16, 8/16).
    const y = foldInImplicit({
      gram: Float64Array.of(2, 1, 1, 3),
      k: 2,
      ratedFactors: Float32Array.of(1, 1, 0, 1),
      confidence: [2, 1],
      lambda: 1,
    });
    expect(y[0]).toBeCloseTo(0.25, 12);
    expect(y[1]).toBeCloseTo(0.5, 12);
  });

  it('equals the weighted least squares over the whole catalog', () => {
    // 7 items, k = 3: minimise Σ_i c_i (p_i − x·y_i)² + λ|x|² directly (normal equations over all
    // items, zeros included), and compare with the Gram-matrix fold-in.
    const k = 3;
    const items = [
      [0.3, -0.2, 0.5],
      [0.1, 0.4, -0.3],
      [-0.6, 0.2, 0.1],
      [0.2, 0.2, 0.2],
      [0.0, -0.5, 0.4],
      [0.7, 0.1, -0.1],
      [-0.2, -0.3, -0.4],
    ];
    const interactions = [
      { item: 1, rating: 5 },
      { item: 4, rating: 2 },
      { item: 5, rating: 3.5 },
    ];
    const lambda = implicitRegularization(interactions.length, CONFIG);
    const a = Array.from({ length: k }, (_, i) =>
      Array.from({ length: k }, (_, j) => (i === j ? lambda : 0)),
    );
    const b = new Array<number>(k).fill(0);
    items.forEach((y, i) => {
      const hit = interactions.find((e) => e.item === i);
      const c = hit ? implicitConfidence(hit.rating, CONFIG) : 1;
      const p = hit ? 1 : 0;
      for (let r = 0; r < k; r++) {
        b[r] = b[r]! + c * p * y[r]!;
        for (let s = 0; s < k; s++) a[r]![s] = a[r]![s]! + c * y[r]! * y[s]!;
      }
    });
    // Gaussian elimination on the 3 x 3 system.
    for (let p = 0; p < k; p++) {
      for (let r = p + 1; r < k; r++) {
        const f = a[r]![p]! / a[p]![p]!;
        for (let s = p; s < k; s++) a[r]![s] = a[r]![s]! - f * a[p]![s]!;
        b[r] = b[r]! - f * b[p]!;
      }
    }
    const expected = new Array<number>(k).fill(0);
    for (let r = k - 1; r >= 0; r--) {
      let s = b[r]!;
      for (let c = r + 1; c < k; c++) s -= a[r]![c]! * expected[c]!;
      expected[r] = s / a[r]![r]!;
    }
    const gram = new Float64Array(k * k);
    for (const y of items)
      for (let r = 0; r < k; r++)
        for (let s = 0; s < k; s++) gram[r * k + s] = gram[r * k + s]! + y[r]! * y[s]!;
    const x = foldInImplicit({
      gram,
      k,
      ratedFactors: Float64Array.from(interactions.flatMap((e) => items[e.item]!)),
      confidence: interactions.map((e) => implicitConfidence(e.rating, CONFIG)),
      lambda,
    });
    for (let r = 0; r < k; r++) expect(x[r]).toBeCloseTo(expected[r]!, 10);
    expect(Math.abs(x[0]!)).toBeGreaterThan(0.01); // a real, non-zero answer
  });

  it('returns the zero vector without interactions and names bad shapes', () => {
    expect([
      ...foldInImplicit({
        gram: Float64Array.of(1, 0, 0, 1),
        k: 2,
        ratedFactors: new Float32Array(0),
        confidence: [],
        lambda: 1,
      }),
    ]).toEqual([0, 0]);
    expect(() =>
      foldInImplicit({
        gram: new Float64Array(3),
        k: 2,
        ratedFactors: new Float32Array(0),
        confidence: [],
        lambda: 1,
      }),
    ).toThrow(/gram has 3 values, expected 2 x 2 = 4/);
    expect(() =>
      foldInImplicit({
        gram: new Float64Array(4),
        k: 2,
        ratedFactors: new Float32Array(3),
        confidence: [2],
        lambda: 1,
      }),
    ).toThrow(/ratedFactors has 3 values, expected 1 interactions x 2 factors = 2/);
  });
});
