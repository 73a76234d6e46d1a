/**
 * The learned stage in its worker threads (train/pipeline/learned-stage.ts) against the same fit
 * in-process: with a warm start from a fitted implicit ALS (what `reelrank train` does from 2M
 * ratings on), the worker rebuilds the rank model from its factors and the registry's settings,
 * and the ranker, its lists and its validation come out the same.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { selectBackend } from '../../../train/backend.ts';
import type { Dataset } from '../../../train/data/dataset.ts';
import { loadDataset } from '../../../train/data/index.ts';
import { fitLearnedRanking } from '../../../train/models/ranker.ts';
import { createModel } from '../../../train/models/registry.ts';
import type { Recommender } from '../../../train/models/types.ts';
import { closeTrainingPool, configureThreads } from '../../../train/parallel/pool.ts';
import { LearnedStageRunner } from '../../../train/pipeline/learned-stage.ts';

let dataset: Dataset;
let rows: Uint32Array;
let warm: Recommender;
const itemItem = { maxItems: 200, width: 30 };

beforeAll(async () => {
  configureThreads(2);
  await selectBackend({ backend: 'wasm' });
  dataset = await loadDataset();
  const { userIndex } = dataset.ratings;
  rows = Uint32Array.from({ length: dataset.ratings.length }, (_, j) => j).filter((j) => userIndex[j]! < 120);
  warm = createModel('ials');
  await warm.fit({ dataset, train: rows, seed: 2 });
});

afterAll(async () => {
  configureThreads(null);
  await closeTrainingPool();
});

it('fits the same warm-started stage in its worker threads as in-process', async () => {
  const runner = new LearnedStageRunner('wasm');
  expect(runner.inWorker).toBe(true);
  const lines: string[] = [];
  const pending = runner.start(
    { dataset, rows, content: Promise.resolve(null), seed: 2, rankModel: 'ials', warmFrom: warm, itemItem },
    (line) => lines.push(line),
  );
  const inWorker = await pending.result;
  await runner.close();
  const here = await fitLearnedRanking({
    dataset,
    rows,
    content: null,
    seed: 2,
    rankModel: 'ials',
    warmFrom: warm,
    itemItem,
  });
  expect(inWorker.backend).toBe('tfjs-wasm');
  expect(inWorker.lists).toBe(here.lists);
  expect(inWorker.validation).toEqual(here.validation);
  expect(inWorker.layers.map((l) => [...l.kernel])).toEqual(here.layers.map((l) => [...l.kernel]));
  expect(lines.some((line) => line.startsWith('ranker seconds'))).toBe(true);
  here.model.dispose();
}, 180_000);
