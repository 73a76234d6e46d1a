import { ReelrankError } from '../../shared/errors.ts';
import { byUser, gatherRows, itemCounts } from './interactions.ts';
import { invertSpdInPlace } from './linalg.ts';
import type { FitReport, Recommender, TrainContext } from './types.ts';

export interface EaseOptions {
  /** L2 weight λ on the item-item weights (Steck 2019 uses a few hundred for MovieLens). */
  lambda?: number;
  /**
   * Only the most-interacted items get weights (the n³ inverse bounds this: 1,682 items take a few
   * seconds, 3,000 about 30 s). Others score below every modelled item, ordered by popularity.
   */
  maxItems?: number;
  /**
   * Weight a user's items by recency when scoring: the r-th most recent counts 0.5^(r / halfLife)
   * + recencyFloor (0 = all items count 1, plain EASE). The weights B are unchanged.
   */
  recencyHalfLife?: number;
  recencyFloor?: number;
  /**
   * Weight of a first-order transition term: how often item j followed the user's most recent
   * items in other users' timelines (row-normalised counts over the next `sequenceWindow`
   * interactions). 0 = off. Ratings arrive in sessions, so what follows what is informative.
   */
  sequenceWeight?: number;
  /** Denoising dropout rate p of EDLAE (0 = plain EASE). */
  dropout?: number;
  sequenceWindow?: number;
  /** How many of the user's most recent items the transition term looks from. */
  sequenceRecent?: number;
}

/**
 * EASE^R (Steck, "Embarrassingly Shallow Autoencoders", 2019): item-item weights
 * B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹, on binary interactions; a user's scores are the sum
 * of the B rows of the items they interacted with. A ranking model: scores are not ratings.
 */
export class Ease implements Recommender {
  readonly name = 'ease';
  readonly predictsRatings = false;
  private weights = new Float32Array(0);
  /** Item index -> position in the modelled set, or -1. */
  private slot = new Int32Array(0);
  private modelled = new Uint32Array(0);
  /** Per user: distinct items, most recent first (`rank` = position in that order). */
  private userItems: { offsets: Uint32Array; index: Uint32Array; rank: Uint32Array } = {
    offsets: new Uint32Array(1),
    index: new Uint32Array(0),
    rank: new Uint32Array(0),
  };
  private fallback = new Float32Array(0);
  private readonly lambda: number;
  private readonly maxItems: number;

  private recencyHalfLife: number;
  private recencyFloor: number;

  /** Change the recency weighting of a fitted model (it only affects scoring). */
  setRecency(halfLife: number, floor = 0): void {
    this.recencyHalfLife = halfLife;
    this.recencyFloor = floor;
  }

  private readonly dropout: number;
  private sequenceWeight: number;
  private readonly sequenceWindow: number;
  private sequenceRecent: number;
  /** Row-normalised transition counts [n, n] over modelled slots (empty when off). */
  private transitions: Float32Array = new Float32Array(0);

  /** Change the transition term's weight and reach on a fitted model (scoring only). */
  setSequence(weight: number, recent = this.sequenceRecent): void {
    this.sequenceWeight = weight;
    this.sequenceRecent = recent;
  }

  constructor({
    lambda = 300,
    maxItems = 2500,
    recencyHalfLife = 0,
    recencyFloor = 0,
    sequenceWeight = 0,
    sequenceWindow = 3,
    sequenceRecent = 3,
    dropout = 0,
  }: EaseOptions = {}) {
    if (!(dropout >= 0 && dropout < 1)) {
      throw new ReelrankError('bad_option', `ease dropout ${dropout} is out of range; it must be in [0, 1)`);
    }
    this.dropout = dropout;
    this.sequenceWeight = sequenceWeight;
    this.sequenceWindow = sequenceWindow;
    this.sequenceRecent = sequenceRecent;
    this.lambda = lambda;
    this.maxItems = maxItems;
    this.recencyHalfLife = recencyHalfLife;
    this.recencyFloor = recencyFloor;
  }

  async fit(context: TrainContext): Promise<FitReport> {
    const started = performance.now();
    const rows = gatherRows(context.dataset, context.train);
    const counts = itemCounts(rows);
    const ranked = Array.from({ length: rows.items }, (_, i) => i)
      .filter((i) => counts[i]! > 0)
      .sort((a, b) => counts[b]! - counts[a]! || a - b)
      .slice(0, this.maxItems);
    const n = ranked.length;
    this.modelled = Uint32Array.from(ranked);
    this.slot = new Int32Array(rows.items).fill(-1);
    ranked.forEach((item, s) => {
      this.slot[item] = s;
    });
    const maxCount = Math.max(1, ...counts);
    this.fallback = new Float32Array(rows.items);
    for (let i = 0; i < rows.items; i++) this.fallback[i] = -1e6 + counts[i]! / maxCount;
    const csr = byUser(rows);
    // Distinct interacted items per user (a re-rating counts once).
    const offsets = new Uint32Array(rows.users + 1);
    const index: number[] = [];
    const rank: number[] = [];
    for (let u = 0; u < rows.users; u++) {
      // Latest interaction time per distinct item; most recent first (ties: lower item index).
      const latest = new Map<number, number>();
      for (let p = csr.offsets[u]!; p < csr.offsets[u + 1]!; p++) {
        const t = rows.timestamp[csr.row[p]!]!;
        const i = csr.index[p]!;
        latest.set(i, Math.max(latest.get(i) ?? 0, t));
      }
      const ordered = [...latest.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      ordered.forEach(([i], r) => {
        index.push(i);
        rank.push(r);
      });
      offsets[u + 1] = index.length;
    }
    this.userItems = { offsets, index: Uint32Array.from(index), rank: Uint32Array.from(rank) };
    this.transitions = this.countTransitions(n);
    // G = XᵀX over the modelled items, one row at a time (row a = Σ over a's users of their item
    // rows): every increment lands in a row that stays in cache.
    const userSlots = new Uint32Array(rows.users + 1);
    const slotList: number[] = [];
    const slotCounts = new Uint32Array(n + 1);
    for (let u = 0; u < rows.users; u++) {
      for (let p = offsets[u]!; p < offsets[u + 1]!; p++) {
        const s = this.slot[this.userItems.index[p]!]!;
        if (s < 0) continue;
        slotList.push(s);
        slotCounts[s + 1]!++;
      }
      userSlots[u + 1] = slotList.length;
    }
    for (let s = 0; s < n; s++) slotCounts[s + 1] = slotCounts[s + 1]! + slotCounts[s]!;
    const slotUsers = new Uint32Array(slotList.length);
    const fill = slotCounts.slice(0, n);
    for (let u = 0; u < rows.users; u++)
      for (let p = userSlots[u]!; p < userSlots[u + 1]!; p++) slotUsers[fill[slotList[p]!]!++] = u;
    const flat = Uint32Array.from(slotList);
    const gram = new Float64Array(n * n);
    for (let a = 0; a < n; a++) {
      const row = a * n;
      for (let q = slotCounts[a]!; q < slotCounts[a + 1]!; q++) {
        const u = slotUsers[q]!;
        for (let p = userSlots[u]!; p < userSlots[u + 1]!; p++) gram[row + flat[p]!]!++;
      }
    }
    // EDLAE (Steck 2020): dropout p adds p/(1-p)·G_ii to each diagonal, a per-item penalty that
    // grows with popularity, on top of the uniform λ.
    const emphasis = this.dropout > 0 ? this.dropout / (1 - this.dropout) : 0;
    for (let s = 0; s < n; s++) gram[s * n + s] = gram[s * n + s]! * (1 + emphasis) + this.lambda;
    invertSpdInPlace(gram, n);
    this.weights = new Float32Array(n * n);
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) {
        this.weights[a * n + b] = a === b ? 0 : -gram[a * n + b]! / gram[b * n + b]!;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const epoch = { epoch: 1, trainLoss: 0, seconds };
    context.onEpoch?.(epoch);
    return { epochs: [epoch], seconds, notes: { modelledItems: n, lambda: this.lambda } };
  }

  /** The fitted item-item weights B [n, n] over the modelled items (slot -> item index). */
  itemItemWeights(): { modelled: Uint32Array; weights: Float32Array } {
    return { modelled: this.modelled, weights: this.weights };
  }

  /** T[a, b] ∝ Σ over timelines of 1/d for b coming d ≤ window steps after a; rows sum to 1. */
  private countTransitions(n: number): Float32Array {
    const t = new Float32Array(n * n);
    const { offsets, index } = this.userItems;
    for (let u = 0; u + 1 < offsets.length; u++) {
      // userItems are most-recent-first: position p+d is d steps EARLIER than p.
      for (let p = offsets[u]!; p < offsets[u + 1]!; p++) {
        const later = this.slot[index[p]!]!;
        if (later < 0) continue;
        for (let d = 1; d <= this.sequenceWindow && p + d < offsets[u + 1]!; d++) {
          const earlier = this.slot[index[p + d]!]!;
          if (earlier >= 0) t[earlier * n + later] = t[earlier * n + later]! + 1 / d;
        }
      }
    }
    for (let a = 0; a < n; a++) {
      let sum = 0;
      for (let b = 0; b < n; b++) sum += t[a * n + b]!;
      if (sum > 0) for (let b = 0; b < n; b++) t[a * n + b] = t[a * n + b]! / sum;
    }
    return t;
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    out.set(this.fallback.subarray(0, out.length));
    const n = this.modelled.length;
    const scores = new Float32Array(n);
    const { offsets, index, rank } = this.userItems;
    const halfLife = this.recencyHalfLife;
    for (let p = offsets[userIndex]!; p < offsets[userIndex + 1]!; p++) {
      const s = this.slot[index[p]!]!;
      if (s < 0) continue;
      const row = s * n;
      const w = halfLife > 0 ? 0.5 ** (rank[p]! / halfLife) + this.recencyFloor : 1;
      for (let b = 0; b < n; b++) scores[b] = scores[b]! + w * this.weights[row + b]!;
    }
    if (this.sequenceWeight > 0) {
      const end = Math.min(offsets[userIndex + 1]!, offsets[userIndex]! + this.sequenceRecent);
      for (let p = offsets[userIndex]!; p < end; p++) {
        const s = this.slot[index[p]!]!;
        if (s < 0) continue;
        const w = this.sequenceWeight / (1 + rank[p]!);
        const row = s * n;
        for (let b = 0; b < n; b++) scores[b] = scores[b]! + w * this.transitions[row + b]!;
      }
    }
    for (let s = 0; s < n; s++) out[this.modelled[s]!] = scores[s]!;
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const out = new Float32Array(userIndex.length);
    const all = new Float32Array(this.slot.length);
    let current = -1;
    for (let j = 0; j < out.length; j++) {
      if (userIndex[j] !== current) {
        current = userIndex[j]!;
        this.scoreAll(current, all);
      }
      out[j] = all[itemIndex[j]!]!;
    }
    return out;
  }
}
