/**
 * `npm run bench -- quantization [--models mf-sgd,svdpp,mf-als] [--queries 1000]` — issue 3's
 * accuracy/size benchmark of the stored matrix dtypes.
 *
 * Item factors come from the project's exportable models (train/models/registry.ts: mf-sgd =
 * biased MF 100 factors, svdpp = SVD++ 50 factors, the pipeline's default export, mf-als = 32
 * factors) trained on ml-latest-small with a seeded random 90/10 holdout, exported with
 * exportFactors() exactly as `reelrank train` exports them. Each item-factor matrix is encoded as
 * float32, float16, int8-per-row (float32 scales) and int8-per-row with float16 scales
 * (shared/artifacts/codecs.ts), decoded and dequantized, and compared with float32:
 *   sizeRatio        float32 bytes / stored bytes (target >= 3.8 for int8)
 *   maxAbsError, meanAbsError   over every element
 *   top10Overlap     mean |top-10 cosine neighbours(float32) ∩ top-10(quantized)| / 10 over
 *                    `queries` seeded warm query items against all warm items (target >= 0.98);
 *                    top10OverlapTieAware also counts neighbours whose exact score ties the 10th
 *   rmseDelta        held-out RMSE (r = mean + b_u + b_i + p_u.q_i, clamped) with quantized item
 *                    factors minus RMSE with float32 (target <= 0.002); `exportedRmseDelta` for the
 *                    combination the pipeline writes (item int8, user float16)
 * plus medians of decode (zero-copy view) and dequantize times; and the served ranking parts
 * (bench/quantization-served.ts: implicit-ALS factors as stored, the uint8 ranking model), whose
 * targets make the `checks`. Writes bench/results/quantization.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeMatrix,
  encodeMatrix,
  type MatrixDtype,
  matrixToFloat32,
  type ScaleDtype,
} from '../shared/artifacts/codecs.ts';
import { createRng } from '../shared/random.ts';
import { servedQuantization } from './quantization-served.ts';
import { topK } from '../shared/kernels/topk.ts';
import { loadDataset } from '../train/data/index.ts';
import { randomHoldout } from '../train/data/splits.ts';
import { createModel, modelEntry } from '../train/models/registry.ts';
import { type FactorExport, isFactorRecommender } from '../train/models/types.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sharedDir = resolve(
  process.env.REELRANK_SHARED_DATA ?? resolve(repoRoot, '../shared/data'),
  'ml-latest-small',
);
const dataDir = existsSync(sharedDir) ? sharedDir : join(repoRoot, 'data/ml-latest-small');
const resultsFile = join(repoRoot, 'bench/results/quantization.json');
const SEED = 7;
const VARIANTS: readonly { name: string; dtype: MatrixDtype; scaleDtype: ScaleDtype }[] = [
  { name: 'float32', dtype: 'float32', scaleDtype: 'float32' },
  { name: 'float16', dtype: 'float16', scaleDtype: 'float32' },
  { name: 'int8', dtype: 'int8', scaleDtype: 'float32' },
  { name: 'int8-f16scales', dtype: 'int8', scaleDtype: 'float16' },
];
const TARGETS = { int8SizeRatio: 3.8, top10Overlap: 0.98, rmseDelta: 0.002 };

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}
const modelNames = flag('models', 'mf-sgd,svdpp,mf-als').split(',');
const queryCount = Number(flag('queries', '1000'));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function timeMedian(runs: number, body: () => unknown): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    body();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** Rows `rows` of `matrix` [*, k], each scaled to unit length (zero rows stay zero). */
function unitRows(matrix: Float32Array, k: number, rows: Uint32Array): Float32Array {
  const out = new Float32Array(rows.length * k);
  for (let j = 0; j < rows.length; j++) {
    const base = rows[j]! * k;
    let norm = 0;
    for (let f = 0; f < k; f++) norm += matrix[base + f]! ** 2;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let f = 0; f < k; f++) out[j * k + f] = matrix[base + f]! * inv;
  }
  return out;
}

/** scores[j] = <unit[j], unit[query]> for every row j. */
function cosineScoresKernel(unit: Float32Array, k: number, query: number, scores: Float32Array): void {
  const q = query * k;
  for (let j = 0; j < scores.length; j++) {
    const base = j * k;
    let dot = 0;
    for (let f = 0; f < k; f++) dot += unit[base + f]! * unit[q + f]!;
    scores[j] = dot;
  }
}

/** Top-10 cosine neighbours (self excluded) of each query, as positions into the candidate rows. */
function neighbours(unit: Float32Array, k: number, candidates: number, queries: Uint32Array): Uint32Array[] {
  const scores = new Float32Array(candidates);
  return Array.from(queries, (query) => {
    cosineScoresKernel(unit, k, query, scores);
    return topK(scores, 10, (j) => j === query).indexes;
  });
}

function overlap(a: Uint32Array[], b: Uint32Array[]): number {
  let sum = 0;
  for (let q = 0; q < a.length; q++) {
    const set = new Set(a[q]);
    let hit = 0;
    for (const id of b[q]!) if (set.has(id)) hit++;
    sum += hit / Math.max(1, a[q]!.length);
  }
  return sum / a.length;
}

/** r = mean + b_u + b_i + p_u.q_i, clamped to the rating scale (what the edge computes). */
function predictKernel(
  f: FactorExport,
  userFactors: Float32Array,
  itemFactors: Float32Array,
  users: Uint32Array,
  items: Uint32Array,
  scale: { min: number; max: number },
): Float32Array {
  const k = f.factors;
  const out = new Float32Array(users.length);
  for (let j = 0; j < users.length; j++) {
    const u = users[j]! * k;
    const i = items[j]! * k;
    let dot = 0;
    for (let c = 0; c < k; c++) dot += userFactors[u + c]! * itemFactors[i + c]!;
    const r = f.mean + f.userBias[users[j]!]! + f.itemBias[items[j]!]! + dot;
    out[j] = Math.min(scale.max, Math.max(scale.min, r));
  }
  return out;
}

/**
 * Like `overlap`, but a quantized neighbour also counts when its exact (float32) cosine ties the
 * exact 10th-best within 1e-6: items with collinear factor vectors (e.g. ALS vectors of movies
 * rated by one user) tie exactly, and which of them the tie-break keeps is arbitrary.
 */
function tieAwareOverlap(
  unit: Float32Array,
  k: number,
  candidates: number,
  queries: Uint32Array,
  exact: Uint32Array[],
  quantized: Uint32Array[],
): number {
  const scores = new Float32Array(candidates);
  let sum = 0;
  for (let q = 0; q < queries.length; q++) {
    cosineScoresKernel(unit, k, queries[q]!, scores);
    const list = exact[q]!;
    const threshold = scores[list[list.length - 1]!]! - 1e-6;
    let hit = 0;
    for (const id of quantized[q]!) if (scores[id]! >= threshold) hit++;
    sum += hit / Math.max(1, list.length);
  }
  return sum / queries.length;
}

function rmse(predicted: Float32Array, truth: Float32Array): number {
  let sse = 0;
  for (let j = 0; j < predicted.length; j++) sse += (predicted[j]! - truth[j]!) ** 2;
  return Math.sqrt(sse / predicted.length);
}

const started = performance.now();
const dataset = await loadDataset(dataDir);
const split = randomHoldout(dataset.ratings, 0.1, SEED);
const testUser = split.test.map((r) => dataset.ratings.userIndex[r]!);
const testItem = split.test.map((r) => dataset.ratings.itemIndex[r]!);
const testRating = Float32Array.from(split.test, (r) => dataset.ratings.rating[r]!);
console.log(
  `${dataset.name}: ${dataset.ratings.length} ratings, ${split.train.length} train / ${split.test.length} held out`,
);

const configs = [];
for (const modelName of modelNames) {
  const model = createModel(modelName);
  if (!isFactorRecommender(model)) throw new Error(`model ${modelName} exports no factors`);
  const fitStarted = performance.now();
  await model.fit({ dataset, train: split.train, seed: SEED });
  const trainSeconds = (performance.now() - fitStarted) / 1000;
  const exported = model.exportFactors();
  const factors = exported.factors;
  const itemFactors = exported.itemFactors;
  const items = itemFactors.length / factors;
  const users = exported.userFactors.length / factors;
  // Warm items (>= 1 training rating) are the ones whose neighbour lists mean something.
  const trained = new Uint8Array(items);
  for (const r of split.train) trained[dataset.ratings.itemIndex[r]!] = 1;
  const warm = Uint32Array.from({ length: items }, (_, i) => i).filter((i) => trained[i] === 1);
  const rng = createRng(SEED);
  const queryPositions = new Uint32Array(Math.min(queryCount, warm.length));
  const picked = new Set<number>();
  for (let q = 0; q < queryPositions.length; ) {
    const position = Math.floor(rng.next() * warm.length);
    if (picked.has(position)) continue;
    picked.add(position);
    queryPositions[q++] = position;
  }
  const exactUnit = unitRows(itemFactors, factors, warm);
  const exactNeighbours = neighbours(exactUnit, factors, warm.length, queryPositions);
  const predict = (userFactors: Float32Array, itemMatrix: Float32Array) =>
    predictKernel(exported, userFactors, itemMatrix, testUser, testItem, dataset.ratingScale);
  const baseRmse = rmse(predict(exported.userFactors, itemFactors), testRating);
  const userFloat16 = matrixToFloat32(
    decodeMatrix(encodeMatrix(exported.userFactors, users, factors, 'float16'), users, factors, 'float16'),
  );

  const results: Record<string, Record<string, number>> = {};
  for (const variant of VARIANTS) {
    const options = { scaleDtype: variant.scaleDtype };
    const bytes = encodeMatrix(itemFactors, items, factors, variant.dtype, options).slice();
    const decodeMs = timeMedian(9, () => decodeMatrix(bytes, items, factors, variant.dtype, options));
    const matrix = decodeMatrix(bytes, items, factors, variant.dtype, options);
    const dequantizeMs = timeMedian(9, () => matrixToFloat32(matrix));
    const restored = matrixToFloat32(matrix);
    let maxAbs = 0;
    let sumAbs = 0;
    for (let j = 0; j < restored.length; j++) {
      const e = Math.abs(restored[j]! - itemFactors[j]!);
      sumAbs += e;
      if (e > maxAbs) maxAbs = e;
    }
    const quantNeighbours = neighbours(
      unitRows(restored, factors, warm),
      factors,
      warm.length,
      queryPositions,
    );
    const quantRmse = rmse(predict(exported.userFactors, restored), testRating);
    const exportedRmse = rmse(predict(userFloat16, restored), testRating);
    results[variant.name] = {
      bytes: bytes.length,
      sizeRatio: Number(((items * factors * 4) / bytes.length).toFixed(4)),
      maxAbsError: maxAbs,
      meanAbsError: sumAbs / restored.length,
      top10Overlap: Number(overlap(exactNeighbours, quantNeighbours).toFixed(5)),
      top10OverlapTieAware: Number(
        tieAwareOverlap(
          exactUnit,
          factors,
          warm.length,
          queryPositions,
          exactNeighbours,
          quantNeighbours,
        ).toFixed(5),
      ),
      rmse: Number(quantRmse.toFixed(6)),
      rmseDelta: Number((quantRmse - baseRmse).toFixed(6)),
      exportedRmseDelta: Number((exportedRmse - baseRmse).toFixed(6)),
      decodeMsMedian: Number(decodeMs.toFixed(4)),
      dequantizeMsMedian: Number(dequantizeMs.toFixed(3)),
    };
  }
  const meets = (name: string) => ({
    sizeRatio: results[name]!.sizeRatio! >= TARGETS.int8SizeRatio,
    top10Overlap: results[name]!.top10Overlap! >= TARGETS.top10Overlap,
    rmseDelta: Math.abs(results[name]!.rmseDelta!) <= TARGETS.rmseDelta,
  });
  configs.push({
    model: {
      name: modelName,
      about: modelEntry(modelName).about,
      factors,
      trainSeconds: Number(trainSeconds.toFixed(2)),
    },
    items,
    warmItems: warm.length,
    queries: queryPositions.length,
    float32Rmse: Number(baseRmse.toFixed(6)),
    results,
    meetsTargets: {
      int8: meets('int8'),
      'int8-f16scales': meets('int8-f16scales'),
      float16: { top10Overlap: meets('float16').top10Overlap, rmseDelta: meets('float16').rmseDelta },
    },
  });
  console.log(
    `${modelName} (${factors} factors): float32 RMSE ${baseRmse.toFixed(4)}, ${warm.length} warm of ${items} items, trained in ${trainSeconds.toFixed(1)} s`,
  );
  for (const variant of VARIANTS) {
    const r = results[variant.name]!;
    console.log(
      `  ${variant.name.padEnd(15)} ${String(r.bytes).padStart(8)} B  x${r.sizeRatio!.toFixed(3)}  max|e| ${r.maxAbsError!.toExponential(2)}  mean|e| ${r.meanAbsError!.toExponential(2)}  top10 ${r.top10Overlap!.toFixed(4)} (ties ${r.top10OverlapTieAware!.toFixed(4)})  dRMSE ${r.rmseDelta!.toFixed(6)} (exported ${r.exportedRmseDelta!.toFixed(6)})  decode ${r.decodeMsMedian} ms  dequant ${r.dequantizeMsMedian} ms`,
    );
  }
}

// The served ranking parts (issue 12): implicit-ALS factors as stored, the learned ranking model.
const served = await servedQuantization(dataset, split.train, split.test);
console.log(`served parts: ${JSON.stringify(served)}`);

const output = {
  benchmark: 'quantization',
  dataset: { name: dataset.name, source: dataDir, ratings: dataset.ratings.length },
  split: {
    kind: 'random holdout',
    testFraction: 0.1,
    seed: SEED,
    train: split.train.length,
    test: split.test.length,
  },
  neighbours: 'top-10 by cosine among warm items (>= 1 training rating), self excluded; queries seeded',
  targets: TARGETS,
  configs,
  served: { ials: served.ials, ranker: served.ranker },
  checks: served.checks,
  seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
  node: process.version,
  date: new Date().toISOString(),
};
mkdirSync(dirname(resultsFile), { recursive: true });
writeFileSync(resultsFile, `${JSON.stringify(output, null, 2)}\n`);
console.log(`wrote ${resultsFile} in ${output.seconds} s`);
