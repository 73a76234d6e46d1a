import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ConditionalStore, swapPointer } from '../../../shared/artifacts/conditional.ts';
import { readPointer } from '../../../shared/artifacts/loader.ts';
import type { Pointer } from '../../../shared/artifacts/manifest.ts';
import { MemoryStore } from '../../../shared/artifacts/memory-store.ts';
import { POINTER_KEY } from '../../../shared/artifacts/spec.ts';
import { VersionWriter } from '../../../train/artifacts/writer.ts';
import { publishVersion } from '../../../train/publish/publish.ts';
import { FsStore } from '../../../train/store/fs.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelrank-cas-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

for (const [name, make] of [
  ['MemoryStore', () => new MemoryStore()],
  ['FsStore', () => new FsStore(join(root, 'store'))],
] as [string, () => ConditionalStore][]) {
  describe(`${name} conditional writes`, () => {
    it('writes only over the expected etag, or only when absent for null', async () => {
      const store = make();
      expect(await store.getVersioned('k')).toBeNull();
      expect(await store.putIf('k', encode(1), 'some-etag')).toBe(false);
      expect(await store.putIf('k', encode(1), null)).toBe(true);
      expect(await store.putIf('k', encode(2), null)).toBe(false);
      const first = (await store.getVersioned('k'))!;
      expect(decode(first.bytes)).toBe(1);
      expect(await store.putIf('k', encode(2), first.etag)).toBe(true);
      expect(await store.putIf('k', encode(3), first.etag)).toBe(false);
      expect(decode((await store.get('k'))!)).toBe(2);
    });

    it('loses no update when 20 writers increment one counter concurrently', async () => {
      const store = make();
      await store.put('counter', encode(0));
      const increment = async () => {
        for (;;) {
          const current = (await store.getVersioned('counter'))!;
          if (await store.putIf('counter', encode(decode(current.bytes) + 1), current.etag)) return;
        }
      };
      await Promise.all(Array.from({ length: 20 }, increment));
      expect(decode((await store.get('counter'))!)).toBe(20);
    });
  });
}

it('FsStore leaves no lock or temp file behind', async () => {
  const store = new FsStore(join(root, 'store'));
  await store.putIf('current.json', encode({}), null);
  expect(await readdir(join(root, 'store'))).toEqual(['current.json']);
});

/** A store where someone else moves the pointer right before our first conditional write. */
class InterferedStore extends FsStore {
  interfered = 0;
  constructor(
    dir: string,
    private readonly intruder: Pointer,
  ) {
    super(dir);
  }
  override async putIf(key: string, body: Uint8Array, expectedEtag: string | null): Promise<boolean> {
    if (key === POINTER_KEY && this.interfered === 0) {
      this.interfered++;
      await this.put(POINTER_KEY, encode(this.intruder));
    }
    return super.putIf(key, body, expectedEtag);
  }
}

describe('pointer compare-and-swap', () => {
  it('publish re-reads a pointer moved under it and records the right previous version', async () => {
    const writer = new VersionWriter(join(root, 'artifacts'), {
      version: 'v2',
      datasetFingerprint: 'x',
      trainingConfig: {},
      backend: 'typed-arrays',
    });
    await writer.json('catalog', []);
    const manifest = await writer.finish();
    const intruder: Pointer = {
      version: 'v-intruder',
      manifestSha256: 'a'.repeat(64),
      publishedAt: '2026-11-21T06:00:00Z',
      previous: 'v0',
    };
    const store = new InterferedStore(join(root, 'store'), intruder);
    await store.put(
      POINTER_KEY,
      encode({
        version: 'v1',
        manifestSha256: 'b'.repeat(64),
        publishedAt: '2026-11-21T05:00:00Z',
        previous: null,
      }),
    );
    const result = await publishVersion(new FsStore(manifest.dir), store);
    expect(store.interfered).toBe(1);
    // Without the compare-and-swap, previous would be v1 (read before the intruder wrote).
    expect(result.pointer.previous).toBe('v-intruder');
    expect((await readPointer(store))?.version).toBe('v2');
  });

  it('gives up with a typed error when the pointer never settles, and declines when asked', async () => {
    const store = new MemoryStore();
    await store.put(
      POINTER_KEY,
      encode({ version: 'v1', manifestSha256: 'b'.repeat(64), publishedAt: 'x', previous: null }),
    );
    let calls = 0;
    const moving = async () =>
      swapPointer(
        store,
        (current) => {
          calls++;
          // Someone else rewrites the pointer every time we are about to write.
          void store.put(POINTER_KEY, encode({ ...current!, publishedAt: `t${calls}` }));
          return { ...current!, version: 'v2' };
        },
        { attempts: 3, retryDelayMs: 1 },
      );
    await expect(moving()).rejects.toMatchObject({ code: 'artifact_conflict' });
    expect(calls).toBe(3);
    expect(await swapPointer(store, () => null)).toBeNull();
  });
});
