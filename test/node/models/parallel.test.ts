/**
 * The training thread pool (train/parallel): iALS and the neighbour lists give the very same
 * numbers with 1 and 2 threads (rows are solved independently); SVD++ is reproducible for a seed
 * and thread count and trains as well on 2 threads as on 1; the parallel ranking evaluation
 * equals the serial harness; a warm-started production fit continues where the evaluation fit
 * stopped. Small generated data: this checks equality and reproducibility, not speed
 * (bench/scale.ts measures that).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { generateSyntheticWorld, syntheticWorldDataset } from '../../../train/data/synthetic.ts';
import { evaluateRankingFactors } from '../../../train/eval/factor-ranking.ts';
import { evaluateRanking, evaluateRating } from '../../../train/eval/harness.ts';
import { randomSplit } from '../../../train/eval/protocols.ts';
import { Ials } from '../../../train/models/ials.ts';
import { Svdpp } from '../../../train/models/svdpp.ts';
import { closeTrainingPool, configureThreads } from '../../../train/parallel/pool.ts';
import { similarMovieLists, similarMovieListsParallel } from '../../../train/similar/neighbors.ts';

const dataset = syntheticWorldDataset(
  generateSyntheticWorld({ movies: 400, users: 300, ratings: 12_000, seed: 3 }),
);
const split = randomSplit(dataset, 0.1, 0);

afterAll(async () => {
  configureThreads(null);
  await closeTrainingPool();
});

async function withThreads<T>(threads: number, run: () => Promise<T>): Promise<T> {
  configureThreads(threads);
  return run();
}

describe('training thread pool', () => {
  it('iALS gives identical factors with 1 and 2 threads', async () => {
    const train = (threads: number) =>
      withThreads(threads, async () => {
        const model = new Ials({ factors: 8, iterations: 3, alpha: 3, lambda: 5 });
        await model.fit({ dataset, train: split.train, seed: 1 });
        return model.exportRankFactors();
      });
    const one = await train(1);
    const two = await train(2);
    expect(two.userFactors).toEqual(one.userFactors);
    expect(two.itemFactors).toEqual(one.itemFactors);
  });

  it('SVD++ is reproducible per seed and thread count and trains as well on 2 threads', async () => {
    const train = (threads: number) =>
      withThreads(threads, async () => {
        const model = new Svdpp({ factors: 8, epochs: 8 });
        const report = await model.fit({ dataset, train: split.train, seed: 2 });
        return { model, report, rmse: evaluateRating(model, dataset, split.test).rmse! };
      });
    const a = await train(2);
    const b = await train(2);
    expect(b.model.exportFactors().userFactors).toEqual(a.model.exportFactors().userFactors);
    const one = await train(1);
    for (const run of [one, a])
      expect(run.report.epochs.at(-1)!.trainLoss).toBeLessThan(run.report.epochs[0]!.trainLoss);
    expect(Math.abs(a.rmse - one.rmse)).toBeLessThan(0.02);
    // Warm start: continues from `a` for 2 epochs on more rows.
    const warm = new Svdpp({ factors: 8, epochs: 8 });
    warm.warmStartFrom(a.model, 2);
    const all = Uint32Array.from({ length: dataset.ratings.length }, (_, j) => j);
    const report = await warm.fit({ dataset, train: all, seed: 2 });
    expect(report.epochs).toHaveLength(2);
    expect(report.epochs[0]!.trainLoss).toBeLessThan(a.report.epochs[0]!.trainLoss);
  });

  it('parallel neighbour lists equal the serial ones', async () => {
    const ials = new Ials({ factors: 8, iterations: 2, alpha: 3, lambda: 5 });
    await withThreads(2, () => ials.fit({ dataset, train: split.train, seed: 1 }));
    const rows = dataset.movies.length;
    const genres = new Float32Array(rows * 4);
    const mask = new Uint8Array(rows).fill(1);
    for (let i = 0; i < rows; i++) {
      genres[i * 4 + (i % 4)] = 1;
      genres[i * 4 + ((i * 7) % 4)] = genres[i * 4 + ((i * 7) % 4)]! + 0.5;
      if (i % 9 === 0) mask[i] = 0;
    }
    const channels = {
      content: { name: 'content', vectors: genres, dim: 4, mask },
      collaborative: { name: 'collaborative', vectors: ials.exportRankFactors().itemFactors, dim: 8 },
    };
    const serial = similarMovieLists(channels, rows, { k: 10 });
    const parallel = await withThreads(2, () => similarMovieListsParallel(channels, rows, { k: 10 }));
    for (const name of ['content', 'collaborative', 'hybrid'] as const) {
      expect(parallel[name]!.ids).toEqual(serial[name]!.ids);
      expect(parallel[name]!.scores).toEqual(serial[name]!.scores);
    }
  });

  it('blocked neighbour kernel equals the serial lists: odd dims, three channels, masked rows, one-channel queries', async () => {
    const rows = 203; // not a multiple of the query block
    let x = 12345;
    const rand = () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x / 2 ** 32 - 0.5;
    };
    const make = (dim: number) => Float32Array.from({ length: rows * dim }, rand);
    const visualMask = Uint8Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const content = make(5);
    // All-zero rows count as missing; a few content rows are zero so some queries have one channel.
    for (const i of [4, 50, 51, 202]) content.fill(0, i * 5, i * 5 + 5);
    const channels = {
      content: { name: 'content', vectors: content, dim: 5 },
      visual: { name: 'visual', vectors: make(3), dim: 3, mask: visualMask },
      collaborative: { name: 'collaborative', vectors: make(7), dim: 7 },
    };
    const serial = similarMovieLists(channels, rows, { k: 12 });
    const parallel = await withThreads(2, () => similarMovieListsParallel(channels, rows, { k: 12 }));
    for (const name of ['content', 'visual', 'collaborative', 'hybrid'] as const) {
      expect(parallel[name]!.ids).toEqual(serial[name]!.ids);
      expect(parallel[name]!.scores).toEqual(serial[name]!.scores);
    }
    // Two channels only (the visual mask decides which queries are standardised).
    const two = { visual: channels.visual, collaborative: channels.collaborative };
    const serialTwo = similarMovieLists(two, rows, { k: 7 });
    const parallelTwo = await withThreads(2, () => similarMovieListsParallel(two, rows, { k: 7 }));
    expect(parallelTwo.hybrid!.ids).toEqual(serialTwo.hybrid!.ids);
    expect(parallelTwo.hybrid!.scores).toEqual(serialTwo.hybrid!.scores);
  });

  it('parallel ranking evaluation equals the serial harness', async () => {
    const ials = new Ials({ factors: 8, iterations: 3, alpha: 3, lambda: 5 });
    await ials.fit({ dataset, train: split.train, seed: 1 });
    const serial = evaluateRanking(ials, dataset, split.train, split.test, { k: 10 });
    const parallel = await withThreads(2, () =>
      evaluateRankingFactors(ials.rankingScorer(), dataset, split.train, split.test, { k: 10 }),
    );
    expect(parallel).toEqual(serial);
  });
});
