/**
 * Fitting a TF-IDF vocabulary (min-df, max-df, max-features) and building the document-term
 * matrix with the SAME weighting code the edge applies (shared/content/text-model.ts).
 */
import { ReelrankError } from '../../shared/errors.ts';
import { type TextModel, TOKENIZER_ID, termIndex, weightTerms } from '../../shared/content/text-model.ts';
import type { CsrMatrix } from './svd.ts';

export interface VocabularyOptions {
  /** Keep terms in at least this many documents (default 2). */
  minDf?: number;
  /** Drop terms in more than this share of documents (default 1: keep all). */
  maxDfRatio?: number;
  /** Keep at most this many terms, the highest document frequency first (default 20,000). */
  maxFeatures?: number;
}

export interface Vocabulary {
  terms: string[];
  /** Document frequency of each term. */
  df: Uint32Array;
  /** Smoothed idf: ln((1 + n) / (1 + df)) + 1, n = number of documents (as scikit-learn). */
  idf: Float32Array;
  documents: number;
}

/**
 * The vocabulary of a tokenised corpus. Terms are ordered by df descending, then alphabetically,
 * so the result is independent of document order.
 * @example fitVocabulary([['cat', 'dog'], ['cat']], { minDf: 1 }).terms // ['cat', 'dog']
 */
export function fitVocabulary(
  docs: readonly (readonly string[])[],
  { minDf = 2, maxDfRatio = 1, maxFeatures = 20_000 }: VocabularyOptions = {},
): Vocabulary {
  if (!Number.isInteger(minDf) || minDf < 1)
    throw new ReelrankError('bad_input', `tf-idf: minDf must be an integer >= 1, got ${minDf}`);
  if (!(maxDfRatio > 0 && maxDfRatio <= 1))
    throw new ReelrankError('bad_input', `tf-idf: maxDfRatio must be in (0, 1], got ${maxDfRatio}`);
  if (!Number.isInteger(maxFeatures) || maxFeatures < 1) {
    throw new ReelrankError('bad_input', `tf-idf: maxFeatures must be an integer >= 1, got ${maxFeatures}`);
  }
  const df = new Map<string, number>();
  for (const doc of docs) for (const term of new Set(doc)) df.set(term, (df.get(term) ?? 0) + 1);
  const n = docs.length;
  const maxDf = Math.floor(maxDfRatio * n);
  const kept = [...df.entries()]
    .filter(([, d]) => d >= minDf && d <= maxDf)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, maxFeatures);
  if (kept.length === 0) {
    throw new ReelrankError(
      'bad_input',
      `tf-idf: no term of ${df.size} is in at least minDf=${minDf} and at most ${maxDf} of ${n} documents`,
    );
  }
  return {
    terms: kept.map(([t]) => t),
    df: Uint32Array.from(kept, ([, d]) => d),
    idf: Float32Array.from(kept, ([, d]) => Math.log((1 + n) / (1 + d)) + 1),
    documents: n,
  };
}

/** A projection-less 'lsa' TextModel holding only the vocabulary and idf (to weight terms). */
export function tfidfModel(vocabulary: Vocabulary, sublinearTf: boolean): TextModel {
  return {
    kind: 'lsa',
    tokenizer: TOKENIZER_ID,
    dim: 1,
    vocabulary: vocabulary.terms,
    termWeights: vocabulary.idf,
    projection: new Float32Array(vocabulary.terms.length),
    sublinearTf,
    removedComponent: null,
    fit: {},
  };
}

/** The L2-normalised tf-idf matrix [docs, terms] of a corpus, as the shared apply code weights it. */
export function tfidfMatrix(docs: readonly (readonly string[])[], model: TextModel): CsrMatrix {
  const index = termIndex(model);
  const indptr = new Uint32Array(docs.length + 1);
  const rowsIdx: Uint32Array[] = [];
  const rowsVal: Float64Array[] = [];
  let nnz = 0;
  docs.forEach((doc, r) => {
    const { indexes, weights } = weightTerms(model, index, doc);
    rowsIdx.push(indexes);
    rowsVal.push(weights);
    nnz += indexes.length;
    indptr[r + 1] = nnz;
  });
  const indices = new Uint32Array(nnz);
  const values = new Float64Array(nnz);
  rowsIdx.forEach((idx, r) => {
    indices.set(idx, indptr[r]!);
    values.set(rowsVal[r]!, indptr[r]!);
  });
  return { rows: docs.length, cols: model.vocabulary.length, indptr, indices, values };
}
