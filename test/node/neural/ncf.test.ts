import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { selectBackend } from '../../../train/backend.ts';
import type { Dataset } from '../../../train/data/dataset.ts';
import { evaluateSampled } from '../../../train/eval/harness.ts';
import { leaveLastOut } from '../../../train/eval/protocols.ts';
import { NcfRecommender } from '../../../train/models/neural/ncf.ts';
import { describeWithData } from '../../support/data.ts';
import { ml100kFirstRatings } from '../../support/ml100k.ts';

describeWithData('ml-100k', 'NCF on a real ml-100k sample', () => {
  let dataset: Dataset;
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
    dataset = await ml100kFirstRatings(6000);
  });

  it('reduces its training loss, is deterministic by seed, leaks no tensors, beats chance', async () => {
    const split = leaveLastOut(dataset);
    const before = tf.memory().numTensors;
    const run = async () => {
      const model = new NcfRecommender({
        epochs: 4,
        batchSize: 512,
        gmfDim: 8,
        mlpDim: 8,
        mlpLayers: [16, 8],
      });
      const report = await model.fit({ dataset, train: split.train, seed: 0 });
      return { model, report };
    };
    // Seed 0 on purpose: tfjs treats an initializer seed of 0 as unseeded (Math.random).
    const first = await run();
    const losses = first.report.epochs.map((e) => e.trainLoss);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.9);
    expect(first.report.notes?.backend).toBe('wasm');
    const second = await run();
    const users = Uint32Array.of(0, 5, 9);
    const items = Uint32Array.of(3, 50, 200);
    expect([...second.model.predict(users, items)]).toEqual([...first.model.predict(users, items)]);
    expect(second.report.epochs.map((e) => e.trainLoss)).toEqual(losses);
    // A weak, fast check on the NCF protocol: far above the 10/100 a random scorer gets.
    const result = evaluateSampled(first.model, dataset, split.train, split.test.slice(0, 150), { seed: 1 });
    expect(result.users).toBe(150);
    expect(result['hr@10']).toBeGreaterThan(0.2);
    const scores = new Float32Array(dataset.movies.length);
    first.model.scoreAll(5, scores);
    expect(scores[50]).toBeCloseTo(first.model.predict(Uint32Array.of(5), Uint32Array.of(50))[0]!, 5);
    first.model.dispose();
    second.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops early on a validation carve and keeps the best epoch', async () => {
    const split = leaveLastOut(dataset);
    const before = tf.memory().numTensors;
    const model = new NcfRecommender({
      epochs: 3,
      batchSize: 512,
      gmfDim: 4,
      mlpDim: 4,
      mlpLayers: [8],
      patience: 1,
    });
    const report = await model.fit({ dataset, train: split.train, seed: 3 });
    const hitRates = report.notes?.validationHitRate as number[];
    expect(report.notes?.validationCarved).toBe(true);
    expect(hitRates.length).toBe(report.epochs.length);
    const bestEpoch = report.notes?.bestEpoch as number;
    expect(hitRates[bestEpoch]).toBe(Math.max(...hitRates));
    model.dispose();
    // With refit, the chosen epoch count is retrained on every training row.
    const refit = new NcfRecommender({
      epochs: 3,
      batchSize: 512,
      gmfDim: 4,
      mlpDim: 4,
      mlpLayers: [8],
      patience: 1,
      refit: true,
    });
    const refitReport = await refit.fit({ dataset, train: split.train, seed: 3 });
    expect(refitReport.notes?.refitEpochs).toBe(bestEpoch + 1);
    expect(refitReport.epochs.length).toBe(bestEpoch + 1);
    expect(refitReport.notes?.selection).toMatchObject({ bestEpoch });
    refit.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
