import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ReelrankError } from '../../../shared/errors.ts';
import { createRng, type Rng } from '../../../shared/random.ts';
import type { Dataset } from '../../data/dataset.ts';
import { clampInPlace, gatherRows, type TrainingRows } from '../interactions.ts';
import type { EpochLog, FitReport, Recommender, TrainContext } from '../types.ts';
import { earlyStoppingCarve, permutation } from './batches.ts';
import type { SparseTable } from './sparse.ts';
import {
  applyEager,
  applySymbolic,
  type DenseSpec,
  DenseTower,
  denseStack,
  initializerSeed,
} from './tower.ts';

/**
 * A rating-regression model whose input is a concatenation of per-(user, item) parts (embedding
 * rows, mean-pooled title words, fixed content or poster vectors), followed by a dense tower in
 * TF.js and one linear output: the predicted rating minus the training mean. MSE loss, Adam.
 * The deep hybrid model (reference 000) and the title-embedding models (reference 001) are this
 * class with different parts.
 */
export interface InputPart {
  readonly name: string;
  readonly width: number;
  /**
   * Whose function the columns are: the user's alone or the item's alone. Every part is one or the
   * other, so an exported model stores one matrix per part (users x width or items x width).
   */
  readonly by: 'user' | 'item';
  /** The trained table behind this part, when it has one (for export). */
  readonly table?: SparseTable;
  /** Write this part's columns for each (user, item) of the batch into `out` at `offset`. */
  gather(users: Uint32Array, items: Uint32Array, out: Float32Array, stride: number, offset: number): void;
  /** Receive d loss/d columns for the batch (absent for fixed inputs). */
  scatter?(users: Uint32Array, items: Uint32Array, grad: Float32Array, stride: number, offset: number): void;
}

/** A part that is one row of a sparse table, picked by user or by item. */
export function tablePart(name: string, table: SparseTable, by: 'user' | 'item'): InputPart {
  return {
    name,
    width: table.dim,
    by,
    table,
    gather: (users, items, out, stride, offset) =>
      table.gather(by === 'user' ? users : items, out, stride, offset),
    scatter: (users, items, grad, stride, offset) =>
      table.applyGradients(by === 'user' ? users : items, grad, stride, offset),
  };
}

/** A per-item matrix of fixed features (content or poster embeddings), not trained. */
export interface FeatureMatrix {
  dim: number;
  /** Row-major, one row per catalog item (dataset.movies order). Rows of missing items are zeros. */
  values: Float32Array;
}

/** A part that copies fixed item features. */
export function featurePart(name: string, features: FeatureMatrix, items: number): InputPart {
  if (features.values.length !== items * features.dim) {
    throw new ReelrankError(
      'bad_input',
      `${name} features have ${features.values.length} values; expected catalog size x dim = ${items} x ${features.dim} = ${items * features.dim}`,
    );
  }
  return {
    name,
    width: features.dim,
    by: 'item',
    gather: (_users, itemIndex, out, stride, offset) => {
      const { dim, values } = features;
      for (let b = 0; b < itemIndex.length; b++) {
        const src = itemIndex[b]! * dim;
        const dst = b * stride + offset;
        for (let j = 0; j < dim; j++) out[dst + j] = values[src + j]!;
      }
    },
  };
}

export interface RatingTowerOptions {
  hidden?: DenseSpec[];
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Stop after this many batches per epoch (tests); default all. */
  maxBatchesPerEpoch?: number;
  /**
   * Early stopping on validation RMSE: the context's `validation` rows, else a random
   * `validationFraction` of the training rows carved out. Stops after `patience` epochs without
   * improvement and keeps the best epoch's tower weights and tables. 0 = off (default).
   */
  patience?: number;
  validationFraction?: number;
}

export interface PartContext {
  dataset: Dataset;
  rows: TrainingRows;
  rng: Rng;
}

const PREDICT_CHUNK = 4096;

export abstract class RatingTowerModel implements Recommender {
  abstract readonly name: string;
  readonly predictsRatings = true;
  protected readonly towerOptions: Required<RatingTowerOptions>;
  private state: {
    parts: InputPart[];
    width: number;
    tower: DenseTower;
    mean: number;
    items: number;
    users: number;
    scale: Dataset['ratingScale'];
  } | null = null;

  constructor(options: RatingTowerOptions = {}) {
    this.towerOptions = {
      hidden: [{ units: 64 }],
      epochs: 10,
      batchSize: 256,
      learningRate: 1e-3,
      maxBatchesPerEpoch: Number.POSITIVE_INFINITY,
      patience: 0,
      validationFraction: 0.05,
      ...options,
    };
  }

  /** Build the input parts (and their tables) for a training run. */
  protected abstract buildParts(context: PartContext): InputPart[];

  /** Model-specific facts for the fit report (e.g. vocabulary coverage). */
  protected fitNotes(): Record<string, unknown> {
    return {};
  }

  /** The dense tower (one input `features` -> rating minus the training mean), for export. */
  get model(): tfl.LayersModel {
    return this.trained().tower.model;
  }

  /** The training mean added to the tower's output. */
  get meanRating(): number {
    return this.trained().mean;
  }

  async fit(context: TrainContext): Promise<FitReport> {
    this.dispose();
    const started = performance.now();
    const o = this.towerOptions;
    const rng = createRng(context.seed);
    const carve = o.patience > 0 && !context.validation;
    const { train: trainIndexes, validation: validationIndexes } = earlyStoppingCarve(
      context,
      o.patience,
      o.validationFraction,
    );
    const rows = gatherRows(context.dataset, trainIndexes);
    const parts = this.buildParts({ dataset: context.dataset, rows, rng });
    const width = parts.reduce((sum, p) => sum + p.width, 0);
    const tower = buildRatingTower(width, o, context.seed, createRng(context.seed ^ 0x2545f491));
    this.state = {
      parts,
      width,
      tower,
      mean: rows.mean,
      items: rows.items,
      users: rows.users,
      scale: context.dataset.ratingScale,
    };

    const validation = validationIndexes ? gatherRows(context.dataset, validationIndexes) : null;
    let best: { rmse: number; epoch: number; tables: Float32Array[]; weights: tf.Tensor[] } | null = null;
    const tables = parts.flatMap((p) => (p.table ? [p.table] : []));
    const users = new Uint32Array(o.batchSize);
    const items = new Uint32Array(o.batchSize);
    const targets = new Float32Array(o.batchSize);
    const input = new Float32Array(o.batchSize * width);
    const epochs: EpochLog[] = [];
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const epochStart = performance.now();
      const order = permutation(rows.length, rng);
      let lossSum = 0;
      let batches = 0;
      for (let start = 0; start < rows.length && batches < o.maxBatchesPerEpoch; start += o.batchSize) {
        const size = Math.min(o.batchSize, rows.length - start);
        for (let b = 0; b < size; b++) {
          const r = order[start + b]!;
          users[b] = rows.user[r]!;
          items[b] = rows.item[r]!;
          targets[b] = rows.rating[r]! - rows.mean;
        }
        const u = users.subarray(0, size);
        const i = items.subarray(0, size);
        const x = input.subarray(0, size * width);
        this.gatherInput(u, i, x);
        const { loss, inputGrads } = tower.step([{ width, data: x }], targets.slice(0, size), 'mse');
        let offset = 0;
        for (const part of parts) {
          part.scatter?.(u, i, inputGrads[0]!, width, offset);
          offset += part.width;
        }
        lossSum += loss;
        batches++;
      }
      const log: EpochLog = { epoch, trainLoss: lossSum / Math.max(1, batches), seconds: 0 };
      if (validation) {
        const predicted = this.predict(validation.user, validation.item);
        let se = 0;
        for (let j = 0; j < validation.length; j++) se += (predicted[j]! - validation.rating[j]!) ** 2;
        log.validationRmse = Math.sqrt(se / validation.length);
      }
      log.seconds = (performance.now() - epochStart) / 1000;
      epochs.push(log);
      context.onEpoch?.(log);
      if (o.patience > 0 && log.validationRmse !== undefined) {
        if (!best || log.validationRmse < best.rmse) {
          for (const w of best?.weights ?? []) w.dispose();
          best = {
            rmse: log.validationRmse,
            epoch,
            tables: tables.map((t) => t.values.slice()),
            weights: tower.model.getWeights().map((w) => w.clone()),
          };
        } else if (epoch - best.epoch >= o.patience) {
          break;
        }
      }
    }
    if (best) {
      const kept = best;
      tables.forEach((t, k) => {
        t.values.set(kept.tables[k]!);
      });
      tower.model.setWeights(kept.weights);
      for (const w of kept.weights) w.dispose();
    }
    return {
      epochs,
      seconds: (performance.now() - started) / 1000,
      notes: {
        backend: tf.getBackend(),
        inputWidth: width,
        parts: parts.map((p) => `${p.name}:${p.width}`),
        ...(best ? { bestEpoch: best.epoch, bestValidationRmse: best.rmse, validationCarved: carve } : {}),
        ...this.fitNotes(),
      },
    };
  }

  /**
   * The tower's input rows for (user, item) pairs (row-major, `inputWidth` columns): what the
   * exported LayersModel takes; its output plus `meanRating` is the unclamped rating.
   */
  inputFor(users: Uint32Array, items: Uint32Array): Float32Array {
    const out = new Float32Array(users.length * this.trained().width);
    this.gatherInput(users, items, out);
    return out;
  }

  /** The trained embedding tables by part name (user, movie, title words, ...), for export. */
  get tables(): Record<string, SparseTable> {
    const tables: Record<string, SparseTable> = {};
    for (const part of this.trained().parts) if (part.table) tables[part.name] = part.table;
    return tables;
  }

  /** The input layout: part names and widths, in column order (fixed parts have no table). */
  get inputLayout(): { name: string; width: number; trained: boolean }[] {
    return this.trained().parts.map((p) => ({
      name: p.name,
      width: p.width,
      trained: p.table !== undefined,
    }));
  }

  /**
   * Every input part as a matrix over its side (users x width or items x width, row-major, in
   * column order): the tower's input row for (u, i) is the concatenation of row u or row i of each.
   * What an export stores, so a reader needs no knowledge of how a part was built (mean-pooled
   * title words, fixed features, ...).
   */
  sideMatrices(): { name: string; by: 'user' | 'item'; rows: number; width: number; values: Float32Array }[] {
    const { parts, items } = this.trained();
    return parts.map((part) => {
      const rows = part.by === 'user' ? this.userCount : items;
      const values = new Float32Array(rows * part.width);
      const index = Uint32Array.from({ length: rows }, (_, k) => k);
      part.gather(index, index, values, part.width, 0);
      return { name: part.name, by: part.by, rows, width: part.width, values };
    });
  }

  /** Users of the training rows (the size of every user-side table). */
  get userCount(): number {
    return this.trained().users;
  }

  /** Catalog items (the size of every item-side part). */
  get itemCount(): number {
    return this.trained().items;
  }

  /** The rating scale predictions are clamped to. */
  get ratingScale(): Dataset['ratingScale'] {
    return this.trained().scale;
  }

  get inputWidth(): number {
    return this.trained().width;
  }

  private gatherInput(users: Uint32Array, items: Uint32Array, out: Float32Array): void {
    const { parts, width } = this.trained();
    let offset = 0;
    for (const part of parts) {
      part.gather(users, items, out, width, offset);
      offset += part.width;
    }
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const { tower, width, mean, scale } = this.trained();
    const out = new Float32Array(userIndex.length);
    const input = new Float32Array(Math.min(PREDICT_CHUNK, userIndex.length) * width);
    for (let start = 0; start < userIndex.length; start += PREDICT_CHUNK) {
      const end = Math.min(userIndex.length, start + PREDICT_CHUNK);
      const x = input.subarray(0, (end - start) * width);
      this.gatherInput(userIndex.subarray(start, end), itemIndex.subarray(start, end), x);
      const predicted = tower.predict([{ width, data: x }], end - start);
      for (let j = 0; j < predicted.length; j++) out[start + j] = predicted[j]! + mean;
    }
    return clampInPlace(out, scale.min, scale.max);
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    const { items } = this.trained();
    const users = new Uint32Array(items).fill(userIndex);
    const itemIndex = Uint32Array.from({ length: items }, (_, i) => i);
    out.set(this.predict(users, itemIndex));
  }

  /** Release the tfjs tensors (tower weights and optimizer state). */
  dispose(): void {
    this.state?.tower.dispose();
    this.state = null;
  }

  protected trained() {
    if (!this.state) throw new ReelrankError('not_trained', `model '${this.name}' is used before fit()`);
    return this.state;
  }
}

function buildRatingTower(
  width: number,
  o: Required<RatingTowerOptions>,
  seed: number,
  rng: Rng,
): DenseTower {
  const hidden = denseStack(o.hidden, seed, 'hidden');
  const output = tfl.layers.dense({
    units: 1,
    kernelInitializer: tfl.initializers.glorotUniform({ seed: initializerSeed(seed, 1000) }),
    name: 'rating',
  });
  const input = tfl.input({ shape: [width], name: 'features' });
  const model = tfl.model({
    inputs: input,
    outputs: output.apply(applySymbolic(hidden, input)) as tfl.SymbolicTensor,
    name: 'rating_tower',
  });
  const forward = (xs: tf.Tensor[], training: boolean, dropoutRng: Rng | null) =>
    output.apply(applyEager(hidden, xs[0]!, training, dropoutRng)) as tf.Tensor;
  return new DenseTower(model, forward, { learningRate: o.learningRate, rng });
}
