import { describe, expect, it } from 'vitest';
import {
  auc,
  averagePrecisionAt,
  catalogCoverage,
  hitRateAt,
  intraListDiversity,
  mae,
  mse,
  ndcgAt,
  novelty,
  precisionAt,
  r2,
  recallAt,
  reciprocalRankAt,
  rmse,
  sampledHitRate,
  sampledNdcg,
  sampledRank,
} from '../../../train/eval/metrics.ts';

describe('rating metrics (hand-computed)', () => {
  // predicted [3, 4, 5], actual [4, 4, 3]: errors -1, 0, 2 → squares 1, 0, 4.
  const predicted = [3, 4, 5];
  const actual = [4, 4, 3];
  it('MSE = 5/3, RMSE = sqrt(5/3), MAE = 1', () => {
    expect(mse(predicted, actual)).toBeCloseTo(5 / 3, 12);
    expect(rmse(predicted, actual)).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(mae(predicted, actual)).toBeCloseTo(1, 12);
  });
  it('R² = 1 - SSE/SST with SST around the mean of actual', () => {
    // mean(actual) = 11/3; SST = (1/3)² + (1/3)² + (2/3)² = 6/9; SSE = 5.
    expect(r2(predicted, actual)).toBeCloseTo(1 - 5 / (6 / 9), 12);
    expect(r2(actual, actual)).toBe(1);
  });
  it('rejects mismatched or empty inputs and constant truths', () => {
    expect(() => mse([1], [1, 2])).toThrow(/1 values but actual has 2/);
    expect(() => mae([], [])).toThrow(/no values/);
    expect(() => r2([1, 2], [3, 3])).toThrow(/variance 0/);
  });
});

describe('ranking metrics (hand-computed)', () => {
  // Ranked list [5, 1, 7, 2, 9]; relevant {1, 2, 3}: hits at ranks 2 and 4.
  const ranked = [5, 1, 7, 2, 9];
  const relevant = new Set([1, 2, 3]);
  it('precision, recall, hit rate', () => {
    expect(precisionAt(ranked, relevant, 5)).toBeCloseTo(2 / 5, 12);
    expect(precisionAt(ranked, relevant, 2)).toBeCloseTo(1 / 2, 12);
    expect(recallAt(ranked, relevant, 5)).toBeCloseTo(2 / 3, 12);
    expect(hitRateAt(ranked, relevant, 1)).toBe(0);
    expect(hitRateAt(ranked, relevant, 2)).toBe(1);
  });
  it('reciprocal rank of the first hit within k', () => {
    expect(reciprocalRankAt(ranked, relevant, 5)).toBeCloseTo(1 / 2, 12);
    expect(reciprocalRankAt(ranked, relevant, 1)).toBe(0);
  });
  it('NDCG: DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3) + 1/log2(4)', () => {
    const dcg = 1 / Math.log2(3) + 1 / Math.log2(5);
    const idcg = 1 + 1 / Math.log2(3) + 1 / 2;
    expect(ndcgAt(ranked, relevant, 5)).toBeCloseTo(dcg / idcg, 12);
    // k = 2: one hit at rank 2; ideal has 2 hits.
    expect(ndcgAt(ranked, relevant, 2)).toBeCloseTo(1 / Math.log2(3) / (1 + 1 / Math.log2(3)), 12);
    expect(ndcgAt([1, 2, 3], relevant, 3)).toBeCloseTo(1, 12);
  });
  it('average precision divides by all relevant items', () => {
    // precision at rank 2 = 1/2, at rank 4 = 2/4; sum 1; |relevant| = 3.
    expect(averagePrecisionAt(ranked, relevant, 5)).toBeCloseTo(1 / 3, 12);
    expect(averagePrecisionAt([1, 2, 3], relevant, 3)).toBeCloseTo(1, 12);
  });
  it('empty relevant sets score 0', () => {
    expect(recallAt(ranked, new Set(), 5)).toBe(0);
    expect(ndcgAt(ranked, new Set(), 5)).toBe(0);
    expect(averagePrecisionAt(ranked, new Set(), 5)).toBe(0);
  });
});

describe('NCF sampled protocol metrics', () => {
  it('rank counts negatives scoring at least the positive (ties pessimistic)', () => {
    expect(sampledRank(0.5, [0.1, 0.9, 0.5, 0.2])).toBe(2);
    expect(sampledRank(1, [0.1, 0.2])).toBe(0);
  });
  it('HR and NDCG from a rank', () => {
    expect(sampledHitRate(9, 10)).toBe(1);
    expect(sampledHitRate(10, 10)).toBe(0);
    expect(sampledNdcg(0, 10)).toBe(1);
    expect(sampledNdcg(2, 10)).toBeCloseTo(1 / 2, 12);
    expect(sampledNdcg(10, 10)).toBe(0);
  });
});

describe('AUC', () => {
  it('counts correctly ordered positive/negative pairs, ties as one half', () => {
    expect(auc([0.9, 0.1, 0.5], [true, false, false])).toBe(1);
    expect(auc([0.1, 0.9, 0.5], [true, false, false])).toBe(0);
    // positives {0.8, 0.3}, negatives {0.5, 0.3}: pairs (0.8>0.5)=1, (0.8>0.3)=1, (0.3<0.5)=0, (0.3=0.3)=0.5 → 2.5/4.
    expect(auc([0.8, 0.3, 0.5, 0.3], [true, true, false, false])).toBeCloseTo(2.5 / 4, 12);
  });
  it('is NaN without both classes', () => {
    expect(auc([1, 2], [true, true])).toBeNaN();
  });
});

describe('beyond-accuracy metrics', () => {
  it('catalog coverage counts distinct recommended items', () => {
    expect(
      catalogCoverage(
        [
          [0, 1],
          [1, 2],
        ],
        10,
      ),
    ).toBeCloseTo(3 / 10, 12);
  });
  it('intra-list diversity = mean pairwise (1 - cosine)', () => {
    // rows: item0 = (1,0), item1 = (0,1), item2 = (1,1)/√2 direction.
    const features = Float32Array.of(1, 0, 0, 1, 1, 1);
    // pairs: (0,1) cos 0 → 1; (0,2) cos 1/√2; (1,2) cos 1/√2.
    const expected = (1 + 2 * (1 - Math.SQRT1_2)) / 3;
    expect(intraListDiversity([0, 1, 2], features, 2)).toBeCloseTo(expected, 6);
    expect(intraListDiversity([0], features, 2)).toBe(0);
  });
  it('novelty = mean -log2(share of users who interacted)', () => {
    // 8 users; item0 seen by 4 (p = 1/2 → 1 bit), item1 by 1 (p = 1/8 → 3 bits).
    expect(novelty([0, 1], [4, 1], 8)).toBeCloseTo(2, 12);
    // An item nobody interacted with counts as one user.
    expect(novelty([2], [4, 1, 0], 8)).toBeCloseTo(3, 12);
  });
});
