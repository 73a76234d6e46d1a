import { expect, it } from 'vitest';
import { randomSplit } from '../../../train/eval/protocols.ts';
import { BiasModel } from '../../../train/models/baselines.ts';
import { BayesianFm } from '../../../train/models/bayesian-fm.ts';
import type { EpochLog, Recommender } from '../../../train/models/types.ts';
import { describeWithData } from '../../support/data.ts';
import { readMl100kSample } from './ml100k.ts';

describeWithData('ml-100k', 'Bayesian FM (Gibbs sampling) on a 5k-rating real sample of ml-100k', () => {
  const dataset = readMl100kSample(5000);
  const split = randomSplit(dataset, 0.2, 1);
  const users = Uint32Array.from(split.test, (j) => dataset.ratings.userIndex[j]!);
  const items = Uint32Array.from(split.test, (j) => dataset.ratings.itemIndex[j]!);
  const truth = Float32Array.from(split.test, (j) => dataset.ratings.rating[j]!);
  const rmse = (predicted: Float32Array) =>
    Math.sqrt(predicted.reduce((s, p, j) => s + (p - truth[j]!) ** 2, 0) / predicted.length);
  const fitModel = async (model: Recommender, seed: number, validation?: Uint32Array) => {
    const epochs: EpochLog[] = [];
    await model.fit({
      dataset,
      train: split.train,
      seed,
      ...(validation ? { validation } : {}),
      onEpoch: (e) => epochs.push(e),
    });
    return epochs;
  };
  const make = () => new BayesianFm({ factors: 8, iterations: 40, burnIn: 10 });

  it('the sampled training error falls from the first sweep, and a seed reproduces the run exactly', async () => {
    const a = make();
    const epochs = await fitModel(a, 3);
    expect(epochs).toHaveLength(40);
    const late = epochs.slice(-10).reduce((s, e) => s + e.trainLoss, 0) / 10;
    expect(late).toBeLessThan(epochs[0]!.trainLoss * 0.9);
    const b = make();
    await fitModel(b, 3);
    expect(b.predict(users, items)).toEqual(a.predict(users, items));
    const c = make();
    await fitModel(c, 4);
    expect(c.predict(users, items)).not.toEqual(a.predict(users, items));
    for (const p of a.predict(users, items)) expect(p >= 1 && p <= 5).toBe(true);
    expect(a.keptSamples).toBe(15);
  });

  it('averaging the samples beats the bias baseline and a single late sample on held-out ratings', async () => {
    const biases = new BiasModel();
    await fitModel(biases, 0);
    const model = make();
    // The held-out rows as `validation`: the learning curve reports the running average's RMSE.
    const epochs = await fitModel(model, 0, split.test);
    const averaged = rmse(model.predict(users, items));
    expect(averaged).toBeLessThan(rmse(biases.predict(users, items)));
    // The logged curve ends at the same averaged RMSE the model predicts with (thin 2 keeps every
    // other sample, the curve averages all: close, not equal).
    expect(Math.abs(epochs.at(-1)!.validationRmse! - averaged)).toBeLessThan(0.01);
    // During burn-in the curve is a single sample's RMSE, which the average improves on.
    expect(averaged).toBeLessThan(epochs[9]!.validationRmse!);
  });

  it('an item with no training ratings gets a prediction from its genres and the priors', async () => {
    const rated = new Set(Array.from(split.train, (j) => dataset.ratings.itemIndex[j]!));
    const unrated = dataset.movies.findIndex((_, i) => !rated.has(i));
    expect(unrated).toBeGreaterThanOrEqual(0);
    const model = make();
    await fitModel(model, 0);
    const p = model.predict(Uint32Array.of(0, 1), Uint32Array.of(unrated, unrated));
    for (const v of p) expect(Number.isFinite(v) && v >= 1 && v <= 5).toBe(true);
  });

  it('rejects settings that keep no sample, naming the values', () => {
    expect(() => new BayesianFm({ iterations: 10, burnIn: 10 })).toThrow(
      /burnIn 10 must be below iterations 10/,
    );
  });
});
