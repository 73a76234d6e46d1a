/**
 * SHA-256 through WebCrypto (`crypto.subtle`), so the same code verifies artifacts on Node and in
 * Workers. Hex output, lower case, as stored in manifests and pointers.
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

/**
 * SHA-256 of `data` as 64 lower-case hex characters.
 * @example await sha256Hex(new TextEncoder().encode('abc')) // 'ba7816bf...'
 */
export async function sha256Hex(data: Uint8Array | ArrayBuffer): Promise<string> {
  // Views over SharedArrayBuffer are not BufferSource in the DOM types; artifact bytes never are.
  const digest = await crypto.subtle.digest('SHA-256', data as ArrayBuffer | Uint8Array<ArrayBuffer>);
  return toHex(new Uint8Array(digest));
}
