import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matrixToFloat32 } from '../../../shared/artifacts/codecs.ts';
import { openVersion, readPointer } from '../../../shared/artifacts/loader.ts';
import { MANIFEST_FILE, versionKey } from '../../../shared/artifacts/spec.ts';
import type { ObjectInfo, ObjectStore } from '../../../shared/store.ts';
import { VersionWriter } from '../../../train/artifacts/writer.ts';
import { type PublishEvent, publishVersion } from '../../../train/publish/publish.ts';
import { verifyVersion } from '../../../train/publish/verify.ts';
import { listVersions, prune, rollback } from '../../../train/publish/versions.ts';
import { FsStore } from '../../../train/store/fs.ts';
import { S3Store } from '../../../train/store/s3.ts';
import { S3RVER_CREDENTIALS, startS3 } from './s3-server.ts';

let s3: Awaited<ReturnType<typeof startS3>>;
let root: string;
const stores: S3Store[] = [];
beforeAll(async () => {
  s3 = await startS3();
  root = await mkdtemp(join(tmpdir(), 'reelrank-publish-'));
});
afterAll(async () => {
  for (const s of stores) s.destroy();
  await s3.stop();
  await rm(root, { recursive: true, force: true });
});

function target(prefix: string): S3Store {
  const store = new S3Store({
    bucket: s3.bucket,
    prefix,
    endpoint: s3.endpoint,
    credentials: S3RVER_CREDENTIALS,
  });
  stores.push(store);
  return store;
}

/** A finished version folder whose item factors are all `fill`; created `minute` minutes past 06:00. */
async function makeVersion(fill: number, minute: number): Promise<{ version: string; source: FsStore }> {
  const writer = new VersionWriter(join(root, 'artifacts'), {
    datasetFingerprint: 'sha256:fixture',
    trainingConfig: { fill },
    backend: 'typed-arrays',
    createdAt: new Date(Date.UTC(2026, 10, 21, 6, minute)),
  });
  const items = 50;
  const k = 8;
  await writer.matrix('itemFactors', new Float32Array(items * k).fill(fill), items, k, { dtype: 'int8' });
  await writer.ids(
    'itemIds',
    Uint32Array.from({ length: items }, (_, i) => i + 1),
  );
  await writer.vector('itemBias', new Float32Array(items).fill(fill / 10));
  await writer.csr('seen', new Uint32Array([0, 2, 3]), new Uint32Array([4, 7, 1]));
  await writer.json('catalog', { items, fill });
  await writer.metrics({ rmse: 1 / fill });
  const manifest = await writer.finish();
  return { version: manifest.version, source: new FsStore(manifest.dir) };
}

/** Wraps a store and fails (or corrupts) the Nth put. */
class FaultyStore implements ObjectStore {
  puts = 0;
  /** Key of the put that failed or was damaged. */
  faultyKey: string | null = null;
  constructor(
    private readonly inner: ObjectStore,
    private readonly failAt: number,
    private readonly mode: 'throw' | 'corrupt',
  ) {}
  get description() {
    return this.inner.description;
  }
  get(key: string) {
    return this.inner.get(key);
  }
  head(key: string) {
    return this.inner.head(key);
  }
  list(prefix: string): Promise<ObjectInfo[]> {
    return this.inner.list(prefix);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  async put(key: string, body: Uint8Array) {
    this.puts++;
    if (this.puts === this.failAt) {
      this.faultyKey = key;
      if (this.mode === 'throw') throw new Error(`injected network failure on put #${this.puts} (${key})`);
      const damaged = body.slice();
      damaged[0] = damaged[0]! ^ 0x40;
      return this.inner.put(key, damaged);
    }
    return this.inner.put(key, body);
  }
}

async function sameBytes(a: ObjectStore, aKey: string, b: ObjectStore, bKey: string): Promise<boolean> {
  const [x, y] = await Promise.all([a.get(aKey), b.get(bKey)]);
  return x !== null && y !== null && Buffer.compare(Buffer.from(x), Buffer.from(y)) === 0;
}

describe('publish, versions, rollback, prune against s3rver', () => {
  it('publishes with the pointer last, lists versions, rolls back byte for byte and prunes safely', async () => {
    const store = target('catalog-a');
    const v1 = await makeVersion(1, 1);
    const v2 = await makeVersion(2, 2);
    const v3 = await makeVersion(3, 3);
    const v4 = await makeVersion(4, 4);

    const events: PublishEvent[] = [];
    const first = await publishVersion(v1.source, store, { onProgress: (e) => events.push(e) });
    expect(first.pointer).toMatchObject({ version: v1.version, previous: null });
    // Every upload (files then manifest) comes before the pointer write, which is the last event.
    const phases = events.map((e) => e.phase);
    expect(phases.lastIndexOf('upload')).toBeLessThan(phases.indexOf('verify'));
    expect(phases.at(-1)).toBe('pointer');
    expect(events.filter((e) => e.phase === 'upload').at(-1)).toMatchObject({ path: MANIFEST_FILE });

    await publishVersion(v2.source, store);
    await publishVersion(v3.source, store);
    const fourth = await publishVersion(v4.source, store);
    expect(fourth.pointer).toMatchObject({ version: v4.version, previous: v3.version });
    expect((await publishVersion(v4.source, store)).alreadyLive).toBe(true);

    const listing = await listVersions(store);
    expect(listing.versions.map((v) => v.version)).toEqual([v1.version, v2.version, v3.version, v4.version]);
    expect(listing.versions.filter((v) => v.live).map((v) => v.version)).toEqual([v4.version]);
    expect(listing.versions.find((v) => v.version === v3.version)?.previous).toBe(true);
    expect(listing.versions.every((v) => v.complete)).toBe(true);

    // Rollback to v2: verified first, then the pointer; every file equals the original v2 bytes.
    const back = await rollback(store, v2.version);
    expect(back).toMatchObject({ from: v4.version, pointer: { version: v2.version, previous: v4.version } });
    const live = await openVersion(store);
    expect(live.version).toBe(v2.version);
    for (const file of live.manifest.files) {
      expect(await sameBytes(store, versionKey(v2.version, file.path), v2.source, file.path)).toBe(true);
    }
    expect(await sameBytes(store, versionKey(v2.version, MANIFEST_FILE), v2.source, MANIFEST_FILE)).toBe(
      true,
    );
    expect(matrixToFloat32(await live.matrix('itemFactors'))[0]).toBeCloseTo(2, 5);

    // Prune --keep 1: keeps the newest (v4), the live one (v2), the pointer's previous (v4) and the
    // one before the live one (v1); only v3 goes.
    const pruned = await prune(store, 1);
    expect(pruned.deleted).toEqual([v3.version]);
    expect(pruned.kept).toEqual([v1.version, v2.version, v4.version]);
    expect(await store.list(versionKey(v3.version, ''))).toEqual([]);
    expect((await verifyVersion(store)).problems).toEqual([]);
    // Even --keep 1 again deletes nothing more: everything left is protected.
    expect((await prune(store, 1)).deleted).toEqual([]);
    await expect(prune(store, 0)).rejects.toThrow(/--keep must be a whole number >= 1, got 0/);
  });

  it('refuses to roll back to a damaged or absent version and leaves the pointer alone', async () => {
    const store = target('catalog-b');
    const v1 = await makeVersion(5, 5);
    const v2 = await makeVersion(6, 6);
    await publishVersion(v1.source, store);
    await publishVersion(v2.source, store);
    const key = versionKey(v1.version, 'item_bias.f32');
    const bytes = (await store.get(key))!;
    bytes[3] = bytes[3]! ^ 1;
    await store.put(key, bytes);
    await expect(rollback(store, v1.version)).rejects.toMatchObject({
      code: 'artifact_corrupt',
      message: expect.stringContaining('item_bias.f32'),
    });
    await expect(rollback(store, 'no-such-version')).rejects.toMatchObject({ code: 'artifact_missing' });
    expect((await readPointer(store))?.version).toBe(v2.version);
  });
});

describe('publish faults', () => {
  it('an upload failing on the Nth file leaves the old pointer live and loadable', async () => {
    const inner = target('fault-throw');
    const old = await makeVersion(7, 7);
    await publishVersion(old.source, inner);
    const next = await makeVersion(8, 8);
    const fileCount = (await openVersion(inner)).manifest.files.length + 1;
    for (let n = 1; n <= fileCount; n++) {
      const faulty = new FaultyStore(inner, n, 'throw');
      await expect(publishVersion(next.source, faulty)).rejects.toThrow(/injected network failure/);
      const pointer = await readPointer(inner);
      expect(pointer?.version).toBe(old.version);
      const live = await openVersion(inner);
      expect((await live.verifyAll()).length).toBe(0);
      expect(matrixToFloat32(await live.matrix('itemFactors'))[0]).toBeCloseTo(7, 5);
    }
    // The failed uploads left a folder without a manifest: listed as incomplete, never live.
    const listing = await listVersions(inner);
    expect(listing.versions.find((v) => v.version === next.version)).toMatchObject({
      complete: false,
      live: false,
    });
    expect(listing.versions.find((v) => v.version === old.version)).toMatchObject({
      complete: true,
      live: true,
    });
    // A clean retry then succeeds.
    expect((await publishVersion(next.source, inner)).pointer.previous).toBe(old.version);
  });

  it('a file damaged in transit fails verification, names the file and leaves the pointer', async () => {
    const inner = target('fault-corrupt');
    const old = await makeVersion(9, 9);
    await publishVersion(old.source, inner);
    const next = await makeVersion(10, 10);
    const faulty = new FaultyStore(inner, 2, 'corrupt');
    const error = await publishVersion(next.source, faulty).then(
      () => new Error('publish was expected to fail'),
      (e: unknown) => e as Error,
    );
    expect(error).toMatchObject({ code: 'artifact_corrupt' });
    // Uploads run 4 at a time, so which file was the 2nd put varies: the store recorded it.
    const damagedPath = faulty.faultyKey!.slice(versionKey(next.version, '').length);
    expect(damagedPath).not.toBe(MANIFEST_FILE);
    expect(error.message).toContain(damagedPath);
    expect((await readPointer(inner))?.version).toBe(old.version);
    expect((await verifyVersion(inner, { version: next.version })).problems.map((p) => p.path)).toEqual([
      damagedPath,
    ]);
  });

  it('racing publishers leave the pointer on a fully verified version, and a reader never sees a partial one', async () => {
    const store = target('race');
    const base = await makeVersion(11, 11);
    await publishVersion(base.source, store);
    let racing = true;
    let reads = 0;
    const problemsSeen: string[] = [];
    // A reader loading the live version over and over while the publishers race.
    const reader = (async () => {
      while (racing) {
        const live = await openVersion(store);
        for (const p of await live.verifyAll()) problemsSeen.push(`${live.version}: ${p.message}`);
        reads++;
      }
    })();
    for (let round = 0; round < 3; round++) {
      const a = await makeVersion(12 + 2 * round, 12 + 2 * round);
      const b = await makeVersion(13 + 2 * round, 13 + 2 * round);
      const results = await Promise.all([publishVersion(a.source, store), publishVersion(b.source, store)]);
      const pointer = (await readPointer(store))!;
      expect([a.version, b.version]).toContain(pointer.version);
      expect(results.map((r) => r.version)).toContain(pointer.version);
      const report = await verifyVersion(store);
      expect(report.problems).toEqual([]);
      expect(report.checkedFiles).toBe(report.manifest!.files.length);
    }
    racing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(problemsSeen).toEqual([]);
  });
});
