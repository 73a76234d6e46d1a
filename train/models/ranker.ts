/**
 * Training of the learned ranking stage (shared/serving/ranker.ts) and of the sparse item-item
 * (EASE) channel it draws candidates from.
 *
 * Time-respecting carve of the training rows (never the evaluation holdout): per user, the latest
 * `holdout` ratings are the labels, everything before them fits the channels (implicit ALS and
 * EASE, as the version will serve them, int8 and sparse). Known users give one list each (the
 * candidates and features come from `learnedCandidates`, the very code the edge runs). Sessions
 * come from anonymous carve users, whose rows fit none of the channels their sessions are ranked
 * with, as anonymous sessions reach the edge (`prepareCarve`: on small carves every user is
 * anonymous in one of 3 folds, each fold with its own channel fit; larger ones leave a share of
 * their users out of the one fit): each gives up to 16 session windows (`sessionWindows`, 5
 * ratings and the 5 rated next). Sessions of users the channels were fitted on are too easy (the
 * fit already knows the user's taste): a stage trained and judged on them lost to item-item on
 * real anonymous sessions (bench/served.ts, ml-latest-small) while winning on them.
 *
 * A small MLP (features -> 32 -> 16 -> 1, TF.js on the backend `train/backend.ts` picks, seeded)
 * learns a listwise softmax loss over each list (labels spread over the list's positives, sampled
 * negatives fresh every epoch). A fifth of the carve users are kept for validation (known users
 * as such, anonymous ones by their session windows): per kind, the stage is enabled only where
 * it beats every alternative the edge serves (the blend, item-item alone, collaborative alone),
 * scored through `recommend()` with the uint8-dequantized weights the version will hold; where it
 * does not, the version names the best of them as the fallback (`stageChoice`).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { quantizeWeight } from '../../shared/artifacts/tfjs.ts';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../shared/artifacts/float16.ts';
import { quantizeRowsInt8 } from '../../shared/kernels/int8.ts';
import type { Int8SimdExports } from '../../shared/kernels/int8-simd.ts';
import { INT8_SIMD_WASM } from '../../shared/kernels/int8-simd-wasm.ts';
import { type ItemItemLists, sparsifyItemItem } from '../../shared/kernels/sparse-item.ts';
import { createServingModel, type ServedMovie, type ServingModel } from '../../shared/serving/model.ts';
import {
  createLearnedStage,
  type DenseLayer,
  featureColumns,
  projectFeatures,
  type LearnedRankingConfig,
  learnedCandidates,
  RANKER_FEATURES,
  type RankingFallback,
} from '../../shared/serving/ranker.ts';
import {
  knownUser,
  type RecommendOptions,
  recommend,
  type SessionRating,
  sessionUser,
  type UserState,
} from '../../shared/serving/scoring.ts';
import { createRng, sampleInPlace } from '../../shared/random.ts';
import type { Dataset } from '../data/dataset.ts';
import { ndcgAt } from '../eval/metrics.ts';
import { Ease } from './ease.ts';
import { Ials, type RankFactorExport, isRankFactorRecommender } from './ials.ts';
import type { Recommender } from './types.ts';
import { createModel } from './registry.ts';

export interface ItemItemOptions {
  /** Items EASE models (the n³ inverse bounds it: 1,000 take ~3 s here). */
  maxItems?: number;
  /** Weights kept per item row (bench/served.ts measures the cost against dense EASE). */
  width?: number;
  lambda?: number;
}
export const ITEM_ITEM_DEFAULTS = Object.freeze({ maxItems: 1000, width: 100, lambda: 300 });

/** EASE on `rows`, kept sparse: the served item-item channel. */
export async function fitItemItem(
  dataset: Dataset,
  rows: Uint32Array,
  {
    maxItems = ITEM_ITEM_DEFAULTS.maxItems,
    width = ITEM_ITEM_DEFAULTS.width,
    lambda = ITEM_ITEM_DEFAULTS.lambda,
  }: ItemItemOptions = {},
  seed = 0,
): Promise<ItemItemLists> {
  const ease = new Ease({ maxItems, lambda });
  await ease.fit({ dataset, train: rows, seed });
  const { modelled, weights } = ease.itemItemWeights();
  return sparsifyItemItem(weights, modelled, dataset.movies.length, width);
}

/** The lists with their weights as a float [rows, width] matrix (what VersionWriter.matrix takes). */
export function itemItemWeightRows(lists: ItemItemLists): Float32Array {
  const out = new Float32Array(lists.indexes.length);
  for (let p = 0; p < out.length; p++) out[p] = lists.values[p]! * lists.scales[Math.floor(p / lists.width)]!;
  return out;
}

export interface TimeCarve {
  /** Rows before each user's labels (plus every row of users too short to carve). */
  fit: Uint32Array;
  /** Per user index: the latest `holdout` items. */
  labels: Map<number, Set<number>>;
  /** Per user index: the `sessionSize` ratings just before the labels, oldest first. */
  sessions: Map<number, SessionRating[]>;
}

/** `rows` grouped by user (CSR over user indexes), each user's rows in the order of `rows`. */
function rowsByUser(dataset: Dataset, rows: Uint32Array): { offsets: Uint32Array; rows: Uint32Array } {
  const users = dataset.userIds.length;
  const { userIndex } = dataset.ratings;
  const offsets = new Uint32Array(users + 1);
  for (const j of rows) offsets[userIndex[j]! + 1]!++;
  for (let u = 0; u < users; u++) offsets[u + 1] = offsets[u + 1]! + offsets[u]!;
  const fill = offsets.slice(0, users);
  const grouped = new Uint32Array(rows.length);
  for (const j of rows) grouped[fill[userIndex[j]!]!++] = j;
  return { offsets, rows: grouped };
}

/** timeCarve's defaults: labels, session ratings before them, and fit rows a carved user needs. */
const CARVE_DEFAULTS = Object.freeze({ holdout: 5, sessionSize: 5, minFit: 5 });

/**
 * Per user (with at least holdout + sessionSize + minFit rows), the latest `holdout` rows are
 * labels, ordered by timestamp then row; the `sessionSize` before them also stay in `fit`.
 * `only` (per user index, 1 = carve) limits the carve to some users: the others keep every row
 * in `fit`. Maps are keyed in the order users first appear in `rows`.
 */
export function timeCarve(
  dataset: Dataset,
  rows: Uint32Array,
  {
    holdout = CARVE_DEFAULTS.holdout,
    sessionSize = CARVE_DEFAULTS.sessionSize,
    minFit = CARVE_DEFAULTS.minFit,
    only,
  }: { holdout?: number; sessionSize?: number; minFit?: number; only?: Uint8Array } = {},
): TimeCarve {
  const { userIndex, itemIndex, timestamp, rating } = dataset.ratings;
  const byUser = rowsByUser(dataset, rows);
  const firstSeen = new Uint8Array(dataset.userIds.length);
  const order: number[] = [];
  for (const j of rows) {
    const u = userIndex[j]!;
    if (firstSeen[u] === 0) {
      firstSeen[u] = 1;
      order.push(u);
    }
  }
  // Rows left out of `fit`: labels, and the rows of users whose labels were all seen before.
  const dropped = new Uint8Array(dataset.ratings.length);
  const labels = new Map<number, Set<number>>();
  const sessions = new Map<number, SessionRating[]>();
  for (const u of order) {
    if (only && only[u] !== 1) continue;
    const from = byUser.offsets[u]!;
    const to = byUser.offsets[u + 1]!;
    if (to - from < holdout + sessionSize + minFit) continue;
    const list = byUser.rows.subarray(from, to).sort((a, b) => timestamp[a]! - timestamp[b]! || a - b);
    const cut = list.length - holdout;
    const before = new Set<number>();
    for (let n = 0; n < cut; n++) before.add(itemIndex[list[n]!]!);
    const later = new Set<number>();
    for (let n = cut; n < list.length; n++) {
      const j = list[n]!;
      dropped[j] = 1;
      if (!before.has(itemIndex[j]!)) later.add(itemIndex[j]!);
    }
    if (later.size === 0) continue;
    labels.set(u, later);
    const session: SessionRating[] = [];
    for (let n = cut - sessionSize; n < cut; n++)
      session.push({ itemIndex: itemIndex[list[n]!]!, rating: rating[list[n]!]! });
    sessions.set(u, session);
  }
  let kept = 0;
  for (const j of rows) if (dropped[j] === 0) kept++;
  const fit = new Uint32Array(kept);
  let at = 0;
  for (const j of rows) if (dropped[j] === 0) fit[at++] = j;
  return { fit: fit.sort(), labels, sessions };
}

/**
 * Per user, the `width` latest distinct items of `rows`, most recent first (ties: later row
 * first): user_recent.csr, the ranking stage's recency signal. `only` (per user index) limits it
 * to some users; the others get an empty row.
 */
export function recentCsr(
  dataset: Dataset,
  rows: Uint32Array,
  width = 10,
  only?: Uint8Array,
): { offsets: Uint32Array; indexes: Uint32Array } {
  const users = dataset.userIds.length;
  const { itemIndex, timestamp } = dataset.ratings;
  const byUser = rowsByUser(dataset, rows);
  const offsets = new Uint32Array(users + 1);
  const indexes = new Uint32Array(Math.min(rows.length, users * width));
  let count = 0;
  const taken = new Set<number>();
  for (let u = 0; u < users; u++) {
    if (!only || only[u] === 1) {
      const list = byUser.rows
        .subarray(byUser.offsets[u]!, byUser.offsets[u + 1]!)
        .sort((a, b) => timestamp[b]! - timestamp[a]! || b - a);
      taken.clear();
      for (const j of list) {
        if (taken.size >= width) break;
        const i = itemIndex[j]!;
        if (taken.has(i)) continue;
        taken.add(i);
        indexes[count++] = i;
      }
    }
    offsets[u + 1] = count;
  }
  return { offsets, indexes: indexes.slice(0, count) };
}

/**
 * Per-user CSR of distinct rated items (sorted) and of the 20 best rated, over `rows` (`only`:
 * for those users, the others get empty rows).
 */
function userLists(dataset: Dataset, rows: Uint32Array, only?: Uint8Array) {
  const users = dataset.userIds.length;
  const { itemIndex, rating } = dataset.ratings;
  const byUser = rowsByUser(dataset, rows);
  const seenOffsets = new Uint32Array(users + 1);
  const topOffsets = new Uint32Array(users + 1);
  const seen: number[] = [];
  const top: number[] = [];
  for (let u = 0; u < users; u++) {
    if (!only || only[u] === 1) {
      const list = byUser.rows.subarray(byUser.offsets[u]!, byUser.offsets[u + 1]!);
      seen.push(...[...new Set(Array.from(list, (j) => itemIndex[j]!))].sort((a, b) => a - b));
      // Best rated first, ties by item; stable over the user's rows in `rows` order.
      const ranked = Array.from(list).sort(
        (a, b) => rating[b]! - rating[a]! || itemIndex[a]! - itemIndex[b]!,
      );
      for (let n = 0; n < Math.min(20, ranked.length); n++) top.push(itemIndex[ranked[n]!]!);
    }
    seenOffsets[u + 1] = seen.length;
    topOffsets[u + 1] = top.length;
  }
  return {
    seen: { offsets: seenOffsets, indexes: Uint32Array.from(seen) },
    topRated: { offsets: topOffsets, indexes: Uint32Array.from(top) },
  };
}

/** float16 round trip, as the version stores per-row scales and user factors. */
const viaFloat16 = (values: Float32Array) =>
  Float32Array.from(values, (v) => float16BitsToFloat32(float32ToFloat16Bits(v)));

/** The edge's WebAssembly SIMD int8 kernel, compiled by Node (one module, one instance per matrix). */
let simdModule: WebAssembly.Module | null = null;
function simdKernel(): Int8SimdExports {
  simdModule ??= new WebAssembly.Module(INT8_SIMD_WASM);
  return new WebAssembly.Instance(simdModule, {}).exports as unknown as Int8SimdExports;
}

/**
 * A serving model over the carve's channels, in memory and quantized as a version stores them:
 * implicit-ALS item factors int8 (float16 scales), users float16; the sparse item-item lists;
 * content int8; popularity and catalog statistics from the fit rows only.
 */
export function carveServingModel(
  dataset: Dataset,
  rows: Uint32Array,
  ranking: RankFactorExport,
  itemItem: ItemItemLists,
  content: { data: Float32Array; dim: number } | null,
  /** Per user index, 1 = a carve user: only their seen, top-rated and recent lists are built. */
  only?: Uint8Array,
): ServingModel {
  const items = dataset.movies.length;
  const users = dataset.userIds.length;
  const counts = new Uint32Array(items);
  const sums = new Float64Array(items);
  for (const j of rows) {
    const i = dataset.ratings.itemIndex[j]!;
    counts[i]!++;
    sums[i] = sums[i]! + dataset.ratings.rating[j]!;
  }
  const maxCount = Math.max(1, ...counts);
  const popularity = Float32Array.from(counts, (c) => Math.log1p(c) / Math.log1p(maxCount));
  const movies: ServedMovie[] = dataset.movies.map((m, i) => ({
    movieId: m.movieId,
    title: m.title,
    year: m.year,
    genres: m.genres,
    popularity: popularity[i]!,
    ratingCount: counts[i]!,
    meanRating: counts[i]! > 0 ? sums[i]! / counts[i]! : null,
  }));
  const k = ranking.factors;
  const q = quantizeRowsInt8(ranking.itemFactors, k);
  const itemFactors = { rows: items, cols: k, values: q.values, scales: viaFloat16(q.scales) };
  const userFactors = viaFloat16(ranking.userFactors);
  const { seen, topRated } = userLists(dataset, rows, only);
  const model = createServingModel(
    {
      version: 'carve',
      movies,
      ratingScale: dataset.ratingScale,
      globalMean: 0,
      itemIds: Uint32Array.from(dataset.movies, (m) => m.movieId),
      userIds: dataset.userIds,
      // The rating factors only predict ratings, which the ranking stage does not use.
      itemFactors,
      userFactors,
      itemBias: new Float32Array(items),
      userBias: new Float32Array(users),
      popularity,
      seen,
      topRated,
      contentEmbeddings: content ? { ...quantizeRowsInt8(content.data, content.dim), rows: items } : null,
      neighbors: {},
      foldInLambda: 1,
      ranking: {
        itemFactors,
        userFactors,
        gram: Float64Array.from(ranking.gram),
        config: ranking.config,
      },
    },
    { simd: simdKernel },
  );
  model.itemItem = itemItem;
  model.userRecent = recentCsr(dataset, rows, 10, only);
  return model;
}

export interface TrainingList {
  features: Float32Array;
  m: number;
  positives: Uint32Array;
  negatives: Uint32Array;
  /** Weight of the list in the loss (normalised to a mean of 1 over the lists). */
  weight: number;
}

function listOf(
  model: ServingModel,
  user: UserState,
  labels: Set<number>,
  perChannel: number,
  columns: Uint16Array | null,
): TrainingList | null {
  const found = learnedCandidates(model, user, { k: 10 }, perChannel);
  const positives: number[] = [];
  const negatives: number[] = [];
  for (let n = 0; n < found.ids.length; n++) (labels.has(found.ids[n]!) ? positives : negatives).push(n);
  if (positives.length === 0) return null;
  return {
    features: projectFeatures(found.features, found.ids.length, columns),
    m: found.ids.length,
    positives: Uint32Array.from(positives),
    negatives: Uint32Array.from(negatives),
    weight: 1,
  };
}

/** An anonymous carve user's ratings in time order (none of them fits the carve's channels). */
export interface AnonymousHistory {
  items: Uint32Array;
  ratings: Float32Array;
}

/** A session of `sessionSize` ratings and the movies rated next (its labels). */
export interface SessionWindow {
  session: SessionRating[];
  labels: Set<number>;
}

/**
 * Up to `count` session windows of an anonymous history, latest first: labels = `holdout`
 * consecutive ratings (movies not in the session), session = the `sessionSize` ratings just
 * before them; each next window moves `holdout` ratings back. The first is what the edge sees of
 * such a user (the served bench's protocol). The user's ratings fit none of the channels, so no
 * window's labels leak into them, whatever its position.
 */
export function sessionWindows(
  history: AnonymousHistory,
  { count, sessionSize = 5, holdout = 5 }: { count: number; sessionSize?: number; holdout?: number },
): SessionWindow[] {
  const windows: SessionWindow[] = [];
  const n = history.items.length;
  for (let cut = n - holdout; cut - sessionSize >= 0 && windows.length < count; cut -= holdout) {
    const session: SessionRating[] = [];
    for (let j = cut - sessionSize; j < cut; j++)
      session.push({ itemIndex: history.items[j]!, rating: history.ratings[j]! });
    const rated = new Set(session.map((r) => r.itemIndex));
    const labels = new Set<number>();
    for (let j = cut; j < cut + holdout; j++)
      if (!rated.has(history.items[j]!)) labels.add(history.items[j]!);
    if (labels.size > 0) windows.push({ session, labels });
  }
  return windows;
}

/** The uint8 round trip of a trained Sequential's Dense layers, as the version will hold them. */
export function quantizedLayers(model: tfl.Sequential): DenseLayer[] {
  const layers: DenseLayer[] = [];
  for (const layer of model.layers) {
    const [kernel, bias] = layer.getWeights();
    const roundTrip = (t: tf.Tensor) => {
      const values = t.dataSync() as Float32Array;
      const { bytes, quantization } = quantizeWeight(values, 'uint8');
      const { scale = 1, min = 0 } = quantization as { scale?: number; min?: number };
      return Float32Array.from(bytes, (b) => min + scale * b);
    };
    const config = layer.getConfig() as { units: number; activation: string };
    layers.push({
      inputs: kernel!.shape[0]!,
      units: config.units,
      kernel: roundTrip(kernel!),
      bias: bias ? roundTrip(bias) : new Float32Array(config.units),
      activation: config.activation === 'relu' ? 'relu' : 'linear',
    });
  }
  return layers;
}

export interface LearnedRankingOptions {
  dataset: Dataset;
  /** Training rows (the evaluation holdout is never among them). */
  rows: Uint32Array;
  /**
   * Content embeddings of the content channel, or their promise: the channels' fits (implicit ALS,
   * EASE) go ahead without them and only the serving models built on the fits wait.
   */
  content: ContentEmbeddings | null | Promise<ContentEmbeddings | null>;
  seed?: number;
  log?: (line: string) => void;
  itemItem?: ItemItemOptions;
  perChannel?: number;
  epochs?: number;
  /** Sampled negatives per list and epoch. */
  negatives?: number;
  /** Rank model (registry name) for the collaborative channel. */
  rankModel?: string;
  /** Lists per optimizer step. */
  batch?: number;
  learningRate?: number;
  /** Hidden layer widths. */
  hidden?: number[];
  /** Share of the carve users left out of the channels' fit, to come back as sessions only. */
  anonymousShare?: number;
  /** Every carve user anonymous in one of this many folds instead (`CarveOptions`). */
  anonymousFolds?: number;
  /** Session windows per anonymous training user (`sessionWindows`). */
  windows?: number;
  /** Session windows per anonymous validation user. */
  validationWindows?: number;
  /** Also train on the sessions of known carve users (the 5 ratings before their labels). */
  knownSessions?: boolean;
  /** Loss weight of all session lists together relative to all known-user lists (0: as counted). */
  sessionWeight?: number;
  /** Features the ranker reads (names of RANKER_FEATURES; default all of them). */
  features?: readonly string[];
  /** The carve and its channels, when already fitted (experiments). */
  prepared?: PreparedCarve;
  /**
   * At most this many carve users make lists (a seeded sample when there are more; a fifth of
   * them validate). Bounds the stage's cost on large data: 6,000 users give ~9,600 training lists,
   * and ml-latest-small / ml-100k (610 / 943 users) are far below it.
   */
  maxUsers?: number;
  /**
   * A fitted rank model (implicit ALS) on nearly the same rows: the carve's own fit continues from
   * it for IALS_CARVE_WARM_ITERATIONS alternations instead of a full fit.
   */
  warmFrom?: Recommender | null;
}

/** Alternations of the carve's implicit ALS when it continues from a fitted model. */
export const IALS_CARVE_WARM_ITERATIONS = 3;
/** Default cap on the carve users that make lists (LearnedRankingOptions.maxUsers). */
export const RANKER_MAX_USERS = 6000;

export interface PreparedCarve {
  carve: TimeCarve;
  /** Channels fitted on `carve.fit` less the rows of the users in `excluded`. */
  model: ServingModel;
  /** Carve users none of whose rows fit `model` (they come back as anonymous sessions only). */
  excluded: Set<number>;
  /**
   * Carve users that come back as anonymous sessions: their whole history in time order, and
   * channels fitted without any of their rows.
   */
  anonymous: Map<number, { history: AnonymousHistory; model: ServingModel }>;
}

export interface CarveOptions {
  rankModel?: string;
  itemItem?: ItemItemOptions;
  seed?: number;
  /**
   * Share of the carve users (seeded, at most `maxAnonymous`) whose rows fit none of the channels:
   * they come back as anonymous sessions, as sessions reach the edge. One fit; the others are
   * known users. Default: ANONYMOUS_CARVE.share where folds are not used.
   */
  anonymousShare?: number;
  /**
   * Instead of a share: every carve user is anonymous in one of this many folds (channels fitted
   * once per fold without its users, and once on every user for the known-user lists). Default:
   * ANONYMOUS_CARVE.folds up to ANONYMOUS_CARVE.foldMaxUsers carve users, else 0 (a share).
   */
  anonymousFolds?: number;
  maxAnonymous?: number;
  /**
   * A fitted implicit ALS to continue from (large data, see train/pipeline/train.ts): it saw every
   * training row, anonymous users' too, a leak the scale dilutes (one user among tens of thousands).
   */
  warmFrom?: Recommender | null;
  /** Carve at most this many users (a seeded sample of those with enough rows). */
  maxUsers?: number;
}

/**
 * Per user index, 1 for at most `maxUsers` users with enough rows to carve (every such user when
 * there are no more; else a seeded sample), or undefined when no sampling is needed.
 */
function carveSample(
  dataset: Dataset,
  rows: Uint32Array,
  maxUsers: number,
  seed: number,
): Uint8Array | undefined {
  const counts = new Uint32Array(dataset.userIds.length);
  for (const j of rows) counts[dataset.ratings.userIndex[j]!]!++;
  const eligible: number[] = [];
  counts.forEach((c, u) => {
    if (c >= CARVE_DEFAULTS.holdout + CARVE_DEFAULTS.sessionSize + CARVE_DEFAULTS.minFit) eligible.push(u);
  });
  if (eligible.length <= maxUsers) return undefined;
  sampleInPlace(eligible, maxUsers, createRng(seed + 29));
  const only = new Uint8Array(dataset.userIds.length);
  for (let n = 0; n < maxUsers; n++) only[eligible[n]!] = 1;
  return only;
}

/**
 * How the carve makes anonymous users. Small carves (ml-latest-small, ml-100k: a few hundred
 * users) afford a channel fit per fold, so every user also comes back as anonymous sessions;
 * larger ones leave a share of their users out of the one fit.
 */
export const ANONYMOUS_CARVE = Object.freeze({
  folds: 3,
  foldMaxUsers: 2000,
  share: 0.3,
  maxAnonymous: 2000,
});

/**
 * What the carve fits before any fit: the carve, the anonymous users' folds and histories, and
 * the channel fits it needs as slots: FULL_SLOT (every carve user: the known users' lists, with
 * folds) and one per fold, or the single fit of a share (slot 0, without the anonymous users).
 */
export interface CarvePlan {
  carve: TimeCarve;
  only: Uint8Array | undefined;
  folds: number;
  /** Fold of each anonymous user (0 with a share). */
  foldOf: Map<number, number>;
  histories: Map<number, AnonymousHistory>;
  slots: number[];
  fitRows(slot: number): Uint32Array;
  /** The slot's fitted channels (implicit ALS, EASE): no content needed yet. */
  fitChannels(slot: number): Promise<CarveChannels>;
  /** The slot's serving model over its fitted channels and the content embeddings. */
  build(slot: number, channels: CarveChannels, content: ContentEmbeddings | null): ServingModel;
  fit(slot: number): Promise<ServingModel>;
}

/** Text embeddings [movies, dim] of the content channel. */
export type ContentEmbeddings = { data: Float32Array; dim: number };

/** A carve slot's fitted channels. */
export interface CarveChannels {
  ranking: RankFactorExport;
  itemItem: ItemItemLists;
}

/** The slot of the channels fitted on every carve user (with folds). */
export const FULL_SLOT = -1;

/** Plans the time carve of `rows` and its channel fits (`prepareCarve` runs them all). */
export function planCarve(
  dataset: Dataset,
  rows: Uint32Array,
  content: ContentEmbeddings | null | Promise<ContentEmbeddings | null>,
  options: CarveOptions = {},
): CarvePlan {
  const {
    rankModel = 'ials',
    itemItem = {},
    seed = 0,
    maxAnonymous = ANONYMOUS_CARVE.maxAnonymous,
    warmFrom = null,
    maxUsers,
  } = options;
  const only = maxUsers === undefined ? undefined : carveSample(dataset, rows, maxUsers, seed);
  const carve = timeCarve(dataset, rows, only ? { only } : {});
  const small = carve.labels.size <= ANONYMOUS_CARVE.foldMaxUsers;
  const anonymousFolds =
    options.anonymousFolds ?? (small && options.anonymousShare === undefined ? ANONYMOUS_CARVE.folds : 0);
  const anonymousShare = options.anonymousShare ?? (anonymousFolds >= 2 ? 0 : ANONYMOUS_CARVE.share);
  const { userIndex, itemIndex, rating, timestamp } = dataset.ratings;
  // Fold of each anonymous user (seeded): 0 with a share, 0 .. folds - 1 with folds.
  const rng = createRng(seed + 41);
  const foldOf = new Map<number, number>();
  for (const u of [...carve.labels.keys()].sort((a, b) => a - b)) {
    if (anonymousFolds >= 2) foldOf.set(u, rng.int(anonymousFolds));
    else if (rng.next() < anonymousShare && foldOf.size < maxAnonymous) foldOf.set(u, 0);
  }
  const byUser = new Map<number, number[]>();
  for (const j of rows) {
    const u = userIndex[j]!;
    if (!foldOf.has(u)) continue;
    const list = byUser.get(u);
    if (list) list.push(j);
    else byUser.set(u, [j]);
  }
  const histories = new Map<number, AnonymousHistory>();
  for (const [u, list] of byUser) {
    list.sort((a, b) => timestamp[a]! - timestamp[b]! || a - b);
    histories.set(u, {
      items: Uint32Array.from(list, (j) => itemIndex[j]!),
      ratings: Float32Array.from(list, (j) => rating[j]!),
    });
  }
  const folds = anonymousFolds >= 2 ? anonymousFolds : 0;
  const without = (fold: number) => carve.fit.filter((j) => foldOf.get(userIndex[j]!) !== fold);
  const fitRows = (slot: number) =>
    slot === FULL_SLOT ? carve.fit : folds > 0 || foldOf.size > 0 ? without(slot) : carve.fit;
  const fitChannels = async (slot: number): Promise<CarveChannels> => {
    const fit = fitRows(slot);
    const ials = createModel(rankModel);
    if (!isRankFactorRecommender(ials)) throw new Error(`rank model ${rankModel} exports no ranking factors`);
    if (warmFrom instanceof Ials && ials instanceof Ials)
      ials.warmStartFrom(warmFrom, IALS_CARVE_WARM_ITERATIONS);
    await ials.fit({ dataset, train: fit, seed });
    return { ranking: ials.exportRankFactors(), itemItem: await fitItemItem(dataset, fit, itemItem, seed) };
  };
  const build = (slot: number, channels: CarveChannels, embeddings: ContentEmbeddings | null) =>
    carveServingModel(dataset, fitRows(slot), channels.ranking, channels.itemItem, embeddings, only);
  return {
    carve,
    only,
    folds,
    foldOf,
    histories,
    slots: folds > 0 ? [FULL_SLOT, ...Array.from({ length: folds }, (_, f) => f)] : [0],
    fitRows,
    fitChannels,
    build,
    fit: async (slot) => build(slot, await fitChannels(slot), await content),
  };
}

/** The slot whose channels rank a request: known users' or an anonymous user's. */
function slotOf(plan: CarvePlan, user: number, anonymous: boolean): number {
  if (plan.folds === 0) return 0;
  return anonymous ? plan.foldOf.get(user)! : FULL_SLOT;
}

/** A PreparedCarve over all the fitted slots of `plan`. */
export function assembleCarve(plan: CarvePlan, models: Map<number, ServingModel>): PreparedCarve {
  const share = carveShare(plan, models);
  for (const a of share.anonymous.values())
    if (!a.model) throw new Error('assembleCarve: a slot of the plan was not fitted');
  if (!share.model) throw new Error("assembleCarve: the known users' slot was not fitted");
  return share as PreparedCarve;
}

/**
 * A thread's share of a carve: the slots it fitted in `models`, null where another thread holds
 * the slot (its requests are enumerated all the same, so both threads number them alike).
 */
interface CarveShare {
  carve: TimeCarve;
  model: ServingModel | null;
  excluded: Set<number>;
  anonymous: Map<number, { history: AnonymousHistory; model: ServingModel | null }>;
}

function carveShare(plan: CarvePlan, models: Map<number, ServingModel>): CarveShare {
  const anonymous = new Map<number, { history: AnonymousHistory; model: ServingModel | null }>();
  for (const u of plan.foldOf.keys())
    anonymous.set(u, { history: plan.histories.get(u)!, model: models.get(slotOf(plan, u, true)) ?? null });
  return {
    carve: plan.carve,
    model: models.get(slotOf(plan, -2, false)) ?? null,
    excluded: plan.folds > 0 ? new Set() : new Set(plan.foldOf.keys()),
    anonymous,
  };
}

/**
 * The time carve of `rows` and a serving model over channels fitted on its earlier part, and the
 * anonymous users (`CarveOptions`) with channels that never saw them.
 */
export async function prepareCarve(
  dataset: Dataset,
  rows: Uint32Array,
  content: ContentEmbeddings | null,
  options: CarveOptions = {},
): Promise<PreparedCarve> {
  const plan = planCarve(dataset, rows, content, options);
  const models = new Map<number, ServingModel>();
  for (const slot of plan.slots) models.set(slot, await plan.fit(slot));
  return assembleCarve(plan, models);
}

/** What ranks a kind of user on validation: the stage and every alternative the edge serves. */
export interface KindScores {
  learned: number;
  blend: number;
  ials: number;
  itemItem: number;
  lists: number;
}

export interface LearnedRankingResult {
  model: tfl.Sequential;
  layers: DenseLayer[];
  config: LearnedRankingConfig;
  /**
   * nDCG@10 on the carve's validation users: known users (labels = their latest ratings), and
   * sessions (the windows of anonymous validation users, else known users' sessions).
   */
  validation: { users: KindScores; sessions: KindScores };
  lists: number;
  seconds: { channels: number; features: number; fit: number; validation: number };
}

/** A labelled request: a user state, the channels it is served from, the movies it should find. */
interface Labelled {
  model: ServingModel;
  user: UserState;
  labels: Set<number>;
}

/**
 * The requests of carve users: known users, their sessions, anonymous users' session windows, in
 * user order; null where another thread holds the request's channels.
 */
function requests(
  prepared: CarveShare,
  users: readonly number[],
  { windows, knownSessions }: { windows: number; knownSessions: boolean },
): { known: (Labelled | null)[]; sessions: (Labelled | null)[] } {
  const { carve, model, anonymous, excluded } = prepared;
  const known: (Labelled | null)[] = [];
  const sessions: (Labelled | null)[] = [];
  for (const u of users) {
    const anon = anonymous.get(u);
    if (anon) {
      for (const w of sessionWindows(anon.history, { count: windows }))
        sessions.push(
          anon.model
            ? { model: anon.model, user: sessionUser(anon.model, w.session), labels: w.labels }
            : null,
        );
    }
    if (excluded.has(u)) continue;
    const labels = carve.labels.get(u)!;
    known.push(model ? { model, user: knownUser(model, u), labels } : null);
    if (knownSessions)
      sessions.push(model ? { model, user: sessionUser(model, carve.sessions.get(u)!), labels } : null);
  }
  return { known, sessions };
}

/** The training list of each request this thread holds (null: no positive among its candidates). */
function ownLists(
  rs: readonly (Labelled | null)[],
  perChannel: number,
  columns: Uint16Array | null,
): Map<number, TrainingList | null> {
  const out = new Map<number, TrainingList | null>();
  rs.forEach((r, n) => {
    if (r) out.set(n, listOf(r.model, r.user, r.labels, perChannel, columns));
  });
  return out;
}

/** Lists in request order from this thread's and the helper's, without the empty ones. */
function mergeLists(
  count: number,
  own: Map<number, TrainingList | null>,
  other: Map<number, TrainingList | null> | null,
): TrainingList[] {
  const out: TrainingList[] = [];
  for (let n = 0; n < count; n++) {
    const list = own.has(n) ? own.get(n) : other?.get(n);
    if (list === undefined) throw new Error(`learned stage: request ${n} has no list`);
    if (list) out.push(list);
  }
  return out;
}

/** Known-user and session lists together, the session lists sharing `sessionWeight` × the known ones' weight. */
function trainingLists(
  knownLists: TrainingList[],
  sessionLists: TrainingList[],
  sessionWeight: number,
): TrainingList[] {
  if (sessionWeight > 0 && sessionLists.length > 0) {
    const each = (sessionWeight * Math.max(1, knownLists.length)) / sessionLists.length;
    for (const l of sessionLists) l.weight = each;
  }
  const all = [...knownLists, ...sessionLists];
  const mean = all.reduce((a, l) => a + l.weight, 0) / Math.max(1, all.length);
  for (const l of all) l.weight /= mean || 1;
  return all;
}

export interface NetOptions {
  /** Features per candidate. */
  inputs: number;
  epochs: number;
  negatives: number;
  batch: number;
  learningRate: number;
  hidden: number[];
  seed: number;
  log?: (line: string) => void;
  /**
   * 'float32' (default): Adam's update on the host, the very float32 operations of TF.js's
   * AdamOptimizer in its order (`Float32Adam`), one upload per variable and step instead of ~14
   * kernel calls; 'tfjs': tf.train.adam itself. The two give the same weights, bit for bit.
   */
  optimizer?: 'float32' | 'tfjs';
}

const f32 = Math.fround;

/**
 * Adam as TF.js's AdamOptimizer computes it (tfjs-core 4.22 `applyGradients`): per element the
 * same float32 operations in the same order, each rounded to float32 (a float32 +, −, ×, ÷ or √
 * done in float64 and rounded once is the correctly rounded float32 result), with the scalars
 * TF.js makes of β1, 1 − β1, β2, 1 − β2, ε and −lr. Moments and β powers live on the host; each
 * step reads the gradients and writes each variable once.
 */
class Float32Adam {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private readonly values: Float32Array[];
  private accBeta1: number;
  private accBeta2: number;
  private readonly s: { b1: number; omb1: number; b2: number; omb2: number; eps: number; negLr: number };

  constructor(
    private readonly variables: tf.Variable[],
    learningRate: number,
    beta1 = 0.9,
    beta2 = 0.999,
  ) {
    this.values = variables.map((variable) => Float32Array.from(variable.dataSync() as Float32Array));
    this.m = this.values.map((x) => new Float32Array(x.length));
    this.v = this.values.map((x) => new Float32Array(x.length));
    this.accBeta1 = f32(beta1);
    this.accBeta2 = f32(beta2);
    this.s = {
      b1: f32(beta1),
      omb1: f32(1 - beta1),
      b2: f32(beta2),
      omb2: f32(1 - beta2),
      eps: f32(tf.backend().epsilon()),
      negLr: f32(-learningRate),
    };
  }

  /** One step from the loss function's gradients; returns the loss. */
  async step(loss: () => tf.Scalar): Promise<number> {
    const { value, grads } = tf.variableGrads(loss, this.variables);
    const { b1, omb1, b2, omb2, eps, negLr } = this.s;
    const oneMinusAccBeta1 = f32(1 - this.accBeta1);
    const oneMinusAccBeta2 = f32(1 - this.accBeta2);
    this.variables.forEach((variable, n) => {
      const g = grads[variable.name]!.dataSync() as Float32Array;
      const m = this.m[n]!;
      const v = this.v[n]!;
      const x = this.values[n]!;
      for (let i = 0; i < x.length; i++) {
        const gi = g[i]!;
        const mi = f32(f32(m[i]! * b1) + f32(gi * omb1));
        const vi = f32(f32(v[i]! * b2) + f32(f32(gi * gi) * omb2));
        m[i] = mi;
        v[i] = vi;
        const mHat = f32(mi / oneMinusAccBeta1);
        const vHat = f32(vi / oneMinusAccBeta2);
        const update = f32(f32(mHat / f32(f32(Math.sqrt(vHat)) + eps)) * negLr);
        x[i] = f32(update + x[i]!);
      }
      variable.assign(tf.tensor(x, variable.shape, 'float32'));
    });
    this.accBeta1 = f32(this.accBeta1 * b1);
    this.accBeta2 = f32(this.accBeta2 * b2);
    tf.dispose(Object.values(grads));
    const lossValue = (await value.data())[0]!;
    value.dispose();
    return lossValue;
  }
}

/** The ranker MLP fitted with a listwise softmax loss over `lists` (fresh negatives every epoch). */
export async function fitRankerNet(
  lists: readonly TrainingList[],
  options: NetOptions,
): Promise<tfl.Sequential> {
  const {
    inputs,
    epochs,
    negatives,
    batch,
    learningRate,
    hidden,
    seed,
    log = () => {},
    optimizer: optimizerKind = 'float32',
  } = options;
  const rng = createRng(seed + 23);
  // Seeded initial weights: a training run is reproducible on one backend.
  const initializer = (n: number) => tfl.initializers.glorotUniform({ seed: seed * 101 + n });
  const net = tfl.sequential({
    layers: [
      ...hidden.map((units, n) =>
        tfl.layers.dense({
          ...(n === 0 ? { inputShape: [inputs] } : {}),
          units,
          activation: 'relu',
          kernelInitializer: initializer(n),
          name: `ranker_hidden${n + 1}`,
        }),
      ),
      tfl.layers.dense({
        ...(hidden.length === 0 ? { inputShape: [inputs] } : {}),
        units: 1,
        activation: 'linear',
        kernelInitializer: initializer(hidden.length),
        name: 'ranker_logit',
      }),
    ],
  });
  const optimizer = optimizerKind === 'tfjs' ? tf.train.adam(learningRate) : null;
  const host = optimizer
    ? null
    : new Float32Adam(
        net.trainableWeights.map((w) => w.read() as tf.Variable),
        learningRate,
      );
  const width = 5 + negatives;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = lists.map((_, n) => n);
    for (let n = order.length - 1; n > 0; n--) {
      const r = rng.int(n + 1);
      [order[n], order[r]] = [order[r]!, order[n]!];
    }
    let lossSum = 0;
    let batches = 0;
    for (let start = 0; start < order.length; start += batch) {
      const chunk = order.slice(start, start + batch);
      const b = chunk.length;
      const x = new Float32Array(b * width * inputs);
      const labels = new Float32Array(b * width);
      const valid = new Float32Array(b * width);
      chunk.forEach((listIndex, row) => {
        const list = lists[listIndex]!;
        const pos = list.positives.slice(0, 5);
        const picks: number[] = [...pos];
        const negCount = Math.min(negatives, list.negatives.length);
        // Fresh negatives every epoch (partial Fisher-Yates over a copy).
        const pool = list.negatives.slice();
        sampleInPlace(pool, negCount, rng);
        for (let s = 0; s < negCount; s++) picks.push(pool[s]!);
        picks.forEach((p, slot) => {
          const at = row * width + slot;
          x.set(list.features.subarray(p * inputs, (p + 1) * inputs), at * inputs);
          valid[at] = 1;
          if (slot < pos.length) labels[at] = list.weight / pos.length;
        });
      });
      const lossFn = () =>
        tf.tidy(() => {
          const xs = tf.tensor2d(x, [b * width, inputs]);
          const logits = tf.reshape(net.apply(xs) as tf.Tensor, [b, width]);
          const mask = tf.tensor2d(valid, [b, width]);
          const masked = tf.add(logits, tf.mul(tf.sub(mask, 1), 1e9));
          const logp = tf.logSoftmax(masked);
          const y = tf.tensor2d(labels, [b, width]);
          return tf.div(tf.neg(tf.sum(tf.mul(y, logp))), b) as tf.Scalar;
        });
      if (host) lossSum += await host.step(lossFn);
      else {
        const loss = optimizer!.minimize(lossFn, true);
        lossSum += (await loss!.data())[0]!;
        loss!.dispose();
      }
      batches++;
    }
    log(`ranker epoch ${epoch + 1}/${epochs}: listwise loss ${(lossSum / Math.max(1, batches)).toFixed(4)}`);
  }
  optimizer?.dispose();
  return net;
}

/** nDCG@10 of the alternatives the edge can serve on one request: [blend, iALS, item-item]. */
function alternativeScores({ model, user, labels }: Labelled): number[] {
  const only = { collaborative: 1, content: 0, popularity: 0 };
  const ranked = (options: Partial<RecommendOptions>) =>
    recommend(model, user, { k: 10, ...options }).items.map((it) => it.itemIndex);
  return [
    ndcgAt(ranked({ stage: 'blend' }), labels, 10),
    ndcgAt(ranked({ stage: 'blend', blend: { newUser: only, regular: only } }), labels, 10),
    model.itemItem ? ndcgAt(ranked({ stage: 'itemItem' }), labels, 10) : 0,
  ];
}

/** nDCG@10 of the learned stage on one request (0 when its model has none). */
function learnedScore({ model, user, labels }: Labelled): number {
  if (!model.learned) return 0;
  const ranked = recommend(model, user, { k: 10, stage: 'learned' }).items.map((it) => it.itemIndex);
  return ndcgAt(ranked, labels, 10);
}

/** Per request this thread holds: [learned, blend, iALS, item-item] (alternatives first, then learned). */
async function ownScores(
  rs: readonly (Labelled | null)[],
  learned: Promise<void>,
): Promise<Map<number, number[]>> {
  const alternatives = new Map<number, number[]>();
  rs.forEach((r, n) => {
    if (r) alternatives.set(n, alternativeScores(r));
  });
  await learned;
  const out = new Map<number, number[]>();
  for (const [n, alt] of alternatives) out.set(n, [learnedScore(rs[n]!), ...alt]);
  return out;
}

/** Mean nDCG@10 of the stage and of each alternative over requests, summed in request order. */
function kindScores(
  count: number,
  own: Map<number, number[]>,
  other: Map<number, number[]> | null,
): KindScores {
  const s: KindScores = { learned: 0, blend: 0, ials: 0, itemItem: 0, lists: 0 };
  for (let r = 0; r < count; r++) {
    const v = own.get(r) ?? other?.get(r);
    if (!v) throw new Error(`learned stage: request ${r} has no scores`);
    s.learned += v[0]!;
    s.blend += v[1]!;
    s.ials += v[2]!;
    s.itemItem += v[3]!;
    s.lists++;
  }
  const n = Math.max(1, s.lists);
  return {
    learned: s.learned / n,
    blend: s.blend / n,
    ials: s.ials / n,
    itemItem: s.itemItem / n,
    lists: s.lists,
  };
}

/**
 * Per kind of user: the stage where it beats every alternative on validation, else the best
 * alternative (the blend on ties, as versions without a fallback serve it).
 */
export function stageChoice(score: { users: KindScores; sessions: KindScores }): {
  enabled: LearnedRankingConfig['enabled'];
  fallback: NonNullable<LearnedRankingConfig['fallback']>;
} {
  const pick = (s: KindScores): RankingFallback => {
    let best: RankingFallback = 'blend';
    let value = s.blend;
    if (s.itemItem > value) [best, value] = ['itemItem', s.itemItem];
    if (s.ials > value) best = 'collaborative';
    return best;
  };
  const best = (s: KindScores) => Math.max(s.blend, s.itemItem, s.ials);
  return {
    enabled: {
      users: score.users.learned > best(score.users),
      sessions: score.sessions.learned > best(score.sessions),
    },
    fallback: { users: pick(score.users), sessions: pick(score.sessions) },
  };
}

/** At most about this many anonymous session lists, for training and for validation. */
export const SESSION_LIST_BUDGET = Object.freeze({ training: 10_000, validation: 2_500 });

/**
 * A second thread's share of the learned stage (train/pipeline/learned-stage.ts): it fits the
 * channel slots `slots` of the same plan, makes the lists and validation scores of the requests
 * they rank, and hands them over. Only for carves with folds (several channel fits).
 */
export interface LearnedHelper {
  /** Hands the helper its share (the slots `helperSlots(folds)` of the same options). */
  start(): void;
  /** Its lists, by request index (known users, sessions). */
  lists(): Promise<HelperLists>;
  /** Its validation scores by request index, once it has the fitted layers. */
  scores(layers: DenseLayer[]): Promise<HelperScores>;
}

/** The channel slots a helper fits on a carve with `folds` folds: the later half of the folds. */
export function helperSlots(folds: number): number[] {
  const out: number[] = [];
  for (let f = Math.floor(folds / 2); f < folds; f++) out.push(f);
  return folds >= 2 ? out : [];
}

export interface HelperLists {
  known: Map<number, TrainingList | null>;
  sessions: Map<number, TrainingList | null>;
}

export interface HelperScores {
  known: Map<number, number[]>;
  sessions: Map<number, number[]>;
}

/** The users of a carve that make lists, and the fifth of them kept for validation (seeded). */
function carveUsers(
  carve: TimeCarve,
  maxUsers: number,
  seed: number,
  log: (line: string) => void,
): { validation: Set<number>; fitUsers: number[] } {
  const rng = createRng(seed + 17);
  let users = [...carve.labels.keys()].sort((a, b) => a - b);
  if (users.length > maxUsers) {
    // A seeded sample (partial Fisher-Yates), kept in user order.
    const pick = sampleInPlace(users.slice(), maxUsers, rng);
    log(
      `ranker: ${maxUsers.toLocaleString('en-US')} of ${users.length.toLocaleString('en-US')} carve users sampled`,
    );
    users = pick.slice(0, maxUsers).sort((a, b) => a - b);
  }
  const validation = new Set(users.filter(() => rng.next() < 0.2));
  return { validation, fitUsers: users.filter((u) => !validation.has(u)) };
}

/** Session windows per anonymous user within a list budget (large carves: fewer per user). */
function windowsPerUser(
  prepared: CarveShare,
  budget: number,
  wanted: number,
  among: readonly number[],
): number {
  const count = among.filter((u) => prepared.anonymous.has(u)).length;
  return Math.max(1, Math.min(wanted, Math.floor(budget / Math.max(1, count))));
}

/** The helper's side of `fitLearnedRanking` (`LearnedHelper`): same options, its slots. */
export async function learnedHelperPart(
  options: LearnedRankingOptions,
  link: {
    sendLists(lists: HelperLists): void;
    layers: Promise<DenseLayer[]>;
    sendScores(scores: HelperScores): void;
  },
): Promise<void> {
  const o = learnedDefaults(options);
  const plan = planCarve(o.dataset, o.rows, o.content, carveOptions(o));
  const models = new Map<number, ServingModel>();
  const fitted: [number, CarveChannels][] = [];
  for (const slot of helperSlots(plan.folds)) fitted.push([slot, await plan.fitChannels(slot)]);
  const content = await o.content;
  for (const [slot, channels] of fitted) {
    const model = plan.build(slot, channels, content);
    model.learned = null;
    models.set(slot, model);
  }
  const share = carveShare(plan, models);
  const { validation, fitUsers } = carveUsers(plan.carve, o.maxUsers, o.seed, () => {});
  const columns = featureColumns(o.features);
  const fitOn = requests(share, fitUsers, {
    windows: windowsPerUser(share, SESSION_LIST_BUDGET.training, o.windows, fitUsers),
    knownSessions: o.knownSessions,
  });
  link.sendLists({
    known: ownLists(fitOn.known, o.perChannel, columns),
    sessions: ownLists(fitOn.sessions, o.perChannel, columns),
  });
  const judged = requests(share, [...validation], {
    windows: windowsPerUser(share, SESSION_LIST_BUDGET.validation, o.validationWindows, [...validation]),
    knownSessions: share.anonymous.size === 0,
  });
  const learned = link.layers.then((layers) => {
    const stage = createLearnedStage(layers, {
      features: o.features,
      perChannel: o.perChannel,
      enabled: { users: true, sessions: true },
    });
    for (const model of models.values()) model.learned = stage;
  });
  const [known, sessions] = [
    await ownScores(judged.known, learned),
    await ownScores(judged.sessions, learned),
  ];
  link.sendScores({ known, sessions });
}

function learnedDefaults(options: LearnedRankingOptions) {
  const {
    seed = 0,
    log = (_line: string) => {},
    itemItem = {},
    perChannel = 100,
    epochs = 8,
    negatives = 50,
    rankModel = 'ials',
    batch = 8,
    learningRate = 0.01,
    hidden = [32, 16],
    windows = 16,
    validationWindows = 8,
    knownSessions = false,
    sessionWeight = 0,
    features = RANKER_FEATURES,
    maxUsers = RANKER_MAX_USERS,
    warmFrom = null,
  } = options;
  return {
    ...options,
    seed,
    log,
    itemItem,
    perChannel,
    epochs,
    negatives,
    rankModel,
    batch,
    learningRate,
    hidden,
    windows,
    validationWindows,
    knownSessions,
    sessionWeight,
    features,
    maxUsers,
    warmFrom,
  };
}

function carveOptions(o: ReturnType<typeof learnedDefaults>): CarveOptions {
  return {
    rankModel: o.rankModel,
    itemItem: o.itemItem,
    seed: o.seed,
    warmFrom: o.warmFrom,
    maxUsers: o.maxUsers,
    ...(o.anonymousShare === undefined ? {} : { anonymousShare: o.anonymousShare }),
    ...(o.anonymousFolds === undefined ? {} : { anonymousFolds: o.anonymousFolds }),
  };
}

/**
 * Fits the learned ranking stage on a time carve of `rows` (see the module comment). With a
 * `helper` (a second thread) on a carve with folds, the helper fits its channel slots and makes
 * their lists and validation scores meanwhile; the result is the same as without it.
 */
export async function fitLearnedRanking(
  options: LearnedRankingOptions & { helper?: LearnedHelper },
): Promise<LearnedRankingResult> {
  const o = learnedDefaults(options);
  const { log, seed, perChannel, features } = o;
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    const sec = (now - t) / 1000;
    t = now;
    return sec;
  };
  let share: CarveShare;
  let helper: LearnedHelper | null = null;
  let theirs: number[] = [];
  const models = new Set<ServingModel>();
  if (o.prepared) {
    share = o.prepared;
    for (const model of [o.prepared.model, ...[...o.prepared.anonymous.values()].map((a) => a.model)])
      models.add(model);
  } else {
    const plan = planCarve(o.dataset, o.rows, o.content, carveOptions(o));
    helper = options.helper && plan.folds >= 2 ? options.helper : null;
    helper?.start();
    theirs = helper ? helperSlots(plan.folds) : [];
    const channels: [number, CarveChannels][] = [];
    for (const slot of plan.slots)
      if (!theirs.includes(slot)) channels.push([slot, await plan.fitChannels(slot)]);
    const content = await o.content;
    const fitted = new Map<number, ServingModel>();
    for (const [slot, fit] of channels) {
      const model = plan.build(slot, fit, content);
      fitted.set(slot, model);
      models.add(model);
    }
    share = carveShare(plan, fitted);
  }
  for (const model of models) model.learned = null;
  const { carve } = share;
  const channelSeconds = lap();

  const { validation, fitUsers } = carveUsers(carve, o.maxUsers, seed, log);
  const fitOn = requests(share, fitUsers, {
    windows: windowsPerUser(share, SESSION_LIST_BUDGET.training, o.windows, fitUsers),
    knownSessions: o.knownSessions,
  });
  const columns = featureColumns(features);
  const ownKnown = ownLists(fitOn.known, perChannel, columns);
  const ownSessions = ownLists(fitOn.sessions, perChannel, columns);
  const fromHelper = helper ? await helper.lists() : null;
  const train = trainingLists(
    mergeLists(fitOn.known.length, ownKnown, fromHelper?.known ?? null),
    mergeLists(fitOn.sessions.length, ownSessions, fromHelper?.sessions ?? null),
    o.sessionWeight,
  );
  const featureSeconds = lap();

  const net = await fitRankerNet(train, {
    inputs: features.length,
    epochs: o.epochs,
    negatives: o.negatives,
    batch: o.batch,
    learningRate: o.learningRate,
    hidden: o.hidden,
    seed,
    log,
  });
  const fitSeconds = lap();

  const layers = quantizedLayers(net);
  const helperScores = helper ? helper.scores(layers) : null;
  helperScores?.catch(() => {});
  const stage = createLearnedStage(layers, {
    features,
    perChannel,
    enabled: { users: true, sessions: true },
  });
  for (const model of models) model.learned = stage;
  // Sessions are judged where the channels never saw the user when the carve has such users.
  const judged = requests(share, [...validation], {
    windows: windowsPerUser(share, SESSION_LIST_BUDGET.validation, o.validationWindows, [...validation]),
    knownSessions: share.anonymous.size === 0,
  });
  const ownKnownScores = await ownScores(judged.known, Promise.resolve());
  const ownSessionScores = await ownScores(judged.sessions, Promise.resolve());
  const other = helperScores ? await helperScores : null;
  const score = {
    users: kindScores(judged.known.length, ownKnownScores, other?.known ?? null),
    sessions: kindScores(judged.sessions.length, ownSessionScores, other?.sessions ?? null),
  };
  const config: LearnedRankingConfig = {
    features: [...features],
    perChannel,
    ...stageChoice(score),
  };
  const validationSeconds = lap();
  log(
    `ranker seconds: channels ${channelSeconds.toFixed(1)}, features ${featureSeconds.toFixed(1)}, fit ${fitSeconds.toFixed(1)}, validation ${validationSeconds.toFixed(1)}${helper ? ` (a second thread fitted ${theirs.length} of the channel fits, their lists and scores)` : ''}`,
  );
  const line = (sc: KindScores) =>
    `${[sc.learned, sc.blend, sc.ials, sc.itemItem].map((x) => x.toFixed(4)).join(' / ')} (${sc.lists} lists)`;
  log(
    `ranker validation nDCG@10 (learned / blend / iALS / item-item): users ${line(score.users)}, sessions ${line(score.sessions)}; ${train.length} training lists`,
  );
  return {
    model: net,
    layers,
    config,
    validation: score,
    lists: train.length,
    seconds: {
      channels: channelSeconds,
      features: featureSeconds,
      fit: fitSeconds,
      validation: validationSeconds,
    },
  };
}
