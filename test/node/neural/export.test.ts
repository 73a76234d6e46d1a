import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRng } from '../../../shared/random.ts';
import { VersionWriter } from '../../../train/artifacts/writer.ts';
import { selectBackend } from '../../../train/backend.ts';
import type { Dataset } from '../../../train/data/dataset.ts';
import { permutation } from '../../../train/models/neural/batches.ts';
import { DeepHybridRecommender } from '../../../train/models/neural/deep-hybrid.ts';
import { exportNeuralModel } from '../../../train/models/neural/export.ts';
import { NcfRecommender } from '../../../train/models/neural/ncf.ts';
import { fileSystemModelHandler } from '../../../train/visual/cnn.ts';
import { describeWithData } from '../../support/data.ts';
import { ml100kFirstRatings } from '../../support/ml100k.ts';

describeWithData('ml-100k', 'neural model export', () => {
  let dataset: Dataset;
  let train: Uint32Array;
  const dir = mkdtempSync(join(tmpdir(), 'reelrank-neural-export-'));
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
    dataset = await ml100kFirstRatings(3000);
    train = permutation(dataset.ratings.length, createRng(0));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes quantized shards that tf.loadLayersModel reads back to the same predictions', async () => {
    const hybrid = new DeepHybridRecommender({
      hidden: [{ units: 16, batchNorm: true, dropout: 0.1 }],
      userDim: 4,
      movieDim: 4,
      epochs: 2,
      batchSize: 256,
    });
    await hybrid.fit({ dataset, train, seed: 1 });
    const ncf = new NcfRecommender({ gmfDim: 4, mlpDim: 4, mlpLayers: [8], epochs: 1, batchSize: 512 });
    await ncf.fit({ dataset, train, seed: 1 });
    const writer = new VersionWriter(dir, {
      datasetFingerprint: 'test',
      trainingConfig: {},
      backend: 'tfjs-cpu',
    });
    const hybridFiles = await exportNeuralModel(writer, hybrid, { quantization: 'uint16' });
    const ncfFiles = await exportNeuralModel(writer, ncf);
    expect(hybridFiles.map((f) => f.path)).toEqual([
      'neural/deep-hybrid-ids/model.json',
      'neural/deep-hybrid-ids/group1-shard1of1.bin',
      'neural/deep-hybrid-ids/user.bin',
      'neural/deep-hybrid-ids/movie.bin',
      'neural/deep-hybrid-ids/layout.json',
    ]);
    expect(ncfFiles.filter((f) => f.path.endsWith('.bin')).map((f) => f.path)).toContain(
      'neural/ncf-neumf/userGmf.bin',
    );
    const manifest = await writer.finish();
    const base = join(manifest.dir, 'neural/deep-hybrid-ids');
    const layout = JSON.parse(readFileSync(join(base, 'layout.json'), 'utf8'));
    expect(layout.input).toEqual([
      { name: 'user', width: 4, trained: true },
      { name: 'movie', width: 4, trained: true },
    ]);
    const loaded = await tfl.loadLayersModel(fileSystemModelHandler(base));
    const users = Uint32Array.of(0, 3, 7);
    const items = Uint32Array.of(1, 50, 99);
    const fromDisk = tf.tidy(() =>
      (loaded.predict(tf.tensor2d(hybrid.inputFor(users, items), [3, hybrid.inputWidth])) as tf.Tensor)
        .dataSync()
        .slice(),
    );
    const trained = hybrid.predict(users, items);
    fromDisk.forEach((y, k) => {
      // uint16 weight quantization: agreement to ~1e-3 of a rating.
      expect(Math.min(5, Math.max(1, y + layout.meanRating))).toBeCloseTo(trained[k]!, 2);
    });
    // NCF: rebuild the two inputs from the exported layout (GMF product, MLP concat) by hand.
    const ncfLoaded = await tfl.loadLayersModel(
      fileSystemModelHandler(join(manifest.dir, 'neural/ncf-neumf')),
    );
    const { userGmf, itemGmf, userMlp, itemMlp } = ncf.tables;
    const gmf = new Float32Array(3 * 4);
    const mlp = new Float32Array(3 * 8);
    for (let k = 0; k < 3; k++) {
      for (let j = 0; j < 4; j++) {
        gmf[k * 4 + j] = userGmf.values[users[k]! * 4 + j]! * itemGmf.values[items[k]! * 4 + j]!;
        mlp[k * 8 + j] = userMlp.values[users[k]! * 4 + j]!;
        mlp[k * 8 + 4 + j] = itemMlp.values[items[k]! * 4 + j]!;
      }
    }
    const ncfFromDisk = tf.tidy(() =>
      (ncfLoaded.predict([tf.tensor2d(gmf, [3, 4]), tf.tensor2d(mlp, [3, 8])]) as tf.Tensor)
        .dataSync()
        .slice(),
    );
    const ncfTrained = ncf.predict(users, items);
    ncfFromDisk.forEach((logit, k) => {
      // uint8 weight quantization: logits agree to within 0.02.
      expect(Math.abs(logit - ncfTrained[k]!)).toBeLessThan(0.02);
    });
    ncfLoaded.dispose();
    loaded.dispose();
    hybrid.dispose();
    ncf.dispose();
  });
});
