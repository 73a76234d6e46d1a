/**
 * `npm run bench -- neural [sections...] [--backend auto|wasm|cpu|...] [--epochs-scale 0.5] [--glove file]
 *   [--models a,b] [--export-quantization uint8]`
 *
 * The neural models of the references on ml-100k, rows in bench/results/neural.json in the same
 * format as quality.json ({dataset, protocol, model, metric, value, seed, trainSeconds}):
 * - ncf: leave-last-out, 99 sampled negatives, HR/NDCG@10 (reference 003): GMF, MLP, NeuMF from
 *   scratch, NeuMF from pretrained GMF + MLP (the paper's procedure); each stopped early on each
 *   user's latest training rating;
 * - u1: official u1 split, MSE/RMSE/MAE/R² for the deep hybrid model (ids only, and ids + LSA
 *   text content + MobileNet poster vectors; reference 000), the title models (learned, frozen,
 *   fine-tuned; reference 001) and the two-stage model (genre init vs random init; reference 002).
 * Word vectors for the title models: a GloVe file (--glove), else skip-gram vectors pretrained
 * here on the 4,803 TMDB 5000 overviews. Rows of sections not run this time are kept.
 * Every tfjs model also gets export rows: it is written as `reelrank train` ships it (uint8 weight
 * shards, float16 tables), read back through the verifying loader, and compared on 2,000 random
 * pairs (exportMaxScoreDiff: logits for NCF, ratings otherwise; exportShardBytes, exportTableBytes),
 * and the loaded files are evaluated with the same protocol (`exported:<metric>` rows).
 * `--export-quantization uint8|uint16|float16` (default uint8) picks the shards' dtype;
 * `--models a,b` runs only those rows.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenize } from '../shared/content/tokenize.ts';
import { parseBackendChoice, selectBackend } from '../train/backend.ts';
import { fitTextEmbeddings } from '../train/content/index.ts';
import { loadGloveFile, trainWordVectors, type WordVectors } from '../train/content/word-vectors.ts';
import type { Dataset } from '../train/data/dataset.ts';
import { loadDataset } from '../train/data/index.ts';
import { IssueLog } from '../train/data/issues.ts';
import { loadTmdbMovies } from '../train/data/tmdb.ts';
import { formatTable, metricRows, protocolMetrics, type ResultRow } from '../train/eval/compare.ts';
import { leaveLastOut } from '../train/eval/protocols.ts';
import { VersionWriter } from '../train/artifacts/writer.ts';
import { DeepHybridRecommender } from '../train/models/neural/deep-hybrid.ts';
import {
  type ExportableNeuralModel,
  exportNeuralModel,
  isExportableNeural,
  loadNeuralScorer,
  scorerRecommender,
} from '../train/models/neural/export.ts';
import { openVersionFolder, roundTripDifference } from '../train/models/neural/version.ts';
import {
  NCF_DEFAULTS,
  NCF_GMF,
  NCF_MLP,
  NEUMF_PRETRAINED,
  RATING_TOWER_DEFAULTS,
  TWO_STAGE_DEFAULTS,
} from '../train/models/neural/index.ts';
import { type NcfOptions, NcfRecommender } from '../train/models/neural/ncf.ts';
import type { FeatureMatrix } from '../train/models/neural/rating-tower.ts';
import { TitleEmbeddingRecommender } from '../train/models/neural/title.ts';
import { TwoStageRecommender } from '../train/models/neural/two-stage.ts';
import type { Recommender } from '../train/models/types.ts';
import { embedPosters, loadPosterCnn } from '../train/visual/cnn.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sharedData = process.env.REELRANK_SHARED_DATA ?? resolve(repoRoot, '../shared/data');
const resultsFile = join(repoRoot, 'bench/results/neural.json');
const SEED = 0;
const ALL = ['ncf', 'u1'] as const;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flagValues = new Set(
  ['--backend', '--epochs-scale', '--glove', '--models', '--export-quantization'].flatMap((f) => [
    flag(f.slice(2)),
  ]),
);
const sections = process.argv.slice(2).filter((a) => !a.startsWith('--') && !flagValues.has(a));
for (const s of sections) {
  if (!(ALL as readonly string[]).includes(s))
    throw new Error(`unknown section '${s}'. Sections: ${ALL.join(', ')}`);
}
const run = sections.length > 0 ? sections : [...ALL];
const epochsScale = Number(flag('epochs-scale') ?? 1);
const onlyModels = flag('models')?.split(',');
const epochs = (n: number) => Math.max(1, Math.round(n * epochsScale));

const backend = await selectBackend({ backend: parseBackendChoice(flag('backend') ?? 'auto') });
console.log(
  `tfjs backend: ${backend.name}${backend.skipped.length ? ` (skipped: ${backend.skipped.map((s) => s.backend).join(', ')})` : ''}`,
);

const rows: ResultRow[] = [];

/**
 * Merge this run's rows into neural.json (after every model, so a long run keeps what it measured).
 * The previous rows are re-read each time, so two sections run in parallel processes keep theirs.
 */
function writeResults(): ResultRow[] {
  const previous: ResultRow[] = existsSync(resultsFile)
    ? JSON.parse(readFileSync(resultsFile, 'utf8')).rows
    : [];
  const key = (r: ResultRow) => `${r.dataset}|${r.protocol}|${r.model}|${r.metric}`;
  const fresh = new Set(rows.map(key));
  const merged = [...previous.filter((r) => !fresh.has(key(r))), ...rows];
  mkdirSync(dirname(resultsFile), { recursive: true });
  writeFileSync(
    resultsFile,
    JSON.stringify({ backend: backend.name, epochsScale, exportQuantization, rows: merged }, null, 2),
  );
  return merged;
}

const exportDir = mkdtempSync(join(tmpdir(), 'reelrank-bench-neural-'));

const exportQuantization = parseQuantization(flag('export-quantization') ?? 'uint8');

function parseQuantization(value: string): 'uint8' | 'uint16' | 'float16' {
  if (value === 'uint8' || value === 'uint16' || value === 'float16') return value;
  throw new Error(`--export-quantization '${value}' is not one of: uint8, uint16, float16`);
}

/**
 * Export a trained model (quantized weight shards, float16 tables), read it back through the
 * verifying loader, compare scores on 2,000 random pairs, and evaluate the loaded files with the
 * same protocol as the trained model: what `reelrank train` ships.
 */
async function exportRoundTrip(
  model: ExportableNeuralModel,
  evaluate: (loaded: Recommender) => Record<string, number>,
) {
  const writer = new VersionWriter(exportDir, {
    datasetFingerprint: 'bench',
    trainingConfig: {},
    backend: 'bench',
  });
  const exported = await exportNeuralModel(writer, model, { quantization: exportQuantization });
  const manifest = await writer.finish();
  const version = await openVersionFolder(manifest.dir, manifest.version);
  const maxScoreDifference = await roundTripDifference(model, version, exported.prefix, SEED);
  const scorer = await loadNeuralScorer(version, exported.prefix);
  try {
    const metrics = evaluate(
      scorerRecommender(scorer, {
        name: `${model.name}(exported)`,
        predictsRatings: model.predictsRatings,
        items: ml100k.movies.length,
      }),
    );
    return { maxScoreDifference, shardBytes: exported.shardBytes, tableBytes: exported.tableBytes, metrics };
  } finally {
    scorer.dispose();
  }
}

async function measure(
  dataset: Dataset,
  protocol: 'ncf' | 'official',
  protocolName: string,
  split: { train: Uint32Array; test: Uint32Array },
  name: string,
  model: Recommender,
) {
  if (onlyModels && !onlyModels.includes(name)) return;

  const started = performance.now();
  const report = await model.fit({
    dataset,
    train: split.train,
    seed: SEED,
    onEpoch: (e) =>
      process.stdout.write(
        `  ${name} epoch ${e.epoch}: loss ${e.trainLoss.toFixed(4)} (${e.seconds.toFixed(1)} s)\n`,
      ),
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const metrics = protocolMetrics(model, dataset, protocol, { name: protocolName, ...split }, SEED);
  // Early stopping: epochs run, the kept (best) epoch, 1-based, and its validation score.
  // With a refit, the early-stopping facts are those of the selection run on the carve.
  const notes = (report.notes?.selection as Record<string, unknown> | undefined) ?? report.notes ?? {};
  const extra: Record<string, number> = { epochsRun: report.epochs.length };
  if (typeof report.notes?.refitEpochs === 'number') extra.refitEpochs = report.notes.refitEpochs;
  if (typeof notes.bestEpoch === 'number') extra.stopEpoch = notes.bestEpoch + 1;
  if (typeof notes.bestValidationRmse === 'number') extra.validationRmse = notes.bestValidationRmse;
  if (typeof notes.bestValidationHitRate === 'number') extra['validationHr@10'] = notes.bestValidationHitRate;
  if (typeof notes.alpha === 'number') extra.alpha = notes.alpha;
  if (isExportableNeural(model)) {
    const roundTrip = await exportRoundTrip(model, (loaded) =>
      protocolMetrics(loaded, dataset, protocol, { name: protocolName, ...split }, SEED),
    );
    for (const [metric, value] of Object.entries(roundTrip.metrics))
      if (metric !== 'users') extra[`exported:${metric}`] = value;
    extra.exportMaxScoreDiff = roundTrip.maxScoreDifference;
    extra.exportShardBytes = roundTrip.shardBytes;
    extra.exportTableBytes = roundTrip.tableBytes;
  }
  const mine = metricRows(
    { dataset: dataset.name, protocol: protocolName, model: name, seed: SEED, trainSeconds },
    { ...metrics, ...extra },
  );
  rows.push(...mine);
  console.log(formatTable(mine), report.notes ? `\n  notes: ${JSON.stringify(report.notes)}` : '');
  writeResults();
  (model as { dispose?: () => void }).dispose?.();
}

const ml100k = await loadDataset(join(sharedData, 'ml-100k'), {
  posters: join(sharedData, 'ml-100k-posters'),
});

if (run.includes('ncf')) {
  const split = leaveLastOut(ml100k);
  const scaled = <T extends { epochs: number }>(o: T): T => ({ ...o, epochs: epochs(o.epochs) });
  const ncf = (name: string, options: NcfOptions) =>
    measure(ml100k, 'ncf', 'leave-last-out', split, name, new NcfRecommender(options));
  // The paper's models, each stopped early on each user's latest training rating (carved out).
  await ncf('ncf-gmf', scaled(NCF_GMF));
  await ncf('ncf-mlp', scaled(NCF_MLP));
  await ncf('ncf-neumf-scratch', { ...scaled(NCF_DEFAULTS), variant: 'neumf' });
  // NeuMF from pretrained GMF and MLP (what `ncf-neumf` trains in the registry).
  const pretrained = scaled(NEUMF_PRETRAINED);
  await ncf('ncf-neumf', {
    ...pretrained,
    pretrainGmf: scaled({ ...NCF_DEFAULTS, ...NEUMF_PRETRAINED.pretrainGmf }),
    pretrainMlp: scaled({ ...NCF_DEFAULTS, ...NEUMF_PRETRAINED.pretrainMlp }),
  });
}

if (run.includes('u1')) {
  const split = ml100k.officialSplits.u1;
  if (!split) throw new Error(`ml-100k has no official u1 split (loaded from ${ml100k.source})`);
  const protocolName = 'official-u1';
  const text = await fitTextEmbeddings(ml100k.movies);
  const content: FeatureMatrix = {
    dim: text.embeddings.length / ml100k.movies.length,
    values: text.embeddings,
  };
  let visual: FeatureMatrix | undefined;
  try {
    const cnn = await loadPosterCnn();
    const posters = await embedPosters(
      cnn,
      ml100k.movies.map((m) => m.posterPath),
    );
    visual = { dim: posters.dim, values: posters.embeddings };
  } catch (error) {
    console.warn(
      `poster embeddings unavailable, deep-hybrid runs without visual input: ${(error as Error).message}`,
    );
  }
  const hybrid = { ...RATING_TOWER_DEFAULTS, epochs: epochs(RATING_TOWER_DEFAULTS.epochs) };
  // Cheapest first, so a run cut short still has the most rows: two-stage (typed arrays), the
  // reference-000 hybrid, the title models, then the ids-only hybrid.
  await measure(
    ml100k,
    'official',
    protocolName,
    split,
    'two-stage',
    new TwoStageRecommender({ ...TWO_STAGE_DEFAULTS, epochs: epochs(TWO_STAGE_DEFAULTS.epochs) }),
  );
  await measure(
    ml100k,
    'official',
    protocolName,
    split,
    'two-stage-random',
    new TwoStageRecommender({
      ...TWO_STAGE_DEFAULTS,
      init: 'random',
      epochs: epochs(TWO_STAGE_DEFAULTS.epochs),
    }),
  );
  await measure(
    ml100k,
    'official',
    protocolName,
    split,
    'deep-hybrid+content+visual',
    new DeepHybridRecommender({ ...hybrid, content, ...(visual ? { visual } : {}) }),
  );

  const glove = flag('glove');
  let wordVectors: WordVectors;
  if (glove) {
    wordVectors = await loadGloveFile(glove);
  } else {
    const tmdb = await loadTmdbMovies(join(sharedData, 'tmdb-5000'), new IssueLog());
    const corpus = tmdb.map((m) =>
      tokenize(`${m.title} ${m.overview}`, { dropStopWords: false, minLength: 1 }),
    );
    const started = performance.now();
    wordVectors = trainWordVectors(corpus, { dim: 50, epochs: 5, minCount: 2, seed: SEED });
    console.log(
      `word vectors: ${wordVectors.vocabulary.length} words x ${wordVectors.dim} from ${corpus.length} TMDB overviews in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  for (const variant of ['learned', 'frozen', 'finetuned'] as const) {
    await measure(
      ml100k,
      'official',
      protocolName,
      split,
      `title-${variant}`,
      new TitleEmbeddingRecommender({
        variant,
        pretrained: wordVectors,
        ...hybrid,
      }),
    );
  }
  await measure(ml100k, 'official', protocolName, split, 'deep-hybrid', new DeepHybridRecommender(hybrid));
}

rmSync(exportDir, { recursive: true, force: true });
console.log(`\n${formatTable(writeResults())}\n\nwrote ${resultsFile}`);
