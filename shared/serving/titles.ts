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
 * Match keys and words of every movie of a catalog, built once per version (when the edge loads
 * it), so that resolving or searching a title costs a few binary searches and a bounded number of
 * candidate checks instead of a pass over the catalog: no request pays more than a fixed budget
 * whatever it asks (the 10 ms CPU limit of a Worker). Keys live in one string (a 100k-title
 * catalog costs ~9 MB here instead of ~24 MB as arrays and maps of strings, which matters in a
 * 128 MB isolate); everything else is typed arrays.
 */
export interface TitleIndex {
  movies: readonly TitledMovie[];
  /** Every key of every movie, each preceded by a newline, with one at the end: "\nmatrix\n...\n". */
  haystack: string;
  /** Offset in `haystack` of each key's first character, ascending; one more entry: the end. */
  keyStarts: Uint32Array;
  /** Movie (item index) of each key. */
  keyMovie: Uint32Array;
  /** 1 for a movie's whole-title key (the one search reads), 0 for the parts of an alternate title. */
  keyPrimary: Uint8Array;
  /** Keys of movie i: `movieKeys[i] .. movieKeys[i + 1]` (keys are stored movie by movie). */
  movieKeys: Uint32Array;
  /** Key indexes in key order: an exact key or a key prefix is one binary search. */
  sortedKeys: Uint32Array;
  /** Every distinct word of every key, sorted: a word or a word prefix is one binary search. */
  vocabulary: string[];
  /** Vocabulary ids ordered by their reversed word: a word suffix is one binary search (typos). */
  reversedVocabulary: Uint32Array;
  /** CSR movie -> its distinct words (vocabulary ids): `wordIds[wordOffsets[i] .. wordOffsets[i + 1])`. */
  wordOffsets: Uint32Array;
  wordIds: Uint32Array;
  /** CSR word -> the movies having it, ascending: `postings[postingOffsets[w] .. postingOffsets[w + 1])`. */
  postingOffsets: Uint32Array;
  postings: Uint32Array;
  /** Movies, best known first (ties: lower index first). */
  byPopularity: Uint32Array;
  /** Per movie, in [0, 1]: breaks ties (the best-known "Hamlet" first). */
  popularity: ArrayLike<number>;
  /** Scratch per movie (dedupe of candidate unions, candidate slots); never observable outside one call. */
  marks: Uint32Array;
  slots: Uint32Array;
  /** Scratch per vocabulary word (typo edits + 1 of one query word), all zero between calls. */
  wordScratch: Uint8Array;
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
 * Key indexes in key (string) order, by a stable LSD radix sort over their word ids in the sorted
 * vocabulary: word by word the order is the string order, because the space between words sorts
 * before every letter and digit, and a key that is a word-prefix of another (fewer words) comes
 * first. Linear in keys x words instead of a comparison sort of strings (a 100k catalog loads
 * faster).
 */
function sortKeysByWords(
  keyCount: number,
  offsets: readonly number[],
  words: readonly number[],
  rename: Uint32Array,
  vocabularySize: number,
): Uint32Array {
  let order = Uint32Array.from({ length: keyCount }, (_, k) => k);
  let next = new Uint32Array(keyCount);
  let longest = 0;
  for (let k = 0; k < keyCount; k++) longest = Math.max(longest, offsets[k + 1]! - offsets[k]!);
  const counts = new Uint32Array(vocabularySize + 2);
  // Bucket of key k at word position p: 0 past its last word, else 1 + the word's sorted id.
  const bucket = (k: number, p: number) =>
    offsets[k]! + p < offsets[k + 1]! ? rename[words[offsets[k]! + p]!]! + 1 : 0;
  for (let p = longest - 1; p >= 0; p--) {
    counts.fill(0);
    for (let k = 0; k < keyCount; k++) counts[bucket(k, p) + 1]!++;
    for (let b = 1; b < counts.length; b++) counts[b]! += counts[b - 1]!;
    for (const k of order) next[counts[bucket(k, p)]!++] = k;
    [order, next] = [next, order];
  }
  return order;
}

/** Stable LSD radix sort of `items` by digits below `buckets` (`digit(item, pass)`, least significant pass first). */
function radixSort(
  items: Uint32Array,
  passes: number,
  digit: (item: number, pass: number) => number,
  buckets = 65536,
): Uint32Array {
  let order: Uint32Array = items;
  let next: Uint32Array = new Uint32Array(items.length);
  const counts = new Uint32Array(buckets + 1);
  for (let pass = 0; pass < passes; pass++) {
    counts.fill(0);
    for (const item of order) counts[digit(item, pass) + 1]!++;
    for (let b = 1; b < counts.length; b++) counts[b]! += counts[b - 1]!;
    for (const item of order) next[counts[digit(item, pass)]!++] = item;
    [order, next] = [next, order];
  }
  return order;
}

/**
 * Movies best known first (ties: lower index first), by a radix sort of the popularity as float32
 * bits (order-preserving for negative values too): linear, where a comparison sort of 100k
 * movies costs the load hundreds of milliseconds. Values closer than float32 tell apart tie.
 */
function sortByPopularity(popularity: ArrayLike<number>): Uint32Array {
  const bits = new Uint32Array(
    Float32Array.from({ length: popularity.length }, (_, i) => popularity[i]!).buffer,
  );
  for (let i = 0; i < bits.length; i++) {
    // Descending order key: larger values -> smaller keys.
    const b = bits[i]!;
    const ascending = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
    bits[i] = ~ascending >>> 0;
  }
  const movies = Uint32Array.from({ length: popularity.length }, (_, i) => i);
  return radixSort(movies, 2, (i, pass) => (pass === 0 ? bits[i]! & 0xffff : bits[i]! >>> 16));
}

/** Vocabulary ids ordered by their reversed word (a radix sort, one character per pass from the last). */
function sortByReversedWord(vocabulary: readonly string[]): Uint32Array {
  let longest = 0;
  for (const word of vocabulary) longest = Math.max(longest, word.length);
  // Pass p sorts by the p-th character from the end, least significant (the longest suffix) first;
  // words are folded to a-z, 0-9 (foldText), so a character fits 128 buckets.
  return radixSort(
    Uint32Array.from(vocabulary.keys()),
    longest,
    (id, pass) => {
      const word = vocabulary[id]!;
      const p = longest - 1 - pass;
      return p < word.length ? word.charCodeAt(word.length - 1 - p) + 1 : 0;
    },
    128,
  );
}

/**
 * The title index of a catalog (keys and words per movie). `popularity` (per movie, any scale
 * where higher is better known) orders equally good matches. `titleOf` reads a movie's title
 * without its object (a columns catalog makes an object only for a movie a request answers with).
 */
export function createTitleIndex(
  movies: readonly TitledMovie[],
  popularity: ArrayLike<number>,
  titleOf: (index: number) => string = (i) => movies[i]!.title,
): TitleIndex {
  if (popularity.length !== movies.length) {
    throw new ReelrankError(
      'bad_input',
      `title index: popularity has ${popularity.length} values, expected one per movie (${movies.length})`,
    );
  }
  const keys: string[] = [];
  const owners: number[] = [];
  const primary: number[] = [];
  const movieKeys = new Uint32Array(movies.length + 1);
  const wordId = new Map<string, number>();
  const words: string[] = [];
  const wordOffsets = new Uint32Array(movies.length + 1);
  const ids: number[] = [];
  // Per key, its words in order (ids in `words`): keys are sorted by these, not as strings.
  const keyWordOffsets: number[] = [0];
  const keyWords: number[] = [];
  for (let i = 0; i < movies.length; i++) {
    const own = new Set<number>();
    keysOf(titleOf(i)).forEach((key, n) => {
      // Every movie keeps its whole-title key (even an empty one) so search sees each movie once.
      if (key === '' && n > 0) return;
      keys.push(key);
      owners.push(i);
      primary.push(n === 0 ? 1 : 0);
      if (key !== '') {
        for (const word of key.split(' ')) {
          let id = wordId.get(word);
          if (id === undefined) {
            id = words.length;
            words.push(word);
            wordId.set(word, id);
          }
          own.add(id);
          keyWords.push(id);
        }
      }
      keyWordOffsets.push(keyWords.length);
    });
    movieKeys[i + 1] = keys.length;
    for (const id of own) ids.push(id);
    wordOffsets[i + 1] = ids.length;
  }
  const keyStarts = new Uint32Array(keys.length + 1);
  let offset = 1; // after the leading newline
  keys.forEach((key, k) => {
    keyStarts[k] = offset;
    offset += key.length + 1;
  });
  keyStarts[keys.length] = offset;

  // Vocabulary in sorted order (the engine's native string sort); word ids renumbered to it.
  const vocabulary = [...words].sort();
  const rename = new Uint32Array(words.length);
  vocabulary.forEach((word, id) => {
    rename[wordId.get(word)!] = id;
  });
  const wordIds = new Uint32Array(ids.length);
  for (let n = 0; n < ids.length; n++) wordIds[n] = rename[ids[n]!]!;
  const reversedVocabulary = sortByReversedWord(vocabulary);
  const sortedKeys = sortKeysByWords(keys.length, keyWordOffsets, keyWords, rename, vocabulary.length);

  // Postings (word -> movies, ascending) by counting sort over the movie -> words CSR.
  const postingOffsets = new Uint32Array(vocabulary.length + 1);
  for (const id of wordIds) postingOffsets[id + 1]!++;
  for (let w = 0; w < vocabulary.length; w++) postingOffsets[w + 1]! += postingOffsets[w]!;
  const postings = new Uint32Array(wordIds.length);
  const fill = postingOffsets.slice(0, vocabulary.length);
  for (let i = 0; i < movies.length; i++)
    for (let n = wordOffsets[i]!; n < wordOffsets[i + 1]!; n++) postings[fill[wordIds[n]!]!++] = i;

  const byPopularity = sortByPopularity(popularity);
  return {
    movies,
    haystack: `\n${keys.join('\n')}\n`,
    keyStarts,
    keyMovie: Uint32Array.from(owners),
    keyPrimary: Uint8Array.from(primary),
    movieKeys,
    sortedKeys,
    vocabulary,
    reversedVocabulary,
    wordOffsets,
    wordIds,
    postingOffsets,
    postings,
    byPopularity,
    popularity,
    marks: new Uint32Array(movies.length),
    slots: new Uint32Array(movies.length),
    wordScratch: new Uint8Array(vocabulary.length),
  };
}

/** Characters of key k (without its newline). */
function keyLength(index: TitleIndex, k: number): number {
  return index.keyStarts[k + 1]! - index.keyStarts[k]! - 1;
}

/**
 * Key k against `prefix`: 0 when the key starts with it, else the sign of key - prefix in key
 * order. Over `sortedKeys` the answers run -1.., 0.., 1.. (binary-searchable).
 */
function compareKeyPrefix(index: TitleIndex, k: number, prefix: string): number {
  const { haystack } = index;
  const start = index.keyStarts[k]!;
  const length = keyLength(index, k);
  const n = Math.min(length, prefix.length);
  for (let c = 0; c < n; c++) {
    const d = haystack.charCodeAt(start + c) - prefix.charCodeAt(c);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return length >= prefix.length ? 0 : -1;
}

/** First position in [0, n) where `cmp` is not negative (after all -1 answers), then first positive. */
function prefixRange(n: number, cmp: (at: number) => number): [number, number] {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cmp(mid) < 0) lo = mid + 1;
    else hi = mid;
  }
  let end = n;
  let from = lo;
  while (from < end) {
    const mid = (from + end) >> 1;
    if (cmp(mid) <= 0) from = mid + 1;
    else end = mid;
  }
  return [lo, from];
}

/** Positions in `sortedKeys` of the keys starting with `prefix`. */
function keyRange(index: TitleIndex, prefix: string): [number, number] {
  return prefixRange(index.sortedKeys.length, (at) => compareKeyPrefix(index, index.sortedKeys[at]!, prefix));
}

/** Vocabulary ids of the words starting with `prefix` (or equal to `word` when `exact`). */
function wordRange(index: TitleIndex, prefix: string, exact = false): [number, number] {
  const { vocabulary } = index;
  const [lo, hi] = prefixRange(vocabulary.length, (at) => {
    const w = vocabulary[at]!;
    return w.startsWith(prefix) ? 0 : w < prefix ? -1 : 1;
  });
  if (!exact) return [lo, hi];
  return lo < hi && vocabulary[lo] === prefix ? [lo, lo + 1] : [lo, lo];
}

/** Vocabulary positions (in `reversedVocabulary`) of the words ending with `suffix`. */
function suffixRange(index: TitleIndex, suffix: string): [number, number] {
  const { vocabulary, reversedVocabulary } = index;
  return prefixRange(reversedVocabulary.length, (at) => {
    const w = vocabulary[reversedVocabulary[at]!]!;
    const n = Math.min(w.length, suffix.length);
    for (let c = 1; c <= n; c++) {
      const d = w.charCodeAt(w.length - c) - suffix.charCodeAt(suffix.length - c);
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    return w.length >= suffix.length ? 0 : -1;
  });
}

/**
 * How many candidate movies one title lookup examines at most per tier (resolution) and how many
 * candidates search verifies: the bound that keeps a request's CPU time flat however common the
 * words it asks for ("a", "movie" in a catalog where every title has it).
 */
export const TITLE_CANDIDATE_BUDGET = 96;
const SEARCH_VERIFY_BUDGET = 2048;

/** A set of candidate movies: `count` entries, read by position (duplicates allowed). */
interface Candidates {
  count: number;
  at(n: number): number;
}

/** The movies of a range of vocabulary words (their postings, one run). */
function wordCandidates(index: TitleIndex, [lo, hi]: [number, number]): Candidates {
  const from = index.postingOffsets[lo]!;
  return { count: index.postingOffsets[hi]! - from, at: (n) => index.postings[from + n]! };
}

/** The movies of a range of `sortedKeys`. */
function keyCandidates(index: TitleIndex, [lo, hi]: [number, number]): Candidates {
  return { count: hi - lo, at: (n) => index.keyMovie[index.sortedKeys[lo + n]!]! };
}

let markEpoch = 0;

/** A fresh mark value for `index.marks` (cleared when the counter wraps). */
function nextMark(index: TitleIndex): number {
  markEpoch = (markEpoch + 1) >>> 0;
  if (markEpoch === 0) {
    index.marks.fill(0);
    markEpoch = 1;
  }
  return markEpoch;
}

const byPopularityOf = (index: TitleIndex) => (a: number, b: number) =>
  index.popularity[b]! - index.popularity[a]! || a - b;

/**
 * The accepted movies among `candidates`, best known first, with bounded work: all of them when
 * there are at most `budget`; else the accepted ones among the `budget` best-known movies of the
 * catalog (so the first answer is the best-known match whenever one is that well known), and
 * failing that the accepted ones among the first `budget` candidates.
 */
function acceptedMovies(
  index: TitleIndex,
  candidates: Candidates,
  accept: (movie: number) => boolean,
  budget = TITLE_CANDIDATE_BUDGET,
): number[] {
  const found: number[] = [];
  const mark = nextMark(index);
  const scan = (count: number, at: (n: number) => number) => {
    for (let n = 0; n < count; n++) {
      const movie = at(n);
      if (index.marks[movie] === mark) continue;
      index.marks[movie] = mark;
      if (accept(movie)) found.push(movie);
    }
  };
  if (candidates.count <= budget) {
    scan(candidates.count, candidates.at);
    return found.sort(byPopularityOf(index));
  }
  scan(Math.min(budget, index.byPopularity.length), (n) => index.byPopularity[n]!);
  if (found.length === 0) scan(budget, candidates.at);
  return found.sort(byPopularityOf(index));
}

/** Whether `needle` starts at a word start of one of movie i's keys: 2 = at a key start, 1 = inside, 0 = no. */
function phraseAt(index: TitleIndex, movie: number, needle: string, primaryOnly = false): number {
  const { haystack } = index;
  let best = 0;
  for (let k = index.movieKeys[movie]!; k < index.movieKeys[movie + 1]!; k++) {
    if (primaryOnly && index.keyPrimary[k] === 0) continue;
    const start = index.keyStarts[k]!;
    const end = index.keyStarts[k + 1]! - 1;
    if (haystack.startsWith(needle, start)) return 2;
    for (let at = haystack.indexOf(' ', start); at >= 0 && at < end; at = haystack.indexOf(' ', at + 1)) {
      if (haystack.startsWith(needle, at + 1)) {
        best = 1;
        break;
      }
    }
  }
  return best;
}

/** The candidate source with the fewest entries among the needle's words (all exact but the last). */
function rarestWordCandidates(
  index: TitleIndex,
  words: readonly string[],
  lastAsPrefix: boolean,
): Candidates {
  let best: Candidates | null = null;
  words.forEach((word, n) => {
    const range = wordRange(index, word, !(lastAsPrefix && n === words.length - 1));
    const candidates = wordCandidates(index, range);
    if (best === null || candidates.count < best.count) best = candidates;
  });
  return best ?? { count: 0, at: () => 0 };
}

const indexes = new WeakMap<object, TitleIndex>();

/**
 * The title index of a serving model, built on first use (the edge's first search or title) and
 * kept as long as the model lives. With the model's `catalog`, titles are read from its columns.
 */
export function titleIndexOf(model: {
  movies: readonly TitledMovie[];
  popularity: ArrayLike<number>;
  catalog?: { title(index: number): string };
}): TitleIndex {
  let index = indexes.get(model);
  if (!index) {
    const { catalog } = model;
    index = createTitleIndex(model.movies, model.popularity, catalog ? (i) => catalog.title(i) : undefined);
    indexes.set(model, index);
  }
  return index;
}

/** Search hits: item indexes, best first, and how many movies matched in all. */
export interface SearchResult {
  /** Movies matching; when more candidates than the search verifies, the index's count of them. */
  total: number;
  indexes: number[];
}

/**
 * Title search (`/v1/movies?q=`): movies whose whole-title key has the query's key at a word
 * start; key-prefix matches first, then matches at a later word, each by popularity. An empty
 * query lists the most popular movies. Bounded work: prefix matches come from one binary search,
 * later-word matches from the postings of the query's rarest word, verified up to a budget.
 */
export function searchTitles(index: TitleIndex, query: string, limit: number): SearchResult {
  const needle = titleKey(query);
  const count = index.movies.length;
  if (needle === '') return { total: count, indexes: Array.from(index.byPopularity.subarray(0, limit)) };
  // Key-prefix matches: one range of the sorted keys (primary keys only).
  const prefixRangeOfKeys = keyRange(index, needle);
  const prefixed = acceptedMovies(
    index,
    keyCandidates(index, prefixRangeOfKeys),
    (movie) => phraseAt(index, movie, needle, true) === 2,
    SEARCH_VERIFY_BUDGET,
  );
  let prefixCount = 0;
  for (let n = prefixRangeOfKeys[0]; n < prefixRangeOfKeys[1]; n++)
    if (index.keyPrimary[index.sortedKeys[n]!] === 1) prefixCount++;
  const words = needle.split(' ');
  const candidates = rarestWordCandidates(index, words, true);
  const verifiedAll = candidates.count <= SEARCH_VERIFY_BUDGET;
  // Later-word matches are needed to fill the page, or to count them exactly (few candidates).
  const later =
    verifiedAll || prefixed.length < limit
      ? acceptedMovies(
          index,
          candidates,
          (movie) => phraseAt(index, movie, needle, true) === 1,
          SEARCH_VERIFY_BUDGET,
        )
      : [];
  const total = verifiedAll ? prefixCount + later.length : Math.max(prefixCount, candidates.count);
  return { total, indexes: [...prefixed, ...later].slice(0, limit) };
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

/** Query words beyond this many do not take part in word and fuzzy matching. */
const MAX_QUERY_WORDS = 16;

/** Whether movie i has every query word (`ranges[j]`: the vocabulary ids satisfying word j). */
function hasAllWords(index: TitleIndex, movie: number, ranges: readonly [number, number][]): boolean {
  for (const [lo, hi] of ranges) {
    let has = false;
    for (let n = index.wordOffsets[movie]!; n < index.wordOffsets[movie + 1]! && !has; n++) {
      const id = index.wordIds[n]!;
      has = id >= lo && id < hi;
    }
    if (!has) return false;
  }
  return true;
}

export interface ResolveOptions {
  /** Only movies of this release year match. */
  year?: number | null;
}

/** The outcome of `resolveTitle`: a match, or close titles to suggest. */
export type TitleResolution =
  | ({ found: true } & TitleMatch)
  | { found: false; suggestions: number[]; reason: string };

function matchOf(found: number[], match: TitleMatchKind): { found: true } & TitleMatch {
  return {
    found: true,
    itemIndex: found[0]!,
    match,
    ambiguous: found.length > 1,
    alternatives: found.slice(1, 6),
  };
}

/**
 * Resolves a title typed by a person to one movie of the catalog: exact key first, then the best
 * partial match (phrase prefix > phrase at a word start > all words in any order); equally good
 * candidates are ordered by popularity, and the others are returned as alternatives. A "(1999)"
 * after the title, or `options.year`, keeps only movies of that year. Nothing found: up to 5
 * suggestions (the same title in other years, or titles within a typo or two). Each tier reads
 * the index (binary searches, postings) and examines at most `TITLE_CANDIDATE_BUDGET` movies.
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
  const inYear = (i: number) => year == null || index.movies[i]!.year === year;
  // Exact: the first keys of the needle's prefix range that are as long as the needle.
  const range = keyRange(index, needle);
  let exactEnd = range[0];
  while (exactEnd < range[1] && keyLength(index, index.sortedKeys[exactEnd]!) === needle.length) exactEnd++;
  const exact = keyCandidates(index, [range[0], exactEnd]);
  const exactInYear = acceptedMovies(index, exact, inYear);
  if (exactInYear.length > 0) return matchOf(exactInYear, 'exact');
  // Phrase at the start of a key: the rest of the same range.
  const prefixed = acceptedMovies(index, keyCandidates(index, [exactEnd, range[1]]), inYear);
  if (prefixed.length > 0) return matchOf(prefixed, 'partial');
  // Phrase at a later word start: candidates from the rarest of its words.
  const words = needle.split(' ');
  const phrase = acceptedMovies(
    index,
    rarestWordCandidates(index, words.slice(0, MAX_QUERY_WORDS), true),
    (movie) => inYear(movie) && phraseAt(index, movie, needle) > 0,
  );
  if (phrase.length > 0) return matchOf(phrase, 'partial');
  // All the words in any order (the last one, 3+ letters, may be a prefix: still typing).
  const queryWords = words.slice(0, MAX_QUERY_WORDS);
  const last = queryWords.length - 1;
  const lastAsPrefix = queryWords[last]!.length >= 3;
  const ranges = queryWords.map((word, n) => wordRange(index, word, !(lastAsPrefix && n === last)));
  if (ranges.every(([lo, hi]) => hi > lo)) {
    const all = acceptedMovies(
      index,
      rarestWordCandidates(index, queryWords, lastAsPrefix),
      (movie) => inYear(movie) && hasAllWords(index, movie, ranges),
    );
    if (all.length > 0) return matchOf(all, 'partial');
  }
  const otherYears = acceptedMovies(index, exact, () => true);
  if (otherYears.length > 0) {
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

/** Vocabulary words examined for typos per title, shared by its words (each half of each word). */
const TYPO_SCAN_BUDGET = 8192;
/** Postings read per suggestion lookup; rarer query words first, commoner ones checked per candidate. */
const SUGGESTION_POSTINGS_BUDGET = 20_000;
/** Candidate movies ranked per suggestion lookup. */
const SUGGESTION_CANDIDATES = 1_000;
const NO_MATCH = 255;

/**
 * Vocabulary words within the typo budget of `word`: ids and edits. Candidates come from the
 * index, not a pass over the vocabulary: a word within one edit keeps either its first half or
 * its second half (one letter in between left out, so one transposition spoils only one side),
 * found by a binary search over the sorted and the reversed vocabulary; each side examines at most
 * `scan` words (the title's share of `TYPO_SCAN_BUDGET`). (Two edits, one in each half, are
 * missed: a bound on the work.)
 */
function closeWords(index: TitleIndex, word: string, scan: number): { ids: number[]; edits: number[] } {
  const ids: number[] = [];
  const edits: number[] = [];
  const exact = wordRange(index, word, true);
  if (exact[1] > exact[0]) {
    ids.push(exact[0]);
    edits.push(0);
  }
  const budget = typoBudget(word.length);
  if (budget === 0) return { ids, edits };
  const { vocabulary } = index;
  const consider = (id: number) => {
    if (id === exact[0] && exact[1] > exact[0]) return;
    const other = vocabulary[id]!;
    if (Math.abs(other.length - word.length) > budget || ids.includes(id)) return;
    const d = boundedEditDistance(word, other, budget);
    if (d <= budget) {
      ids.push(id);
      edits.push(d);
    }
  };
  const half = (word.length - 1) >> 1;
  const [lo, hi] = wordRange(index, word.slice(0, half));
  for (let id = lo; id < Math.min(hi, lo + scan); id++) consider(id);
  const [rlo, rhi] = suffixRange(index, word.slice(half + 1));
  for (let n = rlo; n < Math.min(rhi, rlo + scan); n++) consider(index.reversedVocabulary[n]!);
  return { ids, edits };
}

/** Per candidate slot and query word: edits of the candidate's closest word (reused scratch). */
let candidateEdits = new Uint8Array(SUGGESTION_CANDIDATES * MAX_QUERY_WORDS);

/**
 * Up to `limit` movies whose words are closest to the query's words: at least half of the query
 * words must occur within their typo budget; fewer edits first, then popularity. Bounded work:
 * close words come from the index (closeWords), postings are read for the rarer query words up
 * to a budget and for at most `SUGGESTION_CANDIDATES` movies, and the commoner words are checked
 * on those candidates' own words.
 */
function closeTitles(index: TitleIndex, queryWords: readonly string[], limit: number): number[] {
  const q = queryWords.length;
  const scan = Math.max(64, Math.floor(TYPO_SCAN_BUDGET / (2 * q)));
  const perWord = queryWords.map((word) => {
    const close = closeWords(index, word, scan);
    let postings = 0;
    for (const id of close.ids) postings += index.postingOffsets[id + 1]! - index.postingOffsets[id]!;
    return { ...close, postings };
  });
  if (perWord.every((w) => w.ids.length === 0)) return [];
  if (candidateEdits.length < SUGGESTION_CANDIDATES * q)
    candidateEdits = new Uint8Array(SUGGESTION_CANDIDATES * q);
  const edits = candidateEdits;
  edits.fill(NO_MATCH, 0, SUGGESTION_CANDIDATES * q);
  const mark = nextMark(index);
  const { marks, slots } = index;
  const candidates: number[] = [];
  const order = perWord.map((_, j) => j).sort((a, b) => perWord[a]!.postings - perWord[b]!.postings);
  const checked = new Uint8Array(q);
  let read = 0;
  for (const j of order) {
    const word = perWord[j]!;
    if (word.postings === 0) {
      checked[j] = 1;
      continue;
    }
    if (read + word.postings > SUGGESTION_POSTINGS_BUDGET) break;
    read += word.postings;
    checked[j] = 1;
    word.ids.forEach((id, w) => {
      const d = word.edits[w]!;
      for (let n = index.postingOffsets[id]!; n < index.postingOffsets[id + 1]!; n++) {
        const movie = index.postings[n]!;
        let c: number;
        if (marks[movie] === mark) c = slots[movie]!;
        else {
          if (candidates.length >= SUGGESTION_CANDIDATES) continue;
          c = candidates.length;
          candidates.push(movie);
          marks[movie] = mark;
          slots[movie] = c;
        }
        if (d < edits[c * q + j]!) edits[c * q + j] = d;
      }
    });
  }
  if (candidates.length === 0) {
    // Every query word that has close words is common: the best-known movies are the candidates.
    for (const movie of index.byPopularity.subarray(0, SUGGESTION_CANDIDATES)) candidates.push(movie);
  }
  // The commoner words, checked on each candidate's own words (a vocabulary-sized scratch).
  const wordEdits = index.wordScratch;
  for (let j = 0; j < q; j++) {
    if (checked[j] === 1) continue;
    const word = perWord[j]!;
    word.ids.forEach((id, w) => {
      wordEdits[id] = word.edits[w]! + 1;
    });
    candidates.forEach((movie, c) => {
      for (let n = index.wordOffsets[movie]!; n < index.wordOffsets[movie + 1]!; n++) {
        const d = wordEdits[index.wordIds[n]!]!;
        if (d > 0 && d - 1 < edits[c * q + j]!) edits[c * q + j] = d - 1;
      }
    });
    for (const id of word.ids) wordEdits[id] = 0;
  }
  const scored: { index: number; matched: number; edits: number }[] = [];
  candidates.forEach((movie, c) => {
    let matched = 0;
    let total = 0;
    for (let j = 0; j < q; j++) {
      const d = edits[c * q + j]!;
      if (d !== NO_MATCH) {
        matched++;
        total += d;
      }
    }
    if (matched > 0 && matched * 2 >= q) scored.push({ index: movie, matched, edits: total });
  });
  scored.sort(
    (a, b) =>
      b.matched - a.matched ||
      a.edits - b.edits ||
      index.popularity[b.index]! - index.popularity[a.index]! ||
      a.index - b.index,
  );
  return scored.slice(0, limit).map((s) => s.index);
}
