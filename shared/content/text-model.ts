/**
 * The saved text model (artifacts/text_model.json) and how to APPLY it: everything needed to
 * embed a movie's text exactly as training did, on Node or in a Worker. Fitting lives in
 * train/content; this file only reads a model and runs it.
 *
 * Both kinds are "weighted bag of terms -> linear projection":
 *   lsa: x = tf-idf vector of the tokens (sublinear tf optional), L2-normalised; e = x . P
 *        with P = the top right-singular vectors of the training tf-idf matrix [vocab, dim].
 *   sif: x = per-token weight a / (a + p(w)) averaged over the known tokens; e = x . P with P
 *        the word vectors [vocab, dim]; then the first principal component u of the training
 *        embeddings is removed (e -= u (u . e)), as Arora et al. (2017) do.
 * The embedding is finally L2-normalised (cosine similarity = dot product); a text with no known
 * token gets the zero vector.
 */
import type { Movie } from '../catalog.ts';
import { ReelrankError } from '../errors.ts';
import { base64ToFloat32, float32ToBase64 } from './base64.ts';
import { movieTokens } from './tokenize.ts';

export const TEXT_MODEL_FORMAT = 'reelrank.text-model';
export const TEXT_MODEL_VERSION = 1;
/** Names the token definition (shared/content/tokenize.ts movieTokens); bump when it changes. */
export const TOKENIZER_ID = 'movie-tokens-v1';

export const TEXT_MODEL_KINDS = Object.freeze(['lsa', 'sif'] as const);
export type TextModelKind = (typeof TEXT_MODEL_KINDS)[number];

/** A text model in memory (typed arrays). */
export interface TextModel {
  kind: TextModelKind;
  tokenizer: string;
  dim: number;
  vocabulary: string[];
  /** Per-term weight: idf for lsa, a / (a + p(w)) for sif. */
  termWeights: Float32Array;
  /** [vocabulary.length, dim] row-major. */
  projection: Float32Array;
  /** lsa only: tf -> 1 + ln(tf) before idf. */
  sublinearTf: boolean;
  /** sif only: unit vector removed from every embedding (null: nothing removed). */
  removedComponent: Float32Array | null;
  /** How it was fitted (min-df, max-features, seed, ...), for the manifest and reports. */
  fit: Record<string, string | number | boolean>;
}

/** The JSON form, as stored in text_model.json. Float arrays are little-endian float32 in base64. */
export interface TextModelJson {
  format: typeof TEXT_MODEL_FORMAT;
  version: number;
  kind: TextModelKind;
  tokenizer: string;
  dim: number;
  vocabulary: string[];
  termWeights: string;
  projection: string;
  sublinearTf: boolean;
  removedComponent: string | null;
  fit: Record<string, string | number | boolean>;
}

/** Term -> row of the projection. Build once per model (a Map over the vocabulary). */
export type TermIndex = ReadonlyMap<string, number>;

export function termIndex(model: TextModel): TermIndex {
  const index = new Map<string, number>();
  model.vocabulary.forEach((term, i) => {
    index.set(term, i);
  });
  return index;
}

/** The JSON object to store (exact: float32 values survive bit-for-bit). */
export function textModelToJson(model: TextModel): TextModelJson {
  return {
    format: TEXT_MODEL_FORMAT,
    version: TEXT_MODEL_VERSION,
    kind: model.kind,
    tokenizer: model.tokenizer,
    dim: model.dim,
    vocabulary: model.vocabulary,
    termWeights: float32ToBase64(model.termWeights),
    projection: float32ToBase64(model.projection),
    sublinearTf: model.sublinearTf,
    removedComponent: model.removedComponent === null ? null : float32ToBase64(model.removedComponent),
    fit: model.fit,
  };
}

/** Serialise to text_model.json bytes' string. */
export function serializeTextModel(model: TextModel): string {
  return JSON.stringify(textModelToJson(model));
}

/**
 * Parse and validate text_model.json (a string or an already-parsed object). Throws a
 * ReelrankError('artifact_corrupt') naming the field, the bad value and what was expected.
 */
export function parseTextModel(input: string | unknown): TextModel {
  const raw: unknown = typeof input === 'string' ? JSON.parse(input) : input;
  const bad = (field: string, got: unknown, expected: string): never => {
    const shown = typeof got === 'string' && got.length > 40 ? `${got.slice(0, 40)}...` : JSON.stringify(got);
    throw new ReelrankError(
      'artifact_corrupt',
      `text_model.json: ${field} is ${shown}, expected ${expected}`,
    );
  };
  if (typeof raw !== 'object' || raw === null) return bad('the document', raw, 'a JSON object');
  const json = raw as Record<string, unknown>;
  if (json.format !== TEXT_MODEL_FORMAT) bad('format', json.format, `"${TEXT_MODEL_FORMAT}"`);
  if (json.version !== TEXT_MODEL_VERSION) bad('version', json.version, `${TEXT_MODEL_VERSION}`);
  const kind = json.kind;
  if (typeof kind !== 'string' || !(TEXT_MODEL_KINDS as readonly string[]).includes(kind)) {
    return bad('kind', kind, TEXT_MODEL_KINDS.map((k) => `"${k}"`).join(' or '));
  }
  if (json.tokenizer !== TOKENIZER_ID)
    bad('tokenizer', json.tokenizer, `"${TOKENIZER_ID}" (the tokenizer this code implements)`);
  const dim = json.dim;
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1)
    return bad('dim', dim, 'a positive integer');
  const vocabulary = json.vocabulary;
  if (!Array.isArray(vocabulary) || !vocabulary.every((t) => typeof t === 'string')) {
    return bad('vocabulary', typeof vocabulary, 'an array of strings');
  }
  if (typeof json.termWeights !== 'string') return bad('termWeights', json.termWeights, 'base64 float32');
  if (typeof json.projection !== 'string') return bad('projection', json.projection, 'base64 float32');
  if (typeof json.sublinearTf !== 'boolean') return bad('sublinearTf', json.sublinearTf, 'true or false');
  if (json.removedComponent !== null && typeof json.removedComponent !== 'string') {
    return bad('removedComponent', json.removedComponent, 'null or base64 float32');
  }
  const fit = json.fit;
  if (typeof fit !== 'object' || fit === null) return bad('fit', fit, 'an object');
  const terms = vocabulary as string[];
  return {
    kind: kind as TextModelKind,
    tokenizer: TOKENIZER_ID,
    dim,
    vocabulary: terms,
    termWeights: base64ToFloat32(json.termWeights, terms.length, 'text_model.json termWeights'),
    projection: base64ToFloat32(json.projection, terms.length * dim, 'text_model.json projection'),
    sublinearTf: json.sublinearTf,
    removedComponent:
      typeof json.removedComponent === 'string'
        ? base64ToFloat32(json.removedComponent, dim, 'text_model.json removedComponent')
        : null,
    fit: fit as Record<string, string | number | boolean>,
  };
}

/**
 * Sparse weighted term vector of a token list under a model: indexes into the vocabulary and
 * their weights, before projection (lsa: L2-normalised tf-idf; sif: mean SIF weight per token).
 * Unknown tokens are ignored. Indexes are sorted ascending, so the result is deterministic.
 */
export function weightTerms(
  model: TextModel,
  index: TermIndex,
  tokens: readonly string[],
): { indexes: Uint32Array; weights: Float64Array } {
  const counts = new Map<number, number>();
  let known = 0;
  for (const token of tokens) {
    const i = index.get(token);
    if (i === undefined) continue;
    known++;
    counts.set(i, (counts.get(i) ?? 0) + 1);
  }
  const indexes = Uint32Array.from(counts.keys()).sort();
  const weights = new Float64Array(indexes.length);
  if (model.kind === 'lsa') {
    let norm = 0;
    for (let n = 0; n < indexes.length; n++) {
      const i = indexes[n]!;
      const tf = counts.get(i)!;
      const w = (model.sublinearTf ? 1 + Math.log(tf) : tf) * model.termWeights[i]!;
      weights[n] = w;
      norm += w * w;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let n = 0; n < weights.length; n++) weights[n] = weights[n]! / norm;
  } else {
    for (let n = 0; n < indexes.length; n++) {
      const i = indexes[n]!;
      weights[n] = (counts.get(i)! * model.termWeights[i]!) / known;
    }
  }
  return { indexes, weights };
}

/**
 * The raw (not yet component-removed, not normalised) projection of a weighted term vector:
 * out = sum_n weights[n] * projection[indexes[n]]. Accumulates in float64.
 */
export function projectTerms(
  projection: Float32Array,
  dim: number,
  indexes: Uint32Array,
  weights: Float64Array,
  out: Float64Array,
): Float64Array {
  out.fill(0);
  for (let n = 0; n < indexes.length; n++) {
    const base = indexes[n]! * dim;
    const w = weights[n]!;
    for (let j = 0; j < dim; j++) out[j] = out[j]! + w * projection[base + j]!;
  }
  return out;
}

/** Remove the model's component (sif) and L2-normalise; writes float32 into `out`. */
export function finishEmbedding(model: TextModel, raw: Float64Array, out: Float32Array): Float32Array {
  const { dim, removedComponent } = model;
  if (removedComponent !== null) {
    let dot = 0;
    for (let j = 0; j < dim; j++) dot += removedComponent[j]! * raw[j]!;
    for (let j = 0; j < dim; j++) raw[j] = raw[j]! - dot * removedComponent[j]!;
  }
  let norm = 0;
  for (let j = 0; j < dim; j++) norm += raw[j]! * raw[j]!;
  norm = Math.sqrt(norm);
  for (let j = 0; j < dim; j++) out[j] = norm > 0 ? raw[j]! / norm : 0;
  return out;
}

/**
 * Embed a token list (e.g. `movieTokens(movie)`) with a model: unit-length float32 [dim], or all
 * zeros when no token is in the vocabulary.
 * @example embedTokens(model, termIndex(model), movieTokens(movie))
 */
export function embedTokens(
  model: TextModel,
  index: TermIndex,
  tokens: readonly string[],
  out: Float32Array = new Float32Array(model.dim),
): Float32Array {
  const { indexes, weights } = weightTerms(model, index, tokens);
  const raw = projectTerms(model.projection, model.dim, indexes, weights, new Float64Array(model.dim));
  return finishEmbedding(model, raw, out);
}

/**
 * Something that turns movies into fixed-size text embeddings. The saved TextModel is one; a
 * TF.js sentence encoder can implement the same interface later (hence async).
 */
export interface Encoder {
  /** Short name for manifests, e.g. 'lsa-128'. */
  readonly name: string;
  readonly dim: number;
  /** Row-major [movies.length, dim], one unit-length (or all-zero) row per movie. */
  encode(movies: readonly Movie[]): Promise<Float32Array>;
}

/** Synchronous batch embedding with a TextModel, row i = movie i. */
export function embedMovies(model: TextModel, movies: readonly Movie[]): Float32Array {
  const index = termIndex(model);
  const out = new Float32Array(movies.length * model.dim);
  movies.forEach((movie, i) => {
    embedTokens(model, index, movieTokens(movie), out.subarray(i * model.dim, (i + 1) * model.dim));
  });
  return out;
}

/** An Encoder backed by a saved TextModel. */
export function textModelEncoder(model: TextModel): Encoder {
  return {
    name: `${model.kind}-${model.dim}`,
    dim: model.dim,
    encode: async (movies) => embedMovies(model, movies),
  };
}
