import { ReelrankError } from '../../shared/errors.ts';
import { VersionWriter } from '../artifacts/writer.ts';
import type { fitTextEmbeddings } from '../content/index.ts';
import { movieTokens } from '../../shared/content/tokenize.ts';
import type { Dataset } from '../data/dataset.ts';
import { loadDataset } from '../data/index.ts';
import { evaluateRanking, evaluateRating, type MetricRecord } from '../eval/harness.ts';
import { carveValidation, randomSplit } from '../eval/protocols.ts';
import { buildItemFeatures, fitProjection, type ItemFeatures, projectColdItems } from '../models/features.ts';
import { gatherRows, itemCounts } from '../models/interactions.ts';
import { evaluateRankingFactors, isFactorScored } from '../eval/factor-ranking.ts';
import { Ials, isRankFactorRecommender, type RankFactorExport } from '../models/ials.ts';
import { Svdpp } from '../models/svdpp.ts';
import { configurePoolPriority, trainingPool } from '../parallel/pool.ts';
import { createModel, DEFAULT_MODEL, DEFAULT_RANK_MODEL, modelEntry } from '../models/registry.ts';
import { type EpochLog, type FactorExport, isFactorRecommender, type Recommender } from '../models/types.ts';
import { renderReport, reportMap } from '../report/report.ts';
import type { PosterEmbeddings } from '../visual/cnn.ts';
import type { ContentEmbeddings, ItemItemOptions } from '../models/ranker.ts';
import { LearnedStageRunner, type PendingLearnedStage } from './learned-stage.ts';
import { fitRankingStage, type RankingStage, writeRankingStage } from './ranking-stage.ts';
import { catalogLayout } from '../viz/catalog-map.ts';
import { datasetFingerprint, type TrainResult, writeCatalogParts } from './version-parts.ts';

export { datasetFingerprint, type TrainResult } from './version-parts.ts';

/**
 * What `reelrank train` runs: dataset → split → fit (with a validation carve for learning
 * curves) → evaluate on the held-out split → refit on all ratings → export one artifact version
 * (factors, biases, catalog, seen lists, content embeddings and the content→factor projection)
 * with metrics.json and report.html.
 */
export interface TrainOptions {
  /** Dataset folder (default: the embedded ml-latest-small). */
  data?: string;
  /** The dataset, already loaded by the caller (then `data`, `tmdb` and `posters` are not read again). */
  dataset?: Dataset;
  /** A TMDB folder to join (overviews, keywords) for content features. */
  tmdb?: string;
  /** Registry name (default DEFAULT_MODEL). */
  model?: string;
  /**
   * The ranking model exported beside it as the rank_* factor set (default DEFAULT_RANK_MODEL,
   * implicit ALS): it scores the collaborative channel of recommendations. null = none (the
   * rating factors score that channel, as in versions before it).
   */
  rankModel?: string | null;
  /** Parent folder of versions. */
  out?: string;
  seed?: number;
  /** Backend request for dense (TF.js) parts; recorded in the manifest. */
  backend?: string;
  /** Held-out share for the metrics. */
  testFraction?: number;
  /** Fit text embeddings (LSA) for content features and the cold-item projection. */
  content?: boolean;
  /**
   * Precompute top-50 similar-movie lists (content, collaborative, hybrid). Off by default: the
   * exact O(n²d) lists cost ~1 CPU-minute on ml-latest-small, beyond the 60 s training budget;
   * the edge can rank similar movies from the exported vectors directly.
   */
  neighbors?: boolean;
  /**
   * A folder of `<movieId>.jpg|png` posters: embed each movie's poster with the CNN and export
   * visualEmbeddings (int8) + visualMask + the top-50 visual neighbour lists (movies with a poster
   * only), and a poster-embedding map in the report. Without it no visual file is written.
   */
  posters?: string;
  /** TF.js LayersModel folder for the posters (default: the repository's MobileNet v1 0.25). */
  cnn?: string;
  /** Layer to cut the CNN at (default global_average_pooling2d_1); its output must be [batch, dim]. */
  cnnLayer?: string;
  /** Skip the t-SNE map (it is the slowest part of the report). */
  quickReport?: boolean;
  /**
   * 'warm' (default): the production fit continues from the evaluation fit for a few epochs
   * (SVDPP_WARM_EPOCHS, IALS_WARM_ITERATIONS); 'scratch': a full fit from a random start.
   */
  productionFit?: 'warm' | 'scratch';
  /** Progress lines. */
  log?: (line: string) => void;
  /**
   * Entries added to the manifest's trainingConfig and metrics (retrain --events: the events
   * watermark and counts, the fair gate's scores of both sides).
   */
  manifestExtras?: { trainingConfig?: Record<string, unknown>; metrics?: Record<string, unknown> };
  /**
   * Fit and export the learned ranking stage (train/pipeline/ranking-stage.ts) beside the ranking
   * factors (default true); the sparse item-item channel is exported whenever ranking factors are.
   */
  learnedRanking?: boolean;
  /** Sparse item-item (EASE) channel options. */
  itemItem?: ItemItemOptions;
  /** Pin the version id / creation time (tests). */
  version?: string;
  createdAt?: Date;
}

/** 'skipped rows: 0', or the count and the first malformed row (file:line: what). */
export function skippedRowsLine(dataset: Dataset): string {
  const { skippedRows, issues } = dataset.summary;
  const first = issues[0];
  return `skipped rows: ${skippedRows}${skippedRows > 0 && first ? ` (first: ${first.file}:${first.line}: ${first.message}; 'reelrank ingest' lists them)` : ''}`;
}

/** RMSE of a factor export against rating rows (checks what is exported, not the model object). */
function exportRmse(factors: FactorExport, dataset: Dataset, rows: Uint32Array): number {
  const k = factors.factors;
  const { min, max } = dataset.ratingScale;
  let sse = 0;
  for (const j of rows) {
    const u = dataset.ratings.userIndex[j]!;
    const i = dataset.ratings.itemIndex[j]!;
    let dot = 0;
    for (let f = 0; f < k; f++) dot += factors.userFactors[u * k + f]! * factors.itemFactors[i * k + f]!;
    const p = Math.min(max, Math.max(min, factors.mean + factors.userBias[u]! + factors.itemBias[i]! + dot));
    sse += (p - dataset.ratings.rating[j]!) ** 2;
  }
  return Math.sqrt(sse / Math.max(1, rows.length));
}

/** Factor models whose versions the edge serves. */
export const EXPORTABLE_FACTOR_MODELS = 'svdpp, mf-sgd, mf-als, two-stage';

/**
 * What version a registry model writes: 'factors' (served by the edge), 'neural' (a TF.js tower
 * under neural/<name>/, no factor form, refused by the edge) or null (evaluate-only models such as
 * EASE, kNN or the Bayesian FM). Decided from an untrained instance, before any work.
 */
export async function versionKind(modelName: string): Promise<'factors' | 'neural' | null> {
  const { registerNeuralModels } = await import('../models/neural/index.ts');
  registerNeuralModels();
  const probe = createModel(modelName);
  if (isFactorRecommender(probe)) return 'factors';
  const { isExportableNeural } = await import('../models/neural/export.ts');
  return isExportableNeural(probe) ? 'neural' : null;
}

/**
 * The production fit starts from the evaluation fit (same users and items, 85.5 % of the rows)
 * and runs this many more epochs / alternations instead of a full fit from scratch; bench/scale.ts
 * measures the held-out quality of both on the same split.
 */
export const SVDPP_WARM_EPOCHS = 8;
export const IALS_WARM_ITERATIONS = 3;
/**
 * From this many ratings on, the learned stage's carve fit warm-starts from the evaluation rank
 * model (saves a full implicit-ALS fit); below it the carve is fitted from scratch, leak-free.
 */
export const CARVE_WARM_MIN_RATINGS = 2_000_000;
/** Niceness of the training pool's threads while the learned stage runs beside them (Linux). */
export const LEARNED_STAGE_POOL_NICE = 5;

/** Ranking metrics on the thread pool when the model scores by factors, else the serial harness. */
async function rankingMetrics(
  model: Recommender,
  dataset: Dataset,
  train: Uint32Array,
  test: Uint32Array,
  seed: number,
): Promise<MetricRecord> {
  if (isFactorScored(model))
    return evaluateRankingFactors(model.rankingScorer(), dataset, train, test, { k: 10, seed });
  return evaluateRanking(model, dataset, train, test, { k: 10 });
}

/** Train, evaluate and export one version. */
export async function runTraining(options: TrainOptions = {}): Promise<TrainResult> {
  const learnedRun: { runner: LearnedStageRunner | null } = { runner: null };
  try {
    return await trainVersion(options, learnedRun);
  } finally {
    // A failure elsewhere stops the learned stage's worker (a no-op once it has finished).
    await learnedRun.runner?.close();
    configurePoolPriority(0);
  }
}

async function trainVersion(
  options: TrainOptions,
  learnedRun: { runner: LearnedStageRunner | null },
): Promise<TrainResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  // Seconds per stage (metrics.json timing.stages; bench/scale.ts reads them).
  const stages: Record<string, number> = {};
  const seed = options.seed ?? 0;
  const modelName = options.model ?? DEFAULT_MODEL;
  // The neural models (train/models/neural) join the registry; their TF.js backend is chosen by
  // the one backend module, and recorded in the manifest.
  const { registerNeuralModels, NEURAL_MODELS } = await import('../models/neural/index.ts');
  registerNeuralModels();
  const entry = modelEntry(modelName);
  // The ranking model beside the rating model: what the served collaborative channel ranks with.
  // Neural models write their own version layout (train/models/neural/version.ts), without it.
  const rankName = NEURAL_MODELS[modelName]
    ? null
    : options.rankModel === undefined
      ? DEFAULT_RANK_MODEL
      : options.rankModel;
  const learnedWanted = rankName !== null && (options.learnedRanking ?? true);
  // Its worker (with more than one thread) starts now and loads TF.js while the data loads.
  if (learnedWanted) {
    learnedRun.runner = new LearnedStageRunner(options.backend);
    // Its worker threads carry the critical path: the pool's threads beside them yield to them.
    if (learnedRun.runner.inWorker) configurePoolPriority(LEARNED_STAGE_POOL_NICE);
  }
  // Fail before any training when the model cannot be written as a version.
  if ((await versionKind(modelName)) === null) {
    throw new ReelrankError(
      'bad_option',
      `model '${modelName}' has neither a factor form nor an exportable TF.js tower, so it cannot be written as a version; use a factor model (${EXPORTABLE_FACTOR_MODELS}) or a tower model (ncf-*, deep-hybrid, title-*), and 'reelrank evaluate' to compare the others`,
    );
  }
  let backendName = 'typed-arrays';
  if (NEURAL_MODELS[modelName]?.tfjs || options.backend !== undefined || options.posters !== undefined) {
    // `auto` picks the fastest backend that loads (wasm on a machine without libtensorflow).
    const { parseBackendChoice, selectBackend } = await import('../backend.ts');
    const selection = await selectBackend({ backend: parseBackendChoice(options.backend ?? 'auto') });
    backendName = `tfjs-${selection.name}`;
    log(
      `tfjs backend: ${selection.name}${selection.skipped.length ? ` (skipped ${selection.skipped.map((s) => s.backend).join(', ')})` : ''}`,
    );
  }
  const dataset =
    options.dataset ??
    (await loadDataset(options.data, {
      ...(options.tmdb === undefined ? {} : { tmdb: options.tmdb }),
      ...(options.posters === undefined ? {} : { posters: options.posters }),
    }));
  stages.loadSeconds = (performance.now() - started) / 1000;
  log(
    `dataset ${dataset.name}: ${dataset.ratings.length} ratings, ${dataset.userIds.length} users, ${dataset.movies.length} movies`,
  );
  log(skippedRowsLine(dataset));

  // The held-out split, and the carve of its training rows for learning curves.
  const split = randomSplit(dataset, options.testFraction ?? 0.1, seed);
  const carve = carveValidation(dataset, split.train, 0.05, seed);
  const warmStart = options.productionFit !== 'scratch';
  // The learned ranking stage learns from a time carve of split.train: with more than one thread
  // it is fitted in its worker from here on, beside everything below (learned-stage.ts); its
  // channel fits start before the text embeddings exist, which follow when fitted. On large data
  // its carve continues the evaluation rank model, so it starts once that one is fitted.
  const carveWarm = warmStart && dataset.ratings.length >= CARVE_WARM_MIN_RATINGS;
  let pendingLearned: PendingLearnedStage | null = null;
  let contentReady: (content: ContentEmbeddings | null) => void = () => {};
  const content = new Promise<ContentEmbeddings | null>((resolve) => {
    contentReady = resolve;
  });
  const startLearned = (warmFrom: Recommender | null) => {
    if (rankName === null || !learnedRun.runner) return;
    pendingLearned = learnedRun.runner.start(
      {
        dataset,
        rows: split.train,
        content,
        seed,
        rankModel: rankName,
        warmFrom,
        ...(options.itemItem ? { itemItem: options.itemItem } : {}),
      },
      log,
    );
  };
  if (learnedWanted && !carveWarm) startLearned(null);

  let text: Awaited<ReturnType<typeof fitTextEmbeddings>> | null = null;
  if (options.content ?? true) {
    const t = performance.now();
    // LSA on a pool thread: it yields to the learned stage's threads (configurePoolPriority).
    text = await trainingPool().run('text.lsa', { docs: dataset.movies.map(movieTokens) });
    stages.textSeconds = (performance.now() - t) / 1000;
    log(`text embeddings: ${text.model.dim ?? ''} dims in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const textDim = text ? text.embeddings.length / dataset.movies.length : 0;
  contentReady(text ? { data: text.embeddings, dim: textDim } : null);
  let visual: (PosterEmbeddings & { source: string; layer: string; posters: number }) | null = null;
  if (options.posters !== undefined) {
    const t = performance.now();
    const { embedPosters, loadPosterCnn } = await import('../visual/cnn.ts');
    let nextPosterLine = 0;
    let lastPosterLine = t;
    const cnn = await loadPosterCnn({
      ...(options.cnn === undefined ? {} : { dir: options.cnn }),
      ...(options.cnnLayer === undefined ? {} : { layer: options.cnnLayer }),
    });
    try {
      const embedded = await embedPosters(
        cnn,
        dataset.movies.map((m) => m.posterPath ?? null),
        {
          // One line per ~10% (or 5 s), not one per batch of 32 posters.
          onProgress: (done, total) => {
            const now = performance.now();
            if (done < total && done < nextPosterLine && now - lastPosterLine < 5_000) return;
            nextPosterLine = done + Math.ceil(total / 10);
            lastPosterLine = now;
            log(
              `posters: ${done}/${total} embedded (${Math.round((100 * done) / total)}%, ${((now - t) / 1000).toFixed(1)} s)`,
            );
          },
        },
      );
      const posters = embedded.mask.reduce((a, b) => a + b, 0);
      visual = { ...embedded, source: cnn.source, layer: cnn.layer, posters };
      log(
        `poster embeddings: ${posters} of ${dataset.movies.length} movies, ${cnn.dim} dims (${cnn.layer}) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
    } finally {
      cnn.model.dispose();
    }
  }
  const itemFeatures: ItemFeatures = buildItemFeatures(
    dataset.movies,
    text ? { textEmbeddings: { data: text.embeddings, dim: textDim } } : {},
  );

  // 1. Evaluation fit: train on (1 - testFraction), learning curves on a carve of it (split above).
  const epochs: EpochLog[] = [];
  const evalModel = createModel(modelName, { itemFeatures });
  const evalStarted = performance.now();
  const evalReport = await evalModel.fit({
    dataset,
    train: carve.train,
    validation: carve.test,
    seed,
    onEpoch: (e) => {
      epochs.push(e);
      if (e.validationRmse !== undefined)
        log(
          `${modelName} epoch ${e.epoch}${e.totalEpochs ? `/${e.totalEpochs}` : ''}: train MSE ${e.trainLoss.toFixed(4)}, validation RMSE ${e.validationRmse.toFixed(4)}`,
        );
    },
  });
  const evalSeconds = (performance.now() - evalStarted) / 1000;
  if (evalReport.notes?.stoppedEarly === true)
    log(
      `${modelName}: validation RMSE stopped improving; early stop after ${epochs.length} epochs (${evalSeconds.toFixed(1)} s)`,
    );
  log(
    `evaluating ${modelName} on ${split.test.length.toLocaleString('en-US')} held-out ratings (${entry.ratings ? 'rating error, ' : ''}ranking @10)`,
  );
  const metrics: Record<string, MetricRecord> = {};
  stages.evaluationFitSeconds = evalSeconds;
  const evaluationStarted = performance.now();
  if (entry.ratings) metrics.holdoutRating = evaluateRating(evalModel, dataset, split.test);
  metrics.holdoutRanking = await rankingMetrics(evalModel, dataset, carve.train, split.test, seed);
  stages.evaluationSeconds = (performance.now() - evaluationStarted) / 1000;
  for (const [section, values] of Object.entries(metrics)) {
    const shown = Object.entries(values)
      .map(([name, value]) => `${name} ${Number.isInteger(value) ? value : value.toFixed(4)}`)
      .join(', ');
    log(`${section} (${split.name}): ${shown}`);
  }

  // 1b. The ranking model on the same split.
  let evalRankModel: Recommender | null = null;
  if (rankName !== null) {
    const rankModel = createModel(rankName, { itemFeatures });
    if (!isRankFactorRecommender(rankModel)) {
      throw new ReelrankError(
        'bad_option',
        `rank model '${rankName}' exports no ranking factors; use ials (or null for none)`,
      );
    }
    log(`fitting ranking model ${rankName} on the same split, then evaluating it (ranking @10)`);
    const t = performance.now();
    await rankModel.fit({ dataset, train: carve.train, seed });
    stages.rankEvaluationFitSeconds = (performance.now() - t) / 1000;
    evalRankModel = rankModel;
    if (learnedWanted && carveWarm) startLearned(rankModel);
    const te = performance.now();
    metrics.holdoutRankingRankModel = await rankingMetrics(rankModel, dataset, carve.train, split.test, seed);
    stages.rankEvaluationSeconds = (performance.now() - te) / 1000;
    const shown = Object.entries(metrics.holdoutRankingRankModel)
      .map(([name, value]) => `${name} ${Number.isInteger(value) ? value : value.toFixed(4)}`)
      .join(', ');
    log(`holdoutRanking of ranking model ${rankName} (${split.name}): ${shown}`);
  }

  // 2. Production fit on every rating.
  const all = Uint32Array.from({ length: dataset.ratings.length }, (_, j) => j);
  const model = createModel(modelName, { itemFeatures });
  if (warmStart && model instanceof Svdpp && evalModel instanceof Svdpp)
    model.warmStartFrom(evalModel, SVDPP_WARM_EPOCHS);
  const fitStarted = performance.now();
  log(
    `fitting ${modelName} on all ${dataset.ratings.length.toLocaleString('en-US')} ratings for the version`,
  );
  await model.fit({ dataset, train: all, seed });
  const fitSeconds = (performance.now() - fitStarted) / 1000;
  stages.productionFitSeconds = fitSeconds;
  if (!isFactorRecommender(model)) {
    // Neural models (NCF, deep hybrid, title) have no factor form: their own version layout.
    const neural = await import('../models/neural/version.ts');
    if (neural.isExportableNeural(model)) {
      const written = await neural.writeNeuralVersion({
        model,
        modelName,
        dataset,
        seed,
        text,
        metrics,
        epochs,
        started,
        log,
        backend: backendName,
        out: options.out ?? 'artifacts',
        split: split.name,
        evaluationFitSeconds: evalSeconds,
        productionFitSeconds: fitSeconds,
        ...(options.version ? { version: options.version } : {}),
        ...(options.createdAt ? { createdAt: options.createdAt } : {}),
        ...(options.quickReport ? { quickReport: true } : {}),
      });
      return { ...written, skippedRows: dataset.summary.skippedRows };
    }
    throw new ReelrankError('bad_option', `model '${modelName}' has no factor form to export`);
  }
  const factors = model.exportFactors();
  const rows = gatherRows(dataset, all);
  const counts = itemCounts(rows);
  const warm = Uint8Array.from(counts, (c) => (c > 0 ? 1 : 0));
  // Movies without a rating get vectors from their metadata (reference 004).
  const itemFactors = factors.itemFactors.slice();
  const itemBias = factors.itemBias.slice();
  projectColdItems(itemFeatures, itemFactors, itemBias, factors.factors, warm, 1);
  const exported: FactorExport = { ...factors, itemFactors, itemBias };
  metrics.training = { trainRmse: exportRmse(exported, dataset, all) };
  let ranking: RankFactorExport | null = null;
  if (rankName !== null) {
    const t = performance.now();
    const rankModel = createModel(rankName, { itemFeatures });
    if (!isRankFactorRecommender(rankModel))
      throw new ReelrankError('bad_option', `rank model '${rankName}' exports no ranking factors`);
    if (warmStart && rankModel instanceof Ials && evalRankModel instanceof Ials)
      rankModel.warmStartFrom(evalRankModel, IALS_WARM_ITERATIONS);
    await rankModel.fit({ dataset, train: all, seed });
    const fitted = rankModel.exportRankFactors();
    const rankItems = fitted.itemFactors.slice();
    // Unrated movies get ranking vectors from their metadata too (their fitted rows are 0).
    projectColdItems(
      itemFeatures,
      rankItems,
      new Float32Array(dataset.movies.length),
      fitted.factors,
      warm,
      1,
    );
    ranking = {
      ...fitted,
      itemFactors: rankItems,
      // YᵀY over the trained rows only (projected cold rows excluded), exactly what training
      // solved its users against: a session with a known user's movies gets that user's vector.
      gram: fitted.gram,
    };
    stages.rankProductionFitSeconds = (performance.now() - t) / 1000;
    log(
      `ranking factors (${rankName}, k=${fitted.factors}) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
  }

  // The catalog map of the web page, and the first map of the report: t-SNE of the vectors that
  // rank recommendations (iALS factors when exported), over the most-rated movies. Drawn before
  // the learned stage is awaited (it may still be running in its worker).
  const mapStarted = performance.now();
  const mapVectors = ranking
    ? {
        data: ranking.itemFactors,
        dim: ranking.factors,
        label: `${rankName === 'ials' ? 'iALS' : rankName} ranking factors`,
      }
    : { data: exported.itemFactors, dim: exported.factors, label: `${modelName} item factors` };
  const catalog = catalogLayout(
    mapVectors.data,
    mapVectors.dim,
    counts,
    dataset.movies.map((m) => m.movieId),
    {
      method: `t-SNE of the ${mapVectors.label}`,
      seed,
      ...(options.quickReport ? { maxMovies: 500, iterations: 100 } : {}),
    },
  );
  // The report's text-embedding map (its slowest part) is drawn now too.
  const mapRows = Uint32Array.from(
    Array.from({ length: dataset.movies.length }, (_, i) => i).filter((i) => counts[i]! >= 10),
  );
  const tsneOptions = options.quickReport
    ? { tsneIterations: 100, tsneMaxPoints: 500 }
    : { tsneIterations: 250, tsneMaxPoints: 1000 };
  const textLayout = text ? reportMap(text.embeddings, textDim, mapRows, { seed, ...tsneOptions }) : null;
  const mapSeconds = (performance.now() - mapStarted) / 1000;

  // 2b. The sparse item-item channel and the learned ranking stage (time carve of split.train).
  let stage: RankingStage | null = null;
  if (ranking && rankName !== null) {
    stage = await fitRankingStage({
      dataset,
      allRows: all,
      rankModel: rankName,
      seed,
      learned: pendingLearned,
      ...(options.itemItem ? { itemItem: options.itemItem } : {}),
      log,
    });
    metrics.rankingStage = stage.metrics;
  }

  // 3. Export.
  const writer = new VersionWriter(options.out ?? 'artifacts', {
    ...(options.version ? { version: options.version } : {}),
    ...(options.createdAt ? { createdAt: options.createdAt } : {}),
    datasetFingerprint: await datasetFingerprint(dataset),
    backend: backendName,
    trainingConfig: {
      model: modelName,
      seed,
      dataset: dataset.name,
      ratings: dataset.ratings.length,
      // Malformed rows of the input that were skipped (train and retrain print them too).
      skippedRows: dataset.summary.skippedRows,
      // Movies joined to TMDB (null: no --tmdb), so `reelrank start` reuses only a like version.
      tmdbJoined: dataset.tmdbJoin?.joined ?? null,
      globalMean: exported.mean,
      ratingScale: dataset.ratingScale,
      foldInLambda: exported.foldInLambda,
      factors: exported.factors,
      split: split.name,
      textEmbeddings: text ? { kind: text.model.kind, dim: textDim } : null,
      // What the edge's implicit fold-in must reproduce (shared/kernels/implicit.ts).
      ranking: ranking ? { model: rankName, factors: ranking.factors, ...ranking.config } : null,
      itemItem: stage ? { model: 'ease', ...stage.itemItemConfig, width: stage.itemItem.width } : null,
      learnedRanking: stage?.config ?? null,
      visualEmbeddings: visual
        ? { cnn: visual.source, layer: visual.layer, dim: visual.dim, posters: visual.posters }
        : null,
      ...options.manifestExtras?.trainingConfig,
    },
  });
  try {
    await writeCatalogParts(writer, dataset, { globalMean: exported.mean, counts, text });
    // float16 per-row scales: at 50 factors float32 scales would cap int8's saving at 3.70x; these
    // give 3.85x at a measured RMSE change of +0.000015 (bench/quantization.ts).
    await writer.matrix('itemFactors', exported.itemFactors, dataset.movies.length, exported.factors, {
      dtype: 'int8',
      scaleDtype: 'float16',
    });
    await writer.matrix('userFactors', exported.userFactors, dataset.userIds.length, exported.factors, {
      dtype: 'float16',
    });
    if (ranking) {
      // Same codecs as the rating factors: int8 rows with float16 scales, float16 users.
      await writer.matrix('rankItemFactors', ranking.itemFactors, dataset.movies.length, ranking.factors, {
        dtype: 'int8',
        scaleDtype: 'float16',
      });
      await writer.matrix('rankUserFactors', ranking.userFactors, dataset.userIds.length, ranking.factors, {
        dtype: 'float16',
      });
      await writer.matrix('rankGram', ranking.gram, ranking.factors, ranking.factors);
    }
    if (stage) await writeRankingStage(writer, stage);
    await writer.vector('itemBias', exported.itemBias);
    await writer.vector('userBias', exported.userBias);
    if (text) {
      // content → factors without intercept, [d, k]: what the edge multiplies a new movie's embedding by.
      const contentOnly: ItemFeatures = {
        items: dataset.movies.length,
        dim: textDim,
        data: text.embeddings,
        columns: [],
      };
      const projection = fitProjection(contentOnly, exported.itemFactors, exported.factors, warm, 1, {
        intercept: false,
      });
      await writer.matrix('contentToFactors', projection.weights, textDim, exported.factors);
    }
    if (visual) {
      // Small JPEG thumbnails for the web page (size budget in train/visual/thumbnails.ts).
      const t = performance.now();
      const { readFile } = await import('node:fs/promises');
      const { writePosterThumbnails } = await import('../visual/thumbnails.ts');
      const thumbs = await writePosterThumbnails(writer, dataset.movies, (path) => readFile(path), {
        onSkip: (movieId, message) => log(`poster thumbnail of movie ${movieId} skipped: ${message}`),
      });
      log(
        `poster thumbnails: ${thumbs.movieIds.length} (${(thumbs.bytes / 1024 / 1024).toFixed(1)} MB, ${Math.round(thumbs.bytes / Math.max(1, thumbs.movieIds.length))} B each) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
    }
    if (catalog) {
      await writer.json('catalogMap', catalog.map);
      log(`catalog map: ${catalog.map.points.length} movies (maps drawn in ${mapSeconds.toFixed(1)} s)`);
    }
    const visualChannel = visual
      ? { name: 'visual', vectors: visual.embeddings, dim: visual.dim, mask: visual.mask }
      : null;
    if (visual && visualChannel) {
      await writer.matrix('visualEmbeddings', visual.embeddings, dataset.movies.length, visual.dim, {
        dtype: 'int8',
      });
      await writer.vector('visualMask', visual.mask);
      if (!(options.neighbors ?? false)) {
        // Visual lists are cheap (posters only) and the edge's by=visual has no other source.
        const t = performance.now();
        const { channelNeighbors } = await import('../similar/neighbors.ts');
        const table = channelNeighbors(visualChannel);
        await writer.neighbors('neighborsVisual', table.ids, table.scores, table.rows, table.k);
        log(`visual neighbour lists in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      }
    }
    if (options.neighbors ?? false) {
      const neighborsStarted = performance.now();
      const { similarMovieListsParallel } = await import('../similar/neighbors.ts');
      const lists = await similarMovieListsParallel(
        {
          // Ranking factors when exported: their neighbours are co-liked far more often (bench/similarity.ts).
          collaborative: ranking
            ? { name: 'collaborative', vectors: ranking.itemFactors, dim: ranking.factors }
            : { name: 'collaborative', vectors: exported.itemFactors, dim: exported.factors },
          ...(text ? { content: { name: 'content', vectors: text.embeddings, dim: textDim } } : {}),
          ...(visualChannel ? { visual: visualChannel } : {}),
        },
        dataset.movies.length,
      );
      const files = {
        content: 'neighborsContent',
        visual: 'neighborsVisual',
        collaborative: 'neighborsCollaborative',
        hybrid: 'neighborsHybrid',
      } as const;
      for (const [channel, file] of Object.entries(files) as [
        keyof typeof files,
        (typeof files)[keyof typeof files],
      ][]) {
        const table = lists[channel];
        if (table) await writer.neighbors(file, table.ids, table.scores, table.rows, table.k);
      }
      stages.neighborsSeconds = (performance.now() - neighborsStarted) / 1000;
      log(
        `neighbour lists (${Object.keys(lists).join(', ')}) in ${((performance.now() - neighborsStarted) / 1000).toFixed(1)} s`,
      );
    }
    const seconds = (performance.now() - started) / 1000;
    const allMetrics = {
      ...metrics,
      ...options.manifestExtras?.metrics,
      timing: {
        evaluationFitSeconds: evalSeconds,
        productionFitSeconds: fitSeconds,
        totalSeconds: seconds,
        threads: trainingPool().threads,
        // 1: the production fit continued the evaluation fit (warm start); 0: from scratch.
        productionWarmStart: warmStart ? 1 : 0,
        ...Object.fromEntries(Object.entries(stages).map(([name, value]) => [`stage.${name}`, value])),
      },
    };
    const reportStarted = performance.now();
    log('writing report.html (learning curves, t-SNE maps)');
    const html = renderReport({
      title: `reelrank training report: ${modelName} on ${dataset.name}`,
      dataset: dataset.name,
      model: modelName,
      seed,
      epochs,
      metrics: allMetrics,
      split: split.name,
      embeddings: {
        data: mapVectors.data,
        dim: mapVectors.dim,
        movies: dataset.movies,
        label: `${mapVectors.label} (the web page's catalog map)`,
      },
      ...(catalog ? { embeddingsLayout: catalog.layout } : {}),
      ...(text
        ? {
            textEmbeddings: {
              data: text.embeddings,
              dim: textDim,
              label: `text embeddings (${text.model.kind})`,
            },
          }
        : {}),
      ...(visual
        ? {
            visualEmbeddings: {
              data: visual.embeddings,
              dim: visual.dim,
              mask: visual.mask,
              label: `poster embeddings (${visual.layer})`,
            },
          }
        : {}),
      mapRows,
      ...(textLayout ? { textLayout } : {}),
      facts: {
        ratings: dataset.ratings.length,
        users: dataset.userIds.length,
        movies: dataset.movies.length,
      },
      ...tsneOptions,
    });
    await writer.raw('report', new TextEncoder().encode(html));
    log(
      `report (learning curves, t-SNE maps) in ${((performance.now() - reportStarted) / 1000).toFixed(1)} s`,
    );
    await writer.metrics(allMetrics);
    const manifest = await writer.finish();
    const total = (performance.now() - started) / 1000;
    log(`version ${manifest.version} written to ${manifest.dir} in ${total.toFixed(1)} s`);
    return {
      dir: manifest.dir,
      version: manifest.version,
      metrics: allMetrics,
      seconds: total,
      skippedRows: dataset.summary.skippedRows,
    };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
