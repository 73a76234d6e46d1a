import type { Movie } from '../../../shared/catalog.ts';
import { tokenize } from '../../../shared/content/tokenize.ts';
import { ReelrankError } from '../../../shared/errors.ts';
import type { Rng } from '../../../shared/random.ts';
import { trainWordVectors, type WordVectorOptions, type WordVectors } from '../../content/word-vectors.ts';
import { SparseTable } from './sparse.ts';
import {
  type InputPart,
  type PartContext,
  RatingTowerModel,
  type RatingTowerOptions,
  tablePart,
} from './rating-tower.ts';

/**
 * Title embeddings (reference 001): the mean of a movie's title word vectors, next to user-id and
 * movie-id embeddings, through a small dense tower to a rating. Three variants:
 * - `learned`: word vectors start random and are trained with the model;
 * - `frozen`: pretrained vectors (a GloVe file, or vectors pretrained on TMDB overviews by
 *   train/content/word-vectors.ts) that never move;
 * - `finetuned`: the same pretrained vectors as a starting point, then trained.
 */
export type TitleVariant = 'learned' | 'frozen' | 'finetuned';
export const TITLE_VARIANTS: readonly TitleVariant[] = Object.freeze(['learned', 'frozen', 'finetuned']);

export interface TitleEmbeddingOptions extends RatingTowerOptions {
  variant?: TitleVariant;
  /**
   * For `frozen` and `finetuned`: word vectors (a GloVe file, or vectors pretrained on TMDB
   * overviews), or 'catalog-overviews' (default) to pretrain skip-gram vectors at fit time on the
   * overviews of the dataset's own catalog (needs a catalog joined with TMDB text).
   */
  pretrained?: WordVectors | 'catalog-overviews';
  /** Options of the skip-gram pretraining for 'catalog-overviews'. */
  pretraining?: WordVectorOptions;
  /** Word vector size for `learned` (the pretrained size otherwise). Default 50. */
  wordDim?: number;
  userDim?: number;
  movieDim?: number;
  embeddingLearningRate?: number;
  l2?: number;
}

/** Token ids of every catalog title, as CSR (offsets per item into `tokens`). */
export interface TitleTokens {
  vocabulary: string[];
  offsets: Uint32Array;
  tokens: Uint32Array;
}

/** Tokenise titles (the content module's tokenizer, stop words kept: titles are short). */
export function titleTokens(titles: readonly string[]): TitleTokens {
  const index = new Map<string, number>();
  const vocabulary: string[] = [];
  const offsets = new Uint32Array(titles.length + 1);
  const tokens: number[] = [];
  titles.forEach((title, item) => {
    for (const word of tokenize(title, { dropStopWords: false, minLength: 1 })) {
      let id = index.get(word);
      if (id === undefined) {
        id = vocabulary.length;
        index.set(word, id);
        vocabulary.push(word);
      }
      tokens.push(id);
    }
    offsets[item + 1] = tokens.length;
  });
  return { vocabulary, offsets, tokens: Uint32Array.from(tokens) };
}

/**
 * Initial word matrix for `vocabulary`: the pretrained vector where the word has one; otherwise
 * random N(0, 0.05²) (trainable variants) or zeros (frozen: an unknown word contributes nothing).
 */
export function initialWordMatrix(
  vocabulary: readonly string[],
  dim: number,
  pretrained: WordVectors | undefined,
  randomForUnknown: boolean,
  rng: Rng,
): { matrix: Float32Array; covered: number } {
  const matrix = new Float32Array(vocabulary.length * dim);
  const pretrainedIndex = new Map<string, number>();
  pretrained?.vocabulary.forEach((w, i) => {
    pretrainedIndex.set(w, i);
  });
  let covered = 0;
  vocabulary.forEach((word, row) => {
    const source = pretrainedIndex.get(word);
    if (pretrained && source !== undefined) {
      matrix.set(pretrained.vectors.subarray(source * dim, source * dim + dim), row * dim);
      covered++;
    } else if (randomForUnknown) {
      for (let j = 0; j < dim; j++) matrix[row * dim + j] = rng.normal() * 0.05;
    }
  });
  return { matrix, covered };
}

/** Mean-pooled title words: gather averages the rows; scatter hands each word grad/length. */
export function titlePart(table: SparseTable, titles: TitleTokens): InputPart {
  const dim = table.dim;
  let wordRows = new Uint32Array(0);
  let wordGrads = new Float32Array(0);
  return {
    name: 'title',
    width: dim,
    by: 'item',
    table,
    gather: (_users, items, out, stride, offset) => {
      const { values } = table;
      for (let b = 0; b < items.length; b++) {
        const start = titles.offsets[items[b]!]!;
        const end = titles.offsets[items[b]! + 1]!;
        const dst = b * stride + offset;
        out.fill(0, dst, dst + dim);
        if (end === start) continue;
        const inv = 1 / (end - start);
        for (let t = start; t < end; t++) {
          const src = titles.tokens[t]! * dim;
          for (let j = 0; j < dim; j++) out[dst + j]! += values[src + j]! * inv;
        }
      }
    },
    scatter: (_users, items, grad, stride, offset) => {
      if (table.frozen) return;
      let count = 0;
      for (let b = 0; b < items.length; b++)
        count += titles.offsets[items[b]! + 1]! - titles.offsets[items[b]!]!;
      if (wordRows.length < count) {
        wordRows = new Uint32Array(count);
        wordGrads = new Float32Array(count * dim);
      }
      let k = 0;
      for (let b = 0; b < items.length; b++) {
        const start = titles.offsets[items[b]!]!;
        const end = titles.offsets[items[b]! + 1]!;
        const inv = 1 / Math.max(1, end - start);
        for (let t = start; t < end; t++, k++) {
          wordRows[k] = titles.tokens[t]!;
          const src = b * stride + offset;
          for (let j = 0; j < dim; j++) wordGrads[k * dim + j] = grad[src + j]! * inv;
        }
      }
      table.applyGradients(wordRows.subarray(0, count), wordGrads, dim, 0);
    },
  };
}

export class TitleEmbeddingRecommender extends RatingTowerModel {
  readonly name: string;
  private readonly title: TitleEmbeddingOptions & { variant: TitleVariant };
  private coverage: { words: number; pretrained: number } | null = null;
  private words: { vocabulary: string[]; table: SparseTable } | null = null;

  constructor(options: TitleEmbeddingOptions = {}) {
    super({
      hidden: [
        { units: 64, dropout: 0.2 },
        { units: 32, dropout: 0.2 },
      ],
      epochs: 10,
      ...options,
    });
    const variant = options.variant ?? 'learned';
    if (!TITLE_VARIANTS.includes(variant)) {
      throw new ReelrankError(
        'bad_input',
        `title-embedding variant '${variant}' is not one of: ${TITLE_VARIANTS.join(', ')}`,
      );
    }
    this.title = { pretrained: 'catalog-overviews', ...options, variant };
    this.name = `title-${variant}`;
  }

  protected buildParts({ dataset, rows, rng }: PartContext): InputPart[] {
    const { variant, userDim = 32, movieDim = 32, embeddingLearningRate = 1e-3, l2 = 0 } = this.title;
    const pretrained = variant === 'learned' ? undefined : this.pretrainedVectors(dataset.movies, rng);
    const dim = pretrained ? pretrained.dim : (this.title.wordDim ?? 50);
    const titles = titleTokens(dataset.movies.map((m) => m.title));
    const { matrix, covered } = initialWordMatrix(
      titles.vocabulary,
      dim,
      pretrained,
      variant !== 'frozen',
      rng,
    );
    this.coverage = { words: titles.vocabulary.length, pretrained: covered };
    const words = new SparseTable({
      rows: titles.vocabulary.length,
      dim,
      initial: matrix,
      learningRate: embeddingLearningRate,
      frozen: variant === 'frozen',
    });
    this.words = { vocabulary: titles.vocabulary, table: words };
    const table = (count: number, d: number) =>
      new SparseTable({ rows: count, dim: d, rng, initStd: 0.05, learningRate: embeddingLearningRate, l2 });
    return [
      tablePart('user', table(rows.users, userDim), 'user'),
      tablePart('movie', table(rows.items, movieDim), 'item'),
      titlePart(words, titles),
    ];
  }

  private pretrainedVectors(movies: readonly Movie[], rng: Rng): WordVectors {
    const { pretrained, variant } = this.title;
    if (pretrained && pretrained !== 'catalog-overviews') return pretrained;
    const corpus = movies.map((m) => tokenize(m.overview)).filter((doc) => doc.length > 0);
    if (corpus.length === 0) {
      throw new ReelrankError(
        'bad_input',
        `title-embedding variant '${variant}' needs pretrained word vectors: give a GloVe file, or a catalog joined with TMDB overviews to pretrain on (this catalog has no overview text)`,
      );
    }
    return trainWordVectors(corpus, {
      dim: 50,
      epochs: 5,
      seed: rng.int(2 ** 31),
      ...this.title.pretraining,
    });
  }

  /** The title word vectors after training (row-major, `dim` columns), with their vocabulary. */
  get wordVectors(): WordVectors {
    if (!this.words) throw new ReelrankError('not_trained', `model '${this.name}' is used before fit()`);
    const { vocabulary, table } = this.words;
    return { vocabulary, dim: table.dim, vectors: table.values, counts: new Float64Array(vocabulary.length) };
  }

  protected override fitNotes(): Record<string, unknown> {
    return {
      variant: this.title.variant,
      titleVocabulary: this.coverage?.words,
      pretrainedCoverage: this.coverage?.pretrained,
    };
  }
}
