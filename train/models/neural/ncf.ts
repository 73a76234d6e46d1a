import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ReelrankError } from '../../../shared/errors.ts';
import { createRng, type Rng } from '../../../shared/random.ts';
import { byUser, gatherRows, type TrainingRows } from '../interactions.ts';
import type { Dataset } from '../../data/dataset.ts';
import type { EpochLog, FitReport, Recommender, TrainContext } from '../types.ts';
import { permutation, sampleNegative, sortedItemsByUser } from './batches.ts';
import { SparseTable, type TableOptimizer } from './sparse.ts';
import {
  applyEager,
  applySymbolic,
  DenseTower,
  denseStack,
  initializerSeed,
  kernelInitializer,
} from './tower.ts';

/**
 * Neural Collaborative Filtering (He et al. 2017; reference 003): GMF (element-wise product of user
 * and item vectors) and an MLP over their concatenation, fused by one output layer (NeuMF),
 * trained on implicit feedback (every training rating is a positive) with sampled negatives and a
 * binary cross-entropy loss.
 *
 * Sparse/dense split: the four embedding tables are typed arrays trained by lazy Adam; the GMF
 * product is formed here (its gradient is the other side's vector times the tower's input
 * gradient); the MLP and the output layer are a TF.js LayersModel with two inputs, `gmf` and
 * `mlp`, whose output is the logit.
 */
export type NcfVariant = 'neumf' | 'gmf' | 'mlp';

export interface NcfOptions {
  variant?: NcfVariant;
  /** GMF factor size (default 16). */
  gmfDim?: number;
  /** Size of each of the user and item MLP embeddings (default 32: MLP input 64). */
  mlpDim?: number;
  /** MLP hidden layers (default [64, 32, 16], the paper's tower). */
  mlpLayers?: number[];
  dropout?: number;
  /** Sampled negatives per positive, redrawn every epoch (default 4, as in the paper). */
  negatives?: number;
  epochs?: number;
  batchSize?: number;
  /** Adam learning rate of the dense tower (default 1e-3). */
  learningRate?: number;
  /** Lazy-Adam learning rate of the embedding tables (default 1e-3). */
  embeddingLearningRate?: number;
  /** L2 on embedding rows seen in a batch (default 0). */
  l2?: number;
  /**
   * Optimiser of the embedding tables (default 'lazy-adam'; see SparseTable): 'adam' moves every
   * row every batch as torch.optim.Adam does a dense nn.Embedding; 'adagrad' moves only the rows seen.
   */
  tableOptimizer?: TableOptimizer;
  /**
   * Kernel initialisers of the tower (default 'he'): 'he' = He normal for the ReLU layers and
   * Glorot uniform for the prediction layer; 'paper' = Glorot uniform for the ReLU layers and LeCun
   * uniform for the prediction layer, as the NCF authors' Keras code.
   */
  towerInit?: 'he' | 'paper';
  /** Stop after this many batches per epoch (tests); default all. */
  maxBatchesPerEpoch?: number;
  /**
   * Early stopping on sampled HR@10 (99 negatives) of validation rows: the context's `validation`,
   * else each user's latest training rating, carved out of training. Training stops after
   * `patience` epochs without improvement and the best epoch's weights are kept. 0 = off.
   */
  patience?: number;
  /** After early stopping on a carve, retrain on all training rows for the chosen epoch count. */
  refit?: boolean;
  /**
   * NeuMF only: pretrain a GMF and an MLP model first (each with its own early stopping), then
   * start NeuMF from their embedding tables and MLP layers, with the output layer
   * [α·h_GMF ; (1-α)·h_MLP] (He et al. 2017, section 3.4.1). The NeuMF stage then trains with this
   * model's `learningRate` / `embeddingLearningRate` (keep them low: the start is already good).
   */
  pretrain?: boolean;
  /** Weight of the GMF side in the pretrained output layer (default 0.5, as in the paper). */
  alpha?: number;
  /**
   * NeuMF with pretraining and validation rows: choose α from these values by the validation
   * HR@10 of the blended start (before any NeuMF step) instead of fixing it; [] (default) = `alpha`.
   * The start itself also competes with the trained epochs: when no NeuMF epoch beats the
   * pretrained blend on validation, the blend is kept (bestEpoch -1, a refit of 0 NeuMF epochs).
   */
  alphaGrid?: number[];
  /** Settings of the GMF pretraining run (default: this model's settings). */
  pretrainGmf?: NcfStageOptions;
  /** Settings of the MLP pretraining run (default: this model's settings). */
  pretrainMlp?: NcfStageOptions;
  /**
   * Weight each positive (and the negatives drawn for it) by 0.5^(age / recencyHalfLife), where
   * age counts the user's more recent training rows: recent taste counts more when the task is to
   * guess the next item. 0 (default) = every row weighs 1, as in the paper.
   */
  recencyHalfLife?: number;
}

/** Options of one pretraining stage (everything but the NeuMF-only fields). */
export type NcfStageOptions = Omit<
  NcfOptions,
  'variant' | 'pretrain' | 'alpha' | 'alphaGrid' | 'pretrainGmf' | 'pretrainMlp'
>;

/** What a NeuMF stage starts from: the pretrained GMF and MLP models. */
interface PretrainedParts {
  gmf: NcfRecommender;
  mlp: NcfRecommender;
  alpha: number;
}

const PREDICT_CHUNK = 4096;

export class NcfRecommender implements Recommender {
  readonly name: string;
  readonly predictsRatings = false;
  readonly options: Required<NcfOptions>;
  private state: {
    userGmf: SparseTable;
    itemGmf: SparseTable;
    userMlp: SparseTable;
    itemMlp: SparseTable;
    tower: DenseTower;
    items: number;
  } | null = null;

  constructor(options: NcfOptions = {}) {
    this.options = {
      variant: 'neumf',
      gmfDim: 16,
      mlpDim: 32,
      mlpLayers: [64, 32, 16],
      dropout: 0,
      negatives: 4,
      epochs: 20,
      batchSize: 256,
      learningRate: 1e-3,
      embeddingLearningRate: 1e-3,
      l2: 0,
      tableOptimizer: 'lazy-adam',
      towerInit: 'he',
      maxBatchesPerEpoch: Number.POSITIVE_INFINITY,
      patience: 0,
      refit: false,
      pretrain: false,
      alpha: 0.5,
      alphaGrid: [],
      pretrainGmf: {},
      pretrainMlp: {},
      recencyHalfLife: 0,
      ...options,
    };
    const { variant, alpha, pretrain } = this.options;
    if (!['neumf', 'gmf', 'mlp'].includes(variant)) {
      throw new ReelrankError('bad_input', `NCF variant '${variant}' is not one of: neumf, gmf, mlp`);
    }
    if (pretrain && variant !== 'neumf') {
      throw new ReelrankError(
        'bad_option',
        `NCF option pretrain applies to variant 'neumf' only; got variant '${variant}'`,
      );
    }
    if (this.options.towerInit !== 'he' && this.options.towerInit !== 'paper') {
      throw new ReelrankError(
        'bad_option',
        `NCF option towerInit is '${String(this.options.towerInit)}'; it must be 'he' or 'paper'`,
      );
    }
    for (const a of [alpha, ...this.options.alphaGrid]) {
      if (!(a >= 0 && a <= 1)) {
        throw new ReelrankError('bad_option', `NCF option alpha is ${a}; it must be in [0, 1]`);
      }
    }
    this.name = variant === 'neumf' ? 'ncf-neumf' : `ncf-${variant}`;
  }

  /** The dense tower (a two-input LayersModel: `gmf`, `mlp` -> logit), for export. */
  get model(): tfl.LayersModel {
    return this.trained().tower.model;
  }

  /** The embedding tables, for export (row-major rows x dim). */
  get tables(): Record<'userGmf' | 'itemGmf' | 'userMlp' | 'itemMlp', SparseTable> {
    const { userGmf, itemGmf, userMlp, itemMlp } = this.trained();
    return { userGmf, itemGmf, userMlp, itemMlp };
  }

  async fit(context: TrainContext): Promise<FitReport> {
    if (this.options.pretrain) return this.fitPretrained(context);
    const selection = await this.fitOnce(context, this.options);
    if (!this.options.refit || selection.notes?.validationCarved !== true) return selection;
    // The carve held out each user's most recent rating, the most telling one for what comes
    // next: retrain on all training rows for the number of epochs the carve chose.
    const refitEpochs = (selection.notes.bestEpoch as number) + 1;
    const refit = await this.fitOnce(context, { ...this.options, patience: 0, epochs: refitEpochs });
    return {
      epochs: refit.epochs,
      seconds: selection.seconds + refit.seconds,
      notes: { ...refit.notes, refitEpochs, selection: selection.notes },
    };
  }

  /**
   * NeuMF with pretraining: GMF, then MLP, then NeuMF initialised from both. Each stage stops early
   * on the same validation rows (the context's, else the same carve of each user's latest rating).
   * With `refit`, every stage is then retrained on all training rows for the epoch count it chose.
   */
  private async fitPretrained(context: TrainContext): Promise<FitReport> {
    const started = performance.now();
    const o = this.options;
    const stage = (variant: 'gmf' | 'mlp', overrides: NcfStageOptions): NcfRecommender =>
      new NcfRecommender({
        ...o,
        pretrainGmf: {},
        pretrainMlp: {},
        ...overrides,
        variant,
        pretrain: false,
        refit: false,
      });
    const gmf = stage('gmf', o.pretrainGmf);
    const mlp = stage('mlp', o.pretrainMlp);
    try {
      const gmfReport = await gmf.fit(context);
      const mlpReport = await mlp.fit(context);
      const parts: PretrainedParts = { gmf, mlp, alpha: o.alpha };
      const neumf = await this.fitOnce(context, o, parts);
      const stages = { gmf: gmfReport.notes, mlp: mlpReport.notes };
      if (!o.refit || neumf.notes?.validationCarved !== true) {
        return {
          epochs: neumf.epochs,
          seconds: (performance.now() - started) / 1000,
          notes: { ...neumf.notes, pretrained: stages },
        };
      }
      // Refit every stage on all training rows for the epoch counts the carve chose.
      const epochsOf = (notes: FitReport['notes']) => ((notes?.bestEpoch as number | undefined) ?? 0) + 1;
      const refitEpochs = {
        gmf: epochsOf(gmfReport.notes),
        mlp: epochsOf(mlpReport.notes),
        neumf: epochsOf(neumf.notes),
      };
      await gmf.fitOnce(context, { ...gmf.options, patience: 0, epochs: refitEpochs.gmf });
      await mlp.fitOnce(context, { ...mlp.options, patience: 0, epochs: refitEpochs.mlp });
      const chosenAlpha = (neumf.notes?.alpha as number | undefined) ?? o.alpha;
      const refit = await this.fitOnce(
        context,
        { ...o, patience: 0, epochs: refitEpochs.neumf, alpha: chosenAlpha, alphaGrid: [] },
        { ...parts, alpha: chosenAlpha },
      );
      return {
        epochs: refit.epochs,
        seconds: (performance.now() - started) / 1000,
        notes: { ...refit.notes, refitEpochs, selection: neumf.notes, pretrained: stages },
      };
    } finally {
      gmf.dispose();
      mlp.dispose();
    }
  }

  private async fitOnce(
    context: TrainContext,
    o: Required<NcfOptions>,
    pretrained?: PretrainedParts,
  ): Promise<FitReport> {
    this.dispose();
    const started = performance.now();
    const carve = o.patience > 0 && !context.validation;
    const { train, validation } = carve
      ? carveLatestPerUser(context.dataset, context.train)
      : { train: context.train, validation: o.patience > 0 ? context.validation : undefined };
    const rows = gatherRows(context.dataset, train);
    const seen = sortedItemsByUser(byUser(rows));
    const rng = createRng(context.seed);
    const probe = validation
      ? sampledProbe(context.dataset, validation, seen, rows.items, createRng(context.seed ^ 0x68e31da4))
      : null;
    let best: { hitRate: number; epoch: number; tables: Float32Array[]; weights: tf.Tensor[] } | null = null;
    const validationHitRates: number[] = [];
    const table = (count: number, dim: number) =>
      new SparseTable({
        rows: count,
        dim,
        rng,
        initStd: 0.01,
        learningRate: o.embeddingLearningRate,
        l2: o.l2,
        optimizer: o.tableOptimizer,
      });
    const userGmf = table(rows.users, o.gmfDim);
    const itemGmf = table(rows.items, o.gmfDim);
    const userMlp = table(rows.users, o.mlpDim);
    const itemMlp = table(rows.items, o.mlpDim);
    const tower = buildNcfTower(o, context.seed, createRng(context.seed ^ 0x5bd1e995));
    this.state = { userGmf, itemGmf, userMlp, itemMlp, tower, items: rows.items };
    let alpha = pretrained?.alpha;
    let alphaValidation: Record<string, number> | undefined;
    let startHitRate: number | undefined;
    if (pretrained) {
      if (probe && o.alphaGrid.length > 0) {
        // Choose α on the validation rows: the blend of the two pretrained logits, no training.
        alphaValidation = {};
        let bestAlpha = { alpha: pretrained.alpha, hitRate: -1 };
        for (const a of o.alphaGrid) {
          initialiseFromPretrained(this.state, { ...pretrained, alpha: a }, o);
          const hitRate = probe.hitRate(this.predict(probe.users, probe.items));
          alphaValidation[String(a)] = hitRate;
          if (hitRate > bestAlpha.hitRate) bestAlpha = { alpha: a, hitRate };
        }
        alpha = bestAlpha.alpha;
      }
      initialiseFromPretrained(this.state, { ...pretrained, alpha: alpha! }, o);
      if (probe) {
        // The pretrained blend is epoch -1: NeuMF training must beat it to be kept.
        startHitRate = probe.hitRate(this.predict(probe.users, probe.items));
        best = {
          hitRate: startHitRate,
          epoch: -1,
          tables: [userGmf, itemGmf, userMlp, itemMlp].map((t) => t.values.slice()),
          weights: tower.model.getWeights().map((w) => w.clone()),
        };
      }
    }

    const useGmf = o.variant !== 'mlp';
    const useMlp = o.variant !== 'gmf';
    const perPositive = 1 + o.negatives;
    const total = rows.length * perPositive;
    const batchUsers = new Uint32Array(o.batchSize);
    const batchItems = new Uint32Array(o.batchSize);
    const labels = new Float32Array(o.batchSize);
    const rowWeights = o.recencyHalfLife > 0 ? recencyWeights(rows, o.recencyHalfLife) : null;
    const weights = new Float32Array(o.batchSize);
    const userGmfRows = new Float32Array(o.batchSize * o.gmfDim);
    const itemGmfRows = new Float32Array(o.batchSize * o.gmfDim);
    const epochs: EpochLog[] = [];
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const epochStart = performance.now();
      const order = permutation(total, rng);
      let lossSum = 0;
      let batches = 0;
      for (let start = 0; start < total && batches < o.maxBatchesPerEpoch; start += o.batchSize) {
        const size = Math.min(o.batchSize, total - start);
        for (let b = 0; b < size; b++) {
          // Example e is positive (e % perPositive === 0) or one of its negatives, drawn afresh.
          const example = order[start + b]!;
          const positive = Math.floor(example / perPositive);
          const user = rows.user[positive]!;
          batchUsers[b] = user;
          const isPositive = example % perPositive === 0;
          batchItems[b] = isPositive ? rows.item[positive]! : sampleNegative(seen, user, rows.items, rng);
          labels[b] = isPositive ? 1 : 0;
          if (rowWeights) weights[b] = rowWeights[positive]!;
        }
        const users = batchUsers.subarray(0, size);
        const items = batchItems.subarray(0, size);
        const inputs = this.gatherInputs(users, items, userGmfRows, itemGmfRows);
        const { loss, inputGrads } = tower.step(
          inputs,
          labels.slice(0, size),
          'bce-logits',
          rowWeights ? { weights: weights.slice(0, size) } : {},
        );
        let g = 0;
        if (useGmf) {
          const gradProduct = inputGrads[g++]!;
          scatterProductGradients(gradProduct, userGmfRows, itemGmfRows, o.gmfDim, size);
          // scatterProductGradients rewrote the row buffers into d/d user and d/d item.
          userGmf.applyGradients(users, userGmfRows, o.gmfDim, 0);
          itemGmf.applyGradients(items, itemGmfRows, o.gmfDim, 0);
        }
        if (useMlp) {
          const gradMlp = inputGrads[g]!;
          userMlp.applyGradients(users, gradMlp, 2 * o.mlpDim, 0);
          itemMlp.applyGradients(items, gradMlp, 2 * o.mlpDim, o.mlpDim);
        }
        lossSum += loss;
        batches++;
      }
      const log: EpochLog = {
        epoch,
        trainLoss: lossSum / Math.max(1, batches),
        seconds: (performance.now() - epochStart) / 1000,
      };
      if (probe) {
        const hitRate = probe.hitRate(this.predict(probe.users, probe.items));
        validationHitRates.push(hitRate);
        log.validationHitRate = hitRate;
        if (!best || hitRate > best.hitRate) {
          for (const w of best?.weights ?? []) w.dispose();
          best = {
            hitRate,
            epoch,
            tables: [userGmf, itemGmf, userMlp, itemMlp].map((t) => t.values.slice()),
            weights: tower.model.getWeights().map((w) => w.clone()),
          };
        }
      }
      epochs.push(log);
      context.onEpoch?.(log);
      if (best && epoch - best.epoch >= o.patience) break;
    }
    if (best) {
      // Keep the best validation epoch: restore its tables and tower weights.
      [userGmf, itemGmf, userMlp, itemMlp].forEach((t, i) => {
        t.values.set(best.tables[i]!);
      });
      tower.model.setWeights(best.weights);
      for (const w of best.weights) w.dispose();
    }
    return {
      epochs,
      seconds: (performance.now() - started) / 1000,
      notes: {
        backend: tf.getBackend(),
        variant: o.variant,
        ...(best
          ? {
              bestEpoch: best.epoch,
              bestValidationHitRate: best.hitRate,
              validationHitRate: validationHitRates,
              validationCarved: carve,
            }
          : {}),
        ...(alpha !== undefined ? { alpha } : {}),
        ...(startHitRate !== undefined ? { startValidationHitRate: startHitRate } : {}),
        ...(alphaValidation ? { alphaValidationHitRate: alphaValidation } : {}),
      },
    };
  }

  /** Tower inputs for (user, item) pairs; fills the GMF row buffers as a side effect. */
  private gatherInputs(
    users: Uint32Array,
    items: Uint32Array,
    userGmfRows: Float32Array,
    itemGmfRows: Float32Array,
  ) {
    const { userGmf, itemGmf, userMlp, itemMlp } = this.trained();
    const o = this.options;
    const size = users.length;
    const inputs = [];
    if (o.variant !== 'mlp') {
      userGmf.gather(users, userGmfRows, o.gmfDim, 0);
      itemGmf.gather(items, itemGmfRows, o.gmfDim, 0);
      const product = new Float32Array(size * o.gmfDim);
      for (let i = 0; i < product.length; i++) product[i] = userGmfRows[i]! * itemGmfRows[i]!;
      inputs.push({ width: o.gmfDim, data: product });
    }
    if (o.variant !== 'gmf') {
      const mlp = new Float32Array(size * 2 * o.mlpDim);
      userMlp.gather(users, mlp, 2 * o.mlpDim, 0);
      itemMlp.gather(items, mlp, 2 * o.mlpDim, o.mlpDim);
      inputs.push({ width: 2 * o.mlpDim, data: mlp });
    }
    return inputs;
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const { tower } = this.trained();
    const out = new Float32Array(userIndex.length);
    const gmfDim = this.options.gmfDim;
    const userRows = new Float32Array(PREDICT_CHUNK * gmfDim);
    const itemRows = new Float32Array(PREDICT_CHUNK * gmfDim);
    for (let start = 0; start < userIndex.length; start += PREDICT_CHUNK) {
      const end = Math.min(userIndex.length, start + PREDICT_CHUNK);
      const inputs = this.gatherInputs(
        userIndex.subarray(start, end),
        itemIndex.subarray(start, end),
        userRows,
        itemRows,
      );
      out.set(tower.predict(inputs, end - start), start);
    }
    return out;
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    const { items } = this.trained();
    const users = new Uint32Array(items).fill(userIndex);
    const itemIndex = new Uint32Array(items);
    for (let i = 0; i < items; i++) itemIndex[i] = i;
    out.set(this.predict(users, itemIndex));
  }

  /** Release the tfjs tensors (tower weights and optimizer state). */
  dispose(): void {
    this.state?.tower.dispose();
    this.state = null;
  }

  private trained() {
    if (!this.state) throw new ReelrankError('not_trained', `model '${this.name}' is used before fit()`);
    return this.state;
  }
}

/**
 * Copy the pretrained GMF and MLP tables and MLP layers into a fresh NeuMF, and set its output
 * layer to [α·h_GMF ; (1-α)·h_MLP] with bias α·b_GMF + (1-α)·b_MLP: before any NeuMF step the
 * logit is the α-weighted sum of the two pretrained models' logits.
 */
function initialiseFromPretrained(
  target: {
    userGmf: SparseTable;
    itemGmf: SparseTable;
    userMlp: SparseTable;
    itemMlp: SparseTable;
    tower: DenseTower;
  },
  { gmf, mlp, alpha }: PretrainedParts,
  o: Required<NcfOptions>,
): void {
  const from = { ...gmf.tables, userMlp: mlp.tables.userMlp, itemMlp: mlp.tables.itemMlp };
  for (const name of ['userGmf', 'itemGmf', 'userMlp', 'itemMlp'] as const) {
    const source = from[name];
    const table = target[name];
    if (source.values.length !== table.values.length) {
      throw new ReelrankError(
        'bad_option',
        `NeuMF pretraining: table ${name} is ${source.rows} x ${source.dim} in the pretrained model but ${table.rows} x ${table.dim} in NeuMF; gmfDim, mlpDim and the data must match`,
      );
    }
    table.values.set(source.values);
  }
  const model = target.tower.model;
  o.mlpLayers.forEach((_, i) => {
    const name = `mlp_dense${i}`;
    model.getLayer(name).setWeights(mlp.model.getLayer(name).getWeights());
  });
  const [gmfKernel, gmfBias] = gmf.model.getLayer('prediction').getWeights();
  const [mlpKernel, mlpBias] = mlp.model.getLayer('prediction').getWeights();
  if (!gmfKernel || !gmfBias || !mlpKernel || !mlpBias) {
    throw new ReelrankError(
      'bad_option',
      'NeuMF pretraining: a pretrained prediction layer has no kernel or bias',
    );
  }
  tf.tidy(() => {
    // The NeuMF concatenation is [gmf, mlp], so its kernel rows are the GMF rows, then the MLP rows.
    const kernel = tf.concat([tf.mul(gmfKernel, alpha), tf.mul(mlpKernel, 1 - alpha)], 0);
    const bias = tf.add(tf.mul(gmfBias, alpha), tf.mul(mlpBias, 1 - alpha));
    model.getLayer('prediction').setWeights([kernel, bias]);
  });
}

/**
 * 0.5^(age / halfLife) per training row, age = the number of the same user's rows that are more
 * recent (by timestamp, ties by row order): 1 for each user's latest row.
 */
export function recencyWeights(rows: TrainingRows, halfLife: number): Float32Array {
  const order = Uint32Array.from({ length: rows.length }, (_, j) => j).sort(
    (a, b) => rows.user[a]! - rows.user[b]! || rows.timestamp[a]! - rows.timestamp[b]! || a - b,
  );
  const weights = new Float32Array(rows.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end < order.length && rows.user[order[end]!] === rows.user[order[start]!]) end++;
    for (let k = start; k < end; k++) weights[order[k]!] = 0.5 ** ((end - 1 - k) / halfLife);
    start = end;
  }
  return weights;
}

/** Move each user's latest rating (by timestamp; ties: the later row) out of `train`, for validation. */
export function carveLatestPerUser(
  dataset: Dataset,
  train: Uint32Array,
): { train: Uint32Array; validation: Uint32Array } {
  const { userIndex, timestamp } = dataset.ratings;
  const latest = new Int32Array(dataset.userIds.length).fill(-1);
  const count = new Uint32Array(dataset.userIds.length);
  for (const r of train) {
    const u = userIndex[r]!;
    count[u]!++;
    const current = latest[u]!;
    if (
      current < 0 ||
      timestamp[r]! > timestamp[current]! ||
      (timestamp[r] === timestamp[current] && r > current)
    )
      latest[u] = r;
  }
  const held = new Set<number>();
  for (let u = 0; u < latest.length; u++) if (count[u]! >= 2) held.add(latest[u]!);
  return { train: train.filter((r) => !held.has(r)), validation: Uint32Array.from(held) };
}

/** Validation rows, each with 99 sampled items the user has not interacted with, scored as HR@10. */
function sampledProbe(
  dataset: Dataset,
  validation: Uint32Array,
  seen: { offsets: Uint32Array; items: Uint32Array },
  itemCount: number,
  rng: Rng,
) {
  const candidates = 100;
  const users = new Uint32Array(validation.length * candidates);
  const items = new Uint32Array(validation.length * candidates);
  validation.forEach((r, v) => {
    const u = dataset.ratings.userIndex[r]!;
    const positive = dataset.ratings.itemIndex[r]!;
    users.fill(u, v * candidates, (v + 1) * candidates);
    items[v * candidates] = positive;
    for (let n = 1; n < candidates; n++) {
      let item = sampleNegative(seen, u, itemCount, rng);
      while (item === positive) item = sampleNegative(seen, u, itemCount, rng);
      items[v * candidates + n] = item;
    }
  });
  return {
    users,
    items,
    hitRate: (scores: Float32Array): number => {
      let hits = 0;
      for (let v = 0; v < validation.length; v++) {
        const base = v * candidates;
        let rank = 0;
        for (let n = 1; n < candidates; n++) if (scores[base + n]! >= scores[base]!) rank++;
        if (rank < 10) hits++;
      }
      return hits / Math.max(1, validation.length);
    },
  };
}

/**
 * d loss/d user = g ⊙ item and d loss/d item = g ⊙ user for the GMF product input; written over
 * the gathered row buffers (user rows become user gradients, item rows item gradients).
 */
export function scatterProductGradients(
  gradProduct: Float32Array,
  userRows: Float32Array,
  itemRows: Float32Array,
  dim: number,
  size: number,
): void {
  const n = size * dim;
  for (let i = 0; i < n; i++) {
    const g = gradProduct[i]!;
    const u = userRows[i]!;
    userRows[i] = g * itemRows[i]!;
    itemRows[i] = g * u;
  }
}

function buildNcfTower(o: Required<NcfOptions>, seed: number, rng: Rng): DenseTower {
  const symbolicInputs: tfl.SymbolicTensor[] = [];
  const fused: tfl.SymbolicTensor[] = [];
  const useGmf = o.variant !== 'mlp';
  const useMlp = o.variant !== 'gmf';
  const mlpLayers = useMlp
    ? denseStack(
        o.mlpLayers.map((units) => ({
          units,
          dropout: o.dropout,
          initializer: o.towerInit === 'paper' ? ('glorot-uniform' as const) : ('he-normal' as const),
        })),
        seed,
        'mlp',
      )
    : [];
  if (useGmf) {
    const gmf = tfl.input({ shape: [o.gmfDim], name: 'gmf' });
    symbolicInputs.push(gmf);
    fused.push(gmf);
  }
  if (useMlp) {
    const mlp = tfl.input({ shape: [2 * o.mlpDim], name: 'mlp' });
    symbolicInputs.push(mlp);
    fused.push(applySymbolic(mlpLayers, mlp));
  }
  const outputLayer = tfl.layers.dense({
    units: 1,
    kernelInitializer: kernelInitializer(
      o.towerInit === 'paper' ? 'lecun-uniform' : 'glorot-uniform',
      initializerSeed(seed, 1000),
    ),
    name: 'prediction',
  });
  const joined =
    fused.length > 1
      ? (tfl.layers.concatenate({ name: 'neumf' }).apply(fused) as tfl.SymbolicTensor)
      : fused[0]!;
  const model = tfl.model({
    inputs: symbolicInputs,
    outputs: outputLayer.apply(joined) as tfl.SymbolicTensor,
    name: `ncf_${o.variant}`,
  });
  const forward = (xs: tf.Tensor[], training: boolean, dropoutRng: Rng | null): tf.Tensor => {
    const parts: tf.Tensor[] = [];
    let i = 0;
    if (useGmf) parts.push(xs[i++]!);
    if (useMlp) parts.push(applyEager(mlpLayers, xs[i]!, training, dropoutRng));
    const joinedEager = parts.length > 1 ? tf.concat(parts, 1) : parts[0]!;
    return outputLayer.apply(joinedEager) as tf.Tensor;
  };
  return new DenseTower(model, forward, { learningRate: o.learningRate, rng });
}
