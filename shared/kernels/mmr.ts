/**
 * Maximal Marginal Relevance re-ranking (Carbonell & Goldstein, 1998): pick items one at a time,
 * each maximising  lambda * relevance − (1 − lambda) * max similarity to the items already picked,
 * so a list of near-duplicates (five sequels) gives way to a varied one at a small relevance cost.
 */

export interface MmrInput {
  /** Candidate ids (item indexes), any order. */
  candidates: ArrayLike<number>;
  /** Relevance of each candidate, same order; rescaled to [0, 1] internally so lambda is scale-free. */
  relevance: ArrayLike<number>;
  /** Similarity of two items (e.g. cosine of their factors), expected in [-1, 1]. */
  similarity: (a: number, b: number) => number;
  /** How many to return. */
  k: number;
  /** 1 = pure relevance, 0 = pure diversity. */
  lambda: number;
}

/**
 * Positions (into `candidates`) of the k picked items, in pick order.
 * @example mmr({ candidates: [0, 1, 2], relevance: [1, 0.9, 0.5], similarity: (a, b) => (a + b === 1 ? 1 : 0), k: 2, lambda: 0.5 }) // [0, 2]
 */
export function mmr({ candidates, relevance, similarity, k, lambda }: MmrInput): Uint32Array {
  const n = candidates.length;
  const take = Math.max(0, Math.min(k, n));
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const r = relevance[i]!;
    if (r < lo) lo = r;
    if (r > hi) hi = r;
  }
  const span = hi > lo ? hi - lo : 1;
  const picked = new Uint32Array(take);
  const taken = new Uint8Array(n);
  // maxSim[i]: highest similarity of candidate i to anything picked so far (updated incrementally,
  // so the whole selection costs O(k * n) similarity calls, not O(k² * n)).
  const maxSim = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
  for (let step = 0; step < take; step++) {
    let best = -1;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      if (taken[i]) continue;
      const rel = (relevance[i]! - lo) / span;
      const penalty = step === 0 ? 0 : maxSim[i]!;
      const value = lambda * rel - (1 - lambda) * penalty;
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    if (best < 0) break;
    picked[step] = best;
    taken[best] = 1;
    const chosen = candidates[best]!;
    for (let i = 0; i < n; i++) {
      if (taken[i]) continue;
      const s = similarity(candidates[i]!, chosen);
      if (s > maxSim[i]!) maxSim[i] = s;
    }
  }
  return picked;
}
