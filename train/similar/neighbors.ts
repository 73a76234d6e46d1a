/**
 * Precomputed "more like this" lists: per movie, its top-k neighbours by one embedding channel
 * (text content, poster, collaborative item factors) or by a weighted blend of channels, as the
 * artifact writer stores them (shared/artifacts/codecs.ts `neighbors`: row-major [rows, k] item
 * INDEXES (catalog order) + scores, best first, padded with NO_NEIGHBOR / -Infinity).
 * Exact brute force with the shared kernels: O(n^2 d), ~30 s for 9,742 x 128 on this machine.
 */
import { NO_NEIGHBOR } from '../../shared/artifacts/codecs.ts';
import { normalizeRows } from '../../shared/kernels/dense.ts';
import {
  type BlendChannelInput,
  blendSimilarities,
  cosineToAll,
  type MissingChannelPolicy,
  type SimilarityChannel,
  similarItems,
  standardizeScores,
} from '../../shared/kernels/similarity.ts';
import { topK } from '../../shared/kernels/topk.ts';
import { ReelrankError } from '../../shared/errors.ts';
import { balancedRanges, trainingPool } from '../parallel/pool.ts';

export const DEFAULT_NEIGHBORS = 50;

/** Fixed-k neighbour lists, row-major [rows, k]; ids are item indexes. */
export interface NeighborTable {
  rows: number;
  k: number;
  ids: Uint32Array;
  scores: Float32Array;
}

/** One embedding channel of the catalog: [rows, dim] vectors, and which rows really have one. */
export interface EmbeddingChannel {
  name: string;
  vectors: Float32Array;
  dim: number;
  /** 1 = row has a vector; omitted = all rows do. Rows with 0 are never neighbours or queries. */
  mask?: Uint8Array;
}

function emptyTable(rows: number, k: number): NeighborTable {
  return {
    rows,
    k,
    ids: new Uint32Array(rows * k).fill(NO_NEIGHBOR),
    scores: new Float32Array(rows * k).fill(Number.NEGATIVE_INFINITY),
  };
}

function checkChannel(channel: EmbeddingChannel, rows: number): void {
  if (!(channel.dim > 0) || !Number.isInteger(rows) || channel.vectors.length !== rows * channel.dim) {
    throw new ReelrankError(
      'bad_input',
      `channel ${channel.name}: ${channel.vectors.length} values is not ${rows} rows x dim ${channel.dim}`,
    );
  }
  if (channel.mask !== undefined && channel.mask.length !== rows) {
    throw new ReelrankError(
      'bad_input',
      `channel ${channel.name}: mask has ${channel.mask.length} entries, expected ${rows}`,
    );
  }
}

/** A channel's rows made unit-length, plus its effective mask (zero rows count as missing). */
function prepare(channel: EmbeddingChannel, rows: number): { unit: Float32Array; mask: Uint8Array } {
  checkChannel(channel, rows);
  const unit = normalizeRows(channel.vectors, channel.dim);
  const mask = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    if (channel.mask?.[i] === 0) continue;
    let any = false;
    for (let j = 0; j < channel.dim && !any; j++) any = unit[i * channel.dim + j] !== 0;
    mask[i] = any ? 1 : 0;
  }
  return { unit, mask };
}

/**
 * Top-k cosine neighbours of every row within one channel (the row itself excluded). Rows
 * without a vector (mask 0 or an all-zero row) get an empty list and appear in no list.
 * @example channelNeighbors({ name: 'visual', vectors: poster.embeddings, dim: 256, mask: poster.mask })
 */
export function channelNeighbors(
  channel: EmbeddingChannel,
  { k = DEFAULT_NEIGHBORS }: { k?: number } = {},
): NeighborTable {
  const rows = channel.vectors.length / channel.dim;
  return blendNeighbors([{ ...channel, weight: 1 }], rows, { k, standardize: false });
}

export interface BlendOptions {
  k?: number;
  /**
   * z-score each channel's similarities per query before blending (default: when more than one
   * channel is active for the query; see standardizeScores). Scores are then blended z-scores.
   */
  standardize?: boolean;
  /** A channel a candidate lacks: 'neutral' (default, scored at the channel mean) or 'renormalize'. */
  missing?: MissingChannelPolicy;
}

/**
 * Top-k neighbours by a weighted blend of channels (blendSimilarities: a channel that the query or
 * the candidate lacks is left out and the weights renormalised).
 * @example blendNeighbors([{ ...text, weight: 0.5 }, { ...collab, weight: 0.5 }], movies.length)
 */
export function blendNeighbors(
  channels: readonly (EmbeddingChannel & { weight: number })[],
  rows: number,
  { k = DEFAULT_NEIGHBORS, standardize, missing }: BlendOptions = {},
): NeighborTable {
  if (!Number.isInteger(k) || k < 1)
    throw new ReelrankError('bad_input', `neighbours: k must be a positive integer, got ${k}`);
  // The same request-time kernel the edge uses (similarItems), on unit rows with effective masks.
  const inputs: BlendChannelInput[] = channels.map((c) => {
    const { unit, mask } = prepare(c, rows);
    return { kind: 'float32', rows: unit, dim: c.dim, weight: c.weight, mask };
  });
  const table = emptyTable(rows, k);
  for (let i = 0; i < rows; i++) {
    const top = similarItems(i, inputs, k, {
      ...(standardize === undefined ? {} : { standardize }),
      ...(missing === undefined ? {} : { missing }),
    });
    table.ids.set(top.indexes, i * k);
    table.scores.set(top.scores, i * k);
  }
  return table;
}

/** Neighbour ids of row i (padding removed). */
export function neighborsOf(table: NeighborTable, i: number): Uint32Array {
  const row = table.ids.subarray(i * table.k, (i + 1) * table.k);
  const end = row.indexOf(NO_NEIGHBOR);
  return end === -1 ? row : row.subarray(0, end);
}

export interface SimilarChannels {
  content?: EmbeddingChannel;
  visual?: EmbeddingChannel;
  collaborative?: EmbeddingChannel;
}

/** Default blend weights; bench/similarity.ts measures the channels these mix. */
export const DEFAULT_BLEND = Object.freeze({ content: 0.4, visual: 0.1, collaborative: 0.5 });

/**
 * All neighbour tables for an export: one per channel given, plus the hybrid blend of them.
 * @example similarMovieLists({ content, visual, collaborative }) // { content, visual, collaborative, hybrid }
 */
export function similarMovieLists(
  channels: SimilarChannels,
  rows: number,
  {
    k = DEFAULT_NEIGHBORS,
    weights = DEFAULT_BLEND,
  }: { k?: number; weights?: Readonly<Record<keyof SimilarChannels, number>> } = {},
): Partial<Record<keyof SimilarChannels | 'hybrid', NeighborTable>> {
  const out: Partial<Record<keyof SimilarChannels | 'hybrid', NeighborTable>> = {};
  const blend: (EmbeddingChannel & { weight: number })[] = [];
  for (const name of ['content', 'visual', 'collaborative'] as const) {
    const channel = channels[name];
    if (channel === undefined) continue;
    out[name] = channelNeighbors(channel, { k });
    blend.push({ ...channel, weight: weights[name] });
  }
  if (blend.length > 1) out.hybrid = blendNeighbors(blend, rows, { k });
  return out;
}

/** One channel as the parallel job sees it: unit rows and effective mask in shared memory. */
export interface SharedChannel {
  unit: Float32Array;
  dim: number;
  mask: Uint8Array;
  /** Weight in the hybrid blend. */
  weight: number;
  /** Its own table, [rows, k]. */
  ids: Uint32Array;
  scores: Float32Array;
}

export interface NeighborRowsJob {
  channels: SharedChannel[];
  rows: number;
  k: number;
  /** The hybrid table, when there is more than one channel. */
  hybrid: { ids: Uint32Array; scores: Float32Array } | null;
  from: number;
  to: number;
}

/**
 * Rows [from, to) of every channel's table and of the hybrid table, one similarity pass per
 * channel and query (the serial path computes each channel twice: alone and in the blend). Same
 * functions and order of operations as channelNeighbors / blendNeighbors, so the same lists.
 */
export function neighborRows(job: NeighborRowsJob): number {
  const { channels, rows, k, hybrid } = job;
  const buffers = channels.map(() => new Float32Array(rows));
  const blended = new Float32Array(rows);
  for (let i = job.from; i < job.to; i++) {
    const active: SimilarityChannel[] = [];
    channels.forEach((c, n) => {
      if (c.mask[i] === 0) return;
      const scores = cosineToAll(
        c.unit,
        c.dim,
        c.unit.subarray(i * c.dim, (i + 1) * c.dim),
        buffers[n]!,
        c.mask,
      );
      // The channel's own list (channelNeighbors): a one-channel, unstandardised blend is the
      // scores themselves (masked rows are already -Infinity); the query is left out by giving
      // it -Infinity for this topK only (topK skips those), then restored for the hybrid.
      const self = scores[i]!;
      scores[i] = Number.NEGATIVE_INFINITY;
      const top = topK(scores, k);
      scores[i] = self;
      c.ids.set(top.indexes, i * k);
      c.scores.set(top.scores, i * k);
      if (c.weight !== 0) active.push({ scores, weight: c.weight, mask: c.mask });
    });
    if (!hybrid || active.length === 0) continue;
    const standardized = active.length > 1;
    if (standardized) for (const a of active) standardizeScores(a.scores);
    blendSimilarities(active, blended, { missing: standardized ? 'neutral' : 'renormalize' });
    blended[i] = Number.NEGATIVE_INFINITY;
    const top = topK(blended, k);
    hybrid.ids.set(top.indexes, i * k);
    hybrid.scores.set(top.scores, i * k);
  }
  return 0;
}

function sharedTable(rows: number, k: number): NeighborTable {
  const ids = new Uint32Array(new SharedArrayBuffer(rows * k * 4)).fill(NO_NEIGHBOR);
  const scores = new Float32Array(new SharedArrayBuffer(rows * k * 4)).fill(Number.NEGATIVE_INFINITY);
  return { rows, k, ids, scores };
}

/**
 * similarMovieLists on the training thread pool, split by query movie: the same tables (every
 * row is computed independently, so the thread count does not change them).
 * @example await similarMovieListsParallel({ content, collaborative }, movies.length)
 */
export async function similarMovieListsParallel(
  channels: SimilarChannels,
  rows: number,
  {
    k = DEFAULT_NEIGHBORS,
    weights = DEFAULT_BLEND,
  }: { k?: number; weights?: Readonly<Record<keyof SimilarChannels, number>> } = {},
): Promise<Partial<Record<keyof SimilarChannels | 'hybrid', NeighborTable>>> {
  if (!Number.isInteger(k) || k < 1)
    throw new ReelrankError('bad_input', `neighbours: k must be a positive integer, got ${k}`);
  const names = (['content', 'visual', 'collaborative'] as const).filter((n) => channels[n] !== undefined);
  const out: Partial<Record<keyof SimilarChannels | 'hybrid', NeighborTable>> = {};
  const shared: SharedChannel[] = names.map((name) => {
    const { unit, mask } = prepare(channels[name]!, rows);
    const table = sharedTable(rows, k);
    out[name] = table;
    const sharedUnit = new Float32Array(new SharedArrayBuffer(unit.byteLength));
    sharedUnit.set(unit);
    const sharedMask = new Uint8Array(new SharedArrayBuffer(mask.byteLength));
    sharedMask.set(mask);
    return {
      unit: sharedUnit,
      dim: channels[name]!.dim,
      mask: sharedMask,
      weight: weights[name],
      ids: table.ids,
      scores: table.scores,
    };
  });
  if (names.length > 1) out.hybrid = sharedTable(rows, k);
  const hybrid = out.hybrid ? { ids: out.hybrid.ids, scores: out.hybrid.scores } : null;
  const pool = trainingPool();
  // Several jobs per thread: rows cost the same, and short jobs even out a loaded machine.
  const parts = Math.min(rows, pool.threads * 8);
  const ranges = balancedRanges(
    Uint32Array.from({ length: rows + 1 }, (_, r) => r),
    parts,
    0,
  );
  await pool.map(
    'neighbors.rows',
    ranges.map(([from, to]) => ({ channels: shared, rows, k, hybrid, from, to })),
  );
  // Plain copies for the writer (WebCrypto refuses to hash views on SharedArrayBuffers).
  for (const table of Object.values(out)) {
    table.ids = table.ids.slice();
    table.scores = table.scores.slice();
  }
  return out;
}
