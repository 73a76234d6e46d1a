/**
 * LSA text embeddings: tf-idf of the combined features, truncated SVD, and the right-singular
 * vectors saved as the projection of a TextModel (shared/content/text-model.ts).
 */
import { embedTokens, type TextModel, TOKENIZER_ID, termIndex } from '../../shared/content/text-model.ts';
import { truncatedSvd, type SvdOptions } from './svd.ts';
import { fitVocabulary, tfidfMatrix, tfidfModel, type VocabularyOptions } from './tfidf.ts';

export interface LsaOptions extends VocabularyOptions, SvdOptions {
  /** Embedding size (default 128, capped by the corpus rank). */
  dim?: number;
  /** tf -> 1 + ln(tf) (default true). */
  sublinearTf?: boolean;
}

export interface FittedText {
  model: TextModel;
  /** Training-time embeddings [docs, dim], computed by the same apply code as serving uses. */
  embeddings: Float32Array;
  /** Descending singular values (lsa) or the removed component's variance share (sif), for reports. */
  spectrum: Float64Array;
}

/**
 * Fit an LSA TextModel on tokenised documents (`movieTokens(movie)` per movie).
 * @example const { model, embeddings } = fitLsa(movies.map(movieTokens), { dim: 128 })
 */
export function fitLsa(docs: readonly (readonly string[])[], options: LsaOptions = {}): FittedText {
  const {
    dim = 128,
    sublinearTf = true,
    minDf,
    maxDfRatio,
    maxFeatures,
    oversample,
    powerIterations = 4,
    seed = 7,
  } = options;
  const vocabulary = fitVocabulary(docs, { minDf, maxDfRatio, maxFeatures });
  const weighting = tfidfModel(vocabulary, sublinearTf);
  const x = tfidfMatrix(docs, weighting);
  const k = Math.min(dim, x.rows, x.cols);
  const svd = truncatedSvd(x, k, { oversample, powerIterations, seed });
  const model: TextModel = {
    ...weighting,
    tokenizer: TOKENIZER_ID,
    dim: k,
    projection: Float32Array.from(svd.rightVectors),
    fit: {
      method: 'lsa',
      documents: docs.length,
      minDf: minDf ?? 2,
      maxDfRatio: maxDfRatio ?? 1,
      maxFeatures: maxFeatures ?? 20_000,
      powerIterations,
      seed,
    },
  };
  const index = termIndex(model);
  const embeddings = new Float32Array(docs.length * k);
  docs.forEach((doc, i) => {
    embedTokens(model, index, doc, embeddings.subarray(i * k, (i + 1) * k));
  });
  return { model, embeddings, spectrum: svd.singularValues };
}
