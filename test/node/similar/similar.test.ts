import { describe, expect, it } from 'vitest';
import { NO_NEIGHBOR } from '../../../shared/artifacts/codecs.ts';
import { quantizeRowsInt8 } from '../../../shared/kernels/int8.ts';
import {
  blendSimilarities,
  cosineToAll,
  cosineToAllInt8,
  dotAll,
  int8RowNorms,
  similarItems,
  standardizeScores,
} from '../../../shared/kernels/similarity.ts';
import {
  blendNeighbors,
  channelNeighbors,
  neighborsOf,
  similarMovieLists,
} from '../../../train/similar/neighbors.ts';

const NEG = Number.NEGATIVE_INFINITY;

describe('similarity kernels', () => {
  // Unit rows: e1, e2, (e1+e2)/√2.
  const h = Math.SQRT1_2;
  const rows = Float32Array.of(1, 0, 0, 1, h, h);

  it('cosine of a query to all rows, masked rows -Infinity', () => {
    expect(Array.from(cosineToAll(rows, 2, [1, 0]))).toEqual([1, 0, expect.closeTo(h, 6)]);
    expect(Array.from(cosineToAll(rows, 2, [1, 0], new Float32Array(3), Uint8Array.of(1, 0, 1)))).toEqual([
      1,
      NEG,
      expect.closeTo(h, 6),
    ]);
  });

  it('int8 cosine divides by the dequantized norms (query need not be unit length)', () => {
    const q = quantizeRowsInt8(Float32Array.of(3, 4, 0, 0, -1, 0), 2);
    const out = cosineToAllInt8(q, int8RowNorms(q), Float32Array.of(0, 2));
    expect(out[0]).toBeCloseTo(0.8, 2);
    expect(out[1]).toBe(NEG); // zero row: no direction
    expect(out[2]).toBeCloseTo(0, 6);
  });

  it('dotAll (unrolled) equals the plain dot for any dim, incl. a tail', () => {
    const m = Float32Array.from({ length: 3 * 7 }, (_, i) => (i % 5) - 2);
    const q = Float32Array.from({ length: 7 }, (_, j) => j - 3);
    const out = dotAll(m, 7, q, new Float32Array(3));
    for (let r = 0; r < 3; r++) {
      let s = 0;
      for (let j = 0; j < 7; j++) s += m[r * 7 + j]! * q[j]!;
      expect(out[r]).toBe(s);
    }
  });

  it('standardizes finite scores to mean 0, sd 1 and leaves masked ones', () => {
    // [1, 3, -Inf, 5]: mean 3, population sd sqrt(8/3).
    const z = standardizeScores(Float32Array.of(1, 3, NEG, 5));
    const sd = Math.sqrt(8 / 3);
    expect(Array.from(z)).toEqual([expect.closeTo(-2 / sd, 6), 0, NEG, expect.closeTo(2 / sd, 6)]);
    expect(Array.from(standardizeScores(Float32Array.of(2, 2)))).toEqual([0, 0]);
  });

  it('similarItems: ad-hoc blend at request time, float32 and int8 channels agree on the ranking', () => {
    // Items on the unit circle at 0, 10, 50, 100, 180 degrees: neighbours of item 0 by angle.
    const deg = [0, 10, 50, 100, 180].map((d) => (d * Math.PI) / 180);
    const unit = Float32Array.from(deg.flatMap((a) => [Math.cos(a), Math.sin(a)]));
    const f = similarItems(0, [{ kind: 'float32', rows: unit, dim: 2, weight: 1 }], 3);
    expect(Array.from(f.indexes)).toEqual([1, 2, 3]);
    expect(f.scores[0]).toBeCloseTo(Math.cos(deg[1]!), 6);
    const q = quantizeRowsInt8(unit, 2);
    const i8 = similarItems(0, [{ kind: 'int8', matrix: q, norms: int8RowNorms(q), weight: 1 }], 3);
    expect(Array.from(i8.indexes)).toEqual([1, 2, 3]);
    expect(i8.scores[0]).toBeCloseTo(Math.cos(deg[1]!), 2);
    // A query without the channel's vector gets nothing; excluded items are skipped.
    expect(
      similarItems(
        0,
        [{ kind: 'float32', rows: unit, dim: 2, weight: 1, mask: Uint8Array.of(0, 1, 1, 1, 1) }],
        3,
      ).indexes.length,
    ).toBe(0);
    expect(
      Array.from(
        similarItems(0, [{ kind: 'float32', rows: unit, dim: 2, weight: 1 }], 2, { exclude: (i) => i === 1 })
          .indexes,
      ),
    ).toEqual([2, 3]);
  });

  it('blend renormalises over the channels an item has', () => {
    const text = Float32Array.of(1, 0.5, 0.2);
    const visual = Float32Array.of(0, 1, 0.9);
    const out = blendSimilarities(
      [
        { scores: text, weight: 3 },
        { scores: visual, weight: 1, mask: Uint8Array.of(1, 1, 0) },
      ],
      new Float32Array(3),
    );
    // item 0: (3*1 + 0)/4; item 1: (1.5 + 1)/4; item 2 has no poster: text only.
    expect(Array.from(out)).toEqual([0.75, 0.625, expect.closeTo(0.2, 6)]);
    expect(
      blendSimilarities([{ scores: text, weight: 1, mask: Uint8Array.of(0, 0, 0) }], new Float32Array(3))[0],
    ).toBe(NEG);
    // 'neutral': the missing visual channel of item 2 counts as score 0 (the mean of a z-scored
    // channel) instead of being dropped: (3 * 0.2 + 1 * 0) / 4.
    const neutral = blendSimilarities(
      [
        { scores: text, weight: 3 },
        { scores: visual, weight: 1, mask: Uint8Array.of(1, 1, 0) },
      ],
      new Float32Array(3),
      { missing: 'neutral' },
    );
    expect(neutral[2]).toBeCloseTo(0.15, 6);
    expect(neutral[0]).toBe(0.75);
  });
});

describe('neighbour lists', () => {
  // Four items in 2-D: 0 and 1 nearly aligned, 2 orthogonal, 3 opposite to 0.
  const vectors = Float32Array.of(1, 0, 0.9, 0.1, 0, 1, -1, 0);

  it('excludes the item itself, orders best first, pads with NO_NEIGHBOR', () => {
    const t = channelNeighbors({ name: 'text', vectors, dim: 2 }, { k: 5 });
    expect(Array.from(neighborsOf(t, 0))).toEqual([1, 2, 3]);
    expect(t.ids[4]).toBe(NO_NEIGHBOR);
    expect(t.scores[4]).toBe(NEG);
    expect(t.scores[0]).toBeCloseTo(0.9 / Math.hypot(0.9, 0.1), 6);
  });

  it('a movie without a poster has no visual neighbours and is nobody’s neighbour', () => {
    const mask = Uint8Array.of(1, 0, 1, 1);
    const t = channelNeighbors({ name: 'visual', vectors, dim: 2, mask }, { k: 3 });
    expect(Array.from(neighborsOf(t, 1))).toEqual([]);
    for (const i of [0, 2, 3]) expect(Array.from(neighborsOf(t, i))).not.toContain(1);
    // An all-zero row is treated the same way (never a made-up vector).
    const zero = channelNeighbors(
      { name: 'visual', vectors: Float32Array.of(1, 0, 0, 0, 0, 1), dim: 2 },
      { k: 2 },
    );
    expect(Array.from(neighborsOf(zero, 1))).toEqual([]);
    expect(Array.from(neighborsOf(zero, 0))).toEqual([2]);
  });

  it('blends channels and keeps poster-less movies via the text channel', () => {
    const text = { name: 'content', vectors, dim: 2 };
    const visual = {
      name: 'visual',
      vectors: Float32Array.of(0, 1, 0, 0, 0, 1, 1, 0),
      dim: 2,
      mask: Uint8Array.of(1, 0, 1, 1),
    };
    const t = blendNeighbors(
      [
        { ...text, weight: 1 },
        { ...visual, weight: 1 },
      ],
      4,
      { k: 3, standardize: false },
    );
    // item 0 vs 2: (text 0 + visual 1) / 2 = 0.5 beats 0 vs 1: text only 0.994 → 1 first, then 2.
    expect(Array.from(neighborsOf(t, 0))).toEqual([1, 2, 3]);
    expect(t.scores[1]).toBeCloseTo(0.5, 6);
    // Standardised (default for blends): per query, each channel is z-scored over the candidates.
    const z = blendNeighbors(
      [
        { ...text, weight: 1 },
        { ...visual, weight: 1 },
      ],
      4,
      { k: 3 },
    );
    expect(Array.from(neighborsOf(z, 0))).toHaveLength(3);
    expect(Number.isFinite(z.scores[0])).toBe(true);
    const all = similarMovieLists({ content: text, visual }, 4, { k: 3 });
    expect(Object.keys(all).sort()).toEqual(['content', 'hybrid', 'visual']);
    expect(() => channelNeighbors({ name: 'x', vectors: Float32Array.of(1, 2, 3), dim: 2 })).toThrow(
      /channel x: 3 values/,
    );
  });
});
