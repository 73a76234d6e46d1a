/**
 * Poster thumbnails for the web page: every poster re-encoded as a small baseline JPEG inside the
 * version (`posters/<movieId>.jpg`, each listed in the manifest with its sha256 like every file),
 * plus `posters/index.json` naming the movies that have one. The edge serves them with immutable
 * cache headers, so a browser fetches each thumbnail once per version.
 *
 * Size budget: at most THUMBNAIL_WIDTH x THUMBNAIL_HEIGHT pixels (2:3, centre-cropped, never
 * upscaled) and at most THUMBNAIL_MAX_BYTES (8 KB) each: a JPEG already within both is copied as is,
 * others are resized and re-encoded, quality lowered in steps until it fits. The 1,663 ml-100k
 * posters (TMDB w92) average 4.8 KB: ~8 MB for the catalog, fetched one card at a time.
 */
import jpeg from 'jpeg-js';
import type { PosterIndex } from '../../shared/artifacts/web-parts.ts';
import { ReelrankError } from '../../shared/errors.ts';
import type { VersionWriter } from '../artifacts/writer.ts';
import { decodeImage, type RgbaImage } from './image.ts';

export const THUMBNAIL_WIDTH = 92;
export const THUMBNAIL_HEIGHT = 138;
export const THUMBNAIL_MAX_BYTES = 8 * 1024;
const QUALITIES = [78, 68, 58, 48, 38] as const;

/** Centre crop to 2:3 and box-filter down to at most width x height (no upscaling). */
export function cropResize(image: RgbaImage, width = THUMBNAIL_WIDTH, height = THUMBNAIL_HEIGHT): RgbaImage {
  const aspect = width / height;
  let cw = image.width;
  let ch = image.height;
  if (cw / ch > aspect) cw = Math.max(1, Math.round(ch * aspect));
  else ch = Math.max(1, Math.round(cw / aspect));
  const x0 = Math.floor((image.width - cw) / 2);
  const y0 = Math.floor((image.height - ch) / 2);
  const outW = Math.min(width, cw);
  const outH = Math.min(height, ch);
  const rgba = new Uint8Array(outW * outH * 4);
  const sx = cw / outW;
  const sy = ch / outH;
  for (let y = 0; y < outH; y++) {
    const ya = y0 + Math.floor(y * sy);
    const yb = Math.max(ya + 1, y0 + Math.floor((y + 1) * sy));
    for (let x = 0; x < outW; x++) {
      const xa = x0 + Math.floor(x * sx);
      const xb = Math.max(xa + 1, x0 + Math.floor((x + 1) * sx));
      let r = 0;
      let g = 0;
      let b = 0;
      let n = 0;
      for (let yy = ya; yy < yb; yy++) {
        for (let xx = xa; xx < xb; xx++) {
          const o = (yy * image.width + xx) * 4;
          r += image.rgba[o]!;
          g += image.rgba[o + 1]!;
          b += image.rgba[o + 2]!;
          n++;
        }
      }
      const o = (y * outW + x) * 4;
      rgba[o] = Math.round(r / n);
      rgba[o + 1] = Math.round(g / n);
      rgba[o + 2] = Math.round(b / n);
      rgba[o + 3] = 255;
    }
  }
  return { width: outW, height: outH, rgba };
}

/**
 * Width and height of a JPEG from its SOFn header, without decoding it; null if not found.
 * @example jpegSize(readFileSync('1.jpg')) // { width: 92, height: 138 }
 */
export function jpegSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    // SOF0..SOF15 except DHT (c4), JPG (c8) and DAC (cc) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return {
        height: (bytes[at + 5]! << 8) | bytes[at + 6]!,
        width: (bytes[at + 7]! << 8) | bytes[at + 8]!,
      };
    }
    at += 2 + length;
  }
  return null;
}

/**
 * One poster file's bytes (JPEG or PNG) as a thumbnail JPEG within the size budget. A JPEG that
 * is already within it (pixels and bytes) is kept byte for byte: no decode, no generation loss.
 * @example posterThumbnail(readFileSync('1.jpg'), '1.jpg').length // ~5000
 */
export function posterThumbnail(bytes: Uint8Array, name: string): Uint8Array {
  const size = jpegSize(bytes);
  if (
    size !== null &&
    size.width <= THUMBNAIL_WIDTH &&
    size.height <= THUMBNAIL_HEIGHT &&
    bytes.length <= THUMBNAIL_MAX_BYTES
  )
    return bytes;
  const small = cropResize(decodeImage(bytes, name));
  for (const quality of QUALITIES) {
    const encoded = jpeg.encode({ width: small.width, height: small.height, data: small.rgba }, quality).data;
    if (encoded.length <= THUMBNAIL_MAX_BYTES || quality === QUALITIES[QUALITIES.length - 1])
      return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  }
  throw new ReelrankError('bad_image', `poster ${name}: no thumbnail quality was tried`);
}

/**
 * Writes `posters/<movieId>.jpg` for every movie with a poster, then `posters/index.json`.
 * `read` returns a poster file's bytes (the posterPath of the movie). A poster that cannot be
 * decoded is skipped and reported by `onSkip` (the embedding step names it too).
 */
export async function writePosterThumbnails(
  writer: VersionWriter,
  movies: readonly { movieId: number; posterPath: string | null }[],
  read: (path: string) => Promise<Uint8Array>,
  { onSkip = () => {} }: { onSkip?: (movieId: number, message: string) => void } = {},
): Promise<PosterIndex> {
  const movieIds: number[] = [];
  let total = 0;
  for (const movie of movies) {
    if (movie.posterPath === null) continue;
    let thumbnail: Uint8Array;
    try {
      thumbnail = posterThumbnail(await read(movie.posterPath), movie.posterPath);
    } catch (error) {
      if (!(error instanceof ReelrankError)) throw error;
      onSkip(movie.movieId, error.message);
      continue;
    }
    await writer.raw(`posters/${movie.movieId}.jpg`, thumbnail);
    movieIds.push(movie.movieId);
    total += thumbnail.length;
  }
  movieIds.sort((a, b) => a - b);
  const index: PosterIndex = { width: THUMBNAIL_WIDTH, height: THUMBNAIL_HEIGHT, movieIds, bytes: total };
  await writer.json('posterThumbnails', index);
  return index;
}
