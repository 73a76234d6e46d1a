/**
 * `reelrank predict` on a real small version (ml-latest-small, a quick biased MF): a published
 * store and a local version folder, a known user and an anonymous one from a ratings CSV, and the
 * error paths. Expectations come from shared/serving on the same objects.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVersion } from '../../../shared/artifacts/loader.ts';
import { loadServingModel } from '../../../shared/serving/from-artifacts.ts';
import type { ServingModel } from '../../../shared/serving/model.ts';
import { knownUser, predictRating, sessionUser } from '../../../shared/serving/scoring.ts';
import { cli } from '../../support/cli.ts';
import { loadDataset } from '../../../train/data/index.ts';
import {
  type FixtureVersion,
  fitBiasedMf,
  memoryStore,
  POINTER_KEY,
  writeFixtureVersion,
} from '../../support/fixture-version.ts';

let root: string;
let fixture: FixtureVersion;
let model: ServingModel;
let storeUrl: string;
let folder: string;
let userId: number;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelrank-predict-'));
  const dataset = await loadDataset();
  const mf = fitBiasedMf(dataset, { factors: 8, epochs: 3 });
  fixture = await writeFixtureVersion(dataset, mf, { version: 'predict-cli', contentNeighbors: false });
  const storeDir = join(root, 'store');
  for (const [key, bytes] of fixture.files) {
    await mkdir(dirname(join(storeDir, key)), { recursive: true });
    await writeFile(join(storeDir, key), bytes);
  }
  await writeFile(join(storeDir, POINTER_KEY), fixture.pointer);
  storeUrl = `file://${storeDir}`;
  folder = join(storeDir, 'versions', fixture.version); // a version folder: manifest.json at its root
  const objects = new Map(fixture.files);
  objects.set(POINTER_KEY, fixture.pointer);
  model = await loadServingModel(await openVersion(memoryStore(objects)));
  userId = dataset.userIds[3]!;
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('reelrank predict', () => {
  it('predicts for a known user by title from a store and from a version folder', async () => {
    const expected = predictRating(model, knownUser(model, model.userIndexById.get(userId)!), 0);
    for (const source of [
      ['--store', storeUrl],
      ['--version', folder],
    ]) {
      const { code, out, err } = await cli(
        'predict',
        ...source,
        '--user',
        String(userId),
        '--title',
        'toy story',
        '--json',
      );
      expect(code, err).toBe(0);
      const result = JSON.parse(out);
      expect(result).toMatchObject({
        version: fixture.version,
        userId,
        movieId: 1,
        title: 'Toy Story',
        match: 'exact',
      });
      expect(Math.abs(result.rating - expected)).toBeLessThan(1e-4);
    }
    const byId = await cli(
      'predict',
      '--version',
      folder,
      '--user',
      String(userId),
      '--movie',
      '1',
      '--json',
    );
    expect(JSON.parse(byId.out)).toMatchObject({ movieId: 1, match: 'exact' });
    expect(Math.abs(JSON.parse(byId.out).rating - expected)).toBeLessThan(1e-4);
    const byYear = await cli(
      'predict',
      '--version',
      folder,
      '--user',
      String(userId),
      '--title',
      'Hamlet',
      '--year',
      '1948',
      '--json',
    );
    expect(JSON.parse(byYear.out)).toMatchObject({ movieId: 1941, match: 'exact', ambiguous: false });
    const text = await cli('predict', '--version', folder, '--user', String(userId), '--title', 'Hamlet');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^Hamlet \(1996\) \[movieId 1411\]: exact match for 'Hamlet'/);
    expect(text.out).toMatch(new RegExp(`Predicted rating for user ${userId}: \\d\\.\\d\\d on 0\\.5\\.\\.5`));
    expect(text.out).toMatch(/Also matching \(add --year or a fuller title\): Hamlet \(1990\)/);
  });

  it('folds in an anonymous user from a ratings CSV (ids and titles)', async () => {
    const csv = join(root, 'mine.csv');
    await writeFile(csv, 'title,movieId,rating\r\n"Matrix, The",,5\r\n,6,4.5\r\nToy Story,,1\r\n');
    const { code, out, err } = await cli(
      'predict',
      '--store',
      storeUrl,
      '--ratings',
      csv,
      '--title',
      'Matrix Reloaded',
      '--json',
    );
    expect(code, err).toBe(0);
    const result = JSON.parse(out);
    expect(result).toMatchObject({ userId: null, ratingCount: 3, movieId: 6365 });
    const index = (id: number) => model.itemIndexById.get(id)!;
    const user = sessionUser(model, [
      { itemIndex: index(2571), rating: 5 },
      { itemIndex: index(6), rating: 4.5 },
      { itemIndex: index(1), rating: 1 },
    ]);
    expect(Math.abs(result.rating - predictRating(model, user, index(6365)))).toBeLessThan(1e-4);
  });

  it('fails with one clear line for bad input', async () => {
    const notFound = await cli('predict', '--version', folder, '--user', String(userId), '--title', 'Matirx');
    expect(notFound.code).toBe(1);
    expect(notFound.err).toMatch(
      /no movie of version predict-cli matches 'Matirx'.*Matrix, The \(1999\).*\[movie_not_found\]/,
    );
    const both = await cli(
      'predict',
      '--version',
      folder,
      '--store',
      storeUrl,
      '--user',
      '1',
      '--title',
      'Heat',
    );
    expect(both.code).toBe(1);
    expect(both.err).toMatch(/exactly one of --version/);
    const noMovie = await cli('predict', '--version', folder, '--user', '1');
    expect(noMovie.err).toMatch(/exactly one of --title/);
    const badUser = await cli('predict', '--version', folder, '--user', '99999', '--title', 'Heat');
    expect(badUser.err).toMatch(/user 99999 is not known.*\[unknown_user\]/);
    const csv = join(root, 'bad.csv');
    await writeFile(csv, 'movieId,rating\n1,7\n');
    const badCsv = await cli('predict', '--version', folder, '--ratings', csv, '--title', 'Heat');
    expect(badCsv.code).toBe(1);
    expect(badCsv.err).toMatch(/bad\.csv:2: rating '7' is not a number in 0\.5\.\.5/);
  });
});
