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
  private userItems: { offsets: Uint32Array; index: Uint32Array } = {
    offsets: new Uint32Array(1),
    index: new Uint32Array(0),
  };
  private fallback = new Float32Array(0);
  private readonly lambda: number;
  private readonly maxItems: number;

  constructor({ lambda = 300, maxItems = 2500 }: EaseOptions = {}) {
    this.lambda = lambda;
    this.maxItems = maxItems;
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
    for (let u = 0; u < rows.users; u++) {
      const items = new Set<number>();
      for (let p = csr.offsets[u]!; p < csr.offsets[u + 1]!; p++) items.add(csr.index[p]!);
      for (const i of [...items].sort((a, b) => a - b)) index.push(i);
      offsets[u + 1] = index.length;
    }
    this.userItems = { offsets, index: Uint32Array.from(index) };
    const gram = new Float64Array(n * n);
    const slots = new Int32Array(Math.max(1, n));
    for (let u = 0; u < rows.users; u++) {
      let m = 0;
      for (let p = offsets[u]!; p < offsets[u + 1]!; p++) {
        const s = this.slot[this.userItems.index[p]!]!;
        if (s < 0) continue;
        slots[m++] = s;
      }
      for (let a = 0; a < m; a++) {
        const row = slots[a]! * n;
        for (let b = 0; b < m; b++) gram[row + slots[b]!]!++;
      }
    }
    for (let s = 0; s < n; s++) gram[s * n + s] = gram[s * n + s]! + this.lambda;
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

  scoreAll(userIndex: number, out: Float32Array): void {
    out.set(this.fallback.subarray(0, out.length));
    const n = this.modelled.length;
    const scores = new Float32Array(n);
    const { offsets, index } = this.userItems;
    for (let p = offsets[userIndex]!; p < offsets[userIndex + 1]!; p++) {
      const s = this.slot[index[p]!]!;
      if (s < 0) continue;
      const row = s * n;
      for (let b = 0; b < n; b++) scores[b] = scores[b]! + this.weights[row + b]!;
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
