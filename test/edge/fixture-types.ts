/** What the edge project's globalSetup (test/node/kernels/edge-global-setup.ts) provides to workerd tests. */
export interface ProvidedVersion {
  version: string;
  /** key -> sha256 of its bytes in `ProvidedFixture.blobs` (without the pointer). */
  files: Record<string, string>;
  /** current.json naming this version, base64. */
  pointer: string;
}

export interface ProvidedFixture {
  /** sha256 -> base64 bytes: files both versions share (catalog, ids, seen lists) are sent once. */
  blobs: Record<string, string>;
  /** ml-latest-small, biased MF with content-neighbour lists. */
  a: ProvidedVersion;
  /** Another fit of the same data, no neighbour lists; its pointer names a as previous. */
  b: ProvidedVersion;
  /** Parity cases against version a: trainer float32 MF and shared/serving in Node. */
  predictions: { userId: number; movieId: number; float: number; serving: number }[];
  recommendations: { userId: number; movieIds: number[]; scores: number[] }[];
  /** Quantization tolerance for edge vs float32 trainer predictions (from the int8 error bound). */
  tolerance: number;
  buildMs: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    reelrankFixture: ProvidedFixture;
  }
}
