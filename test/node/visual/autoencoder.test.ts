import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { movieRecord } from '../../../shared/catalog.ts';
import { createRng } from '../../../shared/random.ts';
import { selectBackend } from '../../../train/backend.ts';
import {
  AUTOENCODER_INPUT,
  depthToSpace2,
  disposeAutoencoder,
  embedWithAutoencoder,
  spaceToDepth2,
  trainPosterAutoencoder,
} from '../../../train/visual/autoencoder.ts';
import { renderSyntheticPoster } from '../../../train/visual/synthetic.ts';

describe('poster autoencoder (patchify convolutions)', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });

  it('space-to-depth groups each 2x2 patch into one pixel, and depth-to-space inverts it', () => {
    // 1 image, 2x2 pixels, 1 channel: values 1 2 / 3 4 -> one pixel [1, 2, 3, 4] (row-major patch).
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const s = spaceToDepth2(x);
    expect(s.shape).toEqual([1, 1, 1, 4]);
    expect(Array.from(s.dataSync())).toEqual([1, 2, 3, 4]);
    const big = tf.tensor4d(
      Float32Array.from({ length: 2 * 4 * 6 * 3 }, (_, i) => i),
      [2, 4, 6, 3],
    );
    expect(Array.from(depthToSpace2(spaceToDepth2(big)).dataSync())).toEqual(Array.from(big.dataSync()));
    tf.dispose([x, s, big]);
  });

  it('trains (loss falls) on a few images, embeds to [n, dim] and leaks no tensor', async () => {
    const rng = createRng(4);
    const px = AUTOENCODER_INPUT * AUTOENCODER_INPUT * 3;
    // Smooth images: a per-image colour gradient, which an autoencoder can learn quickly.
    const images = Array.from({ length: 8 }, () => {
      const [a, b] = [rng.next() * 2 - 1, rng.next() * 2 - 1];
      return Float32Array.from({ length: px }, (_, i) =>
        Math.tanh(a + (b * Math.floor(i / (AUTOENCODER_INPUT * 3))) / AUTOENCODER_INPUT),
      );
    });
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    const ae = await trainPosterAutoencoder(images, {
      dim: 8,
      epochs: 4,
      batchSize: 4,
      onEpoch: (_, loss) => losses.push(loss),
    });
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
    const codes = embedWithAutoencoder(ae, images.slice(0, 3));
    expect(codes.length).toBe(3 * 8);
    expect(codes.every(Number.isFinite)).toBe(true);
    disposeAutoencoder(ae);
    expect(tf.memory().numTensors).toBe(before);
    await expect(trainPosterAutoencoder([new Float32Array(10)])).rejects.toThrow(
      /image 0 has 10 values, expected 64x64x3/,
    );
  });
});

describe('synthetic genre posters (explicit option only)', () => {
  it('renders one band per genre, deterministically', () => {
    const movie = movieRecord({ movieId: 1, title: 'X', genres: ['Drama', 'Comedy'] });
    const img = renderSyntheticPoster(movie, 4);
    expect([img.width, img.height]).toEqual([4, 4]);
    expect(Array.from(img.rgba.subarray(0, 4))).toEqual([38, 139, 210, 255]); // Drama on top
    expect(Array.from(img.rgba.subarray(3 * 16, 3 * 16 + 4))).toEqual([255, 200, 40, 255]); // Comedy below
    expect(renderSyntheticPoster(movie, 4).rgba).toEqual(img.rgba);
  });
});
