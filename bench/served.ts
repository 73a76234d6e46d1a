/**
 * `npm run bench -- served [--datasets ml-latest-small,ml-100k] [--dense-items 2500] [--seed 0]`
 *
 * What the served path ranks, judged on a protocol it can answer. Per dataset: every user's latest
 * 5 ratings are held out (train/models/ranker.ts `timeCarve`); 30% of the users (seeded) are
 * anonymous: none of their rows is trained on, and they come back as sessions of the 5 ratings
 * just before their held-out ones. A real version is trained on the rest with `runTraining` (what
 * `reelrank train` runs: factors, implicit ALS, sparse EASE, the learned stage on its own time
 * carve of these rows), loaded with the serving loader, and every row below is ranked by the
 * serving code (shared/serving) on the model loaded from the version's files:
 *
 * - popularity, iALS alone: `recommend` with one-channel blend weights;
 * - sparse EASE alone: the served item-item lists through `itemItemScores`, seen masked, top 10;
 * - linear blend: `recommend` with stage 'blend' (the hand-tuned weights);
 * - learned: `recommend` with stage 'learned'; served: stage 'auto' (what the version enables);
 * - dense EASE (offline reference): train/models/ease.ts fitted on the same rows.
 *
 * Also: the cost of sparsification (nDCG@10 of EASE at the served item count, dense vs top-N per
 * item for several N) and bytes. Writes bench/results/served.json with `checks`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyMask, buildItemMask } from '../shared/kernels/filters.ts';
import { itemItemBytes, itemItemScores, sparsifyItemItem } from '../shared/kernels/sparse-item.ts';
import { topK } from '../shared/kernels/topk.ts';
import { createRng } from '../shared/random.ts';
import { loadServingModel } from '../shared/serving/from-artifacts.ts';
import {
  knownUser,
  type RecommendOptions,
  recommend,
  sessionUser,
  type UserState,
} from '../shared/serving/scoring.ts';
import type { Dataset } from '../train/data/dataset.ts';
import { DEFAULT_DATA_DIR, loadDataset } from '../train/data/index.ts';
import { hitRateAt, ndcgAt, recallAt } from '../train/eval/metrics.ts';
import { Ease } from '../train/models/ease.ts';
import { openVersionFolder } from '../train/models/neural/version.ts';
import { ITEM_ITEM_DEFAULTS, timeCarve } from '../train/models/ranker.ts';
import { runTraining } from '../train/pipeline/train.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = resolve(repoRoot, '../shared/data');

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : (process.argv[i + 1] ?? fallback);
}
const DATASETS = flag('datasets', 'ml-latest-small,ml-100k').split(',');
const DENSE_ITEMS = Number(flag('dense-items', '2500'));
/** Seed of the version's training (the holdout and the anonymous users stay the same). */
const SEED = Number(flag('seed', '0'));
const SESSION_SHARE = 0.3;
const K = 10;

interface Metrics {
  ndcg10: number;
  recall10: number;
  hr10: number;
  n: number;
}
class Mean {
  private sums = { ndcg10: 0, recall10: 0, hr10: 0 };
  private n = 0;
  add(ranked: ArrayLike<number>, relevant: Set<number>): void {
    this.sums.ndcg10 += ndcgAt(ranked, relevant, K);
    this.sums.recall10 += recallAt(ranked, relevant, K);
    this.sums.hr10 += hitRateAt(ranked, relevant, K);
    this.n++;
  }
  result(): Metrics {
    const r = (x: number) => Math.round((x / Math.max(1, this.n)) * 10000) / 10000;
    return {
      ndcg10: r(this.sums.ndcg10),
      recall10: r(this.sums.recall10),
      hr10: r(this.sums.hr10),
      n: this.n,
    };
  }
}

/** A dataset restricted to some rows (same users, movies and indexes). */
function subset(dataset: Dataset, rows: Uint32Array): Dataset {
  const { userIndex, itemIndex, rating, timestamp } = dataset.ratings;
  const pick = <T extends Uint32Array | Float32Array>(a: T): T => {
    const out = new (a.constructor as new (n: number) => T)(rows.length);
    rows.forEach((j, n) => {
      out[n] = a[j]!;
    });
    return out;
  };
  return {
    ...dataset,
    ratings: {
      length: rows.length,
      userIndex: pick(userIndex),
      itemIndex: pick(itemIndex),
      rating: pick(rating),
      timestamp: pick(timestamp),
    },
    officialSplits: {},
  };
}

const ONLY = (w: {
  collaborative: number;
  content: number;
  popularity: number;
}): RecommendOptions['blend'] => ({
  newUser: w,
  regular: w,
});

/** Dense EASE scores of a list of items (Σ of B rows), unmodelled items last by popularity. */
function denseEaseTop(
  modelled: Uint32Array,
  weights: Float32Array,
  items: ArrayLike<number>,
  popularity: Float32Array,
  mask: Uint8Array | null,
): Uint32Array {
  const n = modelled.length;
  const slot = new Map<number, number>();
  for (let s = 0; s < n; s++) slot.set(modelled[s]!, s);
  const sums = new Float32Array(n);
  for (let p = 0; p < items.length; p++) {
    const s = slot.get(items[p]!);
    if (s === undefined) continue;
    for (let b = 0; b < n; b++) sums[b] = sums[b]! + weights[s * n + b]!;
  }
  const scores = Float32Array.from(popularity, (p) => -1e6 + p);
  for (let b = 0; b < n; b++) scores[modelled[b]!] = sums[b]!;
  return topK(applyMask(scores, mask), K).indexes;
}

async function benchDataset(name: string) {
  const path = name === 'ml-latest-small' ? DEFAULT_DATA_DIR : join(SHARED, name);
  const dataset = await loadDataset(path);
  const all = Uint32Array.from({ length: dataset.ratings.length }, (_, j) => j);
  const carve = timeCarve(dataset, all);
  const rng = createRng(20260);
  const users = [...carve.labels.keys()].sort((a, b) => a - b);
  const sessionUsers = new Set(users.filter(() => rng.next() < SESSION_SHARE));
  const trainRows = carve.fit.filter((j) => !sessionUsers.has(dataset.ratings.userIndex[j]!));
  const train = subset(dataset, trainRows);
  const out = mkdtempSync(join(tmpdir(), 'reelrank-served-'));
  try {
    const started = performance.now();
    const lines: string[] = [];
    const trained = await runTraining({
      dataset: train,
      out,
      seed: SEED,
      quickReport: true,
      version: `served-${name}`,
      log: (line) => {
        lines.push(line);
        if (/ranker|item-item|learned|written/.test(line)) console.log(`  ${line}`);
      },
    });
    const trainSeconds = (performance.now() - started) / 1000;
    const version = await openVersionFolder(trained.dir, trained.version);
    const model = await loadServingModel(version);
    if (!model.itemItem || !model.learned)
      throw new Error('the version has no item-item channel or learned stage');
    const config = (version.manifest.trainingConfig as Record<string, unknown>).learnedRanking as {
      enabled: { users: boolean; sessions: boolean };
      fallback?: { users: string; sessions: string };
    };

    // Dense EASE offline reference on the same rows, and EASE at the served item count (dense and
    // sparsified at several widths) for the cost of sparsification.
    let t = performance.now();
    const dense = new Ease({ maxItems: DENSE_ITEMS, lambda: ITEM_ITEM_DEFAULTS.lambda });
    await dense.fit({
      dataset: train,
      train: Uint32Array.from({ length: train.ratings.length }, (_, j) => j),
      seed: 0,
    });
    const denseSeconds = (performance.now() - t) / 1000;
    const denseW = dense.itemItemWeights();
    t = performance.now();
    const servedCount = new Ease({
      maxItems: ITEM_ITEM_DEFAULTS.maxItems,
      lambda: ITEM_ITEM_DEFAULTS.lambda,
    });
    await servedCount.fit({
      dataset: train,
      train: Uint32Array.from({ length: train.ratings.length }, (_, j) => j),
      seed: 0,
    });
    const servedCountSeconds = (performance.now() - t) / 1000;
    const servedW = servedCount.itemItemWeights();
    const widths = [25, 50, 100, 200];
    const sparseVariants = widths.map((w) => ({
      width: w,
      lists: sparsifyItemItem(servedW.weights, servedW.modelled, dataset.movies.length, w),
    }));

    const rows = ['popularity', 'ials', 'sparseEase', 'denseEase', 'blend', 'learned', 'served'] as const;
    const result: Record<'users' | 'sessions', Record<(typeof rows)[number], Mean>> = {
      users: Object.fromEntries(rows.map((r) => [r, new Mean()])) as never,
      sessions: Object.fromEntries(rows.map((r) => [r, new Mean()])) as never,
    };
    const sparsification = {
      dense: { users: new Mean(), sessions: new Mean() },
      ...Object.fromEntries(
        sparseVariants.map((v) => [`top${v.width}`, { users: new Mean(), sessions: new Mean() }]),
      ),
    } as Record<string, { users: Mean; sessions: Mean }>;
    const latency: Record<string, number[]> = { blend: [], learned: [] };
    const scores = new Float32Array(model.itemCount);
    const evaluate = (kind: 'users' | 'sessions', user: UserState, relevant: Set<number>) => {
      const r = result[kind];
      const ids = (options: RecommendOptions) =>
        recommend(model, user, options).items.map((it) => it.itemIndex);
      r.popularity.add(
        ids({ k: K, stage: 'blend', blend: ONLY({ collaborative: 0, content: 0, popularity: 1 }) }),
        relevant,
      );
      r.ials.add(
        ids({ k: K, stage: 'blend', blend: ONLY({ collaborative: 1, content: 0, popularity: 0 }) }),
        relevant,
      );
      let t0 = performance.now();
      r.blend.add(ids({ k: K, stage: 'blend' }), relevant);
      latency.blend!.push(performance.now() - t0);
      t0 = performance.now();
      r.learned.add(ids({ k: K, stage: 'learned' }), relevant);
      latency.learned!.push(performance.now() - t0);
      r.served.add(ids({ k: K }), relevant);
      const mask = buildItemMask(model.filterAttributes, { exclude: user.seen });
      itemItemScores(model.itemItem!, user.seen, null, scores);
      r.sparseEase.add(topK(applyMask(scores, mask), K).indexes, relevant);
      r.denseEase.add(
        denseEaseTop(denseW.modelled, denseW.weights, user.seen, model.popularity, mask),
        relevant,
      );
      sparsification.dense![kind].add(
        denseEaseTop(servedW.modelled, servedW.weights, user.seen, model.popularity, mask),
        relevant,
      );
      for (const v of sparseVariants) {
        itemItemScores(v.lists, user.seen, null, scores);
        sparsification[`top${v.width}`]![kind].add(topK(applyMask(scores, mask), K).indexes, relevant);
      }
    };
    for (const u of users) {
      const relevant = carve.labels.get(u)!;
      if (sessionUsers.has(u)) {
        evaluate('sessions', sessionUser(model, carve.sessions.get(u)!), relevant);
      } else {
        const index = model.userIndexById.get(dataset.userIds[u]!);
        if (index === undefined) continue;
        evaluate('users', knownUser(model, index), relevant);
      }
    }
    const metrics = {
      users: Object.fromEntries(rows.map((r) => [r, result.users[r].result()])),
      sessions: Object.fromEntries(rows.map((r) => [r, result.sessions[r].result()])),
    } as Record<'users' | 'sessions', Record<(typeof rows)[number], Metrics>>;
    const checks: Record<string, boolean> = {};
    for (const kind of ['users', 'sessions'] as const) {
      const m = metrics[kind];
      const bestSingle = Math.max(m.popularity.ndcg10, m.ials.ndcg10, m.sparseEase.ndcg10);
      checks[`${kind}LearnedAtLeast1.05xBestSingleChannel`] = m.learned.ndcg10 >= 1.05 * bestSingle;
      checks[`${kind}LearnedAtLeastDenseEase`] = m.learned.ndcg10 >= m.denseEase.ndcg10;
      checks[`${kind}ServedAtLeastBlend`] = m.served.ndcg10 >= m.blend.ndcg10;
    }
    const q = (xs: number[], p: number) => {
      const s = [...xs].sort((a, b) => a - b);
      return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 1000) / 1000;
    };
    const stageMetrics = (trained.metrics as Record<string, Record<string, number>>).rankingStage ?? {};
    return {
      dataset: name,
      ratings: dataset.ratings.length,
      trainRatings: trainRows.length,
      knownUsers: metrics.users.learned.n,
      sessionUsers: metrics.sessions.learned.n,
      enabled: config.enabled,
      fallback: config.fallback ?? null,
      metrics,
      checks,
      sparsification: {
        servedItems: ITEM_ITEM_DEFAULTS.maxItems,
        servedWidth: model.itemItem.width,
        servedBytes: itemItemBytes(model.itemItem),
        denseBytesAtServedItems: servedW.modelled.length ** 2 * 4,
        denseItemsReference: denseW.modelled.length,
        denseFitSeconds: Math.round(denseSeconds * 10) / 10,
        servedCountFitSeconds: Math.round(servedCountSeconds * 10) / 10,
        ndcg10: Object.fromEntries(
          Object.entries(sparsification).map(([key, m]) => [
            key,
            { users: m.users.result().ndcg10, sessions: m.sessions.result().ndcg10 },
          ]),
        ),
        bytes: Object.fromEntries(sparseVariants.map((v) => [`top${v.width}`, itemItemBytes(v.lists)])),
      },
      inProcessMs: {
        blend: { p50: q(latency.blend!, 0.5), p99: q(latency.blend!, 0.99) },
        learned: { p50: q(latency.learned!, 0.5), p99: q(latency.learned!, 0.99) },
      },
      training: {
        seconds: Math.round(trainSeconds * 10) / 10,
        rankingStage: stageMetrics,
      },
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const started = Date.now();
const load = { before: loadavg() };
const datasets = [];
for (const name of DATASETS) {
  console.log(`served: ${name}`);
  const r = await benchDataset(name);
  console.log(
    JSON.stringify({
      dataset: name,
      metrics: r.metrics,
      checks: r.checks,
      enabled: r.enabled,
      fallback: r.fallback,
    }),
  );
  datasets.push(r);
}
const checks: Record<string, boolean> = {};
for (const d of datasets)
  for (const [key, value] of Object.entries(d.checks)) checks[`${d.dataset}:${key}`] = value;
const outDir = join(repoRoot, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(
  join(outDir, 'served.json'),
  `${JSON.stringify(
    {
      benchmark: 'served',
      protocol:
        'per user the latest 5 ratings held out; 30% of users anonymous (sessions of the 5 ratings before their held-out ones, none of their rows trained on); relevant = the held-out movies; metrics @10 over unseen movies, through shared/serving on the version runTraining wrote',
      machine: { cpus: cpus().length, loadavgBefore: load.before, loadavgAfter: loadavg() },
      seconds: Math.round((Date.now() - started) / 100) / 10,
      seed: SEED,
      datasets,
      checks,
    },
    null,
    2,
  )}\n`,
);
console.log(`bench/results/served.json written; checks ${JSON.stringify(checks)}`);
