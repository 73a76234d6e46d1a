import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ARTIFACT_FILES } from '../../../shared/artifacts/spec.ts';
import { runTraining } from '../../../train/pipeline/train.ts';
import { REPO_ROOT } from '../../support/data.ts';

const work = mkdtempSync(join(tmpdir(), 'reelrank-train-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it('reelrank train/evaluate reject unknown models and protocols with the allowed values', async () => {
  const { runCli } = await import('../../../train/cli/main.ts');
  const errors: string[] = [];
  const original = console.error;
  console.error = (line: unknown) => errors.push(String(line));
  try {
    expect(await runCli(['train', '--model', 'nope', '--out', join(work, 'x')])).toBe(1);
    expect(await runCli(['evaluate', '--protocol', 'nope'])).toBe(1);
  } finally {
    console.error = original;
  }
  expect(errors.join('\n')).toMatch(/--model 'nope' is unknown. Available: .*svdpp/);
  expect(errors.join('\n')).toMatch(
    /--protocol 'nope' is unknown. Available: random, official, stratified, ncf, cold/,
  );
});

it('reelrank train writes a version with every required artifact, metrics.json and report.html', async () => {
  // A real sample: the first 4,000 ratings of the embedded ml-latest-small, with its full catalog.
  const source = join(REPO_ROOT, 'data/ml-latest-small');
  const data = join(work, 'sample');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(data);
  const ratings = readFileSync(join(source, 'ratings.csv'), 'utf8').split('\r\n').slice(0, 4001).join('\r\n');
  writeFileSync(join(data, 'ratings.csv'), `${ratings}\r\n`);
  writeFileSync(join(data, 'movies.csv'), readFileSync(join(source, 'movies.csv')));
  const result = await runTraining({
    data,
    out: join(work, 'artifacts'),
    model: 'mf-sgd',
    content: false,
    quickReport: true,
    seed: 3,
  });
  const manifest = JSON.parse(readFileSync(join(result.dir, 'manifest.json'), 'utf8')) as {
    files: { path: string }[];
    trainingConfig: Record<string, unknown>;
  };
  const paths = new Set(manifest.files.map((f) => f.path));
  for (const spec of Object.values(ARTIFACT_FILES))
    if (spec.required) expect(paths.has(spec.path), spec.path).toBe(true);
  expect(paths.has('metrics.json')).toBe(true);
  expect(paths.has('report.html')).toBe(true);
  expect(manifest.trainingConfig.seed).toBe(3);
  const metrics = JSON.parse(readFileSync(join(result.dir, 'metrics.json'), 'utf8')) as Record<
    string,
    Record<string, number>
  >;
  expect(metrics.holdoutRating!.rmse).toBeGreaterThan(0.3);
  expect(metrics.holdoutRating!.rmse).toBeLessThan(1.5);
  const html = readFileSync(join(result.dir, 'report.html'), 'utf8');
  expect(html).toContain('Validation RMSE per epoch');
  expect(html).toContain('iALS ranking factors (the web page&#39;s catalog map)');
  expect(html).toContain('Top-10 lists ranked by the ranking model');
  // The same layout as the version's catalog map (what the web page draws).
  expect(paths.has('catalog_map.json')).toBe(true);

  // The serving code (shared/, what the edge runs) loads and verifies the version and scores with it.
  const { symlinkSync, mkdirSync: mkdir } = await import('node:fs');
  const storeRoot = join(work, 'store');
  mkdir(join(storeRoot, 'versions'), { recursive: true });
  symlinkSync(result.dir, join(storeRoot, 'versions', result.version));
  const { FsStore } = await import('../../../train/store/fs.ts');
  const { openVersion } = await import('../../../shared/artifacts/loader.ts');
  const { loadServingModel } = await import('../../../shared/serving/from-artifacts.ts');
  const { knownUser, predictRating } = await import('../../../shared/serving/scoring.ts');
  const serving = await loadServingModel(
    await openVersion(new FsStore(storeRoot), { version: result.version }),
  );
  expect(serving.itemCount).toBe(9742);
  expect(serving.dim).toBe(100);
  // The catalog as columns (no movie objects in catalog.json), read back as the dataset has it.
  for (const name of [
    'catalogTitles',
    'catalogYears',
    'catalogGenres',
    'catalogRatingCounts',
    'catalogMeanRatings',
  ] as const)
    expect(paths.has(ARTIFACT_FILES[name].path), name).toBe(true);
  const header = JSON.parse(readFileSync(join(result.dir, 'catalog.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  expect(header).toMatchObject({ layout: 'columns', globalMean: expect.any(Number) });
  expect(header.movies).toBeUndefined();
  const matrix = serving.movies[serving.itemIndexById.get(2571)!]!;
  expect(matrix).toMatchObject({
    movieId: 2571,
    title: 'Matrix, The',
    year: 1999,
    genres: ['Action', 'Sci-Fi', 'Thriller'],
  });
  expect(matrix.ratingCount).toBeGreaterThan(0);
  const predicted = predictRating(serving, knownUser(serving, 0), 0);
  expect(predicted).toBeGreaterThanOrEqual(0.5);
  expect(predicted).toBeLessThanOrEqual(5);

  // The ranking factor set (implicit ALS) rides along: files, fold-in config, served channel.
  for (const name of ['rankItemFactors', 'rankUserFactors', 'rankGram'] as const)
    expect(paths.has(ARTIFACT_FILES[name].path), name).toBe(true);
  expect(manifest.trainingConfig.ranking).toMatchObject({ model: 'ials', factors: 32, confidence: 'binary' });
  expect(metrics.holdoutRankingRankModel!['ndcg@10']).toBeGreaterThan(0);
  expect(serving.ranking?.dim).toBe(32);
  // A known user's exported ranking vector is the closed-form fold-in of their interactions (binary
  // confidence: the rating values do not matter), so an anonymous session with the same movies
  // gets the same vector, up to int8/float16 storage error.
  const { sessionRankVector } = await import('../../../shared/serving/scoring.ts');
  const known = knownUser(serving, 0).rankVector!;
  const session = sessionRankVector(
    serving,
    Array.from(knownUser(serving, 0).seen, (itemIndex) => ({ itemIndex, rating: 4 })),
  )!;
  let dot = 0;
  let nk = 0;
  let ns = 0;
  for (let f = 0; f < 32; f++) {
    dot += known[f]! * session[f]!;
    nk += known[f]! ** 2;
    ns += session[f]! ** 2;
  }
  expect(nk).toBeGreaterThan(0);
  expect(dot / Math.sqrt(nk * ns)).toBeGreaterThan(0.995);
  expect(Math.sqrt(ns / nk)).toBeCloseTo(1, 1);

  // The ranking stage rides along: sparse EASE lists and the uint8 TF.js ranker. tf.loadLayersModel
  // reads the ranker through the verifying handler, and it scores a real candidate list exactly
  // as the typed-array kernel the edge runs (both from the same dequantized shards).
  for (const name of ['itemItem', 'itemItemWeights', 'reranker'] as const)
    expect(paths.has(ARTIFACT_FILES[name].path), name).toBe(true);
  expect(manifest.trainingConfig.learnedRanking).toMatchObject({ perChannel: 100 });
  // Per kind: the stage where it won on validation, else the best alternative to serve instead.
  const { fallback, features } = manifest.trainingConfig.learnedRanking as {
    fallback: { users: string; sessions: string };
    features: string[];
  };
  for (const kind of ['users', 'sessions'] as const)
    expect(['blend', 'itemItem', 'collaborative']).toContain(fallback[kind]);
  expect(features).toHaveLength(19);
  expect(serving.itemItem?.width).toBeGreaterThan(0);
  const ranker = await import('../../../shared/serving/ranker.ts');
  const stage = serving.learned as import('../../../shared/serving/ranker.ts').LearnedStage;
  expect(stage.layers.length).toBe(3);
  const tf = await import('@tensorflow/tfjs-core');
  const tfl = await import('@tensorflow/tfjs-layers');
  const { selectBackend } = await import('../../../train/backend.ts');
  await selectBackend({ backend: 'cpu' });
  const net = await tfl.loadLayersModel(
    (await openVersion(new FsStore(storeRoot), { version: result.version })).tfjsHandler('reranker'),
  );
  const found = ranker.learnedCandidates(serving, knownUser(serving, 0), { k: 10 }, 100);
  const m = found.ids.length;
  expect(m).toBeGreaterThan(100);
  const input = tf.tensor2d(found.features, [m, ranker.RANKER_FEATURE_COUNT]);
  const output = net.predict(input) as import('@tensorflow/tfjs-core').Tensor;
  const viaTfjs = output.dataSync();
  const viaKernel = ranker.denseStack(stage.layers, found.features, m);
  let worst = 0;
  for (let p = 0; p < m; p++) worst = Math.max(worst, Math.abs(viaTfjs[p]! - viaKernel[p]!));
  expect(worst).toBeLessThan(1e-4);
  input.dispose();
  output.dispose();
  net.dispose();

  // `reelrank evaluate --versions` reads it back into the side-by-side table.
  const { runCli } = await import('../../../train/cli/main.ts');
  const lines: string[] = [];
  const original = console.log;
  console.log = (line: unknown) => lines.push(String(line));
  try {
    expect(await runCli(['evaluate', '--versions', result.dir])).toBe(0);
  } finally {
    console.log = original;
  }
  expect(lines.join('\n')).toContain(`mf-sgd@${result.version}`);
  expect(lines.join('\n')).toContain(metrics.holdoutRating!.rmse!.toFixed(4));
});
