import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { R2Store } from '../../edge/store/r2.ts';
import { encodeJson, encodeMatrix, matrixToFloat32 } from '../../shared/artifacts/codecs.ts';
import { openVersion } from '../../shared/artifacts/loader.ts';
import { tfjsIOHandler } from '../../shared/artifacts/tfjs.ts';
import { type Manifest, validateManifest } from '../../shared/artifacts/manifest.ts';
import { FORMAT_VERSION, MANIFEST_FILE, POINTER_KEY, versionKey } from '../../shared/artifacts/spec.ts';
import { ReelrankError } from '../../shared/errors.ts';
import { sha256Hex } from '../../shared/hash.ts';

/**
 * A tiny published version built in workerd with the shared codecs (no train/ code may run here):
 * the same bytes `reelrank publish` would upload, keyed as in a store.
 */
async function edgeR2Fixture(): Promise<{
  version: string;
  objects: [string, Uint8Array][];
  itemFactors: Float32Array;
  int8Bound: number;
}> {
  const version = '2026-11-21T06-30-00Z-edge0001';
  const rows = 4;
  const cols = 3;
  const itemFactors = new Float32Array([0.5, -0.25, 1, 0, 0, 0, -2, 1.5, 0.75, 0.1, 0.2, -0.3]);
  const matrix = encodeMatrix(itemFactors, rows, cols, 'int8');
  const catalog = encodeJson([{ id: 1, title: 'Toy Story (1995)' }]);
  const manifest: Manifest = validateManifest({
    formatVersion: FORMAT_VERSION,
    version,
    createdAt: '2026-11-21T06:30:00Z',
    datasetFingerprint: 'fixture',
    trainingConfig: {},
    metrics: {},
    backend: 'typed-arrays',
    files: [
      {
        path: 'item_factors.bin',
        kind: 'matrix',
        bytes: matrix.length,
        sha256: await sha256Hex(matrix),
        dtype: 'int8',
        shape: [rows, cols],
        quantization: { method: 'int8-row-symmetric', scaleDtype: 'float32', layout: 'scales-then-values' },
      },
      {
        path: 'catalog.json',
        kind: 'json',
        bytes: catalog.length,
        sha256: await sha256Hex(catalog),
        dtype: 'json',
        shape: [],
        quantization: null,
      },
    ],
  });
  const manifestBytes = encodeJson(manifest);
  const pointer = encodeJson({
    version,
    manifestSha256: await sha256Hex(manifestBytes),
    publishedAt: '2026-11-21T06:31:00Z',
    previous: null,
  });
  return {
    version,
    itemFactors,
    // per-row symmetric int8: at most half a step of the largest row scale (2 / 127 / 2)
    int8Bound: 2 / 127 / 2 + 1e-6,
    objects: [
      [versionKey(version, 'item_factors.bin'), matrix],
      [versionKey(version, 'catalog.json'), catalog],
      [versionKey(version, MANIFEST_FILE), manifestBytes],
      [POINTER_KEY, pointer],
    ],
  };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe('R2Store over the ARTIFACTS binding (workerd + miniflare R2)', () => {
  it('puts, gets, streams, heads, lists under its prefix and deletes', async () => {
    const store = new R2Store(env.ARTIFACTS, 'r2test');
    const other = new R2Store(env.ARTIFACTS, 'elsewhere');
    await store.put('versions/v1/a.bin', new Uint8Array([1, 2, 3]));
    await store.put('versions/v1/b.json', new TextEncoder().encode('{"b":2}'));
    await other.put('versions/v1/c.bin', new Uint8Array([9]));
    expect([...((await store.get('versions/v1/a.bin')) ?? [])]).toEqual([1, 2, 3]);
    expect(await store.get('versions/v1/none')).toBeNull();
    expect([...(await readAll((await store.getStream('versions/v1/a.bin'))!))]).toEqual([1, 2, 3]);
    expect(await store.getStream('nope')).toBeNull();
    expect(await store.head('versions/v1/b.json')).toMatchObject({ key: 'versions/v1/b.json', size: 7 });
    expect(await store.head('nope')).toBeNull();
    expect((await store.list('versions/')).map((o) => o.key)).toEqual([
      'versions/v1/a.bin',
      'versions/v1/b.json',
    ]);
    const raw = await env.ARTIFACTS.get('r2test/versions/v1/b.json');
    expect(raw?.httpMetadata?.contentType).toBe('application/json');
    await store.delete('versions/v1/a.bin');
    expect((await store.list('')).map((o) => o.key)).toEqual(['versions/v1/b.json']);
    expect((await other.list('')).map((o) => o.key)).toEqual(['versions/v1/c.bin']);
  });

  it('follows list cursors across pages', async () => {
    const store = new R2Store(env.ARTIFACTS, 'paged', { listLimit: 7 });
    const keys = Array.from({ length: 30 }, (_, i) => `k/${String(i).padStart(3, '0')}`);
    for (const key of keys) await store.put(key, new Uint8Array([1]));
    expect((await store.list('k/')).map((o) => o.key)).toEqual(keys);
  });

  it('serves a published version to the shared loader and detects a flipped byte and a truncated file', async () => {
    const store = new R2Store(env.ARTIFACTS, 'live');
    const fixture = await edgeR2Fixture();
    for (const [key, bytes] of fixture.objects) await store.put(key, bytes);
    const live = await openVersion(store);
    expect(live.version).toBe(fixture.version);
    const items = matrixToFloat32(await live.matrix('itemFactors'));
    fixture.itemFactors.forEach((v, i) => {
      expect(Math.abs(items[i]! - v)).toBeLessThanOrEqual(fixture.int8Bound);
    });
    expect((await live.matrix('itemFactors')).dtype).toBe('int8');

    const key = versionKey(fixture.version, 'item_factors.bin');
    const good = (await store.get(key))!;
    const flipped = good.slice();
    flipped[good.length - 1] = flipped[good.length - 1]! ^ 0x01;
    await store.put(key, flipped);
    const flippedError = await (await openVersion(store)).matrix('itemFactors').catch((e: unknown) => e);
    expect(flippedError).toBeInstanceOf(ReelrankError);
    expect(flippedError).toMatchObject({
      code: 'artifact_corrupt',
      message: expect.stringContaining('item_factors.bin'),
    });

    await store.put(key, good.subarray(0, good.length - 4));
    const truncated = await (await openVersion(store)).matrix('itemFactors').catch((e: unknown) => e);
    expect(truncated).toMatchObject({
      code: 'artifact_corrupt',
      message: expect.stringMatching(/item_factors.bin.*truncated/),
    });

    await store.delete(POINTER_KEY);
    await expect(openVersion(store)).rejects.toMatchObject({ code: 'artifact_missing' });
  });
});

describe('TF.js LayersModel over R2 in workerd', () => {
  it('saves uint8-quantized weights through the IOHandler and loads them with loadLayersModel', async () => {
    await tf.setBackend('cpu');
    const store = new R2Store(env.ARTIFACTS, 'models');
    const io = {
      read: (key: string) => store.get(key),
      write: (key: string, bytes: Uint8Array) => store.put(key, bytes),
    };
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 3, inputShape: [2], kernelInitializer: 'ones', biasInitializer: 'zeros' }),
      ],
    });
    // kernel [[1, 2, 3], [-1, 0, 0.5]]: uint8 affine range [-1, 3], scale 4/255, 0 exact after nudging
    model.setWeights([tf.tensor2d([1, 2, 3, -1, 0, 0.5], [2, 3]), tf.tensor1d([0, 0, 0])]);
    await model.save(tfjsIOHandler(io, 'reranker/model.json', { quantization: 'uint8' }));
    const loaded = await tfl.loadLayersModel(tfjsIOHandler(io, 'reranker/model.json'));
    const kernel = loaded.getWeights()[0]!.dataSync();
    const expected = [1, 2, 3, -1, 0, 0.5];
    kernel.forEach((v, i) => {
      expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(4 / 255 / 2 + 1e-6);
    });
    expect(kernel[4]).toBe(0);
    const json = JSON.parse(new TextDecoder().decode((await store.get('reranker/model.json'))!));
    expect(json.weightsManifest[0].weights[0].quantization.dtype).toBe('uint8');
    model.dispose();
    loaded.dispose();
  });
});
