/**
 * `npm run bench -- quantization [--factors 100,64] [--queries 1000]` — issue 3's accuracy/size
 * benchmark of the stored matrix dtypes.
 *
 * Item factors come from the project's own biased MF (train/models/mf.ts, SGD, its defaults)
 * trained on ml-latest-small with a seeded random 90/10 holdout. Each item-factor matrix is
 * encoded as float32, float16 and int8-per-row (shared/artifacts/codecs.ts), decoded and
 * dequantized, and compared with float32:
 *   sizeRatio        float32 bytes / stored bytes (target >= 3.8 for int8)
 *   maxAbsError, meanAbsError   over every element
 *   top10Overlap     mean |top-10 cosine neighbours(float32) ∩ top-10(quantized)| / 10 over
 *                    `queries` seeded warm query items against all warm items (target >= 0.98)
 *   rmseDelta        held-out RMSE with quantized item factors minus RMSE with float32 (target <= 0.002)
 * plus medians of decode (zero-copy view) and dequantize times. Writes bench/results/quantization.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeMatrix, encodeMatrix, type MatrixDtype, matrixToFloat32 } from '../shared/artifacts/codecs.ts';
import { createRng } from '../shared/random.ts';
import { topK } from '../shared/kernels/topk.ts';
import { loadDataset } from '../train/data/index.ts';
import { randomHoldout } from '../train/data/splits.ts';
import { BiasedMf } from '../train/models/mf.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sharedDir = resolve(
  process.env.REELRANK_SHARED_DATA ?? resolve(repoRoot, '../shared/data'),
  'ml-latest-small',
);
const dataDir = existsSync(sharedDir) ? sharedDir : join(repoRoot, 'data/ml-latest-small');
const resultsFile = join(repoRoot, 'bench/results/quantization.json');
const SEED = 7;
const DTYPES: readonly MatrixDtype[] = ['float32', 'float16', 'int8'];
const TARGETS = { int8SizeRatio: 3.8, top10Overlap: 0.98, rmseDelta: 0.002 };

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}
const factorList = flag('factors', '100,64').split(',').map(Number);
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
for (const factors of factorList) {
  const model = new BiasedMf({ factors });
  const fit = await model.fit({ dataset, train: split.train, seed: SEED });
  const items = model.itemFactors.length / factors;
  const itemFactors = model.itemFactors;
  // Warm items (>= 1 training rating) are the ones whose neighbour lists mean something.
  const warm = Uint32Array.from({ length: items }, (_, i) => i).filter((i) => model.warmItems[i] === 1);
  const rng = createRng(SEED);
  const queryPositions = new Uint32Array(Math.min(queryCount, warm.length));
  const picked = new Set<number>();
  for (let q = 0; q < queryPositions.length; ) {
    const position = Math.floor(rng.next() * warm.length);
    if (picked.has(position)) continue;
    picked.add(position);
    queryPositions[q++] = position;
  }
  const exactNeighbours = neighbours(
    unitRows(itemFactors, factors, warm),
    factors,
    warm.length,
    queryPositions,
  );
  const baseRmse = rmse(model.predict(testUser, testItem), testRating);

  const results: Record<string, unknown> = {};
  for (const dtype of DTYPES) {
    const bytes = encodeMatrix(itemFactors, items, factors, dtype).slice();
    const decodeMs = timeMedian(9, () => decodeMatrix(bytes, items, factors, dtype));
    const matrix = decodeMatrix(bytes, items, factors, dtype);
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
    model.itemFactors = restored;
    const quantRmse = rmse(model.predict(testUser, testItem), testRating);
    model.itemFactors = itemFactors;
    results[dtype] = {
      bytes: bytes.length,
      sizeRatio: Number(((items * factors * 4) / bytes.length).toFixed(4)),
      maxAbsError: maxAbs,
      meanAbsError: sumAbs / restored.length,
      top10Overlap: Number(overlap(exactNeighbours, quantNeighbours).toFixed(5)),
      rmse: Number(quantRmse.toFixed(6)),
      rmseDelta: Number((quantRmse - baseRmse).toFixed(6)),
      decodeMsMedian: Number(decodeMs.toFixed(4)),
      dequantizeMsMedian: Number(dequantizeMs.toFixed(3)),
    };
  }
  const int8 = results.int8 as { sizeRatio: number; top10Overlap: number; rmseDelta: number };
  const float16 = results.float16 as { top10Overlap: number; rmseDelta: number };
  configs.push({
    model: {
      name: model.name,
      factors,
      solver: 'sgd',
      defaults: 'train/models/mf.ts',
      trainSeconds: Number(fit.seconds.toFixed(2)),
    },
    items,
    warmItems: warm.length,
    queries: queryPositions.length,
    float32Rmse: Number(baseRmse.toFixed(6)),
    results,
    meetsTargets: {
      int8SizeRatio: int8.sizeRatio >= TARGETS.int8SizeRatio,
      int8Top10Overlap: int8.top10Overlap >= TARGETS.top10Overlap,
      int8RmseDelta: Math.abs(int8.rmseDelta) <= TARGETS.rmseDelta,
      float16Top10Overlap: float16.top10Overlap >= TARGETS.top10Overlap,
      float16RmseDelta: Math.abs(float16.rmseDelta) <= TARGETS.rmseDelta,
    },
  });
  console.log(
    `factors ${factors}: float32 RMSE ${baseRmse.toFixed(4)} (${warm.length} warm of ${items} items)`,
  );
  for (const dtype of DTYPES) {
    const r = results[dtype] as Record<string, number>;
    console.log(
      `  ${dtype.padEnd(7)} ${String(r.bytes).padStart(8)} B  x${r.sizeRatio!.toFixed(3)}  max|e| ${r.maxAbsError!.toExponential(2)}  mean|e| ${r.meanAbsError!.toExponential(2)}  top10 ${r.top10Overlap!.toFixed(4)}  dRMSE ${r.rmseDelta!.toFixed(6)}  decode ${r.decodeMsMedian} ms  dequant ${r.dequantizeMsMedian} ms`,
    );
  }
}

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
  seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
  node: process.version,
  date: new Date().toISOString(),
};
mkdirSync(dirname(resultsFile), { recursive: true });
writeFileSync(resultsFile, `${JSON.stringify(output, null, 2)}\n`);
console.log(`wrote ${resultsFile} in ${output.seconds} s`);
