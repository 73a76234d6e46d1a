import type { Movie } from '../../shared/catalog.ts';

/**
 * Ratings as parallel typed arrays: 16 bytes per rating, no object per row, so a 32M-rating
 * dataset fits comfortably in memory. Indexes are dense (0..n-1); `Dataset.userIds` and the
 * catalog map them back to the dataset's own ids.
 */
export interface RatingsTable {
  readonly length: number;
  /** Dense user index, 0..userIds.length-1. */
  readonly userIndex: Uint32Array;
  /** Dense item index = position of the movie in `Dataset.movies`. */
  readonly itemIndex: Uint32Array;
  readonly rating: Float32Array;
  /** Seconds since the Unix epoch (0 when the source has none). */
  readonly timestamp: Uint32Array;
}

/** A problem found in the input: which file and line, and what was wrong with it. */
export interface IngestIssue {
  file: string;
  /** 1-based physical line number. */
  line: number;
  message: string;
}

export interface IngestSummary {
  /** Number of malformed rows skipped (all of them, even when `issues` keeps only the first few). */
  skippedRows: number;
  /** The first malformed rows, for the report (bounded so a broken 32M-row file cannot flood memory). */
  issues: IngestIssue[];
  /** Remarks that are not malformed rows, e.g. "ratings.dat is absent: 0 ratings". */
  notes?: string[];
}

/** A train/test split as index lists into a `RatingsTable`. */
export interface Split {
  name: string;
  train: Uint32Array;
  test: Uint32Array;
}

export type DatasetFormat =
  | 'ml-100k'
  | 'ml-1m'
  | 'ml-latest' // latest-small, 20M, 25M, 32M (CSV)
  | 'tmdb-5000'
  | 'synthetic';

/** Everything ingestion produces, for any source format. */
export interface Dataset {
  /** Short name, e.g. 'ml-latest-small' (the folder name). */
  name: string;
  format: DatasetFormat;
  /** Where it was read from (folder path), for reports. */
  source: string;
  ratings: RatingsTable;
  /** Dense user index -> the dataset's own user id. */
  userIds: Uint32Array;
  /** The catalog; a movie's position here is its item index. Movies with no ratings are included. */
  movies: Movie[];
  /** Rating scale of the source, e.g. {min: 0.5, max: 5, step: 0.5}. */
  ratingScale: { min: number; max: number; step: number };
  /** True when the ratings were generated (reference 000's synthetic ratings), not observed. */
  syntheticRatings: boolean;
  /** Official splits shipped with the data (ml-100k u1..u5, ua, ub), by name. */
  officialSplits: Record<string, Split>;
  summary: IngestSummary;
  /** Demographics where the source has them (ml-100k u.user, ml-1m users.dat), by dense user index. */
  userProfiles?: UserProfile[];
  /** The TMDB join, when `--tmdb` was given (or the source is tmdb-5000 itself). */
  tmdbJoin?: { source: string; joined: number; byLink: number; byTitleYear: number };
  /** Posters attached from a `--posters` folder (`linked`: TMDB ids taken from its links.csv). */
  posters?: { source: string; attached: number; filesSeen: number; linked: number };
}

/** One user's demographics as the source gives them; fields it lacks are null. */
export interface UserProfile {
  userId: number;
  gender: string | null;
  age: number | null;
  occupation: string | null;
  zipCode: string | null;
}
