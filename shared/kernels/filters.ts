/**
 * Candidate filters as a byte mask over the catalog (1 = allowed): genres (any of), a year range,
 * and movies the user has already seen. Building the mask is one pass over the items; the top-K
 * kernel then skips masked items without a closure call per item.
 */

export interface ItemFilter {
  /** Allowed genre bits (OR of `genreBits` entries); 0 = any genre. */
  genreMask?: number;
  yearFrom?: number;
  yearTo?: number;
  /** Item indexes to drop (e.g. the user's seen list). */
  exclude?: ArrayLike<number>;
}

/** Per-item attributes the filters read, precomputed once per loaded version. */
export interface FilterAttributes {
  /** Bit g set = the item has genre g (at most 32 genres, MovieLens has 20). */
  genreBits: Uint32Array;
  /** Release year; 0 = unknown (unknown years fail any year filter). */
  years: Uint16Array;
}

/** A mask (1 = keep) for `itemCount` items (written into `out` when given), or null when the filter keeps everything. */
export function buildItemMask(
  attributes: FilterAttributes,
  filter: ItemFilter,
  out?: Uint8Array,
): Uint8Array | null {
  const { genreMask = 0, yearFrom, yearTo, exclude } = filter;
  const hasYear = yearFrom !== undefined || yearTo !== undefined;
  if (genreMask === 0 && !hasYear && (exclude === undefined || exclude.length === 0)) return null;
  const n = attributes.genreBits.length;
  // A caller-owned buffer (serving reuses one per model) saves a catalog-sized allocation per request.
  const mask = out && out.length >= n ? out.subarray(0, n) : new Uint8Array(n);
  const from = yearFrom ?? 0;
  const to = yearTo ?? 65535;
  for (let i = 0; i < n; i++) {
    let keep = 1;
    if (genreMask !== 0 && (attributes.genreBits[i]! & genreMask) === 0) keep = 0;
    if (hasYear) {
      const y = attributes.years[i]!;
      if (y === 0 || y < from || y > to) keep = 0;
    }
    mask[i] = keep;
  }
  if (exclude) for (let e = 0; e < exclude.length; e++) mask[exclude[e]!] = 0;
  return mask;
}

/** Sets scores of masked-out items to -Infinity, which `topK` skips. */
export function applyMask(scores: Float32Array, mask: Uint8Array | null): Float32Array {
  if (mask === null) return scores;
  for (let i = 0; i < scores.length; i++) if (mask[i] === 0) scores[i] = Number.NEGATIVE_INFINITY;
  return scores;
}
