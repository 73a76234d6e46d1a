/**
 * Base64 for float32 arrays inside JSON (text_model.json): exact (bit-for-bit little-endian
 * float32), ~4x smaller than decimal numbers, and free of `Buffer`/`atob` so it runs unchanged on
 * Node and Workers.
 */
import { ReelrankError } from '../errors.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** Standard base64 (with '=' padding) of bytes. */
export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chunk += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
    // Flush periodically: repeated += on one huge string is slow and memory hungry in V8.
    if (chunk.length >= 1 << 16) {
      parts.push(chunk);
      chunk = '';
    }
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    chunk += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    chunk += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + '=';
  }
  parts.push(chunk);
  return parts.join('');
}

/** Bytes of a standard base64 string; throws on a character outside the alphabet or a bad length. */
export function base64ToBytes(text: string, what = 'base64 data'): Uint8Array {
  if (text.length % 4 !== 0) {
    throw new ReelrankError(
      'artifact_corrupt',
      `${what}: base64 length ${text.length} is not a multiple of 4`,
    );
  }
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const c = text.charCodeAt(i + k);
      const isPad = c === 61 && i + k >= text.length - padding;
      const v = isPad ? 0 : c < 128 ? DECODE[c]! : -1;
      if (v < 0) {
        throw new ReelrankError(
          'artifact_corrupt',
          `${what}: character ${JSON.stringify(text[i + k])} at ${i + k} is not base64 (A-Z a-z 0-9 + / =)`,
        );
      }
      n = (n << 6) | v;
    }
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

/** Little-endian float32 bytes of `values`, base64-encoded. */
export function float32ToBase64(values: Float32Array): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return bytesToBase64(bytes);
}

/** Inverse of float32ToBase64; `expectedLength` (in floats) is checked when given. */
export function base64ToFloat32(
  text: string,
  expectedLength: number | undefined,
  what = 'float32 data',
): Float32Array {
  const bytes = base64ToBytes(text, what);
  if (bytes.length % 4 !== 0)
    throw new ReelrankError(
      'artifact_corrupt',
      `${what}: ${bytes.length} bytes is not a whole number of float32 values`,
    );
  const n = bytes.length / 4;
  if (expectedLength !== undefined && n !== expectedLength) {
    throw new ReelrankError(
      'artifact_corrupt',
      `${what}: holds ${n} float32 values, expected ${expectedLength}`,
    );
  }
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
