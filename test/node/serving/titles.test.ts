/**
 * Title normalisation and resolution (shared/serving/titles.ts): hand-computed cases, then real
 * titles of the embedded ml-latest-small ("Matrix, The", "Misérables, Les", several "Hamlet",
 * two "Emma (1996)"), with popularity from its real rating counts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { isReelrankError } from '../../../shared/errors.ts';
import {
  boundedEditDistance,
  createTitleIndex,
  foldText,
  normaliseTitle,
  resolveTitle,
  resolveTitleOrThrow,
  searchTitles,
  splitQueryYear,
  type TitleIndex,
  titleKey,
} from '../../../shared/serving/titles.ts';
import type { Dataset } from '../../../train/data/dataset.ts';
import { loadDataset } from '../../../train/data/index.ts';
import { normaliseTitle as trainNormaliseTitle } from '../../../train/data/titles.ts';

describe('title keys (hand-computed)', () => {
  it('folds case, accents, punctuation and articles', () => {
    expect(foldText('  Amélie: Le Fabuleux-Destin! ')).toBe('amelie le fabuleux destin');
    expect(foldText('Fast & Furious')).toBe('fast and furious');
    expect(normaliseTitle('Misérables, Les')).toBe('les miserables');
    expect(normaliseTitle('Matrix, The')).toBe('the matrix');
    expect(titleKey('Matrix, The')).toBe('matrix');
    expect(titleKey('The Matrix')).toBe('matrix');
    expect(titleKey('A Beautiful Mind')).toBe('beautiful mind');
    expect(titleKey('Die Hard')).toBe('die hard'); // only English articles are dropped
    expect(titleKey('The')).toBe('the'); // an article alone stays
    expect(titleKey('?!')).toBe('');
  });

  it('training joins catalogs with the same normalisation', () => {
    expect(trainNormaliseTitle).toBe(normaliseTitle);
  });

  it('splits a year in parentheses off a query', () => {
    expect(splitQueryYear('Heat (1995)')).toEqual({ title: 'Heat', year: 1995 });
    expect(splitQueryYear('  Heat  ')).toEqual({ title: 'Heat', year: null });
    expect(splitQueryYear('(1995)')).toEqual({ title: '(1995)', year: null });
    expect(splitQueryYear('2001: A Space Odyssey')).toEqual({ title: '2001: A Space Odyssey', year: null });
  });

  it('bounds the edit distance', () => {
    expect(boundedEditDistance('matirx', 'matrix', 2)).toBe(1); // one transposition
    expect(boundedEditDistance('kitten', 'sitting', 3)).toBe(3);
    expect(boundedEditDistance('kitten', 'sitting', 2)).toBe(3); // stopped early: max + 1
    expect(boundedEditDistance('heat', 'heat', 0)).toBe(0);
    expect(boundedEditDistance('ab', 'abcd', 1)).toBe(2);
  });
});

describe('title resolution on ml-latest-small', () => {
  let dataset: Dataset;
  let index: TitleIndex;
  let counts: Float64Array;
  const idOf = (i: number) => dataset.movies[i]!.movieId;
  const resolve = (query: string, year?: number) => {
    const r = resolveTitle(index, query, { year });
    if (!r.found) throw new Error(`'${query}' did not resolve: ${r.reason}`);
    return r;
  };

  beforeAll(async () => {
    dataset = await loadDataset();
    counts = new Float64Array(dataset.movies.length);
    for (let r = 0; r < dataset.ratings.length; r++) {
      const i = dataset.ratings.itemIndex[r]!;
      counts[i] = counts[i]! + 1;
    }
    index = createTitleIndex(dataset.movies, counts);
  });

  it('matches the MovieLens trailing-article form from any spelling', () => {
    for (const query of ['The Matrix', 'matrix, the', 'MATRIX (1999)', 'the matrix']) {
      const r = resolve(query);
      expect(idOf(r.itemIndex), query).toBe(2571);
      expect(r).toMatchObject({ match: 'exact', ambiguous: false, alternatives: [] });
    }
  });

  it('lists the other movies of an ambiguous title, most-rated first, and a year picks one', () => {
    const hamlets = dataset.movies.map((m, i) => ({ m, i })).filter(({ m }) => m.title === 'Hamlet');
    expect(hamlets.length).toBe(5);
    const mostRated = hamlets.reduce((a, b) => (counts[b.i]! > counts[a.i]! ? b : a));
    const r = resolve('hamlet');
    expect(r.match).toBe('exact');
    expect(r.ambiguous).toBe(true);
    expect(r.itemIndex).toBe(mostRated.i);
    expect(new Set([r.itemIndex, ...r.alternatives])).toEqual(new Set(hamlets.map((h) => h.i)));
    // 'Hamlet 2' is a partial match: never listed beside exact ones.
    expect(r.alternatives.map((i) => dataset.movies[i]!.title)).not.toContain('Hamlet 2');
    expect(idOf(resolve('Hamlet (1948)').itemIndex)).toBe(1941);
    expect(idOf(resolve('Hamlet', 2000).itemIndex)).toBe(3598);
    const wrongYear = resolveTitle(index, 'Hamlet (1995)');
    expect(wrongYear.found).toBe(false);
    if (!wrongYear.found) expect(new Set(wrongYear.suggestions)).toEqual(new Set(hamlets.map((h) => h.i)));
  });

  it('resolves "Les Misérables" with or without accents and article, and two "Emma (1996)"', () => {
    const les = resolve('Les Miserables');
    expect(les.ambiguous).toBe(true);
    expect([les.itemIndex, ...les.alternatives].map(idOf).sort((a, b) => a - b)).toEqual([
      73, 1873, 99149, 99532,
    ]);
    expect(idOf(resolve('misérables, les (1998)').itemIndex)).toBe(1873);
    const emma = resolve('Emma', 1996);
    expect([emma.itemIndex, ...emma.alternatives].map(idOf).sort((a, b) => a - b)).toEqual([838, 26958]);
  });

  it('matches alternate titles in parentheses and partial titles', () => {
    expect(idOf(resolve('Amélie').itemIndex)).toBe(4973); // "Amelie (Fabuleux destin d'Amélie Poulain, Le)"
    expect(idOf(resolve('Se7en').itemIndex)).toBe(47); // "Seven (a.k.a. Se7en)"
    expect(resolve('Toy Story')).toMatchObject({ match: 'exact', ambiguous: false });
    const words = resolve('story toy');
    expect(words.match).toBe('partial');
    expect(idOf(words.itemIndex)).toBe(1);
    const starWars = resolve('star wars');
    expect(starWars).toMatchObject({ match: 'partial', ambiguous: true });
    const all = [starWars.itemIndex, ...starWars.alternatives];
    for (const i of all) expect(dataset.movies[i]!.title).toMatch(/^Star Wars/);
    expect(Math.max(...all.map((i) => counts[i]!))).toBe(counts[starWars.itemIndex]);
  });

  it('suggests close titles for a typo and says why in a movie_not_found error', () => {
    const typo = resolveTitle(index, 'Matirx');
    expect(typo.found).toBe(false);
    if (!typo.found) expect(idOf(typo.suggestions[0]!)).toBe(2571);
    let caught: unknown;
    try {
      resolveTitleOrThrow(index, 'Matirx', { version: 'v1' });
    } catch (error) {
      caught = error;
    }
    expect(isReelrankError(caught) && caught.code).toBe('movie_not_found');
    expect((caught as Error).message).toMatch(
      /^title: no movie of version v1 matches 'Matirx'.*Matrix, The \(1999\)/,
    );
    expect(() => resolveTitleOrThrow(index, '?!', { version: 'v1' })).toThrow(/no letters or digits/);
    const nothing = resolveTitle(index, 'xqzv wvxq');
    expect(nothing).toMatchObject({ found: false, suggestions: [] });
  });

  it('searches by key: prefix first, articles and accents folded', () => {
    expect(idOf(searchTitles(index, 'heat', 5).indexes[0]!)).toBe(6);
    expect(idOf(searchTitles(index, 'les mis', 5).indexes[0]!)).toBe(73);
    const all = searchTitles(index, '', 3);
    expect(all.total).toBe(dataset.movies.length);
    expect(counts[all.indexes[0]!]).toBe(Math.max(...counts));
  });
});

describe('title index on a catalog where every title shares its words (bounded work)', () => {
  // "Synthetic Movie N" x 20,000: every title has "synthetic" and "movie", the worst case for word
  // postings; popularity rises with N so the best-known match is the highest N.
  const count = 20_000;
  const movies = Array.from({ length: count }, (_, i) => ({
    movieId: i + 1,
    title: `Synthetic Movie ${i + 1}`,
    year: 1950 + (i % 70),
  }));
  const index = createTitleIndex(
    movies,
    Float64Array.from(movies, (_, i) => i),
  );
  const title = (i: number) => movies[i]!.title;

  it('finds exact keys and phrases through the index, not a scan', () => {
    const exact = resolveTitle(index, 'synthetic movie 12345');
    expect(exact).toMatchObject({ found: true, match: 'exact', ambiguous: false });
    if (exact.found) expect(title(exact.itemIndex)).toBe('Synthetic Movie 12345');
    // A prefix every title has: the best known of all (the budget scans the best-known first).
    const common = resolveTitle(index, 'synthetic');
    expect(common).toMatchObject({ found: true, match: 'partial', ambiguous: true });
    if (common.found) {
      expect(title(common.itemIndex)).toBe(`Synthetic Movie ${count}`);
      expect(common.alternatives.map(title)).toEqual(
        [1, 2, 3, 4, 5].map((d) => `Synthetic Movie ${count - d}`),
      );
    }
    // All words in any order, the last a prefix: "movie 1999" -> "Synthetic Movie 1999x" family.
    const words = resolveTitle(index, 'movie synthetic 1999');
    expect(words.found && title(words.itemIndex)).toBe('Synthetic Movie 19999');
  });

  it('answers a common word with a year no movie has, and a typo, within the budget', () => {
    const noYear = resolveTitle(index, 'synthetic (1874)');
    expect(noYear).toMatchObject({ found: false });
    const typo = resolveTitle(index, 'synthetic movie 1234x');
    expect(typo.found).toBe(false);
    // One edit from "1234x": "1234" and "12340".."12349"; the best known first.
    if (!typo.found)
      expect(typo.suggestions.map(title)).toEqual([9, 8, 7, 6, 5].map((d) => `Synthetic Movie 1234${d}`));
    const nonsense = resolveTitle(index, 'qqq zzz xxx www vvv uuu ttt sss rrr ppp ooo nnn mmm lll kkk jjj');
    expect(nonsense).toMatchObject({ found: false, suggestions: [] });
  });

  it('searches prefixes and word starts, counting matches by the index', () => {
    const all = searchTitles(index, 'movie', 3);
    expect(all.total).toBe(count); // every title has "movie" at a word start
    expect(all.indexes.map(title)).toEqual([count, count - 1, count - 2].map((n) => `Synthetic Movie ${n}`));
    const prefix = searchTitles(index, 'synthetic movie 1999', 2);
    expect(prefix.total).toBe(11); // 1999 and 19990..19999
    expect(prefix.indexes.map(title)).toEqual(['Synthetic Movie 19999', 'Synthetic Movie 19998']);
    expect(searchTitles(index, 'ynthetic', 5).total).toBe(0); // inside a word: not a match
  });
});
