/**
 * The served catalog as columns: what scoring, filters and the ranking stage read per item
 * (years, mean ratings, genre lists) are typed arrays, and a movie becomes an object only when a
 * request touches it. A version with the catalog_* column files (shared/artifacts/spec.ts) is
 * served without one object per movie at load: an 87k-movie catalog as 87k objects cost the edge
 * ~7 MB of heap and the JSON they came from ~360 ms of decoding and parsing. Older versions
 * (catalog.json with movie objects) and training-side models give their objects, and the same
 * columns are derived from them, so both score with the same arrays.
 */
import { type StringColumn, stringAt } from '../artifacts/codecs.ts';

/** One movie as served. */
export interface ServedMovie {
  movieId: number;
  title: string;
  year: number | null;
  genres: string[];
  tmdbId?: number | null;
  posterPath?: string | null;
  popularity?: number;
  ratingCount?: number;
  meanRating?: number | null;
}

/** The columns of a catalog, one entry per item in item-index order (a version's catalog_* files). */
export interface CatalogColumns {
  /** item_ids.u32. */
  movieIds: Uint32Array;
  titles: StringColumn;
  /** Release year, 0 = unknown. */
  years: Uint16Array;
  /** The distinct genre lists (catalog.json's genreSets); `genreSetOf` indexes them. */
  genreSets: readonly (readonly string[])[];
  genreSetOf: Uint16Array | Uint32Array;
  ratingCounts: Uint32Array;
  /** NaN = not rated. */
  meanRatings: Float32Array;
  /** 0 = none; null: no movie has one. */
  tmdbIds: Uint32Array | null;
  /** '' = none; null: no movie has one. */
  posterPaths: StringColumn | null;
  /** popularity.f32, copied into the materialised movies (ServedMovie.popularity). */
  popularity: Float32Array | null;
}

/**
 * Index of a canonical array index key ('0', '17', not '017', '1e3' or '-1') below `length`, else
 * -1. The Proxy traps of `lazyMovies` see every property key as a string.
 */
function indexKey(key: string | symbol, length: number): number {
  if (typeof key !== 'string') return -1;
  const n = key.length;
  if (n === 0 || n > 10) return -1;
  let index = 0;
  for (let c = 0; c < n; c++) {
    const digit = key.charCodeAt(c) - 48;
    if (digit < 0 || digit > 9 || (digit === 0 && c === 0 && n > 1)) return -1;
    index = index * 10 + digit;
  }
  return index < length ? index : -1;
}

/**
 * A read-only array of `length` movies made by `make(i)` on first access and then kept: indexing,
 * `length`, iteration and the array methods work as on a plain array (Array.isArray is true),
 * writes throw. A request reads the 10-300 movies it answers with, not the catalog.
 */
export function lazyMovies(length: number, make: (index: number) => ServedMovie): readonly ServedMovie[] {
  const made: (ServedMovie | undefined)[] = new Array(length);
  const at = (index: number): ServedMovie => {
    let movie = made[index];
    if (movie === undefined) {
      movie = Object.freeze(make(index)) as ServedMovie;
      made[index] = movie;
    }
    return movie;
  };
  const readOnly = (): boolean => false;
  return new Proxy(made as ServedMovie[], {
    get(target, key, receiver) {
      const index = indexKey(key, length);
      return index >= 0 ? at(index) : Reflect.get(target, key, receiver);
    },
    has(target, key) {
      return indexKey(key, length) >= 0 || Reflect.has(target, key);
    },
    getOwnPropertyDescriptor(target, key) {
      const index = indexKey(key, length);
      if (index < 0) return Reflect.getOwnPropertyDescriptor(target, key);
      // Configurable: the target holds no such property yet, and a proxy may not claim a
      // non-configurable one the target lacks.
      return { value: at(index), writable: false, enumerable: true, configurable: true };
    },
    ownKeys(target) {
      return [
        ...Array.from({ length }, (_, i) => String(i)),
        ...Reflect.ownKeys(target).filter((k) => indexKey(k, length) < 0),
      ];
    },
    set: readOnly,
    defineProperty: readOnly,
    deleteProperty: readOnly,
  });
}

/**
 * A catalog: per-item columns for the hot paths, `movies` for everything that answers with a movie.
 * Build it with `MovieCatalog.fromColumns` (a version's column files) or `MovieCatalog.fromMovies`
 * (movie objects: versions before the columns, training-side models).
 */
export class MovieCatalog {
  readonly length: number;
  readonly movieIds: Uint32Array;
  /** Release year per item, 0 = unknown. */
  readonly years: Uint16Array;
  /** Mean rating per item, NaN = not rated. */
  readonly meanRatings: Float32Array;
  readonly ratingCounts: Uint32Array;
  /** The distinct genre lists, each frozen and shared by every movie that has it. */
  readonly genreSets: readonly (readonly string[])[];
  /** Per item, its list in `genreSets`. */
  readonly genreSetOf: Uint16Array | Uint32Array;
  /** Every movie as an object (made on first access when the catalog came as columns). */
  readonly movies: readonly ServedMovie[];
  private readonly titleAt: (index: number) => string;

  private constructor(
    parts: Omit<MovieCatalog, 'title' | 'length' | 'titleAt'> & { titleAt: (index: number) => string },
  ) {
    this.length = parts.movieIds.length;
    this.movieIds = parts.movieIds;
    this.years = parts.years;
    this.meanRatings = parts.meanRatings;
    this.ratingCounts = parts.ratingCounts;
    this.genreSets = parts.genreSets;
    this.genreSetOf = parts.genreSetOf;
    this.movies = parts.movies;
    this.titleAt = parts.titleAt;
  }

  /** Title of item `index` (without making its movie object). */
  title(index: number): string {
    return this.titleAt(index);
  }

  /**
   * A catalog over columns; its movies are made on first access. Columns must all have one entry
   * per movie id and genre indexes must be in range (the version loader checks both, naming files).
   */
  static fromColumns(columns: CatalogColumns): MovieCatalog {
    const {
      movieIds,
      titles,
      years,
      genreSets,
      genreSetOf,
      ratingCounts,
      meanRatings,
      tmdbIds,
      posterPaths,
    } = columns;
    const popularity = columns.popularity;
    const frozenSets = genreSets.map((set) => Object.freeze([...set]));
    const movies = lazyMovies(movieIds.length, (i) => {
      const mean = meanRatings[i]!;
      const poster = posterPaths ? stringAt(posterPaths, i) : '';
      const movie: ServedMovie = {
        movieId: movieIds[i]!,
        title: stringAt(titles, i),
        year: years[i] || null,
        genres: frozenSets[genreSetOf[i]!] as string[],
        tmdbId: tmdbIds?.[i] || null,
        posterPath: poster === '' ? null : poster,
        ratingCount: ratingCounts[i]!,
        meanRating: Number.isNaN(mean) ? null : mean,
      };
      if (popularity) movie.popularity = popularity[i]!;
      return movie;
    });
    return new MovieCatalog({
      movieIds,
      years,
      meanRatings,
      ratingCounts,
      genreSets: frozenSets,
      genreSetOf,
      movies,
      titleAt: (i) => stringAt(titles, i),
    });
  }

  /** A catalog over movie objects (kept as given); its columns are derived from them. */
  static fromMovies(movies: readonly ServedMovie[]): MovieCatalog {
    const n = movies.length;
    const movieIds = new Uint32Array(n);
    const years = new Uint16Array(n);
    const meanRatings = new Float32Array(n);
    const ratingCounts = new Uint32Array(n);
    const genreSetOf = new Uint32Array(n);
    const genreSets: (readonly string[])[] = [];
    const setIndex = new Map<string, number>();
    // Movies parsed from catalog.json share one genres array per list: look those up by identity
    // and build a key only once per array, not once per movie.
    const setOfArray = new Map<readonly string[], number>();
    for (let i = 0; i < n; i++) {
      const movie = movies[i]!;
      movieIds[i] = movie.movieId;
      years[i] = movie.year !== null && movie.year > 0 && movie.year < 65536 ? movie.year : 0;
      meanRatings[i] = movie.meanRating ?? Number.NaN;
      ratingCounts[i] = movie.ratingCount ?? 0;
      let set = setOfArray.get(movie.genres);
      if (set === undefined) {
        const key = movie.genres.join('\u0000');
        set = setIndex.get(key);
        if (set === undefined) {
          set = genreSets.length;
          genreSets.push(movie.genres);
          setIndex.set(key, set);
        }
        setOfArray.set(movie.genres, set);
      }
      genreSetOf[i] = set;
    }
    return new MovieCatalog({
      movieIds,
      years,
      meanRatings,
      ratingCounts,
      genreSets,
      genreSetOf,
      movies,
      titleAt: (i) => movies[i]!.title,
    });
  }
}
