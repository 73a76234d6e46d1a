/**
 * Implicit ALS (train/models/ials.ts) on a small real sample of ml-100k: the loss falls, a seed
 * reproduces the fit, the conjugate-gradient half-steps reach the exact ridge solution, the
 * exported user vectors are exactly the edge's fold-in of the same ratings, and it ranks held-out
 * items far better than chance.
 */
import { expect, it } from 'vitest';
import {
  foldInImplicit,
  implicitConfidence,
  implicitRegularization,
} from '../../../shared/kernels/implicit.ts';
import { evaluateRanking } from '../../../train/eval/harness.ts';
import { stratifiedSplit } from '../../../train/eval/protocols.ts';
import { cgHalfStep, exactHalfStep, gramMatrix, Ials } from '../../../train/models/ials.ts';
import { buildCsr, gatherRows } from '../../../train/models/interactions.ts';
import { createRng } from '../../../shared/random.ts';
import { PopularityModel } from '../../../train/models/baselines.ts';
import { buildItemFeatures } from '../../../train/models/features.ts';
import { describeWithData } from '../../support/data.ts';
import { ml100kFirstRatings } from '../../support/ml100k.ts';

describeWithData('ml-100k', 'implicit ALS on a 20,000-rating sample of ml-100k', () => {
  const all = (n: number) => Uint32Array.from({ length: n }, (_, j) => j);

  it('reduces its loss, is deterministic by seed, and exports what the fold-in computes', async () => {
    const dataset = await ml100kFirstRatings(20_000);
    const train = all(dataset.ratings.length);
    const options = {
      factors: 16,
      iterations: 6,
      alpha: 3,
      lambda: 5,
      confidence: 'rating',
      regExponent: 0.5,
    } as const;
    const model = new Ials(options);
    const report = await model.fit({ dataset, train, seed: 7 });
    const first = report.epochs[0]!.trainLoss;
    const last = report.epochs.at(-1)!.trainLoss;
    expect(last).toBeLessThan(first * 0.9);
    const again = new Ials(options);
    await again.fit({ dataset, train, seed: 7 });
    expect(again.userFactors).toEqual(model.userFactors);
    expect(again.itemFactors).toEqual(model.itemFactors);

    // Every exported user vector is the closed-form fold-in of that user's ratings against the
    // exported item factors and Gram matrix (the last user pass is exact).
    const exported = model.exportRankFactors();
    const k = exported.factors;
    expect(exported.gram).toEqual(
      Float32Array.from(gramMatrix(exported.itemFactors, dataset.movies.length, k)),
    );
    const { ratings } = dataset;
    for (const userIndex of [0, 5, 40]) {
      const rows = [...train].filter((j) => ratings.userIndex[j] === userIndex);
      expect(rows.length).toBeGreaterThan(0);
      const x = foldInImplicit({
        gram: gramMatrix(exported.itemFactors, dataset.movies.length, k),
        k,
        ratedFactors: Float32Array.from(
          rows.flatMap((j) => [
            ...exported.itemFactors.subarray(ratings.itemIndex[j]! * k, (ratings.itemIndex[j]! + 1) * k),
          ]),
        ),
        confidence: rows.map((j) => implicitConfidence(ratings.rating[j]!, exported.config)),
        lambda: implicitRegularization(rows.length, exported.config),
      });
      for (let f = 0; f < k; f++) expect(exported.userFactors[userIndex * k + f]).toBeCloseTo(x[f]!, 4);
    }
  });

  it('conjugate gradient converges to the exact per-row solution', async () => {
    const dataset = await ml100kFirstRatings(5_000);
    const rows = gatherRows(dataset, all(dataset.ratings.length));
    const config = { alpha: 3, lambda: 2, confidence: 'rating', ratingMax: 5, regExponent: 0.5 } as const;
    const conf = Float32Array.from(rows.rating, (r) => implicitConfidence(r, config));
    const csr = buildCsr(rows.user, rows.item, conf, rows.users);
    const reg = Float64Array.from({ length: rows.users }, (_, u) =>
      implicitRegularization(csr.offsets[u + 1]! - csr.offsets[u]!, config),
    );
    const k = 8;
    const rng = createRng(5);
    const items = Float32Array.from({ length: rows.items * k }, () => rng.normal() * 0.3);
    const start = Float32Array.from({ length: rows.users * k }, () => rng.normal() * 0.3);
    const gram = gramMatrix(items, rows.items, k);
    const exact = start.slice();
    exactHalfStep(csr, conf, reg, items, exact, gram, k);
    const scratch = {
      residual: new Float64Array(k),
      direction: new Float64Array(k),
      product: new Float64Array(k),
    };
    const errorAfter = (steps: number) => {
      const x = start.slice();
      cgHalfStep(csr, conf, reg, items, x, gram, k, steps, scratch);
      let worst = 0;
      for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs(x[j]! - exact[j]!));
      return worst;
    };
    let scale = 0;
    for (const v of exact) scale = Math.max(scale, Math.abs(v));
    expect(scale).toBeGreaterThan(0.05);
    const one = errorAfter(1);
    const three = errorAfter(3);
    // k steps of CG solve a k x k SPD system exactly (up to rounding).
    expect(errorAfter(k)).toBeLessThan(1e-4 * scale);
    expect(three).toBeLessThan(one);
  });

  it('gives movies without training ratings factors from their metadata (cold start)', async () => {
    const dataset = await ml100kFirstRatings(5_000);
    const cold = dataset.ratings.itemIndex[0]!; // a rated movie whose ratings are all dropped
    const train = all(dataset.ratings.length).filter((j) => dataset.ratings.itemIndex[j] !== cold);
    const options = { factors: 8, iterations: 3 };
    const plain = new Ials(options);
    await plain.fit({ dataset, train, seed: 1 });
    const projected = new Ials({ ...options, itemFeatures: buildItemFeatures(dataset.movies) });
    await projected.fit({ dataset, train, seed: 1 });
    const row = (m: Ials) => [...m.itemFactors.subarray(cold * 8, cold * 8 + 8)];
    expect(row(plain).every((v) => v === 0)).toBe(true);
    expect(row(projected).some((v) => v !== 0)).toBe(true);
    expect(row(projected).every(Number.isFinite)).toBe(true);
    // Warm rows are untouched by the projection.
    const warm = dataset.ratings.itemIndex[1]!;
    expect(projected.itemFactors.subarray(warm * 8, warm * 8 + 8)).toEqual(
      plain.itemFactors.subarray(warm * 8, warm * 8 + 8),
    );
  });

  it('ranks held-out items better than popularity', async () => {
    const dataset = await ml100kFirstRatings(30_000);
    const split = stratifiedSplit(dataset, 0.25, 0);
    const model = new Ials({ factors: 32, iterations: 8, alpha: 3, lambda: 30 });
    await model.fit({ dataset, train: split.train, seed: 0 });
    const popularity = new PopularityModel();
    await popularity.fit({ dataset, train: split.train, seed: 0 });
    const ials = evaluateRanking(model, dataset, split.train, split.test, { k: 10 })['ndcg@10']!;
    const popular = evaluateRanking(popularity, dataset, split.train, split.test, { k: 10 })['ndcg@10']!;
    console.log(`[ials sample] nDCG@10 ials ${ials.toFixed(4)} vs popularity ${popular.toFixed(4)}`);
    expect(ials).toBeGreaterThan(popular);
  });
});
