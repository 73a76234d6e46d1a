import { describe, expect, it } from 'vitest';
import { randomSplit } from '../../../train/eval/protocols.ts';
import { autorecGradient, IAutoRec, rpropStep } from '../../../train/models/autorec.ts';
import { rowsRmse } from '../../../train/models/baselines.ts';
import { buildCsr } from '../../../train/models/interactions.ts';
import type { EpochLog } from '../../../train/models/types.ts';
import { describeWithData } from '../../support/data.ts';
import { readMl100kSample } from './ml100k.ts';

describe('full-batch I-AutoRec kernels', () => {
  // 3 users, 2 items, hidden 2: item 0 rated by users 0 (4) and 2 (2); item 1 by user 1 (5).
  const csr = buildCsr(Uint32Array.of(0, 0, 1), Uint32Array.of(0, 2, 1), Float32Array.of(4, 2, 5), 2);
  const params = () => ({
    hidden: 2,
    mean: 3,
    encoder: Float32Array.of(0.1, -0.2, 0.3, 0.05, -0.1, 0.2),
    decoder: Float32Array.of(0.4, 0.1, -0.3, 0.2, 0.05, -0.25),
    hiddenBias: Float32Array.of(0.01, -0.02),
    outputBias: Float32Array.of(0.1, 0, -0.1),
  });
  const loss = (p: ReturnType<typeof params>) => {
    const g = [new Float32Array(6), new Float32Array(6), new Float64Array(2), new Float32Array(3)] as const;
    return 0.5 * autorecGradient(csr, p, ...g, new Float64Array(2), new Float64Array(2));
  };

  it('the sum of squared errors matches a hand computation', () => {
    const p = params();
    // Item 1: input (5 − 3) from user 1 → z = b + 2·enc[1] = (0.61, 0.08); r̂ = 3 + 0 + dec[1]·σ(z).
    const s = [1 / (1 + Math.exp(-0.61)), 1 / (1 + Math.exp(-0.08))];
    const item1 = (3 + -0.3 * s[0]! + 0.2 * s[1]! - 5) ** 2;
    // Item 0: inputs 1 (user 0) and −1 (user 2) → z = b + enc[0] − enc[2] = (0.21, −0.42).
    const c = [1 / (1 + Math.exp(-0.21)), 1 / (1 + Math.exp(0.42))];
    const item0 = (3.1 + 0.4 * c[0]! + 0.1 * c[1]! - 4) ** 2 + (2.9 + 0.05 * c[0]! - 0.25 * c[1]! - 2) ** 2;
    expect(loss(p) * 2).toBeCloseTo(item0 + item1, 5);
  });

  it('gradients match central finite differences of the loss', () => {
    const p = params();
    const gE = new Float32Array(6);
    const gD = new Float32Array(6);
    const gH = new Float64Array(2);
    const gO = new Float32Array(3);
    autorecGradient(csr, p, gE, gD, gH, gO, new Float64Array(2), new Float64Array(2));
    const h = 1e-3;
    for (const [name, grad] of [
      ['encoder', gE],
      ['decoder', gD],
      ['hiddenBias', gH],
      ['outputBias', gO],
    ] as const) {
      for (let j = 0; j < grad.length; j++) {
        const plus = params();
        plus[name][j] = plus[name][j]! + h;
        const minus = params();
        minus[name][j] = minus[name][j]! - h;
        const numeric = (loss(plus) - loss(minus)) / (2 * h);
        expect(grad[j]!, `${name}[${j}]`).toBeCloseTo(numeric, 3);
      }
    }
  });

  it('iRprop− grows a step while the sign holds, halves it and skips the move on a flip', () => {
    const param = Float32Array.of(1, 1);
    const previous = Float32Array.of(2, 2);
    const step = Float32Array.of(0.1, 0.1);
    rpropStep(param, Float64Array.of(3, -3), previous, step);
    expect(step[0]).toBeCloseTo(0.12, 6);
    expect(step[1]).toBeCloseTo(0.05, 6);
    expect(param[0]).toBeCloseTo(0.88, 6);
    expect(param[1]).toBe(1);
    expect(Array.from(previous)).toEqual([3, 0]);
  });
});

describeWithData('ml-100k', 'full-batch I-AutoRec on a 5k-rating real sample of ml-100k', () => {
  const dataset = readMl100kSample(5000);
  const split = randomSplit(dataset, 0.2, 1);

  it('training loss falls, a seed reproduces the run, and held-out RMSE beats the global mean', async () => {
    const make = () =>
      new IAutoRec({ optimizer: 'rprop', hidden: 16, epochs: 30, reg: 10, learningRate: 0.01 });
    const epochs: EpochLog[] = [];
    const a = make();
    await a.fit({ dataset, train: split.train, seed: 5, onEpoch: (e) => epochs.push(e) });
    expect(epochs.at(-1)!.trainLoss).toBeLessThan(epochs[0]!.trainLoss * 0.9);
    const b = make();
    await b.fit({ dataset, train: split.train, seed: 5 });
    const users = Uint32Array.from(split.test, (j) => dataset.ratings.userIndex[j]!);
    const items = Uint32Array.from(split.test, (j) => dataset.ratings.itemIndex[j]!);
    expect(b.predict(users, items)).toEqual(a.predict(users, items));
    // 4k ratings over ~900 users is far too little for an autoencoder to beat the biases; it
    // must still learn more than the global mean.
    let mean = 0;
    for (const j of split.train) mean += dataset.ratings.rating[j]!;
    mean /= split.train.length;
    let meanSse = 0;
    for (const j of split.test) meanSse += (dataset.ratings.rating[j]! - mean) ** 2;
    expect(rowsRmse(a, dataset, split.test)).toBeLessThan(Math.sqrt(meanSse / split.test.length));
  });
});
