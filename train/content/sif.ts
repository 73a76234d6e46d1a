/**
 * SIF sentence embeddings (Arora, Liang & Ma, ICLR 2017): a weighted average of word vectors with
 * weight a / (a + p(w)), p(w) the word's unigram probability, then the first principal component
 * of all training embeddings removed. Saved as a 'sif' TextModel so the edge applies it unchanged.
 */
import { ReelrankError } from '../../shared/errors.ts';
import {
  embedTokens,
  projectTerms,
  type TextModel,
  TOKENIZER_ID,
  termIndex,
  weightTerms,
} from '../../shared/content/text-model.ts';
import { createRng } from '../../shared/random.ts';
import type { FittedText } from './lsa.ts';
import type { WordVectors } from './word-vectors.ts';

export interface SifOptions {
  /** The SIF smoothing constant a (default 1e-3, the paper's recommended range 1e-4..1e-3). */
  a?: number;
  /** Remove the first principal component (default true). */
  removeComponent?: boolean;
  seed?: number;
}

/**
 * Fit a SIF TextModel: vocabulary = words of `vectors` that occur in `docs`; p(w) from the token
 * frequencies of `docs`.
 * @example fitSif(movies.map(movieTokens), trainWordVectors(overviews))
 */
export function fitSif(
  docs: readonly (readonly string[])[],
  vectors: WordVectors,
  { a = 1e-3, removeComponent = true, seed = 11 }: SifOptions = {},
): FittedText {
  if (!(a > 0)) throw new ReelrankError('bad_input', `sif: a must be > 0, got ${a}`);
  const available = new Map<string, number>();
  vectors.vocabulary.forEach((w, i) => {
    available.set(w, i);
  });
  const counts = new Map<string, number>();
  let total = 0;
  for (const doc of docs) {
    for (const w of doc) {
      total++;
      if (available.has(w)) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  const terms = [...counts.keys()].sort(
    (x, y) => counts.get(y)! - counts.get(x)! || (x < y ? -1 : x > y ? 1 : 0),
  );
  if (terms.length === 0) {
    throw new ReelrankError(
      'bad_input',
      `sif: none of the ${vectors.vocabulary.length} word-vector words occurs in the ${docs.length} documents`,
    );
  }
  const { dim } = vectors;
  const projection = new Float32Array(terms.length * dim);
  const termWeights = new Float32Array(terms.length);
  terms.forEach((w, i) => {
    const src = available.get(w)!;
    projection.set(vectors.vectors.subarray(src * dim, (src + 1) * dim), i * dim);
    termWeights[i] = a / (a + counts.get(w)! / total);
  });
  const model: TextModel = {
    kind: 'sif',
    tokenizer: TOKENIZER_ID,
    dim,
    vocabulary: terms,
    termWeights,
    projection,
    sublinearTf: false,
    removedComponent: null,
    fit: {
      method: 'sif',
      a,
      documents: docs.length,
      wordVectors: vectors.vocabulary.length,
      removeComponent,
    },
  };
  const index = termIndex(model);
  let explained = 0;
  if (removeComponent) {
    const raw = new Float64Array(docs.length * dim);
    docs.forEach((doc, i) => {
      const { indexes, weights } = weightTerms(model, index, doc);
      projectTerms(projection, dim, indexes, weights, raw.subarray(i * dim, (i + 1) * dim));
    });
    const { vector, share } = firstPrincipalDirection(raw, docs.length, dim, seed);
    model.removedComponent = Float32Array.from(vector);
    explained = share;
  }
  const embeddings = new Float32Array(docs.length * dim);
  docs.forEach((doc, i) => {
    embedTokens(model, index, doc, embeddings.subarray(i * dim, (i + 1) * dim));
  });
  return { model, embeddings, spectrum: Float64Array.of(explained) };
}

/**
 * Leading right-singular vector of a dense [rows, dim] matrix (uncentred, as Arora et al. use
 * TruncatedSVD) by power iteration on X^T X, and the share of squared norm it explains.
 */
export function firstPrincipalDirection(
  x: Float64Array,
  rows: number,
  dim: number,
  seed = 11,
): { vector: Float64Array; share: number } {
  const rng = createRng(seed);
  let v = Float64Array.from({ length: dim }, () => rng.normal());
  const xv = new Float64Array(rows);
  let eigen = 0;
  for (let it = 0; it < 200; it++) {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += x[r * dim + j]! * v[j]!;
      xv[r] = s;
    }
    const next = new Float64Array(dim);
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < dim; j++) next[j] = next[j]! + x[r * dim + j]! * xv[r]!;
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += next[j]! * next[j]!;
    norm = Math.sqrt(norm);
    if (norm === 0) break;
    let change = 0;
    for (let j = 0; j < dim; j++) {
      next[j] = next[j]! / norm;
      change += Math.abs(next[j]! - v[j]!);
    }
    v = next;
    eigen = norm;
    if (change < 1e-10) break;
  }
  // Fix the sign like truncatedSvd: largest-magnitude entry positive.
  let arg = 0;
  for (let j = 1; j < dim; j++) if (Math.abs(v[j]!) > Math.abs(v[arg]!) + 1e-12) arg = j;
  if (v[arg]! < 0) for (let j = 0; j < dim; j++) v[j] = -v[j]!;
  let totalSq = 0;
  for (let i = 0; i < x.length; i++) totalSq += x[i]! * x[i]!;
  return { vector: v, share: totalSq > 0 ? eigen / totalSq : 0 };
}
