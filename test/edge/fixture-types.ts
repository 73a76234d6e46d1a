/** What the edge project's globalSetup (test/node/kernels/edge-global-setup.ts) provides to workerd tests. */
export interface ProvidedVersion {
  version: string;
  /** key -> sha256 of its bytes in `ProvidedFixture.blobs` (without the pointer). */
  files: Record<string, string>;
  /** current.json naming this version, base64. */
  pointer: string;
}

export interface ProvidedFixture {
  /** sha256 -> base64 bytes: files both versions share (ids, seen lists) are sent once. */
  blobs: Record<string, string>;
  /** ml-latest-small, biased MF (rating factors) + implicit ALS (ranking factors), content-neighbour lists. */
  a: ProvidedVersion;
  /**
   * Another fit of the same data as an older version's files: no neighbour lists, no ranking
   * factors, the catalog as catalog.json movie objects (a has the catalog columns); its pointer
   * names a as previous.
   */
  b: ProvidedVersion;
  /** Parity cases against version a: trainer float32 MF and shared/serving in Node. */
  predictions: { userId: number; movieId: number; float: number; serving: number }[];
  recommendations: { userId: number; movieIds: number[]; scores: number[] }[];
  /** The same users served by version a with its ranking factors ignored (the old collaborative channel). */
  recommendationsWithoutRanking: { userId: number; movieIds: number[] }[];
  /** Anonymous sessions against version a (implicit fold-in through the ranking factors), in Node. */
  sessions: {
    ratings: { movieId: number; rating: number }[];
    movieIds: number[];
    scores: number[];
    /** Without the ranking factors, for contrast. */
    movieIdsWithoutRanking: number[];
  }[];
  /**
   * Version c: a's files plus sparse item-item lists and a learned ranking stage (enabled for users
   * and sessions), with what shared/serving in Node ranks for the same requests.
   */
  learned: {
    c: ProvidedVersion;
    recommendations: { userId: number; movieIds: number[]; scores: number[]; blendMovieIds: number[] }[];
    sessions: {
      ratings: { movieId: number; rating: number }[];
      movieIds: number[];
      scores: number[];
      blendMovieIds: number[];
    }[];
  };
  /** Version a's ranking factor count (b has none: an older version). */
  rankingFactors: number;
  /** Quantization tolerance for edge vs float32 trainer predictions (from the int8 error bound). */
  tolerance: number;
  buildMs: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    reelrankFixture: ProvidedFixture;
  }
}
