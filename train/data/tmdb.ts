import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Movie } from '../../shared/catalog.ts';
import { UNTERMINATED_QUOTE, readCsvFile } from './csv.ts';
import type { IssueLog } from './issues.ts';
import { blankMovie, titleYearKeys } from './titles.ts';

export const TMDB_MOVIES_FILE = 'tmdb_5000_movies.csv';
export const TMDB_CREDITS_FILE = 'tmdb_5000_credits.csv';

/** Columns of tmdb_5000_movies.csv that ingestion needs (others are ignored). */
const REQUIRED_MOVIE_COLUMNS = [
  'id',
  'title',
  'genres',
  'keywords',
  'overview',
  'release_date',
  'vote_average',
  'vote_count',
  'popularity',
  'runtime',
] as const;

/** A number from a CSV field, or null when empty or not numeric. */
function numberOrNull(text: string | undefined): number | null {
  if (text === undefined || text.trim() === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/**
 * Parse a JSON-array column (`[{"id": 28, "name": "Action"}, ...]`). Returns null (and the caller
 * reports the row) when the text is not a JSON array of objects.
 */
function parseJsonArray(text: string): Record<string, unknown>[] | null {
  if (text.trim() === '') return [];
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'object' && v !== null)) return null;
    return value as Record<string, unknown>[];
  } catch {
    return null;
  }
}

function names(items: Record<string, unknown>[]): string[] {
  return items.map((item) => item.name).filter((name): name is string => typeof name === 'string');
}

/** Map CSV header names to column positions, failing with the missing ones named. */
function columnIndex(
  header: string[],
  required: readonly string[],
  file: string,
  issues: IssueLog,
): Map<string, number> | null {
  const index = new Map(header.map((name, i) => [name.trim(), i]));
  const missing = required.filter((name) => !index.has(name));
  if (missing.length > 0) {
    issues.skip(file, 1, `header lacks column(s) ${missing.join(', ')}; expected ${required.join(', ')}`);
    return null;
  }
  return index;
}

/**
 * Read tmdb_5000_movies.csv (+ tmdb_5000_credits.csv when present) into a catalog keyed by TMDB
 * id: genres and keywords from their JSON columns, vote stats, runtime, and from the credits the
 * top-3 billed cast and the director. Rows with bad JSON or a bad id are reported and skipped.
 */
export async function loadTmdbMovies(dir: string, issues: IssueLog): Promise<Movie[]> {
  const file = join(dir, TMDB_MOVIES_FILE);
  const movies: Movie[] = [];
  const seen = new Set<number>();
  let columns: Map<string, number> | null = null;
  let columnCount = 0;
  await readCsvFile(
    file,
    (fields, line) => {
      if (line === 1) {
        columns = columnIndex(fields, REQUIRED_MOVIE_COLUMNS, file, issues);
        columnCount = fields.length;
        return;
      }
      if (columns === null) return; // header was bad (already reported)
      if (fields.length !== columnCount) {
        issues.skip(file, line, `expected ${columnCount} fields, found ${fields.length}`);
        return;
      }
      const col = columns;
      const get = (name: string): string => fields[col.get(name)!] ?? '';
      const id = numberOrNull(get('id'));
      if (id === null || !Number.isInteger(id) || id <= 0) {
        issues.skip(file, line, `id is not a positive integer: ${JSON.stringify(get('id'))}`);
        return;
      }
      const genres = parseJsonArray(get('genres'));
      const keywords = parseJsonArray(get('keywords'));
      if (genres === null || keywords === null) {
        const column = genres === null ? 'genres' : 'keywords';
        issues.skip(
          file,
          line,
          `column ${column} is not a JSON array: ${JSON.stringify(get(column).slice(0, 60))}`,
        );
        return;
      }
      if (seen.has(id)) {
        issues.skip(file, line, `duplicate id ${id}`);
        return;
      }
      seen.add(id);
      const release = /^(\d{4})-/.exec(get('release_date'));
      // The overview has three stray carriage returns in the real file; they are not content.
      const movie = blankMovie(id, get('title').trim(), release ? Number(release[1]) : null);
      movie.genres = names(genres);
      movie.keywords = names(keywords);
      movie.overview = get('overview').replace(/\r/g, '').trim();
      movie.tmdbId = id;
      movie.voteAverage = numberOrNull(get('vote_average'));
      movie.voteCount = numberOrNull(get('vote_count'));
      movie.tmdbPopularity = numberOrNull(get('popularity'));
      movie.runtime = numberOrNull(get('runtime'));
      movies.push(movie);
    },
    { onUnterminatedQuote: (line) => issues.skip(file, line, UNTERMINATED_QUOTE) },
  );
  const creditsFile = join(dir, TMDB_CREDITS_FILE);
  if (existsSync(creditsFile)) await attachCredits(creditsFile, movies, issues);
  return movies;
}

/**
 * tmdb_5000_credits.csv (movie_id, title, cast, crew; cast and crew are JSON arrays): top-3 cast
 * by billing `order`, director = first crew member whose job is "Director".
 */
export async function attachCredits(file: string, movies: Movie[], issues: IssueLog): Promise<number> {
  const byId = new Map(movies.map((m) => [m.movieId, m]));
  let columns: Map<string, number> | null = null;
  let attached = 0;
  await readCsvFile(
    file,
    (fields, line) => {
      if (line === 1) {
        columns = columnIndex(fields, ['movie_id', 'title', 'cast', 'crew'], file, issues);
        return;
      }
      if (columns === null) return;
      if (fields.length !== 4) {
        issues.skip(file, line, `expected 4 fields (movie_id, title, cast, crew), found ${fields.length}`);
        return;
      }
      const col = columns;
      const get = (name: string): string => fields[col.get(name)!] ?? '';
      const id = numberOrNull(get('movie_id'));
      const movie = id === null ? undefined : byId.get(id);
      if (!movie) {
        issues.skip(
          file,
          line,
          `credits for unknown movie_id ${JSON.stringify(get('movie_id'))} (not in ${TMDB_MOVIES_FILE})`,
        );
        return;
      }
      const cast = parseJsonArray(get('cast'));
      const crew = parseJsonArray(get('crew'));
      if (cast === null || crew === null) {
        const column = cast === null ? 'cast' : 'crew';
        issues.skip(
          file,
          line,
          `column ${column} is not a JSON array: ${JSON.stringify(get(column).slice(0, 60))}`,
        );
        return;
      }
      const order = (c: Record<string, unknown>) =>
        typeof c.order === 'number' ? c.order : Number.MAX_SAFE_INTEGER;
      movie.cast = names([...cast].sort((a, b) => order(a) - order(b)).slice(0, 3));
      const director = crew.find((c) => c.job === 'Director');
      movie.director = typeof director?.name === 'string' ? director.name : null;
      attached++;
    },
    { onUnterminatedQuote: (line) => issues.skip(file, line, UNTERMINATED_QUOTE) },
  );
  return attached;
}

/**
 * The combined-features text of reference 000, built from what the movie has: genres, keywords,
 * cast, director, overview (and MovieLens tags). Used by content models as their input text.
 */
export function combinedFeatures(movie: Movie): string {
  return [
    movie.genres.join(' '),
    movie.keywords.join(' '),
    movie.cast.join(' '),
    movie.director ?? '',
    movie.tags.join(' '),
    movie.overview,
  ]
    .filter((part) => part !== '')
    .join(' ');
}

/** Result of joining TMDB metadata into a MovieLens catalog. */
export interface TmdbJoinResult {
  joined: number;
  byLink: number;
  byTitleYear: number;
}

/**
 * Copy TMDB metadata (overview, keywords, cast, director, vote stats, runtime) into `movies`.
 * A movie with a tmdbId (links.csv) joins on it and only on it: a link to a film outside the
 * 5000 is not second-guessed by title. A movie without a tmdbId joins by normalised title + year
 * when exactly one TMDB movie has that key. MovieLens genres are kept (they are what the ratings
 * were collected under).
 */
export function joinTmdb(movies: Movie[], tmdbMovies: readonly Movie[]): TmdbJoinResult {
  const byId = new Map(tmdbMovies.map((m) => [m.movieId, m]));
  const byKey = new Map<string, Movie | null>();
  for (const t of tmdbMovies) {
    for (const key of titleYearKeys(t.title, t.year)) {
      byKey.set(key, byKey.has(key) ? null : t); // null marks an ambiguous key
    }
  }
  let byLink = 0;
  let byTitleYear = 0;
  for (const movie of movies) {
    let match: Movie | undefined;
    if (movie.tmdbId !== null) {
      match = byId.get(movie.tmdbId);
      if (match) byLink++;
    } else {
      for (const key of titleYearKeys(movie.title, movie.year)) {
        const candidate = byKey.get(key);
        if (candidate) {
          match = candidate;
          byTitleYear++;
          break;
        }
      }
    }
    if (!match) continue;
    movie.tmdbId = match.movieId;
    movie.overview = match.overview;
    movie.keywords = match.keywords.slice();
    if (match.cast.length > 0) movie.cast = match.cast.slice();
    if (match.director !== null) movie.director = match.director;
    movie.voteAverage = match.voteAverage ?? null;
    movie.voteCount = match.voteCount ?? null;
    movie.tmdbPopularity = match.tmdbPopularity ?? null;
    movie.runtime = match.runtime ?? null;
  }
  return { joined: byLink + byTitleYear, byLink, byTitleYear };
}
