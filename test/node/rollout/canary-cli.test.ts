import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPointer } from '../../../shared/artifacts/loader.ts';
import { POINTER_KEY } from '../../../shared/artifacts/spec.ts';
import { VersionWriter } from '../../../train/artifacts/writer.ts';
import { FsStore } from '../../../train/store/fs.ts';
import { cli } from '../../support/cli.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelrank-canary-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function makeVersion(fill: number, minute: number): Promise<{ version: string; dir: string }> {
  const writer = new VersionWriter(join(root, 'artifacts'), {
    datasetFingerprint: 'sha256:canary',
    trainingConfig: { fill },
    backend: 'typed-arrays',
    createdAt: new Date(Date.UTC(2026, 11, 2, 7, minute)),
  });
  await writer.matrix('itemFactors', new Float32Array(40).fill(fill), 10, 4, { dtype: 'float16' });
  await writer.json('catalog', { fill });
  await writer.metrics({ rmse: 0.9 + fill / 100 });
  const manifest = await writer.finish();
  return { version: manifest.version, dir: manifest.dir };
}

describe('reelrank publish --canary / versions / promote / abort', () => {
  it('runs a canary on a file:// store: publish v1, canary v2 at 10 %, abort, canary again, promote', async () => {
    const storeDir = join(root, 'store');
    const url = `file://${storeDir}`;
    const store = new FsStore(storeDir);
    const v1 = await makeVersion(1, 1);
    const v2 = await makeVersion(2, 2);
    const v3 = await makeVersion(3, 3);

    // No live version yet: a canary has nothing to run beside.
    const early = await cli('publish', '--from', v2.dir, '--to', url, '--canary', '10');
    expect(early.code).toBe(1);
    expect(early.err).toContain('without --canary first');

    expect((await cli('publish', '--from', v1.dir, '--to', url)).code).toBe(0);
    const canary = await cli('publish', '--from', v2.dir, '--to', url, '--canary', '10');
    expect(canary.code).toBe(0);
    expect(canary.out).toContain(`as a canary: 10% of people, ${v1.version} keeps 90%`);
    const pointer = (await readPointer(store))!;
    expect(pointer.version).toBe(v1.version);
    expect(pointer.canary).toMatchObject({ version: v2.version, percent: 10 });
    expect(pointer.canary!.salt).toMatch(/^[0-9a-f]{16}$/);

    const listed = await cli('versions', '--store', url);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(new RegExp(`\\* ${v1.version} .*serves 90%`));
    expect(listed.out).toMatch(new RegExp(`\\+ ${v2.version} .*serves 10%, canary`));
    expect(listed.out).toContain(`canary: ${v2.version}, 10%`);
    const json = JSON.parse((await cli('versions', '--store', url, '--json')).out);
    expect(json.versions.map((v: { share: number }) => v.share)).toEqual([90, 10]);

    // A bad share and a canary of the live version itself are refused, the pointer untouched.
    for (const bad of ['0', '100', 'ten', '-5']) {
      const refused = await cli('publish', '--from', v3.dir, '--to', url, '--canary', bad);
      expect(refused.code, bad).toBe(1);
      expect(refused.err).toContain('--canary takes a percent');
    }
    const self = await cli('publish', '--from', v1.dir, '--to', url, '--canary', '5');
    expect(self.code).toBe(1);
    expect(self.err).toContain('already live');
    expect((await readPointer(store))!.canary?.version).toBe(v2.version);

    // Prune never deletes the canary.
    expect((await cli('prune', '--store', url, '--keep', '1')).code).toBe(0);
    expect((await cli('verify', '--store', url, '--version', v2.version)).code).toBe(0);

    const aborted = await cli('abort', '--store', url);
    expect(aborted.code).toBe(0);
    expect(aborted.out).toContain(`${v1.version} serves 100%`);
    const afterAbort = (await readPointer(store))!;
    expect(afterAbort.version).toBe(v1.version);
    expect(afterAbort.canary).toBeUndefined();
    expect((await cli('versions', '--store', url)).out).toContain(`live: ${v1.version} (published`);
    const again = await cli('abort', '--store', url);
    expect(again.code).toBe(1);
    expect(again.err).toContain('No canary is running');

    // Canary again, then promote: v2 live for everyone, v1 its previous.
    expect((await cli('publish', '--from', v2.dir, '--to', url, '--canary', '25%')).code).toBe(0);
    const promoted = await cli('promote', '--store', url);
    expect(promoted.code).toBe(0);
    expect(promoted.out).toContain(`Promoted canary ${v2.version} (was 25%)`);
    const afterPromote = (await readPointer(store))!;
    expect(afterPromote).toMatchObject({ version: v2.version, previous: v1.version });
    expect(afterPromote.canary).toBeUndefined();

    // A plain publish while a canary runs ends the canary.
    expect((await cli('publish', '--from', v3.dir, '--to', url, '--canary', '10')).code).toBe(0);
    expect((await cli('publish', '--from', v1.dir, '--to', url)).code).toBe(0);
    expect((await readPointer(store))!).toMatchObject({ version: v1.version });
    expect((await readPointer(store))!.canary).toBeUndefined();
    expect(await store.get(POINTER_KEY)).not.toBeNull();
  });

  it('refuses to promote a canary whose files were damaged', async () => {
    const storeDir = join(root, 'store-bad');
    const url = `file://${storeDir}`;
    const store = new FsStore(storeDir);
    const v1 = await makeVersion(4, 4);
    const v2 = await makeVersion(5, 5);
    expect((await cli('publish', '--from', v1.dir, '--to', url)).code).toBe(0);
    expect((await cli('publish', '--from', v2.dir, '--to', url, '--canary', '10')).code).toBe(0);
    const key = `versions/${v2.version}/item_factors.bin`;
    const bytes = (await store.get(key))!;
    const flipped = bytes.slice();
    flipped[3] = flipped[3]! ^ 1;
    await store.put(key, flipped);
    const refused = await cli('promote', '--store', url);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('item_factors.bin');
    expect((await readPointer(store))!).toMatchObject({
      version: v1.version,
      canary: { version: v2.version },
    });
  });
});
