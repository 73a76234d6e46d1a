/**
 * Title normalisation, search and resolution: one implementation for training (catalog joins),
 * the edge (`/v1/movies?q=`, predictions by title) and the CLI (`reelrank predict --title`).
 *
 * A title's match key folds case, accents and punctuation, restores MovieLens' trailing article
 * ("Matrix, The" -> "the matrix") and then drops a leading English article ("matrix"), so
 * "The Matrix", "matrix" and "Matrix, The" all meet. Resolution tries exact keys first, then
 * partial matches (the query as a phrase inside a title, then all of its words in any order), and
 * answers with the movie, how it matched, and up to 5 alternatives when the answer is ambiguous.
 */
import { ReelrankError } from '../errors.ts';

// MovieLens moves leading articles to the end ("Dark Knight, The"); TMDB does not.
const TRAILING_ARTICLE = /^(.*), (the|a|an|les|la|le|l'|il|el|los|las|die|der|das|den|det)$/i;
// Only English articles are dropped from match keys: "Die Hard" must not become "hard".
const LEADING_ARTICLE = /^(the|a|an) (?=\S)/;
// "Title (1999)" at the end of a query; also an en dash range as in series titles.
const QUERY_YEAR = /^(.*?)\s*\((\d{4})(?:\s*[-–]\s*\d{0,4})?\)\s*$/;

/** Lower case, accents dropped, "&" read as "and", every other non-alphanumeric run a single space. */
export function foldText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/**
 * Normalised title for joining catalogs by title + year: leading article restored, accents,
 * punctuation and case dropped, "&" read as "and". "Dark Knight, The" and "The Dark Knight" agree.
 * @example normaliseTitle('Misérables, Les') // 'les miserables'
 */
export function normaliseTitle(title: string): string {
  let text = title.trim();
  const article = TRAILING_ARTICLE.exec(text);
  if (article) text = `${article[2]} ${article[1]}`;
  return foldText(text);
}

/**
 * The key titles are matched and searched under: `normaliseTitle` without a leading "the/a/an"
 * (kept when it is the whole title). "The Matrix", "Matrix, The" and "matrix" -> 'matrix'.
 */
export function titleKey(title: string): string {
  return normaliseTitle(title).replace(LEADING_ARTICLE, '');
}

/** A query's title and the year written after it in parentheses: "Heat (1995)" -> {Heat, 1995}. */
export function splitQueryYear(query: string): { title: string; year: number | null } {
  const match = QUERY_YEAR.exec(query);
  if (!match || match[1]!.trim() === '') return { title: query.trim(), year: null };
  return { title: match[1]!.trim(), year: Number(match[2]) };
}

/** What the index needs of a movie (a catalog entry). */
export interface TitledMovie {
  movieId: number;
  title: string;
  year: number | null;
}

/**
 * Match keys and words of every movie of a catalog, built once per version. Keys live in one
 * string (a 100k-title catalog costs ~9 MB here instead of ~24 MB as arrays and maps of strings,
 * which matters in a 128 MB isolate) and are found with the engine's native `indexOf`.
 */
export interface TitleIndex {
  movies: readonly TitledMovie[];
  /** Every key of every movie, each preceded by a newline, with one at the end: "\nmatrix\n...\n". */
  haystack: string;
  /** Offset in `haystack` of each key's first character, ascending. */
  keyStarts: Uint32Array;
  /** Movie (item index) of each key. */
  keyMovie: Uint32Array;
  /** 1 for a movie's whole-title key (the one search reads), 0 for the parts of an alternate title. */
  keyPrimary: Uint8Array;
  /** Every distinct word of every key: partial and fuzzy matching compare query words once per word. */
  vocabulary: string[];
  /** CSR movie -> its distinct words (indexes into `vocabulary`): `wordIds[wordOffsets[i] .. wordOffsets[i + 1])`. */
  wordOffsets: Uint32Array;
  wordIds: Uint32Array;
  /** Per movie, in [0, 1]: breaks ties (the best-known "Hamlet" first). */
  popularity: ArrayLike<number>;
}

/**
 * Keys of one title: the whole title, and for MovieLens titles with an alternate title in
 * parentheses ("Amelie (Fabuleux destin d'Amélie Poulain, Le)", "Seven (a.k.a. Se7en)") the part
 * before the parentheses and the alternate title itself.
 */
function keysOf(title: string): string[] {
  const keys = [titleKey(title)];
  const paren = /^(.+?)\s*\((.+)\)\s*$/.exec(title.trim());
  if (paren) {
    keys.push(titleKey(paren[1]!));
    keys.push(titleKey(paren[2]!.replace(/^a\.?k\.?a\.?\s+/i, '')));
  }
  return [...new Set(keys)];
}

/**
 * The title index of a catalog (keys and words per movie). `popularity` (per movie, any scale
 * where higher is better known) orders equally good matches.
 */
export function createTitleIndex(movies: readonly TitledMovie[], popularity: ArrayLike<number>): TitleIndex {
  if (popularity.length !== movies.length) {
    throw new ReelrankError(
      'bad_input',
      `title index: popularity has ${popularity.length} values, expected one per movie (${movies.length})`,
    );
  }
  const parts: string[] = [''];
  const starts: number[] = [];
  const owners: number[] = [];
  const primary: number[] = [];
  let offset = 1; // after the leading newline
  const wordId = new Map<string, number>();
  const vocabulary: string[] = [];
  const wordOffsets = new Uint32Array(movies.length + 1);
  const ids: number[] = [];
  movies.forEach((movie, i) => {
    const own = new Set<number>();
    keysOf(movie.title).forEach((key, n) => {
      // Every movie keeps its whole-title key (even an empty one) so search sees each movie once.
      if (key === '' && n > 0) return;
      parts.push(key);
      starts.push(offset);
      owners.push(i);
      primary.push(n === 0 ? 1 : 0);
      offset += key.length + 1;
      if (key === '') return;
      for (const word of key.split(' ')) {
        let id = wordId.get(word);
        if (id === undefined) {
          id = vocabulary.length;
          vocabulary.push(word);
          wordId.set(word, id);
        }
        own.add(id);
      }
    });
    for (const id of own) ids.push(id);
    wordOffsets[i + 1] = ids.length;
  });
  parts.push('');
  return {
    movies,
    haystack: parts.join('\n'),
    keyStarts: Uint32Array.from(starts),
    keyMovie: Uint32Array.from(owners),
    keyPrimary: Uint8Array.from(primary),
    vocabulary,
    wordOffsets,
    wordIds: Uint32Array.from(ids),
    popularity,
  };
}

/** The key holding haystack offset `at`: the last key starting at or before it (binary search). */
function keyAt(index: TitleIndex, at: number): number {
  const starts = index.keyStarts;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Calls `visit(key, boundary)` for every occurrence of `needle` (no newline in it, so an
 * occurrence never spans two keys); boundary 2 = at the key's start, 1 = at a word start, 0 =
 * inside a word.
 */
function forEachOccurrence(
  index: TitleIndex,
  needle: string,
  visit: (key: number, boundary: number) => void,
): void {
  const { haystack } = index;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) {
    const before = haystack.charCodeAt(at - 1);
    visit(keyAt(index, at), before === 10 ? 2 : before === 32 ? 1 : 0);
  }
}

const indexes = new WeakMap<object, TitleIndex>();

/**
 * The title index of a serving model, built on first use and kept as long as the model lives
 * (the edge builds it when a version loads so no request pays for it).
 */
export function titleIndexOf(model: {
  movies: readonly TitledMovie[];
  popularity: ArrayLike<number>;
}): TitleIndex {
  let index = indexes.get(model);
  if (!index) {
    index = createTitleIndex(model.movies, model.popularity);
    indexes.set(model, index);
  }
  return index;
}

/** Search hits: item indexes, best first, and how many movies matched in all. */
export interface SearchResult {
  total: number;
  indexes: number[];
}

/**
 * Title search (`/v1/movies?q=`): movies whose whole-title key contains the query's key; prefix
 * matches first, then matches at a word start, then anywhere, each by popularity. An empty query
 * lists the most popular movies.
 */
export function searchTitles(index: TitleIndex, query: string, limit: number): SearchResult {
  const needle = titleKey(query);
  const count = index.movies.length;
  // Best boundary per movie (-1 = no match); an empty query matches every movie.
  const boundary = new Int8Array(count).fill(needle === '' ? 2 : -1);
  if (needle !== '') {
    forEachOccurrence(index, needle, (key, b) => {
      if (index.keyPrimary[key] === 0) return;
      const movie = index.keyMovie[key]!;
      if (b > boundary[movie]!) boundary[movie] = b;
    });
  }
  const hits: { index: number; rank: number }[] = [];
  for (let i = 0; i < count; i++) {
    const b = boundary[i]!;
    if (b >= 0) hits.push({ index: i, rank: b * 2 + index.popularity[i]! });
  }
  hits.sort((a, b) => b.rank - a.rank || a.index - b.index);
  return { total: hits.length, indexes: hits.slice(0, limit).map((h) => h.index) };
}

/** How a title matched: its key equals one of the movie's keys, or only part of it. */
export type TitleMatchKind = 'exact' | 'partial';

/** A resolved title. */
export interface TitleMatch {
  itemIndex: number;
  match: TitleMatchKind;
  /** Another movie matched as well as this one (same kind and tier): see `alternatives`. */
  ambiguous: boolean;
  /** Up to 5 other movies that matched as well, best first (empty unless ambiguous). */
  alternatives: number[];
}

/** Tiers of a candidate, best first; 0 = no match. */
const EXACT = 4;
const PHRASE_PREFIX = 3;
const PHRASE = 2;
const WORDS = 1;

/** Query words beyond this many do not take part in partial and fuzzy matching (one bit each). */
const MAX_QUERY_WORDS = 16;

/**
 * Per vocabulary word, a bit per query word it satisfies: equal, or (the last query word, 3+
 * letters) a prefix of it, as the person may still be typing. One pass over the vocabulary
 * instead of one per movie.
 */
function wordMatchBits(vocabulary: readonly string[], queryWords: readonly string[]): Uint32Array {
  const bits = new Uint32Array(vocabulary.length);
  const last = queryWords.length - 1;
  for (let v = 0; v < vocabulary.length; v++) {
    const word = vocabulary[v]!;
    let mask = 0;
    for (let q = 0; q < queryWords.length; q++) {
      const query = queryWords[q]!;
      if (word === query || (q === last && query.length >= 3 && word.startsWith(query))) mask |= 1 << q;
    }
    bits[v] = mask;
  }
  return bits;
}

/** Whether movie i has every query word (its words' bits cover `allBits`). */
function hasAllWords(index: TitleIndex, i: number, wordBits: Uint32Array, allBits: number): boolean {
  let mask = 0;
  for (let n = index.wordOffsets[i]!; n < index.wordOffsets[i + 1]!; n++)
    mask |= wordBits[index.wordIds[n]!]!;
  return mask === allBits;
}

export interface ResolveOptions {
  /** Only movies of this release year match. */
  year?: number | null;
}

/** The outcome of `resolveTitle`: a match, or close titles to suggest. */
export type TitleResolution =
  | ({ found: true } & TitleMatch)
  | { found: false; suggestions: number[]; reason: string };

/**
 * Resolves a title typed by a person to one movie of the catalog: exact key first, then the best
 * partial match (phrase prefix > phrase at a word start > all words in any order); equally good
 * candidates are ordered by popularity, and the others are returned as alternatives. A "(1999)"
 * after the title, or `options.year`, keeps only movies of that year. Nothing found: up to 5
 * suggestions (the same title in other years, or titles within a typo or two).
 * @example resolveTitle(index, 'The Matrix (1999)') // {found: true, match: 'exact', ...}
 */
export function resolveTitle(
  index: TitleIndex,
  query: string,
  options: ResolveOptions = {},
): TitleResolution {
  const parsed = splitQueryYear(query);
  const year = options.year ?? parsed.year;
  const needle = titleKey(parsed.title);
  if (needle === '') {
    throw new ReelrankError(
      'bad_parameter',
      `title: '${query}' has no letters or digits to match; give a movie title such as 'Toy Story'`,
      { parameter: 'title' },
    );
  }
  const queryWords = needle.split(' ').slice(0, MAX_QUERY_WORDS);
  const best: { index: number; tier: number }[] = [];
  const otherYears: number[] = [];
  const inYear = (i: number) => year == null || index.movies[i]!.year === year;
  // Exact: the needle as a whole key, found by the native string search over all keys at once.
  const whole = `\n${needle}\n`;
  for (let at = index.haystack.indexOf(whole); at >= 0; at = index.haystack.indexOf(whole, at + 1)) {
    const movie = index.keyMovie[keyAt(index, at + 1)]!; // the key starts after the newline
    if (inYear(movie)) best.push({ index: movie, tier: EXACT });
    else otherYears.push(movie);
  }
  if (best.length === 0) {
    // Partial: the phrase at a key start or a word start, else all the words in any order.
    const tiers = new Uint8Array(index.movies.length);
    forEachOccurrence(index, needle, (key, boundary) => {
      const movie = index.keyMovie[key]!;
      const tier = boundary === 2 ? PHRASE_PREFIX : boundary === 1 ? PHRASE : 0;
      if (tier > tiers[movie]!) tiers[movie] = tier;
    });
    const wordBits = wordMatchBits(index.vocabulary, queryWords);
    const allBits = 2 ** queryWords.length - 1;
    for (let i = 0; i < tiers.length; i++) {
      if (!inYear(i)) continue;
      const tier = tiers[i]! > 0 ? tiers[i]! : hasAllWords(index, i, wordBits, allBits) ? WORDS : 0;
      if (tier > 0) best.push({ index: i, tier });
    }
  }
  if (best.length > 0) {
    best.sort(
      (a, b) =>
        b.tier - a.tier || index.popularity[b.index]! - index.popularity[a.index]! || a.index - b.index,
    );
    const top = best[0]!;
    const peers = best.filter((c) => c.tier === top.tier && c.index !== top.index);
    return {
      found: true,
      itemIndex: top.index,
      match: top.tier === EXACT ? 'exact' : 'partial',
      ambiguous: peers.length > 0,
      alternatives: peers.slice(0, 5).map((c) => c.index),
    };
  }
  if (otherYears.length > 0) {
    otherYears.sort((a, b) => index.popularity[b]! - index.popularity[a]! || a - b);
    return { found: false, suggestions: otherYears.slice(0, 5), reason: `no such title from ${year}` };
  }
  return { found: false, suggestions: closeTitles(index, queryWords, 5), reason: 'no title matches' };
}

/** The movie as answers name it: `{movieId, title, year}` (alternatives, suggestions). */
export function movieRef(movie: TitledMovie): TitledMovie {
  return { movieId: movie.movieId, title: movie.title, year: movie.year };
}

/** "Matrix, The (1999)": how a movie is named in messages. */
export function movieLabel(movie: TitledMovie): string {
  return movie.year !== null ? `${movie.title} (${movie.year})` : movie.title;
}

/**
 * `resolveTitle`, throwing `movie_not_found` (404 at the edge) when nothing matches; the error's
 * message starts with `parameter` (default 'title'), names the title and the suggestions, and its
 * details carry the suggestions as movies.
 */
export function resolveTitleOrThrow(
  index: TitleIndex,
  query: string,
  { year = null, version, parameter = 'title' }: ResolveOptions & { version: string; parameter?: string },
): TitleMatch {
  const resolution = resolveTitle(index, query, { year });
  if (resolution.found) {
    const { found: _found, ...match } = resolution;
    return match;
  }
  const suggestions = resolution.suggestions.map((i) => index.movies[i]!);
  const asked = year != null ? `'${query}' (year ${year})` : `'${query}'`;
  const hint =
    suggestions.length > 0
      ? `; did you mean ${suggestions.map((m) => `${movieLabel(m)} [movieId ${m.movieId}]`).join(', ')}?`
      : '; search titles with GET /v1/movies?q=';
  throw new ReelrankError(
    'movie_not_found',
    `${parameter}: no movie of version ${version} matches ${asked} (${resolution.reason})${hint}`,
    {
      parameter,
      suggestions: suggestions.map(movieRef),
    },
  );
}

/**
 * Optimal-string-alignment edit distance between two short words, or `max + 1` as soon as it
 * must exceed `max` (rows whose minimum passes `max` stop the loop): typo tolerance for
 * suggestions only, so it runs on the not-found path and never on a match.
 */
export function boundedEditDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const n = b.length;
  if (n >= EDIT_ROW_LENGTH) return max + 1; // no title word is this long; not worth a buffer
  // Three rows of the DP table, reused across calls (the not-found path runs ~50k of them).
  let prevPrev = editRows[0]!;
  let prev = editRows[1]!;
  let row = editRows[2]!;
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    let rowMin = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= n; j++) {
      const cb = b.charCodeAt(j - 1);
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (ca === cb ? 0 : 1));
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb)
        d = Math.min(d, prevPrev[j - 2]! + 1); // a transposition ("matirx") costs one edit
      row[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > max) return max + 1;
    const done = prevPrev;
    prevPrev = prev;
    prev = row;
    row = done;
  }
  return prev[n]!;
}

const EDIT_ROW_LENGTH = 64;
const editRows = [0, 1, 2].map(() => new Int32Array(EDIT_ROW_LENGTH));

/** Typos tolerated in a word of this length: none below 4 letters, 1 up to 6, then 2. */
function typoBudget(length: number): number {
  return length < 4 ? 0 : length < 7 ? 1 : 2;
}

/**
 * Up to `limit` movies whose words are closest to the query's words: at least half of the query
 * words must occur within their typo budget; fewer edits first, then popularity. Distances are
 * computed once per vocabulary word, then summed per movie.
 */
function closeTitles(index: TitleIndex, queryWords: readonly string[], limit: number): number[] {
  const q = queryWords.length;
  const { vocabulary } = index;
  // edits[v * q + j]: edits from query word j to vocabulary word v, NO_MATCH beyond the budget.
  const NO_MATCH = 255;
  const edits = new Uint8Array(vocabulary.length * q).fill(NO_MATCH);
  for (let v = 0; v < vocabulary.length; v++) {
    const word = vocabulary[v]!;
    for (let j = 0; j < q; j++) {
      const query = queryWords[j]!;
      const budget = typoBudget(query.length);
      const d = word === query ? 0 : budget > 0 ? boundedEditDistance(query, word, budget) : budget + 1;
      if (d <= budget) edits[v * q + j] = d;
    }
  }
  const best = new Uint8Array(q);
  const scored: { index: number; matched: number; edits: number }[] = [];
  for (let i = 0; i < index.movies.length; i++) {
    best.fill(NO_MATCH);
    for (let n = index.wordOffsets[i]!; n < index.wordOffsets[i + 1]!; n++) {
      const base = index.wordIds[n]! * q;
      for (let j = 0; j < q; j++) if (edits[base + j]! < best[j]!) best[j] = edits[base + j]!;
    }
    let matched = 0;
    let total = 0;
    for (let j = 0; j < q; j++) {
      if (best[j]! !== NO_MATCH) {
        matched++;
        total += best[j]!;
      }
    }
    if (matched > 0 && matched * 2 >= q) scored.push({ index: i, matched, edits: total });
  }
  scored.sort(
    (a, b) =>
      b.matched - a.matched ||
      a.edits - b.edits ||
      index.popularity[b.index]! - index.popularity[a.index]! ||
      a.index - b.index,
  );
  return scored.slice(0, limit).map((s) => s.index);
}
