import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../train/backend.ts';
import { decodeImage, resizeBilinearToUnitRange } from '../../../train/visual/image.ts';
import { embedPosters, loadPosterCnn, type PosterCnn } from '../../../train/visual/cnn.ts';
import { describeWithData, sharedData } from '../../support/data.ts';

/** A w x h RGBA image filled by f(x, y) -> [r, g, b]. */
function image(w: number, h: number, f: (x: number, y: number) => [number, number, number]) {
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = f(x, y);
      rgba.set([r, g, b, 255], (y * w + x) * 4);
    }
  }
  return { width: w, height: h, rgba };
}

describe('poster decoding and resizing', () => {
  it('decodes PNG exactly and JPEG closely, and names the file on garbage', () => {
    const src = image(3, 2, (x, y) => [x * 100, y * 200, 7]);
    const png = PNG.sync.write(
      Object.assign(new PNG({ width: 3, height: 2 }), { data: Buffer.from(src.rgba) }),
    );
    const decoded = decodeImage(new Uint8Array(png), 'a.png');
    expect(decoded.width).toBe(3);
    expect(Array.from(decoded.rgba)).toEqual(Array.from(src.rgba));
    const flat = image(8, 8, () => [200, 40, 90]);
    const jpg = jpeg.encode({ width: 8, height: 8, data: flat.rgba }, 95);
    const back = decodeImage(new Uint8Array(jpg.data), 'a.jpg');
    expect(Math.abs(back.rgba[0]! - 200)).toBeLessThanOrEqual(3);
    expect(() => decodeImage(Uint8Array.of(1, 2, 3, 4), 'posters/9.jpg')).toThrow(
      /posters\/9\.jpg: starts with bytes 01 02 03 04, expected a JPEG/,
    );
    expect(() => decodeImage(new Uint8Array(0), 'e.jpg')).toThrow(/\(empty file\)/);
  });

  it('bilinear resize with half-pixel centres, scaled to [-1, 1]', () => {
    // 2x1 image black | white upscaled to 4 wide: sample x = (i+0.5)/2 - 0.5 = -0.25, 0.25, 0.75, 1.25
    // -> clamped 0, 0.25, 0.75, 1 -> 0, 63.75, 191.25, 255 -> [-1, -0.5, 0.5, 1].
    const out = resizeBilinearToUnitRange(
      image(2, 1, (x) => [x * 255, 0, 255]),
      4,
    );
    expect(Array.from({ length: 4 }, (_, x) => out[x * 3]!)).toEqual([-1, -0.5, 0.5, 1]);
    expect(out[1]).toBe(-1);
    expect(out[2]).toBe(1);
    expect(out.length).toBe(4 * 4 * 3);
  });
});

describeWithData('ml-100k-posters', 'poster embeddings with the bundled MobileNet', () => {
  let cnn: PosterCnn;
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
    cnn = await loadPosterCnn();
  });

  it('embeds a handful of real posters (256-d, deterministic) and gives missing posters no vector', async () => {
    expect(cnn.dim).toBe(256);
    expect(cnn.inputSize).toBe(224);
    const dir = sharedData('ml-100k-posters');
    // 330 is one of the 19 ml-100k ids without a poster.
    const paths = [join(dir, '1.jpg'), null, join(dir, '2.jpg'), join(dir, '50.jpg')];
    const before = tf.memory().numTensors;
    const a = await embedPosters(cnn, paths, { batchSize: 2 });
    const b = await embedPosters(cnn, paths, { batchSize: 3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(a.mask)).toEqual([1, 0, 1, 1]);
    expect(Array.from(a.embeddings.subarray(256, 512)).every((v) => v === 0)).toBe(true);
    // Batching does not change results (up to float rounding).
    for (let i = 0; i < a.embeddings.length; i++)
      expect(Math.abs(a.embeddings[i]! - b.embeddings[i]!)).toBeLessThan(1e-4);
    // ReLU + average pool: non-negative, and distinct posters give distinct vectors.
    const row = (i: number) => a.embeddings.subarray(i * 256, (i + 1) * 256);
    expect(Math.min(...row(0))).toBeGreaterThanOrEqual(0);
    expect(row(0).reduce((s, v) => s + v, 0)).toBeGreaterThan(1);
    const diff = row(0).reduce((s, v, j) => s + Math.abs(v - row(2)[j]!), 0);
    expect(diff).toBeGreaterThan(1);
    await expect(embedPosters(cnn, [join(dir, '330.jpg')])).rejects.toThrow(
      /330\.jpg \(row 0\): cannot read/,
    );
  });

  it('refuses an unknown or spatial layer, naming the layers', async () => {
    await expect(loadPosterCnn({ layer: 'nope' })).rejects.toThrow(
      /no layer 'nope'. Layers: .*global_average_pooling2d_1/,
    );
    await expect(loadPosterCnn({ layer: 'conv_pw_13_relu' })).rejects.toThrow(
      /outputs shape \[batch, 7, 7, 256\], expected \[batch, dim\]/,
    );
  });

  it('reads the real file bytes (no network)', () => {
    const bytes = readFileSync(join(sharedData('ml-100k-posters'), '1.jpg'));
    const img = decodeImage(new Uint8Array(bytes), '1.jpg');
    expect([img.width, img.height]).toEqual([92, 138]);
  });
});
