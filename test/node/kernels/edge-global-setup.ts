/**
 * vitest globalSetup of the `edge` project (runs in Node): trains two small real versions on the
 * embedded ml-latest-small, writes them with the artifact writer, computes the trainer-side
 * expectations (float32 MF and shared/serving over the same objects), and hands everything to the
 * workerd tests through `provide` (bytes as base64).
 */
import type { TestProject } from 'vitest/node';
import { openVersion } from '../../../shared/artifacts/loader.ts';
import { sha256Hex } from '../../../shared/hash.ts';
import type { Int8SimdExports } from '../../../shared/kernels/int8-simd.ts';
import { INT8_SIMD_WASM } from '../../../shared/kernels/int8-simd-wasm.ts';
import { loadServingModel } from '../../../shared/serving/from-artifacts.ts';
import type { ServingModel } from '../../../shared/serving/model.ts';
import { knownUser, predictRating, recommend, sessionUser } from '../../../shared/serving/scoring.ts';
import { loadDataset } from '../../../train/data/index.ts';
import { Ials } from '../../../train/models/ials.ts';
import type { ProvidedFixture, ProvidedVersion } from '../../edge/fixture-types.ts';
import { selectBackend } from '../../../train/backend.ts';
import { fitItemItem, fitLearnedRanking, recentCsr } from '../../../train/models/ranker.ts';
import { RANKER_FEATURES } from '../../../shared/serving/ranker.ts';
import {
  type FixtureVersion,
  fitBiasedMf,
  genreDecadeEmbeddings,
  memoryStore,
  POINTER_KEY,
  predictFloat,
  writeFixtureVersion,
} from '../../support/fixture-version.ts';

async function toProvided(v: FixtureVersion, blobs: Record<string, string>): Promise<ProvidedVersion> {
  const files: Record<string, string> = {};
  for (const [key, bytes] of v.files) {
    const sha = await sha256Hex(bytes);
    blobs[sha] ??= Buffer.from(bytes).toString('base64');
    files[key] = sha;
  }
  return { version: v.version, files, pointer: Buffer.from(v.pointer).toString('base64') };
}

export default async function setup(project: TestProject): Promise<void> {
  const started = performance.now();
  const dataset = await loadDataset();
  const modelA = fitBiasedMf(dataset, { seed: 1, epochs: 10 });
  const modelB = fitBiasedMf(dataset, { seed: 2, epochs: 6 });
  // Small but real ranking factors (production uses 64 factors and 10 iterations).
  const ials = new Ials({ factors: 16, iterations: 5, alpha: 3, lambda: 30 });
  await ials.fit({
    dataset,
    train: Uint32Array.from({ length: dataset.ratings.length }, (_, j) => j),
    seed: 1,
  });
  const ranking = ials.exportRankFactors();
  const a = await writeFixtureVersion(dataset, modelA, { version: 'fixture-a', ranking });
  // b is an older version's files: no neighbour lists, no ranking factors, catalog.json movie objects.
  const b = await writeFixtureVersion(dataset, modelB, {
    version: 'fixture-b',
    contentNeighbors: false,
    previous: 'fixture-a',
    catalogLayout: 'objects',
  });
  const objects = new Map(a.files);
  objects.set(POINTER_KEY, a.pointer);
  // The same SIMD kernel bytes the edge bundles, compiled by Node: one kernel, two runtimes.
  const wasm = new WebAssembly.Module(INT8_SIMD_WASM);
  const simd = () => new WebAssembly.Instance(wasm, {}).exports as unknown as Int8SimdExports;
  const serving = await loadServingModel(await openVersion(memoryStore(objects)), { simd });
  if (serving.ranking?.dim !== ranking.factors)
    throw new Error(
      `fixture: version a serves ${serving.ranking?.dim ?? 'no'} ranking factors, expected ${ranking.factors}`,
    );
  if (serving.kernel !== 'wasm-simd')
    throw new Error(`fixture: Node serving uses the ${serving.kernel} kernel, expected wasm-simd`);
  const predictions: ProvidedFixture['predictions'] = [];
  let maxError = 0;
  for (const userIndex of [0, 1, 17, 300, dataset.userIds.length - 1]) {
    for (const itemIndex of [0, 5, 42, 314, 2000, dataset.movies.length - 1]) {
      const float = predictFloat(modelA, dataset, userIndex, itemIndex);
      const servingValue = predictRating(serving, knownUser(serving, userIndex), itemIndex);
      maxError = Math.max(maxError, Math.abs(float - servingValue));
      predictions.push({
        userId: dataset.userIds[userIndex]!,
        movieId: dataset.movies[itemIndex]!.movieId,
        float,
        serving: servingValue,
      });
    }
  }
  const recommendations = [0, 17, 300].map((userIndex) => {
    const result = recommend(serving, knownUser(serving, userIndex), { k: 10 });
    return {
      userId: dataset.userIds[userIndex]!,
      movieIds: result.items.map((i) => serving.movies[i.itemIndex]!.movieId),
      scores: result.items.map((i) => i.score),
    };
  });
  const withoutRanking: ServingModel = { ...serving, ranking: null };
  const recommendationsWithoutRanking = [0, 17, 300].map((userIndex) => ({
    userId: dataset.userIds[userIndex]!,
    movieIds: recommend(withoutRanking, knownUser(withoutRanking, userIndex), { k: 10 }).items.map(
      (i) => serving.movies[i.itemIndex]!.movieId,
    ),
  }));
  // Sessions of real movies (Heat, The Matrix, Toy Story, Amelie, ...), new-user and regular sizes.
  const sessionRatings = [
    [
      { movieId: 6, rating: 5 },
      { movieId: 2571, rating: 4.5 },
      { movieId: 1, rating: 1 },
    ],
    dataset.movies.slice(0, 40).map((m, n) => ({ movieId: m.movieId, rating: 0.5 + ((n * 7) % 10) / 2 })),
  ];
  const sessions = sessionRatings.map((ratings) => {
    const mapped = ratings.map((r) => ({
      itemIndex: serving.itemIndexById.get(r.movieId)!,
      rating: r.rating,
    }));
    const result = recommend(serving, sessionUser(serving, mapped), { k: 10 });
    const plain = recommend(withoutRanking, sessionUser(withoutRanking, mapped), { k: 10 });
    return {
      ratings,
      movieIds: result.items.map((i) => serving.movies[i.itemIndex]!.movieId),
      scores: result.items.map((i) => i.score),
      movieIdsWithoutRanking: plain.items.map((i) => serving.movies[i.itemIndex]!.movieId),
    };
  });
  // Version c: a plus a small real ranking stage (EASE on the 300 most rated movies, top 30 per
  // item; the MLP trained 2 epochs on the cpu backend), enabled for users and sessions.
  await selectBackend({ backend: 'cpu' });
  const all = Uint32Array.from({ length: dataset.ratings.length }, (_, j) => j);
  const itemItemOptions = { maxItems: 300, width: 30, lambda: 300 };
  const itemItem = await fitItemItem(dataset, all, itemItemOptions, 1);
  const learned = await fitLearnedRanking({
    dataset,
    rows: all,
    content: genreDecadeEmbeddings(dataset),
    seed: 1,
    itemItem: itemItemOptions,
    perChannel: 50,
    epochs: 2,
    windows: 2,
  });
  const stageConfig = {
    features: RANKER_FEATURES,
    perChannel: 50,
    enabled: { users: true, sessions: true },
    // Read by the loader in workerd; 'auto' never reaches it here (the stage is enabled for both).
    fallback: { users: 'blend', sessions: 'itemItem' } as const,
    backend: 'tfjs-cpu',
    rankModel: 'ials',
  };
  const c = await writeFixtureVersion(dataset, modelA, {
    version: 'fixture-c',
    ranking,
    rankingStage: {
      itemItem,
      userRecent: recentCsr(dataset, all),
      itemItemConfig: itemItemOptions,
      learned: { ...learned, backend: 'tfjs-cpu' },
      config: stageConfig,
      metrics: {},
    },
  });
  const servingC = await loadServingModel(
    await openVersion(memoryStore(new Map([...c.files, [POINTER_KEY, c.pointer]]))),
    { simd },
  );
  if (!servingC.learned || !servingC.itemItem) throw new Error('fixture: version c serves no learned stage');
  const movieIdsOf = (items: { itemIndex: number }[]) =>
    items.map((i) => servingC.movies[i.itemIndex]!.movieId);
  const learnedRecommendations = [0, 17, 300].map((userIndex) => {
    const user = knownUser(servingC, userIndex);
    const result = recommend(servingC, user, { k: 10 });
    return {
      userId: dataset.userIds[userIndex]!,
      movieIds: movieIdsOf(result.items),
      scores: result.items.map((i) => i.score),
      blendMovieIds: movieIdsOf(recommend(servingC, user, { k: 10, stage: 'blend' }).items),
    };
  });
  const learnedSessions = sessionRatings.map((ratings) => {
    const user = sessionUser(
      servingC,
      ratings.map((r) => ({ itemIndex: servingC.itemIndexById.get(r.movieId)!, rating: r.rating })),
    );
    const result = recommend(servingC, user, { k: 10 });
    return {
      ratings,
      movieIds: movieIdsOf(result.items),
      scores: result.items.map((i) => i.score),
      blendMovieIds: movieIdsOf(recommend(servingC, user, { k: 10, stage: 'blend' }).items),
    };
  });
  const blobs: Record<string, string> = {};
  const fixture: ProvidedFixture = {
    learned: {
      c: await toProvided(c, blobs),
      recommendations: learnedRecommendations,
      sessions: learnedSessions,
    },
    blobs,
    a: await toProvided(a, blobs),
    b: await toProvided(b, blobs),
    predictions,
    recommendations,
    recommendationsWithoutRanking,
    sessions,
    rankingFactors: ranking.factors,
    // int8 per-row: |error| <= sum_j |u_j| * scale_i / 2, about 0.01 at 32 factors here; 0.05 is a safe bound.
    tolerance: 0.05,
    buildMs: performance.now() - started,
  };
  if (maxError > fixture.tolerance)
    throw new Error(`fixture: Node serving differs from float MF by ${maxError} > ${fixture.tolerance}`);
  project.provide('reelrankFixture', fixture);
}
