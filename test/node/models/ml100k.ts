import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Movie, movieRecord } from '../../../shared/catalog.ts';
import type { Dataset } from '../../../train/data/dataset.ts';
import { sharedData } from '../../support/data.ts';

const GENRES =
  "unknown Action Adventure Animation Children's Comedy Crime Documentary Drama Fantasy Film-Noir Horror Musical Mystery Romance Sci-Fi Thriller War Western".split(
    ' ',
  );

/**
 * A small ml-100k reader (u.data + u.item genres) so the model tests do not wait on the ingest
 * module. Users are indexed by user id - 1, items by movie id - 1. `maxRatings` keeps the first N
 * lines of u.data: a small real sample.
 */
export function readMl100kSample(maxRatings: number): Dataset {
  const dir = sharedData('ml-100k');
  const lines = readFileSync(join(dir, 'u.data'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .slice(0, maxRatings);
  const n = lines.length;
  const userIndex = new Uint32Array(n);
  const itemIndex = new Uint32Array(n);
  const rating = new Float32Array(n);
  const timestamp = new Uint32Array(n);
  lines.forEach((line, j) => {
    const [u, m, r, t] = line.split('\t').map(Number);
    userIndex[j] = u! - 1;
    itemIndex[j] = m! - 1;
    rating[j] = r!;
    timestamp[j] = t!;
  });
  const movies: Movie[] = readFileSync(join(dir, 'u.item'), 'latin1')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const f = line.split('|');
      return movieRecord({
        movieId: Number(f[0]),
        title: f[1] ?? '',
        genres: GENRES.filter((_, g) => f[5 + g] === '1'),
      });
    });
  return {
    name: 'ml-100k',
    format: 'ml-100k',
    source: dir,
    ratings: { length: n, userIndex, itemIndex, rating, timestamp },
    userIds: Uint32Array.from({ length: 943 }, (_, u) => u + 1),
    movies,
    ratingScale: { min: 1, max: 5, step: 1 },
    syntheticRatings: false,
    officialSplits: {},
    summary: { skippedRows: 0, issues: [] },
  };
}
