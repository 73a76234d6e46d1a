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
import { DOTS_WASM_BASE64 } from './wasm/dots-wasm.ts';

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

let dotsModule: WebAssembly.Module | null = null;

/** The SIMD score kernel (wasm/dots.wat) in a memory holding every channel's unit rows and outputs. */
function dotsInstance(channels: readonly SharedChannel[], rows: number) {
  dotsModule ??= new WebAssembly.Module(Buffer.from(DOTS_WASM_BASE64, 'base64'));
  const align = (n: number) => (n + 15) & ~15;
  let bytes = 16;
  const units = channels.map((c) => {
    const at = bytes;
    bytes = align(bytes + c.unit.byteLength);
    return at;
  });
  const outs = channels.map(() => {
    const at = bytes;
    bytes = align(bytes + QUERY_BLOCK * rows * 4);
    return at;
  });
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
  const instance = new WebAssembly.Instance(dotsModule, { env: { memory } });
  const dots = instance.exports.dots as (
    unit: number,
    rows: number,
    dim: number,
    queries: number,
    nq: number,
    out: number,
  ) => void;
  channels.forEach((c, n) => {
    new Float32Array(memory.buffer, units[n]!, c.unit.length).set(c.unit);
  });
  return {
    dots,
    units,
    outs,
    views: outs.map((at) => new Float32Array(memory.buffer, at, QUERY_BLOCK * rows)),
  };
}

/**
 * Bounded selection of the k best (score desc, index asc), as topK (shared/kernels/topk.ts) keeps
 * them, for monomorphic hot loops: the caller offers only what beats the current worst
 * (`wants`), so most rows cost one comparison. Same order, so the same lists as topK.
 */
class Selection {
  private readonly idx: Uint32Array;
  private readonly val: Float64Array;
  private count = 0;
  constructor(private readonly size: number) {
    this.idx = new Uint32Array(size);
    this.val = new Float64Array(size);
  }
  reset(): void {
    this.count = 0;
  }
  /** Would (v, i) enter? v must be finite-or-+Infinity (callers skip -Infinity and NaN). */
  wants(v: number, i: number): boolean {
    if (this.count < this.size) return this.size > 0;
    const w = this.val[0]!;
    return v > w || (v === w && i < this.idx[0]!);
  }
  private worse(a: number, b: number): boolean {
    const va = this.val[a]!;
    const vb = this.val[b]!;
    return va < vb || (va === vb && this.idx[a]! > this.idx[b]!);
  }
  private swap(a: number, b: number): void {
    const v = this.val[a]!;
    const i = this.idx[a]!;
    this.val[a] = this.val[b]!;
    this.idx[a] = this.idx[b]!;
    this.val[b] = v;
    this.idx[b] = i;
  }
  private down(start: number): void {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.count && this.worse(l, m)) m = l;
      if (r < this.count && this.worse(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
  /** Add (v, i), assuming wants(v, i). */
  add(v: number, i: number): void {
    if (this.count < this.size) {
      let c = this.count++;
      this.val[c] = v;
      this.idx[c] = i;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!this.worse(c, p)) break;
        this.swap(c, p);
        c = p;
      }
      return;
    }
    this.val[0] = v;
    this.idx[0] = i;
    this.down(0);
  }
  /** Best first into ids/scores at `at` (the rest of the row keeps its padding); empties it. */
  drain(ids: Uint32Array, scores: Float32Array, at: number): void {
    for (let pos = this.count - 1; pos >= 0; pos--) {
      ids[at + pos] = this.idx[0]!;
      scores[at + pos] = this.val[0]!;
      this.count--;
      this.val[0] = this.val[this.count]!;
      this.idx[0] = this.idx[this.count]!;
      this.down(0);
    }
  }
}

/**
 * The hybrid pass for the usual case of two active channels (standardised, 'neutral'): the
 * general loop's arithmetic in the same order, with the per-channel values hoisted.
 */
function blendTwo(
  scores: Float32Array[],
  channels: readonly SharedChannel[],
  active: Int32Array,
  n: Float64Array,
  mean: Float64Array,
  inv: Float64Array,
  B: number,
  b: number,
  rows: number,
  query: number,
  selection: Selection,
): void {
  const c0 = active[0]!;
  const c1 = active[1]!;
  const x0 = scores[c0]!.subarray(b * rows, (b + 1) * rows);
  const x1 = scores[c1]!.subarray(b * rows, (b + 1) * rows);
  const w0 = channels[c0]!.weight;
  const w1 = channels[c1]!.weight;
  const z0 = n[c0 * B + b]! > 0;
  const z1 = n[c1 * B + b]! > 0;
  const m0 = mean[c0 * B + b]!;
  const m1 = mean[c1 * B + b]!;
  const i0 = inv[c0 * B + b]!;
  const i1 = inv[c1 * B + b]!;
  for (let r = 0; r < rows; r++) {
    if (r === query) continue;
    let s0 = x0[r]!;
    let s1 = x1[r]!;
    if (z0 && Number.isFinite(s0)) s0 = Math.fround((s0 - m0) * i0);
    if (z1 && Number.isFinite(s1)) s1 = Math.fround((s1 - m1) * i1);
    const f0 = Number.isFinite(s0);
    const f1 = Number.isFinite(s1);
    if (!f0 && !f1) continue;
    // 0 + w*s, then + the second (a missing one adds its weight with score 0, as 'neutral' does).
    let sum = 0;
    let weights = 0;
    if (f0) sum += w0 * s0;
    weights += w0;
    if (f1) sum += w1 * s1;
    weights += w1;
    const v = Math.fround(sum / weights);
    if (selection.wants(v, r)) selection.add(v, r);
  }
}

/**
 * Rows [from, to) of every channel's table and of the hybrid table. The same numbers as the serial
 * path (channelNeighbors / blendNeighbors: dotAll, the mask, standardizeScores, blendSimilarities
 * and topK, operation for operation, float32 stores included), in fewer and cheaper passes: the
 * dot products run in WebAssembly SIMD (wasm/dots.wat: dotAll's float64 accumulators in f64x2
 * lanes, so the scores are bit-identical) for blocks of QUERY_BLOCK queries; one pass per channel
 * and query applies the mask, sums for the z-score and selects the channel's own list; one more
 * blends the z-scores and selects the hybrid list.
 */
export function neighborRows(job: NeighborRowsJob): number {
  const { channels, rows, k, hybrid } = job;
  const C = channels.length;
  const B = QUERY_BLOCK;
  const kernel = dotsInstance(channels, rows);
  // scores[c][b * rows + r]: channel c's cosine of block query b to row r (-Infinity when masked).
  const scores = kernel.views;
  const selection = new Selection(k);
  const n = new Float64Array(C * B);
  const mean = new Float64Array(C * B);
  const inv = new Float64Array(C * B);
  const active = new Int32Array(C);
  const NEG = Number.NEGATIVE_INFINITY;
  for (let q0 = job.from; q0 < job.to; q0 += B) {
    const nb = Math.min(B, job.to - q0);
    for (let c = 0; c < C; c++) {
      const channel = channels[c]!;
      const { dim, mask } = channel;
      const out = scores[c]!;
      kernel.dots(kernel.units[c]!, rows, dim, kernel.units[c]! + q0 * dim * 4, nb, kernel.outs[c]!);
      for (let b = 0; b < nb; b++) {
        const i = q0 + b;
        let finite = 0;
        let sum = 0;
        let sq = 0;
        selection.reset();
        for (let r = 0, at = b * rows; r < rows; r++, at++) {
          if (mask[r] === 0) {
            out[at] = NEG;
            continue;
          }
          const v = out[at]!;
          if (!Number.isFinite(v)) continue;
          // standardizeScores' sums, over the stored float32 value, in row order.
          finite++;
          sum += v;
          sq += v * v;
          if (r !== i && selection.wants(v, r)) selection.add(v, r);
        }
        const cb = c * B + b;
        n[cb] = finite;
        if (finite > 0) {
          const m = sum / finite;
          const sd = Math.sqrt(Math.max(sq / finite - m * m, 0));
          mean[cb] = m;
          inv[cb] = sd > 0 ? 1 / sd : 0;
        }
        // The channel's own list (channelNeighbors), for queries that have the channel.
        if (mask[i] !== 0) selection.drain(channel.ids, channel.scores, i * k);
      }
    }
    if (!hybrid) continue;
    for (let b = 0; b < nb; b++) {
      const i = q0 + b;
      let activeCount = 0;
      for (let c = 0; c < C; c++)
        if (channels[c]!.mask[i] !== 0 && channels[c]!.weight !== 0) active[activeCount++] = c;
      if (activeCount === 0) continue;
      // Several channels: z-scores blended with 'neutral' for a missing one; one: raw, 'renormalize'.
      const standardized = activeCount > 1;
      selection.reset();
      if (activeCount === 2) {
        blendTwo(scores, channels, active, n, mean, inv, B, b, rows, i, selection);
        selection.drain(hybrid.ids, hybrid.scores, i * k);
        continue;
      }
      for (let r = 0; r < rows; r++) {
        if (r === i) continue;
        let sum = 0;
        let weights = 0;
        let available = 0;
        for (let a = 0; a < activeCount; a++) {
          const c = active[a]!;
          const weight = channels[c]!.weight;
          let s = scores[c]![b * rows + r]!;
          const cb = c * B + b;
          if (standardized && n[cb]! > 0 && Number.isFinite(s)) s = Math.fround((s - mean[cb]!) * inv[cb]!);
          if (!Number.isFinite(s)) {
            // Masked rows are -Infinity here (blendSimilarities checks mask or finiteness).
            if (standardized) weights += weight;
            continue;
          }
          available++;
          sum += weight * s;
          weights += weight;
        }
        if (available === 0) continue;
        const v = Math.fround(sum / weights);
        if (selection.wants(v, r)) selection.add(v, r);
      }
      selection.drain(hybrid.ids, hybrid.scores, i * k);
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
