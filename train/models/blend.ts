import { ReelrankError } from '../../shared/errors.ts';
import { carveValidation } from '../eval/protocols.ts';
import { clampInPlace, gatherRows } from './interactions.ts';
import { solveSpdInPlace } from './linalg.ts';
import type { EpochLog, FitReport, Recommender, TrainContext } from './types.ts';

export interface BlendOptions {
  /** Share of each user's training ratings held out to fit the blend weights. */
  validationFraction?: number;
  /** Ridge weight on the blend coefficients. */
  reg?: number;
  /** Refit the members on all training data after choosing the weights (better, twice the time). */
  refit?: boolean;
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
  /** Intercept first, then one weight per member. */
  weights = new Float64Array(0);
  members: Recommender[] = [];
  private scale = { min: 1, max: 5 };
  private readonly options: Required<Omit<BlendOptions, 'name'>>;

  constructor(
    private readonly makeMembers: () => Recommender[],
    { validationFraction = 0.1, reg = 1, refit = true, name = 'blend' }: BlendOptions = {},
  ) {
    this.name = name;
    this.options = { validationFraction, reg, refit };
  }

  async fit(context: TrainContext): Promise<FitReport> {
    const started = performance.now();
    const { dataset, seed } = context;
    this.scale = dataset.ratingScale;
    const carve = carveValidation(dataset, context.train, this.options.validationFraction, seed);
    const validation = gatherRows(dataset, carve.test);
    let members = this.makeMembers();
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
    const columns: Float32Array[] = [];
    const notes: Record<string, unknown> = {};
    for (const member of members) {
      await member.fit({ dataset, train: carve.train, seed });
      columns.push(member.predict(validation.user, validation.item));
    }
    // Ridge on [1, p_1, ..., p_m]: (XᵀX + λI) w = Xᵀ r (the intercept is not penalised).
    const d = members.length + 1;
    const gram = new Float64Array(d * d);
    const rhs = new Float64Array(d);
    const x = new Float64Array(d);
    for (let j = 0; j < validation.length; j++) {
      x[0] = 1;
      for (let m = 0; m < members.length; m++) x[m + 1] = columns[m]![j]!;
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
      notes[`weight:${k}:${m.name}`] = rhs[k + 1];
    });
    notes.intercept = rhs[0];
    if (this.options.refit) {
      members = this.makeMembers();
      for (const member of members) await member.fit({ dataset, train: context.train, seed });
    }
    this.members = members;
    const seconds = (performance.now() - started) / 1000;
    const epoch: EpochLog = { epoch: 1, trainLoss: 0, seconds };
    context.onEpoch?.(epoch);
    return { epochs: [epoch], seconds, notes };
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const out = new Float32Array(userIndex.length).fill(this.weights[0]!);
    this.members.forEach((member, m) => {
      const p = member.predict(userIndex, itemIndex);
      const w = this.weights[m + 1]!;
      for (let j = 0; j < out.length; j++) out[j] = out[j]! + w * p[j]!;
    });
    return clampInPlace(out, this.scale.min, this.scale.max);
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    const part = new Float32Array(out.length);
    out.fill(this.weights[0]!);
    this.members.forEach((member, m) => {
      member.scoreAll(userIndex, part);
      const w = this.weights[m + 1]!;
      for (let i = 0; i < out.length; i++) out[i] = out[i]! + w * part[i]!;
    });
  }
}
