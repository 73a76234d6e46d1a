import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { movieRecord } from '../../../shared/catalog.ts';
import { base64ToFloat32, float32ToBase64 } from '../../../shared/content/base64.ts';
import {
  embedMovies,
  parseTextModel,
  serializeTextModel,
  textModelEncoder,
} from '../../../shared/content/text-model.ts';
import { movieTokens, phraseToken, tokenize } from '../../../shared/content/tokenize.ts';
import { fitLsa } from '../../../train/content/lsa.ts';
import { fitSif } from '../../../train/content/sif.ts';
import { truncatedSvd } from '../../../train/content/svd.ts';
import { fitVocabulary, tfidfMatrix, tfidfModel } from '../../../train/content/tfidf.ts';
import { loadGloveFile, trainWordVectors } from '../../../train/content/word-vectors.ts';
import { loadDataset } from '../../../train/data/index.ts';
import { createRng } from '../../../shared/random.ts';
import { describeWithData, REPO_ROOT } from '../../support/data.ts';

const movie = movieRecord;

/** Row r of a row-major [rows, dim] array. */
const row = (m: Float32Array, dim: number, r: number) => Array.from(m.subarray(r * dim, (r + 1) * dim));

describe('tokenize', () => {
  it('lower-cases, strips accents and apostrophes, drops stop words and 1-char tokens', () => {
    expect(tokenize("The Amélie's Café: a Don't-Stop Night, 2001!")).toEqual([
      'amelies',
      'cafe',
      'dont',
      'stop',
      'night',
      '2001',
    ]);
    expect(tokenize('')).toEqual([]);
    expect(tokenize('I, a, the', { dropStopWords: false, minLength: 1 })).toEqual(['i', 'a', 'the']);
  });

  it('keeps a multi-word name as one prefixed token', () => {
    expect(phraseToken('cast', 'Tom Hanks')).toBe('cast_tom_hanks');
    expect(phraseToken('director', 'Pedro Almodóvar')).toBe('director_pedro_almodovar');
    expect(phraseToken('genre', '  ')).toBeNull();
  });

  it('combines title, genres, overview, keywords, tags, top-3 cast and director', () => {
    const tokens = movieTokens(
      movie({
        movieId: 1,
        title: 'Toy Story',
        genres: ['Animation', 'Sci-Fi', '(no genres listed)'],
        overview: 'Toys come alive.',
        keywords: ['jealousy'],
        tags: ['pixar'],
        cast: ['Tom Hanks', 'Tim Allen', 'Don Rickles', 'Jim Varney'],
        director: 'John Lasseter',
      }),
    );
    expect(tokens).toEqual([
      'toy',
      'story',
      'genre_animation',
      'genre_sci_fi',
      'toys',
      'come',
      'alive',
      'jealousy',
      'pixar',
      'cast_tom_hanks',
      'cast_tim_allen',
      'cast_don_rickles',
      'director_john_lasseter',
    ]);
  });
});

describe('tf-idf', () => {
  // 3 documents; n = 3. df(cat) = 2, df(dog) = 2, df(fish) = 1.
  const docs = [
    ['cat', 'dog'],
    ['cat', 'cat'],
    ['dog', 'fish'],
  ];

  it('computes smoothed idf = ln((1+n)/(1+df)) + 1 and orders terms by df then name', () => {
    const vocab = fitVocabulary(docs, { minDf: 1 });
    expect(vocab.terms).toEqual(['cat', 'dog', 'fish']);
    expect(Array.from(vocab.df)).toEqual([2, 2, 1]);
    expect(vocab.idf[0]).toBeCloseTo(Math.log(4 / 3) + 1, 6);
    expect(vocab.idf[2]).toBeCloseTo(Math.log(2) + 1, 6);
    expect(fitVocabulary(docs, { minDf: 2 }).terms).toEqual(['cat', 'dog']);
    expect(fitVocabulary(docs, { minDf: 1, maxFeatures: 1 }).terms).toEqual(['cat']);
    expect(() => fitVocabulary(docs, { minDf: 9 })).toThrow(/minDf=9/);
  });

  it('weights sublinear tf x idf, L2-normalised per document', () => {
    const model = tfidfModel(fitVocabulary(docs, { minDf: 1 }), true);
    const x = tfidfMatrix(docs, model);
    const idfCat = Math.log(4 / 3) + 1;
    const idfFish = Math.log(2) + 1;
    // doc 1: cat with tf 2 -> (1 + ln 2) * idf, alone in its row -> normalised to 1.
    expect(Array.from(x.indices.subarray(x.indptr[1]!, x.indptr[2]!))).toEqual([0]);
    expect(x.values[x.indptr[1]!]).toBeCloseTo(1, 12);
    // doc 2: dog (idf = idfCat) and fish.
    const norm = Math.hypot(idfCat, idfFish);
    expect(x.values[x.indptr[2]!]).toBeCloseTo(idfCat / norm, 6);
    expect(x.values[x.indptr[2]! + 1]).toBeCloseTo(idfFish / norm, 6);
  });
});

describe('LSA', () => {
  it('matches a hand-computed SVD: docs "cat dog", "cat", "dog"', () => {
    // Equal idf, so the normalised tf-idf rows are [1/√2, 1/√2], [1, 0], [0, 1].
    // XᵀX = [[1.5, .5], [.5, 1.5]]: eigenvalues 2 and 1 with vectors [1,1]/√2 and [1,-1]/√2,
    // so σ = √2, 1 and the embeddings x·V (normalised) are [1,0], [1/√2, 1/√2], [1/√2, -1/√2].
    const { model, embeddings, spectrum } = fitLsa([['cat', 'dog'], ['cat'], ['dog']], { minDf: 1, dim: 2 });
    expect(model.vocabulary).toEqual(['cat', 'dog']);
    expect(spectrum[0]).toBeCloseTo(Math.SQRT2, 6);
    expect(spectrum[1]).toBeCloseTo(1, 6);
    const h = Math.SQRT1_2;
    expect(Array.from(model.projection)).toEqual([
      expect.closeTo(h, 6),
      expect.closeTo(h, 6),
      expect.closeTo(h, 6),
      expect.closeTo(-h, 6),
    ]);
    expect(row(embeddings, 2, 0)).toEqual([expect.closeTo(1, 6), expect.closeTo(0, 6)]);
    expect(row(embeddings, 2, 1)).toEqual([expect.closeTo(h, 6), expect.closeTo(h, 6)]);
    expect(row(embeddings, 2, 2)).toEqual([expect.closeTo(h, 6), expect.closeTo(-h, 6)]);
  });

  it('randomized SVD recovers the exact spectrum of a random low-rank matrix', () => {
    // X = A Bᵀ with A [40, 5], B [30, 5]: rank 5, so σ6.. are 0 and XᵀX v = σ² v holds for the top 5.
    const rng = createRng(3);
    const rows = 40;
    const cols = 30;
    const a = Float64Array.from({ length: rows * 5 }, () => rng.normal());
    const b = Float64Array.from({ length: cols * 5 }, () => rng.normal());
    const indptr = new Uint32Array(rows + 1);
    const indices = new Uint32Array(rows * cols);
    const values = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      indptr[r + 1] = (r + 1) * cols;
      for (let c = 0; c < cols; c++) {
        indices[r * cols + c] = c;
        let s = 0;
        for (let t = 0; t < 5; t++) s += a[r * 5 + t]! * b[c * 5 + t]!;
        values[r * cols + c] = s;
      }
    }
    const svd = truncatedSvd({ rows, cols, indptr, indices, values }, 6, { seed: 1 });
    expect(svd.singularValues[5]).toBeLessThan(1e-6);
    for (let k = 0; k < 5; k++) {
      // ‖X v_k‖ = σ_k
      let sq = 0;
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let c = 0; c < cols; c++) s += values[r * cols + c]! * svd.rightVectors[c * 6 + k]!;
        sq += s * s;
      }
      expect(Math.sqrt(sq)).toBeCloseTo(svd.singularValues[k]!, 6);
    }
  });

  it('is deterministic, and a reloaded model embeds a new movie like the training code (within 1e-6)', () => {
    const movies = [
      movie({
        movieId: 1,
        title: 'Alien',
        genres: ['Horror', 'Sci-Fi'],
        overview: 'A crew meets an alien in space.',
        director: 'Ridley Scott',
      }),
      movie({
        movieId: 2,
        title: 'Aliens',
        genres: ['Action', 'Sci-Fi'],
        overview: 'Marines fight aliens in space.',
        director: 'James Cameron',
      }),
      movie({
        movieId: 3,
        title: 'Notting Hill',
        genres: ['Comedy', 'Romance'],
        overview: 'A bookshop owner falls in love.',
        cast: ['Hugh Grant'],
      }),
      movie({
        movieId: 4,
        title: 'Love Actually',
        genres: ['Comedy', 'Romance'],
        overview: 'Love stories in London.',
        cast: ['Hugh Grant'],
      }),
      movie({
        movieId: 5,
        title: 'Titanic',
        genres: ['Drama', 'Romance'],
        overview: 'Love on a ship.',
        director: 'James Cameron',
      }),
    ];
    const docs = movies.map(movieTokens);
    const first = fitLsa(docs, { minDf: 1, dim: 3 });
    const second = fitLsa(docs, { minDf: 1, dim: 3 });
    expect(second.embeddings).toEqual(first.embeddings);
    expect(serializeTextModel(second.model)).toBe(serializeTextModel(first.model));

    const reloaded = parseTextModel(serializeTextModel(first.model));
    expect(reloaded.vocabulary).toEqual(first.model.vocabulary);
    const again = embedMovies(reloaded, movies);
    for (let i = 0; i < again.length; i++)
      expect(Math.abs(again[i]! - first.embeddings[i]!)).toBeLessThanOrEqual(1e-6);
    // A movie not in training: the edge (reloaded model) and the trainer (fitted model) agree.
    const added = movie({
      movieId: 9,
      title: 'Alien Love',
      genres: ['Sci-Fi', 'Romance'],
      overview: 'An alien falls in love.',
    });
    const atTrain = embedMovies(first.model, [added]);
    const atEdge = embedMovies(reloaded, [added]);
    expect(atEdge.length).toBe(3);
    for (let j = 0; j < 3; j++) expect(Math.abs(atEdge[j]! - atTrain[j]!)).toBeLessThanOrEqual(1e-6);
    expect(Math.hypot(...atEdge)).toBeCloseTo(1, 5);
    // Words unknown to the model give the zero vector, not a made-up one.
    expect(Array.from(embedMovies(reloaded, [movie({ movieId: 10, title: 'Zzz Qqq' })]))).toEqual([0, 0, 0]);
  });

  it('rejects a corrupt text model naming the field', () => {
    const { model } = fitLsa([['cat', 'dog'], ['cat'], ['dog']], { minDf: 1, dim: 2 });
    const json = JSON.parse(serializeTextModel(model)) as Record<string, unknown>;
    expect(() => parseTextModel({ ...json, kind: 'bert' })).toThrow(
      /kind is "bert", expected "lsa" or "sif"/,
    );
    expect(() => parseTextModel({ ...json, projection: float32ToBase64(new Float32Array(3)) })).toThrow(
      /projection: holds 3 float32 values, expected 4/,
    );
    expect(() => parseTextModel({ ...json, tokenizer: 'other' })).toThrow(/tokenizer/);
  });

  it('round-trips float32 through base64 bit-for-bit', () => {
    const values = Float32Array.of(0, -0, 1.5, -3.25e-20, Number.MAX_VALUE, Math.PI, Number.NaN);
    const back = base64ToFloat32(float32ToBase64(values), 7);
    expect(new Uint8Array(back.buffer)).toEqual(new Uint8Array(values.buffer));
    expect(float32ToBase64(Float32Array.of(1))).toBe('AACAPw==');
  });
});

describe('word vectors and SIF', () => {
  it('SGNS training is deterministic and puts co-occurring words closer than unrelated ones', () => {
    const corpus: string[][] = [];
    const rng = createRng(5);
    for (let i = 0; i < 300; i++) {
      corpus.push(
        rng.next() < 0.5
          ? ['space', 'alien', 'ship', 'planet', 'crew']
          : ['love', 'wedding', 'romance', 'kiss', 'heart'],
      );
    }
    const opts = { dim: 16, epochs: 3, minCount: 1, subsample: 0 };
    const a = trainWordVectors(corpus, opts);
    const b = trainWordVectors(corpus, opts);
    expect(b.vectors).toEqual(a.vectors);
    const vec = (w: string) =>
      a.vectors.subarray(a.vocabulary.indexOf(w) * 16, (a.vocabulary.indexOf(w) + 1) * 16);
    const cos = (x: Float32Array, y: Float32Array) => {
      let d = 0;
      let nx = 0;
      let ny = 0;
      for (let j = 0; j < 16; j++) {
        d += x[j]! * y[j]!;
        nx += x[j]! ** 2;
        ny += y[j]! ** 2;
      }
      return d / Math.sqrt(nx * ny);
    };
    expect(cos(vec('alien'), vec('planet'))).toBeGreaterThan(cos(vec('alien'), vec('wedding')) + 0.3);
  });

  it('loads a GloVe file and reports a malformed line with file and line number', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glove-'));
    const good = join(dir, 'good.txt');
    writeFileSync(good, 'cat 1 0 0\ndog 0 1 0\n\ncat 9 9 9\nfish 0 0.5 -2\n');
    const glove = await loadGloveFile(good);
    expect(glove.vocabulary).toEqual(['cat', 'dog', 'fish']);
    expect(glove.dim).toBe(3);
    expect(Array.from(glove.vectors)).toEqual([1, 0, 0, 0, 1, 0, 0, 0.5, -2]);
    expect((await loadGloveFile(good, { maxWords: 1 })).vocabulary).toEqual(['cat']);
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, 'cat 1 0 0\ndog 0 1\n');
    await expect(loadGloveFile(bad)).rejects.toThrow(/bad\.txt:2: word "dog" has 2 values, expected 3/);
  });

  it('SIF weights a/(a+p(w)), removes the first component, and round-trips', () => {
    const vectors = {
      vocabulary: ['cat', 'dog', 'fish'],
      dim: 2,
      vectors: Float32Array.of(1, 0, 0, 1, 1, 1),
      counts: new Float64Array(3),
    };
    const docs = [
      ['cat', 'cat', 'dog'],
      ['fish', 'unknown'],
    ];
    const a = 0.5;
    const { model, embeddings } = fitSif(docs, vectors, { a, removeComponent: false });
    // p(cat) = 2/5, p(dog) = 1/5, p(fish) = 1/5 (the unknown token counts in the total).
    expect(model.vocabulary).toEqual(['cat', 'dog', 'fish']);
    expect(model.termWeights[0]).toBeCloseTo(a / (a + 0.4), 6);
    expect(model.termWeights[1]).toBeCloseTo(a / (a + 0.2), 6);
    // doc 0 = (2 * w_cat * [1,0] + w_dog * [0,1]) / 3, then normalised.
    const raw = [(2 * a) / (a + 0.4), a / (a + 0.2)];
    const n = Math.hypot(raw[0]!, raw[1]!);
    expect(row(embeddings, 2, 0)).toEqual([expect.closeTo(raw[0]! / n, 6), expect.closeTo(raw[1]! / n, 6)]);
    const removed = fitSif(docs, vectors, { a });
    expect(removed.model.removedComponent).not.toBeNull();
    const reloaded = parseTextModel(serializeTextModel(removed.model));
    const again = embedMovies(reloaded, [movie({ movieId: 1, title: 'cat cat dog' })]);
    for (let j = 0; j < 2; j++)
      expect(Math.abs(again[j]! - removed.embeddings[j]!)).toBeLessThanOrEqual(1e-6);
  });
});

describeWithData(['ml-latest-small', 'tmdb-5000'], 'text embeddings of all ml-latest-small movies', () => {
  it('embeds all 9,742 movies with LSA; neighbours share genres far above chance', async () => {
    const { movies } = await loadDataset(join(REPO_ROOT, 'data/ml-latest-small'), {
      tmdb: join(REPO_ROOT, '../shared/data/tmdb-5000'),
    });
    expect(movies.length).toBe(9742);
    const { model, embeddings } = fitLsa(movies.map(movieTokens), { dim: 64, powerIterations: 2 });
    const encoded = await textModelEncoder(parseTextModel(serializeTextModel(model))).encode(
      movies.slice(0, 50),
    );
    for (let i = 0; i < encoded.length; i++)
      expect(Math.abs(encoded[i]! - embeddings[i]!)).toBeLessThanOrEqual(1e-6);
    // Genre agreement of each movie's nearest neighbour vs random pairs, on 300 sampled movies.
    const dim = model.dim;
    const rng = createRng(1);
    let nearShare = 0;
    let randomShare = 0;
    const shares = (i: number, j: number) =>
      movies[i]!.genres.some((g) => movies[j]!.genres.includes(g)) ? 1 : 0;
    for (let s = 0; s < 300; s++) {
      const i = rng.int(movies.length);
      let best = -1;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < movies.length; j++) {
        if (j === i) continue;
        let d = 0;
        for (let t = 0; t < dim; t++) d += embeddings[i * dim + t]! * embeddings[j * dim + t]!;
        if (d > bestScore) {
          bestScore = d;
          best = j;
        }
      }
      nearShare += shares(i, best);
      randomShare += shares(i, rng.int(movies.length));
    }
    expect(nearShare / 300).toBeGreaterThan(randomShare / 300 + 0.2);
  });
});
