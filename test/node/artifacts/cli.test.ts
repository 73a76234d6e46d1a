import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readPointer } from '../../../shared/artifacts/loader.ts';
import { versionKey } from '../../../shared/artifacts/spec.ts';
import { VersionWriter } from '../../../train/artifacts/writer.ts';
import { cli } from '../../support/cli.ts';
import { FsStore } from '../../../train/store/fs.ts';
import { S3Store } from '../../../train/store/s3.ts';
import { S3RVER_CREDENTIALS, startS3 } from './s3-server.ts';

let root: string;
let s3: Awaited<ReturnType<typeof startS3>>;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelrank-cli-'));
  s3 = await startS3();
});
afterAll(async () => {
  await s3.stop();
  await rm(root, { recursive: true, force: true });
});

async function makeVersion(fill: number, minute: number): Promise<{ version: string; dir: string }> {
  const writer = new VersionWriter(join(root, 'artifacts'), {
    datasetFingerprint: 'sha256:cli',
    trainingConfig: { fill },
    backend: 'typed-arrays',
    createdAt: new Date(Date.UTC(2026, 10, 21, 7, minute)),
  });
  await writer.matrix('itemFactors', new Float32Array(40).fill(fill), 10, 4, { dtype: 'float16' });
  await writer.json('catalog', { fill });
  await writer.metrics({ rmse: 0.9 + fill / 100 });
  const manifest = await writer.finish();
  return { version: manifest.version, dir: manifest.dir };
}

describe('reelrank publish / verify / versions / rollback / prune', () => {
  it('runs the whole cycle on a file:// store', async () => {
    const storeDir = join(root, 'store');
    const url = `file://${storeDir}`;
    const v1 = await makeVersion(1, 1);
    const v2 = await makeVersion(2, 2);
    const v3 = await makeVersion(3, 3);
    for (const v of [v1, v2, v3]) {
      const published = await cli('publish', '--from', v.dir, '--to', url);
      expect(published.code).toBe(0);
      expect(published.out).toContain(`Published ${v.version}`);
      expect(published.err).toMatch(/upload 1\/\d+ /);
      expect(published.err).toContain(`pointer -> ${v.version}`);
    }
    // A local version folder verifies before publishing too.
    expect((await cli('verify', '--store', v1.dir)).out).toContain(`Version ${v1.version} in file://`);
    const folderFile = join(v1.dir, 'catalog.json');
    const folderBytes = await readFile(folderFile);
    await writeFile(folderFile, folderBytes.subarray(0, 3));
    const badFolder = await cli('verify', '--store', v1.dir);
    expect(badFolder.code).toBe(1);
    expect(badFolder.err).toMatch(/catalog.json.*truncated/);
    await writeFile(folderFile, folderBytes);

    const listed = await cli('versions', '--store', url);
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(`* ${v3.version}`);
    expect(listed.out).toContain(`  ${v1.version}`);

    expect((await cli('verify', '--store', url)).code).toBe(0);

    const store = new FsStore(storeDir);
    const key = versionKey(v3.version, 'item_factors.bin');
    const original = (await store.get(key))!;
    const flipped = original.slice();
    flipped[5] = flipped[5]! ^ 0x10;
    await store.put(key, flipped);
    const bad = await cli('verify', '--store', url);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('item_factors.bin');
    expect(bad.err).toContain('[artifact_corrupt]');
    await store.put(key, original);

    expect((await cli('rollback', '--store', url, '--to', v1.version)).code).toBe(0);
    expect((await readPointer(store))?.version).toBe(v1.version);
    expect((await cli('verify', '--store', url, '--version', v2.version)).code).toBe(0);

    // keep 1: v3 is newest and the pointer's previous; v1 is live; v2 goes.
    const pruned = await cli('prune', '--store', url, '--keep', '1');
    expect(pruned.code).toBe(0);
    expect(pruned.out).toContain(`deleted ${v2.version}`);
    expect(await store.list(versionKey(v2.version, ''))).toEqual([]);
    expect((await cli('prune', '--store', url, '--keep', 'two')).code).toBe(1);
    expect((await cli('rollback', '--store', url, '--to', v2.version)).code).toBe(1);
  });

  it('publishes to s3:// with --endpoint and credentials from the environment', async () => {
    const v = await makeVersion(4, 4);
    vi.stubEnv('AWS_ACCESS_KEY_ID', S3RVER_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', S3RVER_CREDENTIALS.secretAccessKey);
    try {
      const url = `s3://${s3.bucket}/cli`;
      const published = await cli(
        'publish',
        '--from',
        v.dir,
        '--to',
        url,
        '--endpoint',
        s3.endpoint,
        '--json',
      );
      expect(published.code).toBe(0);
      expect(JSON.parse(published.out)).toMatchObject({ version: v.version, alreadyLive: false });
      expect((await cli('verify', '--store', url, '--endpoint', s3.endpoint)).code).toBe(0);
    } finally {
      vi.unstubAllEnvs();
    }
    const store = new S3Store({
      bucket: s3.bucket,
      prefix: 'cli',
      endpoint: s3.endpoint,
      credentials: S3RVER_CREDENTIALS,
    });
    expect((await readPointer(store))?.version).toBe(v.version);
    store.destroy();
  });
});
