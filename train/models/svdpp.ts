import { ReelrankError } from '../../shared/errors.ts';
import { createRng } from '../../shared/random.ts';
import type { FactorScorer } from '../eval/factor-ranking.ts';
import { balancedRanges, sharedFloat32, sharedUint32, trainingPool } from '../parallel/pool.ts';
import { fitBiases } from './baselines.ts';
import { buildCsr, clampInPlace, gatherRows, medianRowsPerUser, type TrainingRows } from './interactions.ts';
import type { SvdppArrays } from './svdpp-kernels.ts';
import type { EpochLog, FactorExport, FactorRecommender, FitReport, TrainContext } from './types.ts';
import { rmse } from '../eval/metrics.ts';

export interface SvdppOptions {
  factors?: number;
  epochs?: number;
  learningRate?: number;
  reg?: number;
  /** Learning rate / L2 of the implicit item vectors y_j. */
  implicitLearningRate?: number;
  implicitReg?: number;
  biasLearningRate?: number;
  biasReg?: number;
  decay?: number;
  initStd?: number;
  /**
   * With a validation set, stop once validation RMSE has not improved by at least 1e-4 for this
   * many epochs (default 3; 0 = always run every epoch). Without validation it has no effect.
   */
  patience?: number;
}

/** Smallest validation-RMSE gain that counts as an improvement for early stopping. */
export const SVDPP_MIN_IMPROVEMENT = 1e-4;

/** The model's parameters and training layout (shared memory, see svdpp-kernels.ts). */
interface SvdppState extends SvdppArrays {
  mean: number;
  /** Epochs trained so far (a warm start continues the learning-rate decay from here). */
  epochsDone: number;
}

/** SVD++: biased MF plus implicit feedback from which items each user rated. */
export class Svdpp implements FactorRecommender {
  readonly name = 'svdpp';
  readonly predictsRatings = true;
  private readonly o: Required<SvdppOptions>;
  private s: SvdppState | null = null;
  private scale = { min: 1, max: 5 };
  private medianUserRatings = 1;
  /** Effective user vectors p_u + |N(u)|^-½ Σ y_j, cached after fit (what gets exported). */
  effectiveUserFactors: Float32Array = new Float32Array(0);

  constructor(options: SvdppOptions = {}) {
    this.o = {
      factors: options.factors ?? 50,
      epochs: options.epochs ?? 30,
      learningRate: options.learningRate ?? 0.007,
      reg: options.reg ?? 0.05,
      implicitLearningRate: options.implicitLearningRate ?? 0.007,
      implicitReg: options.implicitReg ?? 0.05,
      biasLearningRate: options.biasLearningRate ?? 0.007,
      biasReg: options.biasReg ?? 0.005,
      decay: options.decay ?? 0.96,
      initStd: options.initStd ?? 0.05,
      patience: options.patience ?? 3,
    };
  }

  get factors(): number {
    return this.o.factors;
  }

  get itemFactors(): Float32Array {
    return this.s?.Q ?? new Float32Array(0);
  }
  get itemBias(): Float32Array {
    return this.s?.bi ?? new Float32Array(0);
  }
  get userBias(): Float32Array {
    return this.s?.bu ?? new Float32Array(0);
  }
  get mean(): number {
    return this.s?.mean ?? 0;
  }

  private warm: { from: Svdpp; epochs: number } | null = null;

  /**
   * Start the next fit from `other`'s parameters (same users and items) and run `epochs` epochs
   * at the learning rates where `other` stopped, instead of the configured schedule from scratch:
   * the production fit after the evaluation fit on most of the same rows (pipeline/train.ts;
   * bench/scale.ts measures its held-out quality against a fit from scratch).
   */
  warmStartFrom(other: Svdpp, epochs: number): void {
    if (!(Number.isInteger(epochs) && epochs >= 1))
      throw new ReelrankError(
        'bad_option',
        `svdpp warm-start epochs is ${epochs}; it must be an integer >= 1`,
      );
    if (!other.s || other.s.k !== this.o.factors)
      throw new ReelrankError(
        'bad_option',
        'svdpp warm start: the other model is not fitted with the same factors',
      );
    this.warm = { from: other, epochs };
  }

  async fit(context: TrainContext): Promise<FitReport> {
    const started = performance.now();
    const { dataset } = context;
    this.scale = dataset.ratingScale;
    const rows = gatherRows(dataset, context.train);
    const k = this.o.factors;
    const rng = createRng(context.seed);
    const warm = this.warm;
    this.warm = null;
    const source = warm?.from.s ?? null;
    if (source && (source.P.length !== rows.users * k || source.Q.length !== rows.items * k))
      throw new ReelrankError('bad_option', 'svdpp warm start: the other fit has different users or items');
    const init = (n: number) => {
      const a = sharedFloat32(n);
      for (let j = 0; j < n; j++) a[j] = rng.normal() * this.o.initStd;
      return a;
    };
    const pool = trainingPool();
    // One block per thread: DSGD strata (svdpp-kernels.ts).
    const blocks = pool.threads;
    const csr = this.sortedUserCsr(rows);
    const itemOffsets = new Uint32Array(rows.items + 1);
    for (let j = 0; j < rows.length; j++) itemOffsets[rows.item[j]! + 1]!++;
    for (let i = 0; i < rows.items; i++) itemOffsets[i + 1]! += itemOffsets[i]!;
    const userRanges = balancedRanges(csr.offsets, blocks);
    const itemRanges = balancedRanges(itemOffsets, blocks);
    const segments = sharedUint32(rows.users * (blocks + 1));
    for (let u = 0; u < rows.users; u++) {
      let p = csr.offsets[u]!;
      const end = csr.offsets[u + 1]!;
      for (let c = 0; c < blocks; c++) {
        segments[u * (blocks + 1) + c] = p;
        while (p < end && csr.index[p]! < itemRanges[c]![1]) p++;
      }
      segments[u * (blocks + 1) + blocks] = end;
    }
    const biases = source ? null : fitBiases(rows);
    const s: SvdppState = {
      k,
      mean: rows.mean,
      offsets: csr.offsets,
      items: csr.index,
      ratings: csr.value,
      segments,
      blocks,
      P: source ? sharedFloat32(source.P) : init(rows.users * k),
      Q: source ? sharedFloat32(source.Q) : init(rows.items * k),
      Y: source ? sharedFloat32(source.Y) : sharedFloat32(rows.items * k),
      bu: sharedFloat32(source ? source.bu : biases!.userBias),
      bi: sharedFloat32(source ? source.bi : biases!.itemBias),
      implicitParts: sharedFloat32(rows.users * blocks * k),
      // A warm start keeps its source's pending y-gradients when the block layout is the same.
      gradients:
        source && source.blocks === blocks
          ? sharedFloat32(source.gradients)
          : sharedFloat32(rows.users * blocks * k),
      epochsDone: source?.epochsDone ?? 0,
    };
    this.s = s;
    this.medianUserRatings = medianRowsPerUser(rows);
    this.effectiveUserFactors = sharedFloat32(rows.users * k);
    const validation = context.validation ? gatherRows(dataset, context.validation) : null;
    const implicitRanges = balancedRanges(csr.offsets, pool.threads === 1 ? 1 : pool.threads * 4);
    const refreshImplicit = (effective: boolean) =>
      pool.map(
        'svdpp.implicit',
        implicitRanges.map(([userFrom, userTo]) => ({
          k,
          offsets: s.offsets,
          items: s.items,
          segments: s.segments,
          blocks,
          P: s.P,
          Y: s.Y,
          implicitParts: s.implicitParts,
          effective: effective ? this.effectiveUserFactors : null,
          userFrom,
          userTo,
        })),
      );
    // A warm start begins with Y already trained: its partial sums must be current.
    if (source) await refreshImplicit(false);
    const epochs: EpochLog[] = [];
    const totalEpochs = warm?.epochs ?? this.o.epochs;
    let best = Number.POSITIVE_INFINITY;
    let sinceBest = 0;
    let stoppedEarly = false;
    for (let epoch = 1; epoch <= totalEpochs; epoch++) {
      const epochStarted = performance.now();
      // Learning rates continue the decay schedule of a warm start's source.
      const decay = this.o.decay ** s.epochsDone;
      let sse = 0;
      for (let stratum = 0; stratum < blocks; stratum++) {
        const jobs = userRanges.map(([userFrom, userTo], t) => ({
          ...s,
          userFrom,
          userTo,
          itemBlock: (t + stratum) % blocks,
          stratum,
          seed:
            (Math.imul(context.seed + 1, 0x9e3779b1) ^
              Math.imul(s.epochsDone + 1, 0x85ebca6b) ^
              (stratum * blocks + t)) >>>
            0,
          lr: this.o.learningRate * decay,
          reg: this.o.reg,
          lrY: this.o.implicitLearningRate * decay,
          regY: this.o.implicitReg,
          lrBias: this.o.biasLearningRate * decay,
          regBias: this.o.biasReg,
        }));
        for (const value of await pool.map('svdpp.block', jobs)) sse += value;
      }
      s.epochsDone++;
      // Predictions need every partial sum fresh (each visit refreshes only its own block's).
      if (validation !== null || epoch === totalEpochs) await refreshImplicit(true);
      const log: EpochLog = {
        epoch,
        totalEpochs: this.o.epochs,
        trainLoss: sse / rows.length,
        seconds: (performance.now() - epochStarted) / 1000,
      };
      if (validation) {
        const predicted = this.predict(validation.user, validation.item);
        log.validationRmse = rmse(predicted, validation.rating);
        log.validationLoss = log.validationRmse ** 2;
      }
      context.onEpoch?.(log);
      epochs.push(log);
      if (log.validationRmse !== undefined && this.o.patience > 0) {
        if (log.validationRmse < best - SVDPP_MIN_IMPROVEMENT) {
          best = log.validationRmse;
          sinceBest = 0;
        } else if (++sinceBest >= this.o.patience && epoch < totalEpochs) {
          // Early stop: the implicit sums are fresh (validation refreshed them above).
          stoppedEarly = true;
          break;
        }
      }
    }
    return {
      epochs,
      seconds: (performance.now() - started) / 1000,
      notes: {
        threads: pool.threads,
        blocks,
        warmStart: warm !== null,
        epochs: epochs.length,
        stoppedEarly,
      },
    };
  }

  /** By-user CSR with each user's items ascending (a counting sort by item, then by user). */
  private sortedUserCsr(rows: TrainingRows): {
    offsets: Uint32Array;
    index: Uint32Array;
    value: Float32Array;
  } {
    const byItemCsr = buildCsr(rows.item, rows.user, rows.rating, rows.items);
    const offsets = sharedUint32(rows.users + 1);
    for (let j = 0; j < rows.length; j++) offsets[rows.user[j]! + 1]!++;
    for (let u = 0; u < rows.users; u++) offsets[u + 1]! += offsets[u]!;
    const cursor = offsets.slice(0, rows.users);
    const index = sharedUint32(rows.length);
    const value = sharedFloat32(rows.length);
    for (let i = 0; i < rows.items; i++) {
      for (let p = byItemCsr.offsets[i]!; p < byItemCsr.offsets[i + 1]!; p++) {
        const at = cursor[byItemCsr.index[p]!]!++;
        index[at] = i;
        value[at] = byItemCsr.value[p]!;
      }
    }
    return { offsets, index, value };
  }

  /** Factors with the implicit term folded into the user vectors (exactly what `predict` uses). */
  exportFactors(): FactorExport {
    const s = this.s!;
    // Plain copies: training state lives in SharedArrayBuffers, which WebCrypto refuses to hash.
    return {
      factors: s.k,
      mean: s.mean,
      userFactors: this.effectiveUserFactors.slice(),
      itemFactors: s.Q.slice(),
      userBias: s.bu.slice(),
      itemBias: s.bi.slice(),
      foldInLambda: Math.max(1, this.o.reg * this.medianUserRatings),
    };
  }

  /** Ranking scores as factors (what scoreAll computes), for the parallel evaluation. */
  rankingScorer(): FactorScorer {
    const s = this.s!;
    return {
      factors: s.k,
      userFactors: this.effectiveUserFactors,
      itemFactors: s.Q,
      bias: { mean: s.mean, userBias: s.bu, itemBias: s.bi },
    };
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const s = this.s!;
    const k = s.k;
    const U = this.effectiveUserFactors;
    const out = new Float32Array(userIndex.length);
    for (let j = 0; j < out.length; j++) {
      const u = userIndex[j]!;
      const i = itemIndex[j]!;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += U[u * k + f]! * s.Q[i * k + f]!;
      out[j] = s.mean + s.bu[u]! + s.bi[i]! + dot;
    }
    return clampInPlace(out, this.scale.min, this.scale.max);
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    const s = this.s!;
    const k = s.k;
    const U = this.effectiveUserFactors;
    const base = s.mean + s.bu[userIndex]!;
    for (let i = 0; i < out.length; i++) {
      let dot = 0;
      for (let f = 0; f < k; f++) dot += U[userIndex * k + f]! * s.Q[i * k + f]!;
      out[i] = base + s.bi[i]! + dot;
    }
  }
}
