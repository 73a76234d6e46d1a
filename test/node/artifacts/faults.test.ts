/**
 * Artifact faults an outside test found (issue 10): invalid UTF-8 in a pointer or JSON file, a
 * garbage current.json that nothing could repair, indexes out of range in a version whose hashes
 * all match, and `rollback --to` taking anything as a version id. Each is reproduced on a real
 * file:// store written by the artifact writer and driven through the library and the CLI.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJson } from '../../../shared/artifacts/codecs.ts';
import { openVersion, readPointer } from '../../../shared/artifacts/loader.ts';
import { MANIFEST_FILE, POINTER_KEY, versionKey } from '../../../shared/artifacts/spec.ts';
import { isReelrankError } from '../../../shared/errors.ts';
import { sha256Hex } from '../../../shared/hash.ts';
import { loadServingModel } from '../../../shared/serving/from-artifacts.ts';
import { VersionWriter } from '../../../train/artifacts/writer.ts';
import { publishVersion } from '../../../train/publish/publish.ts';
import { verifyVersion } from '../../../train/publish/verify.ts';
import { listVersions, prune, rollback } from '../../../train/publish/versions.ts';
import { FsStore } from '../../../train/store/fs.ts';
import { cli } from '../../support/cli.ts';

/** `printf 'garbage{{{\xff\xfe' > current.json`: invalid UTF-8, not JSON either. */
const GARBAGE = Uint8Array.from([...new TextEncoder().encode('garbage{{{'), 0xff, 0xfe]);

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelrank-faults-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const ITEMS = 6;
const USERS = 3;

/** A small servable version: ids, factors, biases, catalog, seen lists, neighbour lists. */
async function makeVersion(minute: number): Promise<{ version: string; dir: string }> {
  const writer = new VersionWriter(join(root, 'artifacts'), {
    datasetFingerprint: 'sha256:faults',
    trainingConfig: { globalMean: 3.5 },
    backend: 'typed-arrays',
    createdAt: new Date(Date.UTC(2026, 10, 21, 7, minute)),
  });
  const dim = 4;
  await writer.ids(
    'itemIds',
    Uint32Array.from({ length: ITEMS }, (_, i) => 10 + i),
  );
  await writer.ids(
    'userIds',
    Uint32Array.from({ length: USERS }, (_, u) => 1 + u),
  );
  await writer.matrix(
    'itemFactors',
    Float32Array.from({ length: ITEMS * dim }, (_, i) => Math.sin(i + minute)),
    ITEMS,
    dim,
  );
  await writer.matrix(
    'userFactors',
    Float32Array.from({ length: USERS * dim }, (_, i) => Math.cos(i)),
    USERS,
    dim,
  );
  await writer.vector('itemBias', new Float32Array(ITEMS));
  await writer.vector('userBias', new Float32Array(USERS));
  await writer.vector(
    'popularity',
    Float32Array.from({ length: ITEMS }, (_, i) => ITEMS - i),
  );
  await writer.csr('seen', Uint32Array.from([0, 2, 3, 3]), Uint32Array.from([0, 1, 2]));
  await writer.json(
    'catalog',
    Array.from({ length: ITEMS }, (_, i) => ({ movieId: 10 + i, title: `Movie ${i}`, year: 2000 + i })),
  );
  const k = 2;
  await writer.neighbors(
    'neighborsCollaborative',
    Uint32Array.from({ length: ITEMS * k }, (_, n) => (Math.floor(n / k) + 1 + (n % k)) % ITEMS),
    Float32Array.from({ length: ITEMS * k }, () => 0.5),
    ITEMS,
    k,
  );
  await writer.metrics({ rmse: 0.9 });
  const manifest = await writer.finish();
  return { version: manifest.version, dir: manifest.dir };
}

async function storeWith(...versions: { dir: string }[]): Promise<{ dir: string; store: FsStore }> {
  const dir = await mkdtemp(join(root, 'store-'));
  const store = new FsStore(dir);
  for (const v of versions) await publishVersion(new FsStore(v.dir), store);
  return { dir, store };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('invalid UTF-8 in a pointer or JSON artifact', () => {
  it('is artifact_corrupt naming the file, not a bare TypeError', () => {
    let error: unknown;
    try {
      decodeJson(GARBAGE, 'Pointer file:///x/current.json');
    } catch (e) {
      error = e;
    }
    expect(isReelrankError(error) && error.code).toBe('artifact_corrupt');
    expect((error as Error).message).toMatch(
      /current\.json is not valid UTF-8 \(first bad byte 0xff at offset 10\)/,
    );
  });

  it('CLI verify, versions, rollback and prune print one line, no stack trace', async () => {
    const a = await makeVersion(1);
    const { dir, store } = await storeWith(a);
    await writeFile(join(dir, POINTER_KEY), GARBAGE);
    expect(isReelrankError(await caught(readPointer(store, { retryDelayMs: 1 })))).toBe(true);
    for (const argv of [
      ['verify', '--store', dir],
      ['prune', '--store', dir, '--keep', '1'],
    ]) {
      const run = await cli(...argv);
      expect(run.code, argv.join(' ')).toBe(1);
      expect(run.err.split('\n'), argv.join(' ')).toHaveLength(1);
      expect(run.err).toMatch(/current\.json .*UTF-8.*\[artifact_corrupt\]/);
      expect(run.err).not.toMatch(/\n\s+at /);
    }
    const versions = await cli('versions', '--store', dir);
    expect(versions.code).toBe(0);
    expect(versions.out).toContain(a.version);
    expect(versions.out).toMatch(/live: unknown, the pointer is unreadable: .*UTF-8.*rollback --to/);
    // A JSON artifact of a version with invalid UTF-8 (hashes updated to match) is named too.
    const catalogPath = join(dir, versionKey(a.version, 'catalog.json'));
    await writeFile(catalogPath, GARBAGE);
    const rolled = await cli('rollback', '--store', dir, '--to', a.version);
    expect(rolled.code).toBe(1);
    expect(rolled.err.split('\n')).toHaveLength(1);
    expect(rolled.err).toMatch(/Cannot roll back to .*catalog\.json/);
  });
});

describe('a garbage current.json can be repaired', () => {
  it('rollback --to <good> replaces it and says so; publish too; versions reports it', async () => {
    const a = await makeVersion(2);
    const b = await makeVersion(3);
    const { dir, store } = await storeWith(a, b);
    await writeFile(join(dir, POINTER_KEY), GARBAGE);
    const listed = await listVersions(store);
    expect(listed.pointer).toBeNull();
    expect(listed.pointerError).toMatch(/UTF-8/);
    // prune would not know what is live: it refuses instead of deleting.
    expect(String(await caught(prune(store, 1)))).toMatch(/pointer is unreadable.*rollback --to/);

    const run = await cli('rollback', '--store', dir, '--to', a.version);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/Replaced the unreadable pointer of .*UTF-8/);
    expect(run.out).toContain(`Live version of file://${dir}: ${a.version} (was none)`);
    expect((await readPointer(store))?.version).toBe(a.version);

    await writeFile(join(dir, POINTER_KEY), '{"version": "half-writ');
    const published = await publishVersion(new FsStore(b.dir), store);
    expect(published.repairedPointer).toMatch(/not valid JSON/);
    expect(published.pointer.version).toBe(b.version);
    expect((await readPointer(store))?.version).toBe(b.version);
    // A readable pointer is never "repaired".
    expect((await rollback(store, a.version)).repairedPointer).toBeNull();
  });
});

describe('rollback --to validates its argument', () => {
  it('refuses what cannot be a version id before touching the store', async () => {
    const a = await makeVersion(4);
    const { dir } = await storeWith(a);
    const before = await readFile(join(dir, POINTER_KEY));
    for (const bad of ['../../etc', 'a b', 'x/y', '.hidden']) {
      const run = await cli('rollback', '--store', dir, '--to', bad);
      expect(run.code, bad).toBe(1);
      expect(run.err, bad).toMatch(/is not a version id/);
    }
    expect(await readFile(join(dir, POINTER_KEY))).toEqual(before);
  });
});

/** Rewrites a file of a published version with its manifest entry and the pointer updated to match. */
async function tamper(dir: string, version: string, path: string, edit: (bytes: Uint8Array) => void) {
  const fileKey = join(dir, versionKey(version, path));
  const bytes = new Uint8Array(await readFile(fileKey));
  edit(bytes);
  await writeFile(fileKey, bytes);
  const manifestKey = join(dir, versionKey(version, MANIFEST_FILE));
  const manifest = JSON.parse(await readFile(manifestKey, 'utf8')) as {
    files: { path: string; sha256: string }[];
  };
  manifest.files.find((f) => f.path === path)!.sha256 = await sha256Hex(bytes);
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest));
  await writeFile(manifestKey, manifestBytes);
  const pointerKey = join(dir, POINTER_KEY);
  const pointer = JSON.parse(await readFile(pointerKey, 'utf8')) as { manifestSha256: string };
  pointer.manifestSha256 = await sha256Hex(manifestBytes);
  await writeFile(pointerKey, JSON.stringify(pointer));
}

describe('indexes out of range in a version whose hashes all match', () => {
  const cases: [string, string, (bytes: Uint8Array) => void, RegExp][] = [
    [
      'a neighbour index of 999999',
      'neighbors_collaborative.bin',
      (b) => new DataView(b.buffer, b.byteOffset).setUint32(4 * 3, 999_999, true),
      /neighbors_collaborative\.bin .*row 1 names neighbour 999999, out of range: items are 0\.\.5/,
    ],
    [
      'a seen item past the catalog',
      'seen.csr',
      (b) => new DataView(b.buffer, b.byteOffset).setUint32(4 * (USERS + 1) + 4, 2 ** 31, true),
      /seen\.csr .*row 0 names item 2147483648, out of range/,
    ],
    [
      'CSR offsets past the entries',
      'seen.csr',
      (b) => new DataView(b.buffer, b.byteOffset).setUint32(4, 7, true),
      /seen\.csr .*CSR offsets/,
    ],
    [
      'a duplicate item id',
      'item_ids.u32',
      (b) => new DataView(b.buffer, b.byteOffset).setUint32(4, 10, true),
      /item_ids\.u32 .*lists id 10 twice/,
    ],
  ];
  cases.forEach(([name, path, edit, message], n) => {
    it(`${name}: the loader refuses the version naming the file, verify reports it`, async () => {
      const a = await makeVersion(10 + n);
      const { dir, store } = await storeWith(a);
      // Sanity: the untouched version loads.
      await loadServingModel(await openVersion(store));
      await tamper(dir, a.version, path, edit);
      const error = await caught(openVersion(store).then((v) => loadServingModel(v)));
      expect(isReelrankError(error) && error.code).toBe('artifact_corrupt');
      expect((error as Error).message).toMatch(message);
      const report = await verifyVersion(store);
      expect(report.problems.map((p) => p.path)).toEqual([path]);
      expect(report.problems[0]!.message).toMatch(message);
      const run = await cli('verify', '--store', dir);
      expect(run.code).toBe(1);
    });
  });
});
