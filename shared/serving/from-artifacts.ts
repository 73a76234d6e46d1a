/**
 * Builds a `ServingModel` from a verified artifact version (shared/artifacts/loader.ts). The edge
 * calls it on R2, training-side tests and evaluation on a local store: one decoding path.
 */
import { type Matrix, matrixToFloat32, neighborScoresFloat32, type Vector } from '../artifacts/codecs.ts';
import type { ArtifactVersion } from '../artifacts/loader.ts';
import { checkVersionIndexRanges } from '../artifacts/ranges.ts';
import { ARTIFACT_FILES, type ArtifactName } from '../artifacts/spec.ts';
import { ReelrankError } from '../errors.ts';
import { checkImplicitConfig, type ImplicitConfig } from '../kernels/implicit.ts';
import { type Int8RowMatrix, quantizeRowsInt8 } from '../kernels/int8.ts';
import { type CatalogColumns, MovieCatalog } from './catalog.ts';
import { attachLearnedRanking } from './ranker.ts';
import {
  createServingModel,
  type NeighborLists,
  type RankingParts,
  type ServedMovie,
  type ServingModel,
  type ServingOptions,
  type SimilarChannel,
} from './model.ts';

/** A matrix as int8-per-row: as stored when int8, quantized once at load otherwise. */
export function toInt8Rows(matrix: Matrix): Int8RowMatrix {
  if (matrix.dtype === 'int8')
    return { rows: matrix.rows, cols: matrix.cols, values: matrix.values, scales: matrix.scales };
  if (matrix.cols === 0)
    return { rows: matrix.rows, cols: 0, values: new Int8Array(0), scales: new Float32Array(matrix.rows) };
  const q = quantizeRowsInt8(matrixToFloat32(matrix), matrix.cols);
  return { ...q, rows: matrix.rows };
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/**
 * catalog.json: the header (rating scale, global mean, genre lists) of a columns catalog, or, in
 * versions before the columns, the movies themselves (an array, or `{ movies: [...] }`).
 */
function parseCatalog(
  raw: unknown,
  version: string,
): { movies: ServedMovie[] | null; genreSets: string[][] | null; meta: Record<string, unknown> } {
  const meta = Array.isArray(raw) ? {} : record(raw);
  const list = Array.isArray(raw) ? raw : meta.movies;
  if (list === undefined && meta.layout === 'columns') {
    const sets = meta.genreSets;
    if (
      !Array.isArray(sets) ||
      !sets.every((set) => Array.isArray(set) && set.every((g) => typeof g === 'string'))
    ) {
      throw new ReelrankError(
        'artifact_format',
        `catalog.json of version ${version}: genreSets must be an array of genre lists (arrays of strings), got ${JSON.stringify(sets)?.slice(0, 120)}`,
      );
    }
    return { movies: null, genreSets: sets as string[][], meta };
  }
  if (!Array.isArray(list)) {
    throw new ReelrankError(
      'artifact_format',
      `catalog.json of version ${version} must be {layout: 'columns', genreSets: [...]}, an array of movies or {movies: [...]}, got ${typeof raw === 'object' && raw !== null ? `an object with keys ${Object.keys(raw).join(', ') || '(none)'}` : typeof raw}`,
    );
  }
  // One frozen genres array per distinct combination (a catalog has a few hundred, not one per
  // movie): at 87k movies that is ~87k arrays and their strings less in the isolate's heap.
  const genreLists = new Map<string, string[]>();
  const sharedGenres = (raw: unknown): string[] => {
    const genres = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : [];
    const key = genres.join('\u0000');
    let shared = genreLists.get(key);
    if (!shared) {
      shared = Object.freeze(genres) as string[];
      genreLists.set(key, shared);
    }
    return shared;
  };
  const movies = list.map((entry: unknown, i: number): ServedMovie => {
    const m = record(entry);
    const movieId = num(m.movieId) ?? num(m.id);
    if (movieId === undefined || typeof m.title !== 'string') {
      throw new ReelrankError(
        'artifact_format',
        `catalog.json of version ${version}: entry ${i} needs a numeric movieId and a string title, got ${JSON.stringify(entry)?.slice(0, 120)}`,
      );
    }
    return {
      movieId,
      title: m.title,
      year: num(m.year) ?? null,
      genres: sharedGenres(m.genres),
      tmdbId: num(m.tmdbId) ?? null,
      posterPath: typeof m.posterPath === 'string' ? m.posterPath : null,
      popularity: num(m.popularity),
      ratingCount: num(m.ratingCount),
      meanRating: num(m.meanRating) ?? null,
    };
  });
  return { movies, genreSets: null, meta };
}

/** The column files a columns catalog cannot do without (tmdb ids and poster paths are optional). */
const CATALOG_COLUMN_FILES = [
  'catalogTitles',
  'catalogYears',
  'catalogGenres',
  'catalogRatingCounts',
  'catalogMeanRatings',
] as const;

type CatalogColumnFiles = Omit<CatalogColumns, 'movieIds' | 'genreSets' | 'popularity'>;

/** A vector of one of the given element types; `artifact_format` naming the file otherwise. */
async function typedVector<T extends Vector>(
  version: ArtifactVersion,
  ref: ArtifactName,
  expected: string,
  accept: (vector: Vector) => vector is T,
): Promise<T> {
  const vector = await version.vector(ref);
  if (!accept(vector)) {
    throw new ReelrankError(
      'artifact_format',
      `File ${ARTIFACT_FILES[ref].path} of version ${version.version} is a ${version.entry(ref).dtype} vector, expected ${expected}.`,
    );
  }
  return vector;
}

/**
 * The catalog_* column files, fetched alongside everything else (the manifest says whether the
 * version has them, before catalog.json is read); null for versions before the columns.
 */
async function loadCatalogColumns(version: ArtifactVersion): Promise<CatalogColumnFiles | null> {
  if (!CATALOG_COLUMN_FILES.some((f) => version.has(f))) return null;
  const missing = CATALOG_COLUMN_FILES.filter((f) => !version.has(f));
  if (missing.length > 0) {
    throw new ReelrankError(
      'artifact_missing',
      `version ${version.version} has catalog columns but not ${missing.map((f) => ARTIFACT_FILES[f].path).join(', ')}: a columns catalog needs all of ${CATALOG_COLUMN_FILES.map((f) => ARTIFACT_FILES[f].path).join(', ')}`,
    );
  }
  const [titles, years, genreSetOf, ratingCounts, meanRatings, tmdbIds, posterPaths] = await Promise.all([
    version.strings('catalogTitles'),
    typedVector(version, 'catalogYears', 'uint16', (v): v is Uint16Array => v instanceof Uint16Array),
    typedVector(
      version,
      'catalogGenres',
      'uint16 or uint32',
      (v): v is Uint16Array | Uint32Array => v instanceof Uint16Array || v instanceof Uint32Array,
    ),
    typedVector(version, 'catalogRatingCounts', 'uint32', (v): v is Uint32Array => v instanceof Uint32Array),
    typedVector(
      version,
      'catalogMeanRatings',
      'float32',
      (v): v is Float32Array => v instanceof Float32Array,
    ),
    version.has('catalogTmdbIds') ? version.ids('catalogTmdbIds') : null,
    version.has('catalogPosterPaths') ? version.strings('catalogPosterPaths') : null,
  ]);
  return { titles, years, genreSetOf, ratingCounts, meanRatings, tmdbIds, posterPaths };
}

/**
 * The served catalog: catalog.json's movie objects (versions before the columns), or the columns
 * checked against the item ids (one entry per item, genre indexes inside genreSets).
 */
function catalogOf(
  version: string,
  parsed: ReturnType<typeof parseCatalog>,
  files: CatalogColumnFiles | null,
  itemIds: Uint32Array,
  popularity: Float32Array,
): MovieCatalog {
  if (parsed.movies) {
    if (files) {
      throw new ReelrankError(
        'artifact_format',
        `version ${version} has catalog columns and movies in catalog.json: one catalog, not two`,
      );
    }
    return MovieCatalog.fromMovies(parsed.movies);
  }
  if (!files) {
    throw new ReelrankError(
      'artifact_missing',
      `version ${version}: catalog.json has layout 'columns' but the version has no ${CATALOG_COLUMN_FILES.map((f) => ARTIFACT_FILES[f].path).join(', ')}`,
    );
  }
  const genreSets = parsed.genreSets ?? [];
  const lengths: [ArtifactName, number][] = [
    ['catalogTitles', files.titles.length],
    ['catalogYears', files.years.length],
    ['catalogGenres', files.genreSetOf.length],
    ['catalogRatingCounts', files.ratingCounts.length],
    ['catalogMeanRatings', files.meanRatings.length],
  ];
  if (files.tmdbIds) lengths.push(['catalogTmdbIds', files.tmdbIds.length]);
  if (files.posterPaths) lengths.push(['catalogPosterPaths', files.posterPaths.length]);
  for (const [ref, length] of lengths) {
    if (length !== itemIds.length) {
      throw new ReelrankError(
        'artifact_invalid',
        `version ${version}: ${ARTIFACT_FILES[ref].path} has ${length} entries, expected ${itemIds.length} (item_ids)`,
      );
    }
  }
  const sets = genreSets.length;
  const setOf = files.genreSetOf;
  for (let i = 0; i < setOf.length; i++) {
    if (setOf[i]! >= sets) {
      throw new ReelrankError(
        'artifact_corrupt',
        `version ${version}: ${ARTIFACT_FILES.catalogGenres.path}[${i}] = ${setOf[i]}, but catalog.json has ${sets} genreSets`,
        { file: ARTIFACT_FILES.catalogGenres.path },
      );
    }
  }
  return MovieCatalog.fromColumns({ ...files, movieIds: itemIds, genreSets, popularity });
}

const NEIGHBOR_FILES: Readonly<
  Record<
    SimilarChannel,
    'neighborsContent' | 'neighborsVisual' | 'neighborsCollaborative' | 'neighborsHybrid'
  >
> = Object.freeze({
  content: 'neighborsContent',
  visual: 'neighborsVisual',
  collaborative: 'neighborsCollaborative',
  hybrid: 'neighborsHybrid',
});

const RANK_FILES = ['rankItemFactors', 'rankUserFactors', 'rankGram'] as const;

/** trainingConfig.ranking -> the fold-in config; throws `artifact_invalid` naming the bad field. */
function rankingConfig(raw: unknown, version: string, ratingMax: number): ImplicitConfig {
  const r = record(raw);
  const config = {
    alpha: num(r.alpha) ?? Number.NaN,
    lambda: num(r.lambda) ?? Number.NaN,
    confidence: r.confidence as ImplicitConfig['confidence'],
    ratingMax: num(r.ratingMax) ?? ratingMax,
    regExponent: num(r.regExponent) ?? 0,
  };
  try {
    return checkImplicitConfig(config);
  } catch (error) {
    throw new ReelrankError(
      'artifact_invalid',
      `version ${version}: trainingConfig.ranking is invalid (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** The ranking parts of a version: all three rank_* files, or none (older versions). */
async function loadRanking(
  version: ArtifactVersion,
  rawConfig: unknown,
  ratingMax: number,
): Promise<RankingParts | null> {
  const present = RANK_FILES.filter((f) => version.has(f));
  if (present.length === 0) return null;
  if (present.length < RANK_FILES.length) {
    throw new ReelrankError(
      'artifact_invalid',
      `version ${version.version} has ${present.join(', ')} but not ${RANK_FILES.filter((f) => !present.includes(f)).join(', ')}: the ranking channel needs all of ${RANK_FILES.join(', ')}`,
    );
  }
  const config = rankingConfig(rawConfig, version.version, ratingMax);
  const [items, users, gram] = await Promise.all(RANK_FILES.map((f) => version.matrix(f)));
  if (users!.cols !== items!.cols || gram!.rows !== items!.cols || gram!.cols !== items!.cols) {
    throw new ReelrankError(
      'artifact_invalid',
      `version ${version.version}: rank factors disagree: items [${items!.rows}, ${items!.cols}], users [${users!.rows}, ${users!.cols}], gram [${gram!.rows}, ${gram!.cols}]; expected equal k and a k x k gram`,
    );
  }
  return {
    itemFactors: toInt8Rows(items!),
    userFactors: matrixToFloat32(users!),
    gram: Float64Array.from(matrixToFloat32(gram!)),
    config,
  };
}

/**
 * Reads every file serving needs (in parallel, each verified by the loader) and builds the model.
 * The global mean, rating scale and fold-in λ come from the manifest's trainingConfig (or metrics,
 * or catalog.json's top level); the global mean falls back to the catalog's rating-weighted mean.
 */
export async function loadServingModel(
  version: ArtifactVersion,
  options: ServingOptions = {},
): Promise<ServingModel> {
  const optional = <T>(has: boolean, load: () => Promise<T>): Promise<T | null> =>
    has ? load() : Promise.resolve(null);
  const neighborEntries = Object.entries(NEIGHBOR_FILES) as [
    SimilarChannel,
    (typeof NEIGHBOR_FILES)[SimilarChannel],
  ][];
  const trained = record(version.manifest.trainingConfig);
  const neural = record(trained.neural);
  if (neural.factorForm === false) {
    // A tower model's version (ncf-*, deep-hybrid, title-*): say so instead of failing later on
    // the first missing factor file.
    throw new ReelrankError(
      'artifact_missing',
      `version ${version.manifest.version} holds the neural model '${String(trained.model)}' (${String(neural.model)}) and no factor form (no item_factors.bin): the edge serves factor versions (svdpp, mf-sgd, mf-als, two-stage).`,
    );
  }
  const [
    catalogRaw,
    catalogColumns,
    itemIds,
    userIds,
    itemFactors,
    userFactors,
    itemBias,
    userBias,
    popularity,
    seen,
    topRated,
    content,
    ranking,
    ...neighborLists
  ] = await Promise.all([
    version.json('catalog'),
    loadCatalogColumns(version),
    version.ids('itemIds'),
    version.ids('userIds'),
    version.matrix('itemFactors'),
    version.matrix('userFactors'),
    version.floatVector('itemBias'),
    version.floatVector('userBias'),
    version.floatVector('popularity'),
    version.csr('seen'),
    optional(version.has('userTopRated'), () => version.csr('userTopRated')),
    optional(version.has('contentEmbeddings'), () => version.matrix('contentEmbeddings')),
    // f(r) = r / max needs the top of the rating scale when the ranking config does not name it.
    loadRanking(version, trained.ranking, num(record(trained.ratingScale).max) ?? 5),
    ...neighborEntries.map(([, file]) => optional(version.has(file), () => version.neighbors(file))),
  ]);
  // Hashes match; the indexes inside must fit too (a neighbour 999999 would read past the arrays).
  await checkVersionIndexRanges(version);
  const parsed = parseCatalog(catalogRaw, version.version);
  const catalog = catalogOf(version.version, parsed, catalogColumns, itemIds, popularity);
  const meta = parsed.meta;
  const config = {
    ...record(meta),
    ...record(version.manifest.metrics),
    ...record(version.manifest.trainingConfig),
  };
  const scale = record(config.ratingScale);
  const ratingScale = { min: num(scale.min) ?? 0.5, max: num(scale.max) ?? 5, step: num(scale.step) ?? 0.5 };
  let globalMean = num(config.globalMean) ?? num(config.mu);
  if (globalMean === undefined) {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < catalog.length; i++) {
      const mean = catalog.meanRatings[i]!;
      const ratings = catalog.ratingCounts[i]!;
      if (!Number.isNaN(mean) && ratings > 0) {
        sum += mean * ratings;
        count += ratings;
      }
    }
    globalMean = count > 0 ? sum / count : (ratingScale.min + ratingScale.max) / 2;
  }
  const neighbors: Partial<Record<SimilarChannel, NeighborLists>> = {};
  neighborEntries.forEach(([channel], n) => {
    const lists = neighborLists[n];
    if (lists)
      neighbors[channel] = { width: lists.k, indexes: lists.ids, scores: neighborScoresFloat32(lists) };
  });
  if (userFactors.cols !== itemFactors.cols) {
    throw new ReelrankError(
      'artifact_invalid',
      `version ${version.version}: user factors have ${userFactors.cols} columns, item factors ${itemFactors.cols}`,
    );
  }
  const model = createServingModel(
    {
      version: version.version,
      movies: catalog,
      ratingScale,
      globalMean,
      itemIds,
      userIds,
      itemFactors: toInt8Rows(itemFactors),
      userFactors: matrixToFloat32(userFactors),
      itemBias,
      userBias,
      popularity,
      seen,
      topRated,
      contentEmbeddings: content ? toInt8Rows(content) : null,
      neighbors,
      foldInLambda: num(config.foldInLambda) ?? 1,
      ranking,
    },
    options,
  );
  // The sparse item-item channel and the learned ranking stage, when the version has them.
  await attachLearnedRanking(version, model);
  return model;
}
