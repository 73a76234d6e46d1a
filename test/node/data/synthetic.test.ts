import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Movie } from '../../../shared/catalog.ts';
import { loadDataset } from '../../../train/data/index.ts';
import {
  generateSyntheticWorld,
  SYNTHETIC_GENRES,
  syntheticRatings,
  syntheticWorldDataset,
} from '../../../train/data/synthetic.ts';
import { blankMovie } from '../../../train/data/titles.ts';

/** 200 movies whose vote average rises with the index (0.5 .. 10). */
const catalog: Movie[] = Array.from({ length: 200 }, (_, j) => ({
  ...blankMovie(j + 1, `M${j + 1}`, 2000),
  voteAverage: 0.5 + (9.5 * j) / 199,
  voteCount: 100,
  tmdbPopularity: 10,
}));

describe('syntheticRatings (reference 000)', () => {
  const { ratings, userIds } = syntheticRatings(catalog, { users: 300, seed: 5 });

  it('gives each user 5..30 distinct movies, half-star ratings clipped to 1..5', () => {
    expect(userIds.length).toBe(300);
    const perUser = new Map<number, Set<number>>();
    for (let i = 0; i < ratings.length; i++) {
      const set = perUser.get(ratings.userIndex[i]!) ?? new Set<number>();
      set.add(ratings.itemIndex[i]!);
      perUser.set(ratings.userIndex[i]!, set);
      const r = ratings.rating[i]!;
      expect(r >= 1 && r <= 5 && r * 2 === Math.round(r * 2)).toBe(true);
    }
    const counts = [...perUser.values()].map((s) => s.size);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(ratings.length); // no duplicate (user, movie)
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(5);
    expect(Math.max(...counts)).toBeLessThanOrEqual(30);
  });

  it('follows the vote average: the top-rated half of the catalog is rated well above the bottom half', () => {
    let low = 0;
    let lowN = 0;
    let high = 0;
    let highN = 0;
    for (let i = 0; i < ratings.length; i++) {
      if (ratings.itemIndex[i]! < 100) {
        low += ratings.rating[i]!;
        lowN++;
      } else {
        high += ratings.rating[i]!;
        highN++;
      }
    }
    // vote/2 averages ~1.4 vs ~3.8 before clipping; the means must differ by well over 1 star.
    expect(high / highN - low / lowN).toBeGreaterThan(1.5);
  });

  it('is deterministic by seed', () => {
    const again = syntheticRatings(catalog, { users: 300, seed: 5 });
    expect([...again.ratings.rating]).toEqual([...ratings.rating]);
    const other = syntheticRatings(catalog, { users: 300, seed: 6 });
    expect([...other.ratings.itemIndex.subarray(0, 40)]).not.toEqual([...ratings.itemIndex.subarray(0, 40)]);
  });
});

describe('generateSyntheticWorld', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reelrank-world-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const world = generateSyntheticWorld({ movies: 2_000, users: 1_000, ratings: 60_000, seed: 3 });
  const ds = syntheticWorldDataset(world);

  it('generates exactly the requested number of ratings, no duplicate (user, movie)', () => {
    expect(ds.ratings.length).toBe(60_000);
    const pairs = new Set<number>();
    for (let i = 0; i < ds.ratings.length; i++)
      pairs.add(ds.ratings.userIndex[i]! * 2_000 + ds.ratings.itemIndex[i]!);
    expect(pairs.size).toBe(60_000);
  });

  it('plants taste: users rate their favourite genres higher and more often', () => {
    let fav = 0;
    let favN = 0;
    let other = 0;
    let otherN = 0;
    for (let i = 0; i < ds.ratings.length; i++) {
      const u = ds.ratings.userIndex[i]!;
      const g = world.movieGenre[ds.ratings.itemIndex[i]!]!;
      if (g === world.userFavouriteGenres[2 * u] || g === world.userFavouriteGenres[2 * u + 1]) {
        fav += ds.ratings.rating[i]!;
        favN++;
      } else {
        other += ds.ratings.rating[i]!;
        otherN++;
      }
    }
    expect(favN / ds.ratings.length).toBeGreaterThan(0.6); // tasteFocus 0.7 (+ chance hits)
    expect(fav / favN - other / otherN).toBeGreaterThan(0.6); // planted +0.6 vs -0.2
    expect(SYNTHETIC_GENRES).toContain(ds.movies[0]!.genres[0]);
  });

  it('has power-law popularity: the top 5% of movies get over 4x their uniform share (ml-100k: 26%)', () => {
    const counts = new Uint32Array(2_000);
    for (let i = 0; i < ds.ratings.length; i++) counts[ds.ratings.itemIndex[i]!]!++;
    const sorted = [...counts].sort((a, b) => b - a);
    const top = sorted.slice(0, 100).reduce((a, b) => a + b, 0);
    expect(top / ds.ratings.length).toBeGreaterThan(0.2);
    // ...and the least popular half of the catalog gets well under half of its uniform share.
    const bottom = sorted.slice(1_000).reduce((a, b) => a + b, 0);
    expect(bottom / ds.ratings.length).toBeLessThan(0.25);
  });

  it('writes a MovieLens CSV folder that loadDataset reads back row for row', async () => {
    const { bytes } = await world.writeMovieLensCsv(dir);
    expect(bytes).toBeGreaterThan(60_000 * 15);
    const back = await loadDataset(dir);
    expect(back.format).toBe('ml-latest');
    expect([back.ratings.length, back.movies.length, back.summary.skippedRows]).toEqual([60_000, 2_000, 0]);
    expect([...back.ratings.rating]).toEqual([...ds.ratings.rating]);
    expect([...back.ratings.itemIndex]).toEqual([...ds.ratings.itemIndex]);
    expect([...back.ratings.timestamp]).toEqual([...ds.ratings.timestamp]);
    // user ids 1..n, all of them rated something, so dense indexes match
    expect([...back.ratings.userIndex]).toEqual([...ds.ratings.userIndex]);
  });
});
