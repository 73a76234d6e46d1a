/**
 * Small readers of the shared test data for the content/visual/similar tests and for
 * bench/similarity.ts, building `Movie` objects directly from the files (independent of the
 * ingestion module, so these tests exercise only the content code).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Movie, movieRecord } from '../../../shared/catalog.ts';

/** All records of an RFC-4180 CSV file (header included); CRLF or LF line ends. */
export function readCsv(path: string): string[][] {
  const text = readFileSync(path, 'utf8');
  const rows: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') i++;
      fields.push(field);
      if (!(fields.length === 1 && fields[0] === '')) rows.push(fields);
      fields = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || fields.length > 0) rows.push([...fields, field]);
  return rows;
}

/** ISO-8859-1 bytes to text (each byte is its code point). */
function decodeLatin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

export interface TmdbEntry {
  overview: string;
  keywords: string[];
  genres: string[];
}

/** tmdb_5000_movies.csv by TMDB id. */
export function readTmdb(dir: string): Map<number, TmdbEntry> {
  const [header, ...rows] = readCsv(join(dir, 'tmdb_5000_movies.csv'));
  const col = (name: string) => header!.indexOf(name);
  const [id, overview, keywords, genres] = [col('id'), col('overview'), col('keywords'), col('genres')];
  const names = (json: string | undefined): string[] =>
    json ? (JSON.parse(json) as { name: string }[]).map((k) => k.name) : [];
  const out = new Map<number, TmdbEntry>();
  for (const r of rows) {
    out.set(Number(r[id]), {
      overview: r[overview] ?? '',
      keywords: names(r[keywords]),
      genres: names(r[genres]),
    });
  }
  return out;
}

function splitTitle(raw: string): { title: string; year: number | null } {
  const m = /^(.*?)\s*\((\d{4})\)\s*$/.exec(raw.trim());
  return m ? { title: m[1]!, year: Number(m[2]) } : { title: raw.trim(), year: null };
}

/** ml-latest-small movies with tags and (when a TMDB folder is given) overview + keywords. */
export function readLatestSmall(dir: string, tmdbDir?: string): Movie[] {
  const [, ...movieRows] = readCsv(join(dir, 'movies.csv'));
  const movies = movieRows.map((r) => {
    const { title, year } = splitTitle(r[1]!);
    const movie = movieRecord({ movieId: Number(r[0]), title });
    movie.year = year;
    movie.genres = r[2] === '(no genres listed)' ? [] : r[2]!.split('|');
    return movie;
  });
  const byId = new Map(movies.map((m) => [m.movieId, m]));
  const tagsPath = join(dir, 'tags.csv');
  if (existsSync(tagsPath)) {
    const [, ...tagRows] = readCsv(tagsPath);
    for (const r of tagRows) {
      const movie = byId.get(Number(r[1]));
      const tag = r[2]!.trim().toLowerCase();
      if (movie && tag !== '' && !movie.tags.includes(tag)) movie.tags.push(tag);
    }
  }
  const [, ...linkRows] = readCsv(join(dir, 'links.csv'));
  for (const r of linkRows) {
    const movie = byId.get(Number(r[0]));
    if (movie && r[2] !== '') movie.tmdbId = Number(r[2]);
  }
  if (tmdbDir !== undefined) attachTmdb(movies, readTmdb(tmdbDir));
  return movies;
}

function attachTmdb(movies: Movie[], tmdb: Map<number, TmdbEntry>): void {
  for (const movie of movies) {
    const entry = movie.tmdbId === null ? undefined : tmdb.get(movie.tmdbId);
    if (entry) {
      movie.overview = entry.overview;
      movie.keywords = entry.keywords;
    }
  }
}

export const ML100K_GENRES = Object.freeze([
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
]);

/**
 * ml-100k u.item as movies (index = movie_id - 1), posterPath set when posterDir holds
 * <id>.jpg, overview/keywords attached through the posters' links.csv when tmdbDir is given.
 */
export function readMl100k(dir: string, posterDir?: string, tmdbDir?: string): Movie[] {
  const text = decodeLatin1(readFileSync(join(dir, 'u.item')));
  const movies: Movie[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.split('|');
    const { title, year } = splitTitle(f[1]!);
    const movie = movieRecord({ movieId: Number(f[0]), title });
    movie.year = year;
    movie.genres = ML100K_GENRES.filter((_, g) => f[5 + g] === '1' && g > 0);
    if (posterDir !== undefined) {
      const poster = join(posterDir, `${movie.movieId}.jpg`);
      if (existsSync(poster)) movie.posterPath = poster;
    }
    movies.push(movie);
  }
  if (posterDir !== undefined && existsSync(join(posterDir, 'links.csv'))) {
    const [, ...links] = readCsv(join(posterDir, 'links.csv'));
    const byId = new Map(movies.map((m) => [m.movieId, m]));
    for (const r of links) {
      const movie = byId.get(Number(r[0]));
      if (movie && r[2] !== '' && r[2] !== undefined) movie.tmdbId = Number(r[2]);
    }
    if (tmdbDir !== undefined) attachTmdb(movies, readTmdb(tmdbDir));
  }
  return movies;
}

/** ml-100k u.data as parallel arrays (user and item as 0-based indexes). */
export function readMl100kRatings(dir: string): {
  user: Uint32Array;
  item: Uint32Array;
  rating: Float32Array;
  users: number;
} {
  const lines = readFileSync(join(dir, 'u.data'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const user = new Uint32Array(lines.length);
  const item = new Uint32Array(lines.length);
  const rating = new Float32Array(lines.length);
  let users = 0;
  lines.forEach((l, i) => {
    const [u, m, r] = l.split('\t');
    user[i] = Number(u) - 1;
    item[i] = Number(m) - 1;
    rating[i] = Number(r);
    users = Math.max(users, Number(u));
  });
  return { user, item, rating, users };
}
