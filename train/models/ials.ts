import { ReelrankError } from '../../shared/errors.ts';
import {
  checkImplicitConfig,
  foldInImplicit,
  type ImplicitConfidence,
  type ImplicitConfig,
  implicitConfidence,
  implicitRegularization,
} from '../../shared/kernels/implicit.ts';
import { createRng } from '../../shared/random.ts';
import { IALS_WASM_BASE64 } from './wasm/ials-wasm.ts';
import { lazyWasmModule } from './wasm/module.ts';
import { type ItemFeatures, projectColdItems } from './features.ts';
import { buildCsr, type Csr, gatherRows } from './interactions.ts';
import {
  balancedRanges,
  sharedFloat32,
  sharedFloat64,
  sharedUint32,
  trainingPool,
} from '../parallel/pool.ts';
import type { FactorScorer } from '../eval/factor-ranking.ts';
import type { EpochLog, FitReport, Recommender, TrainContext } from './types.ts';

export interface IalsOptions {
  factors?: number;
  iterations?: number;
  /** Confidence slope α (c = 1 + α·f(r)). */
  alpha?: number;
  /** Base L2 weight λ. */
  lambda?: number;
  /** f(r): 'binary' (every rating counts 1) or 'rating' (r / max rating). */
  confidence?: ImplicitConfidence;
  /** Frequency scaling ν of λ (λ·n^ν per row; Rendle et al. 2021 find ν = 1 helps). */
  regExponent?: number;
  /** Conjugate-gradient steps per row and half-iteration (warm-started; Takács et al. 2011). */
  cgSteps?: number;
  /** Standard deviation of the initial factors (scaled by 1/√k). */
  initScale?: number;
  /**
   * Solve the last user pass exactly (Cholesky, the edge's fold-in kernel) instead of by CG, so a
   * known user's exported vector is exactly what an anonymous fold-in of the same ratings gives.
   */
  exactLastUserPass?: boolean;
  /**
   * Item metadata: movies with no training interaction get their factors from a ridge projection
   * of these features fitted on the others (reference 004, into the ranking space; cold start).
   */
  itemFeatures?: ItemFeatures;
  /** Ridge λ of that projection. */
  projectionReg?: number;
}

/** What a version exports for the ranking channel (rank_* files + the implicit config). */
export interface RankFactorExport {
  factors: number;
  /** [users, k] row-major. */
  userFactors: Float32Array;
  /** [items, k] row-major. */
  itemFactors: Float32Array;
  /** YᵀY of the trained item factors, [k, k] row-major (users were solved against it; metadata-projected cold rows are not in it). */
  gram: Float32Array;
  config: ImplicitConfig;
}

/** A model whose ranking scores are x_u·y_i over exportable factors. */
export interface RankFactorRecommender extends Recommender {
  exportRankFactors(): RankFactorExport;
}

/** True when the model exports ranking factors (iALS). */
export function isRankFactorRecommender(model: Recommender): model is RankFactorRecommender {
  return typeof (model as Partial<RankFactorRecommender>).exportRankFactors === 'function';
}

/** G = YᵀY over `rows` rows of Y [rows, k] (Float64 accumulation; lower triangle mirrored). */
export function gramMatrix(
  factors: Float32Array,
  rows: number,
  k: number,
  out: Float64Array = new Float64Array(k * k),
): Float64Array {
  out.fill(0);
  for (let r = 0; r < rows; r++) {
    const base = r * k;
    for (let i = 0; i < k; i++) {
      const yi = factors[base + i]!;
      if (yi === 0) continue;
      const row = i * k;
      for (let j = 0; j <= i; j++) out[row + j] = out[row + j]! + yi * factors[base + j]!;
    }
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) out[j * k + i] = out[i * k + j]!;
  return out;
}

/** Scratch vectors of one CG solve (allocated once per half-iteration). */
export interface CgScratch {
  residual: Float64Array;
  direction: Float64Array;
  product: Float64Array;
}

/**
 * out = (G + Σ (c_j − 1) y_j y_jᵀ + reg·I) v over one row's interactions `other[start..end)`:
 * k² for the shared Gram part, 2·k per interaction, never the whole catalog.
 */
export function applyRowSystem(
  gram: Float64Array,
  fixed: Float32Array,
  other: Uint32Array,
  confidence: Float32Array,
  start: number,
  end: number,
  k: number,
  reg: number,
  v: Float64Array,
  out: Float64Array,
): void {
  // out = (G + reg·I) v: four outputs at a time, each summed over j in order as one would alone
  // (G is symmetric, so G[i, j] = G[j, i] and the four are adjacent in row j): the same result,
  // four independent add chains instead of one.
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    let s0 = reg * v[i]!;
    let s1 = reg * v[i + 1]!;
    let s2 = reg * v[i + 2]!;
    let s3 = reg * v[i + 3]!;
    for (let j = 0, g = i; j < k; j++, g += k) {
      const vj = v[j]!;
      s0 += gram[g]! * vj;
      s1 += gram[g + 1]! * vj;
      s2 += gram[g + 2]! * vj;
      s3 += gram[g + 3]! * vj;
    }
    out[i] = s0;
    out[i + 1] = s1;
    out[i + 2] = s2;
    out[i + 3] = s3;
  }
  for (; i < k; i++) {
    const row = i * k;
    let s = reg * v[i]!;
    for (let j = 0; j < k; j++) s += gram[row + j]! * v[j]!;
    out[i] = s;
  }
  // + Σ (c_p − 1)(y_p · v) y_p over the row's interactions, two dot products at a time (each in
  // order), the updates of `out` in interaction order.
  let p = start;
  for (; p + 2 <= end; p += 2) {
    const b0 = other[p]! * k;
    const b1 = other[p + 1]! * k;
    let d0 = 0;
    let d1 = 0;
    for (let f = 0; f < k; f++) {
      const vf = v[f]!;
      d0 += fixed[b0 + f]! * vf;
      d1 += fixed[b1 + f]! * vf;
    }
    const w0 = (confidence[p]! - 1) * d0;
    const w1 = (confidence[p + 1]! - 1) * d1;
    if (w0 !== 0) for (let f = 0; f < k; f++) out[f] = out[f]! + w0 * fixed[b0 + f]!;
    if (w1 !== 0) for (let f = 0; f < k; f++) out[f] = out[f]! + w1 * fixed[b1 + f]!;
  }
  for (; p < end; p++) {
    const base = other[p]! * k;
    let dot = 0;
    for (let f = 0; f < k; f++) dot += fixed[base + f]! * v[f]!;
    const w = (confidence[p]! - 1) * dot;
    if (w === 0) continue;
    for (let f = 0; f < k; f++) out[f] = out[f]! + w * fixed[base + f]!;
  }
}

type ApplyRowSystem = (
  gram: number,
  fixed: number,
  other: number,
  conf: number,
  start: number,
  end: number,
  k: number,
  reg: number,
  v: number,
  out: number,
) => void;

const ialsModule = lazyWasmModule(IALS_WASM_BASE64);
/** This thread's row-system kernel (wasm/ials.wat) and its memory, grown as needed. */
let ialsKernel: { memory: WebAssembly.Memory; apply: ApplyRowSystem } | null = null;

/** The kernel with at least `bytes` of memory, or null where wasm SIMD is missing. */
function rowSystemKernel(bytes: number): { memory: WebAssembly.Memory; apply: ApplyRowSystem } | null {
  const module = ialsModule();
  if (module === null) return null;
  const pages = Math.ceil(bytes / 65536);
  if (!ialsKernel) {
    const memory = new WebAssembly.Memory({ initial: pages });
    const { apply } = new WebAssembly.Instance(module, { env: { memory } }).exports as {
      apply: ApplyRowSystem;
    };
    ialsKernel = { memory, apply };
  } else if (ialsKernel.memory.buffer.byteLength < pages * 65536) {
    ialsKernel.memory.grow(pages - ialsKernel.memory.buffer.byteLength / 65536);
  }
  return ialsKernel;
}

/**
 * One iALS half-step for every row of one side by warm-started conjugate gradient: the row's
 * system is SPD, so `steps` CG iterations from the previous vector approach the exact ridge
 * solution at O(steps·(k² + 2·k·n)) instead of O(n·k² + k³) for a fresh Cholesky. The system's
 * products run in WebAssembly SIMD (wasm/ials.wat, the same sums in the same order as
 * `applyRowSystem`): the gram matrix, the fixed side's factors and the rows' interactions are
 * copied into its memory once per call.
 */
export function cgHalfStep(
  csr: Csr,
  confidence: Float32Array,
  regularization: Float64Array,
  fixed: Float32Array,
  solved: Float32Array,
  gram: Float64Array,
  k: number,
  steps: number,
  scratch: CgScratch,
  from = 0,
  to = csr.offsets.length - 1,
): void {
  const first = csr.offsets[from]!;
  const count = csr.offsets[to]! - first;
  // Layout (bytes, 16-aligned): gram | x | direction | product | fixed | other | conf.
  const align = (n: number) => Math.ceil(n / 16) * 16;
  const gramAt = 0;
  const xAt = align(gramAt + k * k * 8);
  const dAt = align(xAt + k * 8);
  const pAt = align(dAt + k * 8);
  const fixedAt = align(pAt + k * 8);
  const otherAt = align(fixedAt + fixed.length * 4);
  const confAt = align(otherAt + count * 4);
  const kernel = rowSystemKernel(confAt + count * 4);
  let system: (v: Float64Array, out: Float64Array, start: number, end: number, reg: number) => void;
  let x: Float64Array;
  let { residual, direction, product } = scratch;
  if (kernel) {
    const buffer = kernel.memory.buffer;
    new Float64Array(buffer, gramAt, k * k).set(gram.subarray(0, k * k));
    new Float32Array(buffer, fixedAt, fixed.length).set(fixed);
    new Uint32Array(buffer, otherAt, count).set(csr.index.subarray(first, first + count));
    new Float32Array(buffer, confAt, count).set(confidence.subarray(first, first + count));
    x = new Float64Array(buffer, xAt, k);
    direction = new Float64Array(buffer, dAt, k);
    product = new Float64Array(buffer, pAt, k);
    const apply = kernel.apply;
    system = (v, _out, start, end, reg) =>
      apply(gramAt, fixedAt, otherAt, confAt, start - first, end - first, k, reg, v === x ? xAt : dAt, pAt);
  } else {
    x = new Float64Array(k);
    system = (v, out, start, end, reg) =>
      applyRowSystem(gram, fixed, csr.index, confidence, start, end, k, reg, v, out);
  }
  residual ??= new Float64Array(k);
  for (let r = from; r < to; r++) {
    const start = csr.offsets[r]!;
    const end = csr.offsets[r + 1]!;
    const base = r * k;
    if (start === end) {
      // No interactions: the optimum is 0 (nothing pulls the row away from the prior).
      solved.fill(0, base, base + k);
      continue;
    }
    for (let f = 0; f < k; f++) x[f] = solved[base + f]!;
    // residual = b − A x, with b = Σ c_j y_j.
    system(x, product, start, end, regularization[r]!);
    for (let f = 0; f < k; f++) residual[f] = -product[f]!;
    for (let p = start; p < end; p++) {
      const c = confidence[p]!;
      const b = csr.index[p]! * k;
      for (let f = 0; f < k; f++) residual[f] = residual[f]! + c * fixed[b + f]!;
    }
    let rr = 0;
    for (let f = 0; f < k; f++) {
      direction[f] = residual[f]!;
      rr += residual[f]! * residual[f]!;
    }
    for (let s = 0; s < steps && rr > 1e-12; s++) {
      system(direction, product, start, end, regularization[r]!);
      let pAp = 0;
      for (let f = 0; f < k; f++) pAp += direction[f]! * product[f]!;
      const step = rr / pAp;
      let next = 0;
      for (let f = 0; f < k; f++) {
        x[f] = x[f]! + step * direction[f]!;
        residual[f] = residual[f]! - step * product[f]!;
        next += residual[f]! * residual[f]!;
      }
      const beta = next / rr;
      for (let f = 0; f < k; f++) direction[f] = residual[f]! + beta * direction[f]!;
      rr = next;
    }
    for (let f = 0; f < k; f++) solved[base + f] = x[f]!;
  }
}

/**
 * The exact half-step (one Cholesky per row) through the edge's own fold-in kernel: used for the
 * last user pass, so exported user vectors equal the anonymous fold-in of the same interactions.
 */
export function exactHalfStep(
  csr: Csr,
  confidence: Float32Array,
  regularization: Float64Array,
  fixed: Float32Array,
  solved: Float32Array,
  gram: Float64Array,
  k: number,
  from = 0,
  to = csr.offsets.length - 1,
): void {
  const out = new Float64Array(k);
  for (let r = from; r < to; r++) {
    const start = csr.offsets[r]!;
    const end = csr.offsets[r + 1]!;
    const n = end - start;
    const rated = new Float32Array(n * k);
    for (let p = start; p < end; p++)
      rated.set(fixed.subarray(csr.index[p]! * k, (csr.index[p]! + 1) * k), (p - start) * k);
    foldInImplicit({
      gram,
      k,
      ratedFactors: rated,
      confidence: confidence.subarray(start, end),
      lambda: regularization[r]!,
      out,
    });
    for (let f = 0; f < k; f++) solved[r * k + f] = out[f]!;
  }
}

/** Weighted squared loss of the implicit objective on the interactions plus the implicit zeros (via the Gram trick). */
function implicitLoss(
  byUserCsr: Csr,
  confidence: Float32Array,
  userFactors: Float32Array,
  itemFactors: Float32Array,
  itemGram: Float64Array,
  k: number,
): number {
  let loss = 0;
  const users = byUserCsr.offsets.length - 1;
  for (let u = 0; u < users; u++) {
    const base = u * k;
    // Σ_all items (x·y_i)² = xᵀ G x: the loss of predicting 0 everywhere with weight 1.
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += itemGram[i * k + j]! * userFactors[base + j]!;
      loss += userFactors[base + i]! * s;
    }
    for (let p = byUserCsr.offsets[u]!; p < byUserCsr.offsets[u + 1]!; p++) {
      const b = byUserCsr.index[p]! * k;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += userFactors[base + f]! * itemFactors[b + f]!;
      const c = confidence[p]!;
      // Replace the weight-1 zero target by the weight-c one target for this interaction.
      loss += c * (1 - dot) ** 2 - dot * dot;
    }
  }
  return loss;
}

/**
 * Implicit-feedback ALS (Hu, Koren & Volinsky 2008): every rating is an interaction with
 * confidence 1 + α·f(r), every other (user, item) a zero with confidence 1; alternating ridge
 * solves by warm-started conjugate gradient (Takács et al. 2011), frequency-scaled λ (Rendle et
 * al. 2021). A ranking model: scores x_u·y_i are not ratings. Exports its factors and item Gram
 * matrix for the edge's collaborative channel (known users and anonymous fold-in).
 */
export class Ials implements RankFactorRecommender {
  readonly name = 'ials';
  readonly predictsRatings = false;
  private readonly o: Required<Omit<IalsOptions, 'itemFeatures'>>;
  private readonly itemFeatures: ItemFeatures | null;
  private config: ImplicitConfig | null = null;
  private trainedGram: Float32Array = new Float32Array(0);
  userFactors: Float32Array = new Float32Array(0);
  itemFactors: Float32Array = new Float32Array(0);

  constructor(options: IalsOptions = {}) {
    this.o = {
      factors: options.factors ?? 64,
      iterations: options.iterations ?? 10,
      alpha: options.alpha ?? 10,
      lambda: options.lambda ?? 1,
      confidence: options.confidence ?? 'binary',
      regExponent: options.regExponent ?? 0,
      cgSteps: options.cgSteps ?? 3,
      initScale: options.initScale ?? 0.1,
      exactLastUserPass: options.exactLastUserPass ?? true,
      projectionReg: options.projectionReg ?? 1,
    };
    this.itemFeatures = options.itemFeatures ?? null;
    for (const [name, value] of [
      ['factors', this.o.factors],
      ['iterations', this.o.iterations],
      ['cgSteps', this.o.cgSteps],
    ] as const) {
      if (!(Number.isInteger(value) && value >= 1))
        throw new ReelrankError('bad_option', `ials ${name} is ${value}; it must be an integer >= 1`);
    }
    if (this.o.factors > 128)
      throw new ReelrankError(
        'bad_option',
        `ials factors is ${this.o.factors}; at most 128 (the edge folds sessions in by a k x k Cholesky)`,
      );
  }

  private warm: { userFactors: Float32Array; itemFactors: Float32Array; iterations: number } | null = null;

  /**
   * Start the next fit from `other`'s factors (same users and items) and run `iterations`
   * alternations instead of the configured count: the production fit after an evaluation fit on
   * most of the same rows (pipeline/train.ts; bench/scale.ts measures its held-out quality).
   */
  warmStartFrom(other: Ials, iterations: number): void {
    if (!(Number.isInteger(iterations) && iterations >= 1))
      throw new ReelrankError(
        'bad_option',
        `ials warm-start iterations is ${iterations}; it must be an integer >= 1`,
      );
    if (other.o.factors !== this.o.factors)
      throw new ReelrankError(
        'bad_option',
        `ials warm start: ${other.o.factors} factors, expected ${this.o.factors}`,
      );
    this.warm = { userFactors: other.userFactors, itemFactors: other.itemFactors, iterations };
  }

  async fit(context: TrainContext): Promise<FitReport> {
    const started = performance.now();
    const rows = gatherRows(context.dataset, context.train);
    const config = checkImplicitConfig({
      alpha: this.o.alpha,
      lambda: this.o.lambda,
      confidence: this.o.confidence,
      ratingMax: context.dataset.ratingScale.max,
      regExponent: this.o.regExponent,
    });
    this.config = config;
    const conf = Float32Array.from(rows.rating, (r) => implicitConfidence(r, config));
    // CSRs, regularisation and factors live in shared memory: the thread pool solves row ranges.
    const toShared = (csr: Csr): Csr => ({
      offsets: sharedUint32(csr.offsets),
      index: sharedUint32(csr.index),
      value: sharedFloat32(csr.value),
      row: csr.row,
    });
    const userCsr = toShared(buildCsr(rows.user, rows.item, conf, rows.users));
    const itemCsr = toShared(buildCsr(rows.item, rows.user, conf, rows.items));
    const regOf = (csr: Csr) =>
      sharedFloat64(
        Float64Array.from({ length: csr.offsets.length - 1 }, (_, r) =>
          implicitRegularization(csr.offsets[r + 1]! - csr.offsets[r]!, config),
        ),
      );
    const userReg = regOf(userCsr);
    const itemReg = regOf(itemCsr);
    const k = this.o.factors;
    const warm = this.warm;
    this.warm = null;
    const iterations = warm?.iterations ?? this.o.iterations;
    if (warm && (warm.userFactors.length !== rows.users * k || warm.itemFactors.length !== rows.items * k))
      throw new ReelrankError('bad_option', 'ials warm start: the other fit has different users or items');
    const rng = createRng(context.seed);
    const scale = this.o.initScale / Math.sqrt(k);
    this.userFactors = warm
      ? sharedFloat32(warm.userFactors)
      : sharedFloat32(Float32Array.from({ length: rows.users * k }, () => rng.normal() * scale));
    this.itemFactors = warm
      ? sharedFloat32(warm.itemFactors)
      : sharedFloat32(Float32Array.from({ length: rows.items * k }, () => rng.normal() * scale));
    if (warm) {
      // Cold rows of the earlier fit hold metadata projections: start them from zero again.
      for (let i = 0; i < rows.items; i++)
        if (itemCsr.offsets[i + 1] === itemCsr.offsets[i]) this.itemFactors.fill(0, i * k, (i + 1) * k);
    }
    const gram = sharedFloat64(k * k);
    const pool = trainingPool();
    const jobs = pool.threads === 1 ? 1 : pool.threads * 4;
    const userRanges = balancedRanges(userCsr.offsets, jobs, Math.ceil(k / 3));
    const itemRanges = balancedRanges(itemCsr.offsets, jobs, Math.ceil(k / 3));
    const half = (
      csr: Csr,
      reg: Float64Array,
      fixed: Float32Array,
      solved: Float32Array,
      ranges: [number, number][],
      exact: boolean,
    ) =>
      pool.map(
        'ials.half',
        ranges.map(([from, to]) => ({
          offsets: csr.offsets,
          index: csr.index,
          confidence: csr.value,
          regularization: reg,
          fixed,
          solved,
          gram,
          k,
          steps: this.o.cgSteps,
          exact,
          from,
          to,
        })),
      );
    const epochs: EpochLog[] = [];
    for (let iteration = 1; iteration <= iterations; iteration++) {
      const t = performance.now();
      gramMatrix(this.itemFactors, rows.items, k, gram);
      const exactUsers = iteration === iterations && this.o.exactLastUserPass;
      await half(userCsr, userReg, this.itemFactors, this.userFactors, userRanges, exactUsers);
      if (iteration < iterations || !this.o.exactLastUserPass) {
        gramMatrix(this.userFactors, rows.users, k, gram);
        await half(itemCsr, itemReg, this.userFactors, this.itemFactors, itemRanges, false);
      }
      // The loss costs one more pass; log it on the first and last iteration only.
      const trainLoss =
        iteration === 1 || iteration === iterations
          ? implicitLoss(
              userCsr,
              userCsr.value,
              this.userFactors,
              this.itemFactors,
              gramMatrix(this.itemFactors, rows.items, k),
              k,
            ) / rows.length
          : Number.NaN;
      const log: EpochLog = { epoch: iteration, trainLoss, seconds: (performance.now() - t) / 1000 };
      context.onEpoch?.(log);
      epochs.push(log);
    }
    // The Gram matrix users were solved against: before any metadata projection of cold rows.
    this.trainedGram = Float32Array.from(gramMatrix(this.itemFactors, rows.items, k));
    if (this.itemFeatures) {
      const warm = Uint8Array.from({ length: rows.items }, (_, i) =>
        itemCsr.offsets[i + 1]! > itemCsr.offsets[i]! ? 1 : 0,
      );
      projectColdItems(
        this.itemFeatures,
        this.itemFactors,
        new Float32Array(rows.items),
        k,
        warm,
        this.o.projectionReg,
      );
    }
    return {
      epochs,
      seconds: (performance.now() - started) / 1000,
      notes: { ...config, factors: k, iterations, cgSteps: this.o.cgSteps, warmStart: warm !== null },
    };
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const k = this.o.factors;
    return Float32Array.from(userIndex, (u, j) => {
      const i = itemIndex[j]!;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += this.userFactors[u * k + f]! * this.itemFactors[i * k + f]!;
      return dot;
    });
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    const k = this.o.factors;
    const pu = userIndex * k;
    const user = this.userFactors.subarray(pu, pu + k);
    const items = this.itemFactors;
    for (let i = 0, base = 0; i < out.length; i++, base += k) {
      let dot = 0;
      for (let f = 0; f < k; f++) dot += user[f]! * items[base + f]!;
      out[i] = dot;
    }
  }

  /** Ranking scores as factors, for the parallel evaluation (eval/factor-ranking.ts). */
  rankingScorer(): FactorScorer {
    return { factors: this.o.factors, userFactors: this.userFactors, itemFactors: this.itemFactors };
  }

  exportRankFactors(): RankFactorExport {
    if (!this.config) throw new ReelrankError('bad_option', 'ials: exportRankFactors() before fit()');
    // Plain copies: training state lives in SharedArrayBuffers, which WebCrypto refuses to hash.
    return {
      factors: this.o.factors,
      userFactors: this.userFactors.slice(),
      itemFactors: this.itemFactors.slice(),
      gram: this.trainedGram,
      config: this.config,
    };
  }
}
