import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVersion } from '../../../shared/artifacts/loader.ts';
import { MemoryStore } from '../../../shared/artifacts/memory-store.ts';
import { POINTER_KEY, versionKey } from '../../../shared/artifacts/spec.ts';
import { storeIOHandler, type TfjsQuantization, tfjsIOHandler } from '../../../shared/artifacts/tfjs.ts';
import { sha256Hex } from '../../../shared/hash.ts';
import { VersionWriter } from '../../../train/artifacts/writer.ts';
import { S3Store } from '../../../train/store/s3.ts';
import { S3RVER_CREDENTIALS, startS3 } from './s3-server.ts';
import { FsStore } from '../../../train/store/fs.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

function storeIO(store: MemoryStore) {
  return {
    read: (key: string) => store.get(key),
    write: (key: string, bytes: Uint8Array) => store.put(key, bytes),
  };
}

/** A small MLP with deterministic weights. */
function makeModel(): tf.LayersModel {
  const model = tf.sequential();
  model.add(
    tf.layers.dense({
      units: 16,
      inputShape: [8],
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: 2 }),
    }),
  );
  model.add(tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
  return model;
}

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

describe('TF.js LayersModel through the store IOHandler', () => {
  it('decodes hand-computed uint8 bytes [0, 48, 255], min -1, scale 0.1 -> [-1, 3.8, 24.5]', async () => {
    const store = new MemoryStore();
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [1], useBias: false })] });
    await model.save(tfjsIOHandler(storeIO(store), 'm/model.json'));
    model.dispose();
    const json = JSON.parse(new TextDecoder().decode((await store.get('m/model.json'))!));
    const spec = json.weightsManifest[0].weights[0];
    expect(spec.shape).toEqual([1, 3]);
    spec.quantization = { dtype: 'uint8', min: -1, scale: 0.1 };
    await store.put('m/model.json', new TextEncoder().encode(JSON.stringify(json)));
    await store.put(`m/${json.weightsManifest[0].paths[0]}`, new Uint8Array([0, 48, 255]));

    const before = tf.memory().numTensors;
    const loaded = await tf.loadLayersModel(tfjsIOHandler(storeIO(store), 'm/model.json'));
    const kernel = loaded.getWeights()[0]!.dataSync();
    expect(kernel[0]).toBeCloseTo(-1, 6);
    expect(kernel[1]).toBeCloseTo(3.8, 5);
    expect(kernel[2]).toBeCloseTo(24.5, 5);
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  const cases: { quantization: TfjsQuantization; bytesPerWeight: number }[] = [
    { quantization: null, bytesPerWeight: 4 },
    { quantization: 'float16', bytesPerWeight: 2 },
    { quantization: 'uint16', bytesPerWeight: 2 },
    { quantization: 'uint8', bytesPerWeight: 1 },
  ];
  for (const { quantization, bytesPerWeight } of cases) {
    it(`round-trips a model with ${quantization ?? 'float32'} weights within the stated bound, leaking no tensors`, async () => {
      const before = tf.memory().numTensors;
      const store = new MemoryStore();
      const model = makeModel();
      const original = weightsOf(model);
      const input = tf.tensor2d(
        new Float32Array(3 * 8).map((_, i) => Math.sin(i)),
        [3, 8],
      );
      const expected = tf.tidy(() => (model.predict(input) as tf.Tensor).dataSync() as Float32Array);
      await model.save(
        tfjsIOHandler(storeIO(store), 'reranker/model.json', { quantization, shardBytes: 256 }),
      );

      const weightCount = original.reduce((n, w) => n + w.length, 0);
      const shards = await store.list('reranker/group1-shard');
      expect(shards.reduce((n, s) => n + s.size, 0)).toBe(weightCount * bytesPerWeight);
      // 256-byte shards, named as the TF.js converter names them.
      const count = Math.ceil((weightCount * bytesPerWeight) / 256);
      expect(shards.map((s) => s.key).sort()).toEqual(
        Array.from({ length: count }, (_, i) => `reranker/group1-shard${i + 1}of${count}.bin`).sort(),
      );

      const loaded = await tf.loadLayersModel(tfjsIOHandler(storeIO(store), 'reranker/model.json'));
      const json = JSON.parse(new TextDecoder().decode((await store.get('reranker/model.json'))!));
      const specs = json.weightsManifest[0].weights as { quantization?: { dtype: string; scale?: number } }[];
      const restored = weightsOf(loaded);
      restored.forEach((values, t) => {
        const source = original[t]!;
        const q = specs[t]!.quantization;
        for (let i = 0; i < values.length; i++) {
          const error = Math.abs(values[i]! - source[i]!);
          if (quantization === null) expect(error).toBe(0);
          // float16: relative 2^-11 (weights here are far from the subnormal range or exactly 0)
          else if (quantization === 'float16')
            expect(error).toBeLessThanOrEqual(Math.abs(source[i]!) * 2 ** -11 + 1e-7);
          // affine uint8/uint16: half a quantization step, plus float32 rounding of q*scale+min
          else expect(error).toBeLessThanOrEqual(q!.scale! / 2 + 1e-6);
        }
      });
      const got = tf.tidy(() => (loaded.predict(input) as tf.Tensor).dataSync());
      const tolerance = { float16: 1e-2, uint16: 1e-3, uint8: 0.1 }[quantization ?? 'float16'];
      got.forEach((v, i) => {
        expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(quantization === null ? 1e-6 : tolerance);
      });
      tf.dispose([input]);
      model.dispose();
      loaded.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('leaks no tensors across save + load', async () => {
    const store = new MemoryStore();
    const model = makeModel();
    const before = tf.memory().numTensors;
    await model.save(tfjsIOHandler(storeIO(store), 'x/model.json', { quantization: 'uint8' }));
    const loaded = await tf.loadLayersModel(tfjsIOHandler(storeIO(store), 'x/model.json'));
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('TF.js model inside a version', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'reelrank-tfjs-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is written by VersionWriter, listed in the manifest and loaded verified; a flipped shard byte is named', async () => {
    const model = makeModel();
    const writer = new VersionWriter(join(root, 'artifacts'), {
      version: 'v1',
      datasetFingerprint: 'x',
      trainingConfig: {},
      backend: 'tfjs-cpu',
    });
    const entries = await writer.tfjsModel('reranker', model, { quantization: 'uint8', shardBytes: 200 });
    expect(entries[0]!.path).toBe('reranker/model.json');
    expect(
      entries
        .slice(1)
        .every((e) => /^reranker\/group1-shard\d+of\d+\.bin$/.test(e.path) && e.kind === 'tfjs-weights'),
    ).toBe(true);
    const manifest = await writer.finish();

    // Publish by hand into a store.
    const source = new FsStore(manifest.dir);
    const store = new MemoryStore();
    for (const f of manifest.files) await store.put(versionKey('v1', f.path), (await source.get(f.path))!);
    const manifestBytes = (await source.get('manifest.json'))!;
    await store.put(versionKey('v1', 'manifest.json'), manifestBytes);
    await store.put(
      POINTER_KEY,
      new TextEncoder().encode(
        JSON.stringify({
          version: 'v1',
          manifestSha256: await sha256Hex(manifestBytes),
          publishedAt: '2026-11-21T06:00:00Z',
          previous: null,
        }),
      ),
    );

    const live = await openVersion(store);
    const loaded = await tf.loadLayersModel(live.tfjsHandler('reranker'));
    expect(loaded.getWeights().length).toBe(model.getWeights().length);
    loaded.dispose();

    const shardKey = versionKey('v1', entries[1]!.path);
    const bytes = (await store.get(shardKey))!;
    bytes[0] = bytes[0]! ^ 0xff;
    await store.put(shardKey, bytes);
    const fresh = await openVersion(store);
    await expect(tf.loadLayersModel(fresh.tfjsHandler('reranker'))).rejects.toMatchObject({
      code: 'artifact_corrupt',
      message: expect.stringContaining(entries[1]!.path),
    });
    model.dispose();
  });
});

describe('TF.js model over an S3 store (s3rver)', () => {
  it('saves through the IOHandler to S3 and loads back with tf.loadLayersModel unchanged', async () => {
    const s3 = await startS3();
    const store = new S3Store({
      bucket: s3.bucket,
      prefix: 'models',
      endpoint: s3.endpoint,
      credentials: S3RVER_CREDENTIALS,
    });
    try {
      const model = makeModel();
      const before = tf.memory().numTensors;
      await model.save(
        storeIOHandler(store, 'reranker/model.json', { quantization: 'float16', shardBytes: 300 }),
      );
      // 212 weights x 2 bytes = 424 bytes in 300-byte shards
      expect((await store.list('reranker/')).map((o) => o.key)).toEqual([
        'reranker/group1-shard1of2.bin',
        'reranker/group1-shard2of2.bin',
        'reranker/model.json',
      ]);
      const loaded = await tf.loadLayersModel(storeIOHandler(store, 'reranker/model.json'));
      const original = weightsOf(model);
      weightsOf(loaded).forEach((values, t) => {
        values.forEach((v, i) => {
          expect(Math.abs(v - original[t]![i]!)).toBeLessThanOrEqual(
            Math.abs(original[t]![i]!) * 2 ** -11 + 1e-7,
          );
        });
      });
      loaded.dispose();
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    } finally {
      store.destroy();
      await s3.stop();
    }
  });
});
