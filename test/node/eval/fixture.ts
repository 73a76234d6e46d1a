import { type Movie, movieRecord } from '../../../shared/catalog.ts';
import type { Dataset } from '../../../train/data/dataset.ts';

/** A hand-made dataset from [user, item, rating, timestamp] rows (dense indexes). */
export function tinyDataset(
  rows: [number, number, number, number][],
  items: number,
  genres: string[][] = [],
): Dataset {
  const users = rows.reduce((m, r) => Math.max(m, r[0] + 1), 0);
  const movies: Movie[] = Array.from({ length: items }, (_, i) =>
    movieRecord({ movieId: i + 1, title: `movie ${i + 1}`, year: 2000, genres: genres[i] ?? [] }),
  );
  return {
    name: 'tiny',
    format: 'synthetic',
    source: 'test',
    ratings: {
      length: rows.length,
      userIndex: Uint32Array.from(rows, (r) => r[0]),
      itemIndex: Uint32Array.from(rows, (r) => r[1]),
      rating: Float32Array.from(rows, (r) => r[2]),
      timestamp: Uint32Array.from(rows, (r) => r[3]),
    },
    userIds: Uint32Array.from({ length: users }, (_, u) => u + 1),
    movies,
    ratingScale: { min: 1, max: 5, step: 1 },
    syntheticRatings: false,
    officialSplits: {},
    summary: { skippedRows: 0, issues: [] },
  };
}
