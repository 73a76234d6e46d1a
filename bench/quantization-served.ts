/**
 * The served parts of bench/quantization.ts (issue 12): the implicit-ALS ranking factors as the
 * version stores them (item int8 rows with float16 scales, users float16) and the learned ranking
 * model (Dense weights as uint8 TF.js shards), each against its float32 original:
 *   ials: size ratio, top-10 overlap of each test user's recommendations (unseen items), and
 *         held-out nDCG@10 / Recall@10 float32 vs stored;
 *   ranker: shard bytes float32 vs uint8, max |logit difference| over real candidate lists,
 *         top-10 overlap of the ranked candidates, and the lists' nDCG@10 float32 vs uint8.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { decodeMatrix, encodeMatrix, matrixToFloat32 } from '../shared/artifacts/codecs.ts';
import { topK } from '../shared/kernels/topk.ts';
import {
  type DenseLayer,
  denseStack,
  learnedCandidates,
  RANKER_FEATURE_COUNT,
} from '../shared/serving/ranker.ts';
import { knownUser, sessionUser } from '../shared/serving/scoring.ts';
import { selectBackend } from '../train/backend.ts';
import type { Dataset } from '../train/data/dataset.ts';
import { ndcgAt, recallAt } from '../train/eval/metrics.ts';
import { Ials } from '../train/models/ials.ts';
import { fitLearnedRanking, prepareCarve, quantizedLayers } from '../train/models/ranker.ts';
import { IALS_DEFAULTS } from '../train/models/registry.ts';

const K = 10;

function overlap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const set = new Set(Array.from(a));
  let n = 0;
  for (let i = 0; i < b.length; i++) if (set.has(b[i]!)) n++;
  return n / Math.max(1, a.length);
}

function floatLayers(model: tfl.Sequential): DenseLayer[] {
  return model.layers.map((layer) => {
    const [kernel, bias] = layer.getWeights();
    const units = (layer.getConfig() as { units: number }).units;
    return {
      inputs: kernel!.shape[0]!,
      units,
      kernel: Float32Array.from(kernel!.dataSync() as Float32Array),
      bias: bias ? Float32Array.from(bias.dataSync() as Float32Array) : new Float32Array(units),
      activation: (layer.getConfig() as { activation: string }).activation === 'relu' ? 'relu' : 'linear',
    };
  });
}

export async function servedQuantization(dataset: Dataset, train: Uint32Array, test: Uint32Array) {
  // 1. Implicit ALS as served.
  const ials = new Ials(IALS_DEFAULTS);
  await ials.fit({ dataset, train, seed: 0 });
  const r = ials.exportRankFactors();
  const items = dataset.movies.length;
  const users = dataset.userIds.length;
  const k = r.factors;
  const itemBytes = encodeMatrix(r.itemFactors, items, k, 'int8', { scaleDtype: 'float16' });
  const userBytes = encodeMatrix(r.userFactors, users, k, 'float16');
  const storedItems = matrixToFloat32(decodeMatrix(itemBytes, items, k, 'int8', { scaleDtype: 'float16' }));
  const storedUsers = matrixToFloat32(decodeMatrix(userBytes, users, k, 'float16'));
  const seen = new Map<number, Set<number>>();
  const held = new Map<number, Set<number>>();
  for (const j of train) {
    const u = dataset.ratings.userIndex[j]!;
    if (!seen.has(u)) seen.set(u, new Set());
    seen.get(u)!.add(dataset.ratings.itemIndex[j]!);
  }
  for (const j of test) {
    const u = dataset.ratings.userIndex[j]!;
    if (!held.has(u)) held.set(u, new Set());
    held.get(u)!.add(dataset.ratings.itemIndex[j]!);
  }
  const scoreTop = (userF: Float32Array, itemF: Float32Array, u: number) => {
    const scores = new Float32Array(items);
    for (let i = 0; i < items; i++) {
      let s = 0;
      for (let f = 0; f < k; f++) s += userF[u * k + f]! * itemF[i * k + f]!;
      scores[i] = s;
    }
    const exclude = seen.get(u);
    return topK(scores, K, exclude ? (i) => exclude.has(i) : undefined).indexes;
  };
  let sumOverlap = 0;
  const sums = { floatNdcg: 0, storedNdcg: 0, floatRecall: 0, storedRecall: 0 };
  let n = 0;
  for (const [u, relevant] of held) {
    const a = scoreTop(r.userFactors, r.itemFactors, u);
    const b = scoreTop(storedUsers, storedItems, u);
    sumOverlap += overlap(a, b);
    sums.floatNdcg += ndcgAt(a, relevant, K);
    sums.storedNdcg += ndcgAt(b, relevant, K);
    sums.floatRecall += recallAt(a, relevant, K);
    sums.storedRecall += recallAt(b, relevant, K);
    n++;
  }
  const round = (x: number) => Math.round(x * 1e5) / 1e5;
  const ialsResult = {
    factors: k,
    stored: 'items int8 per row + float16 scales, users float16 (as reelrank train writes rank_*)',
    sizeRatio: round(((items + users) * k * 4) / (itemBytes.length + userBytes.length)),
    top10Overlap: round(sumOverlap / n),
    ndcg10: { float32: round(sums.floatNdcg / n), stored: round(sums.storedNdcg / n) },
    recall10: { float32: round(sums.floatRecall / n), stored: round(sums.storedRecall / n) },
    users: n,
  };

  // 2. The learned ranking model, float32 vs its uint8 shards, on real candidate lists.
  await selectBackend({ backend: 'cpu' });
  const prepared = await prepareCarve(dataset, train, null);
  const learned = await fitLearnedRanking({ dataset, rows: train, content: null, prepared, epochs: 6 });
  const exact = floatLayers(learned.model);
  const stored = quantizedLayers(learned.model);
  const weights = exact.reduce((s, l) => s + l.kernel.length + l.bias.length, 0);
  let maxDiff = 0;
  let rankOverlap = 0;
  const ndcg = { float32: 0, uint8: 0 };
  let lists = 0;
  for (const [u, labels] of prepared.carve.labels) {
    for (const user of [
      knownUser(prepared.model, u),
      sessionUser(prepared.model, prepared.carve.sessions.get(u)!),
    ]) {
      const found = learnedCandidates(prepared.model, user, { k: K }, 100);
      const m = found.ids.length;
      const a = denseStack(exact, found.features, m);
      const b = denseStack(stored, found.features, m);
      for (let p = 0; p < m; p++) maxDiff = Math.max(maxDiff, Math.abs(a[p]! - b[p]!));
      const ta = Array.from(topK(a, K).indexes, (p) => found.ids[p]!);
      const tb = Array.from(topK(b, K).indexes, (p) => found.ids[p]!);
      rankOverlap += overlap(ta, tb);
      ndcg.float32 += ndcgAt(ta, labels, K);
      ndcg.uint8 += ndcgAt(tb, labels, K);
      lists++;
    }
  }
  learned.model.dispose();
  tf.disposeVariables();
  const rankerResult = {
    layers: exact.map((l) => `${l.inputs}->${l.units} ${l.activation}`),
    features: RANKER_FEATURE_COUNT,
    weights,
    bytes: { float32: weights * 4, uint8: weights },
    sizeRatio: 4,
    maxAbsLogitDifference: round(maxDiff),
    top10Overlap: round(rankOverlap / lists),
    ndcg10: { float32: round(ndcg.float32 / lists), uint8: round(ndcg.uint8 / lists) },
    lists,
  };
  const checks = {
    'served iALS: top-10 overlap >= 0.95 (stored vs float32)': ialsResult.top10Overlap >= 0.95,
    'served iALS: |nDCG@10 change| <= 0.002':
      Math.abs(ialsResult.ndcg10.stored - ialsResult.ndcg10.float32) <= 0.002,
    'ranking model: top-10 overlap >= 0.95 (uint8 vs float32)': rankerResult.top10Overlap >= 0.95,
    'ranking model: |nDCG@10 change| <= 0.002':
      Math.abs(rankerResult.ndcg10.uint8 - rankerResult.ndcg10.float32) <= 0.002,
  };
  return { ials: ialsResult, ranker: rankerResult, checks };
}
