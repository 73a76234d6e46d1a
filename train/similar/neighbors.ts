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
  type MissingChannelPolicy,
  similarItems,
} from '../../shared/kernels/similarity.ts';
import { ReelrankError } from '../../shared/errors.ts';

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
