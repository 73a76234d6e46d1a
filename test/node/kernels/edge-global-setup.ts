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
import { knownUser, predictRating, recommend } from '../../../shared/serving/scoring.ts';
import { loadDataset } from '../../../train/data/index.ts';
import type { ProvidedFixture, ProvidedVersion } from '../../edge/fixture-types.ts';
import {
  type FixtureVersion,
  fitBiasedMf,
  memoryStore,
  POINTER_KEY,
  predictFloat,
  writeFixtureVersion,
} from './fixture-version.ts';

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
  const a = await writeFixtureVersion(dataset, modelA, { version: 'fixture-a' });
  const b = await writeFixtureVersion(dataset, modelB, {
    version: 'fixture-b',
    contentNeighbors: false,
    previous: 'fixture-a',
  });
  const objects = new Map(a.files);
  objects.set(POINTER_KEY, a.pointer);
  // The same SIMD kernel bytes the edge bundles, compiled by Node: one kernel, two runtimes.
  const wasm = new WebAssembly.Module(INT8_SIMD_WASM);
  const simd = () => new WebAssembly.Instance(wasm, {}).exports as unknown as Int8SimdExports;
  const serving = await loadServingModel(await openVersion(memoryStore(objects)), { simd });
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
  const blobs: Record<string, string> = {};
  const fixture: ProvidedFixture = {
    blobs,
    a: await toProvided(a, blobs),
    b: await toProvided(b, blobs),
    predictions,
    recommendations,
    // int8 per-row: |error| <= sum_j |u_j| * scale_i / 2, about 0.01 at 32 factors here; 0.05 is a safe bound.
    tolerance: 0.05,
    buildMs: performance.now() - started,
  };
  if (maxError > fixture.tolerance)
    throw new Error(`fixture: Node serving differs from float MF by ${maxError} > ${fixture.tolerance}`);
  project.provide('reelrankFixture', fixture);
}
