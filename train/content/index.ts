/**
 * Text embeddings for a catalog, in one call: LSA by default; SIF over word vectors when asked,
 * with a GloVe file if the user gives one, otherwise vectors pretrained here on a corpus (the TMDB
 * overviews plus the catalog's own combined features). Returns the saved-model form too.
 */
import type { Movie } from '../../shared/catalog.ts';
import { ReelrankError } from '../../shared/errors.ts';
import { movieTokens, tokenize } from '../../shared/content/tokenize.ts';
import { type FittedText, fitLsa, type LsaOptions } from './lsa.ts';
import { fitSif, type SifOptions } from './sif.ts';
import { loadGloveFile, trainWordVectors, type WordVectorOptions } from './word-vectors.ts';

export { fitLsa } from './lsa.ts';
export { fitSif } from './sif.ts';
export { loadGloveFile, trainWordVectors } from './word-vectors.ts';
export type { FittedText } from './lsa.ts';

export const TEXT_METHODS = Object.freeze(['lsa', 'sif'] as const);
export type TextMethod = (typeof TEXT_METHODS)[number];

export interface TextEmbeddingOptions {
  method?: TextMethod;
  lsa?: LsaOptions;
  sif?: SifOptions;
  /** sif: a GloVe-format file; when absent, word vectors are pretrained on `corpus` + the catalog. */
  glovePath?: string;
  /** sif: extra free texts to pretrain word vectors on (e.g. every TMDB overview). */
  corpus?: readonly string[];
  wordVectors?: WordVectorOptions;
}

/**
 * Fit a text model on a catalog and embed every movie (rows in catalog order).
 * @example const { model, embeddings } = await fitTextEmbeddings(dataset.movies) // LSA-128
 */
export async function fitTextEmbeddings(
  movies: readonly Movie[],
  options: TextEmbeddingOptions = {},
): Promise<FittedText> {
  const { method = 'lsa' } = options;
  const docs = movies.map(movieTokens);
  if (method === 'lsa') return fitLsa(docs, options.lsa);
  if (method === 'sif') {
    const vectors =
      options.glovePath !== undefined
        ? await loadGloveFile(options.glovePath, { only: new Set(docs.flat()) })
        : trainWordVectors(
            [...(options.corpus ?? []).map((text) => tokenize(text)), ...docs],
            options.wordVectors,
          );
    return fitSif(docs, vectors, options.sif);
  }
  throw new ReelrankError(
    'bad_input',
    `text method '${String(method)}' is unknown. Allowed: ${TEXT_METHODS.join(', ')}`,
  );
}
