import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../../train/data/dataset.ts';
import { DEFAULT_DATA_DIR, loadDataset } from '../../../train/data/index.ts';
import { combinedFeatures } from '../../../train/data/tmdb.ts';
import { describeWithData, REPO_ROOT, sharedData } from '../../support/data.ts';

/** Distinct values of a typed column. */
const distinct = (column: ArrayLike<number>) => new Set(Array.from(column)).size;

function expectConsistent(ds: Dataset): void {
  const { ratings } = ds;
  for (const column of [ratings.userIndex, ratings.itemIndex, ratings.rating, ratings.timestamp]) {
    expect(column.length).toBe(ratings.length);
  }
  let maxUser = -1;
  let maxItem = -1;
  for (let i = 0; i < ratings.length; i++) {
    maxUser = Math.max(maxUser, ratings.userIndex[i]!);
    maxItem = Math.max(maxItem, ratings.itemIndex[i]!);
  }
  expect(maxUser).toBeLessThan(ds.userIds.length);
  expect(maxItem).toBeLessThan(ds.movies.length);
}

describe('embedded default data (data/ml-latest-small, no --data)', () => {
  it('is the repo copy and loads 100,836 ratings / 610 users / 9,742 movies', async () => {
    expect(DEFAULT_DATA_DIR).toBe(join(REPO_ROOT, 'data/ml-latest-small'));
    const started = performance.now();
    const ds = await loadDataset();
    const seconds = (performance.now() - started) / 1000;
    expect(ds.format).toBe('ml-latest');
    expect([ds.ratings.length, ds.userIds.length, ds.movies.length]).toEqual([100_836, 610, 9_742]);
    expect(distinct(ds.ratings.itemIndex)).toBe(9_724); // rated movies, per the data README
    expect(ds.summary.skippedRows).toBe(0);
    expect(seconds).toBeLessThan(3); // well under a second on an idle machine; slack for a busy CI
    expectConsistent(ds);
  });
});

describeWithData('ml-latest-small', 'ml-latest-small from ../shared/data', () => {
  let ds: Dataset;
  beforeAll(async () => {
    ds = await loadDataset(sharedData('ml-latest-small'));
  });

  it('counts 100,836 ratings, 610 users, 9,742 movies on the 0.5..5 half-star scale', () => {
    expect([ds.ratings.length, ds.userIds.length, ds.movies.length]).toEqual([100_836, 610, 9_742]);
    expect(ds.ratingScale).toEqual({ min: 0.5, max: 5, step: 0.5 });
    expect(Math.min(...ds.ratings.rating)).toBe(0.5);
    expect(Math.max(...ds.ratings.rating)).toBe(5);
    expect([ds.userIds[0], ds.userIds[609]]).toEqual([1, 610]);
  });

  it('parses the first row and quoted titles, links and tags', () => {
    // ratings.csv line 2: 1,1,4.0,964982703
    expect(ds.userIds[ds.ratings.userIndex[0]!]).toBe(1);
    expect(ds.movies[ds.ratings.itemIndex[0]!]!.movieId).toBe(1);
    expect([ds.ratings.rating[0], ds.ratings.timestamp[0]]).toEqual([4, 964982703]);
    const toyStory = ds.movies[0]!;
    expect(toyStory).toMatchObject({
      movieId: 1,
      title: 'Toy Story',
      year: 1995,
      imdbId: 'tt0114709',
      tmdbId: 862,
    });
    expect(toyStory.genres).toEqual(['Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy']);
    expect(toyStory.tags).toEqual(expect.arrayContaining(['pixar', 'fun']));
    const quoted = ds.movies.find((m) => m.movieId === 11)!; // "American President, The (1995)"
    expect([quoted.title, quoted.year]).toEqual(['American President, The', 1995]);
    expect(ds.movies.filter((m) => m.tmdbId === null)).toHaveLength(8);
  });

  it('joins 3,537 movies to tmdb-5000 through links.csv tmdbId', async () => {
    const joined = await loadDataset(sharedData('ml-latest-small'), { tmdb: sharedData('tmdb-5000') });
    expect(joined.tmdbJoin).toMatchObject({ joined: 3_537, byLink: 3_537, byTitleYear: 0 });
    const toyStory = joined.movies[0]!;
    expect(toyStory.overview).toMatch(/^Led by Woody, Andy's toys/);
    expect(toyStory.keywords).toContain('jealousy');
    expect(toyStory.voteAverage).toBe(7.7);
    expect(joined.movies.filter((m) => m.voteCount != null)).toHaveLength(3_537);
    expect(joined.movies.filter((m) => m.overview !== '').length).toBeGreaterThan(3_500);
  });
});

describeWithData(['ml-100k', 'ml-100k-posters'], 'ml-100k from ../shared/data', () => {
  let ds: Dataset;
  beforeAll(async () => {
    ds = await loadDataset(sharedData('ml-100k'), { posters: sharedData('ml-100k-posters') });
  });

  it('counts 100,000 ratings, 943 users, 1,682 movies on the 1..5 scale', () => {
    expect([ds.ratings.length, ds.userIds.length, ds.movies.length]).toEqual([100_000, 943, 1_682]);
    expect(ds.ratingScale).toEqual({ min: 1, max: 5, step: 1 });
    expect(ds.summary.skippedRows).toBe(0);
    // u.data line 1: 196	242	3	881250949
    expect(ds.userIds[ds.ratings.userIndex[0]!]).toBe(196);
    expect(ds.movies[ds.ratings.itemIndex[0]!]!.movieId).toBe(242);
    expect([ds.ratings.rating[0], ds.ratings.timestamp[0]]).toEqual([3, 881250949]);
    expect(ds.userProfiles?.[0]).toEqual({
      userId: 1,
      age: 24,
      gender: 'M',
      occupation: 'technician',
      zipCode: '85711',
    });
    expectConsistent(ds);
  });

  it('decodes u.item as Latin-1: "Misérables, Les (1995)" at line 543', () => {
    const movie = ds.movies[542]!;
    expect([movie.movieId, movie.title, movie.year]).toEqual([543, 'Misérables, Les', 1995]);
    expect(ds.movies[0]!.genres).toEqual(['Animation', "Children's", 'Comedy']);
  });

  it('maps the official splits to rows of u.data: u1 = 80,000 + 20,000, ua/ub 10 test ratings per user', () => {
    expect(Object.keys(ds.officialSplits)).toEqual(['u1', 'u2', 'u3', 'u4', 'u5', 'ua', 'ub']);
    const u1 = ds.officialSplits.u1!;
    expect([u1.train.length, u1.test.length]).toEqual([80_000, 20_000]);
    const all = new Set([...u1.train, ...u1.test]);
    expect(all.size).toBe(100_000); // a partition of u.data
    const ua = ds.officialSplits.ua!;
    expect(ua.test.length).toBe(943 * 10);
    // u1.test line 1: 1	6	5	887431973
    const first = u1.test[0]!;
    expect([
      ds.userIds[ds.ratings.userIndex[first]!],
      ds.movies[ds.ratings.itemIndex[first]!]!.movieId,
    ]).toEqual([1, 6]);
  });

  it('attaches posters to 1,663 movies (19 ids have none)', () => {
    expect(ds.posters?.attached).toBe(1_663);
    expect(ds.movies.filter((m) => m.posterPath !== null)).toHaveLength(1_663);
    expect(ds.movies[0]!.posterPath).toBe(join(sharedData('ml-100k-posters'), '1.jpg'));
    expect(ds.movies[329]!.posterPath).toBeNull(); // id 330 is one of the 19 missing
  });

  it("takes TMDB ids from the posters folder's links.csv, so the TMDB join matches by id", async () => {
    // links.csv there: 1,682 rows (movie_id, imdb_id, tmdb_id); 499 of its tmdb_ids are in tmdb-5000.
    expect(ds.posters?.linked).toBe(ds.movies.filter((m) => m.tmdbId !== null).length);
    expect(ds.posters?.linked).toBeGreaterThan(1_600);
    expect([ds.movies[0]!.tmdbId, ds.movies[0]!.imdbId]).toEqual([862, 'tt0114709']); // Toy Story
  });
});

describeWithData(['ml-100k', 'ml-100k-posters', 'tmdb-5000'], 'ml-100k joined to tmdb-5000', () => {
  it('joins 499 movies by the TMDB ids of the posters folder links', async () => {
    const joined = await loadDataset(sharedData('ml-100k'), {
      posters: sharedData('ml-100k-posters'),
      tmdb: sharedData('tmdb-5000'),
    });
    expect(joined.tmdbJoin?.byLink).toBe(499);
    expect(joined.tmdbJoin?.byTitleYear).toBe(0); // every movie had a link, none guessed by title
    expect(joined.movies[0]!.overview).toContain('Woody');
  });
});

describeWithData('ml-1m', 'ml-1m from ../shared/data (ratings.dat absent)', () => {
  it('parses movies.dat and users.dat as Latin-1 and reports 0 ratings with a note', async () => {
    const ds = await loadDataset(sharedData('ml-1m'));
    expect(ds.format).toBe('ml-1m');
    expect([ds.ratings.length, ds.userIds.length, ds.movies.length]).toEqual([0, 6_040, 3_883]);
    expect(ds.summary.notes?.[0]).toMatch(/ratings\.dat is absent: 0 ratings/);
    expect(ds.movies.find((m) => m.movieId === 73)).toMatchObject({ title: 'Misérables, Les', year: 1995 });
    expect(ds.userProfiles?.filter((u) => u.gender === 'F')).toHaveLength(1_709);
    expect(ds.userProfiles?.[0]).toEqual({
      userId: 1,
      gender: 'F',
      age: 1,
      occupation: 'K-12 student',
      zipCode: '48067',
    });
  });
});

describeWithData('tmdb-5000', 'tmdb-5000 from ../shared/data', () => {
  let ds: Dataset;
  beforeAll(async () => {
    ds = await loadDataset(sharedData('tmdb-5000'));
  });

  it('loads 4,803 movies with JSON genres/keywords and generates synthetic ratings', () => {
    expect(ds.movies).toHaveLength(4_803);
    expect(ds.summary.skippedRows).toBe(0);
    const avatar = ds.movies[0]!;
    expect(avatar).toMatchObject({
      movieId: 19995,
      tmdbId: 19995,
      title: 'Avatar',
      year: 2009,
      voteAverage: 7.2,
    });
    expect(avatar.genres).toEqual(['Action', 'Adventure', 'Fantasy', 'Science Fiction']);
    expect(avatar.keywords[0]).toBe('culture clash');
    expect(ds.syntheticRatings).toBe(true);
    expect(ds.userIds).toHaveLength(500);
    expect(ds.ratings.length).toBeGreaterThanOrEqual(500 * 5);
    expect(ds.ratings.length).toBeLessThanOrEqual(500 * 30);
    expect(ds.movies.some((m) => m.overview.includes('\r'))).toBe(false);
  });

  it('generates the same synthetic ratings for the same seed, different ones for another', async () => {
    const again = await loadDataset(sharedData('tmdb-5000'));
    expect(again.ratings.length).toBe(ds.ratings.length);
    expect([...again.ratings.rating]).toEqual([...ds.ratings.rating]);
    expect([...again.ratings.itemIndex]).toEqual([...ds.ratings.itemIndex]);
    const other = await loadDataset(sharedData('tmdb-5000'), { seed: 7 });
    expect([...other.ratings.itemIndex.subarray(0, 50)]).not.toEqual([
      ...ds.ratings.itemIndex.subarray(0, 50),
    ]);
  });

  describe('with the hand-made tmdb_5000_credits.csv fixture', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reelrank-tmdb-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('takes the top-3 cast by billing order and the director', async () => {
      cpSync(join(sharedData('tmdb-5000'), 'tmdb_5000_movies.csv'), join(dir, 'tmdb_5000_movies.csv'));
      cpSync(
        join(REPO_ROOT, 'test/fixtures/tmdb-credits/tmdb_5000_credits.csv'),
        join(dir, 'tmdb_5000_credits.csv'),
      );
      const withCredits = await loadDataset(dir);
      const byId = new Map(withCredits.movies.map((m) => [m.movieId, m]));
      expect(byId.get(19995)).toMatchObject({
        cast: ['Sam Worthington', 'Zoe Saldana', 'Sigourney Weaver'],
        director: 'James Cameron',
      });
      expect(byId.get(603)?.director).toBe('Lana Wachowski'); // first of two directors
      expect(byId.get(429)?.cast[0]).toBe('Clint Eastwood');
      expect(withCredits.movies.filter((m) => m.director !== null)).toHaveLength(11);
      expect(combinedFeatures(byId.get(19995)!)).toMatch(
        /^Action Adventure Fantasy Science Fiction culture clash .* Sam Worthington Zoe Saldana Sigourney Weaver James Cameron In the 22nd century/,
      );

      // Joined into ml-latest-small: cast and director arrive through links.csv.
      const ml = await loadDataset(sharedData('ml-latest-small'), { tmdb: dir });
      expect(ml.movies[0]).toMatchObject({ title: 'Toy Story', director: 'John Lasseter' });
      expect(ml.movies[0]!.cast).toEqual(['Tom Hanks', 'Tim Allen', 'Don Rickles']);
    });
  });
});
