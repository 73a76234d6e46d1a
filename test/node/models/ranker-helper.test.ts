/**
 * The learned stage split over two threads (train/pipeline/learned-stage.ts) must give what one
 * thread gives: here the helper's share (`learnedHelperPart`) runs beside the stage in the same
 * thread, wired as the worker wires it, and the fitted ranker, its lists and its validation
 * scores are compared with a run without a helper, bit for bit. Likewise the ranker fitted with
 * the host's float32 Adam against tf.train.adam.
 */
import { beforeAll, expect, it } from 'vitest';
import type { DenseLayer } from '../../../shared/serving/ranker.ts';
import { selectBackend } from '../../../train/backend.ts';
import type { Dataset } from '../../../train/data/dataset.ts';
import { loadDataset } from '../../../train/data/index.ts';
import { createRng } from '../../../shared/random.ts';
import {
  fitLearnedRanking,
  fitRankerNet,
  type HelperLists,
  type HelperScores,
  type LearnedHelper,
  type LearnedRankingOptions,
  learnedHelperPart,
} from '../../../train/models/ranker.ts';

let dataset: Dataset;
let options: LearnedRankingOptions;

beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
  dataset = await loadDataset();
  const { userIndex } = dataset.ratings;
  // The first 160 users' ratings: a carve of a few thousand rows, three folds.
  const rows = Uint32Array.from({ length: dataset.ratings.length }, (_, j) => j).filter(
    (j) => userIndex[j]! < 160,
  );
  options = {
    dataset,
    rows,
    content: null,
    seed: 3,
    itemItem: { maxItems: 200, width: 30 },
    perChannel: 30,
    epochs: 1,
    windows: 3,
    validationWindows: 2,
  };
});

function inThreadHelper(): LearnedHelper & { started: boolean } {
  let sendLists: (lists: HelperLists) => void = () => {};
  let sendScores: (scores: HelperScores) => void = () => {};
  let giveLayers: (layers: DenseLayer[]) => void = () => {};
  const lists = new Promise<HelperLists>((resolve) => {
    sendLists = resolve;
  });
  const scores = new Promise<HelperScores>((resolve) => {
    sendScores = resolve;
  });
  const layers = new Promise<DenseLayer[]>((resolve) => {
    giveLayers = resolve;
  });
  const helper = {
    started: false,
    start: () => {
      helper.started = true;
      void learnedHelperPart(options, { sendLists, layers, sendScores });
    },
    lists: () => lists,
    scores: (fitted: DenseLayer[]) => {
      giveLayers(fitted);
      return scores;
    },
  };
  return helper;
}

it('gives the same ranker, lists and validation with a helper thread as without', async () => {
  const alone = await fitLearnedRanking(options);
  const helper = inThreadHelper();
  const split = await fitLearnedRanking({ ...options, helper });
  expect(helper.started).toBe(true);
  expect(split.lists).toBe(alone.lists);
  expect(split.validation).toEqual(alone.validation);
  expect(split.config).toEqual(alone.config);
  expect(split.layers.map((l) => [...l.kernel, ...l.bias])).toEqual(
    alone.layers.map((l) => [...l.kernel, ...l.bias]),
  );
  alone.model.dispose();
  split.model.dispose();
}, 120_000);

it("fits the same ranker with the host's float32 Adam as with tf.train.adam, bit for bit", async () => {
  const rng = createRng(5);
  const inputs = 19;
  const lists = Array.from({ length: 120 }, () => {
    const m = 70;
    return {
      features: Float32Array.from({ length: m * inputs }, () => rng.next()),
      m,
      positives: Uint32Array.of(0, 1, 2),
      negatives: Uint32Array.from({ length: m - 3 }, (_, i) => i + 3),
      weight: 1,
    };
  });
  const weights = async (optimizer: 'tfjs' | 'float32') => {
    const net = await fitRankerNet(lists, {
      inputs,
      epochs: 3,
      negatives: 50,
      batch: 8,
      learningRate: 0.01,
      hidden: [32, 16],
      seed: 1,
      optimizer,
    });
    const values = net.getWeights().flatMap((t) => Array.from(t.dataSync()));
    net.dispose();
    return values;
  };
  const reference = await weights('tfjs');
  const host = await weights('float32');
  expect(host).toHaveLength(19 * 32 + 32 + 32 * 16 + 16 + 16 + 1);
  expect(host).toEqual(reference);
});
