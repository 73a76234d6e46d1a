/**
 * Implicit-feedback ALS (Hu, Koren & Volinsky 2008) as the edge needs it: the confidence of an
 * interaction, the per-row regularisation, and the closed-form fold-in of a session against fixed
 * item factors. Training (train/models/ials.ts) uses the same three functions, so a known user's
 * exported vector and an anonymous session with the same ratings get the same vector.
 *
 * Model: minimise Σ_{u,i} c_ui (p_ui − x_u·y_i)² + Σ_u λ_u |x_u|² + Σ_i λ_i |y_i|², with p_ui = 1 for
 * an interaction and 0 otherwise, c_ui = 1 + α·f(r_ui) for an interaction and 1 otherwise. For one
 * user with interactions S the optimum is the ridge solution
 *   (YᵀY + Σ_{i∈S} (c_i − 1) y_i y_iᵀ + λ_u I) x = Σ_{i∈S} c_i y_i,
 * where YᵀY (the item Gram matrix, [k, k]) is shared by every user: it is exported with the
 * factors, so a fold-in costs O(|S|·k² + k³) instead of touching the whole catalog.
 */
import { choleskyInPlace, choleskySolveInPlace } from './foldin.ts';

/** How a rating becomes confidence: 'binary' ignores its value, 'rating' scales by r / max. */
export const IMPLICIT_CONFIDENCE = Object.freeze(['binary', 'rating'] as const);
export type ImplicitConfidence = (typeof IMPLICIT_CONFIDENCE)[number];

/** The hyper-parameters a fold-in must reproduce (recorded in the version's trainingConfig). */
export interface ImplicitConfig {
  /** Confidence slope α: an interaction weighs 1 + α·f(r) against 1 for a non-interaction. */
  alpha: number;
  /** Base L2 weight λ. */
  lambda: number;
  /** f(r): 1 ('binary') or r / ratingMax ('rating'). */
  confidence: ImplicitConfidence;
  /** Top of the rating scale (f(r) = r / ratingMax for 'rating'). */
  ratingMax: number;
  /** Frequency scaling ν of the regularisation: λ_u = λ · max(1, |S_u|)^ν (0 = plain λ). */
  regExponent: number;
}

/**
 * Confidence c = 1 + α·f(r) of one interaction.
 * @example implicitConfidence(4, { alpha: 10, confidence: 'rating', ratingMax: 5, lambda: 1, regExponent: 0 }) // 9
 */
export function implicitConfidence(rating: number, config: ImplicitConfig): number {
  const f = config.confidence === 'binary' ? 1 : rating / config.ratingMax;
  return 1 + config.alpha * f;
}

/** λ_u = λ · max(1, count)^ν for a row with `count` interactions. */
export function implicitRegularization(count: number, config: ImplicitConfig): number {
  return config.regExponent === 0 ? config.lambda : config.lambda * Math.max(1, count) ** config.regExponent;
}

/** Checks a config read from a manifest; the error names the field, the value and what is allowed. */
export function checkImplicitConfig(config: ImplicitConfig): ImplicitConfig {
  const bad = (field: string, value: unknown, allowed: string) => {
    throw new RangeError(`implicit config: ${field} is ${String(value)}; it must be ${allowed}`);
  };
  if (!(config.alpha >= 0 && Number.isFinite(config.alpha)))
    bad('alpha', config.alpha, 'a finite number >= 0');
  if (!(config.lambda > 0 && Number.isFinite(config.lambda)))
    bad('lambda', config.lambda, 'a finite number > 0');
  if (!(IMPLICIT_CONFIDENCE as readonly string[]).includes(config.confidence))
    bad('confidence', config.confidence, `one of ${IMPLICIT_CONFIDENCE.join(', ')}`);
  if (!(config.ratingMax > 0)) bad('ratingMax', config.ratingMax, '> 0');
  if (!(config.regExponent >= 0 && config.regExponent <= 2))
    bad('regExponent', config.regExponent, 'in [0, 2]');
  return config;
}

export interface ImplicitFoldInInput {
  /** Item Gram matrix YᵀY, row-major [k, k] (symmetric). */
  gram: Float32Array | Float64Array;
  /** Number of factors (≤ 128 at the edge: the k³/3 Cholesky then stays under a millisecond). */
  k: number;
  /** Factor rows of the interacted items, row-major [n, k] (dequantized). */
  ratedFactors: Float32Array | Float64Array;
  /** Confidence c_i of each of the n interactions (from `implicitConfidence`). */
  confidence: ArrayLike<number>;
  /** Ridge strength λ_u (from `implicitRegularization`), > 0. */
  lambda: number;
  /**
   * Preference p_i of each interaction: 1 (default) for a positive one, 0 for an explicit negative
   * (a dislike: weighted like an interaction in the system, but pulling the score towards 0).
   */
  preference?: ArrayLike<number>;
  /** Optional output of length k (a fresh Float64Array otherwise). */
  out?: Float64Array;
}

/**
 * The user vector x solving (YᵀY + Σ (c_i − 1) y_i y_iᵀ + λI) x = Σ c_i p_i y_i, by Cholesky.
 * With no interactions it returns the zero vector.
 * @example foldInImplicit({ gram: Float64Array.of(1, 0, 0, 1), k: 2, ratedFactors: Float32Array.of(1, 0), confidence: [3], lambda: 1 }) // [0.75, 0]
 */
export function foldInImplicit({
  gram,
  k,
  ratedFactors,
  confidence,
  lambda,
  preference,
  out = new Float64Array(k),
}: ImplicitFoldInInput): Float64Array {
  const n = confidence.length;
  if (!(lambda > 0)) throw new RangeError(`foldInImplicit: lambda must be > 0, got ${lambda}`);
  if (gram.length !== k * k)
    throw new RangeError(`foldInImplicit: gram has ${gram.length} values, expected ${k} x ${k} = ${k * k}`);
  if (ratedFactors.length !== n * k) {
    throw new RangeError(
      `foldInImplicit: ratedFactors has ${ratedFactors.length} values, expected ${n} interactions x ${k} factors = ${n * k}`,
    );
  }
  out.fill(0);
  if (n === 0) return out;
  const a = new Float64Array(k * k);
  // Lower triangle only: Cholesky reads nothing above the diagonal.
  for (let i = 0; i < k; i++) {
    const row = i * k;
    for (let j = 0; j <= i; j++) a[row + j] = gram[row + j]!;
    a[row + i] = a[row + i]! + lambda;
  }
  for (let r = 0; r < n; r++) {
    const base = r * k;
    const c = confidence[r]!;
    const extra = c - 1;
    const cp = c * (preference === undefined ? 1 : preference[r]!);
    for (let i = 0; i < k; i++) {
      const yi = ratedFactors[base + i]!;
      out[i] = out[i]! + cp * yi;
      if (extra === 0) continue;
      const row = i * k;
      const scaled = extra * yi;
      for (let j = 0; j <= i; j++) a[row + j] = a[row + j]! + scaled * ratedFactors[base + j]!;
    }
  }
  if (!choleskyInPlace(a, k)) {
    throw new RangeError(
      'foldInImplicit: the regularised system is not positive definite (non-finite factors, a bad Gram matrix, or a confidence below 1?)',
    );
  }
  return choleskySolveInPlace(a, k, out);
}
