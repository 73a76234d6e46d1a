/**
 * The in-memory serving model: one loaded artifact version as typed arrays plus the lookups derived
 * from them once per load (id -> index maps, genre bits, popularity order, factor norms). Built the
 * same way by the edge (from R2) and by training-side tests and evaluation (from a local store),
 * so both score with the very same code.
 */
import { ReelrankError } from '../errors.ts';
import type { FilterAttributes } from '../kernels/filters.ts';
import { type Int8RowMatrix, matVecInt8 } from '../kernels/int8.ts';
import { type Int8SimdExports, SIMD_MAX_COLS, SimdInt8MatVec } from '../kernels/int8-simd.ts';
import type { ImplicitConfig } from '../kernels/implicit.ts';
import type { ItemItemLists } from '../kernels/sparse-item.ts';
import { MovieCatalog, type ServedMovie } from './catalog.ts';
import type { LearnedHook } from './scoring.ts';

export type { ServedMovie } from './catalog.ts';

/** Compressed sparse rows: row r is `indexes[offsets[r] .. offsets[r + 1])`. */
export interface Csr {
  offsets: Uint32Array;
  indexes: Uint32Array;
}

/** Precomputed top-M neighbours per item, row-major [items, width]; unused slots hold index 0xffffffff. */
export interface NeighborLists {
  width: number;
  indexes: Uint32Array;
  scores: Float32Array;
}

export const SIMILAR_CHANNELS = Object.freeze(['content', 'visual', 'collaborative', 'hybrid'] as const);
export type SimilarChannel = (typeof SIMILAR_CHANNELS)[number];
export const NO_NEIGHBOR = 0xffffffff;

/** What a version provides; everything the serving code needs and nothing platform-specific. */
export interface ServingParts {
  version: string;
  /**
   * The catalog in item order: columns (a version's catalog_* files) or movie objects (versions
   * before them, training-side models).
   */
  movies: readonly ServedMovie[] | MovieCatalog;
  ratingScale: { min: number; max: number; step: number };
  globalMean: number;
  itemIds: Uint32Array;
  userIds: Uint32Array;
  itemFactors: Int8RowMatrix;
  /** [users, dim] float32 (dequantized when stored quantized). */
  userFactors: Float32Array;
  itemBias: Float32Array;
  userBias: Float32Array;
  /** In [0, 1] per item. */
  popularity: Float32Array;
  seen: Csr;
  topRated: Csr | null;
  /** Text-content embeddings, any scale (cosines are computed from them). */
  contentEmbeddings: Int8RowMatrix | null;
  neighbors: Partial<Record<SimilarChannel, NeighborLists>>;
  /** Ridge strength for fold-in (the trainer's regularisation, scaled like its loss). */
  foldInLambda: number;
  /**
   * The ranking channel (implicit ALS factors) when the version has the rank_* files: it scores
   * the collaborative channel of recommendations; the rating factors above keep predicting
   * ratings. Absent (older versions): the rating factors score that channel, as before.
   */
  ranking?: RankingParts | null;
}

/** A version's ranking factors (rank_item_factors, rank_user_factors, rank_gram + their config). */
export interface RankingParts {
  itemFactors: Int8RowMatrix;
  /** [users, k] float32 (dequantized). */
  userFactors: Float32Array;
  /** YᵀY [k, k] of the item factors, for the session fold-in. */
  gram: Float64Array;
  /** α, λ, f(r), ν: what the fold-in must reproduce (trainingConfig.ranking). */
  config: ImplicitConfig;
}

/** The ranking channel as served: the parts plus its matVec and norms. */
export interface RankingModel extends RankingParts {
  dim: number;
  /** scores[i] = rank item row i . vector (SIMD when available). */
  matVec: (vector: Float32Array | Float64Array, scores: Float32Array) => Float32Array;
  /** 1 / code norm per item row (cosines for similar-movie lookups and reasons). */
  invNorms: Float32Array;
}

export interface ServingModel extends ServingParts {
  /** Every movie in item order (made on first access when the catalog came as columns). */
  movies: readonly ServedMovie[];
  /** The catalog's columns: per-item reads on hot paths (mean ratings, years) go here. */
  catalog: MovieCatalog;
  ranking: RankingModel | null;
  itemCount: number;
  userCount: number;
  dim: number;
  itemIndexById: Map<number, number>;
  userIndexById: Map<number, number>;
  genreNames: string[];
  filterAttributes: FilterAttributes;
  /** Item indexes by descending popularity. */
  popularityOrder: Uint32Array;
  /** 1 / norm of each item factor row's values (0 for a zero row): cosine = dot * inv * inv. */
  itemCodeInvNorms: Float32Array;
  contentCodeInvNorms: Float32Array | null;
  /** Scratch score buffer of length itemCount, reused by every request (kernels are synchronous). */
  scratch: Float32Array;
  /** Scratch filter mask of length itemCount, reused the same way. */
  scratchMask: Uint8Array;
  /**
   * Per content row, 1 / (scale * code norm): turns a content matVec (which applies the stored
   * scales) into cosines with one multiply per row. Null without content embeddings.
   */
  contentCosineFactors: Float32Array | null;
  /** scores[i] = itemFactors row i . vector: the WebAssembly SIMD kernel when given one, else JS. */
  itemMatVec: (vector: Float32Array | Float64Array, scores: Float32Array) => Float32Array;
  /** The same over the content embeddings (null without them). */
  contentMatVec: ((vector: Float32Array | Float64Array, scores: Float32Array) => Float32Array) | null;
  /** Which kernel scores: 'wasm-simd' or 'js'. */
  kernel: 'wasm-simd' | 'js';
  /** Sparse item-item (EASE) lists when the version has them (shared/serving/ranker.ts attaches). */
  itemItem?: ItemItemLists | null;
  /** Per user, the latest rated items, most recent first (user_recent.csr; ranker.ts attaches). */
  userRecent?: Csr | null;
  /** The learned ranking stage when the version has one (shared/serving/ranker.ts attaches). */
  learned?: LearnedHook | null;
}

export interface ServingOptions {
  /**
   * A fresh instance of the SIMD kernel module (shared/kernels/int8-simd-wasm.ts) per call; each
   * matrix gets its own instance. Without it, the JS kernels score.
   */
  simd?: () => Int8SimdExports;
}

/**
 * The matVec of a matrix: SIMD when available and the rows fit. When the row stride needs no
 * padding, the matrix's values and scales are re-pointed into the kernel memory so the JS paths
 * (dot, cosine, dequantize) read the same bytes and the loaded copy can be freed.
 */
function bindMatVec(
  matrix: Int8RowMatrix,
  simd: (() => Int8SimdExports) | undefined,
): { matrix: Int8RowMatrix; matVec: ServingModel['itemMatVec']; simd: boolean } {
  if (!simd || matrix.cols === 0 || matrix.cols > SIMD_MAX_COLS) {
    return { matrix, matVec: (vector, scores) => matVecInt8(matrix, vector, scores), simd: false };
  }
  const kernel = new SimdInt8MatVec(simd(), matrix);
  const shared = kernel.sharedMatrix();
  return { matrix: shared ?? matrix, matVec: (vector, scores) => kernel.matVec(vector, scores), simd: true };
}

function invCodeNorms(matrix: Int8RowMatrix): Float32Array {
  const out = new Float32Array(matrix.rows);
  for (let i = 0, base = 0; i < matrix.rows; i++, base += matrix.cols) {
    let s = 0;
    for (let j = 0; j < matrix.cols; j++) s += matrix.values[base + j]! * matrix.values[base + j]!;
    out[i] = s > 0 ? 1 / Math.sqrt(s) : 0;
  }
  return out;
}

function check(condition: boolean, what: string, got: unknown, expected: unknown): void {
  if (!condition)
    throw new ReelrankError(
      'artifact_invalid',
      `version artifacts: ${what} is ${String(got)}, expected ${String(expected)}`,
    );
}

/** Validates the parts against each other and derives the lookups. Throws `artifact_invalid`. */
export function createServingModel(parts: ServingParts, { simd }: ServingOptions = {}): ServingModel {
  const itemCount = parts.itemIds.length;
  const userCount = parts.userIds.length;
  const dim = parts.itemFactors.cols;
  const catalog = parts.movies instanceof MovieCatalog ? parts.movies : MovieCatalog.fromMovies(parts.movies);
  check(catalog.length === itemCount, 'catalog length', catalog.length, `${itemCount} (item_ids)`);
  if (catalog.movieIds !== parts.itemIds) {
    const movies = catalog.movies;
    for (let i = 0; i < itemCount; i++)
      if (movies[i]!.movieId !== parts.itemIds[i])
        check(false, `catalog[${i}].movieId`, movies[i]!.movieId, parts.itemIds[i]);
  }
  check(parts.itemFactors.rows === itemCount, 'item factor rows', parts.itemFactors.rows, itemCount);
  check(
    parts.userFactors.length === userCount * dim,
    'user factor values',
    parts.userFactors.length,
    `${userCount} x ${dim}`,
  );
  check(parts.itemBias.length === itemCount, 'item bias length', parts.itemBias.length, itemCount);
  check(parts.userBias.length === userCount, 'user bias length', parts.userBias.length, userCount);
  check(parts.popularity.length === itemCount, 'popularity length', parts.popularity.length, itemCount);
  check(parts.seen.offsets.length === userCount + 1, 'seen rows', parts.seen.offsets.length - 1, userCount);
  if (parts.topRated)
    check(
      parts.topRated.offsets.length === userCount + 1,
      'top-rated rows',
      parts.topRated.offsets.length - 1,
      userCount,
    );
  if (parts.contentEmbeddings)
    check(
      parts.contentEmbeddings.rows === itemCount,
      'content embedding rows',
      parts.contentEmbeddings.rows,
      itemCount,
    );
  for (const [channel, lists] of Object.entries(parts.neighbors)) {
    if (lists)
      check(
        lists.indexes.length === itemCount * lists.width,
        `neighbors_${channel} size`,
        lists.indexes.length,
        `${itemCount} x ${lists.width}`,
      );
  }
  const rankingParts = parts.ranking ?? null;
  if (rankingParts) {
    const k = rankingParts.itemFactors.cols;
    check(
      rankingParts.itemFactors.rows === itemCount,
      'rank item factor rows',
      rankingParts.itemFactors.rows,
      itemCount,
    );
    check(
      rankingParts.userFactors.length === userCount * k,
      'rank user factor values',
      rankingParts.userFactors.length,
      `${userCount} x ${k}`,
    );
    check(rankingParts.gram.length === k * k, 'rank gram values', rankingParts.gram.length, `${k} x ${k}`);
    check(
      k > 0 && k <= 128,
      'rank factor count',
      k,
      '1..128 (the fold-in solves a k x k system per request)',
    );
  }
  const itemIndexById = new Map<number, number>();
  for (let i = 0; i < itemCount; i++) itemIndexById.set(parts.itemIds[i]!, i);
  const userIndexById = new Map<number, number>();
  for (let u = 0; u < userCount; u++) userIndexById.set(parts.userIds[u]!, u);
  // Genre bits per distinct genre list (a few hundred), then per item by its list; names in order
  // of first appearance, at most 32 (more cannot be filtered on).
  const genreNames: string[] = [];
  const genreBit = new Map<string, number>();
  const setBits = new Uint32Array(catalog.genreSets.length);
  const setDone = new Uint8Array(catalog.genreSets.length);
  const genreBits = new Uint32Array(itemCount);
  for (let i = 0; i < itemCount; i++) {
    const set = catalog.genreSetOf[i]!;
    let bits = setBits[set]!;
    if (setDone[set] === 0) {
      bits = 0;
      for (const genre of catalog.genreSets[set]!) {
        let bit = genreBit.get(genre);
        if (bit === undefined) {
          if (genreNames.length >= 32) continue;
          bit = genreNames.length;
          genreNames.push(genre);
          genreBit.set(genre, bit);
        }
        bits |= 1 << bit;
      }
      setBits[set] = bits;
      setDone[set] = 1;
    }
    genreBits[i] = bits;
  }
  const years = catalog.years;
  const popularityOrder = Uint32Array.from({ length: itemCount }, (_, i) => i).sort(
    (a, b) => parts.popularity[b]! - parts.popularity[a]! || a - b,
  );
  const items = bindMatVec(parts.itemFactors, simd);
  let ranking: RankingModel | null = null;
  if (rankingParts) {
    const bound = bindMatVec(rankingParts.itemFactors, simd);
    ranking = {
      ...rankingParts,
      itemFactors: bound.matrix,
      dim: rankingParts.itemFactors.cols,
      matVec: bound.matVec,
      invNorms: invCodeNorms(bound.matrix),
    };
  }
  const contentInvNorms = parts.contentEmbeddings ? invCodeNorms(parts.contentEmbeddings) : null;
  const content = parts.contentEmbeddings ? bindMatVec(parts.contentEmbeddings, simd) : null;
  return {
    ...parts,
    movies: catalog.movies,
    catalog,
    itemFactors: items.matrix,
    contentEmbeddings: content?.matrix ?? null,
    itemMatVec: items.matVec,
    ranking,
    contentMatVec: content?.matVec ?? null,
    kernel: items.simd ? 'wasm-simd' : 'js',
    itemCount,
    userCount,
    dim,
    itemIndexById,
    userIndexById,
    genreNames,
    filterAttributes: { genreBits, years },
    popularityOrder,
    itemCodeInvNorms: invCodeNorms(parts.itemFactors),
    contentCodeInvNorms: contentInvNorms,
    scratch: new Float32Array(itemCount),
    scratchMask: new Uint8Array(itemCount),
    contentCosineFactors:
      contentInvNorms && parts.contentEmbeddings
        ? Float32Array.from(contentInvNorms, (inv, i) => {
            const scale = parts.contentEmbeddings!.scales[i]!;
            return scale > 0 ? inv / scale : 0;
          })
        : null,
  };
}

/** Genre names -> bit mask; throws `bad_parameter` naming the unknown genre and the known ones. */
export function genreMaskOf(model: ServingModel, genres: readonly string[]): number {
  let mask = 0;
  for (const name of genres) {
    const bit = model.genreNames.findIndex((g) => g.toLowerCase() === name.toLowerCase());
    if (bit < 0) {
      throw new ReelrankError(
        'bad_parameter',
        `genres: unknown genre '${name}'. Known genres: ${model.genreNames.join(', ')}`,
        { parameter: 'genres' },
      );
    }
    mask |= 1 << bit;
  }
  return mask;
}

/** Item index of a movie id; throws `unknown_movie`. */
export function itemIndexOf(model: ServingModel, movieId: number): number {
  const index = model.itemIndexById.get(movieId);
  if (index === undefined)
    throw new ReelrankError(
      'unknown_movie',
      `movie ${movieId} is not in the catalog of version ${model.version}`,
      { movieId },
    );
  return index;
}

/** User index of a user id; throws `unknown_user`. */
export function userIndexOf(model: ServingModel, userId: number): number {
  const index = model.userIndexById.get(userId);
  if (index === undefined)
    throw new ReelrankError('unknown_user', `user ${userId} is not known to version ${model.version}`, {
      userId,
    });
  return index;
}

/** Row r of a CSR. */
export function csrRow(csr: Csr, row: number): Uint32Array {
  return csr.indexes.subarray(csr.offsets[row]!, csr.offsets[row + 1]!);
}
