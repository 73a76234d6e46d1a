/**
 * Training of the learned ranking stage (shared/serving/ranker.ts) and of the sparse item-item
 * (EASE) channel it draws candidates from.
 *
 * Time-respecting carve of the training rows (never the evaluation holdout): per user, the latest
 * `holdout` ratings are the labels, everything before them fits the channels (implicit ALS and
 * EASE, as the version will serve them, int8 and sparse), and the 5 ratings just before the labels
 * make a session. Each carve user gives two lists (as a known user, and as that session): the
 * candidates and features come from `learnedCandidates`, the very code the edge runs. A small MLP
 * (features -> 32 -> 16 -> 1, TF.js on the backend `train/backend.ts` picks) learns a listwise
 * softmax loss over each list (labels spread over the list's positives, sampled negatives fresh
 * every epoch). A fifth of the carve users are kept for validation: the stage is enabled for known
 * users and for sessions only where it beats the linear blend there, scored through
 * `recommend()` with the uint8-dequantized weights the version will hold.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { quantizeWeight } from '../../shared/artifacts/tfjs.ts';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../shared/artifacts/float16.ts';
import { quantizeRowsInt8 } from '../../shared/kernels/int8.ts';
import type { Int8SimdExports } from '../../shared/kernels/int8-simd.ts';
import { INT8_SIMD_WASM } from '../../shared/kernels/int8-simd-wasm.ts';
import { applyMask, buildItemMask } from '../../shared/kernels/filters.ts';
import { type ItemItemLists, itemItemScores, sparsifyItemItem } from '../../shared/kernels/sparse-item.ts';
import { topK } from '../../shared/kernels/topk.ts';
import { createServingModel, type ServedMovie, type ServingModel } from '../../shared/serving/model.ts';
import {
  createLearnedStage,
  type DenseLayer,
  type LearnedRankingConfig,
  learnedCandidates,
  RANKER_FEATURE_COUNT,
  RANKER_FEATURES,
} from '../../shared/serving/ranker.ts';
import {
  knownUser,
  type RecommendOptions,
  recommend,
  type SessionRating,
  sessionUser,
  type UserState,
} from '../../shared/serving/scoring.ts';
import { createRng } from '../../shared/random.ts';
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
    holdout = 5,
    sessionSize = 5,
    minFit = 5,
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

interface TrainingList {
  features: Float32Array;
  m: number;
  positives: Uint32Array;
  negatives: Uint32Array;
}

function listOf(
  model: ServingModel,
  user: UserState,
  labels: Set<number>,
  perChannel: number,
): TrainingList | null {
  const found = learnedCandidates(model, user, { k: 10 }, perChannel);
  const positives: number[] = [];
  const negatives: number[] = [];
  for (let n = 0; n < found.ids.length; n++) (labels.has(found.ids[n]!) ? positives : negatives).push(n);
  if (positives.length === 0) return null;
  return {
    features: found.features,
    m: found.ids.length,
    positives: Uint32Array.from(positives),
    negatives: Uint32Array.from(negatives),
  };
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
  content: { data: Float32Array; dim: number } | null;
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
  model: ServingModel;
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
    if (c >= 15) eligible.push(u);
  });
  if (eligible.length <= maxUsers) return undefined;
  const rng = createRng(seed + 29);
  for (let n = 0; n < maxUsers; n++) {
    const r = n + rng.int(eligible.length - n);
    [eligible[n], eligible[r]] = [eligible[r]!, eligible[n]!];
  }
  const only = new Uint8Array(dataset.userIds.length);
  for (let n = 0; n < maxUsers; n++) only[eligible[n]!] = 1;
  return only;
}

/** The time carve of `rows` and a serving model over channels fitted on its earlier part. */
export async function prepareCarve(
  dataset: Dataset,
  rows: Uint32Array,
  content: { data: Float32Array; dim: number } | null,
  {
    rankModel = 'ials',
    itemItem = {},
    seed = 0,
    warmFrom = null,
    maxUsers,
  }: {
    rankModel?: string;
    itemItem?: ItemItemOptions;
    seed?: number;
    warmFrom?: Recommender | null;
    /** Carve at most this many users (a seeded sample of those with enough rows). */
    maxUsers?: number;
  } = {},
): Promise<PreparedCarve> {
  const only = maxUsers === undefined ? undefined : carveSample(dataset, rows, maxUsers, seed);
  const carve = timeCarve(dataset, rows, only ? { only } : {});
  const ials = createModel(rankModel);
  if (!isRankFactorRecommender(ials)) throw new Error(`rank model ${rankModel} exports no ranking factors`);
  if (warmFrom instanceof Ials && ials instanceof Ials)
    ials.warmStartFrom(warmFrom, IALS_CARVE_WARM_ITERATIONS);
  await ials.fit({ dataset, train: carve.fit, seed });
  const lists = await fitItemItem(dataset, carve.fit, itemItem, seed);
  return {
    carve,
    model: carveServingModel(dataset, carve.fit, ials.exportRankFactors(), lists, content, only),
  };
}

export interface LearnedRankingResult {
  model: tfl.Sequential;
  layers: DenseLayer[];
  config: LearnedRankingConfig;
  /** nDCG@10 on the carve's validation users (labels = their latest ratings). */
  validation: {
    users: { learned: number; blend: number; ials: number; itemItem: number; lists: number };
    sessions: { learned: number; blend: number; ials: number; itemItem: number; lists: number };
  };
  lists: number;
  seconds: { channels: number; features: number; fit: number; validation: number };
}

/** Fits the learned ranking stage on a time carve of `rows` (see the module comment). */
export async function fitLearnedRanking({
  dataset,
  rows,
  content,
  seed = 0,
  log = () => {},
  itemItem = {},
  perChannel = 100,
  epochs = 8,
  negatives = 50,
  rankModel = 'ials',
  batch = 8,
  learningRate = 0.01,
  hidden = [32, 16],
  prepared,
  maxUsers = RANKER_MAX_USERS,
  warmFrom = null,
}: LearnedRankingOptions): Promise<LearnedRankingResult> {
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    const s = (now - t) / 1000;
    t = now;
    return s;
  };
  const { carve, model } =
    prepared ??
    (await prepareCarve(dataset, rows, content, { rankModel, itemItem, seed, warmFrom, maxUsers }));
  model.learned = null;
  const channelSeconds = lap();

  const rng = createRng(seed + 17);
  let users = [...carve.labels.keys()].sort((a, b) => a - b);
  if (users.length > maxUsers) {
    // A seeded sample (partial Fisher-Yates), kept in user order.
    const pick = users.slice();
    for (let n = 0; n < maxUsers; n++) {
      const r = n + rng.int(pick.length - n);
      [pick[n], pick[r]] = [pick[r]!, pick[n]!];
    }
    log(
      `ranker: ${maxUsers.toLocaleString('en-US')} of ${users.length.toLocaleString('en-US')} carve users sampled`,
    );
    users = pick.slice(0, maxUsers).sort((a, b) => a - b);
  }
  const validation = new Set(users.filter(() => rng.next() < 0.2));
  const train: TrainingList[] = [];
  for (const u of users) {
    if (validation.has(u)) continue;
    const labels = carve.labels.get(u)!;
    const known = listOf(model, knownUser(model, u), labels, perChannel);
    if (known) train.push(known);
    const session = listOf(model, sessionUser(model, carve.sessions.get(u)!), labels, perChannel);
    if (session) train.push(session);
  }
  const featureSeconds = lap();

  const net = tfl.sequential({
    layers: [
      ...hidden.map((units, n) =>
        tfl.layers.dense({
          ...(n === 0 ? { inputShape: [RANKER_FEATURE_COUNT] } : {}),
          units,
          activation: 'relu',
          name: `ranker_hidden${n + 1}`,
        }),
      ),
      tfl.layers.dense({
        ...(hidden.length === 0 ? { inputShape: [RANKER_FEATURE_COUNT] } : {}),
        units: 1,
        activation: 'linear',
        name: 'ranker_logit',
      }),
    ],
  });
  const optimizer = tf.train.adam(learningRate);
  const width = 5 + negatives;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = train.map((_, n) => n);
    for (let n = order.length - 1; n > 0; n--) {
      const r = rng.int(n + 1);
      [order[n], order[r]] = [order[r]!, order[n]!];
    }
    let lossSum = 0;
    let batches = 0;
    for (let start = 0; start < order.length; start += batch) {
      const chunk = order.slice(start, start + batch);
      const b = chunk.length;
      const x = new Float32Array(b * width * RANKER_FEATURE_COUNT);
      const labels = new Float32Array(b * width);
      const valid = new Float32Array(b * width);
      chunk.forEach((listIndex, row) => {
        const list = train[listIndex]!;
        const pos = list.positives.slice(0, 5);
        const picks: number[] = [...pos];
        const negCount = Math.min(negatives, list.negatives.length);
        // Fresh negatives every epoch (partial Fisher-Yates over a copy).
        const pool = list.negatives.slice();
        for (let s = 0; s < negCount; s++) {
          const r = s + rng.int(pool.length - s);
          const tmp = pool[s]!;
          pool[s] = pool[r]!;
          pool[r] = tmp;
          picks.push(pool[s]!);
        }
        picks.forEach((p, slot) => {
          const at = row * width + slot;
          x.set(
            list.features.subarray(p * RANKER_FEATURE_COUNT, (p + 1) * RANKER_FEATURE_COUNT),
            at * RANKER_FEATURE_COUNT,
          );
          valid[at] = 1;
          if (slot < pos.length) labels[at] = 1 / pos.length;
        });
      });
      const loss = optimizer.minimize(
        () =>
          tf.tidy(() => {
            const xs = tf.tensor2d(x, [b * width, RANKER_FEATURE_COUNT]);
            const logits = tf.reshape(net.apply(xs) as tf.Tensor, [b, width]);
            const mask = tf.tensor2d(valid, [b, width]);
            const masked = tf.add(logits, tf.mul(tf.sub(mask, 1), 1e9));
            const logp = tf.logSoftmax(masked);
            const y = tf.tensor2d(labels, [b, width]);
            return tf.div(tf.neg(tf.sum(tf.mul(y, logp))), b) as tf.Scalar;
          }),
        true,
      );
      lossSum += (await loss!.data())[0]!;
      loss!.dispose();
      batches++;
    }
    log(`ranker epoch ${epoch + 1}/${epochs}: listwise loss ${(lossSum / Math.max(1, batches)).toFixed(4)}`);
  }
  optimizer.dispose();
  const fitSeconds = lap();

  const layers = quantizedLayers(net);
  const enabledAll = { users: true, sessions: true };
  model.learned = createLearnedStage(layers, { features: RANKER_FEATURES, perChannel, enabled: enabledAll });
  const score = {
    users: { learned: 0, blend: 0, ials: 0, itemItem: 0, lists: 0 },
    sessions: { learned: 0, blend: 0, ials: 0, itemItem: 0, lists: 0 },
  };
  const only = { collaborative: 1, content: 0, popularity: 0 };
  const itemScores = new Float32Array(model.itemCount);
  for (const u of validation) {
    const labels = carve.labels.get(u)!;
    for (const [kind, user] of [
      ['users', knownUser(model, u)],
      ['sessions', sessionUser(model, carve.sessions.get(u)!)],
    ] as const) {
      const ranked = (options: Partial<RecommendOptions>) =>
        recommend(model, user, { k: 10, ...options }).items.map((it) => it.itemIndex);
      const s = score[kind];
      s.learned += ndcgAt(ranked({ stage: 'learned' }), labels, 10);
      s.blend += ndcgAt(ranked({ stage: 'blend' }), labels, 10);
      s.ials += ndcgAt(ranked({ stage: 'blend', blend: { newUser: only, regular: only } }), labels, 10);
      itemItemScores(model.itemItem!, user.seen, null, itemScores);
      const mask = buildItemMask(model.filterAttributes, { exclude: user.seen });
      s.itemItem += ndcgAt(topK(applyMask(itemScores, mask), 10).indexes, labels, 10);
      s.lists++;
    }
  }
  for (const kind of ['users', 'sessions'] as const) {
    const s = score[kind];
    const n = Math.max(1, s.lists);
    s.learned /= n;
    s.blend /= n;
    s.ials /= n;
    s.itemItem /= n;
  }
  const config: LearnedRankingConfig = {
    features: RANKER_FEATURES,
    perChannel,
    enabled: {
      users: score.users.learned > score.users.blend,
      sessions: score.sessions.learned > score.sessions.blend,
    },
  };
  const validationSeconds = lap();
  log(
    `ranker seconds: channels ${channelSeconds.toFixed(1)}, features ${featureSeconds.toFixed(1)}, fit ${fitSeconds.toFixed(1)}, validation ${validationSeconds.toFixed(1)}`,
  );
  log(
    `ranker validation nDCG@10 (learned / blend / iALS / item-item): users ${[score.users.learned, score.users.blend, score.users.ials, score.users.itemItem].map((x) => x.toFixed(4)).join(' / ')}, sessions ${[score.sessions.learned, score.sessions.blend, score.sessions.ials, score.sessions.itemItem].map((x) => x.toFixed(4)).join(' / ')} (${train.length} training lists)`,
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
