/**
 * Word vectors for SIF text embeddings (and for title embeddings elsewhere): either loaded from a
 * user-supplied GloVe-format text file, or pretrained here by skip-gram with negative sampling
 * (Mikolov et al. 2013) over a tokenised corpus, e.g. the TMDB overviews. Everything is typed
 * arrays; no tfjs (an embedding table cannot be trained by tfjs on CPU, see DESIGN.md).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ReelrankError } from '../../shared/errors.ts';
import { createRng, type Rng } from '../../shared/random.ts';

/** A vocabulary with one dense vector per word, row-major [vocabulary.length, dim]. */
export interface WordVectors {
  vocabulary: string[];
  dim: number;
  vectors: Float32Array;
  /** Corpus frequency of each word (0 when unknown, e.g. for a GloVe file). */
  counts: Float64Array;
}

export interface WordVectorOptions {
  /** Vector size (default 100). */
  dim?: number;
  /** Maximum distance between centre and context word (default 5; the actual window is sampled in 1..window). */
  window?: number;
  /** Negative samples per positive pair (default 5). */
  negative?: number;
  /** Passes over the corpus (default 5). */
  epochs?: number;
  /** Words seen fewer times are dropped (default 2). */
  minCount?: number;
  /** Initial learning rate, decayed linearly to 1e-4 of it (default 0.025). */
  learningRate?: number;
  /** Frequent-word subsampling threshold t of word2vec (default 1e-3; 0 disables). */
  subsample?: number;
  seed?: number;
}

/** Index of each word of a vocabulary. */
export function wordIndex(vectors: WordVectors): Map<string, number> {
  const index = new Map<string, number>();
  vectors.vocabulary.forEach((w, i) => {
    index.set(w, i);
  });
  return index;
}

const UNIGRAM_TABLE_SIZE = 1 << 20;

/**
 * The negative-sampling table: word i appears in proportion to count^0.75 (word2vec's choice,
 * which samples rare words more often than their raw frequency).
 */
function unigramTable(counts: Float64Array): Uint32Array {
  const table = new Uint32Array(UNIGRAM_TABLE_SIZE);
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]! ** 0.75;
  let word = 0;
  let cumulative = counts.length > 0 ? counts[0]! ** 0.75 / total : 1;
  for (let slot = 0; slot < UNIGRAM_TABLE_SIZE; slot++) {
    table[slot] = word;
    if ((slot + 1) / UNIGRAM_TABLE_SIZE > cumulative && word < counts.length - 1) {
      word++;
      cumulative += counts[word]! ** 0.75 / total;
    }
  }
  return table;
}

/**
 * One SGNS step for a (centre, target) pair with label 1 (true context) or 0 (negative sample):
 * g = lr * (label - sigmoid(in . out)); accumulates g * out into `centreGrad` and moves `out`.
 */
export function sgnsPairStep(
  inVectors: Float32Array,
  outVectors: Float32Array,
  dim: number,
  centre: number,
  target: number,
  label: number,
  learningRate: number,
  centreGrad: Float32Array,
): void {
  const inBase = centre * dim;
  const outBase = target * dim;
  let dot = 0;
  for (let j = 0; j < dim; j++) dot += inVectors[inBase + j]! * outVectors[outBase + j]!;
  // Clamp as word2vec does: beyond |6| the sigmoid is saturated and exp() only adds noise.
  const sigmoid = dot > 6 ? 1 : dot < -6 ? 0 : 1 / (1 + Math.exp(-dot));
  const g = learningRate * (label - sigmoid);
  for (let j = 0; j < dim; j++) {
    centreGrad[j] = centreGrad[j]! + g * outVectors[outBase + j]!;
    outVectors[outBase + j] = outVectors[outBase + j]! + g * inVectors[inBase + j]!;
  }
}

/**
 * Pretrain word vectors on a tokenised corpus by skip-gram with negative sampling.
 * Deterministic for a given corpus, options and seed (single-threaded, seeded RNG).
 * Returns the input ("centre") vectors, the usual choice for downstream use.
 * @example trainWordVectors([tokenize(overview1), tokenize(overview2)], { dim: 50, epochs: 3 })
 */
export function trainWordVectors(
  corpus: readonly (readonly string[])[],
  options: WordVectorOptions = {},
): WordVectors {
  const {
    dim = 100,
    window = 5,
    negative = 5,
    epochs = 5,
    minCount = 2,
    learningRate = 0.025,
    subsample = 1e-3,
    seed = 42,
  } = options;
  for (const [name, value] of Object.entries({ dim, window, epochs, minCount })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new ReelrankError('bad_input', `word vectors: ${name} must be a positive integer, got ${value}`);
    }
  }
  if (!Number.isInteger(negative) || negative < 0) {
    throw new ReelrankError('bad_input', `word vectors: negative must be an integer >= 0, got ${negative}`);
  }

  // Vocabulary: frequency-sorted (ties by word) so the result does not depend on corpus order quirks.
  const rawCounts = new Map<string, number>();
  for (const doc of corpus) for (const w of doc) rawCounts.set(w, (rawCounts.get(w) ?? 0) + 1);
  const kept = [...rawCounts.entries()]
    .filter(([, c]) => c >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const vocabulary = kept.map(([w]) => w);
  const counts = Float64Array.from(kept, ([, c]) => c);
  const index = new Map<string, number>();
  vocabulary.forEach((w, i) => {
    index.set(w, i);
  });
  const vocabSize = vocabulary.length;
  if (vocabSize === 0) {
    throw new ReelrankError(
      'bad_input',
      `word vectors: no word occurs at least minCount=${minCount} times in the corpus of ${corpus.length} documents`,
    );
  }

  // Corpus as one flat index array with document offsets (no per-token objects).
  let totalTokens = 0;
  for (const doc of corpus) for (const w of doc) if (index.has(w)) totalTokens++;
  const tokens = new Uint32Array(totalTokens);
  const docStart = new Uint32Array(corpus.length + 1);
  let pos = 0;
  corpus.forEach((doc, d) => {
    docStart[d] = pos;
    for (const w of doc) {
      const i = index.get(w);
      if (i !== undefined) tokens[pos++] = i;
    }
  });
  docStart[corpus.length] = pos;

  // Keep-probability per word for subsampling of frequent words (word2vec formula).
  const keepProbability = new Float64Array(vocabSize).fill(1);
  if (subsample > 0) {
    for (let i = 0; i < vocabSize; i++) {
      const f = counts[i]! / totalTokens;
      keepProbability[i] = Math.min(1, (Math.sqrt(f / subsample) + 1) * (subsample / f));
    }
  }

  const rng: Rng = createRng(seed);
  const inVectors = new Float32Array(vocabSize * dim);
  for (let i = 0; i < inVectors.length; i++) inVectors[i] = (rng.next() - 0.5) / dim;
  const outVectors = new Float32Array(vocabSize * dim); // zeros, as in word2vec
  const table = unigramTable(counts);
  const centreGrad = new Float32Array(dim);
  const sentence = new Uint32Array(Math.max(1, maxDocLength(docStart)));

  const totalSteps = epochs * totalTokens;
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let d = 0; d < corpus.length; d++) {
      // Subsample this document once per epoch.
      let length = 0;
      for (let p = docStart[d]!; p < docStart[d + 1]!; p++) {
        const w = tokens[p]!;
        if (keepProbability[w]! >= 1 || rng.next() < keepProbability[w]!) sentence[length++] = w;
      }
      for (let c = 0; c < length; c++) {
        step++;
        const lr = learningRate * Math.max(1e-4, 1 - step / (totalSteps + 1));
        const centre = sentence[c]!;
        const reach = 1 + rng.int(window);
        for (let o = Math.max(0, c - reach); o <= Math.min(length - 1, c + reach); o++) {
          if (o === c) continue;
          centreGrad.fill(0);
          sgnsPairStep(inVectors, outVectors, dim, centre, sentence[o]!, 1, lr, centreGrad);
          for (let n = 0; n < negative; n++) {
            const sample = table[rng.int(UNIGRAM_TABLE_SIZE)]!;
            if (sample === sentence[o]) continue;
            sgnsPairStep(inVectors, outVectors, dim, centre, sample, 0, lr, centreGrad);
          }
          const base = centre * dim;
          for (let j = 0; j < dim; j++) inVectors[base + j] = inVectors[base + j]! + centreGrad[j]!;
        }
      }
    }
  }
  return { vocabulary, dim, vectors: inVectors, counts };
}

function maxDocLength(docStart: Uint32Array): number {
  let max = 0;
  for (let d = 0; d + 1 < docStart.length; d++) max = Math.max(max, docStart[d + 1]! - docStart[d]!);
  return max;
}

export interface GloveOptions {
  /** Keep only the first N words of the file (GloVe files are frequency-sorted). */
  maxWords?: number;
  /** Keep only these words (e.g. the corpus vocabulary), to bound memory for large files. */
  only?: ReadonlySet<string>;
}

/**
 * Read a GloVe-format text file: one word per line followed by its space-separated floats, all
 * lines with the same number of values. Streams the file (GloVe 840B is 5 GB).
 * Throws naming the file and line for a malformed line or an inconsistent dimension.
 * @example const glove = await loadGloveFile('glove.6B.100d.txt', { maxWords: 100_000 })
 */
export async function loadGloveFile(
  path: string,
  { maxWords = Number.POSITIVE_INFINITY, only }: GloveOptions = {},
): Promise<WordVectors> {
  const vocabulary: string[] = [];
  const rows: Float32Array[] = [];
  const seen = new Set<string>();
  let dim = -1;
  let lineNo = 0;
  let read = 0;
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      if (read >= maxWords) break;
      read++;
      const parts = line.trimEnd().split(' ');
      const word = parts[0]!;
      const values = parts.length - 1;
      if (dim === -1) {
        if (values < 1)
          throw new ReelrankError(
            'bad_input',
            `${path}:${lineNo}: expected "word v1 v2 ...", got a line with no values`,
          );
        dim = values;
      } else if (values !== dim) {
        throw new ReelrankError(
          'bad_input',
          `${path}:${lineNo}: word "${word}" has ${values} values, expected ${dim} like the first line`,
        );
      }
      if (only !== undefined && !only.has(word)) continue;
      if (seen.has(word)) continue; // GloVe files occasionally repeat a token; keep the first (most frequent).
      const row = new Float32Array(dim);
      for (let j = 0; j < dim; j++) {
        const v = Number(parts[j + 1]);
        if (!Number.isFinite(v)) {
          throw new ReelrankError(
            'bad_input',
            `${path}:${lineNo}: word "${word}" value ${j + 1} is "${parts[j + 1]}", expected a finite number`,
          );
        }
        row[j] = v;
      }
      seen.add(word);
      vocabulary.push(word);
      rows.push(row);
    }
  } finally {
    lines.close();
  }
  if (dim === -1) throw new ReelrankError('bad_input', `${path}: no word vectors found (empty file)`);
  const vectors = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => {
    vectors.set(row, i * dim);
  });
  return { vocabulary, dim, vectors, counts: new Float64Array(vocabulary.length) };
}
