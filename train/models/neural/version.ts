import { type ArtifactVersion, openVersion } from '../../../shared/artifacts/loader.ts';
import { versionKey } from '../../../shared/artifacts/spec.ts';
import { createRng } from '../../../shared/random.ts';
import type { ObjectInfo, ObjectStore } from '../../../shared/store.ts';
import { VersionWriter } from '../../artifacts/writer.ts';
import type { FittedText } from '../../content/index.ts';
import type { Dataset } from '../../data/dataset.ts';
import type { MetricRecord } from '../../eval/harness.ts';
import { datasetFingerprint, type TrainResult, writeCatalogParts } from '../../pipeline/version-parts.ts';
import { renderReport } from '../../report/report.ts';
import { FsStore } from '../../store/fs.ts';
import { gatherRows, itemCounts } from '../interactions.ts';
import type { EpochLog } from '../types.ts';
import { type ExportableNeuralModel, exportNeuralModel, loadNeuralScorer, neuralPrefix } from './export.ts';
import { NcfRecommender } from './ncf.ts';

/**
 * The version `reelrank train --model <neural model>` writes (the pipeline's production fit on
 * every rating, then this): what the edge needs to serve the non-personal parts — catalog, ids,
 * popularity, seen and top-rated lists, text embeddings and their model — plus the neural model
 * under `neural/<name>/` (quantized TF.js shards, float16 tables, layout.json; see export.ts).
 *
 * There are NO factor files (item/user factors, biases): no neural model here has an exact
 * dot-product form (NeuMF's MLP half, the rating towers' dense layers), so the edge, which serves
 * factor versions only, refuses such a version with `artifact_missing` naming item_factors.bin,
 * and keeps serving the version it has. `trainingConfig.neural` says why, for people and tools.
 */
export interface NeuralVersionInput {
  model: ExportableNeuralModel;
  modelName: string;
  dataset: Dataset;
  seed: number;
  /** e.g. 'tfjs-wasm' (recorded in the manifest). */
  backend: string;
  out: string;
  version?: string;
  createdAt?: Date;
  /** Name of the evaluation split the metrics come from. */
  split: string;
  text: FittedText | null;
  /** Metrics of the evaluation fit (holdout ranking, and rating metrics for rating models). */
  metrics: Record<string, MetricRecord>;
  /** Learning curve of the evaluation fit. */
  epochs: EpochLog[];
  evaluationFitSeconds: number;
  productionFitSeconds: number;
  /** performance.now() when the run started. */
  started: number;
  quickReport?: boolean;
  log: (line: string) => void;
}

export { isExportableNeural } from './export.ts';

/** Pairs scored to check the export round trip (trained model vs the shards read back). */
const ROUND_TRIP_PAIRS = 2000;

/** Write the version of a neural model; returns what `runTraining` returns. */
export async function writeNeuralVersion(input: NeuralVersionInput): Promise<TrainResult> {
  const { model, modelName, dataset, text, log } = input;
  const all = Uint32Array.from({ length: dataset.ratings.length }, (_, j) => j);
  const counts = itemCounts(gatherRows(dataset, all));
  const textDim = text ? text.embeddings.length / dataset.movies.length : 0;
  const isNcf = model instanceof NcfRecommender;
  const globalMean = isNcf ? meanRating(dataset) : model.meanRating;
  const writer = new VersionWriter(input.out, {
    ...(input.version ? { version: input.version } : {}),
    ...(input.createdAt ? { createdAt: input.createdAt } : {}),
    datasetFingerprint: await datasetFingerprint(dataset),
    backend: input.backend,
    trainingConfig: {
      model: modelName,
      seed: input.seed,
      dataset: dataset.name,
      ratings: dataset.ratings.length,
      skippedRows: dataset.summary.skippedRows,
      globalMean,
      ratingScale: dataset.ratingScale,
      split: input.split,
      textEmbeddings: text ? { kind: text.model.kind, dim: textDim } : null,
      neural: {
        kind: isNcf ? 'ncf' : 'rating-tower',
        layout: `${neuralFolder(model)}layout.json`,
        model: `${neuralFolder(model)}model.json`,
        weightQuantization: 'uint8',
        tableDtype: 'float16',
        factorForm: false,
        serving:
          'no factor files: the edge serves factor versions only and refuses this one (item_factors.bin missing); load the model with tf.loadLayersModel + layout.json (train/models/neural/export.ts loadNeuralScorer)',
      },
    },
  });
  try {
    await writeCatalogParts(writer, dataset, { globalMean, counts, text });
    const exported = await exportNeuralModel(writer, model, { prefix: neuralFolder(model) });
    log(
      `neural model: ${exported.prefix}model.json, weight shards ${exported.shardBytes} bytes (uint8), tables ${exported.tableBytes} bytes (float16)`,
    );
    const seconds = (performance.now() - input.started) / 1000;
    const allMetrics = {
      ...input.metrics,
      export: { shardBytes: exported.shardBytes, tableBytes: exported.tableBytes },
      timing: {
        evaluationFitSeconds: input.evaluationFitSeconds,
        productionFitSeconds: input.productionFitSeconds,
        totalSeconds: seconds,
      },
    };
    const itemSide = itemEmbeddings(model);
    const html = renderReport({
      title: `reelrank training report: ${modelName} on ${dataset.name}`,
      dataset: dataset.name,
      model: modelName,
      seed: input.seed,
      epochs: input.epochs,
      metrics: allMetrics,
      embeddings: { ...itemSide, movies: dataset.movies },
      ...(text
        ? {
            textEmbeddings: {
              data: text.embeddings,
              dim: textDim,
              label: `text embeddings (${text.model.kind})`,
            },
          }
        : {}),
      mapRows: Uint32Array.from(
        Array.from({ length: dataset.movies.length }, (_, i) => i).filter((i) => counts[i]! >= 10),
      ),
      facts: {
        ratings: dataset.ratings.length,
        users: dataset.userIds.length,
        movies: dataset.movies.length,
        backend: input.backend,
      },
      ...(input.quickReport
        ? { tsneIterations: 100, tsneMaxPoints: 500 }
        : { tsneIterations: 250, tsneMaxPoints: 1000 }),
    });
    await writer.raw('report', new TextEncoder().encode(html));
    await writer.metrics(allMetrics);
    const manifest = await writer.finish();
    // Read the version back as a reader would and check it scores like the trained model.
    const version = await openVersionFolder(manifest.dir, manifest.version);
    const difference = await roundTripDifference(model, version, exported.prefix, input.seed);
    log(
      `export round trip: max |score difference| ${difference.toExponential(2)} over ${ROUND_TRIP_PAIRS} pairs (uint8 weights, float16 tables)`,
    );
    const total = (performance.now() - input.started) / 1000;
    log(`version ${manifest.version} written to ${manifest.dir} in ${total.toFixed(1)} s`);
    return { dir: manifest.dir, version: manifest.version, metrics: allMetrics, seconds: total };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** The model's folder inside the version. */
const neuralFolder = (model: ExportableNeuralModel): string => neuralPrefix(model.name);

function meanRating(dataset: Dataset): number {
  let sum = 0;
  for (const r of dataset.ratings.rating) sum += r;
  return sum / Math.max(1, dataset.ratings.length);
}

/** The item-side vectors to map in the report: NCF's item tables, a rating tower's movie part. */
function itemEmbeddings(model: ExportableNeuralModel): { data: Float32Array; dim: number; label: string } {
  if (model instanceof NcfRecommender) {
    const table = model.options.variant === 'mlp' ? model.tables.itemMlp : model.tables.itemGmf;
    const which = model.options.variant === 'mlp' ? 'MLP' : 'GMF';
    return { data: table.values, dim: table.dim, label: `${model.name} item ${which} embeddings` };
  }
  const movie = model.sideMatrices().find((side) => side.name === 'movie') ?? model.sideMatrices()[0]!;
  return { data: movie.values, dim: movie.width, label: `${model.name} ${movie.name} embeddings` };
}

/**
 * A finished version folder (`artifacts/<version>`: manifest.json and files at its root) opened
 * with the verifying loader, which reads `versions/<version>/<path>` keys.
 */
export async function openVersionFolder(dir: string, version: string): Promise<ArtifactVersion> {
  const folder = new FsStore(dir);
  const prefix = versionKey(version, '');
  const strip = (key: string) => (key.startsWith(prefix) ? key.slice(prefix.length) : null);
  const store: ObjectStore = {
    description: folder.description,
    get: (key) => {
      const path = strip(key);
      return path === null ? Promise.resolve(null) : folder.get(path);
    },
    head: (key) => {
      const path = strip(key);
      return path === null ? Promise.resolve(null) : folder.head(path);
    },
    list: async (listPrefix): Promise<ObjectInfo[]> => {
      const path = strip(listPrefix);
      if (path === null) return [];
      return (await folder.list(path)).map((info) => ({ ...info, key: prefix + info.key }));
    },
    put: () => Promise.reject(new Error(`version folder ${dir} is read-only`)),
    delete: () => Promise.reject(new Error(`version folder ${dir} is read-only`)),
  };
  return openVersion(store, { version });
}

/** Users and items the model was trained over (the row counts of its tables). */
function sidesOf(model: ExportableNeuralModel): { users: number; items: number } {
  if (model instanceof NcfRecommender) {
    const { userGmf, itemGmf } = model.tables;
    return { users: userGmf.rows, items: itemGmf.rows };
  }
  return { users: model.userCount, items: model.itemCount };
}

/**
 * Max |trained score - score read back from the version| over random (user, item) pairs
 * (logits for NCF, clamped ratings for rating towers).
 */
export async function roundTripDifference(
  model: ExportableNeuralModel,
  version: ArtifactVersion,
  prefix: string,
  seed: number,
  pairs = ROUND_TRIP_PAIRS,
): Promise<number> {
  const scorer = await loadNeuralScorer(version, prefix);
  try {
    const rng = createRng(seed ^ 0x2f6b8a1d);
    const users = new Uint32Array(pairs);
    const items = new Uint32Array(pairs);
    const { users: userCount, items: itemCount } = sidesOf(model);
    for (let k = 0; k < pairs; k++) {
      users[k] = rng.int(userCount);
      items[k] = rng.int(itemCount);
    }
    const trained = model.predict(users, items);
    const loaded = scorer.predict(users, items);
    let max = 0;
    for (let k = 0; k < pairs; k++) max = Math.max(max, Math.abs(trained[k]! - loaded[k]!));
    return max;
  } finally {
    scorer.dispose();
  }
}
