import { createRng } from '../../shared/random.ts';
import { byUser, gatherRows } from './interactions.ts';
import type { EpochLog, FitReport, Recommender, TrainContext } from './types.ts';

export interface BprOptions {
  factors?: number;
  epochs?: number;
  learningRate?: number;
  /** L2 on user/item factors and item biases. */
  reg?: number;
}

/**
 * One BPR-SGD pass (Rendle et al. 2009): for sampled (u, i⁺, j⁻), x = b_i − b_j + p_u·(q_i − q_j),
 * step on ln σ(x). `positives`/`offsets` are the by-user CSR; `isPositive(u, j)` is replaced by a
 * sorted-list binary search so no per-user Set is built in the loop. Returns the mean −ln σ(x).
 */
function bprEpoch(
  offsets: Uint32Array,
  positives: Uint32Array,
  users: Uint32Array,
  P: Float32Array,
  Q: Float32Array,
  bias: Float32Array,
  k: number,
  items: number,
  samples: number,
  lr: number,
  reg: number,
  rng: ReturnType<typeof createRng>,
): number {
  let loss = 0;
  for (let s = 0; s < samples; s++) {
    const u = users[rng.int(users.length)]!;
    const start = offsets[u]!;
    const end = offsets[u + 1]!;
    const i = positives[start + rng.int(end - start)]!;
    let j = rng.int(items);
    // Reject negatives the user interacted with (binary search in the sorted positives).
    for (let attempt = 0; attempt < 20; attempt++) {
      let lo = start;
      let hi = end;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (positives[mid]! < j) lo = mid + 1;
        else hi = mid;
      }
      if (lo < end && positives[lo] === j) j = rng.int(items);
      else break;
    }
    const pu = u * k;
    const qi = i * k;
    const qj = j * k;
    let x = bias[i]! - bias[j]!;
    for (let f = 0; f < k; f++) x += P[pu + f]! * (Q[qi + f]! - Q[qj + f]!);
    const sig = 1 / (1 + Math.exp(x)); // σ(−x): the gradient scale of ln σ(x)
    loss += Math.log1p(Math.exp(-x));
    bias[i] = bias[i]! + lr * (sig - reg * bias[i]!);
    bias[j] = bias[j]! + lr * (-sig - reg * bias[j]!);
    for (let f = 0; f < k; f++) {
      const p = P[pu + f]!;
      const a = Q[qi + f]!;
      const b = Q[qj + f]!;
      P[pu + f] = p + lr * (sig * (a - b) - reg * p);
      Q[qi + f] = a + lr * (sig * p - reg * a);
      Q[qj + f] = b + lr * (-sig * p - reg * b);
    }
  }
  return loss / samples;
}

/** Bayesian Personalised Ranking matrix factorisation on implicit feedback (every rating = a positive). */
export class Bpr implements Recommender {
  readonly name = 'bpr';
  readonly predictsRatings = false;
  private readonly o: Required<BprOptions>;
  userFactors: Float32Array = new Float32Array(0);
  itemFactors: Float32Array = new Float32Array(0);
  itemBias: Float32Array = new Float32Array(0);

  constructor(options: BprOptions = {}) {
    this.o = {
      factors: options.factors ?? 64,
      epochs: options.epochs ?? 60,
      learningRate: options.learningRate ?? 0.05,
      reg: options.reg ?? 0.002,
    };
  }

  async fit(context: TrainContext): Promise<FitReport> {
    const started = performance.now();
    const rows = gatherRows(context.dataset, context.train);
    const csr = byUser(rows);
    // Sorted distinct positives per user.
    const offsets = new Uint32Array(rows.users + 1);
    const list: number[] = [];
    const active: number[] = [];
    for (let u = 0; u < rows.users; u++) {
      const items = [...new Set(csr.index.subarray(csr.offsets[u]!, csr.offsets[u + 1]!))].sort(
        (a, b) => a - b,
      );
      list.push(...items);
      offsets[u + 1] = list.length;
      if (items.length > 0) active.push(u);
    }
    const positives = Uint32Array.from(list);
    const users = Uint32Array.from(active);
    const k = this.o.factors;
    const rng = createRng(context.seed);
    this.userFactors = Float32Array.from({ length: rows.users * k }, () => rng.normal() * 0.1);
    this.itemFactors = Float32Array.from({ length: rows.items * k }, () => rng.normal() * 0.1);
    this.itemBias = new Float32Array(rows.items);
    const epochs: EpochLog[] = [];
    for (let epoch = 1; epoch <= this.o.epochs; epoch++) {
      const epochStarted = performance.now();
      const loss = bprEpoch(
        offsets,
        positives,
        users,
        this.userFactors,
        this.itemFactors,
        this.itemBias,
        k,
        rows.items,
        positives.length,
        this.o.learningRate,
        this.o.reg,
        rng,
      );
      const log: EpochLog = { epoch, trainLoss: loss, seconds: (performance.now() - epochStarted) / 1000 };
      context.onEpoch?.(log);
      epochs.push(log);
    }
    return { epochs, seconds: (performance.now() - started) / 1000 };
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const k = this.o.factors;
    return Float32Array.from(userIndex, (u, j) => {
      const i = itemIndex[j]!;
      let dot = this.itemBias[i]!;
      for (let f = 0; f < k; f++) dot += this.userFactors[u * k + f]! * this.itemFactors[i * k + f]!;
      return dot;
    });
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    const k = this.o.factors;
    const pu = userIndex * k;
    for (let i = 0; i < out.length; i++) {
      let dot = this.itemBias[i]!;
      for (let f = 0; f < k; f++) dot += this.userFactors[pu + f]! * this.itemFactors[i * k + f]!;
      out[i] = dot;
    }
  }
}
