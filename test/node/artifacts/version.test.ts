import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csrRow, matrixToFloat32, neighborScoresFloat32 } from '../../../shared/artifacts/codecs.ts';
import { openVersion, readPointer } from '../../../shared/artifacts/loader.ts';
import { validateManifest } from '../../../shared/artifacts/manifest.ts';
import { MANIFEST_FILE, POINTER_KEY, versionKey } from '../../../shared/artifacts/spec.ts';
import { ReelrankError } from '../../../shared/errors.ts';
import { sha256Hex } from '../../../shared/hash.ts';
import { VersionWriter } from '../../../train/artifacts/writer.ts';
import { FsStore } from '../../../train/store/fs.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelrank-version-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const factors = new Float32Array([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]);

async function writeSmallVersion(dir: string, version?: string) {
  const writer = new VersionWriter(dir, {
    ...(version === undefined ? {} : { version }),
    datasetFingerprint: 'sha256:test',
    trainingConfig: { factors: 3, epochs: 1 },
    backend: 'typed-arrays',
    createdAt: new Date('2026-11-21T06:30:00Z'),
  });
  await writer.matrix('itemFactors', factors, 2, 3, { dtype: 'int8' });
  await writer.matrix('userFactors', factors, 3, 2, { dtype: 'float16' });
  await writer.matrix('contentEmbeddings', factors, 3, 2, { dtype: 'int8', scaleDtype: 'float16' });
  await writer.vector('itemBias', new Float32Array([0.25, -0.75]));
  await writer.vector('visualMask', new Uint8Array([1, 0]));
  await writer.ids('itemIds', new Uint32Array([10, 20]));
  await writer.csr('seen', new Uint32Array([0, 1, 1, 2]), new Uint32Array([1, 0]));
  await writer.neighbors(
    'neighborsCollaborative',
    new Uint32Array([1, 0]),
    new Float32Array([0.5, 0.5]),
    2,
    1,
  );
  await writer.json('catalog', [{ id: 10, title: 'Toy Story (1995)' }]);
  await writer.json('custom/extra.json', { note: 'custom paths are allowed' });
  await writer.metrics({ rmse: 0.9 });
  return writer.finish();
}

/** Copy a finished version folder into a store laid out as a published one (pointer included). */
async function publishByHand(store: FsStore, dir: string, version: string) {
  const manifestBytes = await readFile(join(dir, MANIFEST_FILE));
  const manifest = validateManifest(JSON.parse(manifestBytes.toString('utf8')));
  for (const file of manifest.files) {
    await store.put(versionKey(version, file.path), await readFile(join(dir, file.path)));
  }
  await store.put(versionKey(version, MANIFEST_FILE), manifestBytes);
  const pointer = {
    version,
    manifestSha256: await sha256Hex(manifestBytes),
    publishedAt: new Date().toISOString(),
    previous: null,
  };
  await store.put(POINTER_KEY, new TextEncoder().encode(JSON.stringify(pointer)));
}

describe('VersionWriter + loader', () => {
  it('writes a sortable version id, a complete manifest and loads every kind back', async () => {
    const manifest = await writeSmallVersion(join(root, 'artifacts'));
    expect(manifest.version).toMatch(/^2026-11-21T06-30-00Z-[0-9a-f]{8}$/);
    expect(manifest.formatVersion).toBe(1);
    const paths = manifest.files.map((f) => f.path);
    expect(paths).toContain('item_factors.bin');
    expect(paths).toContain('metrics.json');
    expect(paths).toContain('custom/extra.json');
    const item = manifest.files.find((f) => f.path === 'item_factors.bin')!;
    expect(item).toMatchObject({ kind: 'matrix', dtype: 'int8', shape: [2, 3], bytes: 2 * 4 + 6 });
    expect(item.quantization).toEqual({
      method: 'int8-row-symmetric',
      scaleDtype: 'float32',
      layout: 'scales-then-values',
    });
    const onDisk = await readFile(join(manifest.dir, 'item_factors.bin'));
    expect(item.sha256).toBe(await sha256Hex(onDisk));

    const store = new FsStore(join(root, 'store'));
    await publishByHand(store, manifest.dir, manifest.version);
    const live = await openVersion(store);
    expect(live.version).toBe(manifest.version);
    const items = matrixToFloat32(await live.matrix('itemFactors'));
    factors.forEach((v, i) => {
      expect(Math.abs(items[i]! - v)).toBeLessThanOrEqual(0.6 / 127 / 2 + 1e-7);
    });
    expect((await live.matrix('userFactors')).dtype).toBe('float16');
    const content = manifest.files.find((f) => f.path === 'content_embeddings.bin')!;
    expect(content).toMatchObject({ bytes: 3 * 2 + 6, quantization: { scaleDtype: 'float16' } });
    const embeddings = matrixToFloat32(await live.matrix('contentEmbeddings'));
    factors.forEach((v, i) => {
      expect(Math.abs(embeddings[i]! - v)).toBeLessThanOrEqual(0.6 / 127);
    });
    expect([...(await live.vector('itemBias'))]).toEqual([0.25, -0.75]);
    expect([...(await live.vector('visualMask'))]).toEqual([1, 0]);
    expect([...(await live.ids('itemIds'))]).toEqual([10, 20]);
    expect([...csrRow(await live.csr('seen'), 2)]).toEqual([0]);
    expect([...neighborScoresFloat32(await live.neighbors('neighborsCollaborative'))]).toEqual([0.5, 0.5]);
    expect(await live.json('catalog')).toEqual([{ id: 10, title: 'Toy Story (1995)' }]);
    expect(await live.json('metrics')).toEqual({ rmse: 0.9 });
    expect(live.manifest.metrics).toEqual({ rmse: 0.9 });
    expect((await live.verifyAll()).length).toBe(0);
  });

  it('refuses a second version with the same id and a name written as the wrong kind', async () => {
    await writeSmallVersion(join(root, 'artifacts'), 'v1');
    await expect(writeSmallVersion(join(root, 'artifacts'), 'v1')).rejects.toThrow(/exists already/);
    const writer = new VersionWriter(join(root, 'artifacts'), {
      datasetFingerprint: 'x',
      trainingConfig: {},
      backend: 'cpu',
    });
    expect(() => writer.vector('itemFactors', new Float32Array(1))).toThrow(
      /is a matrix, it cannot be written as a vector/,
    );
    expect(() => writer.json('../escape.json', {})).toThrow(/safe relative path/);
    await writer.abort();
  });
});

describe('loader fault detection', () => {
  async function published() {
    const manifest = await writeSmallVersion(join(root, 'artifacts'), 'v1');
    const store = new FsStore(join(root, 'store'));
    await publishByHand(store, manifest.dir, 'v1');
    return { store, manifest };
  }

  async function loadError(store: FsStore, path: string): Promise<ReelrankError> {
    const live = await openVersion(store);
    const error = await live.bytes(path).then(
      () => null,
      (e: unknown) => e,
    );
    if (!(error instanceof ReelrankError))
      throw new Error(`expected a ReelrankError loading ${path}, got ${error}`);
    return error;
  }

  it('names the file when one byte is flipped in any file', async () => {
    const { store, manifest } = await published();
    for (const file of manifest.files) {
      const key = versionKey('v1', file.path);
      const original = (await store.get(key))!;
      const flipped = original.slice();
      const at = Math.floor(flipped.length / 2);
      flipped[at] = flipped[at]! ^ 0x01;
      await store.put(key, flipped);
      const error = await loadError(store, file.path);
      expect(error.code).toBe('artifact_corrupt');
      expect(error.message).toContain(file.path);
      expect(error.message).toContain(`the manifest says ${file.sha256}`);
      await store.put(key, original);
    }
  });

  it('names the file and both sizes when a file is truncated', async () => {
    const { store, manifest } = await published();
    const entry = manifest.files.find((f) => f.path === 'item_factors.bin')!;
    const key = versionKey('v1', entry.path);
    await store.put(key, (await store.get(key))!.subarray(0, entry.bytes - 3));
    const error = await loadError(store, entry.path);
    expect(error.code).toBe('artifact_corrupt');
    expect(error.message).toMatch(
      new RegExp(
        `item_factors.bin.*has ${entry.bytes - 3} bytes, the manifest says ${entry.bytes} \\(truncated\\)`,
      ),
    );
  });

  it('reports a missing file, a missing pointer and a manifest not matching the pointer', async () => {
    const { store } = await published();
    await store.delete(versionKey('v1', 'seen.csr'));
    const missing = await loadError(store, 'seen.csr');
    expect(missing.code).toBe('artifact_missing');
    expect(missing.message).toContain('seen.csr');

    const manifestKey = versionKey('v1', MANIFEST_FILE);
    const manifestBytes = (await store.get(manifestKey))!;
    await store.put(manifestKey, new TextEncoder().encode(`${new TextDecoder().decode(manifestBytes)} `));
    await expect(openVersion(store)).rejects.toMatchObject({
      code: 'artifact_corrupt',
      message: expect.stringContaining('manifest.json has sha256'),
    });

    await store.delete(POINTER_KEY);
    expect(await readPointer(store)).toBeNull();
    await expect(openVersion(store)).rejects.toMatchObject({ code: 'artifact_missing' });
    // A named version opens without a pointer.
    expect((await openVersion(store, { version: 'v1' })).version).toBe('v1');
  });

  it('refuses an unknown format version with a typed error', async () => {
    const { store, manifest } = await published();
    const text = (await readFile(join(manifest.dir, MANIFEST_FILE), 'utf8')).replace(
      '"formatVersion": 1',
      '"formatVersion": 99',
    );
    await writeFile(join(root, 'm.json'), text);
    await store.put(versionKey('v1', MANIFEST_FILE), new TextEncoder().encode(text));
    await expect(openVersion(store, { version: 'v1' })).rejects.toMatchObject({
      code: 'artifact_format',
      message: expect.stringContaining('unknown format version 99. Supported: 1'),
    });
  });

  it('refuses a manifest whose size disagrees with dtype and shape', () => {
    const file = {
      path: 'a.bin',
      kind: 'matrix',
      bytes: 10,
      sha256: 'a'.repeat(64),
      dtype: 'float32',
      shape: [2, 2],
      quantization: null,
    };
    const manifest = {
      formatVersion: 1,
      version: 'v1',
      createdAt: '2026-11-21T00:00:00Z',
      datasetFingerprint: 'x',
      trainingConfig: {},
      metrics: {},
      backend: 'cpu',
      files: [file],
    };
    expect(() => validateManifest(manifest)).toThrow(
      /a float32 matrix of shape \[2,2\] has 16 bytes, the manifest says 10/,
    );
  });
});
