/**
 * A real small version for the edge tests and the latency bench: a quick biased-MF fit (plain SGD
 * over typed arrays) on real ratings, written with the artifact writer (train/artifacts) exactly
 * as training writes it, then laid out as a store (`versions/<v>/...` + `current.json`).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { MANIFEST_FILE, POINTER_KEY, versionKey } from '../../shared/artifacts/spec.ts';
import { sha256Hex } from '../../shared/hash.ts';
import { topK } from '../../shared/kernels/topk.ts';
import { createRng } from '../../shared/random.ts';
import type { ObjectInfo, ObjectStore } from '../../shared/store.ts';
import { VersionWriter } from '../../train/artifacts/writer.ts';
import type { Dataset } from '../../train/data/dataset.ts';
import type { RankFactorExport } from '../../train/models/ials.ts';
import { type RankingStage, writeRankingStage } from '../../train/pipeline/ranking-stage.ts';
import { catalogStats, writeCatalog } from '../../train/pipeline/version-parts.ts';

export interface FactorModel {
  globalMean: number;
  factors: number;
  itemFactors: Float32Array;
  userFactors: Float32Array;
  itemBias: Float32Array;
  userBias: Float32Array;
}

/** Biased MF by SGD (Funk): a few epochs, enough for a realistic model in well under a second. */
export function fitBiasedMf(
  dataset: Dataset,
  { factors = 32, epochs = 12, learningRate = 0.01, regularization = 0.05, seed = 1 } = {},
): FactorModel {
  const { ratings } = dataset;
  const users = dataset.userIds.length;
  const items = dataset.movies.length;
  const rng = createRng(seed);
  const userFactors = Float32Array.from({ length: users * factors }, () => rng.normal() * 0.1);
  const itemFactors = Float32Array.from({ length: items * factors }, () => rng.normal() * 0.1);
  const userBias = new Float32Array(users);
  const itemBias = new Float32Array(items);
  let sum = 0;
  for (let r = 0; r < ratings.length; r++) sum += ratings.rating[r]!;
  const globalMean = sum / ratings.length;
  const order = Uint32Array.from({ length: ratings.length }, (_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    for (let n = 0; n < order.length; n++) {
      const r = order[n]!;
      const u = ratings.userIndex[r]!;
      const it = ratings.itemIndex[r]!;
      const ub = u * factors;
      const ib = it * factors;
      let dot = 0;
      for (let f = 0; f < factors; f++) dot += userFactors[ub + f]! * itemFactors[ib + f]!;
      const err = ratings.rating[r]! - (globalMean + userBias[u]! + itemBias[it]! + dot);
      userBias[u] = userBias[u]! + learningRate * (err - regularization * userBias[u]!);
      itemBias[it] = itemBias[it]! + learningRate * (err - regularization * itemBias[it]!);
      for (let f = 0; f < factors; f++) {
        const pu = userFactors[ub + f]!;
        const qi = itemFactors[ib + f]!;
        userFactors[ub + f] = pu + learningRate * (err * qi - regularization * pu);
        itemFactors[ib + f] = qi + learningRate * (err * pu - regularization * qi);
      }
    }
  }
  return { globalMean, factors, itemFactors, userFactors, itemBias, userBias };
}

/** Trainer-side float32 prediction (no quantization), clamped to the scale. */
export function predictFloat(
  model: FactorModel,
  dataset: Dataset,
  userIndex: number,
  itemIndex: number,
): number {
  let dot = 0;
  for (let f = 0; f < model.factors; f++)
    dot +=
      model.userFactors[userIndex * model.factors + f]! * model.itemFactors[itemIndex * model.factors + f]!;
  const raw = model.globalMean + model.userBias[userIndex]! + model.itemBias[itemIndex]! + dot;
  return Math.min(dataset.ratingScale.max, Math.max(dataset.ratingScale.min, raw));
}

/** Genre multi-hot + release decade one-hot: a small real content embedding for the fixture. */
export function genreDecadeEmbeddings(dataset: Dataset): { data: Float32Array; dim: number } {
  const genres = [...new Set(dataset.movies.flatMap((m) => m.genres))].sort();
  const decades = 14; // 1880s .. 2010s
  const dim = genres.length + decades;
  const data = new Float32Array(dataset.movies.length * dim);
  dataset.movies.forEach((m, i) => {
    for (const g of m.genres) data[i * dim + genres.indexOf(g)] = 1;
    if (m.year !== null)
      data[i * dim + genres.length + Math.max(0, Math.min(decades - 1, Math.floor((m.year - 1880) / 10)))] =
        0.5;
  });
  return { data, dim };
}

/**
 * Top-`width` cosine neighbours of every row among the `candidates` rows (the most popular items):
 * real neighbour lists for the list-reading path at a fraction of the all-pairs cost.
 */
function cosineNeighbors(
  data: Float32Array,
  dim: number,
  width: number,
  candidates: Uint32Array,
): { ids: Uint32Array; scores: Float32Array } {
  const rows = data.length / dim;
  const unit = new Float32Array(data.length);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += data[i * dim + j]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) unit[i * dim + j] = data[i * dim + j]! * inv;
  }
  const ids = new Uint32Array(rows * width).fill(0xffffffff);
  const scores = new Float32Array(rows * width).fill(Number.NEGATIVE_INFINITY);
  const sims = new Float32Array(candidates.length);
  for (let i = 0; i < rows; i++) {
    for (let n = 0; n < candidates.length; n++) {
      const r = candidates[n]!;
      let s = 0;
      for (let j = 0; j < dim; j++) s += unit[i * dim + j]! * unit[r * dim + j]!;
      sims[n] = r === i ? Number.NEGATIVE_INFINITY : s;
    }
    const best = topK(sims, width);
    ids.set(
      best.indexes.map((n) => candidates[n]!),
      i * width,
    );
    scores.set(best.scores, i * width);
  }
  return { ids, scores };
}

export interface FixtureVersion {
  version: string;
  /** Store keys (versions/<v>/<path>, without the pointer) -> bytes. */
  files: Map<string, Uint8Array>;
  /** current.json bytes pointing at this version. */
  pointer: Uint8Array;
  model: FactorModel;
}

/** Writes a version of `model` with VersionWriter and returns its store objects. */
export async function writeFixtureVersion(
  dataset: Dataset,
  model: FactorModel,
  {
    version,
    contentNeighbors = true,
    previous = null,
    ranking = null,
    rankingStage = null,
    catalogLayout = 'columns',
    extra,
  }: {
    version: string;
    /**
     * 'columns': the catalog as `reelrank train` writes it (catalog.json header + catalog_* columns);
     * 'objects': catalog.json with one object per movie, as versions before the columns.
     */
    catalogLayout?: 'columns' | 'objects';
    contentNeighbors?: boolean;
    previous?: string | null;
    /** Ranking factors (iALS) to export as the rank_* files, as `reelrank train` does. */
    ranking?: RankFactorExport | null;
    /** Sparse item-item lists and learned ranking stage (train/pipeline/ranking-stage.ts). */
    rankingStage?: RankingStage | null;
    /** More files written before the manifest (e.g. poster thumbnails, the catalog map). */
    extra?: (writer: VersionWriter) => Promise<void>;
  },
): Promise<FixtureVersion> {
  const dir = await mkdtemp(join(tmpdir(), 'reelrank-fixture-'));
  try {
    const writer = new VersionWriter(dir, {
      version,
      datasetFingerprint: `${dataset.name}:${dataset.ratings.length}`,
      trainingConfig: {
        model: 'biased-mf-sgd',
        factors: model.factors,
        globalMean: model.globalMean,
        ratingScale: dataset.ratingScale,
        foldInLambda: 1,
        ranking: ranking ? { model: 'ials', factors: ranking.factors, ...ranking.config } : null,
        learnedRanking: rankingStage?.config ?? null,
      },
      backend: 'typed-arrays',
    });
    const items = dataset.movies.length;
    const users = dataset.userIds.length;
    const counts = new Float64Array(items);
    const sums = new Float64Array(items);
    const perUser: { item: number; rating: number }[][] = Array.from({ length: users }, () => []);
    for (let r = 0; r < dataset.ratings.length; r++) {
      const it = dataset.ratings.itemIndex[r]!;
      counts[it] = counts[it]! + 1;
      sums[it] = sums[it]! + dataset.ratings.rating[r]!;
      perUser[dataset.ratings.userIndex[r]!]!.push({ item: it, rating: dataset.ratings.rating[r]! });
    }
    const maxLog = Math.log1p(Math.max(...counts));
    const popularity = Float32Array.from(counts, (c) => Math.log1p(c) / maxLog);
    if (catalogLayout === 'objects') {
      // As every version before the catalog columns: catalog.json with one object per movie.
      await writer.json('catalog', {
        movies: dataset.movies.map((m, i) => ({
          movieId: m.movieId,
          title: m.title,
          year: m.year,
          genres: m.genres,
          tmdbId: m.tmdbId,
          posterPath: m.posterPath,
          popularity: Math.round(popularity[i]! * 1e4) / 1e4,
          ratingCount: counts[i],
          meanRating: counts[i]! > 0 ? Math.round((sums[i]! / counts[i]!) * 1e3) / 1e3 : null,
        })),
      });
    } else {
      await writeCatalog(writer, dataset.movies, catalogStats(dataset));
    }
    await writer.ids(
      'itemIds',
      Uint32Array.from(dataset.movies, (m) => m.movieId),
    );
    await writer.ids('userIds', dataset.userIds);
    await writer.matrix('itemFactors', model.itemFactors, items, model.factors, { dtype: 'int8' });
    await writer.matrix('userFactors', model.userFactors, users, model.factors, { dtype: 'float32' });
    if (ranking) {
      await writer.matrix('rankItemFactors', ranking.itemFactors, items, ranking.factors, {
        dtype: 'int8',
        scaleDtype: 'float16',
      });
      await writer.matrix('rankUserFactors', ranking.userFactors, users, ranking.factors, {
        dtype: 'float16',
      });
      await writer.matrix('rankGram', ranking.gram, ranking.factors, ranking.factors);
    }
    await writer.vector('itemBias', model.itemBias);
    await writer.vector('userBias', model.userBias);
    await writer.vector('popularity', popularity);
    const seenOffsets = new Uint32Array(users + 1);
    const topOffsets = new Uint32Array(users + 1);
    const seen: number[] = [];
    const top: number[] = [];
    perUser.forEach((list, u) => {
      for (const e of list) seen.push(e.item);
      seenOffsets[u + 1] = seen.length;
      const mean = list.reduce((a, e) => a + e.rating, 0) / Math.max(1, list.length);
      const best = list
        .filter((e) => e.rating >= Math.max(4, mean))
        .sort((a, b) => b.rating - a.rating || a.item - b.item)
        .slice(0, 20);
      for (const e of best) top.push(e.item);
      topOffsets[u + 1] = top.length;
    });
    await writer.csr('seen', seenOffsets, Uint32Array.from(seen));
    await writer.csr('userTopRated', topOffsets, Uint32Array.from(top));
    const content = genreDecadeEmbeddings(dataset);
    await writer.matrix('contentEmbeddings', content.data, items, content.dim, { dtype: 'float16' });
    if (contentNeighbors) {
      const width = 20;
      const mostRated = topK(Float32Array.from(counts), 1000).indexes;
      const n = cosineNeighbors(content.data, content.dim, width, mostRated);
      await writer.neighbors('neighborsContent', n.ids, n.scores, items, width);
    }
    if (rankingStage) await writeRankingStage(writer, rankingStage);
    await extra?.(writer);
    const manifest = await writer.finish();
    const files = new Map<string, Uint8Array>();
    const walk = async (folder: string): Promise<void> => {
      for (const entry of await readdir(folder, { withFileTypes: true })) {
        const path = join(folder, entry.name);
        if (entry.isDirectory()) await walk(path);
        else
          files.set(
            versionKey(manifest.version, relative(manifest.dir, path).split('\\').join('/')),
            new Uint8Array(await readFile(path)),
          );
      }
    };
    await walk(manifest.dir);
    const manifestBytes = files.get(versionKey(manifest.version, MANIFEST_FILE))!;
    const pointer = new TextEncoder().encode(
      JSON.stringify({
        version: manifest.version,
        manifestSha256: await sha256Hex(manifestBytes),
        publishedAt: new Date().toISOString(),
        previous,
      }),
    );
    return { version: manifest.version, files, pointer, model };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An in-memory ObjectStore (the Node side of the parity test reads the very same objects). */
export function memoryStore(objects: Map<string, Uint8Array>): ObjectStore {
  return {
    description: 'memory://fixture',
    get: async (key) => objects.get(key) ?? null,
    put: async (key, body) => void objects.set(key, body),
    head: async (key): Promise<ObjectInfo | null> => {
      const body = objects.get(key);
      return body ? { key, size: body.length } : null;
    },
    list: async (prefix) =>
      [...objects.entries()]
        .filter(([k]) => k.startsWith(prefix))
        .map(([key, body]) => ({ key, size: body.length }))
        .sort((a, b) => (a.key < b.key ? -1 : 1)),
    delete: async (key) => void objects.delete(key),
  };
}

export { POINTER_KEY };
