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

/** Queries scored together: each item row is read once per block instead of once per query. */
const QUERY_BLOCK = 8;

/**
 * Rows [from, to) of every channel's table and of the hybrid table. The same numbers as the serial
 * path (channelNeighbors / blendNeighbors: dotAll, the mask, standardizeScores, blendSimilarities
 * and topK, operation for operation, float32 stores included), computed in fewer passes over the
 * catalog: queries go in blocks of QUERY_BLOCK (one read of each item row serves the block), the
 * mask and the z-score sums ride along with the dot products, and the z-scores are blended in the
 * pass that fills the hybrid row. At 87k movies the plain per-query passes were memory-bound.
 */
export function neighborRows(job: NeighborRowsJob): number {
  const { channels, rows, k, hybrid } = job;
  const C = channels.length;
  const B = QUERY_BLOCK;
  // scores[c][b * rows + r]: channel c's cosine of block query b to row r (-Infinity when masked).
  const scores = channels.map(() => new Float32Array(B * rows));
  const sums = new Float64Array(C * B);
  const squares = new Float64Array(C * B);
  const finite = new Float64Array(C * B);
  const blended = new Float32Array(rows);
  const mean = new Float64Array(C);
  const inv = new Float64Array(C);
  const active = new Int32Array(C);
  for (let q0 = job.from; q0 < job.to; q0 += B) {
    const nb = Math.min(B, job.to - q0);
    sums.fill(0);
    squares.fill(0);
    finite.fill(0);
    for (let c = 0; c < C; c++) {
      const { unit, dim, mask } = channels[c]!;
      const out = scores[c]!;
      const body = dim & ~3;
      for (let r = 0, base = 0; r < rows; r++, base += dim) {
        if (mask[r] === 0) {
          for (let b = 0; b < nb; b++) out[b * rows + r] = Number.NEGATIVE_INFINITY;
          continue;
        }
        for (let b = 0; b < nb; b++) {
          const qb = (q0 + b) * dim;
          // dotAll's order: four accumulators over the body, the tail into the first.
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          let j = 0;
          for (; j < body; j += 4) {
            s0 += unit[base + j]! * unit[qb + j]!;
            s1 += unit[base + j + 1]! * unit[qb + j + 1]!;
            s2 += unit[base + j + 2]! * unit[qb + j + 2]!;
            s3 += unit[base + j + 3]! * unit[qb + j + 3]!;
          }
          for (; j < dim; j++) s0 += unit[base + j]! * unit[qb + j]!;
          const at = b * rows + r;
          out[at] = s0 + s1 + s2 + s3;
          // standardizeScores' sums, over the stored float32 value, in row order.
          const v = out[at]!;
          if (Number.isFinite(v)) {
            const cb = c * B + b;
            finite[cb]!++;
            sums[cb] = sums[cb]! + v;
            squares[cb] = squares[cb]! + v * v;
          }
        }
      }
    }
    for (let b = 0; b < nb; b++) {
      const i = q0 + b;
      let activeCount = 0;
      for (let c = 0; c < C; c++) {
        const channel = channels[c]!;
        if (channel.mask[i] === 0) continue;
        const view = scores[c]!.subarray(b * rows, (b + 1) * rows);
        // The channel's own list: the query left out for this topK only.
        const self = view[i]!;
        view[i] = Number.NEGATIVE_INFINITY;
        const top = topK(view, k);
        view[i] = self;
        channel.ids.set(top.indexes, i * k);
        channel.scores.set(top.scores, i * k);
        if (channel.weight !== 0) active[activeCount++] = c;
      }
      if (!hybrid || activeCount === 0) continue;
      const standardized = activeCount > 1;
      for (let a = 0; a < activeCount; a++) {
        const cb = active[a]! * B + b;
        const n = finite[cb]!;
        if (!standardized || n === 0) {
          // Unstandardised (one channel), or nothing finite to standardise: scores as they are.
          mean[a] = 0;
          inv[a] = Number.NaN;
          continue;
        }
        const m = sums[cb]! / n;
        const sd = Math.sqrt(Math.max(squares[cb]! / n - m * m, 0));
        mean[a] = m;
        inv[a] = sd > 0 ? 1 / sd : 0;
      }
      for (let r = 0; r < rows; r++) {
        // blendSimilarities: 'neutral' when standardised, else 'renormalize'.
        let sum = 0;
        let weights = 0;
        let available = 0;
        for (let a = 0; a < activeCount; a++) {
          const c = active[a]!;
          const channel = channels[c]!;
          let s = scores[c]![b * rows + r]!;
          if (!Number.isNaN(inv[a]!) && Number.isFinite(s)) s = Math.fround((s - mean[a]!) * inv[a]!);
          if (channel.mask[r] === 0 || !Number.isFinite(s)) {
            if (standardized) weights += channel.weight; // neutral score 0
            continue;
          }
          available++;
          sum += channel.weight * s;
          weights += channel.weight;
        }
        blended[r] = available > 0 ? sum / weights : Number.NEGATIVE_INFINITY;
      }
      blended[i] = Number.NEGATIVE_INFINITY;
      const top = topK(blended, k);
      hybrid.ids.set(top.indexes, i * k);
      hybrid.scores.set(top.scores, i * k);
    }
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
