/**
 * One movie of the catalog, as ingestion produces it, training exports it and the edge serves it.
 * Fields a source does not provide are empty (`[]`, `''`) or `null`, never invented.
 */
export interface Movie {
  /** The dataset's own movie id (MovieLens movieId, or TMDB id for a TMDB-only catalog). */
  movieId: number;
  /** Title without the trailing "(year)". */
  title: string;
  year: number | null;
  genres: string[];
  /** User tags (MovieLens tags.csv), lower-cased and de-duplicated. */
  tags: string[];
  overview: string;
  keywords: string[];
  /** Top-3 billed cast, in billing order. */
  cast: string[];
  director: string | null;
  tmdbId: number | null;
  imdbId: string | null;
  /** Path (or key) of the poster image, when one was attached. */
  posterPath: string | null;
  /** TMDB vote average (0-10), when the catalog was joined to TMDB. */
  voteAverage?: number | null;
  /** TMDB vote count, when joined to TMDB. */
  voteCount?: number | null;
  /** TMDB popularity score, when joined to TMDB. */
  tmdbPopularity?: number | null;
  /** Runtime in minutes, when joined to TMDB. */
  runtime?: number | null;
}

/**
 * A `Movie` with the given fields and every other field empty: `[]` for lists, `''` for the
 * overview and `null` for year, director, ids and poster (nothing invented).
 *
 * @example
 * movieRecord({ movieId: 1, title: 'Toy Story', year: 1995 });
 * // { movieId: 1, title: 'Toy Story', year: 1995, genres: [], tags: [], overview: '', keywords: [],
 * //   cast: [], director: null, tmdbId: null, imdbId: null, posterPath: null }
 */
export function movieRecord(fields: Pick<Movie, 'movieId' | 'title'> & Partial<Movie>): Movie {
  const { movieId, title, ...rest } = fields;
  return {
    movieId,
    title,
    year: null,
    genres: [],
    tags: [],
    overview: '',
    keywords: [],
    cast: [],
    director: null,
    tmdbId: null,
    imdbId: null,
    posterPath: null,
    ...rest,
  };
}
