/**
 * Similar-movie quality, content/visual cold-start value and poster-embedding throughput.
 *   npm run bench -- similarity [--quick]
 * Writes bench/results/similarity.json, bench/results/map-posters.svg and bench/results/map-text.svg.
 *
 * Data (from ../shared/data, never from the repo except ml-latest-small): ml-100k ratings + the
 * 1,663 real posters in ml-100k-posters (+ overviews/keywords for the 499 movies in tmdb-5000);
 * ml-latest-small (9,742 movies) for the all-catalog text embedding and the text map.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import type { Movie } from '../shared/catalog.ts';
import { embedMovies, parseTextModel, serializeTextModel } from '../shared/content/text-model.ts';
import { movieTokens, tokenize } from '../shared/content/tokenize.ts';
import { createRng, shuffleInPlace } from '../shared/random.ts';
import { selectBackend } from '../train/backend.ts';
import type { Dataset } from '../train/data/dataset.ts';
import { Ials } from '../train/models/ials.ts';
import { IALS_DEFAULTS } from '../train/models/registry.ts';
import { fitLsa } from '../train/content/lsa.ts';
import { fitSif } from '../train/content/sif.ts';
import { loadDataset } from '../train/data/index.ts';
import { IssueLog } from '../train/data/issues.ts';
import { loadTmdbMovies } from '../train/data/tmdb.ts';
import { trainWordVectors } from '../train/content/word-vectors.ts';
import {
  blendNeighbors,
  channelNeighbors,
  DEFAULT_BLEND,
  type EmbeddingChannel,
  type NeighborTable,
} from '../train/similar/neighbors.ts';
import {
  coRatingLiftAt,
  fitRidge,
  genreOverlapAt,
  meanUserAuc,
  predictRidge,
} from '../train/similar/quality.ts';
import {
  AUTOENCODER_INPUT,
  embedWithAutoencoder,
  trainPosterAutoencoder,
} from '../train/visual/autoencoder.ts';
import { embedPosters, loadPosterCnn, type PosterEmbeddings } from '../train/visual/cnn.ts';
import { decodeImage, resizeBilinearToUnitRange } from '../train/visual/image.ts';
import { pca, tsne } from '../train/viz/project.ts';
import { primaryGenres, scatterSvg } from '../train/viz/svg.ts';

const quick = process.argv.includes('--quick');
const root = resolve(import.meta.dirname, '..');
const shared = process.env.REELRANK_SHARED_DATA ?? resolve(root, '../shared/data');
const outDir = join(root, 'bench/results');
mkdirSync(outDir, { recursive: true });
const log = (...args: unknown[]) =>
  console.log(`[similarity ${((performance.now() - started) / 1000).toFixed(1)}s]`, ...args);
const started = performance.now();
const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// ---------------------------------------------------------------- collaborative factors (bench-local)
/** Biased MF by SGD over (user, item, rating) rows: enough to get item factors for the bench. */
function trainMf(
  user: Uint32Array,
  item: Uint32Array,
  rating: Float32Array,
  rows: ArrayLike<number>,
  users: number,
  items: number,
  k = 32,
  epochs = 25,
  seed = 1,
) {
  const rng = createRng(seed);
  const p = Float32Array.from({ length: users * k }, () => rng.normal() * 0.1);
  const q = Float32Array.from({ length: items * k }, () => rng.normal() * 0.1);
  const bu = new Float32Array(users);
  const bi = new Float32Array(items);
  let mu = 0;
  for (let n = 0; n < rows.length; n++) mu += rating[rows[n]!]!;
  mu /= rows.length;
  const order = Uint32Array.from(rows as ArrayLike<number>);
  const lr = 0.01;
  const reg = 0.05;
  for (let e = 0; e < epochs; e++) {
    shuffleInPlace(order, rng);
    for (let n = 0; n < order.length; n++) {
      const r = order[n]!;
      const u = user[r]!;
      const i = item[r]!;
      let pred = mu + bu[u]! + bi[i]!;
      for (let f = 0; f < k; f++) pred += p[u * k + f]! * q[i * k + f]!;
      const err = rating[r]! - pred;
      bu[u] = bu[u]! + lr * (err - reg * bu[u]!);
      bi[i] = bi[i]! + lr * (err - reg * bi[i]!);
      for (let f = 0; f < k; f++) {
        const pu = p[u * k + f]!;
        const qi = q[i * k + f]!;
        p[u * k + f] = pu + lr * (err * qi - reg * pu);
        q[i * k + f] = qi + lr * (err * pu - reg * qi);
      }
    }
  }
  return { p, q, bu, bi, mu, k };
}

// ---------------------------------------------------------------- data
log('loading ml-100k, posters, tmdb-5000');
const ml100k = join(shared, 'ml-100k');
const posterDir = join(shared, 'ml-100k-posters');
const tmdbDir = join(shared, 'tmdb-5000');
// The posters folder's links.csv gives the ml-100k movies their TMDB ids (499 are in tmdb-5000).
const ml100kData = await loadDataset(ml100k, { posters: posterDir, tmdb: tmdbDir });
const movies: Movie[] = ml100kData.movies;
const ratings = {
  user: ml100kData.ratings.userIndex,
  item: ml100kData.ratings.itemIndex,
  rating: ml100kData.ratings.rating,
  users: ml100kData.userIds.length,
};
const items = movies.length;
const genres = movies.map((m) => m.genres);
const withOverview = movies.filter((m) => m.overview !== '').length;
log(
  `${items} movies, ${movies.filter((m) => m.posterPath).length} with posters, ${withOverview} with a TMDB overview, ${ratings.user.length} ratings`,
);

// ---------------------------------------------------------------- text
log('text: LSA on ml-100k movies');
const textDim = 64;
const lsa = fitLsa(movies.map(movieTokens), { dim: textDim });
const textChannel: EmbeddingChannel = { name: 'content', vectors: lsa.embeddings, dim: lsa.model.dim };
log('text: SIF with word vectors pretrained on the TMDB overviews');
const tmdbOverviews = (await loadTmdbMovies(tmdbDir, new IssueLog())).map((m) => tokenize(m.overview));
const wvStart = performance.now();
const wordVectors = trainWordVectors([...tmdbOverviews, ...movies.map(movieTokens)], {
  dim: 64,
  epochs: quick ? 1 : 5,
});
const wordVectorSeconds = (performance.now() - wvStart) / 1000;
const sif = fitSif(movies.map(movieTokens), wordVectors);
const sifChannel: EmbeddingChannel = { name: 'content-sif', vectors: sif.embeddings, dim: sif.model.dim };

log('text: all 9,742 ml-latest-small movies (LSA-128), save/load round trip');
const latest = (await loadDataset(join(root, 'data/ml-latest-small'), { tmdb: tmdbDir })).movies;
const tLatest = performance.now();
const latestLsa = fitLsa(latest.map(movieTokens), { dim: 128 });
const latestFitSeconds = (performance.now() - tLatest) / 1000;
const modelJson = serializeTextModel(latestLsa.model);
const tApply = performance.now();
const reembedded = embedMovies(parseTextModel(modelJson), latest);
const applySeconds = (performance.now() - tApply) / 1000;
let maxRoundTripError = 0;
for (let i = 0; i < reembedded.length; i++)
  maxRoundTripError = Math.max(maxRoundTripError, Math.abs(reembedded[i]! - latestLsa.embeddings[i]!));
const latestNeighbors = channelNeighbors(
  { name: 'content', vectors: latestLsa.embeddings, dim: latestLsa.model.dim },
  { k: 10 },
);
const latestOverlap = genreOverlapAt(
  latestNeighbors,
  latest.map((m) => m.genres),
  10,
);

// ---------------------------------------------------------------- visual
const backend = await selectBackend({ backend: 'auto' });
log(`visual: MobileNet v1 0.25 on the ${backend.name} backend`);
const cnn = await loadPosterCnn();
const posterPaths = movies.map((m) => m.posterPath);
const tPosters = performance.now();
const batchRates: number[] = [];
let lastBatch = { at: tPosters, done: 0 };
const visual: PosterEmbeddings = await embedPosters(
  cnn,
  quick ? posterPaths.map((p, i) => (i < 200 ? p : null)) : posterPaths,
  {
    batchSize: 32,
    onProgress: (done, total) => {
      const now = performance.now();
      batchRates.push(((done - lastBatch.done) / (now - lastBatch.at)) * 1000);
      lastBatch = { at: now, done };
      if (done % 320 === 0 || done === total) log(`  posters ${done}/${total}`);
    },
  },
);
const posterSeconds = (performance.now() - tPosters) / 1000;
const posterCount = visual.mask.reduce((s, v) => s + v, 0);
const visualChannel: EmbeddingChannel = {
  name: 'visual',
  vectors: visual.embeddings,
  dim: visual.dim,
  mask: visual.mask,
};
// The pure-JS cpu backend on a small sample, in the same run, for the ratio.
const cpuSample = posterPaths.filter((p): p is string => p !== null).slice(0, 24);
await selectBackend({ backend: 'cpu' });
const cpuCnn = await loadPosterCnn();
await embedPosters(cpuCnn, cpuSample.slice(0, 2));
const cpuRates: number[] = [];
for (let rep = 0; rep < 3; rep++) {
  const tCpu = performance.now();
  await embedPosters(cpuCnn, cpuSample.slice(rep * 8, rep * 8 + 8), { batchSize: 8 });
  cpuRates.push(8 / ((performance.now() - tCpu) / 1000));
}
const cpuImagesPerSecond = median(cpuRates);
await selectBackend({ backend: backend.name });

// ---------------------------------------------------------------- autoencoder alternative
log(
  `visual alternative: patchify-conv autoencoder trained on the posters themselves (64x64, ${backend.name})`,
);
const aeRows: number[] = [];
const aeImages: Float32Array[] = [];
posterPaths.forEach((p, i) => {
  if (p === null || visual.mask[i] === 0) return;
  aeRows.push(i);
  aeImages.push(resizeBilinearToUnitRange(decodeImage(readFileSync(p), p), AUTOENCODER_INPUT));
});
const aeEpochs = quick ? 2 : 8;
const aeDim = 64;
const aeLosses: number[] = [];
const tAe = performance.now();
const autoencoder = await trainPosterAutoencoder(aeImages, {
  dim: aeDim,
  epochs: aeEpochs,
  onEpoch: (epoch, loss) => {
    aeLosses.push(round(loss));
    log(`  epoch ${epoch + 1}/${aeEpochs}: reconstruction MSE ${loss.toFixed(4)}`);
  },
});
const aeTrainSeconds = (performance.now() - tAe) / 1000;
const aeCodes = embedWithAutoencoder(autoencoder, aeImages);
const aeEmbeddings = new Float32Array(items * aeDim);
const aeMask = new Uint8Array(items);
aeRows.forEach((i, n) => {
  aeEmbeddings.set(aeCodes.subarray(n * aeDim, (n + 1) * aeDim), i * aeDim);
  aeMask[i] = 1;
});
const aeChannel: EmbeddingChannel = {
  name: 'visual-autoencoder',
  vectors: aeEmbeddings,
  dim: aeDim,
  mask: aeMask,
};
// Pixel-variance baseline for the reconstruction error: predicting every pixel's mean.
let pixelVariance = 0;
{
  const px = aeImages[0]!.length;
  const mean = new Float64Array(px);
  for (const img of aeImages) for (let j = 0; j < px; j++) mean[j] = mean[j]! + img[j]! / aeImages.length;
  for (const img of aeImages)
    for (let j = 0; j < px; j++) pixelVariance += (img[j]! - mean[j]!) ** 2 / (px * aeImages.length);
}

// ---------------------------------------------------------------- collaborative + neighbour quality
log('collaborative: biased MF (k=32) on a random 80% of the ratings; co-ratings measured on the other 20%');
const rng = createRng(2024);
const ratingOrder = shuffleInPlace(
  Uint32Array.from({ length: ratings.user.length }, (_, i) => i),
  rng,
);
const trainRows = ratingOrder.subarray(0, Math.floor(ratingOrder.length * 0.8));
const heldRows = ratingOrder.subarray(trainRows.length);
const mf = trainMf(
  ratings.user,
  ratings.item,
  ratings.rating,
  trainRows,
  ratings.users,
  items,
  32,
  quick ? 5 : 25,
);
const trainCount = new Uint32Array(items);
for (const r of trainRows) trainCount[ratings.item[r]!]!++;
const collabChannel: EmbeddingChannel = {
  name: 'collaborative',
  vectors: mf.q,
  dim: mf.k,
  mask: Uint8Array.from(trainCount, (c) => (c >= 5 ? 1 : 0)),
};
// The ranking factors a version exports (implicit ALS, production settings) on the same 80%:
// they answer by=collaborative when a version has them.
log('collaborative-ials: implicit ALS (registry defaults) on the same 80%');
const ratingsDataset: Dataset = {
  name: 'ml-100k',
  format: 'ml-100k',
  source: ml100k,
  ratings: {
    length: ratings.user.length,
    userIndex: ratings.user,
    itemIndex: ratings.item,
    rating: ratings.rating,
    timestamp: new Uint32Array(ratings.user.length),
  },
  userIds: Uint32Array.from({ length: ratings.users }, (_, u) => u + 1),
  movies,
  ratingScale: { min: 1, max: 5, step: 1 },
  syntheticRatings: false,
  officialSplits: {},
  summary: { skippedRows: 0, issues: [] },
};
const ials = new Ials(IALS_DEFAULTS);
await ials.fit({ dataset: ratingsDataset, train: Uint32Array.from(trainRows), seed: 0 });
const ialsChannel: EmbeddingChannel = {
  name: 'collaborative-ials',
  vectors: ials.itemFactors,
  dim: IALS_DEFAULTS.factors,
  mask: collabChannel.mask!,
};
const likedBy = (rows: ArrayLike<number>) => {
  const lists: number[][] = Array.from({ length: items }, () => []);
  for (let n = 0; n < rows.length; n++) {
    const r = rows[n]!;
    if (ratings.rating[r]! >= 4) lists[ratings.item[r]!]!.push(ratings.user[r]!);
  }
  return lists.map((l) => Uint32Array.from(l).sort());
};
const heldLikedBy = likedBy(heldRows);

log('neighbours (top-50) per channel and blend');
const tables: Record<string, NeighborTable> = {};
const tNeighbors = performance.now();
for (const channel of [textChannel, sifChannel, visualChannel, aeChannel, collabChannel, ialsChannel])
  tables[channel.name] = channelNeighbors(channel, { k: 50 });
const neighborSeconds = (performance.now() - tNeighbors) / 1000;
tables.blend = blendNeighbors(
  [
    { ...textChannel, weight: DEFAULT_BLEND.content },
    { ...visualChannel, weight: DEFAULT_BLEND.visual },
    { ...collabChannel, weight: DEFAULT_BLEND.collaborative },
  ],
  items,
  { k: 50 },
);
const quality: Record<string, unknown> = {};
for (const [name, table] of Object.entries(tables)) {
  const g = genreOverlapAt(table, genres, 10);
  const c = coRatingLiftAt(table, heldLikedBy, 10);
  quality[name] = {
    genreJaccardAt10: round(g.jaccard),
    shareSharingAGenreAt10: round(g.shareAny),
    randomJaccard: round(g.randomJaccard),
    randomShareSharingAGenre: round(g.randomShareAny),
    moviesWithList: g.movies,
    coRatingRateAt10: round(c.neighbourRate),
    coRatingRandomRate: round(c.randomRate),
    coRatingLiftAt10: round(c.lift, 3),
    moviesScoredForCoRating: c.movies,
  };
  log(
    `  ${name}: jaccard@10 ${round(g.jaccard, 3)} (random ${round(g.randomJaccard, 3)}), co-rating lift@10 ${round(c.lift, 2)}`,
  );
}

// ---------------------------------------------------------------- cold start
log('cold start: 20% of movies held out; their factors predicted from content by ridge regression');
const genreList = [...new Set(genres.flat())].sort();
const genreFeatures = new Float32Array(items * genreList.length);
movies.forEach((m, i) => {
  for (const g of m.genres) genreFeatures[i * genreList.length + genreList.indexOf(g)] = 1;
});
/** Visual features: the 256-d embedding (zeros without a poster) + a has-poster flag. */
const visualFeatures = new Float32Array(items * (visual.dim + 1));
for (let i = 0; i < items; i++) {
  visualFeatures.set(visual.embeddings.subarray(i * visual.dim, (i + 1) * visual.dim), i * (visual.dim + 1));
  visualFeatures[i * (visual.dim + 1) + visual.dim] = visual.mask[i]!;
}
const concat = (...parts: { x: Float32Array; d: number }[]) => {
  const d = parts.reduce((s, p) => s + p.d, 0);
  const x = new Float32Array(items * d);
  for (let i = 0; i < items; i++) {
    let o = 0;
    for (const p of parts) {
      x.set(p.x.subarray(i * p.d, (i + 1) * p.d), i * d + o);
      o += p.d;
    }
  }
  return { x, d };
};
const G = { x: genreFeatures, d: genreList.length };
const T = { x: lsa.embeddings, d: lsa.model.dim };
const V = { x: visualFeatures, d: visual.dim + 1 };
const A = (() => {
  const x = new Float32Array(items * (aeDim + 1));
  for (let i = 0; i < items; i++) {
    x.set(aeEmbeddings.subarray(i * aeDim, (i + 1) * aeDim), i * (aeDim + 1));
    x[i * (aeDim + 1) + aeDim] = aeMask[i]!;
  }
  return { x, d: aeDim + 1 };
})();
const featureSets: Record<string, { x: Float32Array; d: number }> = {
  'popularity-only (intercept)': { x: new Float32Array(items), d: 1 },
  genres: G,
  text: T,
  visual: V,
  'text+visual': concat(T, V),
  'genres+visual': concat(G, V),
  'genres+text+visual': concat(G, T, V),
  'visual-autoencoder': A,
  'text+visual-autoencoder': concat(T, A),
};
/** z-score every feature column over all movies (unsupervised), so one lambda grid fits all sets. */
for (const fs of Object.values(featureSets)) {
  for (let j = 0; j < fs.d; j++) {
    let mean = 0;
    for (let i = 0; i < items; i++) mean += fs.x[i * fs.d + j]! / items;
    let sd = 0;
    for (let i = 0; i < items; i++) sd += (fs.x[i * fs.d + j]! - mean) ** 2 / items;
    sd = Math.sqrt(sd);
    for (let i = 0; i < items; i++) fs.x[i * fs.d + j] = sd > 0 ? (fs.x[i * fs.d + j]! - mean) / sd : 0;
  }
}
const seeds = quick ? [1] : [1, 2, 3];
const aucs: Record<string, number[]> = Object.fromEntries(Object.keys(featureSets).map((k) => [k, []]));
const likedAucs: Record<string, number[]> = Object.fromEntries(Object.keys(featureSets).map((k) => [k, []]));
const lambdas: Record<string, number[]> = Object.fromEntries(Object.keys(featureSets).map((k) => [k, []]));
let coldUsers = 0;
for (const seed of seeds) {
  const split = createRng(100 + seed);
  const order = shuffleInPlace(
    Uint32Array.from({ length: items }, (_, i) => i),
    split,
  );
  const isCold = new Uint8Array(items);
  for (const i of order.subarray(0, Math.floor(items * 0.2))) isCold[i] = 1;
  const warmRows: number[] = [];
  for (let r = 0; r < ratings.user.length; r++) if (!isCold[ratings.item[r]!]) warmRows.push(r);
  const f = trainMf(
    ratings.user,
    ratings.item,
    ratings.rating,
    warmRows,
    ratings.users,
    items,
    32,
    quick ? 5 : 25,
    seed,
  );
  const counts = new Uint32Array(items);
  for (const r of warmRows) counts[ratings.item[r]!]!++;
  // Ridge targets: [bias, factors] of warm movies with >= 5 ratings (fewer: the factors are noise).
  const t = f.k + 1;
  const targets = new Float32Array(items * t);
  const fitRows: number[] = [];
  for (let i = 0; i < items; i++) {
    targets[i * t] = f.bi[i]!;
    targets.set(f.q.subarray(i * f.k, (i + 1) * f.k), i * t + 1);
    if (!isCold[i] && counts[i]! >= 5) fitRows.push(i);
  }
  shuffleInPlace(fitRows, split);
  const validation = fitRows.slice(0, Math.floor(fitRows.length * 0.2));
  const fitting = fitRows.slice(validation.length);
  const positives: number[][] = Array.from({ length: ratings.users }, () => []);
  const disliked: number[][] = Array.from({ length: ratings.users }, () => []);
  const rated: Set<number>[] = Array.from({ length: ratings.users }, () => new Set());
  for (let r = 0; r < ratings.user.length; r++) {
    const i = ratings.item[r]!;
    if (!isCold[i]) continue;
    rated[ratings.user[r]!]!.add(i);
    if (ratings.rating[r]! >= 4) positives[ratings.user[r]!]!.push(i);
    else disliked[ratings.user[r]!]!.push(i);
  }
  const coldItems = [...order.subarray(0, Math.floor(items * 0.2))];
  const negatives = rated.map((s) => coldItems.filter((i) => !s.has(i)));
  for (const [name, fs] of Object.entries(featureSets)) {
    // lambda by validation MSE of the predicted [bias, factors] on held-out warm movies.
    let best = { lambda: 1, mse: Number.POSITIVE_INFINITY };
    for (const lambda of [1, 10, 100, 1000, 10_000, 100_000]) {
      const model = fitRidge(fs.x, fs.d, targets, t, fitting, lambda);
      const pred = predictRidge(model, fs.x);
      let mse = 0;
      for (const i of validation)
        for (let c = 0; c < t; c++) mse += (pred[i * t + c]! - targets[i * t + c]!) ** 2;
      if (mse < best.mse) best = { lambda, mse };
    }
    const model = fitRidge(fs.x, fs.d, targets, t, fitRows, best.lambda);
    const pred = predictRidge(model, fs.x);
    const score = (u: number, i: number) => {
      let s = pred[i * t]!;
      for (let c = 0; c < f.k; c++) s += f.p[u * f.k + c]! * pred[i * t + 1 + c]!;
      return s;
    };
    const { auc, users } = meanUserAuc(ratings.users, positives, negatives, score);
    aucs[name]!.push(auc);
    likedAucs[name]!.push(meanUserAuc(ratings.users, positives, disliked, score).auc);
    lambdas[name]!.push(best.lambda);
    coldUsers = users;
    log(
      `  seed ${seed} ${name}: AUC ${round(auc)}, liked-vs-disliked AUC ${round(likedAucs[name]!.at(-1)!)} (lambda ${best.lambda})`,
    );
  }
}
const meanSd = (xs: number[]) => {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(xs.length - 1, 1));
  return { mean: round(m), sd: round(sd), runs: xs.map((x) => round(x)) };
};
const coldStart = Object.fromEntries(
  Object.keys(featureSets).map((k) => [
    k,
    { auc: meanSd(aucs[k]!), likedVsDislikedAuc: meanSd(likedAucs[k]!), lambdas: lambdas[k] },
  ]),
);

// ---------------------------------------------------------------- maps
log('maps: t-SNE of poster embeddings (all posters) and of ml-latest-small text embeddings (3,000 sampled)');
const posterRows = [...visual.mask.keys()].filter((i) => visual.mask[i] === 1);
const posterMatrix = new Float32Array(posterRows.length * visual.dim);
posterRows.forEach((i, n) => {
  posterMatrix.set(visual.embeddings.subarray(i * visual.dim, (i + 1) * visual.dim), n * visual.dim);
});
const tMap = performance.now();
const posterMap = tsne(posterMatrix, posterRows.length, visual.dim, { iterations: quick ? 200 : 500 });
const posterMapSeconds = (performance.now() - tMap) / 1000;
{
  const { labels, legend } = primaryGenres(
    posterRows.map((i) => movies[i]!.genres),
    10,
  );
  writeFileSync(
    join(outDir, 'map-posters.svg'),
    scatterSvg(posterMap.points, labels, legend, {
      title: `ml-100k posters: MobileNet v1 0.25 embeddings (256-d), t-SNE`,
      subtitle: `${posterRows.length} real posters; colour = most specific of the movie's genres`,
    }),
  );
}
const textMap = tsne(latestLsa.embeddings, latest.length, latestLsa.model.dim, {
  maxPoints: quick ? 800 : 3000,
  iterations: quick ? 200 : 500,
});
{
  const { labels, legend } = primaryGenres(
    [...textMap.rows].map((i) => latest[i]!.genres),
    10,
  );
  writeFileSync(
    join(outDir, 'map-text.svg'),
    scatterSvg(textMap.points, labels, legend, {
      title:
        'ml-latest-small text embeddings (LSA-128 of title, genres, tags, TMDB overview/keywords), t-SNE',
      subtitle: `${textMap.rows.length} of ${latest.length} movies sampled; colour = most specific of the movie's genres`,
    }),
  );
}
const posterPca = pca(posterMatrix, posterRows.length, visual.dim, 2);

// ---------------------------------------------------------------- write
const result = {
  benchmark: 'similarity',
  quick,
  createdAt: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    node: process.version,
    tfjsBackend: backend.name,
    loadAverageAtEnd: loadavg().map((l) => round(l, 2)),
    note: "shared 2-core machine: other engineers' jobs ran concurrently, so timings are indicative (see loadAverageAtEnd)",
  },
  definitions: {
    genreJaccardAt10:
      'mean over movies (with genres and a non-empty list) and their top-10 neighbours of |G(i) ∩ G(j)| / |G(i) ∪ G(j)|; random* = same for uniformly random pairs',
    shareSharingAGenreAt10: 'share of (movie, top-10 neighbour) pairs with at least one genre in common',
    coRatingLiftAt10:
      'ml-100k, ratings split 80/20 at random: collaborative factors use the 80%, co-ratings are counted on the held-out 20%. For each movie i with >= 5 held-out users rating it >= 4: mean over its top-10 neighbours j of |liked(i) ∩ liked(j)| / |liked(i)|, divided by the same mean over random movies j',
    coldStartAuc:
      'ml-100k: 20% of movies held out (cold). Biased MF (k=32, SGD 25 epochs) on the ratings of warm movies only. Ridge regression from content features to [item bias, item factors] fitted on warm movies with >= 5 ratings (feature columns z-scored; lambda from {1..1e5} by validation MSE on 20% of them). For each user: positives = cold movies they rated >= 4, negatives = cold movies they did not rate; AUC of b_j + p_u . q_j (ties 1/2), averaged over users; mean and sd over seeds. likedVsDislikedAuc: same scores, negatives = cold movies the user rated < 4 (preference among watched movies, without the which-movies-get-watched signal). popularity-only = intercept only: every cold movie gets the same score, AUC 0.5 by construction',
    channels:
      'content = LSA-64 of title, genres, TMDB overview and keywords (499 ml-100k movies have TMDB text); content-sif = SIF over 64-d SGNS word vectors pretrained on the 4,803 TMDB overviews + the catalog tokens; visual = MobileNet v1 0.25 global_average_pooling2d_1 (256-d), movies without a poster have no vector; visual-autoencoder = 64-d code of the poster autoencoder trained here; collaborative = MF item factors (movies with >= 5 training ratings); blend = weights ' +
      JSON.stringify(DEFAULT_BLEND) +
      ' over per-query z-scored channel similarities; a channel the candidate lacks (no poster, < 5 ratings) scores at its mean (z = 0, the neutral policy of shared/kernels/similarity.ts)',
    caveat: 'the content channel includes genre tokens, so its genre overlap is partly by construction',
  },
  text: {
    mlLatestSmall: {
      movies: latest.length,
      embedded: latestLsa.embeddings.length / latestLsa.model.dim,
      dim: latestLsa.model.dim,
      vocabulary: latestLsa.model.vocabulary.length,
      withTmdbOverview: latest.filter((m) => m.overview !== '').length,
      fitSeconds: round(latestFitSeconds, 2),
      applySecondsAllMovies: round(applySeconds, 2),
      textModelJsonBytes: modelJson.length,
      maxAbsErrorAfterSaveLoad: maxRoundTripError,
      genreOverlapAt10: {
        jaccard: round(latestOverlap.jaccard),
        random: round(latestOverlap.randomJaccard),
        shareAny: round(latestOverlap.shareAny),
        randomShareAny: round(latestOverlap.randomShareAny),
      },
    },
    ml100k: {
      lsaDim: lsa.model.dim,
      lsaVocabulary: lsa.model.vocabulary.length,
      sifVocabulary: sif.model.vocabulary.length,
      wordVectorWords: wordVectors.vocabulary.length,
      wordVectorTrainSeconds: round(wordVectorSeconds, 1),
      withTmdbOverview: withOverview,
    },
  },
  visual: {
    posters: posterCount,
    moviesWithoutPoster: items - posterCount,
    model: 'MobileNet v1 0.25 224 (ImageNet), layer global_average_pooling2d_1',
    backend: backend.name,
    secondsAllPosters: round(posterSeconds, 1),
    imagesPerSecond: round(posterCount / posterSeconds, 2),
    medianBatchImagesPerSecond: round(median(batchRates), 2),
    imagesPerSecondNote: 'end to end: read + JPEG decode + bilinear resize + CNN, batches of 32',
    cpuBackendImagesPerSecond: round(cpuImagesPerSecond, 2),
    cpuBackendSample: '3 batches of 8 posters, median',
    speedupOverCpuBackend: round(median(batchRates) / cpuImagesPerSecond, 2),
    posterPcaFirstTwoStd: [0, 1].map((c) =>
      round(
        Math.sqrt(posterRows.reduce((s, _, n) => s + posterPca[n * 2 + c]! ** 2, 0) / posterRows.length),
        3,
      ),
    ),
  },
  visualAutoencoder: {
    architecture:
      '64x64x3 -> 4 x (2x2 stride-2 conv = space-to-depth + dense) 16/32/64/64 -> dense 64 code -> mirror with depth-to-space, tanh output',
    posters: aeImages.length,
    dim: aeDim,
    epochs: aeEpochs,
    backend: backend.name,
    trainSeconds: round(aeTrainSeconds, 1),
    secondsPerEpoch: round(aeTrainSeconds / aeEpochs, 2),
    reconstructionMsePerEpoch: aeLosses,
    pixelVarianceBaseline: round(pixelVariance),
    note: 'bench only; compare its rows in neighbors.quality and coldStart with the MobileNet ones',
  },
  neighbors: { k: 50, movies: items, secondsFiveChannels: round(neighborSeconds, 2), quality },
  coldStart: { coldShare: 0.2, seeds, usersScored: coldUsers, featureSets: coldStart },
  maps: {
    posters: 'map-posters.svg',
    text: 'map-text.svg',
    method: 't-SNE (exact gradient, perplexity 30, PCA-50 first)',
    posterMapSeconds: round(posterMapSeconds, 1),
  },
  timing: {
    totalSeconds: round((performance.now() - started) / 1000, 1),
    medianNote: 'single run per figure except cold-start AUC (seeds)',
  },
};
writeFileSync(join(outDir, 'similarity.json'), `${JSON.stringify(result, null, 2)}\n`);
log(`wrote ${join(outDir, 'similarity.json')}`);
