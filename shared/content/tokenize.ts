/**
 * Text normalisation and tokenisation shared by training (fitting the vocabulary) and serving
 * (embedding a movie added later): the same function runs on both sides so that a token means
 * the same thing everywhere. Pure ES2023, no platform API.
 */
import type { Movie } from '../catalog.ts';

/**
 * A small English stop-word list (articles, pronouns, auxiliaries, prepositions). Kept short on
 * purpose: TF-IDF and SIF already down-weight frequent words; this only removes words that carry
 * no content at all and would otherwise dominate the word-vector training windows.
 */
export const STOP_WORDS: ReadonlySet<string> = Object.freeze(
  new Set(
    (
      'a an the and or but if then else of at by for with about against between into through during before after ' +
      'above below to from up down in out on off over under again further once here there when where why how all ' +
      'any both each few more most other some such no nor not only own same so than too very can will just should ' +
      'now is are was were be been being have has had having do does did doing would could might must shall may ' +
      'i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers ' +
      'herself it its itself they them their theirs themselves what which who whom this that these those am ' +
      'as until while because also into onto upon s t d ll m re ve'
    ).split(' '),
  ),
);

// Letters and digits in any script; everything else separates tokens. Apostrophes are removed
// first so "don't" stays one token ("dont") instead of "don" + "t".
const APOSTROPHES = /['\u2019\u2018`]/g;
const COMBINING_MARKS = /\p{M}+/gu;
const SEPARATORS = /[^\p{L}\p{N}]+/u;

/**
 * Lower-case, strip accents (NFKD then drop combining marks) and remove apostrophes.
 * @example normalizeText("Amélie's Café") // "amelies cafe"
 */
export function normalizeText(text: string): string {
  return text.normalize('NFKD').replace(COMBINING_MARKS, '').replace(APOSTROPHES, '').toLowerCase();
}

export interface TokenizeOptions {
  /** Drop STOP_WORDS (default true). */
  dropStopWords?: boolean;
  /** Drop tokens shorter than this many characters (default 2). */
  minLength?: number;
}

/**
 * Words of a free text: normalised, split on anything that is not a letter or digit, stop words
 * and one-character tokens dropped.
 * @example tokenize('The Matrix: Reloaded!') // ['matrix', 'reloaded']
 */
export function tokenize(
  text: string,
  { dropStopWords = true, minLength = 2 }: TokenizeOptions = {},
): string[] {
  const out: string[] = [];
  for (const token of normalizeText(text).split(SEPARATORS)) {
    if (token.length < minLength) continue;
    if (dropStopWords && STOP_WORDS.has(token)) continue;
    out.push(token);
  }
  return out;
}

/**
 * A multi-word name or label as ONE feature token with a field prefix, so "Tom Hanks" is a single
 * feature and cannot collide with the words "tom" and "hanks" (plain tokens never contain '_').
 * Returns null when nothing is left after normalisation.
 * @example phraseToken('cast', 'Tom Hanks') // 'cast_tom_hanks'
 */
export function phraseToken(field: string, phrase: string): string | null {
  const words = normalizeText(phrase)
    .split(SEPARATORS)
    .filter((w) => w.length > 0);
  return words.length === 0 ? null : `${field}_${words.join('_')}`;
}

/** How many cast members enter the combined features (top billed first). */
export const CAST_FEATURES = 3;

/**
 * The combined-features token list of a movie, the single definition used to fit and to apply a
 * text model: title words, one token per genre, overview words, keyword words, tag words, the
 * top-3 cast and the director as single name tokens. The "(no genres listed)" placeholder of
 * MovieLens is not a genre and is skipped.
 * @example movieTokens({ title: 'Toy Story', genres: ['Animation'], cast: ['Tom Hanks'], ... })
 *   // ['toy', 'story', 'genre_animation', ..., 'cast_tom_hanks']
 */
export function movieTokens(movie: Movie): string[] {
  const tokens = tokenize(movie.title);
  for (const genre of movie.genres) {
    if (genre === '(no genres listed)') continue;
    const t = phraseToken('genre', genre);
    if (t !== null) tokens.push(t);
  }
  tokens.push(...tokenize(movie.overview));
  for (const keyword of movie.keywords) tokens.push(...tokenize(keyword));
  for (const tag of movie.tags) tokens.push(...tokenize(tag));
  for (const name of movie.cast.slice(0, CAST_FEATURES)) {
    const t = phraseToken('cast', name);
    if (t !== null) tokens.push(t);
  }
  if (movie.director !== null && movie.director !== '') {
    const t = phraseToken('director', movie.director);
    if (t !== null) tokens.push(t);
  }
  return tokens;
}
