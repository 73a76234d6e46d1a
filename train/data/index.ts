import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReelrankError } from '../../shared/errors.ts';
import type { Dataset, DatasetFormat } from './dataset.ts';
import { IssueLog } from './issues.ts';
import {
  type LoadedRatings,
  loadMovieLens1m,
  loadMovieLens100k,
  loadMovieLensCsv,
  type ProgressHandler,
} from './movielens.ts';
import { attachPosters } from './posters.ts';
import { syntheticRatings } from './synthetic.ts';
import { joinTmdb, loadTmdbMovies, TMDB_MOVIES_FILE } from './tmdb.ts';

export type { IngestProgress, ProgressHandler } from './movielens.ts';

/** The embedded default dataset (ml-latest-small, shipped in the repository under data/). */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../data/ml-latest-small', import.meta.url));

export interface LoadDatasetOptions {
  /** Fail on the first malformed row (ReelrankError 'bad_input', "<file>:<line>: <what>"). */
  strict?: boolean;
  /** A tmdb-5000 folder to join into the catalog (overview, keywords, cast, director, votes). */
  tmdb?: string;
  /** A folder of `<movieId>.jpg|png` posters to attach. */
  posters?: string;
  /** Progress of the long steps (bytes of the ratings file). */
  onProgress?: ProgressHandler;
  /** Users and seed of the synthetic ratings generated for a catalog without ratings (tmdb-5000). */
  syntheticUsers?: number;
  seed?: number;
}

const EXPECTED_LAYOUTS =
  'ml-100k (u.data + u.item), ml-1m (movies.dat [+ ratings.dat]), ml-latest / 20M / 25M / 32M (ratings.csv + movies.csv) or tmdb-5000 (tmdb_5000_movies.csv)';

/** Which format a folder holds, from the files in it; names what was expected when none fits. */
export function detectFormat(dir: string): DatasetFormat {
  if (!existsSync(dir)) {
    throw new ReelrankError(
      'bad_input',
      `data folder ${dir} does not exist: expected a folder with ${EXPECTED_LAYOUTS}`,
    );
  }
  if (!statSync(dir).isDirectory()) {
    throw new ReelrankError(
      'bad_input',
      `data path ${dir} is a file, not a folder: expected a folder with ${EXPECTED_LAYOUTS}`,
    );
  }
  const has = (file: string) => existsSync(join(dir, file));
  if (has('u.data') && has('u.item')) return 'ml-100k';
  if (has('movies.dat')) return 'ml-1m';
  if (has('ratings.csv') && has('movies.csv')) return 'ml-latest';
  if (has(TMDB_MOVIES_FILE)) return 'tmdb-5000';
  const found = readdirSync(dir).slice(0, 12);
  throw new ReelrankError(
    'bad_input',
    `data folder ${dir} is not a dataset reelrank knows: expected ${EXPECTED_LAYOUTS}; found ${found.length ? found.join(', ') : 'no files'}`,
  );
}

/**
 * Load a dataset folder into typed-array ratings plus a catalog, detecting the format from the
 * files. Without `dir`, loads the embedded ml-latest-small. Malformed rows are reported with
 * file:line and skipped (counted in `summary`), or with `strict` the first one throws.
 *
 * @example const ds = await loadDataset(); // 100,836 ratings, 610 users, 9,742 movies
 */
export async function loadDataset(
  dir: string = DEFAULT_DATA_DIR,
  options: LoadDatasetOptions = {},
): Promise<Dataset> {
  const source = resolve(dir);
  const format = detectFormat(source);
  const issues = new IssueLog(options.strict ?? false);
  let loaded: LoadedRatings;
  let ratingScale = { min: 1, max: 5, step: 1 };
  let synthetic = false;
  let tmdbJoin: Dataset['tmdbJoin'];
  switch (format) {
    case 'ml-100k':
      loaded = await loadMovieLens100k(source, issues, options.onProgress);
      break;
    case 'ml-1m':
      loaded = await loadMovieLens1m(source, issues, options.onProgress);
      break;
    case 'ml-latest':
      loaded = await loadMovieLensCsv(source, issues, options.onProgress);
      ratingScale = { min: 0.5, max: 5, step: 0.5 };
      break;
    default: {
      const movies = await loadTmdbMovies(source, issues);
      const generated = syntheticRatings(movies, {
        users: options.syntheticUsers ?? 500,
        seed: options.seed ?? 42,
      });
      issues.note(
        `${TMDB_MOVIES_FILE} has no ratings: ${generated.ratings.length} synthetic ratings generated (reference 000)`,
      );
      loaded = { movies, ratings: generated.ratings, userIds: generated.userIds, officialSplits: {} };
      ratingScale = { min: 1, max: 5, step: 0.5 };
      synthetic = true;
      tmdbJoin = { source, joined: movies.length, byLink: movies.length, byTitleYear: 0 };
    }
  }
  let posters: Dataset['posters'];
  if (options.posters !== undefined) {
    const postersDir = resolve(options.posters);
    posters = { source: postersDir, ...(await attachPosters(loaded.movies, postersDir, issues)) };
  }
  if (options.tmdb !== undefined) {
    const tmdbDir = resolve(options.tmdb);
    if (!existsSync(join(tmdbDir, TMDB_MOVIES_FILE))) {
      throw new ReelrankError(
        'bad_input',
        `TMDB folder ${tmdbDir} has no ${TMDB_MOVIES_FILE}: expected the Kaggle tmdb-5000 files`,
      );
    }
    const tmdbMovies = await loadTmdbMovies(tmdbDir, issues);
    tmdbJoin = { source: tmdbDir, ...joinTmdb(loaded.movies, tmdbMovies) };
  }
  return {
    name: basename(source),
    format,
    source,
    ratings: loaded.ratings,
    userIds: loaded.userIds,
    movies: loaded.movies,
    ratingScale,
    syntheticRatings: synthetic,
    officialSplits: loaded.officialSplits,
    summary: issues.summary(),
    ...(loaded.userProfiles ? { userProfiles: loaded.userProfiles } : {}),
    ...(tmdbJoin ? { tmdbJoin } : {}),
    ...(posters ? { posters } : {}),
  };
}

export type { Dataset, RatingsTable, Split } from './dataset.ts';
