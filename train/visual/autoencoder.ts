/**
 * A small convolutional autoencoder trained on the posters themselves: the measured alternative to
 * the ImageNet MobileNet features (bench/similarity.ts compares both; bench only).
 *
 * Why "patchify" convolutions (2x2 kernels, stride 2, i.e. space-to-depth + a per-pixel dense
 * layer) rather than tfjs-layers conv2d/conv2dTranspose: measured here, one training step of a
 * 3x3 conv autoencoder on a batch of 32 32x32 posters took 42 s on the tfjs cpu backend
 * (its Conv2DBackpropFilter is a naive loop), and the wasm backend has no Conv2DBackpropFilter
 * kernel at all. Non-overlapping 2x2 convolutions are exactly reshape + transpose + matMul, whose
 * gradients the wasm backend runs fast. The encoder is 4 such stages (64 -> 4 px) and a dense
 * bottleneck; the decoder mirrors it with depth-to-space.
 */
import * as tf from '@tensorflow/tfjs-core';
// Training needs tfjs' gradient registry, which tfjs-layers registers on import (importing
// tfjs-core/dist/register_all_gradients directly fails under Node's ESM resolver).
import '@tensorflow/tfjs-layers';
import { ReelrankError } from '../../shared/errors.ts';
import { createRng, shuffleInPlace } from '../../shared/random.ts';

export const AUTOENCODER_INPUT = 64;

export interface AutoencoderOptions {
  /** Bottleneck size = embedding size (default 64). */
  dim?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

interface Dense {
  w: tf.Variable;
  b: tf.Variable;
}

export interface PosterAutoencoder {
  dim: number;
  /** Mean reconstruction MSE of the last epoch (on [-1, 1] pixels). */
  finalLoss: number;
  /** Encoder then decoder layers, in order. */
  layers: { encoder: Dense[]; code: Dense; expand: Dense; decoder: Dense[] };
}

/** [n, h, w, c] -> [n, h/2, w/2, 4c]: each 2x2 patch becomes one pixel (rank-4 ops only). */
export function spaceToDepth2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return tf.reshape(tf.transpose(tf.reshape(x, [n * (h / 2), 2, w / 2, 2 * c]), [0, 2, 1, 3]), [
    n,
    h / 2,
    w / 2,
    4 * c,
  ]);
}

/** Inverse of spaceToDepth2: [n, h, w, 4c] -> [n, 2h, 2w, c]. */
export function depthToSpace2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c4] = x.shape;
  return tf.reshape(tf.transpose(tf.reshape(x, [n * h, w, 2, c4 / 2]), [0, 2, 1, 3]), [
    n,
    2 * h,
    2 * w,
    c4 / 4,
  ]);
}

function dense(inputs: number, outputs: number, rng: ReturnType<typeof createRng>): Dense {
  // Glorot-uniform from our seeded RNG (tfjs initialisers would not follow our seed everywhere).
  const limit = Math.sqrt(6 / (inputs + outputs));
  const w = Float32Array.from({ length: inputs * outputs }, () => (rng.next() * 2 - 1) * limit);
  // tf.variable keeps its own reference to the data: the initial tensors are freed right away.
  const initial = [tf.tensor2d(w, [inputs, outputs]), tf.zeros([outputs])] as const;
  const layer = { w: tf.variable(initial[0]), b: tf.variable(initial[1]) };
  tf.dispose([...initial]);
  return layer;
}

/** A per-pixel dense layer on [n, h, w, c] (a 1x1 convolution). */
function pixelDense(x: tf.Tensor4D, layer: Dense, activation: 'relu' | 'tanh' | 'linear'): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const y = tf.add(tf.matMul(tf.reshape(x, [n * h * w, c]), layer.w), layer.b);
  const a = activation === 'relu' ? tf.relu(y) : activation === 'tanh' ? tf.tanh(y) : y;
  return tf.reshape(a, [n, h, w, layer.w.shape[1]!]);
}

const ENCODER_WIDTHS = [16, 32, 64, 64];
const DECODER_WIDTHS = [64, 32, 16, 3];

function encode(ae: PosterAutoencoder, x: tf.Tensor4D): tf.Tensor2D {
  let h = x;
  for (const layer of ae.layers.encoder) h = pixelDense(spaceToDepth2(h), layer, 'relu');
  const n = h.shape[0];
  return tf.add(tf.matMul(tf.reshape(h, [n, -1]), ae.layers.code.w), ae.layers.code.b) as tf.Tensor2D;
}

function decode(ae: PosterAutoencoder, code: tf.Tensor2D): tf.Tensor4D {
  const n = code.shape[0];
  const side = AUTOENCODER_INPUT / 16;
  let h = tf.reshape(tf.relu(tf.add(tf.matMul(code, ae.layers.expand.w), ae.layers.expand.b)), [
    n,
    side,
    side,
    64,
  ]) as tf.Tensor4D;
  ae.layers.decoder.forEach((layer, k) => {
    h = depthToSpace2(pixelDense(h, layer, k === ae.layers.decoder.length - 1 ? 'tanh' : 'relu'));
  });
  return h;
}

/**
 * Train the autoencoder on preprocessed posters (each 64*64*3 floats in [-1, 1]) with Adam on MSE.
 * @example const ae = await trainPosterAutoencoder(images, { epochs: 10 }); embedWithAutoencoder(ae, images)
 */
export async function trainPosterAutoencoder(
  images: readonly Float32Array[],
  { dim = 64, epochs = 10, batchSize = 32, learningRate = 2e-3, seed = 3, onEpoch }: AutoencoderOptions = {},
): Promise<PosterAutoencoder> {
  const px = AUTOENCODER_INPUT * AUTOENCODER_INPUT * 3;
  images.forEach((img, i) => {
    if (img.length !== px)
      throw new ReelrankError(
        'bad_input',
        `autoencoder: image ${i} has ${img.length} values, expected 64x64x3 = ${px}`,
      );
  });
  if (images.length === 0) throw new ReelrankError('bad_input', 'autoencoder: no images to train on');
  const rng = createRng(seed);
  const encoder: Dense[] = [];
  let channels = 3;
  for (const width of ENCODER_WIDTHS) {
    encoder.push(dense(4 * channels, width, rng));
    channels = width;
  }
  const side = AUTOENCODER_INPUT / 16;
  const code = dense(side * side * channels, dim, rng);
  const expand = dense(dim, side * side * 64, rng);
  const decoder: Dense[] = [];
  channels = 64;
  for (const width of DECODER_WIDTHS) {
    decoder.push(dense(channels, 4 * width, rng));
    channels = width;
  }
  const ae: PosterAutoencoder = { dim, finalLoss: Number.NaN, layers: { encoder, code, expand, decoder } };
  const optimizer = tf.train.adam(learningRate);
  const order = Uint32Array.from({ length: images.length }, (_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffleInPlace(order, rng);
    let sum = 0;
    let batches = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      const rows = order.subarray(start, start + batchSize);
      const flat = new Float32Array(rows.length * px);
      rows.forEach((r, b) => {
        flat.set(images[r]!, b * px);
      });
      const batch = tf.tensor4d(flat, [rows.length, AUTOENCODER_INPUT, AUTOENCODER_INPUT, 3]);
      const loss = optimizer.minimize(
        () => tf.losses.meanSquaredError(batch, decode(ae, encode(ae, batch))) as tf.Scalar,
        true,
      );
      sum += (await loss!.data())[0]!;
      loss!.dispose();
      batch.dispose();
      batches++;
    }
    ae.finalLoss = sum / batches;
    onEpoch?.(epoch, ae.finalLoss);
  }
  optimizer.dispose();
  return ae;
}

/** Bottleneck codes [n, dim] for preprocessed 64x64 posters. */
export function embedWithAutoencoder(
  ae: PosterAutoencoder,
  images: readonly Float32Array[],
  batchSize = 128,
): Float32Array {
  const px = AUTOENCODER_INPUT * AUTOENCODER_INPUT * 3;
  const out = new Float32Array(images.length * ae.dim);
  for (let start = 0; start < images.length; start += batchSize) {
    const chunk = images.slice(start, start + batchSize);
    const flat = new Float32Array(chunk.length * px);
    chunk.forEach((img, b) => {
      flat.set(img, b * px);
    });
    const codes = tf.tidy(
      () =>
        encode(
          ae,
          tf.tensor4d(flat, [chunk.length, AUTOENCODER_INPUT, AUTOENCODER_INPUT, 3]),
        ).dataSync() as Float32Array,
    );
    out.set(codes, start * ae.dim);
  }
  return out;
}

/** Free the autoencoder's weights. */
export function disposeAutoencoder(ae: PosterAutoencoder): void {
  const { encoder, code, expand, decoder } = ae.layers;
  for (const layer of [...encoder, code, expand, ...decoder]) {
    layer.w.dispose();
    layer.b.dispose();
  }
}
