import { describe, expect, it } from 'vitest';
import { topK } from '../../../shared/kernels/topk.ts';
import { rankFeature } from '../../../shared/serving/ranker.ts';
import { createRng } from '../../../shared/random.ts';

/** Scores with many ties, zeros of both signs, negatives, -Infinity and NaN. */
function scores(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => {
    const r = rng.next();
    if (r < 0.05) return Number.NEGATIVE_INFINITY;
    if (r < 0.08) return Number.NaN;
    if (r < 0.2) return 0;
    if (r < 0.25) return -0;
    return Math.round((rng.next() - 0.3) * 20) / 4; // few distinct values: ties
  });
}

describe('topK', () => {
  it.each([0, 1, 5, 100, 999])('equals a full sort (score desc, index asc) for k = %i', (k) => {
    for (let seed = 0; seed < 5; seed++) {
      const s = scores(1000, seed);
      const exclude = (i: number) => i % 7 === 3;
      const expected = Array.from(s.keys())
        .filter((i) => s[i]! > Number.NEGATIVE_INFINITY && !exclude(i))
        .sort((a, b) => s[b]! - s[a]! || a - b)
        .slice(0, k);
      const got = topK(s, k, exclude);
      expect([...got.indexes]).toEqual(expected);
      expect([...got.scores]).toEqual(expected.map((i) => s[i]!));
    }
  });
});

describe('rankFeature', () => {
  it('gives position r (best first, ties by position) the value 1 / log2(2 + r)', () => {
    for (let seed = 0; seed < 5; seed++) {
      const values = scores(300, seed + 10).map((v) => (Number.isNaN(v) ? 1 : v));
      const stride = 3;
      const out = new Float32Array(values.length * stride);
      rankFeature(values, out, 1, stride);
      const order = Array.from(values.keys()).sort((a, b) => values[b]! - values[a]! || a - b);
      order.forEach((n, r) => {
        expect(out[n * stride + 1]).toBe(Math.fround(1 / Math.log2(2 + r)));
      });
    }
  });
});
