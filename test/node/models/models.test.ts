import { expect, it } from 'vitest';
import { randomSplit } from '../../../train/eval/protocols.ts';
import { IAutoRec } from '../../../train/models/autorec.ts';
import { BiasModel, PopularityModel } from '../../../train/models/baselines.ts';
import { Bpr } from '../../../train/models/bpr.ts';
import { RidgeBlend } from '../../../train/models/blend.ts';
import { Ease } from '../../../train/models/ease.ts';
import { buildItemFeatures } from '../../../train/models/features.ts';
import { ItemKnnBaseline, UserKnnBaseline } from '../../../train/models/knn.ts';
import { BiasedMf } from '../../../train/models/mf.ts';
import { Svdpp } from '../../../train/models/svdpp.ts';
import { TimeBiasModel } from '../../../train/models/time-biases.ts';
import type { EpochLog, Recommender } from '../../../train/models/types.ts';
import { describeWithData } from '../../support/data.ts';
import { readMl100kSample } from './ml100k.ts';

describeWithData('ml-100k', 'classic models on a 5k-rating real sample of ml-100k', () => {
  const dataset = readMl100kSample(5000);
  const split = randomSplit(dataset, 0.2, 1);
  const users = Uint32Array.from(split.test, (j) => dataset.ratings.userIndex[j]!);
  const items = Uint32Array.from(split.test, (j) => dataset.ratings.itemIndex[j]!);
  const truth = Float32Array.from(split.test, (j) => dataset.ratings.rating[j]!);
  const testRmse = (model: Recommender) => {
    const p = model.predict(users, items);
    let s = 0;
    for (let j = 0; j < p.length; j++) s += (p[j]! - truth[j]!) ** 2;
    return Math.sqrt(s / p.length);
  };
  const fitModel = async (model: Recommender, seed = 0) => {
    const epochs: EpochLog[] = [];
    await model.fit({ dataset, train: split.train, seed, onEpoch: (e) => epochs.push(e) });
    return epochs;
  };

  it('biases beat the global mean on held-out ratings', async () => {
    const model = new BiasModel();
    await fitModel(model);
    let mean = 0;
    for (const j of split.train) mean += dataset.ratings.rating[j]!;
    mean /= split.train.length;
    const meanRmse = Math.sqrt(truth.reduce((s, r) => s + (r - mean) ** 2, 0) / truth.length);
    expect(testRmse(model)).toBeLessThan(meanRmse);
  });

  for (const [name, make] of [
    ['mf-sgd', () => new BiasedMf({ factors: 16, epochs: 12 })],
    ['mf-als', () => new BiasedMf({ solver: 'als', factors: 8, epochs: 5 })],
    ['svdpp', () => new Svdpp({ factors: 16, epochs: 12 })],
    ['bpr', () => new Bpr({ factors: 8, epochs: 10 })],
    ['time-biases', () => new TimeBiasModel({ epochs: 10 })],
    ['i-autorec', () => new IAutoRec({ hidden: 16, epochs: 8, learningRate: 0.01 })],
  ] as const) {
    it(`${name}: training loss decreases and a seed reproduces the run exactly`, async () => {
      const a = make();
      const epochs = await fitModel(a, 7);
      expect(epochs.length).toBeGreaterThan(2);
      expect(epochs.at(-1)!.trainLoss).toBeLessThan(epochs[0]!.trainLoss * 0.9);
      const b = make();
      await fitModel(b, 7);
      expect(b.predict(users, items)).toEqual(a.predict(users, items));
      const c = make();
      await fitModel(c, 8);
      expect(c.predict(users, items)).not.toEqual(a.predict(users, items));
      // Rating models' predictions stay on the rating scale.
      if (a.predictsRatings) for (const p of a.predict(users, items)) expect(p >= 1 && p <= 5).toBe(true);
    });
  }

  it('SGD learning-rate/regularisation defaults keep held-out RMSE near the bias baseline on a tiny sample', async () => {
    const biases = new BiasModel();
    await fitModel(biases);
    const mf = new BiasedMf({ factors: 16, epochs: 20 });
    await fitModel(mf);
    // 4k ratings over ~900 users: factors cannot add much, but must not overfit badly.
    expect(testRmse(mf)).toBeLessThan(testRmse(biases) + 0.05);
  });

  it('metadata projection gives unrated movies a vector from their genres', async () => {
    const features = buildItemFeatures(dataset.movies);
    const model = new BiasedMf({ factors: 8, epochs: 5, itemFeatures: features });
    await fitModel(model);
    const cold = model.warmItems.indexOf(0);
    expect(cold).toBeGreaterThanOrEqual(0);
    const row = model.itemFactors.subarray(cold * 8, cold * 8 + 8);
    expect(row.some((v) => v !== 0)).toBe(true);
    // Two unrated movies with identical genres get identical vectors.
    const key = (i: number) => dataset.movies[i]!.genres.join('|');
    const twin = Array.from(model.warmItems.keys()).find(
      (i) => i !== cold && model.warmItems[i] === 0 && key(i) === key(cold),
    );
    if (twin !== undefined) expect(model.itemFactors.subarray(twin * 8, twin * 8 + 8)).toEqual(row);
  });

  it('kNN baselines and the blend predict finite ratings on scale', async () => {
    for (const model of [new ItemKnnBaseline(), new UserKnnBaseline()]) {
      await fitModel(model);
      for (const p of model.predict(users, items)) expect(p >= 1 && p <= 5).toBe(true);
    }
    const blend = new RidgeBlend(() => [new BiasModel(), new ItemKnnBaseline()], { refit: false });
    await fitModel(blend);
    expect(blend.weights.length).toBe(9); // (intercept + 2 members) × [1, user support, item support]
    expect(Number.isFinite(testRmse(blend))).toBe(true);
  });

  it('EASE ranks held-out items above popularity on the same sample', async () => {
    const { evaluateRanking } = await import('../../../train/eval/harness.ts');
    const ease = new Ease({ lambda: 50, maxItems: 500 });
    await fitModel(ease);
    const popularity = new PopularityModel();
    await fitModel(popularity);
    const e = evaluateRanking(ease, dataset, split.train, split.test, { k: 10 });
    const p = evaluateRanking(popularity, dataset, split.train, split.test, { k: 10 });
    expect(e['recall@10']).toBeGreaterThan(0);
    expect(e['ndcg@10']! + 0.02).toBeGreaterThan(p['ndcg@10']!);
  });
});

it('EASE on a hand-made catalog: co-occurring items score for each other', async () => {
  const { tinyDataset } = await import('../eval/fixture.ts');
  // users 0-2 all took items 0 and 1; user 3 took only item 0; item 2 is taken by user 2 alone.
  const dataset = tinyDataset(
    [
      [0, 0, 5, 1],
      [0, 1, 5, 1],
      [1, 0, 5, 1],
      [1, 1, 5, 1],
      [2, 0, 5, 1],
      [2, 1, 5, 1],
      [2, 2, 5, 1],
      [3, 0, 5, 1],
    ],
    3,
  );
  const ease = new Ease({ lambda: 1 });
  await ease.fit({ dataset, train: Uint32Array.from({ length: 8 }, (_, j) => j), seed: 0 });
  const scores = new Float32Array(3);
  ease.scoreAll(3, scores);
  expect(scores[1]!).toBeGreaterThan(scores[2]!);
});

it('item-kNN moves a prediction towards the residual of a perfectly correlated item', async () => {
  const { tinyDataset } = await import('../eval/fixture.ts');
  // Items 0 and 1 get the same rating from users 0-3; user 4 loved item 0 and has not rated item 1.
  const dataset = tinyDataset(
    [
      [0, 0, 5, 1],
      [0, 1, 5, 1],
      [1, 0, 1, 1],
      [1, 1, 1, 1],
      [2, 0, 5, 1],
      [2, 1, 5, 1],
      [3, 0, 1, 1],
      [3, 1, 1, 1],
      [4, 0, 5, 1],
      [4, 2, 3, 1],
    ],
    3,
  );
  const train = Uint32Array.from({ length: 10 }, (_, j) => j);
  const knn = new ItemKnnBaseline({ shrinkage: 0, neighbors: 1 });
  await knn.fit({ dataset, train, seed: 0 });
  const biases = new BiasModel();
  await biases.fit({ dataset, train, seed: 0 });
  const [withNeighbour] = knn.predict(Uint32Array.of(4), Uint32Array.of(1));
  const [baseline] = biases.predict(Uint32Array.of(4), Uint32Array.of(1));
  expect(withNeighbour!).toBeGreaterThan(baseline! + 0.5);
});

it("EASE transition term: the item that followed the user's latest item elsewhere rises", async () => {
  const { tinyDataset } = await import('../eval/fixture.ts');
  // Users 0-2 watched item 0 and then item 1 (t=1, t=2); user 3 watched item 2 then item 0 last.
  // Item 3 co-occurs with item 0 as often as item 1 does, but never right after it.
  const dataset = tinyDataset(
    [
      [0, 0, 5, 1],
      [0, 1, 5, 2],
      [1, 0, 5, 1],
      [1, 1, 5, 2],
      [2, 3, 5, 0],
      [2, 0, 5, 1],
      [2, 1, 5, 2],
      [4, 3, 5, 0],
      [4, 0, 5, 1],
      [5, 3, 5, 0],
      [5, 0, 5, 1],
      [3, 2, 5, 1],
      [3, 0, 5, 2],
    ],
    4,
  );
  const train = Uint32Array.from({ length: 13 }, (_, j) => j);
  const ease = new Ease({ lambda: 1 });
  await ease.fit({ dataset, train, seed: 0 });
  const plain = new Float32Array(4);
  ease.scoreAll(3, plain);
  ease.setSequence(10, 1);
  const sequenced = new Float32Array(4);
  ease.scoreAll(3, sequenced);
  // Only item 1 ever followed item 0: its score gains the transition weight, item 3's does not.
  expect(sequenced[1]! - plain[1]!).toBeCloseTo(10, 4);
  expect(sequenced[3]!).toBeCloseTo(plain[3]!, 6);
});

it('cold-start hybrid scores never-rated movies from their features', async () => {
  const { tinyDataset } = await import('../eval/fixture.ts');
  const { ColdStartHybrid } = await import('../../../train/models/cold.ts');
  // Items 0-1 are 'A' movies and popular; items 2-3 'B' movies, rarely taken. Items 4 (A) and 5 (B) are cold.
  const rows: [number, number, number, number][] = [];
  for (let u = 0; u < 6; u++) rows.push([u, 0, 4, 1], [u, 1, 4, 1]);
  rows.push([0, 2, 3, 1], [1, 3, 3, 1]);
  const dataset = tinyDataset(rows, 6, [['A'], ['A'], ['B'], ['B'], ['A'], ['B']]);
  const model = new ColdStartHybrid({ itemFeatures: buildItemFeatures(dataset.movies), tasteWeight: 0 });
  await model.fit({ dataset, train: Uint32Array.from(rows.keys()), seed: 0 });
  const scores = new Float32Array(6);
  model.scoreAll(2, scores);
  expect(scores[4]!).toBeGreaterThan(scores[5]!);
});
