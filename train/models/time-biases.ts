import { createRng, shuffleInPlace } from '../../shared/random.ts';
import { fitBiases } from './baselines.ts';
import { clampInPlace, gatherRows } from './interactions.ts';
import type { EpochLog, FitReport, Recommender, TrainContext } from './types.ts';

export interface TimeBiasOptions {
  /** Item-bias time bins spanning the training period (Koren's timeSVD++ uses 30). */
  bins?: number;
  epochs?: number;
  learningRate?: number;
  reg?: number;
  /** Regularisation of the per-bin item offsets and the user drift. */
  timeReg?: number;
  /** Learning rate of the user drift α_u (its feature dev_u(t) is in days^0.4, so it is small). */
  driftLearningRate?: number;
}

const DAY = 86_400;

/**
 * Time-aware baseline (Koren 2009, "Collaborative filtering with temporal dynamics"):
 * r̂ = μ + b_u + α_u·dev_u(t) + b_i + b_{i,bin(t)}, with dev_u(t) = sign(t − t̄_u)·|t − t̄_u|^0.4
 * in days. Movies drift in and out of favour over years and users' scales drift, which a
 * static bias cannot express. Fitted by SGD from the static biases.
 */
export class TimeBiasModel implements Recommender {
  readonly name = 'time-biases';
  readonly predictsRatings = true;
  private readonly o: Required<TimeBiasOptions>;
  private mean = 0;
  private userBias: Float32Array = new Float32Array(0);
  private itemBias: Float32Array = new Float32Array(0);
  private itemBinBias: Float32Array = new Float32Array(0);
  private userDrift: Float32Array = new Float32Array(0);
  private userMeanDay: Float64Array = new Float64Array(0);
  private firstDay = 0;
  private binDays = 1;
  private scale = { min: 1, max: 5 };
  /** Timestamp per (user, item) pair is needed at prediction: kept from the dataset. */
  private timestamps: Uint32Array = new Uint32Array(0);
  private pairTime = new Map<number, number>();

  constructor(options: TimeBiasOptions = {}) {
    this.o = {
      bins: options.bins ?? 30,
      epochs: options.epochs ?? 25,
      learningRate: options.learningRate ?? 0.005,
      reg: options.reg ?? 0.01,
      timeReg: options.timeReg ?? 0.1,
      driftLearningRate: options.driftLearningRate ?? 1e-5,
    };
  }

  private bin(day: number): number {
    return Math.min(this.o.bins - 1, Math.max(0, Math.floor((day - this.firstDay) / this.binDays)));
  }

  private deviation(u: number, day: number): number {
    const d = day - this.userMeanDay[u]!;
    return Math.sign(d) * Math.abs(d) ** 0.4;
  }

  async fit(context: TrainContext): Promise<FitReport> {
    const started = performance.now();
    const { dataset } = context;
    this.scale = dataset.ratingScale;
    this.timestamps = dataset.ratings.timestamp;
    const rows = gatherRows(dataset, context.train);
    this.mean = rows.mean;
    const biases = fitBiases(rows);
    this.userBias = biases.userBias;
    this.itemBias = biases.itemBias;
    let minDay = Number.POSITIVE_INFINITY;
    let maxDay = Number.NEGATIVE_INFINITY;
    const daySum = new Float64Array(rows.users);
    const dayCount = new Float64Array(rows.users);
    for (let j = 0; j < rows.length; j++) {
      const day = rows.timestamp[j]! / DAY;
      minDay = Math.min(minDay, day);
      maxDay = Math.max(maxDay, day);
      daySum[rows.user[j]!] = daySum[rows.user[j]!]! + day;
      dayCount[rows.user[j]!]!++;
    }
    this.firstDay = minDay;
    this.binDays = Math.max(1e-9, (maxDay - minDay) / this.o.bins);
    this.userMeanDay = Float64Array.from(daySum, (s, u) => (dayCount[u]! > 0 ? s / dayCount[u]! : 0));
    this.itemBinBias = new Float32Array(rows.items * this.o.bins);
    this.userDrift = new Float32Array(rows.users);
    const order = Uint32Array.from({ length: rows.length }, (_, j) => j);
    const rng = createRng(context.seed);
    const { learningRate: lr, reg, timeReg, driftLearningRate: lrDrift } = this.o;
    const epochs: EpochLog[] = [];
    for (let epoch = 1; epoch <= this.o.epochs; epoch++) {
      const epochStarted = performance.now();
      shuffleInPlace(order, rng);
      let sse = 0;
      for (const j of order) {
        const u = rows.user[j]!;
        const i = rows.item[j]!;
        const day = rows.timestamp[j]! / DAY;
        const cell = i * this.o.bins + this.bin(day);
        const dev = this.deviation(u, day);
        const err =
          rows.rating[j]! -
          (this.mean +
            this.userBias[u]! +
            this.userDrift[u]! * dev +
            this.itemBias[i]! +
            this.itemBinBias[cell]!);
        sse += err * err;
        this.userBias[u] = this.userBias[u]! + lr * (err - reg * this.userBias[u]!);
        this.itemBias[i] = this.itemBias[i]! + lr * (err - reg * this.itemBias[i]!);
        this.itemBinBias[cell] = this.itemBinBias[cell]! + lr * (err - timeReg * this.itemBinBias[cell]!);
        this.userDrift[u] = this.userDrift[u]! + lrDrift * (err * dev - timeReg * this.userDrift[u]!);
      }
      const log: EpochLog = {
        epoch,
        trainLoss: sse / rows.length,
        seconds: (performance.now() - epochStarted) / 1000,
      };
      context.onEpoch?.(log);
      epochs.push(log);
    }
    // Predictions need the time of each (user, item) pair: index every rating of the dataset.
    this.pairTime = new Map();
    const { userIndex, itemIndex } = dataset.ratings;
    for (let j = 0; j < dataset.ratings.length; j++)
      this.pairTime.set(userIndex[j]! * rows.items + itemIndex[j]!, j);
    return { epochs, seconds: (performance.now() - started) / 1000 };
  }

  /** Prediction at time `seconds` (the rating's own time when known, else the user's mean day). */
  private estimate(u: number, i: number, seconds: number | undefined): number {
    const day = seconds === undefined ? this.userMeanDay[u]! : seconds / DAY;
    const cell = i * this.o.bins + this.bin(day);
    return (
      this.mean +
      (this.userBias[u] ?? 0) +
      (this.userDrift[u] ?? 0) * this.deviation(u, day) +
      (this.itemBias[i] ?? 0) +
      (this.itemBinBias[cell] ?? 0)
    );
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const items = this.itemBias.length;
    const out = Float32Array.from(userIndex, (u, j) => {
      const i = itemIndex[j]!;
      const row = this.pairTime.get(u * items + i);
      return this.estimate(u, i, row === undefined ? undefined : this.timestamps[row]);
    });
    return clampInPlace(out, this.scale.min, this.scale.max);
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.estimate(userIndex, i, undefined);
  }
}
