import { ReelrankError } from '../../shared/errors.ts';
import { createRng, shuffleInPlace } from '../../shared/random.ts';
import type { Dataset } from '../data/dataset.ts';
import { carveValidation } from '../eval/protocols.ts';
import { clampInPlace, gatherRows, type TrainingRows } from './interactions.ts';
import { solveSpdInPlace } from './linalg.ts';
import type { EpochLog, FitReport, Recommender, TrainContext } from './types.ts';

export interface BlendOptions {
  /** Share of each user's training ratings held out to fit the blend weights. */
  validationFraction?: number;
  /** Ridge weight on the blend coefficients. */
  reg?: number;
  /** Refit the members on all training data after choosing the weights (better, twice the time). */
  refit?: boolean;
  /**
   * 1: one validation carve (`validationFraction`) gives the rows the weights are fitted on.
   * K ≥ 2: K-fold stacking: every training row gets an out-of-fold prediction from members
   * fitted on the other K−1 folds, and the weights are fitted on all of them (K + 1 fits).
   */
  folds?: number;
  name?: string;
}

/**
 * A ridge blend of rating models (the Netflix-prize recipe): members are fitted on training data
 * minus a validation carve, the blend weights are fitted on the validation predictions (never on
 * test), then the members are refitted on all training data and combined with those weights.
 */
export class RidgeBlend implements Recommender {
  readonly name: string;
  readonly predictsRatings = true;
  /** [members + 1, META_FEATURES] row-major: row 0 the intercept terms, row m+1 member m's. */
  weights = new Float64Array(0);
  members: Recommender[] = [];
  private support: Support = { user: new Float32Array(0), item: new Float32Array(0) };
  private scale = { min: 1, max: 5 };
  private readonly options: Required<Omit<BlendOptions, 'name'>>;

  constructor(
    private readonly makeMembers: () => Recommender[],
    { validationFraction = 0.1, reg = 1, refit = true, folds = 1, name = 'blend' }: BlendOptions = {},
  ) {
    if (!(Number.isInteger(folds) && folds >= 1)) {
      throw new ReelrankError('bad_option', `blend ${name}: folds ${folds} must be an integer ≥ 1`);
    }
    this.name = name;
    this.options = { validationFraction, reg, refit, folds };
  }

  /**
   * Member predictions on held-out training rows: (rows, one column per member, the rows the
   * members were fitted on for the support features). One carve, or K out-of-fold passes.
   */
  private async heldOutPredictions(context: TrainContext): Promise<{
    validation: TrainingRows;
    columns: Float32Array[];
    fitted: Uint32Array;
    members: Recommender[];
  }> {
    const { dataset, seed } = context;
    if (this.options.folds === 1) {
      const carve = carveValidation(dataset, context.train, this.options.validationFraction, seed);
      const validation = gatherRows(dataset, carve.test);
      const members = this.checkedMembers();
      const columns: Float32Array[] = [];
      for (const member of members) {
        await member.fit({ dataset, train: carve.train, seed });
        columns.push(member.predict(validation.user, validation.item));
      }
      return { validation, columns, fitted: carve.train, members };
    }
    const k = this.options.folds;
    const fold = userFolds(dataset, context.train, k, seed);
    const validation = gatherRows(dataset, context.train);
    let columns: Float32Array[] = [];
    let members: Recommender[] = [];
    for (let f = 0; f < k; f++) {
      const rest = context.train.filter((_, j) => fold[j] !== f);
      const held = Uint32Array.from({ length: context.train.length }, (_, j) => j).filter(
        (j) => fold[j] === f,
      );
      const heldRows = gatherRows(
        dataset,
        held.map((j) => context.train[j]!),
      );
      members = this.checkedMembers();
      if (columns.length === 0) columns = members.map(() => new Float32Array(context.train.length));
      for (const [m, member] of members.entries()) {
        await member.fit({ dataset, train: rest, seed: seed + f });
        const predicted = member.predict(heldRows.user, heldRows.item);
        for (let t = 0; t < held.length; t++) columns[m]![held[t]!] = predicted[t]!;
      }
    }
    return { validation, columns, fitted: context.train, members };
  }

  private checkedMembers(): Recommender[] {
    const members = this.makeMembers();
    if (members.length === 0)
      throw new ReelrankError('bad_option', `blend ${this.name} has no member models`);
    for (const m of members) {
      if (!m.predictsRatings) {
        throw new ReelrankError(
          'bad_option',
          `blend member ${m.name} does not predict ratings; only rating models can be blended`,
        );
      }
    }
    return members;
  }

  async fit(context: TrainContext): Promise<FitReport> {
    const started = performance.now();
    const { dataset, seed } = context;
    this.scale = dataset.ratingScale;
    const held = await this.heldOutPredictions(context);
    const { validation, columns } = held;
    let members = held.members;
    const notes: Record<string, unknown> = { folds: this.options.folds };
    // Feature-weighted linear stacking (Sill et al. 2009): each member's weight is a linear
    // function of meta-features [1, user support, item support], so e.g. kNN can count more for
    // heavily rated items. Ridge: (XᵀX + λI) w = Xᵀ r, the plain intercept not penalised.
    const carveRows = gatherRows(dataset, held.fitted);
    const support = supportFeatures(carveRows.user, carveRows.item, carveRows.users, carveRows.items);
    const f = META_FEATURES;
    const d = (members.length + 1) * f;
    const gram = new Float64Array(d * d);
    const rhs = new Float64Array(d);
    const x = new Float64Array(d);
    const meta = new Float64Array(f);
    for (let j = 0; j < validation.length; j++) {
      metaFeatures(support, validation.user[j]!, validation.item[j]!, meta);
      for (let m = 0; m <= members.length; m++) {
        const p = m === 0 ? 1 : columns[m - 1]![j]!;
        for (let t = 0; t < f; t++) x[m * f + t] = p * meta[t]!;
      }
      for (let a = 0; a < d; a++) {
        rhs[a] = rhs[a]! + x[a]! * validation.rating[j]!;
        for (let b = 0; b < d; b++) gram[a * d + b] = gram[a * d + b]! + x[a]! * x[b]!;
      }
    }
    for (let a = 1; a < d; a++) gram[a * d + a] = gram[a * d + a]! + this.options.reg;
    gram[0] = gram[0]! + 1e-9;
    solveSpdInPlace(gram, d, rhs);
    this.weights = rhs;
    members.forEach((m, k) => {
      notes[`weight:${k}:${m.name}`] = Array.from(rhs.subarray((k + 1) * f, (k + 2) * f));
    });
    notes.intercept = rhs[0];
    this.support = support;
    if (this.options.refit) {
      members = this.checkedMembers();
      for (const member of members) await member.fit({ dataset, train: context.train, seed });
      const all = gatherRows(dataset, context.train);
      this.support = supportFeatures(all.user, all.item, all.users, all.items);
    }
    this.members = members;
    const seconds = (performance.now() - started) / 1000;
    const epoch: EpochLog = { epoch: 1, trainLoss: 0, seconds };
    context.onEpoch?.(epoch);
    return { epochs: [epoch], seconds, notes };
  }

  /** Σ_m Σ_t w[m,t]·meta_t·p_m (member 0 = the constant 1). */
  private combine(
    user: number,
    item: number,
    predictions: (m: number) => number,
    meta: Float64Array,
  ): number {
    metaFeatures(this.support, user, item, meta);
    let value = 0;
    for (let m = 0; m <= this.members.length; m++) {
      const p = m === 0 ? 1 : predictions(m - 1);
      for (let t = 0; t < META_FEATURES; t++) value += this.weights[m * META_FEATURES + t]! * meta[t]! * p;
    }
    return value;
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const parts = this.members.map((member) => member.predict(userIndex, itemIndex));
    const meta = new Float64Array(META_FEATURES);
    const out = Float32Array.from(userIndex, (u, j) =>
      this.combine(u, itemIndex[j]!, (m) => parts[m]![j]!, meta),
    );
    return clampInPlace(out, this.scale.min, this.scale.max);
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    const parts = this.members.map(() => new Float32Array(out.length));
    this.members.forEach((member, m) => {
      member.scoreAll(userIndex, parts[m]!);
    });
    const meta = new Float64Array(META_FEATURES);
    for (let i = 0; i < out.length; i++) out[i] = this.combine(userIndex, i, (m) => parts[m]![i]!, meta);
  }
}

/**
 * Fold (0..k−1) of every position of `train`: each user's training rows are shuffled and dealt
 * round-robin, so every fold holds about 1/k of every user's ratings.
 */
function userFolds(dataset: Dataset, train: Uint32Array, k: number, seed: number): Uint8Array {
  const rng = createRng(seed ^ 0x2545f491);
  const byUser = new Map<number, number[]>();
  train.forEach((row, j) => {
    const u = dataset.ratings.userIndex[row]!;
    const list = byUser.get(u);
    if (list) list.push(j);
    else byUser.set(u, [j]);
  });
  const fold = new Uint8Array(train.length);
  for (const positions of byUser.values()) {
    const order = Uint32Array.from(positions);
    shuffleInPlace(order, rng);
    order.forEach((j, t) => {
      fold[j] = t % k;
    });
  }
  return fold;
}

/** Meta-features per prediction: [1, user support, item support]. */
const META_FEATURES = 3;

interface Support {
  user: Float32Array;
  item: Float32Array;
}

/** log(1 + count) / log(1 + max count) of every user and item in the training rows. */
function supportFeatures(user: Uint32Array, item: Uint32Array, users: number, items: number): Support {
  const userCount = new Float32Array(users);
  const itemCount = new Float32Array(items);
  for (let j = 0; j < user.length; j++) {
    userCount[user[j]!]!++;
    itemCount[item[j]!]!++;
  }
  const scale = (counts: Float32Array) => {
    const max = Math.log1p(Math.max(1, ...counts));
    return counts.map((c) => Math.log1p(c) / max);
  };
  return { user: scale(userCount), item: scale(itemCount) };
}

function metaFeatures(support: Support, u: number, i: number, out: Float64Array): void {
  out[0] = 1;
  out[1] = support.user[u] ?? 0;
  out[2] = support.item[i] ?? 0;
}
