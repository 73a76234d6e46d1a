import { expect, it } from 'vitest';
import { randomSplit } from '../../../train/eval/protocols.ts';
import { BiasModel } from '../../../train/models/baselines.ts';
import { RidgeBlend } from '../../../train/models/blend.ts';
import type { FitReport, Recommender, TrainContext } from '../../../train/models/types.ts';
import { describeWithData } from '../../support/data.ts';
import { readMl100kSample } from './ml100k.ts';

/** A bias model that records the rows every instance was fitted on. */
class RecordingBiases implements Recommender {
  readonly name = 'recording-biases';
  readonly predictsRatings = true;
  private readonly inner = new BiasModel();
  constructor(private readonly log: Uint32Array[]) {}
  fit(context: TrainContext): Promise<FitReport> {
    this.log.push(context.train);
    return this.inner.fit(context);
  }
  predict(u: Uint32Array, i: Uint32Array): Float32Array {
    return this.inner.predict(u, i);
  }
  scoreAll(u: number, out: Float32Array): void {
    this.inner.scoreAll(u, out);
  }
}

describeWithData('ml-100k', 'K-fold stacked blend on a 5k-rating real sample of ml-100k', () => {
  const dataset = readMl100kSample(5000);
  const split = randomSplit(dataset, 0.2, 1);

  it('every training row is held out by exactly one fold fit, then the members are refitted on all rows', async () => {
    const log: Uint32Array[] = [];
    const blend = new RidgeBlend(() => [new RecordingBiases(log)], { folds: 3 });
    await blend.fit({ dataset, train: split.train, seed: 0 });
    expect(log).toHaveLength(4);
    const heldOut = new Map<number, number>();
    for (const fitted of log.slice(0, 3)) {
      const inFit = new Set(fitted);
      // Each fold fit sees about two thirds of the rows.
      expect(fitted.length / split.train.length).toBeGreaterThan(0.6);
      expect(fitted.length / split.train.length).toBeLessThan(0.72);
      for (const row of split.train) if (!inFit.has(row)) heldOut.set(row, (heldOut.get(row) ?? 0) + 1);
    }
    expect(heldOut.size).toBe(split.train.length);
    expect([...heldOut.values()].every((n) => n === 1)).toBe(true);
    expect(Array.from(log[3]!)).toEqual(Array.from(split.train));
    // Out-of-fold predictions are honest: the blend of one bias model is no worse than it on test.
    const biases = new BiasModel();
    await biases.fit({ dataset, train: split.train, seed: 0 });
    const users = Uint32Array.from(split.test, (j) => dataset.ratings.userIndex[j]!);
    const items = Uint32Array.from(split.test, (j) => dataset.ratings.itemIndex[j]!);
    const rmse = (p: Float32Array) =>
      Math.sqrt(p.reduce((s, v, t) => s + (v - dataset.ratings.rating[split.test[t]!]!) ** 2, 0) / p.length);
    expect(rmse(blend.predict(users, items))).toBeLessThan(rmse(biases.predict(users, items)) + 0.005);
  });

  it('rejects a fold count below 1, naming it', () => {
    expect(() => new RidgeBlend(() => [], { folds: 0 })).toThrow(/folds 0 must be an integer ≥ 1/);
  });
});
