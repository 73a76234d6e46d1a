import { ReelrankError } from '../../shared/errors.ts';
import { createRng, shuffleInPlace } from '../../shared/random.ts';
import { fitBiases } from './baselines.ts';
import { type ItemFeatures, type Projection, projectColdItems } from './features.ts';
import {
  byItem,
  byUser,
  clampInPlace,
  gatherRows,
  medianRowsPerUser,
  type TrainingRows,
} from './interactions.ts';
import { biasedMfSse, permuteRows, sgdBiasedMfEpoch } from './kernels.ts';
import { solveSpdInPlace } from './linalg.ts';
import { createSgdWasm, wasmSgdAvailable } from './wasm/sgd.ts';
import type { EpochLog, FactorExport, FactorRecommender, FitReport, TrainContext } from './types.ts';

export interface MfOptions {
  /** Latent dimensions. */
  factors?: number;
  epochs?: number;
  /** 'sgd' (Funk/Koren biased MF) or 'als' (alternating ridge solves, weighted-λ). */
  solver?: 'sgd' | 'als';
  learningRate?: number;
  /** L2 on factors. For ALS it is λ in the weighted-λ rule (λ·n_u per user). */
  reg?: number;
  biasLearningRate?: number;
  biasReg?: number;
  /** Learning-rate multiplier per epoch (SGD). */
  decay?: number;
  /** Std-dev of the initial factors. */
  initStd?: number;
  /**
   * SGD inner loop: 'wasm' = the SIMD kernel (wasm/sgd.wat, factors divisible by 4), 'js' = the
   * typed-array kernel, 'auto' = wasm when it applies.
   */
  kernel?: 'auto' | 'wasm' | 'js';
  /** Metadata projection (reference 004): item features → item-factor space for unrated items. */
  itemFeatures?: ItemFeatures;
  /** Ridge weight of the metadata projection. */
  projectionReg?: number;
  name?: string;
}

const SOLVERS = ['sgd', 'als'] as const;

/**
 * Biased matrix factorisation r̂ = μ + b_u + b_i + p_u·q_i (PMF with biases), trained by SGD or
 * ALS with L2, predictions clamped to the dataset's rating scale. With `itemFeatures`, a ridge
 * projection from item features to [q_i, b_i] is fitted on rated items and gives every item with
 * no training rating a vector (reference 004's metadata projection), so cold movies are scored.
 */
export class BiasedMf implements FactorRecommender {
  readonly name: string;
  readonly predictsRatings = true;
  factors: number;
  mean = 0;
  userFactors: Float32Array = new Float32Array(0);
  itemFactors: Float32Array = new Float32Array(0);
  userBias: Float32Array = new Float32Array(0);
  itemBias: Float32Array = new Float32Array(0);
  /** Features → [factors..., bias] projection, when item features were given. */
  projection: Projection | null = null;
  /** 1 for items that had training ratings; 0 for items whose vector came from the projection. */
  warmItems = new Uint8Array(0);
  private scale = { min: 1, max: 5 };
  private medianUserRatings = 1;
  private readonly options: Required<Omit<MfOptions, 'itemFeatures' | 'name'>> &
    Pick<MfOptions, 'itemFeatures'>;

  constructor(options: MfOptions = {}) {
    const solver = options.solver ?? 'sgd';
    if (!SOLVERS.includes(solver)) {
      throw new ReelrankError(
        'bad_option',
        `mf solver '${solver}' is unknown. Supported: ${SOLVERS.join(', ')}`,
      );
    }
    this.options = {
      factors: options.factors ?? 100,
      epochs: options.epochs ?? (solver === 'als' ? 15 : 40),
      solver,
      learningRate: options.learningRate ?? 0.007,
      reg: options.reg ?? (solver === 'als' ? 0.1 : 0.05),
      biasLearningRate: options.biasLearningRate ?? 0.007,
      biasReg: options.biasReg ?? 0.005,
      decay: options.decay ?? 0.97,
      initStd: options.initStd ?? 0.05,
      projectionReg: options.projectionReg ?? 1,
      kernel: options.kernel ?? 'auto',
      ...(options.itemFeatures ? { itemFeatures: options.itemFeatures } : {}),
    };
    this.factors = this.options.factors;
    this.name = options.name ?? `mf-${solver}`;
  }

  async fit(context: TrainContext): Promise<FitReport> {
    const started = performance.now();
    const { dataset } = context;
    this.scale = dataset.ratingScale;
    const rows = gatherRows(dataset, context.train);
    const k = this.factors;
    this.mean = rows.mean;
    const rng = createRng(context.seed);
    this.userFactors = new Float32Array(rows.users * k);
    this.itemFactors = new Float32Array(rows.items * k);
    for (let j = 0; j < this.userFactors.length; j++)
      this.userFactors[j] = rng.normal() * this.options.initStd;
    for (let j = 0; j < this.itemFactors.length; j++)
      this.itemFactors[j] = rng.normal() * this.options.initStd;
    const biases = fitBiases(rows);
    this.userBias = biases.userBias;
    this.itemBias = biases.itemBias;
    const validation = context.validation ? gatherRows(dataset, context.validation) : null;
    const epochs: EpochLog[] =
      this.options.solver === 'sgd'
        ? this.fitSgd(rows, validation, rng, context)
        : this.fitAls(rows, validation, context);
    this.medianUserRatings = medianRowsPerUser(rows);
    this.warmItems = new Uint8Array(rows.items);
    for (let j = 0; j < rows.length; j++) this.warmItems[rows.item[j]!] = 1;
    if (this.options.itemFeatures) this.fitMetadataProjection(this.options.itemFeatures);
    return { epochs, seconds: (performance.now() - started) / 1000 };
  }

  private state() {
    return {
      factors: this.factors,
      mean: this.mean,
      userFactors: this.userFactors,
      itemFactors: this.itemFactors,
      userBias: this.userBias,
      itemBias: this.itemBias,
    };
  }

  private log(
    epoch: number,
    trainLoss: number,
    validation: TrainingRows | null,
    epochStarted: number,
    context: TrainContext,
  ): EpochLog {
    const entry: EpochLog = {
      epoch,
      totalEpochs: this.options.epochs,
      trainLoss,
      seconds: (performance.now() - epochStarted) / 1000,
    };
    if (validation) {
      const predicted = this.predict(validation.user, validation.item);
      let sse = 0;
      for (let j = 0; j < validation.length; j++) sse += (predicted[j]! - validation.rating[j]!) ** 2;
      entry.validationRmse = Math.sqrt(sse / validation.length);
      entry.validationLoss = entry.validationRmse ** 2;
    }
    context.onEpoch?.(entry);
    return entry;
  }

  private fitSgd(
    rows: TrainingRows,
    validation: TrainingRows | null,
    rng: ReturnType<typeof createRng>,
    context: TrainContext,
  ): EpochLog[] {
    const { epochs, learningRate, reg, biasLearningRate, biasReg, decay } = this.options;
    const order = new Uint32Array(rows.length);
    for (let j = 0; j < order.length; j++) order[j] = j;
    const useWasm =
      this.options.kernel === 'wasm' ||
      (this.options.kernel === 'auto' && this.factors % 4 === 0 && wasmSgdAvailable());
    const wasm = useWasm ? createSgdWasm(rows.length, rows.users, rows.items, this.factors) : null;
    if (wasm) {
      // Train in the kernel's memory: the model's arrays become views on it until the end.
      wasm.userFactors.set(this.userFactors);
      wasm.itemFactors.set(this.itemFactors);
      wasm.userBias.set(this.userBias);
      wasm.itemBias.set(this.itemBias);
      this.userFactors = wasm.userFactors;
      this.itemFactors = wasm.itemFactors;
      this.userBias = wasm.userBias;
      this.itemBias = wasm.itemBias;
    }
    const user = wasm ? wasm.user : new Uint32Array(rows.length);
    const item = wasm ? wasm.item : new Uint32Array(rows.length);
    const rating = wasm ? wasm.rating : new Float32Array(rows.length);
    const state = this.state();
    const logs: EpochLog[] = [];
    let lr = learningRate;
    let lrBias = biasLearningRate;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const epochStarted = performance.now();
      shuffleInPlace(order, rng);
      permuteRows(order, rows.user, rows.item, rows.rating, user, item, rating);
      const sse = wasm
        ? wasm.epoch(rows.length, this.mean, lr, reg, lrBias, biasReg)
        : sgdBiasedMfEpoch(user, item, rating, state, lr, reg, lrBias, biasReg);
      logs.push(this.log(epoch, sse / rows.length, validation, epochStarted, context));
      lr *= decay;
      lrBias *= decay;
    }
    if (wasm) {
      this.userFactors = wasm.userFactors.slice();
      this.itemFactors = wasm.itemFactors.slice();
      this.userBias = wasm.userBias.slice();
      this.itemBias = wasm.itemBias.slice();
    }
    return logs;
  }

  /**
   * ALS with biases folded into the solves: the user side solves [p_u, b_u] against targets
   * r − μ − b_i with item rows [q_i, 1]; the item side symmetrically. Weighted-λ (Zhou et al.):
   * the ridge grows with the row's rating count.
   */
  private fitAls(rows: TrainingRows, validation: TrainingRows | null, context: TrainContext): EpochLog[] {
    const { epochs, reg } = this.options;
    const k = this.factors;
    const users = byUser(rows);
    const items = byItem(rows);
    const logs: EpochLog[] = [];
    const dim = k + 1;
    const gram = new Float64Array(dim * dim);
    const rhs = new Float64Array(dim);
    const other = new Float64Array(dim);
    const solveSide = (
      csr: typeof users,
      groups: number,
      own: Float32Array,
      ownBias: Float32Array,
      opposite: Float32Array,
      oppositeBias: Float32Array,
    ) => {
      for (let g = 0; g < groups; g++) {
        const start = csr.offsets[g]!;
        const end = csr.offsets[g + 1]!;
        if (end === start) continue;
        gram.fill(0);
        rhs.fill(0);
        for (let p = start; p < end; p++) {
          const o = csr.index[p]!;
          for (let f = 0; f < k; f++) other[f] = opposite[o * k + f]!;
          other[k] = 1;
          const target = csr.value[p]! - this.mean - oppositeBias[o]!;
          for (let a = 0; a < dim; a++) {
            const oa = other[a]!;
            rhs[a] = rhs[a]! + oa * target;
            const row = a * dim;
            for (let b = 0; b <= a; b++) gram[row + b] = gram[row + b]! + oa * other[b]!;
          }
        }
        const lambda = reg * (end - start);
        for (let a = 0; a < dim; a++) {
          gram[a * dim + a] = gram[a * dim + a]! + lambda;
          for (let b = 0; b < a; b++) gram[b * dim + a] = gram[a * dim + b]!;
        }
        solveSpdInPlace(gram, dim, rhs);
        for (let f = 0; f < k; f++) own[g * k + f] = rhs[f]!;
        ownBias[g] = rhs[k]!;
      }
    };
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const epochStarted = performance.now();
      solveSide(users, rows.users, this.userFactors, this.userBias, this.itemFactors, this.itemBias);
      solveSide(items, rows.items, this.itemFactors, this.itemBias, this.userFactors, this.userBias);
      const sse = biasedMfSse(rows.user, rows.item, rows.rating, this.state());
      logs.push(this.log(epoch, sse / rows.length, validation, epochStarted, context));
    }
    return logs;
  }

  private fitMetadataProjection(features: ItemFeatures): void {
    this.projection = projectColdItems(
      features,
      this.itemFactors,
      this.itemBias,
      this.factors,
      this.warmItems,
      this.options.projectionReg,
    );
  }

  exportFactors(): FactorExport {
    return {
      factors: this.factors,
      mean: this.mean,
      userFactors: this.userFactors,
      itemFactors: this.itemFactors,
      userBias: this.userBias,
      itemBias: this.itemBias,
      // Both solvers regularise a user by reg·n_u (SGD applies reg at each of the user's ratings);
      // fold-in uses the typical user's n_u.
      foldInLambda: Math.max(1, this.options.reg * this.medianUserRatings),
    };
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const k = this.factors;
    const out = new Float32Array(userIndex.length);
    for (let j = 0; j < out.length; j++) {
      const u = userIndex[j]!;
      const i = itemIndex[j]!;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += this.userFactors[u * k + f]! * this.itemFactors[i * k + f]!;
      out[j] = this.mean + (this.userBias[u] ?? 0) + (this.itemBias[i] ?? 0) + dot;
    }
    return clampInPlace(out, this.scale.min, this.scale.max);
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    const k = this.factors;
    const base = this.mean + (this.userBias[userIndex] ?? 0);
    const pu = userIndex * k;
    for (let i = 0; i < out.length; i++) {
      let dot = 0;
      for (let f = 0; f < k; f++) dot += this.userFactors[pu + f]! * this.itemFactors[i * k + f]!;
      out[i] = base + this.itemBias[i]! + dot;
    }
  }
}
