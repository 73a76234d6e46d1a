import { describe, expect, it } from 'vitest';
import {
  blendScores,
  blendWeights,
  minMaxInPlace,
  NEW_USER_WEIGHTS,
  REFERENCE_NEW_USER_WEIGHTS,
  REFERENCE_REGULAR_USER_WEIGHTS,
  REGULAR_USER_WEIGHTS,
} from '../../../shared/kernels/blend.ts';
import { applyMask, buildItemMask } from '../../../shared/kernels/filters.ts';
import { choleskyInPlace, choleskySolveInPlace, foldIn } from '../../../shared/kernels/foldin.ts';
import {
  cosineInt8,
  dequantizeInt8,
  dotInt8,
  gatherDotInt8,
  matVecInt8,
  quantizeRowsInt8,
} from '../../../shared/kernels/int8.ts';
import { mmr } from '../../../shared/kernels/mmr.ts';
import { createRng } from '../../../shared/random.ts';

describe('int8 per-row quantization', () => {
  it('quantizes a hand-computed row symmetric to max|x|', () => {
    // max |x| = 2 -> scale 2/127; 1 -> round(63.5) = 64; -2 -> -127; 0.01 -> round(0.635) = 1.
    const q = quantizeRowsInt8(Float32Array.of(1, -2, 0.01, 0, 0, 0), 3);
    expect(Array.from(q.values)).toEqual([64, -127, 1, 0, 0, 0]);
    expect(q.scales[0]).toBeCloseTo(2 / 127, 7);
    expect(q.scales[1]).toBe(0);
  });

  it('round-trips within half a step per value and matVec matches the float product', () => {
    const rng = createRng(7);
    const rows = 37;
    const dim = 13; // not a multiple of 4: exercises the unrolled tail
    const m = Float32Array.from({ length: rows * dim }, () => rng.normal());
    const q = quantizeRowsInt8(m, dim);
    const back = dequantizeInt8(q);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < dim; j++)
        expect(Math.abs(back[i * dim + j]! - m[i * dim + j]!)).toBeLessThanOrEqual(q.scales[i]! / 2 + 1e-7);
    }
    const v = Float32Array.from({ length: dim }, () => rng.normal());
    const scores = matVecInt8(q, v);
    for (let i = 0; i < rows; i++) {
      let exact = 0;
      let deq = 0;
      for (let j = 0; j < dim; j++) {
        exact += m[i * dim + j]! * v[j]!;
        deq += back[i * dim + j]! * v[j]!;
      }
      expect(scores[i]).toBeCloseTo(deq, 4);
      expect(dotInt8(q, i, v)).toBeCloseTo(deq, 4);
      // |error| <= sum_j |v_j| * scale / 2
      const bound = (v.reduce((a, b) => a + Math.abs(b), 0) * q.scales[i]!) / 2;
      expect(Math.abs(scores[i]! - exact)).toBeLessThanOrEqual(bound + 1e-5);
    }
    expect(Array.from(gatherDotInt8(q, [3, 0], v))).toEqual(
      [scores[3], scores[0]].map((x) => Math.fround(x!)),
    );
  });

  it('cosine of quantized rows', () => {
    const q = quantizeRowsInt8(Float32Array.of(1, 0, 2, 0, 0, 3), 2);
    expect(cosineInt8(q, 0, 1)).toBeCloseTo(1, 6);
    expect(cosineInt8(q, 0, 2)).toBeCloseTo(0, 6);
  });

  it('refuses a matrix that is not rows x dim', () => {
    expect(() => quantizeRowsInt8(new Float32Array(5), 2)).toThrow(/not a multiple of dim 2/);
  });
});

describe('fold-in', () => {
  it('Cholesky solves a hand-computed 2x2 system', () => {
    // A = [[4, 2], [2, 3]], b = [2, 1] -> x = [0.5, 0]
    const a = Float64Array.of(4, 2, 2, 3);
    expect(choleskyInPlace(a, 2)).toBe(true);
    expect(a[0]).toBeCloseTo(2, 12);
    expect(a[2]).toBeCloseTo(1, 12);
    expect(a[3]).toBeCloseTo(Math.SQRT2, 12);
    const x = choleskySolveInPlace(a, 2, Float64Array.of(2, 1));
    expect(x[0]).toBeCloseTo(0.5, 12);
    expect(x[1]).toBeCloseTo(0, 12);
    expect(choleskyInPlace(Float64Array.of(1, 2, 2, 1), 2)).toBe(false);
  });

  it('matches the closed form on a hand-computed two-rating session', () => {
    // V = [[1, 0], [1, 1]], residuals r - mu - b = [5-3-0.5, 2-3-0] = [1.5, -1], lambda = 1.
    // VtV + I = [[3, 1], [1, 2]], Vt r = [0.5, -1] -> u = [0.4, -0.7].
    const u = foldIn({
      ratedFactors: Float32Array.of(1, 0, 1, 1),
      k: 2,
      ratings: [5, 2],
      itemBias: [0.5, 0],
      globalMean: 3,
      lambda: 1,
    });
    expect(u[0]).toBeCloseTo(0.4, 10);
    expect(u[1]).toBeCloseTo(-0.7, 10);
  });

  it('recovers a planted user vector from noiseless ratings when lambda is small', () => {
    const rng = createRng(3);
    const k = 16;
    const n = 40;
    const truth = Float64Array.from({ length: k }, () => rng.normal());
    const v = Float32Array.from({ length: n * k }, () => rng.normal());
    const bias = Float64Array.from({ length: n }, () => rng.normal() * 0.1);
    const ratings = Float64Array.from({ length: n }, (_, r) => {
      let dot = 0;
      for (let j = 0; j < k; j++) dot += v[r * k + j]! * truth[j]!;
      return 3.5 + bias[r]! + dot;
    });
    const u = foldIn({ ratedFactors: v, k, ratings, itemBias: bias, globalMean: 3.5, lambda: 1e-6 });
    for (let j = 0; j < k; j++) expect(u[j]).toBeCloseTo(truth[j]!, 3);
  });

  it('names the mismatch when shapes disagree', () => {
    expect(() =>
      foldIn({
        ratedFactors: new Float32Array(3),
        k: 2,
        ratings: [1, 2],
        itemBias: [0, 0],
        globalMean: 0,
        lambda: 1,
      }),
    ).toThrow(/expected 2 ratings x 2 factors = 4/);
  });
});

describe('mmr', () => {
  it('skips a near-duplicate in favour of a less relevant but different item', () => {
    const picked = mmr({
      candidates: [0, 1, 2],
      relevance: [1, 0.9, 0.5],
      similarity: (a, b) => (a + b === 1 ? 1 : 0),
      k: 2,
      lambda: 0.5,
    });
    expect(Array.from(picked)).toEqual([0, 2]);
  });
  it('lambda 1 is pure relevance order', () => {
    const picked = mmr({
      candidates: [10, 11, 12],
      relevance: [0.2, 0.9, 0.5],
      similarity: () => 1,
      k: 3,
      lambda: 1,
    });
    expect(Array.from(picked)).toEqual([1, 2, 0]);
  });
});

describe('blend', () => {
  it('interpolates between the new-user and regular weights (reference 003 rule, hand-computed)', () => {
    const reference = { newUser: REFERENCE_NEW_USER_WEIGHTS, regular: REFERENCE_REGULAR_USER_WEIGHTS };
    const fresh = blendWeights(1, undefined, reference);
    expect(fresh.collaborative).toBeCloseTo(0.2, 12);
    expect(fresh.content).toBeCloseTo(0.7, 12);
    const regular = blendWeights(500, undefined, reference);
    expect(regular.collaborative).toBeCloseTo(0.6, 12);
    expect(regular.content).toBeCloseTo(0.3, 12);
    const mid = blendWeights(17.5, undefined, reference); // halfway between 5 and 30
    expect(mid.collaborative).toBeCloseTo(0.4, 12);
    expect(mid.content).toBeCloseTo(0.5, 12);
    const noContent = blendWeights(1, { collaborative: true, content: false }, reference);
    expect(noContent.collaborative).toBeCloseTo(2 / 3, 12);
    expect(noContent.popularity).toBeCloseTo(1 / 3, 12);
  });
  it('defaults to the evaluated rule and falls back to popularity without ratings', () => {
    for (const channel of ['collaborative', 'content', 'popularity'] as const) {
      expect(blendWeights(1)[channel]).toBeCloseTo(NEW_USER_WEIGHTS[channel], 12);
      expect(blendWeights(500)[channel]).toBeCloseTo(REGULAR_USER_WEIGHTS[channel], 12);
    }
    expect(blendWeights(0)).toEqual({ collaborative: 0, content: 0, popularity: 1 });
  });
  it('rescales channels before mixing', () => {
    expect(Array.from(minMaxInPlace(Float32Array.of(2, 4, 3)))).toEqual([0, 1, 0.5]);
    const out = blendScores(
      { collaborative: Float32Array.of(10, 20), content: null, popularity: Float32Array.of(1, 0) },
      { collaborative: 0.75, content: 0, popularity: 0.25 },
      new Float32Array(2),
    );
    expect(Array.from(out)).toEqual([0.25, 0.75]);
  });
});

describe('filters', () => {
  const attributes = {
    genreBits: Uint32Array.of(0b01, 0b10, 0b11, 0),
    years: Uint16Array.of(1990, 2000, 0, 2010),
  };
  it('keeps everything when there is no filter', () => {
    expect(buildItemMask(attributes, {})).toBeNull();
  });
  it('combines genres, year range and exclusions', () => {
    expect(Array.from(buildItemMask(attributes, { genreMask: 0b10 })!)).toEqual([0, 1, 1, 0]);
    expect(Array.from(buildItemMask(attributes, { yearFrom: 1995 })!)).toEqual([0, 1, 0, 1]);
    expect(Array.from(buildItemMask(attributes, { yearTo: 2000, exclude: [1] })!)).toEqual([1, 0, 0, 0]);
    const scores = applyMask(Float32Array.of(1, 2, 3, 4), Uint8Array.of(1, 0, 1, 0));
    expect(Array.from(scores)).toEqual([1, Number.NEGATIVE_INFINITY, 3, Number.NEGATIVE_INFINITY]);
  });
});
