/**
 * The catalog as columns (train/pipeline/version-parts.ts writeCatalog -> shared/serving/catalog.ts):
 * the lazily made movie array, a hand-computed three-movie version read back field by field (and
 * the same movies as catalog.json objects, as versions before the columns hold them), refusals of
 * broken columns, and ml-latest-small written both ways serving the same movies, filters,
 * recommendations and title matches.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vector } from '../../../shared/artifacts/codecs.ts';
import { openVersion } from '../../../shared/artifacts/loader.ts';
import { isReelrankError } from '../../../shared/errors.ts';
import { lazyMovies, type ServedMovie } from '../../../shared/serving/catalog.ts';
import { loadServingModel } from '../../../shared/serving/from-artifacts.ts';
import type { ServingModel } from '../../../shared/serving/model.ts';
import { knownUser, recommend } from '../../../shared/serving/scoring.ts';
import { resolveTitle, searchTitles, titleIndexOf } from '../../../shared/serving/titles.ts';
import { VersionWriter } from '../../../train/artifacts/writer.ts';
import type { Dataset } from '../../../train/data/dataset.ts';
import { loadDataset } from '../../../train/data/index.ts';
import { openVersionFolder } from '../../../train/models/neural/version.ts';
import { type CatalogMovie, catalogStats, writeCatalog } from '../../../train/pipeline/version-parts.ts';
import { fitBiasedMf, memoryStore, writeFixtureVersion } from '../../support/fixture-version.ts';

describe('lazyMovies', () => {
  const make =
    (made: number[]) =>
    (i: number): ServedMovie => {
      made.push(i);
      return { movieId: 10 + i, title: `t${i}`, year: null, genres: [] };
    };

  it('makes a movie on first access, once', () => {
    const made: number[] = [];
    const movies = lazyMovies(3, make(made));
    expect(movies.length).toBe(3);
    expect(Array.isArray(movies)).toBe(true);
    expect(made).toEqual([]);
    expect(movies[1]!.movieId).toBe(11);
    expect(movies[1]).toBe(movies[1]);
    expect(made).toEqual([1]);
    expect(Object.isFrozen(movies[1])).toBe(true);
  });

  it('reads like an array: iteration, methods, keys, JSON', () => {
    const movies = lazyMovies(3, make([]));
    expect(movies.map((m) => m.movieId)).toEqual([10, 11, 12]);
    expect([...movies].map((m) => m.title)).toEqual(['t0', 't1', 't2']);
    expect(movies.findIndex((m) => m.title === 't2')).toBe(2);
    expect(Object.keys(movies)).toEqual(['0', '1', '2']);
    expect(1 in movies).toBe(true);
    expect(3 in movies).toBe(false);
    expect(JSON.parse(JSON.stringify(movies))).toEqual([
      { movieId: 10, title: 't0', year: null, genres: [] },
      { movieId: 11, title: 't1', year: null, genres: [] },
      { movieId: 12, title: 't2', year: null, genres: [] },
    ]);
    expect(movies).toEqual([
      { movieId: 10, title: 't0', year: null, genres: [] },
      { movieId: 11, title: 't1', year: null, genres: [] },
      { movieId: 12, title: 't2', year: null, genres: [] },
    ]);
  });

  it('answers undefined for what is not an index below its length, and refuses writes', () => {
    const made: number[] = [];
    const movies = lazyMovies(3, make(made)) as unknown as Record<string, unknown> & ServedMovie[];
    for (const key of ['3', '01', '1e0', '-1', '1.0', ' 1', ''])
      expect(movies[key], `key '${key}'`).toBeUndefined();
    expect(made).toEqual([]);
    expect(() => {
      movies[0] = { movieId: 1, title: 'x', year: null, genres: [] };
    }).toThrow(TypeError);
    expect(() => movies.push({ movieId: 1, title: 'x', year: null, genres: [] })).toThrow(TypeError);
  });
});

const MOVIES: CatalogMovie[] = [
  { title: 'Heat', year: 1995, genres: ['Action', 'Crime'], tmdbId: 949, posterPath: '/heat.jpg' },
  { title: 'Amélie', year: null, genres: ['Comedy', 'Romance'], tmdbId: null, posterPath: null },
  { title: 'Se7en', year: 1995, genres: ['Action', 'Crime'], tmdbId: 807, posterPath: null },
];
const MOVIE_IDS = new Uint32Array([10, 20, 30]);
const POPULARITY = new Float32Array([1, 0.5, 0.25]);
const RATING_COUNTS = new Uint32Array([3, 0, 1]);
const MEAN_RATINGS = new Float32Array([4.5, Number.NaN, 3.25]);
const SERVED: ServedMovie[] = [
  {
    movieId: 10,
    title: 'Heat',
    year: 1995,
    genres: ['Action', 'Crime'],
    tmdbId: 949,
    posterPath: '/heat.jpg',
    popularity: 1,
    ratingCount: 3,
    meanRating: 4.5,
  },
  {
    movieId: 20,
    title: 'Amélie',
    year: null,
    genres: ['Comedy', 'Romance'],
    tmdbId: null,
    posterPath: null,
    popularity: 0.5,
    ratingCount: 0,
    meanRating: null,
  },
  {
    movieId: 30,
    title: 'Se7en',
    year: 1995,
    genres: ['Action', 'Crime'],
    tmdbId: 807,
    posterPath: null,
    popularity: 0.25,
    ratingCount: 1,
    meanRating: 3.25,
  },
];

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelrank-catalog-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let versions = 0;
/** A three-movie, two-user version whose catalog `catalog` writes; returns it opened. */
async function tinyVersion(catalog: (writer: VersionWriter) => Promise<void>) {
  const writer = new VersionWriter(root, {
    version: `tiny-${++versions}`,
    datasetFingerprint: 'sha256:test',
    trainingConfig: { globalMean: 3.5, ratingScale: { min: 0.5, max: 5, step: 0.5 } },
    backend: 'typed-arrays',
  });
  await writer.ids('itemIds', MOVIE_IDS);
  await writer.ids('userIds', new Uint32Array([1, 2]));
  await writer.matrix('itemFactors', new Float32Array([0.5, -0.25, 0.1, 0.3, -0.4, 0.2]), 3, 2, {
    dtype: 'int8',
  });
  await writer.matrix('userFactors', new Float32Array([0.1, 0.2, -0.3, 0.4]), 2, 2);
  await writer.vector('itemBias', new Float32Array(3));
  await writer.vector('userBias', new Float32Array(2));
  await writer.vector('popularity', POPULARITY);
  await writer.csr('seen', new Uint32Array([0, 1, 2]), new Uint32Array([0, 1]));
  await catalog(writer);
  const manifest = await writer.finish();
  return { manifest, version: await openVersionFolder(manifest.dir, manifest.version) };
}

/** The columns of MOVIES written by hand, each replaceable, any left out. */
async function handColumns(
  writer: VersionWriter,
  {
    header = {
      layout: 'columns',
      genreSets: [
        ['Action', 'Crime'],
        ['Comedy', 'Romance'],
      ],
    },
    titles = MOVIES.map((m) => m.title),
    years = new Uint16Array([1995, 0, 1995]),
    genres = new Uint16Array([0, 1, 0]),
    skip = [],
  }: {
    header?: unknown;
    titles?: string[];
    years?: Vector;
    genres?: Vector;
    skip?: string[];
  } = {},
): Promise<void> {
  await writer.json('catalog', header);
  if (!skip.includes('titles')) await writer.strings('catalogTitles', titles);
  if (!skip.includes('years')) await writer.vector('catalogYears', years);
  if (!skip.includes('genres')) await writer.vector('catalogGenres', genres);
  if (!skip.includes('counts')) await writer.vector('catalogRatingCounts', RATING_COUNTS);
  if (!skip.includes('means')) await writer.vector('catalogMeanRatings', MEAN_RATINGS);
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isReelrankError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected the version to be refused');
}

describe('a three-movie catalog', () => {
  it('is written as columns with nothing twice and no nulls', async () => {
    const { manifest, version } = await tinyVersion((writer) =>
      writeCatalog(writer, MOVIES, { ratingCounts: RATING_COUNTS, meanRatings: MEAN_RATINGS }),
    );
    expect(await version.json('catalog')).toEqual({
      layout: 'columns',
      genreSets: [
        ['Action', 'Crime'],
        ['Comedy', 'Romance'],
      ],
    });
    const files = Object.fromEntries(manifest.files.map((f) => [f.path, [f.kind, f.dtype, f.shape]]));
    expect(files['catalog_titles.str']).toEqual(['strings', 'utf8', [3, 4 + 7 + 5]]);
    expect(files['catalog_years.u16']).toEqual(['vector', 'uint16', [3]]);
    expect(files['catalog_genres.bin']).toEqual(['vector', 'uint16', [3]]);
    expect(files['catalog_rating_counts.u32']).toEqual(['vector', 'uint32', [3]]);
    expect(files['catalog_mean_ratings.f32']).toEqual(['vector', 'float32', [3]]);
    expect(files['catalog_tmdb_ids.u32']).toEqual(['ids', 'uint32', [3]]);
    expect(files['catalog_poster_paths.str']).toEqual(['strings', 'utf8', [3, 9]]);
    expect([...(await version.ids('catalogTmdbIds'))]).toEqual([949, 0, 807]);
  });

  it('leaves out tmdb ids and poster paths when no movie has one', async () => {
    const bare = MOVIES.map((m) => ({ ...m, tmdbId: null, posterPath: null }));
    const { manifest, version } = await tinyVersion((writer) =>
      writeCatalog(writer, bare, { ratingCounts: RATING_COUNTS, meanRatings: MEAN_RATINGS }),
    );
    const paths = manifest.files.map((f) => f.path);
    expect(paths).not.toContain('catalog_tmdb_ids.u32');
    expect(paths).not.toContain('catalog_poster_paths.str');
    const model = await loadServingModel(version);
    expect(model.movies.map((m) => [m.tmdbId, m.posterPath])).toEqual([
      [null, null],
      [null, null],
      [null, null],
    ]);
  });

  it('serves the same movies, filters and titles from columns as from catalog.json objects', async () => {
    const columns = await loadServingModel(
      (
        await tinyVersion((writer) =>
          writeCatalog(writer, MOVIES, { ratingCounts: RATING_COUNTS, meanRatings: MEAN_RATINGS }),
        )
      ).version,
    );
    const objects = await loadServingModel(
      (await tinyVersion((writer) => writer.json('catalog', { movies: SERVED }).then(() => undefined)))
        .version,
    );
    for (const model of [columns, objects]) {
      expect(model.movies).toEqual(SERVED);
      expect(model.genreNames).toEqual(['Action', 'Crime', 'Comedy', 'Romance']);
      expect([...model.filterAttributes.genreBits]).toEqual([0b0011, 0b1100, 0b0011]);
      expect([...model.filterAttributes.years]).toEqual([1995, 0, 1995]);
      expect([...model.catalog.meanRatings]).toEqual([4.5, Number.NaN, 3.25]);
      expect([0, 1, 2].map((i) => model.catalog.title(i))).toEqual(['Heat', 'Amélie', 'Se7en']);
      const index = titleIndexOf(model);
      expect(searchTitles(index, 'amelie', 5).indexes).toEqual([1]);
      expect(resolveTitle(index, 'Se7en (1995)')).toMatchObject({ found: true, itemIndex: 2 });
    }
    expect(columns.movies[0]!.genres).toBe(columns.movies[2]!.genres); // one frozen list per genre set
  });
});

describe('a broken catalog is refused, naming the file', () => {
  it('a genre index past genreSets', async () => {
    const { version } = await tinyVersion((w) => handColumns(w, { genres: new Uint16Array([0, 2, 0]) }));
    expect(await refusal(loadServingModel(version))).toMatchObject({
      code: 'artifact_corrupt',
      message: expect.stringMatching(/catalog_genres\.bin\[1\] = 2, but catalog\.json has 2 genreSets/),
    });
  });

  it('a column of another length than item_ids', async () => {
    const { version } = await tinyVersion((w) => handColumns(w, { titles: ['Heat', 'Amélie'] }));
    expect(await refusal(loadServingModel(version))).toMatchObject({
      code: 'artifact_invalid',
      message: expect.stringMatching(/catalog_titles\.str has 2 entries, expected 3 \(item_ids\)/),
    });
  });

  it('some columns but not all, or none behind a columns header', async () => {
    const partial = await tinyVersion((w) => handColumns(w, { skip: ['means'] }));
    expect(await refusal(loadServingModel(partial.version))).toMatchObject({
      code: 'artifact_missing',
      message: expect.stringMatching(/has catalog columns but not catalog_mean_ratings\.f32/),
    });
    const none = await tinyVersion((w) =>
      handColumns(w, { skip: ['titles', 'years', 'genres', 'counts', 'means'] }),
    );
    expect(await refusal(loadServingModel(none.version))).toMatchObject({
      code: 'artifact_missing',
      message: expect.stringMatching(/layout 'columns' but the version has no catalog_titles\.str/),
    });
  });

  it('a column of the wrong type', async () => {
    const { version } = await tinyVersion((w) => handColumns(w, { years: new Uint32Array([1995, 0, 1995]) }));
    expect(await refusal(loadServingModel(version))).toMatchObject({
      code: 'artifact_format',
      message: expect.stringMatching(
        /catalog_years\.u16 of version tiny-\d+ is a uint32 vector, expected uint16/,
      ),
    });
  });

  it('a header that is neither columns nor movies, or both', async () => {
    const bad = await tinyVersion((w) => handColumns(w, { header: { layout: 'columns', genreSets: [[1]] } }));
    expect(await refusal(loadServingModel(bad.version))).toMatchObject({
      code: 'artifact_format',
      message: expect.stringMatching(/genreSets must be an array of genre lists/),
    });
    const neither = await tinyVersion((w) => handColumns(w, { header: { ratingScale: {} } }));
    expect(await refusal(loadServingModel(neither.version))).toMatchObject({
      code: 'artifact_format',
      message: expect.stringMatching(/an object with keys ratingScale/),
    });
    const both = await tinyVersion((w) => handColumns(w, { header: { movies: SERVED } }));
    expect(await refusal(loadServingModel(both.version))).toMatchObject({
      code: 'artifact_format',
      message: expect.stringMatching(/catalog columns and movies in catalog\.json: one catalog, not two/),
    });
  });
});

describe('ml-latest-small as columns and as catalog.json objects', () => {
  let dataset: Dataset;
  let columns: ServingModel;
  let objects: ServingModel;
  beforeAll(async () => {
    dataset = await loadDataset();
    const model = fitBiasedMf(dataset, { epochs: 2 });
    const load = async (catalogLayout: 'columns' | 'objects') => {
      const v = await writeFixtureVersion(dataset, model, { version: `ml-${catalogLayout}`, catalogLayout });
      return loadServingModel(await openVersion(memoryStore(v.files), { version: v.version }));
    };
    [columns, objects] = await Promise.all([load('columns'), load('objects')]);
  }, 60_000);

  it('holds every movie as the dataset has it', () => {
    const { ratingCounts, meanRatings } = catalogStats(dataset);
    expect(columns.movies.length).toBe(dataset.movies.length);
    dataset.movies.forEach((m, i) => {
      const served = columns.movies[i]!;
      expect([
        served.movieId,
        served.title,
        served.year,
        served.genres,
        served.tmdbId,
        served.posterPath,
      ]).toEqual([m.movieId, m.title, m.year, m.genres, m.tmdbId, m.posterPath]);
      expect(served.ratingCount).toBe(ratingCounts[i]);
      expect(served.meanRating).toBe(ratingCounts[i]! > 0 ? meanRatings[i] : null);
    });
  });

  it('agrees with the objects catalog on movies, filters, recommendations and titles', () => {
    for (let i = 0; i < columns.itemCount; i++) {
      const a = columns.movies[i]!;
      const b = objects.movies[i]!;
      expect([a.movieId, a.title, a.year, a.genres, a.tmdbId, a.posterPath, a.ratingCount]).toEqual([
        b.movieId,
        b.title,
        b.year,
        b.genres,
        b.tmdbId,
        b.posterPath,
        b.ratingCount,
      ]);
      // The objects fixture rounds means to 3 decimals (as older exports did), the columns keep float32.
      if (b.meanRating === null) expect(a.meanRating).toBeNull();
      else expect(Math.abs(a.meanRating! - b.meanRating!)).toBeLessThanOrEqual(5e-4 + 1e-6);
    }
    expect(columns.genreNames).toEqual(objects.genreNames);
    expect(columns.filterAttributes.genreBits).toEqual(objects.filterAttributes.genreBits);
    expect(columns.filterAttributes.years).toEqual(objects.filterAttributes.years);
    for (const user of [0, 1, 17, 300]) {
      const ids = (model: ServingModel) =>
        recommend(model, knownUser(model, user), { k: 10 }).items.map((item) => item.itemIndex);
      expect(ids(columns)).toEqual(ids(objects));
    }
    for (const query of ['matrix', 'star wars', 'amelie', 'hamlet']) {
      expect(searchTitles(titleIndexOf(columns), query, 10)).toEqual(
        searchTitles(titleIndexOf(objects), query, 10),
      );
    }
  });
});
