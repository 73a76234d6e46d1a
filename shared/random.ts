/**
 * Seeded pseudo-random numbers (mulberry32): every shuffle, split, initialisation and sample in
 * reelrank goes through one of these so that a seed reproduces a run exactly, on Node and Workers.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
}

/** A deterministic generator; the same seed gives the same sequence everywhere. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0 || 0x9e3779b9;
  let spareNormal: number | null = null;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    normal: () => {
      if (spareNormal !== null) {
        const value = spareNormal;
        spareNormal = null;
        return value;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const radius = Math.sqrt(-2 * Math.log(u));
      spareNormal = radius * Math.sin(2 * Math.PI * v);
      return radius * Math.cos(2 * Math.PI * v);
    },
  };
}

/**
 * A seeded sample without replacement: partial Fisher-Yates, so the first `count` entries of
 * `array` become a uniform sample (in draw order). Returns `array`.
 */
export function sampleInPlace<T extends { length: number; [i: number]: number }>(
  array: T,
  count: number,
  rng: Rng,
): T {
  for (let n = 0; n < Math.min(count, array.length); n++) {
    const r = n + rng.int(array.length - n);
    const tmp = array[n]!;
    array[n] = array[r]!;
    array[r] = tmp;
  }
  return array;
}

/** Fisher-Yates shuffle in place. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(array: T, rng: Rng): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = array[i]!;
    array[i] = array[j]!;
    array[j] = tmp;
  }
  return array;
}
