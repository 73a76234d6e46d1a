import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Movie } from '../../shared/catalog.ts';
import { UNTERMINATED_QUOTE, readCsvFile, readDelimitedFile } from './csv.ts';
import type { RatingsTable, Split, UserProfile } from './dataset.ts';
import type { IssueLog } from './issues.ts';
import { densifyUserIds, movieIndexTable, type RawRatings, readRatingsFile } from './ratings-file.ts';
import { blankMovie, splitTitleYear } from './titles.ts';

/** Progress of a long ingestion step (bytes of the ratings file, usually). */
export interface IngestProgress {
  stage: string;
  done: number;
  total: number;
}
export type ProgressHandler = (progress: IngestProgress) => void;

/** What a MovieLens loader returns; index.ts wraps it into a Dataset. */
export interface LoadedRatings {
  movies: Movie[];
  ratings: RatingsTable;
  userIds: Uint32Array;
  userProfiles?: UserProfile[];
  officialSplits: Record<string, Split>;
}

// ml-1m users.dat occupation codes, from its README.
const ML1M_OCCUPATIONS = [
  'other',
  'academic/educator',
  'artist',
  'clerical/admin',
  'college/grad student',
  'customer service',
  'doctor/health care',
  'executive/managerial',
  'farmer',
  'homemaker',
  'K-12 student',
  'lawyer',
  'programmer',
  'retired',
  'sales/marketing',
  'scientist',
  'self-employed',
  'technician/engineer',
  'tradesman/craftsman',
  'unemployed',
  'writer',
] as const;

/** A positive integer id, or null (the caller reports the row). */
function parseId(text: string | undefined): number | null {
  if (text === undefined || !/^\d+$/.test(text.trim())) return null;
  const value = Number(text.trim());
  return value <= 0xffffffff ? value : null;
}

function toRatingsTable(raw: RawRatings, userIndex: Uint32Array): RatingsTable {
  return {
    length: raw.length,
    userIndex,
    itemIndex: raw.itemIndex,
    rating: raw.rating,
    timestamp: raw.timestamp,
  };
}

/** Add a movie unless its id is a duplicate (reported). */
function addMovie(
  movies: Movie[],
  seen: Set<number>,
  movie: Movie,
  file: string,
  line: number,
  issues: IssueLog,
) {
  if (seen.has(movie.movieId)) {
    issues.skip(file, line, `duplicate movieId ${movie.movieId}`);
    return;
  }
  seen.add(movie.movieId);
  movies.push(movie);
}

/** MovieLens latest / 20M / 25M / 32M: movies.csv, ratings.csv, links.csv, tags.csv (CSV, CRLF). */
export async function loadMovieLensCsv(
  dir: string,
  issues: IssueLog,
  onProgress?: ProgressHandler,
): Promise<LoadedRatings> {
  const moviesFile = join(dir, 'movies.csv');
  const movies: Movie[] = [];
  const seen = new Set<number>();
  await readCsvFile(
    moviesFile,
    (fields, line) => {
      if (line === 1) return; // header: movieId,title,genres
      if (fields.length !== 3) {
        issues.skip(moviesFile, line, `expected 3 fields (movieId, title, genres), found ${fields.length}`);
        return;
      }
      const movieId = parseId(fields[0]);
      if (movieId === null) {
        issues.skip(moviesFile, line, `movieId is not a positive integer: ${JSON.stringify(fields[0])}`);
        return;
      }
      const { title, year } = splitTitleYear(fields[1]!);
      const movie = blankMovie(movieId, title, year);
      const genres = fields[2]!;
      movie.genres = genres === '(no genres listed)' || genres === '' ? [] : genres.split('|');
      addMovie(movies, seen, movie, moviesFile, line, issues);
    },
    { onUnterminatedQuote: (line) => issues.skip(moviesFile, line, UNTERMINATED_QUOTE) },
  );
  const movieIndexById = movieIndexTable(movies.map((m) => m.movieId));
  const indexOf = (movieId: number): number =>
    movieId < movieIndexById.length ? movieIndexById[movieId]! : -1;

  const linksFile = join(dir, 'links.csv');
  if (existsSync(linksFile)) {
    await readCsvFile(
      linksFile,
      (fields, line) => {
        if (line === 1) return; // movieId,imdbId,tmdbId
        if (fields.length !== 3) {
          issues.skip(linksFile, line, `expected 3 fields (movieId, imdbId, tmdbId), found ${fields.length}`);
          return;
        }
        const movieId = parseId(fields[0]);
        const index = movieId === null ? -1 : indexOf(movieId);
        if (index < 0) {
          issues.skip(
            linksFile,
            line,
            `link for unknown movie ${JSON.stringify(fields[0])} (not in movies.csv)`,
          );
          return;
        }
        const movie = movies[index]!;
        const imdb = fields[1]!.trim();
        if (/^\d+$/.test(imdb)) movie.imdbId = `tt${imdb.padStart(7, '0')}`;
        movie.tmdbId = parseId(fields[2]); // 8 movies of ml-latest-small have no tmdbId: stays null
      },
      { onUnterminatedQuote: (line) => issues.skip(linksFile, line, UNTERMINATED_QUOTE) },
    );
  }

  const tagsFile = join(dir, 'tags.csv');
  if (existsSync(tagsFile)) {
    const tagSets = new Map<number, Set<string>>();
    await readCsvFile(
      tagsFile,
      (fields, line) => {
        if (line === 1) return; // userId,movieId,tag,timestamp
        if (fields.length !== 4) {
          issues.skip(
            tagsFile,
            line,
            `expected 4 fields (userId, movieId, tag, timestamp), found ${fields.length}`,
          );
          return;
        }
        const movieId = parseId(fields[1]);
        const index = movieId === null ? -1 : indexOf(movieId);
        if (index < 0) {
          issues.skip(
            tagsFile,
            line,
            `tag for unknown movie ${JSON.stringify(fields[1])} (not in movies.csv)`,
          );
          return;
        }
        const tag = fields[2]!.trim().toLowerCase();
        if (tag === '') return;
        let set = tagSets.get(index);
        if (!set) {
          set = new Set();
          tagSets.set(index, set);
        }
        set.add(tag);
      },
      { onUnterminatedQuote: (line) => issues.skip(tagsFile, line, UNTERMINATED_QUOTE) },
    );
    for (const [index, set] of tagSets) movies[index]!.tags = [...set];
  }

  const ratingsFile = join(dir, 'ratings.csv');
  const raw = await readRatingsFile(
    {
      path: ratingsFile,
      separator: ',',
      header: true,
      scale: { min: 0.5, max: 5 },
      movieIndexById,
      catalogFile: 'movies.csv',
      onProgress: onProgress && ((done, total) => onProgress({ stage: 'ratings.csv', done, total })),
    },
    issues,
  );
  const userIds = densifyUserIds(raw.userId);
  return { movies, ratings: toRatingsTable(raw, raw.userId), userIds, officialSplits: {} };
}

/** MovieLens 100K: u.data (tab), u.item ('|', Latin-1), u.genre, u.user, official splits. */
export async function loadMovieLens100k(
  dir: string,
  issues: IssueLog,
  onProgress?: ProgressHandler,
): Promise<LoadedRatings> {
  const genreNames: string[] = [];
  const genreFile = join(dir, 'u.genre');
  if (existsSync(genreFile)) {
    await readDelimitedFile(genreFile, '|', 'latin1', (fields, line) => {
      const index = parseId(fields[1]) ?? (fields[1] === '0' ? 0 : null);
      if (fields.length !== 2 || index === null) {
        issues.skip(genreFile, line, `expected "name|index", got ${JSON.stringify(fields.join('|'))}`);
        return;
      }
      genreNames[index] = fields[0]!;
    });
  }
  const itemFile = join(dir, 'u.item');
  const movies: Movie[] = [];
  const seen = new Set<number>();
  await readDelimitedFile(itemFile, '|', 'latin1', (fields, line) => {
    // id | title | release date | video release date | IMDb URL | 19 genre flags
    if (fields.length !== 24) {
      issues.skip(itemFile, line, `expected 24 '|'-separated fields, found ${fields.length}`);
      return;
    }
    const movieId = parseId(fields[0]);
    if (movieId === null) {
      issues.skip(itemFile, line, `movie id is not a positive integer: ${JSON.stringify(fields[0])}`);
      return;
    }
    const { title, year } = splitTitleYear(fields[1]!);
    const movie = blankMovie(movieId, title, year);
    for (let g = 0; g < 19; g++) {
      if (fields[5 + g] === '1') movie.genres.push(genreNames[g] ?? `genre ${g}`);
    }
    addMovie(movies, seen, movie, itemFile, line, issues);
  });
  const movieIndexById = movieIndexTable(movies.map((m) => m.movieId));

  const userProfilesById = new Map<number, UserProfile>();
  const userFile = join(dir, 'u.user');
  if (existsSync(userFile)) {
    await readDelimitedFile(userFile, '|', 'latin1', (fields, line) => {
      const userId = parseId(fields[0]);
      if (fields.length !== 5 || userId === null) {
        issues.skip(
          userFile,
          line,
          `expected "user id|age|gender|occupation|zip code", got ${JSON.stringify(fields.join('|'))}`,
        );
        return;
      }
      userProfilesById.set(userId, {
        userId,
        age: parseId(fields[1]),
        gender: fields[2] || null,
        occupation: fields[3] || null,
        zipCode: fields[4] || null,
      });
    });
  }

  const ratingsOptions = {
    separator: '\t' as const,
    header: false,
    scale: { min: 1, max: 5 },
    movieIndexById,
    catalogFile: 'u.item',
  };
  const raw = await readRatingsFile(
    {
      ...ratingsOptions,
      path: join(dir, 'u.data'),
      onProgress: onProgress && ((done, total) => onProgress({ stage: 'u.data', done, total })),
    },
    issues,
  );
  const userIds = densifyUserIds(raw.userId, [...userProfilesById.keys()]);
  const ratings = toRatingsTable(raw, raw.userId);

  // Official splits: every base/test row is a row of u.data; map it to its index there.
  const denseUser = new Map<number, number>();
  userIds.forEach((id, index) => {
    denseUser.set(id, index);
  });
  // (user, movie) -> row of u.data as a dense table: 943 x 1,682 cells, far faster than a Map
  // for the 1.4M lookups of the seven splits.
  const itemCount = movies.length;
  const rowByPair = new Int32Array(userIds.length * itemCount).fill(-1);
  for (let i = 0; i < ratings.length; i++) {
    rowByPair[ratings.userIndex[i]! * itemCount + ratings.itemIndex[i]!] = i;
  }
  const officialSplits: Record<string, Split> = {};
  for (const name of ['u1', 'u2', 'u3', 'u4', 'u5', 'ua', 'ub']) {
    const baseFile = join(dir, `${name}.base`);
    const testFile = join(dir, `${name}.test`);
    if (!existsSync(baseFile) || !existsSync(testFile)) continue;
    const part = async (file: string): Promise<Uint32Array> => {
      const rows = await readRatingsFile({ ...ratingsOptions, path: file }, issues);
      const indexes = new Uint32Array(rows.length);
      let n = 0;
      for (let i = 0; i < rows.length; i++) {
        const user = denseUser.get(rows.userId[i]!);
        const row = user === undefined ? -1 : rowByPair[user * itemCount + rows.itemIndex[i]!]!;
        if (row < 0) {
          // Line numbers are not kept per row by the kernel; the row's position is the line.
          issues.skip(file, i + 1, 'split row is not a rating of u.data (user, movie) pair not found');
          continue;
        }
        indexes[n++] = row;
      }
      return indexes.slice(0, n);
    };
    officialSplits[name] = { name, train: await part(baseFile), test: await part(testFile) };
  }
  const userProfiles = userProfilesById.size > 0 ? profilesInOrder(userIds, userProfilesById) : undefined;
  return { movies, ratings, userIds, ...(userProfiles ? { userProfiles } : {}), officialSplits };
}

function profilesInOrder(userIds: Uint32Array, byId: Map<number, UserProfile>): UserProfile[] {
  return Array.from(
    userIds,
    (userId) => byId.get(userId) ?? { userId, gender: null, age: null, occupation: null, zipCode: null },
  );
}

/** MovieLens 1M: movies.dat, users.dat, ratings.dat ('::', Latin-1); ratings.dat may be absent. */
export async function loadMovieLens1m(
  dir: string,
  issues: IssueLog,
  onProgress?: ProgressHandler,
): Promise<LoadedRatings> {
  const moviesFile = join(dir, 'movies.dat');
  const movies: Movie[] = [];
  const seen = new Set<number>();
  await readDelimitedFile(moviesFile, '::', 'latin1', (fields, line) => {
    if (fields.length !== 3) {
      issues.skip(
        moviesFile,
        line,
        `expected 3 '::'-separated fields (MovieID, Title, Genres), found ${fields.length}`,
      );
      return;
    }
    const movieId = parseId(fields[0]);
    if (movieId === null) {
      issues.skip(moviesFile, line, `MovieID is not a positive integer: ${JSON.stringify(fields[0])}`);
      return;
    }
    const { title, year } = splitTitleYear(fields[1]!);
    const movie = blankMovie(movieId, title, year);
    movie.genres = fields[2] ? fields[2].split('|') : [];
    addMovie(movies, seen, movie, moviesFile, line, issues);
  });
  const movieIndexById = movieIndexTable(movies.map((m) => m.movieId));

  const userProfilesById = new Map<number, UserProfile>();
  const usersFile = join(dir, 'users.dat');
  if (existsSync(usersFile)) {
    await readDelimitedFile(usersFile, '::', 'latin1', (fields, line) => {
      const userId = parseId(fields[0]);
      if (fields.length !== 5 || userId === null) {
        issues.skip(
          usersFile,
          line,
          `expected "UserID::Gender::Age::Occupation::Zip-code", got ${JSON.stringify(fields.join('::'))}`,
        );
        return;
      }
      const occupation = parseId(fields[3]) ?? (fields[3] === '0' ? 0 : null);
      userProfilesById.set(userId, {
        userId,
        gender: fields[1] || null,
        age: parseId(fields[2]),
        occupation: occupation === null ? null : (ML1M_OCCUPATIONS[occupation] ?? null),
        zipCode: fields[4] || null,
      });
    });
  }

  const ratingsFile = join(dir, 'ratings.dat');
  let raw: RawRatings;
  if (existsSync(ratingsFile)) {
    raw = await readRatingsFile(
      {
        path: ratingsFile,
        separator: '::',
        header: false,
        scale: { min: 1, max: 5 },
        movieIndexById,
        catalogFile: 'movies.dat',
        onProgress: onProgress && ((done, total) => onProgress({ stage: 'ratings.dat', done, total })),
      },
      issues,
    );
  } else {
    issues.note(`${ratingsFile} is absent: 0 ratings (movies and users only)`);
    raw = {
      length: 0,
      userId: new Uint32Array(0),
      itemIndex: new Uint32Array(0),
      rating: new Float32Array(0),
      timestamp: new Uint32Array(0),
    };
  }
  const userIds = densifyUserIds(raw.userId, [...userProfilesById.keys()]);
  const userProfiles = userProfilesById.size > 0 ? profilesInOrder(userIds, userProfilesById) : undefined;
  return {
    movies,
    ratings: toRatingsTable(raw, raw.userId),
    userIds,
    ...(userProfiles ? { userProfiles } : {}),
    officialSplits: {},
  };
}
