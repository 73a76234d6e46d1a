import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Movie, movieRecord } from '../../../shared/catalog.ts';
import type { Dataset } from '../../../train/data/dataset.ts';
import { sharedData } from '../../support/data.ts';

const GENRES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
];

/**
 * A minimal ml-100k reader for the neural-model tests (u.data + u.item), so these tests do not
 * depend on the ingest module's progress. Items are indexed by movie id - 1, users by user id - 1.
 * `maxRatings` keeps the first N lines of u.data (a small real sample).
 */
export function readMl100k(maxRatings = Number.POSITIVE_INFINITY): Dataset {
  const dir = sharedData('ml-100k');
  const lines = readFileSync(join(dir, 'u.data'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const n = Math.min(lines.length, maxRatings);
  const userIndex = new Uint32Array(n);
  const itemIndex = new Uint32Array(n);
  const rating = new Float32Array(n);
  const timestamp = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const [u, m, r, t] = lines[i]!.split('\t').map(Number);
    userIndex[i] = u! - 1;
    itemIndex[i] = m! - 1;
    rating[i] = r!;
    timestamp[i] = t!;
  }
  const itemText = new TextDecoder('latin1').decode(readFileSync(join(dir, 'u.item')));
  const movies: Movie[] = itemText
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const f = line.split('|');
      const rawTitle = f[1] ?? '';
      const year = /\((\d{4})\)\s*$/.exec(rawTitle);
      return movieRecord({
        movieId: Number(f[0]),
        title: rawTitle.replace(/\s*\(\d{4}\)\s*$/, ''),
        year: year ? Number(year[1]) : null,
        genres: GENRES.filter((_, g) => f[5 + g] === '1'),
      });
    });
  return {
    name: 'ml-100k',
    format: 'ml-100k',
    source: dir,
    ratings: { length: n, userIndex, itemIndex, rating, timestamp },
    userIds: Uint32Array.from({ length: 943 }, (_, i) => i + 1),
    movies,
    ratingScale: { min: 1, max: 5, step: 1 },
    syntheticRatings: false,
    officialSplits: {},
    summary: { skippedRows: 0, issues: [] },
  };
}

/** 0..n-1 as training indexes. */
export function allRows(dataset: Dataset): Uint32Array {
  return Uint32Array.from({ length: dataset.ratings.length }, (_, i) => i);
}
