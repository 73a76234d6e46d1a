import type { Movie } from '../../shared/catalog.ts';
import { textModelToJson } from '../../shared/content/text-model.ts';
import { ReelrankError } from '../../shared/errors.ts';
import { sha256Hex } from '../../shared/hash.ts';
import type { VersionWriter } from '../artifacts/writer.ts';
import type { FittedText } from '../content/index.ts';
import type { Dataset } from '../data/dataset.ts';

/**
 * The parts of a version that every trained model writes, whatever its kind (catalog, ids, seen
 * lists, content embeddings), and the result type of a training run. A module of its own so the
 * training pipeline (train.ts) and the neural version writer (models/neural/version.ts) both
 * import it without importing each other.
 */

export interface TrainResult {
  dir: string;
  version: string;
  metrics: Record<string, unknown>;
  seconds: number;
  /** Malformed input rows skipped while loading the dataset (also in the manifest). */
  skippedRows?: number;
}

/** A short content fingerprint of a dataset's ratings (hash of the hashes of its columns). */
export async function datasetFingerprint(dataset: Dataset): Promise<string> {
  const { ratings } = dataset;
  const parts = await Promise.all(
    [ratings.userIndex, ratings.itemIndex, ratings.rating, ratings.timestamp].map((a) =>
      sha256Hex(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)),
    ),
  );
  const movies = await sha256Hex(new TextEncoder().encode(dataset.movies.map((m) => m.movieId).join(',')));
  return `sha256:${(await sha256Hex(new TextEncoder().encode([...parts, movies].join(':')))).slice(0, 32)}`;
}

/**
 * Per-user CSR of item indexes from rows (sorted, distinct), and of each user's top-rated items
 * (rating descending, then item). Typed arrays throughout: at 32M ratings an object per rating
 * cost minutes and gigabytes.
 */
export function seenCsr(
  dataset: Dataset,
  topRatedPerUser: number,
): { seen: [Uint32Array, Uint32Array]; top: [Uint32Array, Uint32Array] } {
  const users = dataset.userIds.length;
  const { ratings } = dataset;
  const byUser = new Uint32Array(users + 1);
  for (let j = 0; j < ratings.length; j++) byUser[ratings.userIndex[j]! + 1]!++;
  let longest = 0;
  for (let u = 0; u < users; u++) {
    longest = Math.max(longest, byUser[u + 1]!);
    byUser[u + 1]! += byUser[u]!;
  }
  const cursor = byUser.slice(0, users);
  const items = new Uint32Array(ratings.length);
  const values = new Float32Array(ratings.length);
  for (let j = 0; j < ratings.length; j++) {
    const at = cursor[ratings.userIndex[j]!]!++;
    items[at] = ratings.itemIndex[j]!;
    values[at] = ratings.rating[j]!;
  }
  const seenOffsets = new Uint32Array(users + 1);
  const topOffsets = new Uint32Array(users + 1);
  const seenIndex = new Uint32Array(ratings.length);
  const topIndex = new Uint32Array(Math.min(ratings.length, users * topRatedPerUser));
  const sorted = new Uint32Array(longest);
  const order = new Uint32Array(longest);
  let seenCount = 0;
  let topCount = 0;
  for (let u = 0; u < users; u++) {
    const start = byUser[u]!;
    const n = byUser[u + 1]! - start;
    const list = sorted.subarray(0, n);
    list.set(items.subarray(start, start + n));
    list.sort();
    for (let t = 0; t < n; t++) if (t === 0 || list[t] !== list[t - 1]) seenIndex[seenCount++] = list[t]!;
    seenOffsets[u + 1] = seenCount;
    const ranked = order.subarray(0, n);
    for (let t = 0; t < n; t++) ranked[t] = start + t;
    ranked.sort((a, b) => values[b]! - values[a]! || items[a]! - items[b]!);
    for (let t = 0; t < Math.min(n, topRatedPerUser); t++) topIndex[topCount++] = items[ranked[t]!]!;
    topOffsets[u + 1] = topCount;
  }
  return {
    seen: [seenOffsets, seenIndex.slice(0, seenCount)],
    top: [topOffsets, topIndex.slice(0, topCount)],
  };
}

/** Per item: how many ratings the dataset has for it and their mean (NaN when it has none). */
export function catalogStats(dataset: Dataset): { ratingCounts: Uint32Array; meanRatings: Float32Array } {
  const items = dataset.movies.length;
  const ratingCounts = new Uint32Array(items);
  const sums = new Float64Array(items);
  for (let j = 0; j < dataset.ratings.length; j++) {
    const i = dataset.ratings.itemIndex[j]!;
    ratingCounts[i]!++;
    sums[i] = sums[i]! + dataset.ratings.rating[j]!;
  }
  const meanRatings = Float32Array.from(ratingCounts, (c, i) => (c > 0 ? sums[i]! / c : Number.NaN));
  return { ratingCounts, meanRatings };
}

/** What the catalog columns keep of a movie (its id is item_ids.u32, its popularity popularity.f32). */
export type CatalogMovie = Pick<Movie, 'title' | 'year' | 'genres' | 'tmdbId' | 'posterPath'>;

/**
 * The catalog as columns (shared/artifacts/spec.ts catalog_*, read by shared/serving/catalog.ts):
 * titles and poster paths as string columns, years uint16, one index per movie into the distinct
 * genre lists (which catalog.json holds with `header`), rating counts uint32, mean ratings float32,
 * TMDB ids uint32. Nothing the version holds elsewhere (movie ids, popularity) and no nulls: tmdb
 * ids and poster paths are left out when no movie has one. `movies` is in item order.
 */
export async function writeCatalog(
  writer: VersionWriter,
  movies: readonly CatalogMovie[],
  {
    ratingCounts,
    meanRatings,
    header = {},
  }: { ratingCounts: Uint32Array; meanRatings: Float32Array; header?: Record<string, unknown> },
): Promise<void> {
  const n = movies.length;
  if (ratingCounts.length !== n || meanRatings.length !== n) {
    throw new ReelrankError(
      'bad_input',
      `catalog: ${n} movies, but ${ratingCounts.length} rating counts and ${meanRatings.length} mean ratings`,
    );
  }
  const years = new Uint16Array(n);
  const setIndex = new Map<string, number>();
  const genreSets: string[][] = [];
  const setOf = new Uint32Array(n);
  let withTmdb = false;
  let withPoster = false;
  for (let i = 0; i < n; i++) {
    const movie = movies[i]!;
    const year = movie.year;
    if (year !== null && year > 0 && year < 65536 && Number.isInteger(year)) years[i] = year;
    const key = movie.genres.join('\u0000');
    let set = setIndex.get(key);
    if (set === undefined) {
      set = genreSets.length;
      genreSets.push([...movie.genres]);
      setIndex.set(key, set);
    }
    setOf[i] = set;
    const tmdbId = movie.tmdbId;
    if (tmdbId !== null) {
      if (!Number.isInteger(tmdbId) || tmdbId < 1 || tmdbId > 0xffffffff) {
        throw new ReelrankError(
          'bad_input',
          `catalog: movie ${i} ('${movie.title}') has tmdbId ${tmdbId}; expected an integer in 1..4294967295 or null`,
        );
      }
      withTmdb = true;
    }
    if (movie.posterPath) withPoster = true;
  }
  await writer.json('catalog', { ...header, layout: 'columns', genreSets });
  await writer.strings(
    'catalogTitles',
    movies.map((m) => m.title),
  );
  await writer.vector('catalogYears', years);
  await writer.vector('catalogGenres', genreSets.length <= 0x10000 ? Uint16Array.from(setOf) : setOf);
  await writer.vector('catalogRatingCounts', ratingCounts);
  await writer.vector('catalogMeanRatings', meanRatings);
  if (withTmdb)
    await writer.ids(
      'catalogTmdbIds',
      Uint32Array.from(movies, (m) => m.tmdbId ?? 0),
    );
  if (withPoster)
    await writer.strings(
      'catalogPosterPaths',
      movies.map((m) => m.posterPath ?? ''),
    );
}

/** Popularity in [0, 1]: log(1 + count) / log(1 + max count). */
export function popularityScores(counts: Uint32Array): Float32Array {
  // A loop, not Math.max(...counts): spreading a large catalog overflows the argument stack.
  let max = 1;
  for (const c of counts) if (c > max) max = c;
  return Float32Array.from(counts, (c) => Math.log1p(c) / Math.log1p(max));
}

/**
 * What every version holds whatever its model, so the edge can list, search, filter and exclude:
 * the catalog (catalog.json and its columns, with rating count and mean), item and user ids, popularity, the seen
 * and top-rated lists per user, and, with text embeddings, those embeddings and the text model.
 */
export async function writeCatalogParts(
  writer: VersionWriter,
  dataset: Dataset,
  { globalMean, counts, text }: { globalMean: number; counts: Uint32Array; text: FittedText | null },
): Promise<void> {
  const popularity = popularityScores(counts);
  const { seen, top } = seenCsr(dataset, 20);
  await writeCatalog(writer, dataset.movies, {
    ...catalogStats(dataset),
    header: { ratingScale: dataset.ratingScale, globalMean },
  });
  await writer.ids(
    'itemIds',
    Uint32Array.from(dataset.movies, (m) => m.movieId),
  );
  await writer.ids('userIds', dataset.userIds);
  await writer.vector('popularity', popularity);
  await writer.csr('seen', seen[0], seen[1]);
  await writer.csr('userTopRated', top[0], top[1]);
  if (text) {
    const dim = text.embeddings.length / dataset.movies.length;
    await writer.matrix('contentEmbeddings', text.embeddings, dataset.movies.length, dim, { dtype: 'int8' });
    await writer.json('textModel', textModelToJson(text.model));
  }
}
