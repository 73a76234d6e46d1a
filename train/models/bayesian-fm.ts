import { ReelrankError } from '../../shared/errors.ts';
import { createRng, type Rng } from '../../shared/random.ts';
import type { Dataset } from '../data/dataset.ts';
import { buildCsr, clampInPlace, gatherRows, type TrainingRows } from './interactions.ts';
import type { EpochLog, FitReport, Recommender, TrainContext } from './types.ts';

/** Which side-feature blocks a Bayesian FM uses (all derived from the training rows or the catalog). */
export interface BayesianFmFeatures {
  /** The items a user rated in TRAINING (SVD++'s N(u)), weight |N(u)|^-½. */
  userImplicit?: boolean;
  /** The users who rated an item in TRAINING ("flipped" SVD++), weight |N(i)|^-½. */
  itemImplicit?: boolean;
  /** Demographics from `dataset.userProfiles`: age bucket, gender, occupation, zip prefix. */
  userProfile?: boolean;
  /** Genres (weight 1/√count) and release-year bucket from the catalog. */
  itemMetadata?: boolean;
}

export interface BayesianFmOptions {
  factors?: number;
  /** Gibbs sweeps over all parameters and hyper-parameters. */
  iterations?: number;
  /** Sweeps discarded before predictions are averaged. */
  burnIn?: number;
  /** Keep every `thin`-th sample after burn-in (memory: samples × (users + items) × factors floats). */
  thin?: number;
  /** Standard deviation of the initial factors (libFM's init_stdev). */
  initStd?: number;
  features?: BayesianFmFeatures;
  name?: string;
}

/**
 * One side of the two-way model (users or items): entities (users / items), their sparse
 * feature rows x (id one-hot, implicit sets, side features), the parameters of those features,
 * and the effective per-entity sums the predictions use.
 */
interface Side {
  entities: number;
  features: number;
  /** Feature group of every feature (each group has its own prior mean and precision). */
  group: Uint16Array;
  groups: number;
  groupNames: string[];
  /** Per feature j: entities a with x_aj ≠ 0 and the value (CSC). */
  featureOffsets: Uint32Array;
  featureEntity: Uint32Array;
  featureValue: Float64Array;
  /** Per entity a: its training rows (positions into the residual array) and the other side's entity. */
  rowOffsets: Uint32Array;
  rowId: Uint32Array;
  rowOther: Uint32Array;
  /** Linear weights w_j and factors V [features, k]. */
  weight: Float64Array;
  factor: Float64Array;
  /** Effective bias Σ_j x_aj w_j and vector Σ_j x_aj V_j of every entity. */
  bias: Float64Array;
  vector: Float64Array;
  /** Hyper-parameters: per group (linear) and per group × factor. */
  weightMean: Float64Array;
  weightPrecision: Float64Array;
  factorMean: Float64Array;
  factorPrecision: Float64Array;
}

/** Scratch arrays for one side's conditional updates. */
interface Scratch {
  a: Float64Array;
  b: Float64Array;
  delta: Float64Array;
}

/** Marsaglia–Tsang Gamma(shape, rate) sampler (shape ≥ 1 here: shapes are (1 + n)/2 with n ≥ 1). */
function sampleGamma(rng: Rng, shape: number, rate: number): number {
  if (shape < 1) return sampleGamma(rng, shape + 1, rate) * rng.next() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return (d * v) / rate;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return (d * v) / rate;
  }
}

/**
 * Gibbs step for one factor column f of one side (libFM's MCMC update, Rendle 2012, with the
 * block structure of the data): every row's prediction is linear in V_jf with slope
 * h = x_aj·q_of where q is the other side's effective vector. Per entity a we keep
 * A_a = Σ_rows q² and B_a = Σ_rows q·e (e = residual), so a feature's conditional costs its
 * non-zeros, not its rows; after the sweep the residuals absorb each entity's total change.
 */
function sampleFactorColumn(
  side: Side,
  other: Float64Array,
  k: number,
  f: number,
  residual: Float64Array,
  alpha: number,
  rng: Rng,
  s: Scratch,
  column: Float64Array,
): void {
  const { a, b, delta } = s;
  // Locals, not property loads inside the loops.
  const {
    entities,
    features,
    group,
    rowOffsets,
    rowId,
    rowOther,
    featureOffsets,
    featureEntity,
    featureValue,
  } = side;
  const factor = side.factor;
  const vector = side.vector;
  const factorPrecision = side.factorPrecision;
  const factorMean = side.factorMean;
  // The other side's column f, contiguous: the row loops below read it at random positions,
  // and a stride-k gather from the [entities, k] matrix missed cache on every read.
  for (let o = 0; o < column.length; o++) column[o] = other[o * k + f]!;
  for (let e = 0; e < entities; e++) {
    let sa = 0;
    let sb = 0;
    const end = rowOffsets[e + 1]!;
    for (let p = rowOffsets[e]!; p < end; p++) {
      const q = column[rowOther[p]!]!;
      sa += q * q;
      sb += q * residual[rowId[p]!]!;
    }
    a[e] = sa;
    b[e] = sb;
    delta[e] = 0;
  }
  for (let j = 0; j < features; j++) {
    const g = group[j]!;
    const lambda = factorPrecision[g * k + f]!;
    const mu = factorMean[g * k + f]!;
    const theta = factor[j * k + f]!;
    const start = featureOffsets[j]!;
    const end = featureOffsets[j + 1]!;
    let s2 = 0;
    let s1 = 0;
    for (let p = start; p < end; p++) {
      const e = featureEntity[p]!;
      const x = featureValue[p]!;
      const xa = x * a[e]!;
      s2 += x * xa;
      s1 += x * b[e]! + theta * x * xa;
    }
    const precision = alpha * s2 + lambda;
    const next = (alpha * s1 + mu * lambda) / precision + rng.normal() / Math.sqrt(precision);
    const change = next - theta;
    factor[j * k + f] = next;
    for (let p = start; p < end; p++) {
      const e = featureEntity[p]!;
      const x = change * featureValue[p]!;
      b[e] = b[e]! - x * a[e]!;
      delta[e] = delta[e]! + x;
    }
  }
  for (let e = 0; e < entities; e++) {
    const d = delta[e]!;
    if (d === 0) continue;
    vector[e * k + f] = vector[e * k + f]! + d;
    const end = rowOffsets[e + 1]!;
    for (let p = rowOffsets[e]!; p < end; p++) {
      const r = rowId[p]!;
      residual[r] = residual[r]! - d * column[rowOther[p]!]!;
    }
  }
}

/** Gibbs step for the linear weights of one side: the same as a factor column with q ≡ 1. */
function sampleLinear(side: Side, residual: Float64Array, alpha: number, rng: Rng, s: Scratch): void {
  const { a, b, delta } = s;
  for (let e = 0; e < side.entities; e++) {
    let sb = 0;
    for (let p = side.rowOffsets[e]!; p < side.rowOffsets[e + 1]!; p++) sb += residual[side.rowId[p]!]!;
    a[e] = side.rowOffsets[e + 1]! - side.rowOffsets[e]!;
    b[e] = sb;
    delta[e] = 0;
  }
  for (let j = 0; j < side.features; j++) {
    const g = side.group[j]!;
    const lambda = side.weightPrecision[g]!;
    const mu = side.weightMean[g]!;
    const theta = side.weight[j]!;
    let s2 = 0;
    let s1 = 0;
    for (let p = side.featureOffsets[j]!; p < side.featureOffsets[j + 1]!; p++) {
      const e = side.featureEntity[p]!;
      const x = side.featureValue[p]!;
      s2 += x * x * a[e]!;
      s1 += x * (b[e]! + theta * x * a[e]!);
    }
    const precision = alpha * s2 + lambda;
    const next = (alpha * s1 + mu * lambda) / precision + rng.normal() / Math.sqrt(precision);
    const change = next - theta;
    side.weight[j] = next;
    for (let p = side.featureOffsets[j]!; p < side.featureOffsets[j + 1]!; p++) {
      const e = side.featureEntity[p]!;
      const x = side.featureValue[p]!;
      b[e] = b[e]! - change * x * a[e]!;
      delta[e] = delta[e]! + change * x;
    }
  }
  for (let e = 0; e < side.entities; e++) {
    const d = delta[e]!;
    if (d === 0) continue;
    side.bias[e] = side.bias[e]! + d;
    for (let p = side.rowOffsets[e]!; p < side.rowOffsets[e + 1]!; p++) {
      residual[side.rowId[p]!] = residual[side.rowId[p]!]! - d;
    }
  }
}

/**
 * Normal-Gamma hyper-prior step of a group (libFM: μ0 = 0, γ0 = 1, α_λ = β_λ = 1):
 * λ ~ Gamma((1 + n + 1)/2, (1 + Σ(θ−μ)² + (μ−0)²)/2), then μ ~ N(Σθ/(n+1), 1/((n+1)λ)).
 */
function sampleGroupPrior(
  values: Float64Array,
  stride: number,
  offset: number,
  members: Uint32Array,
  mean: number,
  rng: Rng,
): { mean: number; precision: number } {
  const n = members.length;
  let squares = 0;
  let sum = 0;
  for (let t = 0; t < n; t++) {
    const v = values[members[t]! * stride + offset]!;
    squares += (v - mean) * (v - mean);
    sum += v;
  }
  const precision = sampleGamma(rng, (2 + n) / 2, (1 + squares + mean * mean) / 2);
  const nextMean = sum / (n + 1) + rng.normal() / Math.sqrt((n + 1) * precision);
  return { mean: nextMean, precision };
}

/** Feature rows of one side before packing: per entity, (feature, value) pairs; features named by group. */
class SideBuilder {
  readonly groupNames: string[] = [];
  private readonly groupOf: number[] = [];
  private readonly keys = new Map<string, number>();
  readonly entries: { entity: number; feature: number; value: number }[] = [];

  /** Index of feature `key` in group `group` (created on first use). */
  feature(group: string, key: string): number {
    const id = `${group}\u0000${key}`;
    let j = this.keys.get(id);
    if (j === undefined) {
      let g = this.groupNames.indexOf(group);
      if (g < 0) g = this.groupNames.push(group) - 1;
      j = this.groupOf.push(g) - 1;
      this.keys.set(id, j);
    }
    return j;
  }

  add(entity: number, group: string, key: string, value: number): void {
    this.entries.push({ entity, feature: this.feature(group, key), value });
  }

  build(
    entities: number,
    k: number,
    rowsByEntity: { offsets: Uint32Array; row: Uint32Array; other: Uint32Array },
    rng: Rng,
    initStd: number,
  ): Side {
    const features = this.groupOf.length;
    const n = this.entries.length;
    const featureKey = new Uint32Array(n);
    const entity = new Uint32Array(n);
    const value = new Float32Array(n);
    this.entries.forEach((entry, t) => {
      featureKey[t] = entry.feature;
      entity[t] = entry.entity;
      value[t] = entry.value;
    });
    const csc = buildCsr(featureKey, entity, value, features);
    const groups = this.groupNames.length;
    const factor = new Float64Array(features * k);
    for (let t = 0; t < factor.length; t++) factor[t] = rng.normal() * initStd;
    const side: Side = {
      entities,
      features,
      group: Uint16Array.from(this.groupOf),
      groups,
      groupNames: [...this.groupNames],
      featureOffsets: csc.offsets,
      featureEntity: csc.index,
      featureValue: Float64Array.from(csc.value),
      rowOffsets: rowsByEntity.offsets,
      rowId: rowsByEntity.row,
      rowOther: rowsByEntity.other,
      weight: new Float64Array(features),
      factor,
      bias: new Float64Array(entities),
      vector: new Float64Array(entities * k),
      weightMean: new Float64Array(groups),
      weightPrecision: new Float64Array(groups).fill(1),
      factorMean: new Float64Array(groups * k),
      // Start the priors where the initial factors are (std initStd), not at λ = 1: with λ = 1
      // the first sweeps fit the training rows almost exactly (train MSE 0.2 on a small sample)
      // and the chain needs ~150 sweeps to come back; the hyper-priors move λ from here anyway.
      factorPrecision: new Float64Array(groups * k).fill(1 / (initStd * initStd)),
    };
    // Effective vectors from the initial factors.
    for (let j = 0; j < features; j++) {
      for (let p = side.featureOffsets[j]!; p < side.featureOffsets[j + 1]!; p++) {
        const e = side.featureEntity[p]!;
        const x = side.featureValue[p]!;
        for (let f = 0; f < k; f++) side.vector[e * k + f] = side.vector[e * k + f]! + x * factor[j * k + f]!;
      }
    }
    return side;
  }
}

/** Age buckets of MovieLens 1M's users.dat, reused for ml-100k's exact ages. */
function ageBucket(age: number): string {
  for (const edge of [18, 25, 35, 45, 50, 56]) if (age < edge) return `<${edge}`;
  return '56+';
}

/**
 * Bayesian factorization machine trained by Gibbs sampling (libFM's MCMC, Rendle 2012;
 * "Bayesian SVD++ flipped" features of Rendle et al. 2019), restricted to the interactions
 * between a user side and an item side:
 *   r̂ = w0 + Σ_{j∈user side} x_j w_j + Σ_{j∈item side} x_j w_j + (Σ_user x_j v_j)·(Σ_item x_j v_j).
 * The user side holds the user id, the items the user rated in training (implicit feedback) and
 * demographics; the item side the item id, the users who rated it in training, genres and
 * release year. Every parameter group has a Normal-Gamma hyper-prior and the noise precision a
 * Gamma prior, all sampled too, so there is no learning rate or regularisation to tune: only
 * the factor count and the number of sweeps. Predictions average the samples after burn-in,
 * which is what makes it better than the SGD point estimate.
 */
export class BayesianFm implements Recommender {
  readonly name: string;
  readonly predictsRatings = true;
  private readonly o: Required<Omit<BayesianFmOptions, 'name' | 'features'>> & {
    features: Required<BayesianFmFeatures>;
  };
  private scale = { min: 1, max: 5 };
  /** Averaged bias per user / item (w0 folded into the user one) over kept samples. */
  private userBias = new Float32Array(0);
  private itemBias = new Float32Array(0);
  /** Kept samples' effective vectors side by side: [users, samples × k], [items, samples × k]. */
  private userStack = new Float32Array(0);
  private itemStack = new Float32Array(0);
  private width = 0;
  private samples = 0;

  constructor({
    factors = 32,
    iterations = 200,
    burnIn = 50,
    thin = 2,
    initStd = 0.1,
    features = {},
    name = 'bayesian-fm',
  }: BayesianFmOptions = {}) {
    if (!(burnIn < iterations)) {
      throw new ReelrankError(
        'bad_option',
        `bayesian-fm burnIn ${burnIn} must be below iterations ${iterations} (no sample would be kept)`,
      );
    }
    if (!(factors >= 1 && thin >= 1)) {
      throw new ReelrankError(
        'bad_option',
        `bayesian-fm factors ${factors} and thin ${thin} must both be ≥ 1`,
      );
    }
    this.name = name;
    this.o = {
      factors,
      iterations,
      burnIn,
      thin,
      initStd,
      features: {
        userImplicit: features.userImplicit ?? true,
        itemImplicit: features.itemImplicit ?? true,
        userProfile: features.userProfile ?? true,
        itemMetadata: features.itemMetadata ?? true,
      },
    };
  }

  /** The two sides' feature rows, from the training rows and the dataset's side information. */
  private buildSides(dataset: Dataset, rows: TrainingRows, rng: Rng): { users: Side; items: Side } {
    const k = this.o.factors;
    const opt = this.o.features;
    const byUser = buildCsr(rows.user, rows.item, rows.rating, rows.users);
    const byItem = buildCsr(rows.item, rows.user, rows.rating, rows.items);
    const user = new SideBuilder();
    for (let u = 0; u < rows.users; u++) user.add(u, 'user', String(u), 1);
    if (opt.userImplicit) {
      for (let u = 0; u < rows.users; u++) {
        const count = byUser.offsets[u + 1]! - byUser.offsets[u]!;
        for (let p = byUser.offsets[u]!; p < byUser.offsets[u + 1]!; p++)
          user.add(u, 'user-implicit', String(byUser.index[p]!), 1 / Math.sqrt(count));
      }
    }
    if (opt.userProfile && dataset.userProfiles) {
      dataset.userProfiles.forEach((profile, u) => {
        if (u >= rows.users) return;
        if (profile.age !== null) user.add(u, 'age', ageBucket(profile.age), 1);
        if (profile.gender) user.add(u, 'gender', profile.gender, 1);
        if (profile.occupation) user.add(u, 'occupation', profile.occupation, 1);
        if (profile.zipCode) user.add(u, 'zip', profile.zipCode.slice(0, 1), 1);
      });
    }
    const item = new SideBuilder();
    for (let i = 0; i < rows.items; i++) item.add(i, 'item', String(i), 1);
    if (opt.itemImplicit) {
      for (let i = 0; i < rows.items; i++) {
        const count = byItem.offsets[i + 1]! - byItem.offsets[i]!;
        for (let p = byItem.offsets[i]!; p < byItem.offsets[i + 1]!; p++)
          item.add(i, 'item-implicit', String(byItem.index[p]!), 1 / Math.sqrt(count));
      }
    }
    if (opt.itemMetadata) {
      dataset.movies.forEach((movie, i) => {
        if (i >= rows.items) return;
        for (const genre of movie.genres) item.add(i, 'genre', genre, 1 / Math.sqrt(movie.genres.length));
        if (movie.year !== null) item.add(i, 'year', String(Math.floor(movie.year / 5) * 5), 1);
      });
    }
    return {
      users: user.build(
        rows.users,
        k,
        { offsets: byUser.offsets, row: byUser.row, other: byUser.index },
        rng,
        this.o.initStd,
      ),
      items: item.build(
        rows.items,
        k,
        { offsets: byItem.offsets, row: byItem.row, other: byItem.index },
        rng,
        this.o.initStd,
      ),
    };
  }

  async fit(context: TrainContext): Promise<FitReport> {
    const started = performance.now();
    const { dataset } = context;
    this.scale = dataset.ratingScale;
    const rows = gatherRows(dataset, context.train);
    const rng = createRng(context.seed);
    const k = this.o.factors;
    const { users, items } = this.buildSides(dataset, rows, rng);
    const n = rows.length;
    let w0 = rows.mean;
    // Residuals e = r − r̂ of every training row, kept current by every conditional update.
    const residual = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const u = rows.user[r]!;
      const i = rows.item[r]!;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += users.vector[u * k + f]! * items.vector[i * k + f]!;
      residual[r] = rows.rating[r]! - (w0 + dot);
    }
    const scratch = (m: number): Scratch => ({
      a: new Float64Array(m),
      b: new Float64Array(m),
      delta: new Float64Array(m),
    });
    const userScratch = scratch(rows.users);
    const itemScratch = scratch(rows.items);
    const userColumn = new Float64Array(rows.users);
    const itemColumn = new Float64Array(rows.items);
    const groupMembers = (side: Side) =>
      side.groupNames.map((_, g) =>
        Uint32Array.from({ length: side.features }, (_, j) => j).filter((j) => side.group[j] === g),
      );
    const userGroups = groupMembers(users);
    const itemGroups = groupMembers(items);
    const validation = context.validation ? gatherRows(dataset, context.validation) : null;
    const validationSum = validation ? new Float64Array(validation.length) : null;

    const kept = Math.floor((this.o.iterations - this.o.burnIn - 1) / this.o.thin) + 1;
    this.samples = kept;
    this.width = kept * k;
    this.userStack = new Float32Array(rows.users * this.width);
    this.itemStack = new Float32Array(rows.items * this.width);
    const userBiasSum = new Float64Array(rows.users);
    const itemBiasSum = new Float64Array(rows.items);
    let sample = 0;
    let alpha = 1;
    const epochs: EpochLog[] = [];
    for (let iteration = 1; iteration <= this.o.iterations; iteration++) {
      const iterationStarted = performance.now();
      // w0 with a flat prior: N(mean of (e + w0), 1/(α n)).
      let sum = 0;
      for (let r = 0; r < n; r++) sum += residual[r]!;
      const nextW0 = w0 + sum / n + rng.normal() / Math.sqrt(alpha * n);
      for (let r = 0; r < n; r++) residual[r] = residual[r]! - (nextW0 - w0);
      w0 = nextW0;
      sampleLinear(users, residual, alpha, rng, userScratch);
      sampleLinear(items, residual, alpha, rng, itemScratch);
      for (let f = 0; f < k; f++) {
        sampleFactorColumn(users, items.vector, k, f, residual, alpha, rng, userScratch, itemColumn);
        sampleFactorColumn(items, users.vector, k, f, residual, alpha, rng, itemScratch, userColumn);
      }
      let squares = 0;
      for (let r = 0; r < n; r++) squares += residual[r]! * residual[r]!;
      alpha = sampleGamma(rng, (1 + n) / 2, (1 + squares) / 2);
      for (const [side, groups] of [
        [users, userGroups],
        [items, itemGroups],
      ] as const) {
        groups.forEach((members, g) => {
          const w = sampleGroupPrior(side.weight, 1, 0, members, side.weightMean[g]!, rng);
          side.weightMean[g] = w.mean;
          side.weightPrecision[g] = w.precision;
          for (let f = 0; f < k; f++) {
            const v = sampleGroupPrior(side.factor, k, f, members, side.factorMean[g * k + f]!, rng);
            side.factorMean[g * k + f] = v.mean;
            side.factorPrecision[g * k + f] = v.precision;
          }
        });
      }
      if (iteration > this.o.burnIn && (iteration - this.o.burnIn - 1) % this.o.thin === 0) {
        const offset = sample * k;
        for (let u = 0; u < rows.users; u++) {
          userBiasSum[u] = userBiasSum[u]! + w0 + users.bias[u]!;
          for (let f = 0; f < k; f++) this.userStack[u * this.width + offset + f] = users.vector[u * k + f]!;
        }
        for (let i = 0; i < rows.items; i++) {
          itemBiasSum[i] = itemBiasSum[i]! + items.bias[i]!;
          for (let f = 0; f < k; f++) this.itemStack[i * this.width + offset + f] = items.vector[i * k + f]!;
        }
        sample++;
      }
      const log: EpochLog = {
        epoch: iteration,
        trainLoss: squares / n,
        seconds: (performance.now() - iterationStarted) / 1000,
      };
      if (validation && validationSum) {
        // Running average of the kept samples' predictions (the current sample during burn-in).
        let vs = 0;
        for (let j = 0; j < validation.length; j++) {
          const u = validation.user[j]!;
          const i = validation.item[j]!;
          let dot = 0;
          for (let f = 0; f < k; f++) dot += users.vector[u * k + f]! * items.vector[i * k + f]!;
          const current = w0 + users.bias[u]! + items.bias[i]! + dot;
          let predicted = current;
          if (iteration > this.o.burnIn) {
            validationSum[j] = validationSum[j]! + current;
            predicted = validationSum[j]! / (iteration - this.o.burnIn);
          }
          predicted = Math.min(this.scale.max, Math.max(this.scale.min, predicted));
          vs += (predicted - validation.rating[j]!) ** 2;
        }
        log.validationRmse = Math.sqrt(vs / validation.length);
        log.validationLoss = log.validationRmse ** 2;
      }
      context.onEpoch?.(log);
      epochs.push(log);
    }
    this.userBias = Float32Array.from(userBiasSum, (v) => v / sample);
    this.itemBias = Float32Array.from(itemBiasSum, (v) => v / sample);
    // Divide once so a prediction is a plain dot product over the stacked samples.
    const inverse = 1 / sample;
    for (let t = 0; t < this.userStack.length; t++) this.userStack[t] = this.userStack[t]! * inverse;
    return {
      epochs,
      seconds: (performance.now() - started) / 1000,
      notes: {
        samples: sample,
        noisePrecision: alpha,
        userGroups: users.groupNames,
        itemGroups: items.groupNames,
      },
    };
  }

  /** Averaged prediction of pair (u, i) over the kept samples. */
  private score(u: number, i: number): number {
    const w = this.width;
    const U = this.userStack;
    const V = this.itemStack;
    let value = (this.userBias[u] ?? 0) + (this.itemBias[i] ?? 0);
    if (u * w >= U.length || i * w >= V.length) return value;
    const pu = u * w;
    const qi = i * w;
    let d0 = 0;
    let d1 = 0;
    let t = 0;
    for (; t + 1 < w; t += 2) {
      d0 += U[pu + t]! * V[qi + t]!;
      d1 += U[pu + t + 1]! * V[qi + t + 1]!;
    }
    for (; t < w; t++) d0 += U[pu + t]! * V[qi + t]!;
    value += d0 + d1;
    return value;
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const out = new Float32Array(userIndex.length);
    for (let j = 0; j < out.length; j++) out[j] = this.score(userIndex[j]!, itemIndex[j]!);
    return clampInPlace(out, this.scale.min, this.scale.max);
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.score(userIndex, i);
  }

  /** Number of samples the predictions average. */
  get keptSamples(): number {
    return this.samples;
  }
}
