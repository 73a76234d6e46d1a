import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Rng } from '../../../shared/random.ts';

/**
 * Dense towers in TF.js, trained on rows gathered from our own sparse tables (see sparse.ts).
 *
 * Each neural model builds its layers once, wires them into a symbolic `tf.LayersModel` (the
 * exported artifact, loadable by `tf.loadLayersModel`), and trains them eagerly through `step`,
 * which returns the gradient with respect to every dense input so the caller can scatter it into
 * the embedding tables. Dropout in training is applied here with masks from our seeded Rng: tfjs'
 * own seeded dropout repeats the same mask every batch, and unseeded dropout is not reproducible.
 */
export interface DenseSpec {
  units: number;
  activation?: 'relu' | 'linear' | 'sigmoid';
  batchNorm?: boolean;
  dropout?: number;
  /** Kernel initialiser (default: He normal before ReLU, Glorot uniform otherwise). */
  initializer?: KernelInit;
}

export type KernelInit = 'he-normal' | 'glorot-uniform' | 'lecun-uniform';

/** A seeded tfjs kernel initialiser by name. */
export function kernelInitializer(kind: KernelInit, seed: number) {
  switch (kind) {
    case 'he-normal':
      return tfl.initializers.heNormal({ seed });
    case 'glorot-uniform':
      return tfl.initializers.glorotUniform({ seed });
    case 'lecun-uniform':
      return tfl.initializers.leCunUniform({ seed });
    default:
      throw new RangeError(
        `kernel initialiser '${String(kind)}' is not one of: he-normal, glorot-uniform, lecun-uniform`,
      );
  }
}

/** Layers for `specs`, in order: Dense [-> BatchNorm] -> Activation [-> Dropout]. Seeded initialisers. */
export function denseStack(
  specs: readonly DenseSpec[],
  seed: number,
  namePrefix: string,
): tfl.layers.Layer[] {
  const layers: tfl.layers.Layer[] = [];
  specs.forEach((spec, i) => {
    const activation = spec.activation ?? 'relu';
    layers.push(
      tfl.layers.dense({
        units: spec.units,
        // With BatchNorm right after, the bias is redundant (BN's beta plays its role).
        useBias: !spec.batchNorm,
        kernelInitializer: kernelInitializer(
          spec.initializer ?? (activation === 'relu' ? 'he-normal' : 'glorot-uniform'),
          initializerSeed(seed, i),
        ),
        activation: spec.batchNorm ? 'linear' : activation,
        name: `${namePrefix}_dense${i}`,
      }),
    );
    if (spec.batchNorm) {
      layers.push(tfl.layers.batchNormalization({ name: `${namePrefix}_bn${i}` }));
      if (activation !== 'linear')
        layers.push(tfl.layers.activation({ activation, name: `${namePrefix}_act${i}` }));
    }
    if (spec.dropout && spec.dropout > 0)
      layers.push(tfl.layers.dropout({ rate: spec.dropout, name: `${namePrefix}_dropout${i}` }));
  });
  return layers;
}

/**
 * A seed for a tfjs initializer, never 0: tfjs treats a seed of 0 as "no seed" and falls back to
 * Math.random, so seed 0 (our benchmarks' seed) silently gave a different model in every process.
 */
export function initializerSeed(seed: number, offset: number): number {
  return 1 + ((((seed + offset) % 2147483646) + 2147483646) % 2147483646);
}

/** Apply `layers` symbolically (to build the exported model graph). */
export function applySymbolic(
  layers: readonly tfl.layers.Layer[],
  input: tfl.SymbolicTensor,
): tfl.SymbolicTensor {
  let x = input;
  for (const layer of layers) x = layer.apply(x) as tfl.SymbolicTensor;
  return x;
}

/**
 * Apply `layers` eagerly. In training, BatchNorm uses batch statistics (and updates its moving
 * averages) and Dropout uses a mask drawn from `rng`.
 */
export function applyEager(
  layers: readonly tfl.layers.Layer[],
  input: tf.Tensor,
  training: boolean,
  rng: Rng | null,
): tf.Tensor {
  let x = input;
  for (const layer of layers) {
    if (layer.getClassName() === 'Dropout') {
      if (training && rng) x = dropoutMask(x, (layer.getConfig() as { rate: number }).rate, rng);
      continue;
    }
    if (layer.getClassName() === 'Dense') {
      x = denseEager(layer, x);
      continue;
    }
    if (layer.getClassName() === 'BatchNormalization') {
      x = batchNormEager(layer, x as tf.Tensor2D, training);
      continue;
    }
    x = layer.apply(x, { training }) as tf.Tensor;
  }
  return x;
}

/**
 * x·W (+ b, activation) with the same weights as the Dense layer, but a gradient that transposes
 * explicitly: tfjs' MatMul gradient multiplies with transpose flags, which the wasm backend runs
 * ~10x slower than transpose + plain matMul (measured: [512,512]x[512,256] 70-84 ms vs 7-8 ms).
 */
function denseEager(layer: tfl.layers.Layer, x: tf.Tensor): tf.Tensor {
  const [kernel, bias] = layer.trainableWeights.map((w) => w.read());
  let y = matMulTransposeGrad(x as tf.Tensor2D, kernel as tf.Tensor2D);
  if (bias) y = tf.add(y, bias);
  const activation = (layer.getConfig() as { activation?: string }).activation ?? 'linear';
  switch (activation) {
    case 'linear':
      return y;
    case 'relu':
      return tf.relu(y);
    case 'sigmoid':
      return tf.sigmoid(y);
    default:
      throw new RangeError(
        `dense layer ${layer.name}: activation '${activation}' is not supported here (linear, relu, sigmoid)`,
      );
  }
}

/**
 * BatchNormalization over the batch axis with the layer's own weights, written with elementary
 * ops: tfjs' fused batchNorm gradient tiles its operands, which dominated a training step on wasm
 * (Tile ~60 ms of ~250 ms for a 512-256-128 tower). In training it updates the layer's moving
 * averages exactly as Keras does (moving = momentum·moving + (1-momentum)·batch).
 */
function batchNormEager(layer: tfl.layers.Layer, x: tf.Tensor2D, training: boolean): tf.Tensor {
  const config = layer.getConfig() as { momentum: number; epsilon: number };
  const [gamma, beta] = layer.trainableWeights.map((w) => w.read());
  const [movingMean, movingVariance] = layer.nonTrainableWeights.map((w) => w.read() as tf.Variable);
  if (!gamma || !beta || !movingMean || !movingVariance) {
    throw new RangeError(
      `batch normalization ${layer.name}: expected gamma, beta, moving mean and variance (center and scale on)`,
    );
  }
  if (!training)
    return tf.add(
      tf.mul(tf.sub(x, movingMean), tf.mul(gamma, tf.rsqrt(tf.add(movingVariance, config.epsilon)))),
      beta,
    );
  const { mean, variance } = tf.moments(x, 0);
  tf.tidy(() => {
    movingMean.assign(tf.add(tf.mul(movingMean, config.momentum), tf.mul(mean, 1 - config.momentum)));
    movingVariance.assign(
      tf.add(tf.mul(movingVariance, config.momentum), tf.mul(variance, 1 - config.momentum)),
    );
  });
  return tf.add(tf.mul(tf.sub(x, mean), tf.mul(gamma, tf.rsqrt(tf.add(variance, config.epsilon)))), beta);
}

const matMulTransposeGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [savedA, savedB] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, tf.transpose(savedB)), tf.matMul(tf.transpose(savedA), g)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** Inverted dropout with a mask from our Rng: kept units are scaled by 1/(1-rate). */
function dropoutMask(x: tf.Tensor, rate: number, rng: Rng): tf.Tensor {
  const mask = new Float32Array(x.size);
  const keepScale = 1 / (1 - rate);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < rate ? 0 : keepScale;
  return tf.mul(x, tf.tensor(mask, x.shape));
}

export type LossKind = 'mse' | 'bce-logits';

/** One dense input of a tower: `width` columns, filled row-major for a batch. */
export interface DenseInput {
  width: number;
  data: Float32Array;
}

export interface StepResult {
  loss: number;
  /** d loss / d input, one Float32Array per input (batch x width), for scattering into tables. */
  inputGrads: Float32Array[];
}

/**
 * The trainable part of a neural model: its symbolic model (for export), an eager forward function
 * over the same layer objects, and a tfjs Adam over the layers' weights.
 */
export class DenseTower {
  readonly model: tfl.LayersModel;
  private readonly forwardFn: (inputs: tf.Tensor[], training: boolean) => tf.Tensor;
  private readonly optimizer: tf.Optimizer;
  private readonly rng: Rng;

  constructor(
    model: tfl.LayersModel,
    forward: (inputs: tf.Tensor[], training: boolean, rng: Rng | null) => tf.Tensor,
    { learningRate = 1e-3, rng }: { learningRate?: number; rng: Rng },
  ) {
    this.model = model;
    this.rng = rng;
    this.forwardFn = (inputs, training) => forward(inputs, training, training ? this.rng : null);
    this.optimizer = tf.train.adam(learningRate);
  }

  /**
   * One optimisation step on a batch: forward in training mode, loss (mean over the batch, or
   * weighted by per-row `weights`), Adam on the tower's weights, and the input gradients returned
   * as typed arrays. Leaves no tensor behind.
   */
  step(
    inputs: readonly DenseInput[],
    targets: Float32Array,
    loss: LossKind,
    { wantInputGrads = true, weights: rowWeights }: { wantInputGrads?: boolean; weights?: Float32Array } = {},
  ): StepResult {
    const batch = targets.length;
    const weights = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const inputVars = inputs.map((input) => {
      // tf.variable shares the initial tensor's data and keeps a reference: dispose our handle.
      const initial = tf.tensor2d(input.data, [batch, input.width]);
      const variable = tf.variable(initial, wantInputGrads);
      initial.dispose();
      return variable;
    });
    // Typed arrays leave tf.tidy through these variables, never as its return value: tidy walks
    // what it returns element by element (a for-in over every Float32Array entry), which took a
    // third of a small tower's training step.
    let lossValue = 0;
    let inputGrads: Float32Array[] = [];
    try {
      tf.tidy(() => {
        const y = tf.tensor2d(targets, [batch, 1]);
        const varList = wantInputGrads ? [...weights, ...inputVars] : weights;
        const { value, grads } = tf.variableGrads(
          () =>
            lossOf(
              loss,
              this.forwardFn(inputVars, true),
              y,
              rowWeights ? tf.tensor2d(rowWeights, [batch, 1]) : undefined,
            ),
          varList,
        );
        const weightGrads: tf.NamedTensorMap = {};
        for (const w of weights) {
          const g = grads[w.name];
          if (g) weightGrads[w.name] = g;
        }
        this.optimizer.applyGradients(weightGrads);
        if (wantInputGrads) {
          inputGrads = inputVars.map((v, i) => {
            const g = grads[v.name];
            return g ? (g.dataSync() as Float32Array).slice() : new Float32Array(batch * inputs[i]!.width);
          });
        }
        lossValue = value.dataSync()[0]!;
      });
      return { loss: lossValue, inputGrads };
    } finally {
      for (const v of inputVars) v.dispose();
    }
  }

  /** Forward in inference mode (BatchNorm moving averages, no dropout): one value per row. */
  predict(inputs: readonly DenseInput[], rows: number): Float32Array {
    let out = new Float32Array(0);
    tf.tidy(() => {
      const xs = inputs.map((input) => tf.tensor2d(input.data, [rows, input.width]));
      out = (this.forwardFn(xs, false).dataSync() as Float32Array).slice();
    });
    return out;
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/** The batch loss; with `weights`, the weighted sum over the number of non-zero weights (tfjs' default). */
function lossOf(kind: LossKind, output: tf.Tensor, target: tf.Tensor, weights?: tf.Tensor): tf.Scalar {
  if (kind === 'mse') return tf.losses.meanSquaredError(target, output, weights) as tf.Scalar;
  return tf.losses.sigmoidCrossEntropy(target, output, weights) as tf.Scalar;
}
