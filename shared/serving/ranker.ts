/**
 * The learned ranking stage: candidates from every retrieval channel (implicit-ALS int8 scan,
 * sparse item-item, content, popularity), one feature row per (user, candidate), scored by a
 * small MLP (a TF.js LayersModel of Dense layers, read from its quantized shards and run with a
 * typed-array dense kernel). Training builds its lists with `learnedCandidates` and evaluates with
 * `recommendLearned`; the edge serves with the same two functions.
 */
import { matrixToFloat32 } from '../artifacts/codecs.ts';
import { float16BitsToFloat32 } from '../artifacts/float16.ts';
import type { ArtifactVersion } from '../artifacts/loader.ts';
import { loadTfjsArtifacts } from '../artifacts/tfjs.ts';
import { ReelrankError } from '../errors.ts';
import { type BlendWeights, blendWeights } from '../kernels/blend.ts';
import { applyMask, buildItemMask } from '../kernels/filters.ts';
import { mmr } from '../kernels/mmr.ts';
import { type ItemItemLists, itemItemScores } from '../kernels/sparse-item.ts';
import { topK } from '../kernels/topk.ts';
import type { ServingModel } from './model.ts';
import {
  contentProfile,
  cosineRows,
  type LearnedHook,
  minMax,
  type RankingFallback,
  type Recommendation,
  type RecommendOptions,
  type RecommendResult,
  reasonFor,
  type UserState,
} from './scoring.ts';

/** The features, in input order. A version's ranker names them; a mismatch refuses the version. */
export const RANKER_FEATURES = Object.freeze([
  'collaborative',
  'collaborativeRank',
  'collaborativeRaw',
  'itemItem',
  'itemItemRank',
  'itemItemRaw',
  'content',
  'contentRank',
  'popularity',
  'popularityRank',
  'meanRating',
  'age',
  'genreAffinity',
  'userRatings',
  'session',
  'recentItemItem',
  'recentItemItemRank',
  // Added with anonymous-session training (older versions read the 17 above: `featureColumns`).
  'itemItemSupport',
  'itemItemMax',
] as const);
/** How many of the user's latest items the recency channel sums item-item rows of. */
export const RECENT_ITEMS = 5;
export const RANKER_FEATURE_COUNT = RANKER_FEATURES.length;

/** One Dense layer as typed arrays: kernel [inputs, units] row-major, bias [units]. */
export interface DenseLayer {
  inputs: number;
  units: number;
  kernel: Float32Array;
  bias: Float32Array;
  activation: 'relu' | 'linear';
}

/** What trainingConfig.learnedRanking records. */
export interface LearnedRankingConfig {
  features: readonly string[];
  /** Candidates taken from each channel. */
  perChannel: number;
  /**
   * Where the stage ranks ('auto'): where it beat, on the training carve's validation users, every
   * alternative the edge can serve for that kind of user (versions before `fallback`: the blend).
   */
  enabled: { users: boolean; sessions: boolean };
  /**
   * What ranks a kind of user where the stage is not enabled: the alternative that did best on
   * validation. Absent (older versions): the blend.
   */
  fallback?: { users: RankingFallback; sessions: RankingFallback };
}

/** The stage as served. */
export interface LearnedStage extends LearnedHook {
  layers: DenseLayer[];
  config: LearnedRankingConfig;
}

/** Per-request channel scores of the candidates (raw, as the channels scored them). */
export interface LearnedCandidates {
  ids: Uint32Array;
  /** [ids.length, RANKER_FEATURE_COUNT] row-major. */
  features: Float32Array;
  collaborative: Float32Array;
  itemItem: Float32Array;
  content: Float32Array;
  popularity: Float32Array;
  weights: BlendWeights;
}

/** Scratch per model: full-catalog arrays for the scored channels and item-item support. */
const scratchOf = new WeakMap<
  ServingModel,
  { a: Float32Array; b: Float32Array; c: Float32Array; d: Float32Array; e: Float32Array; f: Float32Array }
>();
function scratch(model: ServingModel) {
  let s = scratchOf.get(model);
  if (!s) {
    const n = model.itemCount;
    s = {
      a: new Float32Array(n),
      b: new Float32Array(n),
      c: new Float32Array(n),
      d: new Float32Array(n),
      e: new Float32Array(n),
      f: new Float32Array(n),
    };
    scratchOf.set(model, s);
  }
  return s;
}

/**
 * Per item: how many of `items` list it in their item-item row (`count`) and the largest single
 * row weight it gets (`max`, 0 when none lists it).
 */
function itemItemSupport(
  lists: ItemItemLists,
  items: ArrayLike<number>,
  count: Float32Array,
  max: Float32Array,
): void {
  count.fill(0);
  max.fill(0);
  const { offsets, indexes, values, scales, width } = lists;
  const rows = offsets.length - 1;
  for (let n = 0; n < items.length; n++) {
    const i = items[n]!;
    if (i >= rows) continue;
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    if (end === start) continue;
    const scale = scales[start / width]!;
    for (let p = start; p < end; p++) {
      const j = indexes[p]!;
      const w = scale * values[p]!;
      if (count[j] === 0 || w > max[j]!) max[j] = w;
      count[j] = count[j]! + 1;
    }
  }
}

const refYearOf = new WeakMap<ServingModel, number>();
function refYear(model: ServingModel): number {
  let y = refYearOf.get(model);
  if (y === undefined) {
    y = 0;
    for (const year of model.filterAttributes.years) if (year > y) y = year;
    refYearOf.set(model, y);
  }
  return y;
}

/** x / (1 + |x|): a bounded view of an unbounded raw score. */
const squash = (x: number) => x / (1 + Math.abs(x));

/** Rank feature of each position into `out` (column `column` of rows `stride` apart): 1 / log2(2 + rank within `values`, best first, ties by position). */
export function rankFeature(values: Float32Array, out: Float32Array, column: number, stride: number): void {
  const m = values.length;
  if (m > 65_536) {
    const order = Array.from({ length: m }, (_, n) => n).sort((a, b) => values[b]! - values[a]! || a - b);
    for (let r = 0; r < m; r++) out[order[r]! * stride + column] = 1 / Math.log2(2 + r);
    return;
  }
  // Best first, ties by position, as one numeric sort of exact float64 keys: the value's float32
  // bits mapped to an order-preserving uint32 (flipped: higher first), times 2^16, plus n.
  if (rankKeys.length < m) rankKeys = new Float64Array(m);
  const keys = rankKeys.subarray(0, m);
  for (let n = 0; n < m; n++) {
    const v = values[n]!;
    rankBits[0] = v === 0 ? 0 : v; // -0 ranks as 0
    const u = rankUint[0]!;
    const ascending = u & 0x80000000 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
    keys[n] = (0xffffffff - ascending) * 65_536 + n;
  }
  keys.sort();
  for (let r = 0; r < m; r++) out[(keys[r]! % 65_536) * stride + column] = 1 / Math.log2(2 + r);
}
const rankBits = new Float32Array(1);
const rankUint = new Uint32Array(rankBits.buffer);
let rankKeys = new Float64Array(512);

/** Min-max of values over the candidates into a feature column. */
function scaledFeature(values: Float32Array, out: Float32Array, column: number, stride: number): void {
  const scaled = minMax(values);
  for (let n = 0; n < values.length; n++) out[n * stride + column] = scaled[n]!;
}

/**
 * The candidates of a request and their features: the top `perChannel` items of each channel
 * (after the filter mask), in channel order collaborative, item-item, content, popularity.
 */
export function learnedCandidates(
  model: ServingModel,
  user: UserState,
  options: RecommendOptions,
  perChannel: number,
): LearnedCandidates {
  const { genreMask = 0, yearFrom, yearTo, excludeSeen = true } = options;
  const size = Math.min(model.itemCount, perChannel);
  const mask = buildItemMask(
    model.filterAttributes,
    { genreMask, yearFrom, yearTo, exclude: excludeSeen ? user.seen : undefined },
    model.scratchMask,
  );
  const { a: collabAll, b: itemAll, c: contentAll, d: recentAll, e: supportAll, f: maxAll } = scratch(model);
  const candidates = new Set<number>();
  const take = (scores: Float32Array) => {
    const best = topK(applyMask(scores, mask), size);
    for (let n = 0; n < best.indexes.length; n++) candidates.add(best.indexes[n]!);
  };
  const hasRatings = user.ratingCount > 0;
  const ranking = model.ranking && user.rankVector ? model.ranking : null;
  if (hasRatings) {
    if (ranking) ranking.matVec(user.rankVector!, collabAll);
    else {
      model.itemMatVec(user.vector, collabAll);
      for (let i = 0; i < collabAll.length; i++) collabAll[i] = collabAll[i]! + model.itemBias[i]!;
    }
  } else collabAll.fill(0);
  if (hasRatings) take(collabAll);
  const lists = model.itemItem ?? null;
  if (lists && user.seen.length > 0) {
    itemItemScores(lists, user.seen, null, itemAll);
    itemItemSupport(lists, user.seen, supportAll, maxAll);
  } else {
    itemAll.fill(0);
    supportAll.fill(0);
    maxAll.fill(0);
  }
  if (lists && user.seen.length > 0) take(itemAll);
  // Recency: item-item rows of the user's latest items only (what they are watching now).
  const recentItems = user.recent ? Array.from(user.recent).slice(0, RECENT_ITEMS) : [];
  if (lists && recentItems.length > 0) {
    itemItemScores(lists, recentItems, null, recentAll);
    take(recentAll);
  } else recentAll.fill(0);
  const profile =
    model.contentEmbeddings && model.contentCodeInvNorms
      ? contentProfile(model.contentEmbeddings, model.contentCodeInvNorms, user.favourites, 20)
      : null;
  if (profile && model.contentMatVec && model.contentCosineFactors) {
    model.contentMatVec(profile, contentAll);
    const factor = model.contentCosineFactors;
    for (let i = 0; i < contentAll.length; i++) contentAll[i] = contentAll[i]! * factor[i]!;
  } else contentAll.fill(0);
  if (profile) take(contentAll);
  for (let n = 0, taken = 0; n < model.itemCount && taken < size; n++) {
    const i = model.popularityOrder[n]!;
    if (mask !== null && mask[i] === 0) continue;
    candidates.add(i);
    taken++;
  }
  // Masked items hold -Infinity now, but none of them is a candidate: the arrays still hold the
  // raw channel scores of every candidate.
  const ids = Uint32Array.from(candidates);
  const m = ids.length;
  const stride = RANKER_FEATURE_COUNT;
  const features = new Float32Array(m * stride);
  const collaborative = new Float32Array(m);
  const itemItem = new Float32Array(m);
  const content = new Float32Array(m);
  const popularity = new Float32Array(m);
  const recent = new Float32Array(m);
  const support = new Float32Array(m);
  const largest = new Float32Array(m);
  for (let n = 0; n < m; n++) {
    const i = ids[n]!;
    recent[n] = recentAll[i]!;
    support[n] = supportAll[i]!;
    largest[n] = maxAll[i]!;
    collaborative[n] = collabAll[i]!;
    itemItem[n] = itemAll[i]!;
    content[n] = contentAll[i]!;
    popularity[n] = model.popularity[i]!;
  }
  // The user's genre shares (over everything they rated): the affinity of a candidate is the
  // share of the user's genre mentions its genres cover.
  const genreCounts = new Float64Array(32);
  let genreTotal = 0;
  const bits = model.filterAttributes.genreBits;
  for (let n = 0; n < user.seen.length; n++) {
    let b = bits[user.seen[n]!]!;
    while (b !== 0) {
      const low = 31 - Math.clz32(b & -b);
      genreCounts[low] = genreCounts[low]! + 1;
      genreTotal++;
      b &= b - 1;
    }
  }
  const ref = refYear(model);
  const { min: rMin, max: rMax } = model.ratingScale;
  const meanRatings = model.catalog.meanRatings;
  const userRatings = Math.min(1.5, Math.log1p(user.ratingCount) / Math.log1p(1000));
  const session = user.session ? 1 : 0;
  scaledFeature(collaborative, features, 0, stride);
  rankFeature(collaborative, features, 1, stride);
  scaledFeature(itemItem, features, 3, stride);
  rankFeature(itemItem, features, 4, stride);
  scaledFeature(content, features, 6, stride);
  rankFeature(content, features, 7, stride);
  rankFeature(popularity, features, 9, stride);
  scaledFeature(recent, features, 15, stride);
  rankFeature(recent, features, 16, stride);
  scaledFeature(largest, features, 18, stride);
  const supportScale = 1 / Math.max(1, user.seen.length);
  for (let n = 0; n < m; n++) {
    const i = ids[n]!;
    const row = n * stride;
    features[row + 2] = squash(collaborative[n]!);
    features[row + 5] = squash(itemItem[n]!);
    features[row + 8] = popularity[n]!;
    const mean = meanRatings[i]!;
    features[row + 10] = Number.isNaN(mean) || rMax <= rMin ? 0.5 : (mean - rMin) / (rMax - rMin);
    const year = model.filterAttributes.years[i]!;
    features[row + 11] = year > 0 && ref > 0 ? Math.min(1.5, Math.max(0, (ref - year) / 50)) : 0.5;
    let affinity = 0;
    if (genreTotal > 0) {
      let b = bits[i]!;
      while (b !== 0) {
        affinity += genreCounts[31 - Math.clz32(b & -b)]!;
        b &= b - 1;
      }
      affinity /= genreTotal;
    }
    features[row + 12] = affinity;
    features[row + 13] = userRatings;
    features[row + 14] = session;
    // The share of the user's rated movies whose item-item row lists the candidate.
    features[row + 17] = support[n]! * supportScale;
  }
  const weights = blendWeights(user.ratingCount, { collaborative: hasRatings, content: profile !== null });
  return { ids, features, collaborative, itemItem, content, popularity, weights };
}

/**
 * The columns of `learnedCandidates`' features a ranker reads, by name, in its input order; null
 * when it reads them all in order. Versions name their features: older ones read a prefix.
 */
export function featureColumns(names: readonly string[]): Uint16Array | null {
  const all = RANKER_FEATURES as readonly string[];
  if (names.length === all.length && names.every((name, n) => all[n] === name)) return null;
  return Uint16Array.from(names, (name) => {
    const column = all.indexOf(name);
    if (column < 0) throw new ReelrankError('artifact_invalid', `ranker: unknown feature ${name}`);
    return column;
  });
}

/** The `columns` of `m` feature rows (all of them when columns is null). */
export function projectFeatures(
  features: Float32Array,
  m: number,
  columns: Uint16Array | null,
): Float32Array {
  if (columns === null) return features;
  const width = columns.length;
  const out = new Float32Array(m * width);
  for (let n = 0; n < m; n++) {
    const from = n * RANKER_FEATURE_COUNT;
    const to = n * width;
    for (let c = 0; c < width; c++) out[to + c] = features[from + columns[c]!]!;
  }
  return out;
}

/**
 * The MLP over `m` feature rows: relu hidden layers, linear output (one logit per row).
 * @example denseStack(stage.layers, features, m) // Float32Array(m)
 */
export function denseStack(layers: readonly DenseLayer[], input: Float32Array, m: number): Float32Array {
  let x = input;
  for (const layer of layers) {
    const { inputs, units, kernel, bias } = layer;
    const y = new Float32Array(m * units);
    for (let n = 0; n < m; n++) {
      const xb = n * inputs;
      const yb = n * units;
      for (let u = 0; u < units; u++) y[yb + u] = bias[u]!;
      for (let j = 0; j < inputs; j++) {
        const v = x[xb + j]!;
        if (v === 0) continue;
        const kb = j * units;
        for (let u = 0; u < units; u++) y[yb + u] = y[yb + u]! + v * kernel[kb + u]!;
      }
      if (layer.activation === 'relu') for (let u = 0; u < units; u++) if (y[yb + u]! < 0) y[yb + u] = 0;
    }
    x = y;
  }
  return x;
}

/**
 * Recommendations ranked by the learned stage: candidates and features as above, one logit each,
 * then top-k (or MMR over a 3k shortlist, as the blend does), each with its reason.
 */
export function recommendLearned(
  model: ServingModel,
  layers: readonly DenseLayer[],
  perChannel: number,
  user: UserState,
  options: RecommendOptions,
  columns: Uint16Array | null = null,
): RecommendResult {
  const { k, genreMask = 0, diversity = 0 } = options;
  const found = learnedCandidates(model, user, options, perChannel);
  const { ids } = found;
  const m = ids.length;
  const scores = denseStack(layers, projectFeatures(found.features, m, columns), m);
  let order: ArrayLike<number>;
  if (diversity > 0 && m > 0) {
    const shortlist = topK(scores, Math.min(m, 3 * k)).indexes;
    const useContent = model.contentEmbeddings !== null && model.contentCodeInvNorms !== null;
    const similarity = useContent
      ? (a: number, b: number) => cosineRows(model.contentEmbeddings!, model.contentCodeInvNorms!, a, b)
      : (a: number, b: number) => cosineRows(model.itemFactors, model.itemCodeInvNorms, a, b);
    const picked = mmr({
      candidates: Array.from(shortlist, (p) => ids[p]!),
      relevance: Array.from(shortlist, (p) => scores[p]!),
      similarity,
      k,
      lambda: 1 - diversity,
    });
    order = Array.from(picked, (p) => shortlist[p]!);
  } else {
    order = topK(scores, k).indexes;
  }
  // Reasons as the blend gives them: the personal channel is the stronger of the collaborative
  // and item-item scores (both "because you rated ..."), rescaled over the candidates.
  const collab = minMax(found.collaborative);
  const itemItem = minMax(found.itemItem);
  const content = minMax(found.content);
  const popularity = minMax(found.popularity);
  const items: Recommendation[] = [];
  for (let n = 0; n < order.length; n++) {
    const p = order[n]!;
    const itemIndex = ids[p]!;
    const channels = {
      collaborative: Math.max(collab[p]!, itemItem[p]!),
      content: content[p]!,
      popularity: popularity[p]!,
    };
    items.push({
      itemIndex,
      score: scores[p]!,
      channels,
      reason: reasonFor(model, user, itemIndex, channels, found.weights, genreMask),
    });
  }
  return { weights: found.weights, items };
}

/** A stage from its layers and config (the loader and training both build it this way). */
export function createLearnedStage(layers: DenseLayer[], config: LearnedRankingConfig): LearnedStage {
  const unknown = config.features.filter((name) => !(RANKER_FEATURES as readonly string[]).includes(name));
  if (unknown.length > 0 || config.features.length === 0) {
    throw new ReelrankError(
      'artifact_invalid',
      `ranker: the version's features (${config.features.join(',')}) are not all ones this code computes (${RANKER_FEATURES.join(',')})${unknown.length > 0 ? `: unknown ${unknown.join(', ')}` : ''}`,
    );
  }
  const inputs = config.features.length;
  if (layers.length === 0 || layers[0]!.inputs !== inputs || layers.at(-1)!.units !== 1) {
    throw new ReelrankError(
      'artifact_invalid',
      `ranker: expected Dense layers from ${inputs} features to 1 logit, got ${layers.map((l) => `${l.inputs}->${l.units}`).join(', ') || 'none'}`,
    );
  }
  for (let l = 1; l < layers.length; l++) {
    if (layers[l]!.inputs !== layers[l - 1]!.units)
      throw new ReelrankError(
        'artifact_invalid',
        `ranker: layer ${l} takes ${layers[l]!.inputs} inputs, the layer before gives ${layers[l - 1]!.units}`,
      );
  }
  const columns = featureColumns(config.features);
  return {
    layers,
    config,
    applies: (user) =>
      (user.session ? config.enabled.sessions : config.enabled.users) && user.ratingCount > 0,
    fallback: (user) => (config.fallback ? config.fallback[user.session ? 'sessions' : 'users'] : 'blend'),
    recommend: (model, user, options) =>
      recommendLearned(model, layers, config.perChannel, user, options, columns),
  };
}

const BYTES: Readonly<Record<string, number>> = Object.freeze({
  float32: 4,
  int32: 4,
  uint8: 1,
  uint16: 2,
  float16: 2,
});

/** Dequantized float32 values of every weight of a TF.js weights manifest, by name. */
export function decodeTfjsWeights(
  specs: readonly {
    name: string;
    shape: number[];
    dtype: string;
    quantization?: { dtype: string; scale?: number; min?: number };
  }[],
  data: ArrayBuffer,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const view = new DataView(data);
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const stored = spec.quantization?.dtype ?? spec.dtype;
    const width = BYTES[stored];
    if (width === undefined || (spec.dtype !== 'float32' && spec.quantization)) {
      throw new ReelrankError(
        'artifact_format',
        `Weight ${spec.name} has dtype ${stored}. Supported: float32, uint8, uint16, float16.`,
      );
    }
    if (offset + count * width > data.byteLength)
      throw new ReelrankError('artifact_corrupt', `Weight ${spec.name} runs past the end of the shards.`);
    const values = new Float32Array(count);
    const { scale = 1, min = 0 } = spec.quantization ?? {};
    for (let n = 0; n < count; n++) {
      const at = offset + n * width;
      values[n] =
        stored === 'uint8'
          ? min + scale * view.getUint8(at)
          : stored === 'uint16'
            ? min + scale * view.getUint16(at, true)
            : stored === 'float16'
              ? float16BitsToFloat32(view.getUint16(at, true))
              : stored === 'int32'
                ? view.getInt32(at, true)
                : view.getFloat32(at, true);
    }
    out.set(spec.name, values);
    offset += count * width;
  }
  return out;
}

interface TopologyLayer {
  class_name?: string;
  config?: { name?: string; units?: number; activation?: string; use_bias?: boolean };
}

/** Dense layers of a Sequential LayersModel's topology + weights (anything else: artifact_format). */
export function denseLayersOf(
  topology: unknown,
  weights: Map<string, Float32Array>,
  where: string,
): DenseLayer[] {
  const t = topology as { class_name?: string; config?: { layers?: TopologyLayer[] } | TopologyLayer[] };
  const list = Array.isArray(t?.config) ? t.config : t?.config?.layers;
  if (t?.class_name !== 'Sequential' || !Array.isArray(list)) {
    throw new ReelrankError('artifact_format', `${where}: expected a Sequential model of Dense layers`);
  }
  const layers: DenseLayer[] = [];
  for (const layer of list) {
    const name = layer.config?.name;
    const units = layer.config?.units;
    const activation = layer.config?.activation ?? 'linear';
    if (
      layer.class_name !== 'Dense' ||
      !name ||
      !units ||
      (activation !== 'relu' && activation !== 'linear')
    ) {
      throw new ReelrankError(
        'artifact_format',
        `${where}: layer ${name ?? '?'} is ${layer.class_name} (${activation}); supported: Dense with relu or linear`,
      );
    }
    const kernel = weights.get(`${name}/kernel`);
    const bias = weights.get(`${name}/bias`) ?? new Float32Array(units);
    if (!kernel || kernel.length % units !== 0 || bias.length !== units)
      throw new ReelrankError(
        'artifact_format',
        `${where}: weights of layer ${name} are missing or misshapen`,
      );
    layers.push({ inputs: kernel.length / units, units, kernel, bias, activation });
  }
  return layers;
}

/**
 * Attaches what a version has of the sparse item-item channel (item_item.csr + weights) and the
 * learned stage (reranker/model.json + trainingConfig.learnedRanking) to a loaded model.
 */
export async function attachLearnedRanking(version: ArtifactVersion, model: ServingModel): Promise<void> {
  if (version.has('itemItem') || version.has('itemItemWeights')) {
    const [csr, weights] = await Promise.all([version.csr('itemItem'), version.matrix('itemItemWeights')]);
    const width = weights.cols;
    const rows = csr.offsets.length - 1;
    const nnz = csr.indexes.length;
    if (rows !== model.itemCount || weights.dtype !== 'int8' || weights.rows * width !== nnz) {
      throw new ReelrankError(
        'artifact_invalid',
        `version ${version.version}: item_item has ${rows} rows and ${nnz} entries, its weights [${weights.rows}, ${width}] ${weights.dtype}; expected ${model.itemCount} rows and int8 [entries / width, width]`,
      );
    }
    for (let i = 0; i < rows; i++) {
      const len = csr.offsets[i + 1]! - csr.offsets[i]!;
      if (len !== 0 && len !== width)
        throw new ReelrankError(
          'artifact_invalid',
          `version ${version.version}: item_item row ${i} has ${len} entries, expected 0 or ${width}`,
        );
    }
    for (let p = 0; p < nnz; p++)
      if (csr.indexes[p]! >= model.itemCount)
        throw new ReelrankError(
          'artifact_invalid',
          `version ${version.version}: item_item entry ${p} names item ${csr.indexes[p]}, beyond ${model.itemCount}`,
        );
    const scales = weights.dtype === 'int8' ? weights.scales : matrixToFloat32(weights);
    model.itemItem = {
      width,
      offsets: csr.offsets,
      indexes: csr.indexes,
      values: weights.values as Int8Array,
      scales,
    };
  }
  if (version.has('userRecent')) {
    const recent = await version.csr('userRecent');
    const bad = recent.indexes.findIndex((i) => i >= model.itemCount);
    if (recent.offsets.length - 1 !== model.userCount || bad >= 0) {
      throw new ReelrankError(
        'artifact_invalid',
        `version ${version.version}: user_recent has ${recent.offsets.length - 1} rows (expected ${model.userCount})${bad >= 0 ? ` and entry ${bad} names item ${recent.indexes[bad]}, beyond ${model.itemCount}` : ''}`,
      );
    }
    model.userRecent = recent;
  }
  if (!version.has('reranker')) return;
  const trained = (version.manifest.trainingConfig ?? {}) as Record<string, unknown>;
  const raw = trained.learnedRanking as Partial<LearnedRankingConfig> | undefined;
  if (!raw || !Array.isArray(raw.features) || typeof raw.perChannel !== 'number' || !raw.enabled) {
    throw new ReelrankError(
      'artifact_invalid',
      `version ${version.version} has reranker/model.json but no trainingConfig.learnedRanking {features, perChannel, enabled}`,
    );
  }
  const path = version.entry('reranker', 'tfjs').path;
  const artifacts = await loadTfjsArtifacts((p) => version.bytes(p), path);
  const weights = decodeTfjsWeights(artifacts.weightSpecs ?? [], artifacts.weightData as ArrayBuffer);
  const layers = denseLayersOf(artifacts.modelTopology, weights, `${path} of version ${version.version}`);
  const fallback = raw.fallback;
  if (
    fallback !== undefined &&
    (!RANKING_FALLBACKS.includes(fallback?.users) || !RANKING_FALLBACKS.includes(fallback?.sessions))
  ) {
    throw new ReelrankError(
      'artifact_invalid',
      `version ${version.version}: trainingConfig.learnedRanking.fallback is ${JSON.stringify(fallback)}; expected {users, sessions}, each one of ${RANKING_FALLBACKS.join(', ')}`,
    );
  }
  model.learned = createLearnedStage(layers, {
    features: raw.features,
    perChannel: Math.max(1, Math.min(1000, Math.floor(raw.perChannel))),
    enabled: { users: raw.enabled.users === true, sessions: raw.enabled.sessions === true },
    ...(fallback ? { fallback: { users: fallback.users, sessions: fallback.sessions } } : {}),
  });
}

/** What may rank a kind of user where the learned stage is not enabled. */
export const RANKING_FALLBACKS: readonly RankingFallback[] = Object.freeze([
  'blend',
  'itemItem',
  'collaborative',
]);

export type { ItemItemLists, RankingFallback };
