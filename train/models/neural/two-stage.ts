import { ReelrankError } from '../../../shared/errors.ts';
import { createRng, type Rng } from '../../../shared/random.ts';
import type { Movie } from '../../../shared/catalog.ts';
import { clampInPlace, gatherRows, medianRowsPerUser, type TrainingRows } from '../interactions.ts';
import type { EpochLog, FactorExport, FactorRecommender, FitReport, TrainContext } from '../types.ts';
import { earlyStoppingCarve, permutation } from './batches.ts';
import { SparseTable } from './sparse.ts';

/**
 * Two-stage embeddings (reference 002).
 * Stage 1: movie and genre embeddings learned by binary classification — does movie m have genre
 * g? — on every (movie, genre) pair plus sampled negative genres, logistic loss on m·g.
 * Stage 2: a user–movie rating model, r = mean + b_u + b_m + u·m, whose movie vectors start from
 * stage 1 (`init: 'genre'`) or at random (`init: 'random'`, the comparison).
 * Both stages are dot products over embedding tables, so both are typed-array code (lazy Adam);
 * no dense tower is involved.
 */
export interface TwoStageOptions {
  init?: 'genre' | 'random';
  dim?: number;
  /** Stage 1: passes over the (movie, genre) pairs and negatives per positive. */
  genreEpochs?: number;
  genreNegatives?: number;
  genreLearningRate?: number;
  /** Stage 2. */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  l2?: number;
  /**
   * Early stopping on validation RMSE: the context's `validation` rows, else a seeded random
   * `validationFraction` of the training rows carved out. Stops after `patience` epochs without
   * improvement and keeps the best epoch's tables. 0 = off (default).
   */
  patience?: number;
  validationFraction?: number;
}

export interface GenreEmbeddings {
  genres: string[];
  dim: number;
  /** Movie vectors, rows in catalog order. */
  movies: Float32Array;
  /** Genre vectors, rows in `genres` order. */
  genreVectors: Float32Array;
  /** Mean logistic loss per stage-1 epoch. */
  losses: number[];
}

/** The catalog's genre vocabulary (sorted) and each movie's genre ids. */
export function movieGenres(movies: readonly Movie[]): {
  genres: string[];
  offsets: Uint32Array;
  ids: Uint32Array;
} {
  const genres = [...new Set(movies.flatMap((m) => m.genres))].sort();
  const index = new Map(genres.map((g, i) => [g, i]));
  const offsets = new Uint32Array(movies.length + 1);
  const ids: number[] = [];
  movies.forEach((m, i) => {
    for (const g of m.genres) ids.push(index.get(g)!);
    offsets[i + 1] = ids.length;
  });
  return { genres, offsets, ids: Uint32Array.from(ids) };
}

/**
 * Stage 1: learn movie and genre vectors so that sigmoid(m·g) says whether the movie has the genre.
 * @example const stage1 = learnGenreEmbeddings(dataset.movies, { dim: 32 }, createRng(0))
 */
export function learnGenreEmbeddings(
  movies: readonly Movie[],
  { dim = 32, genreEpochs = 30, genreNegatives = 4, genreLearningRate = 0.01 }: TwoStageOptions,
  rng: Rng,
): GenreEmbeddings {
  const { genres, offsets, ids } = movieGenres(movies);
  if (genres.length < 2) {
    throw new ReelrankError(
      'bad_input',
      `two-stage embeddings need at least 2 genres in the catalog; found ${genres.length}`,
    );
  }
  const movieTable = new SparseTable({
    rows: movies.length,
    dim,
    rng,
    initStd: 0.1,
    learningRate: genreLearningRate,
  });
  const genreTable = new SparseTable({
    rows: genres.length,
    dim,
    rng,
    initStd: 0.1,
    learningRate: genreLearningRate,
  });
  const positives = ids.length;
  const movieOfPair = new Uint32Array(positives);
  for (let m = 0; m < movies.length; m++) movieOfPair.fill(m, offsets[m]!, offsets[m + 1]!);
  const perPositive = 1 + genreNegatives;
  const total = positives * perPositive;
  const batch = 256;
  const pairMovies = new Uint32Array(batch);
  const pairGenres = new Uint32Array(batch);
  const movieGrad = new Float32Array(batch * dim);
  const genreGrad = new Float32Array(batch * dim);
  const losses: number[] = [];
  for (let epoch = 0; epoch < genreEpochs; epoch++) {
    const order = permutation(total, rng);
    let lossSum = 0;
    for (let start = 0; start < total; start += batch) {
      const size = Math.min(batch, total - start);
      for (let b = 0; b < size; b++) {
        const example = order[start + b]!;
        const pair = Math.floor(example / perPositive);
        const movie = movieOfPair[pair]!;
        pairMovies[b] = movie;
        const positive = example % perPositive === 0;
        pairGenres[b] = positive
          ? ids[pair]!
          : sampleOtherGenre(ids, offsets[movie]!, offsets[movie + 1]!, genres.length, rng);
        lossSum += logisticPairGradient(
          movieTable.values,
          genreTable.values,
          dim,
          movie,
          pairGenres[b]!,
          positive ? 1 : 0,
          movieGrad,
          genreGrad,
          b,
        );
      }
      movieTable.applyGradients(pairMovies.subarray(0, size), movieGrad, dim, 0);
      genreTable.applyGradients(pairGenres.subarray(0, size), genreGrad, dim, 0);
    }
    losses.push(lossSum / total);
  }
  return { genres, dim, movies: movieTable.values, genreVectors: genreTable.values, losses };
}

/** A genre the movie does not have (uniform; any genre if the movie has them all). */
function sampleOtherGenre(
  ids: Uint32Array,
  start: number,
  end: number,
  genreCount: number,
  rng: Rng,
): number {
  for (let attempt = 0; attempt < 50; attempt++) {
    const g = rng.int(genreCount);
    let owned = false;
    for (let k = start; k < end; k++) if (ids[k] === g) owned = true;
    if (!owned) return g;
  }
  return rng.int(genreCount);
}

/**
 * Logistic loss of sigmoid(m·g) against `label`, writing d/dm and d/dg into row `b` of the
 * gradient buffers. Returns the loss.
 */
export function logisticPairGradient(
  movies: Float32Array,
  genres: Float32Array,
  dim: number,
  movie: number,
  genre: number,
  label: number,
  movieGrad: Float32Array,
  genreGrad: Float32Array,
  b: number,
): number {
  const mb = movie * dim;
  const gb = genre * dim;
  let dot = 0;
  for (let j = 0; j < dim; j++) dot += movies[mb + j]! * genres[gb + j]!;
  const p = 1 / (1 + Math.exp(-dot));
  const g = p - label;
  for (let j = 0; j < dim; j++) {
    movieGrad[b * dim + j] = g * genres[gb + j]!;
    genreGrad[b * dim + j] = g * movies[mb + j]!;
  }
  // log(1 + e^-|x|) form keeps the loss finite for large |dot|.
  const z = label === 1 ? dot : -dot;
  return Math.max(-z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

export class TwoStageRecommender implements FactorRecommender {
  readonly name: string;
  readonly predictsRatings = true;
  readonly options: Required<TwoStageOptions>;
  /** Stage-1 result of the last fit (for the report's PCA/t-SNE maps); null for random init. */
  genreEmbeddings: GenreEmbeddings | null = null;
  private state: {
    users: SparseTable;
    movies: SparseTable;
    userBias: SparseTable;
    movieBias: SparseTable;
    mean: number;
    rows: TrainingRows;
    scale: { min: number; max: number };
  } | null = null;

  constructor(options: TwoStageOptions = {}) {
    this.options = {
      init: 'genre',
      dim: 32,
      genreEpochs: 30,
      genreNegatives: 4,
      genreLearningRate: 0.01,
      epochs: 20,
      batchSize: 256,
      learningRate: 3e-3,
      l2: 0.05,
      patience: 0,
      validationFraction: 0.05,
      ...options,
    };
    if (this.options.init !== 'genre' && this.options.init !== 'random') {
      throw new ReelrankError(
        'bad_input',
        `two-stage init '${this.options.init}' is not one of: genre, random`,
      );
    }
    this.name = this.options.init === 'genre' ? 'two-stage' : 'two-stage(random-init)';
  }

  async fit(context: TrainContext): Promise<FitReport> {
    const started = performance.now();
    const o = this.options;
    const carve = o.patience > 0 && !context.validation;
    const { train: trainIndexes, validation: validationIndexes } = earlyStoppingCarve(
      context,
      o.patience,
      o.validationFraction,
    );
    const rows = gatherRows(context.dataset, trainIndexes);
    const rng = createRng(context.seed);
    this.genreEmbeddings = o.init === 'genre' ? learnGenreEmbeddings(context.dataset.movies, o, rng) : null;
    const table = (count: number, dim: number, initStd: number, initial?: Float32Array) =>
      new SparseTable({ rows: count, dim, rng, initStd, initial, learningRate: o.learningRate, l2: o.l2 });
    const users = table(rows.users, o.dim, 0.01);
    const movies = this.genreEmbeddings
      ? table(rows.items, o.dim, 0, this.genreEmbeddings.movies)
      : table(rows.items, o.dim, 0.1);
    const userBias = table(rows.users, 1, 0);
    const movieBias = table(rows.items, 1, 0);
    const { min, max } = context.dataset.ratingScale;
    this.state = { users, movies, userBias, movieBias, mean: rows.mean, rows, scale: { min, max } };

    const validation = validationIndexes ? gatherRows(context.dataset, validationIndexes) : null;
    const tables = [users, movies, userBias, movieBias];
    let best: { rmse: number; epoch: number; values: Float32Array[] } | null = null;
    const dim = o.dim;
    const batchUsers = new Uint32Array(o.batchSize);
    const batchMovies = new Uint32Array(o.batchSize);
    const userGrad = new Float32Array(o.batchSize * dim);
    const movieGrad = new Float32Array(o.batchSize * dim);
    const errors = new Float32Array(o.batchSize);
    const epochs: EpochLog[] = [];
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const epochStart = performance.now();
      const order = permutation(rows.length, rng);
      let se = 0;
      for (let start = 0; start < rows.length; start += o.batchSize) {
        const size = Math.min(o.batchSize, rows.length - start);
        for (let b = 0; b < size; b++) {
          const r = order[start + b]!;
          const u = rows.user[r]!;
          const m = rows.item[r]!;
          batchUsers[b] = u;
          batchMovies[b] = m;
          const error = this.score(u, m) - rows.rating[r]!;
          se += error * error;
          errors[b] = error;
          // d(½e²)/du = e·m, d/dm = e·u; the bias gradients are e.
          for (let j = 0; j < dim; j++) {
            userGrad[b * dim + j] = error * movies.values[m * dim + j]!;
            movieGrad[b * dim + j] = error * users.values[u * dim + j]!;
          }
        }
        const u = batchUsers.subarray(0, size);
        const m = batchMovies.subarray(0, size);
        users.applyGradients(u, userGrad, dim, 0);
        movies.applyGradients(m, movieGrad, dim, 0);
        userBias.applyGradients(u, errors, 1, 0);
        movieBias.applyGradients(m, errors, 1, 0);
      }
      const log: EpochLog = { epoch, trainLoss: se / rows.length, seconds: 0 };
      if (validation) {
        const predicted = this.predict(validation.user, validation.item);
        let vse = 0;
        for (let j = 0; j < validation.length; j++) vse += (predicted[j]! - validation.rating[j]!) ** 2;
        log.validationRmse = Math.sqrt(vse / validation.length);
      }
      log.seconds = (performance.now() - epochStart) / 1000;
      epochs.push(log);
      context.onEpoch?.(log);
      if (o.patience > 0 && log.validationRmse !== undefined) {
        if (!best || log.validationRmse < best.rmse) {
          best = { rmse: log.validationRmse, epoch, values: tables.map((t) => t.values.slice()) };
        } else if (epoch - best.epoch >= o.patience) {
          break;
        }
      }
    }
    if (best) {
      const kept = best;
      tables.forEach((t, k) => {
        t.values.set(kept.values[k]!);
      });
    }
    return {
      epochs,
      seconds: (performance.now() - started) / 1000,
      notes: {
        ...(best ? { bestEpoch: best.epoch, bestValidationRmse: best.rmse, validationCarved: carve } : {}),
        init: o.init,
        genreLosses: this.genreEmbeddings?.losses,
        genres: this.genreEmbeddings?.genres.length,
      },
    };
  }

  private score(user: number, movie: number): number {
    const { users, movies, userBias, movieBias, mean } = this.trained();
    const dim = users.dim;
    let dot = 0;
    for (let j = 0; j < dim; j++) dot += users.values[user * dim + j]! * movies.values[movie * dim + j]!;
    return mean + userBias.values[user]! + movieBias.values[movie]! + dot;
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const { scale } = this.trained();
    const out = new Float32Array(userIndex.length);
    for (let j = 0; j < out.length; j++) out[j] = this.score(userIndex[j]!, itemIndex[j]!);
    return clampInPlace(out, scale.min, scale.max);
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.score(userIndex, i);
  }

  /**
   * The model is r̂ = mean + b_u + b_i + p_u·q_i already: its tables are the factor export, so
   * `reelrank train --model two-stage` writes an ordinary factor version the edge serves.
   */
  exportFactors(): FactorExport {
    const { users, movies, userBias, movieBias, mean, rows } = this.trained();
    return {
      factors: users.dim,
      mean,
      userFactors: users.values.slice(),
      itemFactors: movies.values.slice(),
      userBias: userBias.values.slice(),
      itemBias: movieBias.values.slice(),
      // The lazy-Adam L2 is added once per rating of a row, so a user's ridge weight grows with
      // their rating count: the typical user's is l2 x the median count (as mf.ts does).
      foldInLambda: Math.max(1, this.options.l2 * medianRowsPerUser(rows)),
    };
  }

  /** Movie vectors after stage 2 (rows in catalog order), for export and similar-movie lists. */
  get movieVectors(): Float32Array {
    return this.trained().movies.values;
  }

  private trained() {
    if (!this.state) throw new ReelrankError('not_trained', `model '${this.name}' is used before fit()`);
    return this.state;
  }
}
