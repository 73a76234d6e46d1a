import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../shared/artifacts/memory-store.ts';
import type { ObjectStore } from '../../../shared/store.ts';
import { FsStore } from '../../../train/store/fs.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelrank-fs-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function exercise(store: ObjectStore): Promise<void> {
  await store.put('versions/v1/a.bin', new Uint8Array([1, 2, 3]));
  await store.put('versions/v1/sub/b.json', new TextEncoder().encode('{}'));
  await store.put('versions/v2/c.bin', new Uint8Array([4]));
  await store.put('current.json', new TextEncoder().encode('{"v":1}'));
  await store.put('current.json', new TextEncoder().encode('{"v":2}'));
  expect(new TextDecoder().decode((await store.get('current.json'))!)).toBe('{"v":2}');
  expect(await store.get('versions/v9/none')).toBeNull();
  expect(await store.head('versions/v1/a.bin')).toMatchObject({ key: 'versions/v1/a.bin', size: 3 });
  expect(await store.head('versions/v1')).toBeNull();
  expect((await store.list('versions/v1/')).map((o) => o.key)).toEqual([
    'versions/v1/a.bin',
    'versions/v1/sub/b.json',
  ]);
  expect((await store.list('versions/')).map((o) => o.key)).toEqual([
    'versions/v1/a.bin',
    'versions/v1/sub/b.json',
    'versions/v2/c.bin',
  ]);
  expect((await store.list('')).length).toBe(4);
  expect(await store.list('nothing/here/')).toEqual([]);
  await store.delete('versions/v1/sub/b.json');
  await store.delete('versions/v1/never-existed');
  expect((await store.list('versions/v1/')).map((o) => o.key)).toEqual(['versions/v1/a.bin']);
}

describe('FsStore', () => {
  it('implements the store contract', async () => {
    await exercise(new FsStore(root));
  });

  it('writes atomically: no temp files remain and an overwrite replaces the whole file', async () => {
    const store = new FsStore(root);
    await store.put('x/current.json', new Uint8Array(1000).fill(7));
    await store.put('x/current.json', new Uint8Array([1]));
    expect(await readdir(join(root, 'x'))).toEqual(['current.json']);
    expect([...(await store.get('x/current.json'))!]).toEqual([1]);
  });

  it('removes folders a delete leaves empty, streams files and refuses keys outside its root', async () => {
    const store = new FsStore(root);
    await store.put('versions/v1/deep/file.bin', new Uint8Array([5, 6]));
    const stream = await store.getStream('versions/v1/deep/file.bin');
    expect([...new Uint8Array(await new Response(stream).arrayBuffer())]).toEqual([5, 6]);
    expect(await store.getStream('versions/v1/none')).toBeNull();
    await store.delete('versions/v1/deep/file.bin');
    expect(await readdir(root)).toEqual([]);
    expect(() => store.pathOf('../outside')).toThrow(/escapes the store root/);
    await expect(store.put('/etc/passwd', new Uint8Array(1))).rejects.toThrow(/escapes the store root/);
  });
});

describe('MemoryStore', () => {
  it('implements the store contract and hands out copies', async () => {
    const store = new MemoryStore();
    await exercise(store);
    const bytes = (await store.get('versions/v1/a.bin'))!;
    bytes[0] = 99;
    expect((await store.get('versions/v1/a.bin'))![0]).toBe(1);
  });
});
