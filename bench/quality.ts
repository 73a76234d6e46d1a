/**
 * `npm run bench -- quality [sections...]` — the quality benchmark of issue 6.
 *
 * Sections (default: all): u1 (ml-100k official u1 RMSE, with the blend's members each rated
 * as `blend/<k>:<member>`; settings chosen by bench/rating-validation.ts), stratified (ml-100k
 * per-user 75/25 full ranking @10: popularity, MF, BPR, EASE and implicit ALS, λ/α chosen on a validation carve),
 * ranking-latest (the same protocol and models on ml-latest-small), ncf (ml-100k leave-last-out, 99 sampled negatives:
 * popularity, EASE, and the neural NCF `ncf-neumf` with checks against the PyTorch NCF), latest (ml-latest-small
 * random 90/10 RMSE), cold (ml-latest-small cold items, genres + tags + TMDB text), neural (the
 * references' neural models from train/models/neural on the same ml-100k splits: u1 rating
 * models, NCF protocol for NCF), refs (the references' published floors, for the table).
 *
 * Reads ../shared/data (or REELRANK_SHARED_DATA); writes bench/results/quality.json as rows
 * {dataset, protocol, model, metric, value, seed, trainSeconds}, merging with rows of sections
 * not run this time. Hyper-parameters are chosen on validation carves of the training rows.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fitTextEmbeddings } from '../train/content/index.ts';
import type { Dataset, Split } from '../train/data/dataset.ts';
import { loadDataset } from '../train/data/index.ts';
import {
  compareModels,
  formatTable,
  metricRows,
  protocolMetrics,
  type ResultRow,
} from '../train/eval/compare.ts';
import { evaluateRanking, evaluateRating, evaluateSampled } from '../train/eval/harness.ts';
import {
  carveLastOut,
  coldItemSplit,
  leaveLastOut,
  randomSplit,
  stratifiedSplit,
} from '../train/eval/protocols.ts';
import { chooseOnValidation } from '../train/eval/tuning.ts';
import { PopularityModel } from '../train/models/baselines.ts';
import { Bpr } from '../train/models/bpr.ts';
import { ColdStartHybrid } from '../train/models/cold.ts';
import { Ease, type EaseOptions } from '../train/models/ease.ts';
import { Ials, type IalsOptions } from '../train/models/ials.ts';
import { IALS_DEFAULTS } from '../train/models/registry.ts';
import { buildItemFeatures, type ItemFeatures } from '../train/models/features.ts';
import { BiasedMf } from '../train/models/mf.ts';
import { createModel } from '../train/models/registry.ts';
import { RidgeBlend } from '../train/models/blend.ts';
import type { Recommender } from '../train/models/types.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sharedData = process.env.REELRANK_SHARED_DATA ?? resolve(repoRoot, '../shared/data');
const resultsFile = join(repoRoot, 'bench/results/quality.json');
const SEED = 0;
const ALL = ['u1', 'stratified', 'ranking-latest', 'ncf', 'latest', 'cold', 'neural', 'refs'] as const;
type Section = (typeof ALL)[number];

const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const s of requested) {
  if (!(ALL as readonly string[]).includes(s))
    throw new Error(`unknown section '${s}'. Sections: ${ALL.join(', ')}`);
}
const sections: Section[] = requested.length > 0 ? (requested as Section[]) : [...ALL];

function dataDir(name: string): string {
  const dir = join(sharedData, name);
  if (!existsSync(dir))
    throw new Error(`bench quality needs ${dir} (set REELRANK_SHARED_DATA to the shared data folder)`);
  return dir;
}

/** A result row and the bench section that produced it (a re-run replaces its section's rows). */
type BenchRow = ResultRow & { section?: Section };
let current: Section = 'u1';
/** Rows of this run, tagged with the section running when they were pushed. */
class SectionRows extends Array<BenchRow> {
  override push(...items: BenchRow[]): number {
    return super.push(...items.map((r) => ({ ...r, section: current })));
  }
}
const rows = new SectionRows();
const print = (mine: ResultRow[]) => {
  if (mine.length > 0) console.log(formatTable(mine));
};
const row = (
  dataset: string,
  protocol: string,
  model: string,
  metric: string,
  value: number,
  trainSeconds: number,
): ResultRow => ({
  dataset,
  protocol,
  model,
  metric,
  value,
  seed: SEED,
  trainSeconds,
});

/** Fit one model instance on a protocol split and turn its metrics into rows. */
async function runOne(
  dataset: Dataset,
  protocol: 'stratified' | 'ncf' | 'cold',
  split: ReturnType<typeof stratifiedSplit> & { coldItems?: Uint8Array },
  model: Recommender,
  label = model.name,
): Promise<ResultRow[]> {
  const started = performance.now();
  await model.fit({ dataset, train: split.train, seed: SEED });
  const seconds = (performance.now() - started) / 1000;
  const metrics = protocolMetrics(model, dataset, protocol, split, SEED);
  const mine = metricRows(
    { dataset: dataset.name, protocol: split.name, model: label, seed: SEED, trainSeconds: seconds },
    metrics,
  );
  print(mine);
  rows.push(...mine);
  return mine;
}

/** EASE λ chosen on a validation carve of the training rows by NDCG@10. */
async function tunedEase(dataset: Dataset, train: Uint32Array): Promise<number> {
  const tuning = await chooseOnValidation(
    dataset,
    train,
    [100, 250, 500, 1000].map((lambda) => ({ value: lambda, make: () => new Ease({ lambda }) })),
    (model, fit, validation) => evaluateRanking(model, dataset, fit, validation, { k: 10 })['ndcg@10']!,
    { seed: SEED },
  );
  console.log(
    `EASE λ on validation: ${tuning.scores.map((s) => `${s.value}: ${s.score.toFixed(4)}`).join(', ')} → ${tuning.best}`,
  );
  return tuning.best;
}

/**
 * iALS λ and α chosen on a validation carve of the training rows by NDCG@10 (the other settings are
 * the registry's production defaults).
 */
async function tunedIals(dataset: Dataset, train: Uint32Array): Promise<IalsOptions> {
  const grid: IalsOptions[] = [];
  for (const lambda of [10, 30, 100])
    for (const alpha of [1, 3, 10]) grid.push({ ...IALS_DEFAULTS, lambda, alpha });
  const tuning = await chooseOnValidation(
    dataset,
    train,
    grid.map((options) => ({ value: options, make: () => new Ials(options) })),
    (model, fit, validation) => evaluateRanking(model, dataset, fit, validation, { k: 10 })['ndcg@10']!,
    { seed: SEED },
  );
  console.log(
    `iALS (λ, α) on validation: ${tuning.scores.map((s) => `(${s.value.lambda}, ${s.value.alpha}): ${s.score.toFixed(4)}`).join(', ')} → (${tuning.best.lambda}, ${tuning.best.alpha})`,
  );
  return tuning.best;
}

/** The stratified ranking comparison on one dataset: popularity, BPR, EASE and iALS (tuned on validation). */
async function rankingSection(ds: Dataset): Promise<void> {
  const split = stratifiedSplit(ds, 0.25, SEED);
  await runOne(ds, 'stratified', split, new PopularityModel());
  await runOne(ds, 'stratified', split, new Bpr({ factors: 64, epochs: 100, reg: 0.005 }), 'bpr');
  const lambda = await tunedEase(ds, split.train);
  await runOne(ds, 'stratified', split, new Ease({ lambda }), `ease(λ=${lambda})`);
  await runOne(ds, 'stratified', split, new Ials(IALS_DEFAULTS), 'ials(production defaults)');
  const best = await tunedIals(ds, split.train);
  await runOne(ds, 'stratified', split, new Ials(best), `ials(λ=${best.lambda}, α=${best.alpha})`);
  save();
}

/**
 * EASE with recency weighting and a transition term for the NCF protocol: λ and the scoring
 * parameters are chosen by HR@10 (then NDCG@10) on each user's LAST TRAINING item, with the same
 * 99-negative sampling; the test items are never looked at.
 */
async function tunedSequenceEase(dataset: Dataset, train: Uint32Array): Promise<EaseOptions> {
  const carve = carveLastOut(dataset, train);
  let best: { options: EaseOptions; score: number } | null = null;
  for (const lambda of [200, 500]) {
    const model = new Ease({ lambda });
    await model.fit({ dataset, train: carve.train, seed: SEED });
    for (const [recencyHalfLife, recencyFloor] of [
      [0, 0],
      [5, 0.05],
      [10, 0.1],
    ] as const) {
      for (const sequenceWeight of [0, 1, 2, 4]) {
        model.setRecency(recencyHalfLife, recencyFloor);
        model.setSequence(sequenceWeight, 3);
        const m = evaluateSampled(model, dataset, carve.train, carve.test, {
          negatives: 99,
          k: 10,
          seed: SEED,
        });
        const score = m['hr@10']! + 0.01 * m['ndcg@10']!;
        if (!best || score > best.score)
          best = {
            options: { lambda, recencyHalfLife, recencyFloor, sequenceWeight, sequenceRecent: 3 },
            score,
          };
      }
    }
  }
  console.log(
    `NCF-protocol EASE chosen on validation (last training item): ${JSON.stringify(best!.options)} (validation HR@10 ≈ ${best!.score.toFixed(4)})`,
  );
  return best!.options;
}

/**
 * The registry blend fitted on the split's training rows and measured like `compareModels` does
 * (same protocol metrics), plus every one of its refitted members rated on the same test rows as
 * `blend/<k>:<member>`, so each member's own error is quoted beside the blend's at no extra fit.
 */
async function blendWithMembers(
  dataset: Dataset,
  protocol: 'official' | 'random',
  split: Split,
  protocolName = split.name,
): Promise<void> {
  const blend = createModel('blend');
  if (!(blend instanceof RidgeBlend)) throw new Error('registry blend is not a RidgeBlend');
  const started = performance.now();
  const report = await blend.fit({ dataset, train: split.train, seed: SEED });
  const seconds = (performance.now() - started) / 1000;
  const mine: ResultRow[] = [];
  const push = (name: string, metrics: Record<string, number>) =>
    mine.push(
      ...metricRows(
        { dataset: dataset.name, protocol: protocolName, model: name, seed: SEED, trainSeconds: seconds },
        metrics,
      ),
    );
  push('blend', protocolMetrics(blend, dataset, protocol, split, SEED));
  blend.members.forEach((member, k) => {
    push(`blend/${k}:${member.name}`, evaluateRating(member, dataset, split.test));
  });
  console.log(`blend weights [1, user support, item support] per member: ${JSON.stringify(report.notes)}`);
  print(mine);
  rows.push(...mine);
}

/** Merge this run's rows into bench/results/quality.json (called after each long step). */
function save(): BenchRow[] {
  mkdirSync(dirname(resultsFile), { recursive: true });
  const previous: ResultRow[] = existsSync(resultsFile)
    ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as { rows: ResultRow[] }).rows
    : [];
  // Rows of the sections this run has reached replace every earlier row of those sections (a run
  // cut short keeps the earlier rows of the sections it never reached); untagged rows (older runs)
  // are replaced only by an identical (dataset, protocol, model, metric).
  const reached = new Set<Section | undefined>([current, ...rows.map((r) => r.section)]);
  const fresh = new Set(rows.map((r) => `${r.dataset}|${r.protocol}|${r.model}|${r.metric}`));
  const merged = [
    ...(previous as BenchRow[]).filter(
      (r) =>
        !(r.section !== undefined && reached.has(r.section)) &&
        !fresh.has(`${r.dataset}|${r.protocol}|${r.model}|${r.metric}`),
    ),
    ...rows,
  ];
  writeFileSync(
    resultsFile,
    JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        loadAverage: loadavg(),
        checks: checksOf(merged),
        rows: merged,
      },
      null,
      2,
    ),
  );
  return merged;
}

/** The PyTorch NCF (NeuMF) on ml-100k leave-last-out with 99 sampled negatives (issue 12). */
const NCF_REFERENCE = Object.freeze({ 'hr@10': 0.672, 'ndcg@10': 0.381 });

/** Booleans for the claims the rows support (present only once their rows exist). */
function checksOf(merged: readonly ResultRow[]): Record<string, boolean> {
  const value = (model: string, metric: string) =>
    merged.find(
      (r) =>
        r.dataset === 'ml-100k' &&
        r.protocol === 'leave-last-out' &&
        r.model === model &&
        r.metric === metric,
    )?.value;
  const checks: Record<string, boolean> = {};
  const hr = value('ncf-neumf', 'hr@10');
  const ndcg = value('ncf-neumf', 'ndcg@10');
  if (hr !== undefined) checks.ncfNeumfHr10AtLeastPyTorch = hr >= NCF_REFERENCE['hr@10'];
  if (ndcg !== undefined) checks.ncfNeumfNdcg10AtLeastPyTorch = ndcg >= NCF_REFERENCE['ndcg@10'];
  return checks;
}

async function main(): Promise<void> {
  let ml100k: Dataset | null = null;
  const load100k = async () => {
    ml100k ??= await loadDataset(dataDir('ml-100k'));
    return ml100k;
  };
  let latest: Dataset | null = null;
  const loadLatest = async () => {
    latest ??= await loadDataset(dataDir('ml-latest-small'), { tmdb: dataDir('tmdb-5000') });
    return latest;
  };

  if (sections.includes('u1')) {
    current = 'u1';
    const ds = await load100k();
    const models = [
      'biases',
      'time-biases',
      'mf-sgd',
      'mf-als',
      'svdpp',
      'item-knn',
      'user-knn',
      'i-autorec',
      'bayesian-fm',
    ];
    rows.push(
      ...(await compareModels(ds, models, {
        protocol: 'official',
        officialSplit: 'u1',
        seed: SEED,
        onRows: print,
      })),
    );
    const u1 = ds.officialSplits.u1;
    if (!u1) throw new Error('ml-100k has no official split u1');
    await blendWithMembers(ds, 'official', u1, 'official-u1');
    save(); // each section is on disk as soon as it is done
  }
  if (sections.includes('stratified')) {
    current = 'stratified';
    const ds = await load100k();
    const split = stratifiedSplit(ds, 0.25, SEED);
    await runOne(ds, 'stratified', split, new BiasedMf({ factors: 100, epochs: 40 }), 'mf-sgd');
    await rankingSection(ds);
  }
  if (sections.includes('ranking-latest')) {
    current = 'ranking-latest';
    await rankingSection(await loadLatest());
  }
  if (sections.includes('ncf')) {
    current = 'ncf';
    const ds = await load100k();
    const split = leaveLastOut(ds);
    await runOne(ds, 'ncf', split, new PopularityModel());
    await runOne(ds, 'ncf', split, new Ease({ lambda: 300 }), 'ease(λ=300)');
    const best = await tunedSequenceEase(ds, split.train);
    await runOne(ds, 'ncf', split, new Ease(best), `ease+recency+sequence(${JSON.stringify(best)})`);
    // The neural NCF as the registry trains it (`ncf-neumf`: GMF and MLP pretrained, then NeuMF),
    // checked against the PyTorch NCF measured on this protocol (NCF_REFERENCE below).
    const { registerNeuralModels } = await import('../train/models/neural/index.ts');
    const { selectBackend } = await import('../train/backend.ts');
    console.log(`tfjs backend: ${(await selectBackend({ backend: 'auto' })).name}`);
    registerNeuralModels();
    await runOne(ds, 'ncf', split, createModel('ncf-neumf'));
    save(); // each section is on disk as soon as it is done
  }
  if (sections.includes('latest')) {
    current = 'latest';
    const ds = await loadLatest();
    const models = ['biases', 'time-biases', 'mf-sgd', 'svdpp', 'item-knn', 'bayesian-fm'];
    rows.push(...(await compareModels(ds, models, { protocol: 'random', seed: SEED, onRows: print })));
    await blendWithMembers(ds, 'random', randomSplit(ds, 0.1, SEED));
    save(); // each section is on disk as soon as it is done
  }
  if (sections.includes('cold')) {
    current = 'cold';
    const ds = await loadLatest();
    const split = coldItemSplit(ds, 0.2, SEED);
    const text = await fitTextEmbeddings(ds.movies);
    const textDim = text.embeddings.length / ds.movies.length;
    const variants: [string, ItemFeatures][] = [
      [
        'genres',
        buildItemFeatures(ds.movies.map((m) => ({ ...m, tags: [], keywords: [], cast: [], director: null }))),
      ],
      [
        'genres+tags+tmdb-text',
        buildItemFeatures(ds.movies, { textEmbeddings: { data: text.embeddings, dim: textDim } }),
      ],
    ];
    for (const [label, itemFeatures] of variants) {
      await runOne(
        ds,
        'cold',
        split,
        new ColdStartHybrid({ itemFeatures, popularityWeight: 0 }),
        `mf-projection[${label}]`,
      );
      await runOne(
        ds,
        'cold',
        split,
        new ColdStartHybrid({ itemFeatures, tasteWeight: 0 }),
        `popularity-projection[${label}]`,
      );
      await runOne(ds, 'cold', split, new ColdStartHybrid({ itemFeatures }), `cold-hybrid[${label}]`);
      // The same projection into the RANKING (iALS) factor space: iALS item vectors carry how
      // often a movie is watched as well as by whom, so the projection can learn both.
      await runOne(
        ds,
        'cold',
        split,
        new Ials({ ...IALS_DEFAULTS, itemFeatures }),
        `ials-projection[${label}]`,
      );
    }
    save(); // each section is on disk as soon as it is done
  }
  if (sections.includes('neural')) {
    current = 'neural';
    const { NEURAL_MODELS, registerNeuralModels } = await import('../train/models/neural/index.ts');
    registerNeuralModels();
    const { selectBackend } = await import('../train/backend.ts');
    const selection = await selectBackend({ backend: 'auto' });
    console.log(`tfjs backend: ${selection.name}`);
    // ml-100k joined with TMDB (overviews) so the title models can pretrain word vectors offline.
    const joined = await loadDataset(dataDir('ml-100k'), { tmdb: dataDir('tmdb-5000') });
    // One model at a time, rows saved as they come: the neural models take minutes each on CPU,
    // and one model failing must not lose the others' results.
    for (const [name, entry] of Object.entries(NEURAL_MODELS)) {
      try {
        const mine = await compareModels(joined, [name], {
          protocol: entry.ratings ? 'official' : 'ncf',
          officialSplit: 'u1',
          seed: SEED,
          onRows: print,
        });
        rows.push(...mine);
        save();
      } catch (error) {
        console.error(
          `neural model ${name} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
  if (sections.includes('refs')) {
    current = 'refs';
    // Published figures of the references (their own data and splits), quoted as floors.
    rows.push(
      row('reference-001', 'published', 'reference-001 best', 'mae', 0.99, 0),
      row('reference-001', 'published', 'reference-001 best', 'rmse', 1.31, 0),
      row('reference-003', 'published', 'reference-003 NCF', 'mrr@10', 0.342, 0),
      row('reference-003', 'published', 'reference-003 NCF', 'ndcg@10', 0.261, 0),
      row('reference-003', 'published', 'reference-003 NCF', 'precision@10', 0.025, 0),
      row('reference-003', 'published', 'reference-003 NCF', 'recall@10', 0.078, 0),
    );
  }

  const merged = save();
  console.log(`\n${formatTable(merged)}\n\nwrote ${resultsFile} (${merged.length} rows)`);
}

await main();
