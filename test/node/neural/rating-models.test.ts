import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { movieRecord } from '../../../shared/catalog.ts';
import { isReelrankError } from '../../../shared/errors.ts';
import { createRng } from '../../../shared/random.ts';
import { selectBackend } from '../../../train/backend.ts';
import type { WordVectors } from '../../../train/content/word-vectors.ts';
import type { Dataset } from '../../../train/data/dataset.ts';
import { permutation } from '../../../train/models/neural/batches.ts';
import { DeepHybridRecommender } from '../../../train/models/neural/deep-hybrid.ts';
import { SparseTable } from '../../../train/models/neural/sparse.ts';
import {
  initialWordMatrix,
  TitleEmbeddingRecommender,
  titlePart,
  titleTokens,
} from '../../../train/models/neural/title.ts';
import { learnGenreEmbeddings, TwoStageRecommender } from '../../../train/models/neural/two-stage.ts';
import { describeWithData } from '../../support/data.ts';
import { ml100kFirstRatings } from '../../support/ml100k.ts';

const SMALL_TOWER = [
  { units: 16, batchNorm: true, activation: 'relu' as const, dropout: 0.2 },
  { units: 8, batchNorm: true, activation: 'relu' as const, dropout: 0.2 },
];

describe('title tokens', () => {
  it('mean-pools word rows per title and hands each word grad/length', () => {
    const titles = titleTokens(['Toy Story', 'Story', '']);
    expect(titles.vocabulary).toEqual(['toy', 'story']);
    expect([...titles.offsets]).toEqual([0, 2, 3, 3]);
    const table = new SparseTable({
      rows: 2,
      dim: 2,
      initial: Float32Array.of(1, 2, 3, 6),
      learningRate: 0.1,
    });
    const part = titlePart(table, titles);
    const out = new Float32Array(3 * 2);
    part.gather(Uint32Array.of(0, 0, 0), Uint32Array.of(0, 1, 2), out, 2, 0);
    expect([...out]).toEqual([2, 4, 3, 6, 0, 0]);
    // Title 0 gets gradient (2, -2): each of its two words receives (1, -1); Adam's first step moves lr·sign.
    part.scatter?.(Uint32Array.of(0), Uint32Array.of(0), Float32Array.of(2, -2), 2, 0);
    expect(table.values[0]).toBeCloseTo(0.9, 5);
    expect(table.values[1]).toBeCloseTo(2.1, 5);
    expect(table.values[2]).toBeCloseTo(2.9, 5);
  });

  it('starts from pretrained vectors where a word has one (zeros when frozen, random otherwise)', () => {
    const pretrained: WordVectors = {
      vocabulary: ['story'],
      dim: 2,
      vectors: Float32Array.of(0.5, -0.5),
      counts: new Float64Array(1),
    };
    const frozen = initialWordMatrix(['toy', 'story'], 2, pretrained, false, createRng(1));
    expect([...frozen.matrix]).toEqual([0, 0, 0.5, -0.5]);
    expect(frozen.covered).toBe(1);
    const tuned = initialWordMatrix(['toy', 'story'], 2, pretrained, true, createRng(1));
    expect(tuned.matrix[0]).not.toBe(0);
    expect([...tuned.matrix.subarray(2)]).toEqual([0.5, -0.5]);
  });

  it('refuses a pretrained variant with neither vectors nor overview text to pretrain on', async () => {
    const movies = ['Toy Story', 'Heat'].map((title, i) => movieRecord({ movieId: i + 1, title }));
    const dataset: Dataset = {
      name: 'tiny',
      format: 'synthetic',
      source: 'test',
      movies,
      userIds: Uint32Array.of(1),
      ratings: {
        length: 2,
        userIndex: Uint32Array.of(0, 0),
        itemIndex: Uint32Array.of(0, 1),
        rating: Float32Array.of(4, 2),
        timestamp: new Uint32Array(2),
      },
      ratingScale: { min: 1, max: 5, step: 1 },
      syntheticRatings: false,
      officialSplits: {},
      summary: { skippedRows: 0, issues: [] },
    };
    const error = await new TitleEmbeddingRecommender({ variant: 'frozen' })
      .fit({ dataset, train: Uint32Array.of(0, 1), seed: 0 })
      .catch((e: unknown) => e);
    expect(isReelrankError(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /^title-embedding variant 'frozen' needs pretrained word vectors: .*this catalog has no overview text/,
    );
  });
});

describeWithData('ml-100k', 'rating models on a real ml-100k sample', () => {
  let dataset: Dataset;
  let train: Uint32Array;
  let validation: Uint32Array;
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
    dataset = await ml100kFirstRatings(5000);
    const order = permutation(dataset.ratings.length, createRng(0));
    train = order.slice(0, 4500);
    validation = order.slice(4500);
  });

  it('deep hybrid: loss falls, seeded runs agree, exported model = trained tower, no leaked tensors', async () => {
    const items = dataset.movies.length;
    const content = { dim: 3, values: new Float32Array(items * 3).map((_, i) => Math.sin(i)) };
    const visual = { dim: 2, values: new Float32Array(items * 2).map((_, i) => Math.cos(i)) };
    const before = tf.memory().numTensors;
    const run = async () => {
      const model = new DeepHybridRecommender({
        hidden: SMALL_TOWER,
        userDim: 8,
        movieDim: 8,
        epochs: 4,
        batchSize: 128,
        content,
        visual,
      });
      const report = await model.fit({ dataset, train, validation, seed: 0 });
      return { model, report };
    };
    const a = await run();
    expect(a.model.name).toBe('deep-hybrid(ids+content+visual)');
    const losses = a.report.epochs.map((e) => e.trainLoss);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.9);
    expect(a.report.notes?.parts).toEqual(['user:8', 'movie:8', 'content:3', 'visual:2']);
    const b = await run();
    const u = Uint32Array.of(0, 10, 20);
    const m = Uint32Array.of(0, 100, 200);
    const predicted = a.model.predict(u, m);
    expect([...b.model.predict(u, m)]).toEqual([...predicted]);
    for (const p of predicted) expect(p >= 1 && p <= 5).toBe(true);
    // The exported LayersModel (tfjs' own Dense/BatchNorm kernels, moving statistics) gives the
    // same ratings as our eager training path.
    const exported = tf.tidy(() => {
      const x = tf.tensor2d(a.model.inputFor(u, m), [u.length, a.model.inputWidth]);
      return (a.model.model.predict(x) as tf.Tensor).dataSync().slice();
    });
    exported.forEach((y, k) => {
      expect(Math.min(5, Math.max(1, y + a.model.meanRating))).toBeCloseTo(predicted[k]!, 4);
    });
    a.model.dispose();
    b.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('early stopping keeps the best validation epoch (its RMSE is reproduced after fit)', async () => {
    const before = tf.memory().numTensors;
    const model = new DeepHybridRecommender({
      hidden: SMALL_TOWER,
      userDim: 8,
      movieDim: 8,
      epochs: 10,
      batchSize: 128,
      patience: 1,
      learningRate: 0.01,
      embeddingLearningRate: 0.05,
    });
    const report = await model.fit({ dataset, train, validation, seed: 5 });
    const rmses = report.epochs.map((e) => e.validationRmse!);
    const bestEpoch = report.notes?.bestEpoch as number;
    expect(rmses[bestEpoch]).toBe(Math.min(...rmses));
    // This seeded run overfits after its best epoch, so the restore is really exercised.
    expect(bestEpoch).toBeLessThan(report.epochs.length - 1);
    const u = Uint32Array.from(validation, (r) => dataset.ratings.userIndex[r]!);
    const m = Uint32Array.from(validation, (r) => dataset.ratings.itemIndex[r]!);
    const predicted = model.predict(u, m);
    let se = 0;
    validation.forEach((r, k) => {
      se += (predicted[k]! - dataset.ratings.rating[r]!) ** 2;
    });
    expect(Math.sqrt(se / validation.length)).toBeCloseTo(rmses[bestEpoch]!, 5);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('title embeddings: learned and fine-tuned vectors train; frozen vectors stay put', async () => {
    const before = tf.memory().numTensors;
    const pretrainedVocabulary = ['the', 'story', 'of', 'man', 'love', 'star'];
    const pretrained: WordVectors = {
      vocabulary: pretrainedVocabulary,
      dim: 4,
      vectors: new Float32Array(pretrainedVocabulary.length * 4).map((_, i) => Math.sin(i + 1) * 0.3),
      counts: new Float64Array(pretrainedVocabulary.length),
    };
    for (const variant of ['learned', 'frozen', 'finetuned'] as const) {
      const model = new TitleEmbeddingRecommender({
        variant,
        pretrained,
        wordDim: 4,
        userDim: 4,
        movieDim: 4,
        epochs: 3,
        batchSize: 128,
        hidden: [{ units: 8 }],
      });
      const report = await model.fit({ dataset, train, validation, seed: 2 });
      const losses = report.epochs.map((e) => e.trainLoss);
      expect(losses.at(-1)!, variant).toBeLessThan(losses[0]!);
      expect(report.notes?.variant).toBe(variant);
      if (variant !== 'learned') expect(report.notes?.pretrainedCoverage).toBeGreaterThan(0);
      const trained = model.wordVectors;
      const row = trained.vocabulary.indexOf('story');
      const storyVector = [...trained.vectors.subarray(row * 4, row * 4 + 4)];
      const pretrainedStory = [...pretrained.vectors.subarray(4, 8)];
      if (variant === 'frozen') expect(storyVector).toEqual(pretrainedStory);
      else expect(storyVector).not.toEqual(pretrainedStory);
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('two-stage: stage 1 separates genres, stage 2 loss falls, genre init differs from random', async () => {
    const stage1 = learnGenreEmbeddings(dataset.movies, { dim: 8, genreEpochs: 5 }, createRng(1));
    expect(stage1.losses.at(-1)!).toBeLessThan(stage1.losses[0]!);
    expect(stage1.genres).toContain('Comedy');
    const fitWith = async (init: 'genre' | 'random') => {
      const model = new TwoStageRecommender({ init, dim: 8, genreEpochs: 5, epochs: 4 });
      return { model, report: await model.fit({ dataset, train, validation, seed: 4 }) };
    };
    const genre = await fitWith('genre');
    const again = await fitWith('genre');
    const random = await fitWith('random');
    const losses = genre.report.epochs.map((e) => e.trainLoss);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    expect(again.report.epochs.map((e) => e.validationRmse)).toEqual(
      genre.report.epochs.map((e) => e.validationRmse),
    );
    expect(random.report.epochs[0]!.trainLoss).not.toBe(genre.report.epochs[0]!.trainLoss);
    expect(genre.model.genreEmbeddings?.movies.length).toBe(dataset.movies.length * 8);
    // Its factor export is the model: mean + b_u + b_i + p_u·q_i, clamped, equals predict.
    const f = genre.model.exportFactors();
    const users = Uint32Array.of(0, 4, 9);
    const items = Uint32Array.of(10, 3, 120);
    const predicted = genre.model.predict(users, items);
    users.forEach((u, k) => {
      const i = items[k]!;
      let dot = 0;
      for (let j = 0; j < f.factors; j++)
        dot += f.userFactors[u * f.factors + j]! * f.itemFactors[i * f.factors + j]!;
      const r = Math.min(5, Math.max(1, f.mean + f.userBias[u]! + f.itemBias[i]! + dot));
      expect(predicted[k]).toBeCloseTo(r, 4);
    });
  });

  it('two-stage: early stopping on a carve keeps the best epoch', async () => {
    const model = new TwoStageRecommender({
      init: 'genre',
      dim: 8,
      genreEpochs: 2,
      epochs: 8,
      patience: 1,
      learningRate: 0.03,
    });
    const report = await model.fit({ dataset, train, seed: 5 });
    const rmses = report.epochs.map((e) => e.validationRmse!);
    expect(report.notes?.validationCarved).toBe(true);
    expect(report.notes?.bestValidationRmse).toBe(Math.min(...rmses));
    expect(rmses[report.notes?.bestEpoch as number]).toBe(Math.min(...rmses));
  });
});
