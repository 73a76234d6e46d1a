import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Movie } from '../../shared/catalog.ts';
import { ReelrankError } from '../../shared/errors.ts';
import { createRng, type Rng } from '../../shared/random.ts';
import type { Dataset, RatingsTable } from './dataset.ts';
import { blankMovie } from './titles.ts';

export interface SyntheticRatingsOptions {
  users: number;
  minPerUser?: number;
  maxPerUser?: number;
  seed: number;
}

/** Round to the nearest half star and clip to [min, max]. */
function toHalfStars(value: number, min: number, max: number): number {
  const rounded = Math.round(value * 2) / 2;
  return Math.min(max, Math.max(min, rounded));
}

/**
 * Reference 000's synthetic ratings for a catalog that has none (tmdb-5000 alone): each of
 * `users` users rates between `minPerUser` and `maxPerUser` distinct movies drawn uniformly; the
 * rating is driven by the movie's TMDB vote average (0-10 halved to 0-5) and its popularity
 * (log popularity, standardised), plus a per-user bias and noise, rounded to half stars and
 * clipped to 1-5. Deterministic by seed. Movies without votes count as the catalog's mean.
 *
 * @example syntheticRatings(tmdbMovies, { users: 500, seed: 42 }) // ~8,750 ratings
 */
export function syntheticRatings(
  movies: readonly Movie[],
  { users, minPerUser = 5, maxPerUser = 30, seed }: SyntheticRatingsOptions,
): { ratings: RatingsTable; userIds: Uint32Array } {
  const movieCount = movies.length;
  if (!Number.isInteger(users) || users < 1) {
    throw new ReelrankError('bad_input', `synthetic users must be a positive integer, got ${users}`);
  }
  if (!(minPerUser >= 1 && maxPerUser >= minPerUser && maxPerUser <= movieCount)) {
    throw new ReelrankError(
      'bad_input',
      `synthetic ratings per user must satisfy 1 <= minPerUser (${minPerUser}) <= maxPerUser (${maxPerUser}) <= movies (${movieCount})`,
    );
  }
  // Per-movie base rating (vote average / 2) and standardised log popularity.
  const voted = movies.filter((m) => (m.voteCount ?? 0) > 0 && m.voteAverage != null);
  const meanVote = voted.length > 0 ? voted.reduce((s, m) => s + m.voteAverage!, 0) / voted.length : 6;
  const base = new Float64Array(movieCount);
  const logPopularity = new Float64Array(movieCount);
  movies.forEach((m, j) => {
    base[j] = ((m.voteCount ?? 0) > 0 && m.voteAverage != null ? m.voteAverage : meanVote) / 2;
    logPopularity[j] = Math.log1p(Math.max(0, m.tmdbPopularity ?? 0));
  });
  const popularityZ = standardise(logPopularity);

  const rng = createRng(seed);
  const counts = new Uint32Array(users);
  let total = 0;
  for (let u = 0; u < users; u++) {
    counts[u] = minPerUser + rng.int(maxPerUser - minPerUser + 1);
    total += counts[u]!;
  }
  const userIndex = new Uint32Array(total);
  const itemIndex = new Uint32Array(total);
  const rating = new Float32Array(total);
  const seenBy = new Int32Array(movieCount).fill(-1); // seenBy[j] === u: u already rated j
  let row = 0;
  for (let u = 0; u < users; u++) {
    const userBias = rng.normal() * 0.3;
    for (let k = 0; k < counts[u]!; k++) {
      let j = rng.int(movieCount);
      while (seenBy[j] === u) j = rng.int(movieCount);
      seenBy[j] = u;
      userIndex[row] = u;
      itemIndex[row] = j;
      rating[row] = toHalfStars(base[j]! + 0.25 * popularityZ[j]! + userBias + rng.normal() * 0.5, 1, 5);
      row++;
    }
  }
  const userIds = new Uint32Array(users);
  for (let u = 0; u < users; u++) userIds[u] = u + 1;
  return {
    ratings: { length: total, userIndex, itemIndex, rating, timestamp: new Uint32Array(total) },
    userIds,
  };
}

function standardise(values: Float64Array): Float64Array {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length || 1;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2;
  const sd = Math.sqrt(variance / (values.length || 1)) || 1;
  return values.map((v) => (v - mean) / sd);
}

/** The 18 MovieLens genres, used for synthetic movies. */
export const SYNTHETIC_GENRES = Object.freeze([
  'Action',
  'Adventure',
  'Animation',
  'Children',
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
] as const);

export interface SyntheticWorldOptions {
  movies: number;
  users: number;
  /** Exact number of ratings generated. */
  ratings: number;
  seed: number;
  /** Zipf exponent of movie popularity (weight of the movie at rank r is (r + 10)^-exponent). */
  popularityExponent?: number;
  /** Probability that a rating is drawn from one of the user's two favourite genres. */
  tasteFocus?: number;
}

/**
 * A generated world with planted structure, for scale benchmarks and for tests that need known
 * ground truth: every movie has one genre and a latent quality; every user has a bias and two
 * favourite genres; movie popularity follows a power law. A user's ratings come `tasteFocus` of
 * the time from their favourite genres, and rate those +0.6 higher (others -0.2), so a model that
 * learns the taste structure beats popularity. Ratings are generated user by user, streaming:
 * `forEachRating` never holds more than one user's ratings, so 20M rows cost no memory.
 */
export class SyntheticWorld {
  readonly options: Required<SyntheticWorldOptions>;
  readonly movies: Movie[];
  /** Genre index (into SYNTHETIC_GENRES) of each movie. */
  readonly movieGenre: Uint8Array;
  readonly movieQuality: Float32Array;
  /** Two favourite genres per user: [2u] and [2u + 1]. */
  readonly userFavouriteGenres: Uint8Array;
  readonly userBias: Float32Array;
  /** Ratings per user (sums to options.ratings exactly). */
  readonly ratingsPerUser: Uint32Array;
  private readonly globalCdf: Float64Array;
  private readonly genreMovies: Uint32Array[];
  private readonly genreCdfs: Float64Array[];

  constructor(options: SyntheticWorldOptions) {
    const { movies, users, ratings, seed, popularityExponent = 0.9, tasteFocus = 0.7 } = options;
    this.options = { movies, users, ratings, seed, popularityExponent, tasteFocus };
    for (const [name, value] of Object.entries({ movies, users, ratings })) {
      if (!Number.isInteger(value) || value < 1) {
        throw new ReelrankError(
          'bad_input',
          `synthetic world ${name} must be a positive integer, got ${value}`,
        );
      }
    }
    if (ratings > users * Math.floor(movies / 2)) {
      throw new ReelrankError(
        'bad_input',
        `synthetic world: ${ratings} ratings cannot fit ${users} users rating at most half of ${movies} movies each`,
      );
    }
    const rng = createRng(seed);
    const genreCount = SYNTHETIC_GENRES.length;
    this.movieGenre = new Uint8Array(movies);
    this.movieQuality = new Float32Array(movies);
    this.movies = [];
    // Popularity rank is a random permutation, so popular movies are spread over genres.
    const weight = new Float64Array(movies);
    const rank = new Uint32Array(movies);
    for (let j = 0; j < movies; j++) rank[j] = j;
    for (let j = movies - 1; j > 0; j--) {
      const k = rng.int(j + 1);
      const t = rank[j]!;
      rank[j] = rank[k]!;
      rank[k] = t;
    }
    for (let j = 0; j < movies; j++) {
      // Skewed genre mix (Drama and Comedy most common), like the real catalogs.
      const genre = Math.min(genreCount - 1, Math.floor(genreCount * rng.next() ** 1.6));
      this.movieGenre[j] = genre;
      this.movieQuality[j] = rng.normal() * 0.5;
      weight[j] = (rank[j]! + 10) ** -popularityExponent;
      const movie = blankMovie(j + 1, `Synthetic Movie ${j + 1}`, 1950 + rng.int(70));
      movie.genres = [SYNTHETIC_GENRES[genre]!];
      this.movies.push(movie);
    }
    this.globalCdf = cumulative(weight, null);
    this.genreMovies = [];
    this.genreCdfs = [];
    for (let g = 0; g < genreCount; g++) {
      const members: number[] = [];
      for (let j = 0; j < movies; j++) if (this.movieGenre[j] === g) members.push(j);
      const list = Uint32Array.from(members);
      this.genreMovies.push(list);
      this.genreCdfs.push(cumulative(weight, list));
    }
    this.userFavouriteGenres = new Uint8Array(users * 2);
    this.userBias = new Float32Array(users);
    const raw = new Float64Array(users);
    let rawTotal = 0;
    for (let u = 0; u < users; u++) {
      const first = rng.int(genreCount);
      let second = rng.int(genreCount - 1);
      if (second >= first) second++;
      this.userFavouriteGenres[2 * u] = first;
      this.userFavouriteGenres[2 * u + 1] = second;
      this.userBias[u] = rng.normal() * 0.4;
      // Log-normal activity: a few heavy raters, many light ones (as in MovieLens).
      raw[u] = Math.exp(rng.normal() * 0.9);
      rawTotal += raw[u]!;
    }
    this.ratingsPerUser = apportion(raw, rawTotal, ratings, Math.floor(movies / 2), rng);
  }

  /**
   * Call `onRating(userIndex, itemIndex, rating, timestamp)` for every rating, user by user.
   * The same options give the same sequence.
   */
  forEachRating(onRating: (user: number, item: number, rating: number, timestamp: number) => void): void {
    const stream = this.ratingStream();
    for (let u = 0; u < this.options.users; u++) stream(u, onRating);
  }

  /**
   * A per-user generator: call it for users 0, 1, 2, ... in order (the random stream is shared,
   * so the order is what makes the sequence reproducible).
   */
  private ratingStream(): (
    u: number,
    onRating: (user: number, item: number, rating: number, timestamp: number) => void,
  ) => void {
    const { movies, seed, tasteFocus } = this.options;
    const rng = createRng(seed ^ 0x5bd1e995);
    const seenBy = new Int32Array(movies).fill(-1);
    return (u, onRating) => {
      const count = this.ratingsPerUser[u]!;
      const favA = this.userFavouriteGenres[2 * u]!;
      const favB = this.userFavouriteGenres[2 * u + 1]!;
      let timestamp = 946684800 + rng.int(600_000_000); // between 2000 and 2019
      for (let k = 0; k < count; k++) {
        let item = -1;
        for (let attempt = 0; attempt < 20 && item < 0; attempt++) {
          let candidate: number;
          if (rng.next() < tasteFocus) {
            const g = rng.next() < 0.5 ? favA : favB;
            const members = this.genreMovies[g]!;
            if (members.length === 0) continue;
            candidate = members[sampleCdf(this.genreCdfs[g]!, rng)]!;
          } else {
            candidate = sampleCdf(this.globalCdf, rng);
          }
          if (seenBy[candidate] !== u) item = candidate;
        }
        // Very heavy raters can exhaust the popular head: walk to the next unseen movie.
        if (item < 0) {
          item = rng.int(movies);
          while (seenBy[item] === u) item = (item + 1) % movies;
        }
        seenBy[item] = u;
        const genre = this.movieGenre[item]!;
        const affinity = genre === favA || genre === favB ? 0.6 : -0.2;
        const value = 3.5 + this.userBias[u]! + this.movieQuality[item]! + affinity + rng.normal() * 0.7;
        timestamp += 1 + rng.int(3600);
        onRating(u, item, toHalfStars(value, 0.5, 5), timestamp);
      }
    };
  }

  /**
   * Write the world as a MovieLens CSV folder (`movies.csv`, `ratings.csv`, CRLF like the real
   * release), streamed: rows are formatted in blocks of ~64k and appended, never held all at once.
   */
  async writeMovieLensCsv(
    dir: string,
    onProgress?: (rowsWritten: number, totalRows: number) => void,
  ): Promise<{ ratingsFile: string; moviesFile: string; bytes: number }> {
    const moviesFile = join(dir, 'movies.csv');
    const ratingsFile = join(dir, 'ratings.csv');
    const encoder = new TextEncoder();
    let bytes = 0;
    const movieLines = ['movieId,title,genres'];
    for (const m of this.movies) movieLines.push(`${m.movieId},${m.title} (${m.year}),${m.genres.join('|')}`);
    const moviesBytes = encoder.encode(`${movieLines.join('\r\n')}\r\n`);
    const moviesHandle = await open(moviesFile, 'w');
    try {
      await moviesHandle.write(moviesBytes);
      bytes += moviesBytes.length;
    } finally {
      await moviesHandle.close();
    }
    const handle = await open(ratingsFile, 'w');
    try {
      // Rows are formatted straight into a byte buffer (no string per row: at 20M rows, string
      // building spent most of its time in the garbage collector).
      const out = new RowBytes(1 << 20);
      out.text('userId,movieId,rating,timestamp\r\n');
      // Ratings are half stars: their text comes from a table.
      const ratingBytes = Array.from({ length: 11 }, (_, h) => encoder.encode((h / 2).toFixed(1)));
      let written = 0;
      const append = (user: number, item: number, rating: number, timestamp: number) => {
        out.uint(user + 1);
        out.byte(44);
        out.uint(item + 1);
        out.byte(44);
        out.bytes(ratingBytes[Math.round(rating * 2)]!);
        out.byte(44);
        out.uint(timestamp);
        out.byte(13);
        out.byte(10);
        written++;
      };
      const flush = async () => {
        const data = out.take();
        await handle.write(data);
        bytes += data.length;
        onProgress?.(written, this.options.ratings);
      };
      const stream = this.ratingStream();
      for (let u = 0; u < this.options.users; u++) {
        stream(u, append);
        if (out.length > out.capacity - 65536) await flush();
      }
      await flush();
    } finally {
      await handle.close();
    }
    return { ratingsFile, moviesFile, bytes };
  }
}

/**
 * A byte buffer for CSV rows: appends ASCII integers and bytes without creating strings. It
 * grows when one user's rows exceed it (heavy raters), and `take()` hands out a view of the content
 * (valid until the next append: the writer awaits each write before generating more).
 */
class RowBytes {
  private buffer: Uint8Array;
  length = 0;
  private readonly digits = new Uint8Array(20);

  constructor(capacity: number) {
    this.buffer = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.buffer.length;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const bigger = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
    bigger.set(this.buffer.subarray(0, this.length));
    this.buffer = bigger;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buffer[this.length++] = b;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buffer.set(b, this.length);
    this.length += b.length;
  }

  text(ascii: string): void {
    this.reserve(ascii.length);
    for (let i = 0; i < ascii.length; i++) this.buffer[this.length++] = ascii.charCodeAt(i);
  }

  /** A non-negative integer in decimal. */
  uint(value: number): void {
    let n = 0;
    let v = value;
    do {
      this.digits[n++] = 48 + (v % 10);
      v = Math.floor(v / 10);
    } while (v > 0);
    this.reserve(n);
    while (n > 0) this.buffer[this.length++] = this.digits[--n]!;
  }

  /** The bytes so far (valid until the next append), and reset. */
  take(): Uint8Array {
    const view = this.buffer.subarray(0, this.length);
    this.length = 0;
    return view;
  }
}

/** Cumulative weights (over `members` when given), normalised to end at 1. */
function cumulative(weight: Float64Array, members: Uint32Array | null): Float64Array {
  const n = members ? members.length : weight.length;
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += weight[members ? members[i]! : i]!;
    cdf[i] = sum;
  }
  for (let i = 0; i < n; i++) cdf[i]! /= sum;
  return cdf;
}

/** Index drawn with probability proportional to the CDF's steps (binary search). */
function sampleCdf(cdf: Float64Array, rng: Rng): number {
  const x = rng.next();
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Integer counts proportional to `raw`, each in [1, cap], summing exactly to `total`. */
function apportion(raw: Float64Array, rawTotal: number, total: number, cap: number, rng: Rng): Uint32Array {
  const n = raw.length;
  const counts = new Uint32Array(n);
  let sum = 0;
  for (let u = 0; u < n; u++) {
    counts[u] = Math.min(cap, Math.max(1, Math.floor((raw[u]! / rawTotal) * total)));
    sum += counts[u]!;
  }
  // Fix the remainder one rating at a time on random users that have room.
  while (sum < total) {
    const u = rng.int(n);
    if (counts[u]! < cap) {
      counts[u]!++;
      sum++;
    }
  }
  while (sum > total) {
    const u = rng.int(n);
    if (counts[u]! > 1) {
      counts[u]!--;
      sum--;
    }
  }
  return counts;
}

/** Build a SyntheticWorld (see the class). */
export function generateSyntheticWorld(options: SyntheticWorldOptions): SyntheticWorld {
  return new SyntheticWorld(options);
}

/** The world as an in-memory Dataset (for small worlds: tests and examples). */
export function syntheticWorldDataset(world: SyntheticWorld): Dataset {
  const n = world.options.ratings;
  const userIndex = new Uint32Array(n);
  const itemIndex = new Uint32Array(n);
  const rating = new Float32Array(n);
  const timestamp = new Uint32Array(n);
  let row = 0;
  world.forEachRating((u, j, r, t) => {
    userIndex[row] = u;
    itemIndex[row] = j;
    rating[row] = r;
    timestamp[row] = t;
    row++;
  });
  const userIds = new Uint32Array(world.options.users);
  for (let u = 0; u < userIds.length; u++) userIds[u] = u + 1;
  return {
    name: `synthetic-${world.options.movies}x${world.options.users}x${n}`,
    format: 'synthetic',
    source: `generateSyntheticWorld(seed ${world.options.seed})`,
    ratings: { length: n, userIndex, itemIndex, rating, timestamp },
    userIds,
    movies: world.movies.map((m) => ({ ...m, genres: m.genres.slice() })),
    ratingScale: { min: 0.5, max: 5, step: 0.5 },
    syntheticRatings: true,
    officialSplits: {},
    summary: { skippedRows: 0, issues: [], notes: [] },
  };
}
