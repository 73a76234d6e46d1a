/**
 * Poster images to CNN input: decode JPEG (jpeg-js) or PNG (pngjs), both pure JS, then resize to
 * the network's square input by bilinear interpolation and scale to [-1, 1] (MobileNet's range).
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { ReelrankError } from '../../shared/errors.ts';

/** Decoded pixels, RGBA row-major. */
export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

const isJpeg = (b: Uint8Array) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
const isPng = (b: Uint8Array) =>
  b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;

/**
 * Decode a JPEG or PNG file's bytes. `name` (e.g. the path) is used in errors.
 * @example decodeImage(readFileSync('1.jpg'), '1.jpg') // { width: 92, height: 138, rgba }
 */
export function decodeImage(bytes: Uint8Array, name: string): RgbaImage {
  try {
    if (isJpeg(bytes)) {
      // Posters are tiny (92 x 138); the limits only guard against a hostile or broken file.
      const img = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: 50,
        maxMemoryUsageInMB: 512,
      });
      return { width: img.width, height: img.height, rgba: img.data };
    }
    if (isPng(bytes)) {
      const img = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return {
        width: img.width,
        height: img.height,
        rgba: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength),
      };
    }
  } catch (error) {
    throw new ReelrankError(
      'bad_image',
      `poster ${name}: cannot decode (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new ReelrankError(
    'bad_image',
    `poster ${name}: starts with bytes ${head || '(empty file)'}, expected a JPEG (ff d8 ff) or PNG (89 50 4e 47)`,
  );
}

/**
 * Bilinear resize of an RGBA image to size x size RGB floats scaled to [-1, 1], written into `out`
 * (size*size*3, HWC). Half-pixel centres (as tf.image.resizeBilinear with halfPixelCenters) so
 * the image is not shifted; the aspect ratio is not kept (a 2:3 poster is squeezed whole rather
 * than cropped, keeping its title and artwork).
 */
export function resizeBilinearToUnitRange(
  image: RgbaImage,
  size: number,
  out: Float32Array = new Float32Array(size * size * 3),
): Float32Array {
  const { width, height, rgba } = image;
  if (width < 1 || height < 1)
    throw new ReelrankError('bad_image', `image of ${width}x${height} pixels cannot be resized`);
  const sy = height / size;
  const sx = width / size;
  for (let y = 0; y < size; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, height - 1);
    const wy = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, width - 1);
      const wx = fx - x0;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = rgba[(y0 * width + x0) * 4 + c]! * (1 - wx) + rgba[(y0 * width + x1) * 4 + c]! * wx;
        const bottom = rgba[(y1 * width + x0) * 4 + c]! * (1 - wx) + rgba[(y1 * width + x1) * 4 + c]! * wx;
        out[o + c] = (top * (1 - wy) + bottom * wy) / 127.5 - 1;
      }
    }
  }
  return out;
}
