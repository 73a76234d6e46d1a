import type { Movie } from '../../shared/catalog.ts';
import { ReelrankError } from '../../shared/errors.ts';
import { choleskyInPlace, choleskySolveInPlace } from './linalg.ts';

/**
 * Item side features for the metadata projection (reference 004): genres, tags, keywords, cast,
 * director and decade as one-hot columns, plus optional text embeddings, in one dense row-major
 * matrix [items, dim]. Dense keeps the projection code simple; the vocabulary is capped so the
 * matrix stays small (9,742 movies × ~1,000 columns = 39 MB).
 */
export interface ItemFeatures {
  items: number;
  dim: number;
  data: Float32Array;
  /** Column names ('genre:Drama', 'tag:pixar', 'text:17', ...). */
  columns: string[];
}

export interface FeatureOptions {
  /** Most frequent values kept per group (genres are always all kept). */
  maxPerGroup?: number;
  /** A value must occur in at least this many movies to become a column. */
  minCount?: number;
  /** Text embeddings [items, dim] (e.g. from train/content), appended L2-normalised. */
  textEmbeddings?: { data: Float32Array; dim: number };
  /** Weight of the text block relative to the one-hot groups. */
  textWeight?: number;
}

type Group = { name: string; values: (movie: Movie) => string[] };

const GROUPS: readonly Group[] = Object.freeze([
  { name: 'genre', values: (m: Movie) => m.genres.filter((g) => g !== '(no genres listed)') },
  { name: 'tag', values: (m: Movie) => m.tags },
  { name: 'keyword', values: (m: Movie) => m.keywords },
  { name: 'cast', values: (m: Movie) => m.cast },
  { name: 'director', values: (m: Movie) => (m.director ? [m.director] : []) },
  { name: 'decade', values: (m: Movie) => (m.year === null ? [] : [String(Math.floor(m.year / 10) * 10)]) },
]);

/**
 * Build the feature matrix of a catalog. Within a group a movie's ones are scaled by
 * 1/sqrt(count) so that a movie with 40 tags does not outweigh its genres.
 */
export function buildItemFeatures(
  movies: readonly Movie[],
  { maxPerGroup = 300, minCount = 2, textEmbeddings, textWeight = 1 }: FeatureOptions = {},
): ItemFeatures {
  const columns: string[] = [];
  const columnOf = new Map<string, number>();
  for (const group of GROUPS) {
    const counts = new Map<string, number>();
    for (const movie of movies)
      for (const value of new Set(group.values(movie))) counts.set(value, (counts.get(value) ?? 0) + 1);
    const kept = [...counts.entries()]
      .filter(([, c]) => c >= (group.name === 'genre' ? 1 : minCount))
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, group.name === 'genre' ? undefined : maxPerGroup);
    for (const [value] of kept) {
      columnOf.set(`${group.name}:${value}`, columns.length);
      columns.push(`${group.name}:${value}`);
    }
  }
  const oneHot = columns.length;
  const textDim = textEmbeddings?.dim ?? 0;
  if (textEmbeddings && textEmbeddings.data.length !== movies.length * textDim) {
    throw new ReelrankError(
      'bad_input',
      `text embeddings hold ${textEmbeddings.data.length} values; expected ${movies.length} items × ${textDim} = ${movies.length * textDim}`,
    );
  }
  for (let t = 0; t < textDim; t++) columns.push(`text:${t}`);
  const dim = columns.length;
  const data = new Float32Array(movies.length * dim);
  movies.forEach((movie, i) => {
    for (const group of GROUPS) {
      const hits = [...new Set(group.values(movie))]
        .map((v) => columnOf.get(`${group.name}:${v}`))
        .filter((c) => c !== undefined);
      const weight = hits.length > 0 ? 1 / Math.sqrt(hits.length) : 0;
      for (const c of hits) data[i * dim + c] = weight;
    }
    if (textEmbeddings) {
      let norm = 0;
      for (let t = 0; t < textDim; t++) norm += textEmbeddings.data[i * textDim + t]! ** 2;
      const scale = norm > 0 ? textWeight / Math.sqrt(norm) : 0;
      for (let t = 0; t < textDim; t++)
        data[i * dim + oneHot + t] = textEmbeddings.data[i * textDim + t]! * scale;
    }
  });
  return { items: movies.length, dim, data, columns };
}

/** A ridge map from feature rows (plus an intercept) to `outputs` target columns. */
export interface Projection {
  /** Rows of features (dim), + 1 intercept row when fitted with one; `outputs` columns, row-major. */
  weights: Float32Array;
  inputs: number;
  outputs: number;
}

/**
 * Fit W = (XᵀX + λI)⁻¹ XᵀT by ridge regression on the rows with `mask[i] = 1`, X = [features, 1].
 * The Gram matrix is accumulated over each row's non-zeros only: one-hot rows are sparse.
 */
export function fitProjection(
  features: ItemFeatures,
  targets: Float32Array,
  outputs: number,
  mask: Uint8Array,
  lambda: number,
  { intercept = true }: { intercept?: boolean } = {},
): Projection {
  const d = features.dim + (intercept ? 1 : 0);
  const gram = new Float64Array(d * d);
  const rhs = new Float64Array(d * outputs);
  const nz = new Uint32Array(d);
  const nzValue = new Float64Array(d);
  for (let i = 0; i < features.items; i++) {
    if (!mask[i]) continue;
    let count = 0;
    const base = i * features.dim;
    for (let c = 0; c < features.dim; c++) {
      const v = features.data[base + c]!;
      if (v !== 0) {
        nz[count] = c;
        nzValue[count++] = v;
      }
    }
    if (intercept) {
      nz[count] = d - 1;
      nzValue[count++] = 1;
    }
    for (let a = 0; a < count; a++) {
      const ca = nz[a]!;
      const va = nzValue[a]!;
      const row = ca * d;
      for (let b = 0; b < count; b++) gram[row + nz[b]!] = gram[row + nz[b]!]! + va * nzValue[b]!;
      const rrow = ca * outputs;
      for (let o = 0; o < outputs; o++) rhs[rrow + o] = rhs[rrow + o]! + va * targets[i * outputs + o]!;
    }
  }
  for (let c = 0; c < d; c++) gram[c * d + c] = gram[c * d + c]! + lambda;
  choleskyInPlace(gram, d);
  const weights = new Float32Array(d * outputs);
  const column = new Float64Array(d);
  for (let o = 0; o < outputs; o++) {
    for (let c = 0; c < d; c++) column[c] = rhs[c * outputs + o]!;
    choleskySolveInPlace(gram, d, column);
    for (let c = 0; c < d; c++) weights[c * outputs + o] = column[c]!;
  }
  return { weights, inputs: d, outputs };
}

/** out = [features row i, 1] · W (without the 1 when the projection has no intercept). */
export function projectRow(
  projection: Projection,
  features: ItemFeatures,
  item: number,
  out: Float32Array,
): void {
  const { weights, outputs } = projection;
  out.fill(0);
  const base = item * features.dim;
  for (let c = 0; c < features.dim; c++) {
    const v = features.data[base + c]!;
    if (v === 0) continue;
    for (let o = 0; o < outputs; o++) out[o] = out[o]! + v * weights[c * outputs + o]!;
  }
  if (projection.inputs > features.dim) {
    const intercept = features.dim * outputs;
    for (let o = 0; o < outputs; o++) out[o] = out[o]! + weights[intercept + o]!;
  }
}

/**
 * Reference 004's metadata projection applied to any factor model: fit a ridge map from item
 * features to [q_i, b_i] on the warm items (mask 1) and overwrite the rows of the cold items
 * (mask 0) with the projected vectors, so every catalog item can be scored. Returns the map.
 */
export function projectColdItems(
  features: ItemFeatures,
  itemFactors: Float32Array,
  itemBias: Float32Array,
  factors: number,
  warm: Uint8Array,
  lambda: number,
): Projection {
  const k = factors;
  const targets = new Float32Array(features.items * (k + 1));
  for (let i = 0; i < features.items; i++) {
    for (let f = 0; f < k; f++) targets[i * (k + 1) + f] = itemFactors[i * k + f]!;
    targets[i * (k + 1) + k] = itemBias[i]!;
  }
  const projection = fitProjection(features, targets, k + 1, warm, lambda);
  const row = new Float32Array(k + 1);
  for (let i = 0; i < features.items; i++) {
    if (warm[i]) continue;
    projectRow(projection, features, i, row);
    for (let f = 0; f < k; f++) itemFactors[i * k + f] = row[f]!;
    itemBias[i] = row[k]!;
  }
  return projection;
}
