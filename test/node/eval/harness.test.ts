import { describe, expect, it } from 'vitest';
import {
  evaluateColdStart,
  evaluateRanking,
  evaluateRating,
  evaluateSampled,
} from '../../../train/eval/harness.ts';
import { chooseOnValidation } from '../../../train/eval/tuning.ts';
import {
  carveLastOut,
  carveValidation,
  coldItemSplit,
  leaveLastOut,
  randomSplit,
  stratifiedSplit,
} from '../../../train/eval/protocols.ts';
import type { Recommender } from '../../../train/models/types.ts';
import { tinyDataset } from './fixture.ts';

/** A model whose scores are a fixed table: score(u, i) = table[u][i]. */
function fixedModel(table: number[][], predictsRatings = true): Recommender {
  return {
    name: 'fixed',
    predictsRatings,
    fit: async () => ({ epochs: [], seconds: 0 }),
    predict: (u, i) => Float32Array.from(u, (user, j) => table[user]![i[j]!]!),
    scoreAll: (u, out) => out.set(table[u]!),
  };
}

// 2 users, 5 items. User 0 rated items 0,1,2 (t = 1,2,3); user 1 rated items 2,3 (t = 5,4).
const rows: [number, number, number, number][] = [
  [0, 0, 5, 1],
  [0, 1, 3, 2],
  [0, 2, 4, 3],
  [1, 2, 2, 5],
  [1, 3, 4, 4],
];
const dataset = tinyDataset(rows, 5, [['A'], ['A'], ['B'], ['A', 'B'], []]);

describe('protocol splits', () => {
  it("leave-last-out holds out each user's latest rating", () => {
    const split = leaveLastOut(dataset);
    expect([...split.test]).toEqual([2, 3]);
    expect([...split.train]).toEqual([0, 1, 4]);
  });
  it('random and stratified splits partition the ratings and are deterministic by seed', () => {
    for (const split of [randomSplit(dataset, 0.4, 7), stratifiedSplit(dataset, 0.5, 7)]) {
      expect([...split.train, ...split.test].sort()).toEqual([0, 1, 2, 3, 4]);
    }
    expect(randomSplit(dataset, 0.4, 7)).toEqual(randomSplit(dataset, 0.4, 7));
    expect(randomSplit(dataset, 0.4, 7).test.length).toBe(2);
    // Stratified: each user sends min(n - 1, round(n * 0.5)) ratings to test: user 0 → 2, user 1 → 1.
    const strat = stratifiedSplit(dataset, 0.5, 3);
    expect(strat.test.filter((j) => rows[j]![0] === 0).length).toBe(2);
    expect(strat.test.filter((j) => rows[j]![0] === 1).length).toBe(1);
  });
  it('cold items lose all their ratings to test', () => {
    const split = coldItemSplit(dataset, 0.25, 1);
    const cold = [...split.coldItems.keys()].filter((i) => split.coldItems[i] === 1);
    expect(cold.length).toBe(1); // round(4 rated items × 0.25)
    for (const j of split.train) expect(split.coldItems[rows[j]![1]]).toBe(0);
    for (const j of split.test) expect(split.coldItems[rows[j]![1]]).toBe(1);
  });
  it('validation is carved from training rows only and keeps a rating per user', () => {
    const train = Uint32Array.of(0, 1, 2, 4);
    const v = carveValidation(dataset, train, 0.5, 0);
    expect([...v.train, ...v.test].sort()).toEqual([0, 1, 2, 4]);
    expect(v.test.includes(4)).toBe(false); // user 1 has a single training rating
  });
  it("the last-out carve takes each user's latest TRAINING row", () => {
    // Training rows 0, 1 (user 0, t=1,2) and 3, 4 (user 1, t=5,4): validation = rows 1 and 3.
    const v = carveLastOut(dataset, Uint32Array.of(0, 1, 3, 4));
    expect([...v.test]).toEqual([1, 3]);
    expect([...v.train]).toEqual([0, 4]);
  });
  it('tuning picks the candidate with the best validation score and never sees other rows', async () => {
    const seenRows: number[][] = [];
    const result = await chooseOnValidation(
      dataset,
      Uint32Array.of(0, 1, 2, 3, 4),
      [1, 2, 3].map((value) => ({ value, make: () => fixedModel([[value]]) })),
      (_model, fit, validation) => {
        seenRows.push([...fit, ...validation].sort());
        return -Math.abs(_model.predict(Uint32Array.of(0), Uint32Array.of(0))[0]! - 2);
      },
      { fraction: 0.5 },
    );
    expect(result.best).toBe(2);
    for (const rows of seenRows) expect(rows).toEqual([0, 1, 2, 3, 4]);
  });
  it('rejects fractions outside (0, 1)', () => {
    expect(() => randomSplit(dataset, 1, 0)).toThrow(/must be in \(0, 1\)/);
  });
});

describe('harness', () => {
  it('rating metrics on the test rows', () => {
    const model = fixedModel([
      [5, 3, 3, 0, 0],
      [0, 0, 2, 5, 0],
    ]);
    // test rows 1 (u0 i1 r3 → 3), 2 (u0 i2 r4 → 3), 4 (u1 i3 r4 → 5): errors 0, -1, +1.
    const m = evaluateRating(model, dataset, Uint32Array.of(1, 2, 4));
    expect(m.rmse).toBeCloseTo(Math.sqrt(2 / 3), 6);
    expect(m.mae).toBeCloseTo(2 / 3, 6);
    // actual mean 11/3, SST = 4/9 + 1/9 + 1/9 = 6/9, SSE = 2.
    expect(m.r2).toBeCloseTo(1 - 2 / (6 / 9), 6);
    expect(() => evaluateRating(fixedModel([[0]], false), dataset, Uint32Array.of(2))).toThrow(
      /does not predict ratings/,
    );
  });
  it('full ranking excludes training items and averages over users with relevant items', () => {
    // user 0 trained on items 0,1; test item 2. Scores put trained item 0 first: it must be skipped.
    // user 1 trained on item 3; test item 2.
    const model = fixedModel([
      [9, 8, 1, 7, 0],
      [0, 0, 2, 9, 3],
    ]);
    const m = evaluateRanking(model, dataset, Uint32Array.of(0, 1, 4), Uint32Array.of(2, 3), { k: 2 });
    // user 0 list: [3, 2] → hit at rank 2; user 1 list: [4, 2] → hit at rank 2.
    expect(m['precision@2']).toBeCloseTo(0.5, 6);
    expect(m['recall@2']).toBeCloseTo(1, 6);
    expect(m['mrr@2']).toBeCloseTo(0.5, 6);
    expect(m['ndcg@2']).toBeCloseTo(1 / Math.log2(3), 6);
    expect(m['map@2']).toBeCloseTo(0.5, 6);
    expect(m.coverage).toBeCloseTo(3 / 5, 6);
    expect(m.users).toBe(2);
  });
  it('sampled protocol ranks the held-out item among unseen negatives', () => {
    // user 0 held-out item 2, unseen items 3 and 4; 2 negatives → both drawn.
    const model = fixedModel([[0, 0, 5, 9, 1]]);
    const m = evaluateSampled(model, dataset, Uint32Array.of(0, 1), Uint32Array.of(2), {
      negatives: 2,
      k: 1,
    });
    expect(m['hr@1']).toBe(0); // rank 1 (item 3 scores higher)
    const m2 = evaluateSampled(model, dataset, Uint32Array.of(0, 1), Uint32Array.of(2), {
      negatives: 2,
      k: 2,
    });
    expect(m2['ndcg@2']).toBeCloseTo(1 / Math.log2(3), 6);
  });
  it('cold-start AUC over cold items per user', () => {
    const cold = Uint8Array.of(0, 0, 1, 1, 1);
    const model = fixedModel([
      [0, 0, 3, 1, 2], // positive item 2 above negatives 3, 4 → AUC 1
      [0, 0, 3, 1, 2], // positives 2 and 3 vs negative 4: 3 > 2 yes, 1 > 2 no → 0.5
    ]);
    const m = evaluateColdStart(model, dataset, Uint32Array.of(2, 3, 4), cold);
    expect(m.auc).toBeCloseTo(0.75, 6);
    expect(m.users).toBe(2);
  });
});
