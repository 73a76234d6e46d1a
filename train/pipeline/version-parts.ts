import type { Movie } from '../../shared/catalog.ts';
import { textModelToJson } from '../../shared/content/text-model.ts';
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

/** catalog.json entries: the movie plus popularity, rating count and mean rating. */
export function catalogEntries(movies: readonly Movie[], dataset: Dataset, popularity: Float32Array) {
  const count = new Uint32Array(movies.length);
  const sum = new Float64Array(movies.length);
  for (let j = 0; j < dataset.ratings.length; j++) {
    const i = dataset.ratings.itemIndex[j]!;
    count[i]!++;
    sum[i] = sum[i]! + dataset.ratings.rating[j]!;
  }
  return movies.map((m, i) => ({
    movieId: m.movieId,
    title: m.title,
    year: m.year,
    genres: m.genres,
    tmdbId: m.tmdbId,
    posterPath: m.posterPath,
    popularity: popularity[i]!,
    ratingCount: count[i]!,
    meanRating: count[i]! > 0 ? sum[i]! / count[i]! : null,
  }));
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
 * catalog.json (with popularity, rating count and mean), item and user ids, popularity, the seen
 * and top-rated lists per user, and, with text embeddings, those embeddings and the text model.
 */
export async function writeCatalogParts(
  writer: VersionWriter,
  dataset: Dataset,
  { globalMean, counts, text }: { globalMean: number; counts: Uint32Array; text: FittedText | null },
): Promise<void> {
  const popularity = popularityScores(counts);
  const { seen, top } = seenCsr(dataset, 20);
  await writer.json('catalog', {
    ratingScale: dataset.ratingScale,
    globalMean,
    movies: catalogEntries(dataset.movies, dataset, popularity),
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
