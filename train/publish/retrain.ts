import { basename, join, resolve } from 'node:path';
import { openVersion, readManifest, readPointer } from '../../shared/artifacts/loader.ts';
import type { Manifest } from '../../shared/artifacts/manifest.ts';
import { ReelrankError } from '../../shared/errors.ts';
import type { EventsWatermark } from '../../shared/events.ts';
import type { RecentEvent } from '../../shared/serving/feedback.ts';
import { loadServingModel } from '../../shared/serving/from-artifacts.ts';
import type { ObjectStore } from '../../shared/store.ts';
import type { Dataset } from '../data/dataset.ts';
import { DEFAULT_DATA_DIR, loadDataset } from '../data/index.ts';
import { type EventCounts, mergeEvents, withoutRows } from '../events/merge.ts';
import { readEvents } from '../events/read.ts';
import { DEFAULT_MODEL } from '../models/registry.ts';
import {
  datasetFingerprint,
  EXPORTABLE_FACTOR_MODELS,
  runTraining,
  type TrainOptions,
  versionKind,
} from '../pipeline/train.ts';
import { FsStore } from '../store/fs.ts';
import {
  DEFAULT_NEWEST_GATE,
  type GateRow,
  type NewestRowsScore,
  newestRows,
  newestRowsGate,
} from './fair-gate.ts';
import { type PublishResult, publishVersion } from './publish.ts';
import { type PruneResult, prune } from './versions.ts';

/**
 * The scheduled retraining job (`reelrank retrain`): train on the current data, compare the new
 * version's held-out metrics with the live version's, and publish only when quality holds.
 *
 *   1. Read the live version's manifest from the store (none: first publish, no gate).
 *   2. If the live version was trained on the very same data (dataset fingerprint) with the same
 *      model and seed, stop: nothing changed (unless `force`).
 *   3. Train and write the candidate version locally.
 *   4. Quality gate: each gated metric may be worse than live by at most `tolerance` (relative).
 *      A refused candidate is kept on disk for inspection; the live version is untouched.
 *   5. Publish (upload, verify, pointer last), then prune to `keep` versions.
 */

/**
 * Metrics gated by default: rating error of the rating model and top-10 ranking quality of the
 * ranking model that scores the served collaborative channel, both on the held-out split.
 */
export const DEFAULT_GATE = Object.freeze(['holdoutRating.rmse', 'holdoutRankingRankModel.ndcg@10']);

/** Metric names (the part after the section) where lower is better; every other metric is higher-better. */
const LOWER_IS_BETTER = new Set(['rmse', 'mse', 'mae']);

export interface GateCheck {
  metric: string;
  live: number;
  candidate: number;
  /** The worst candidate value that still passes. */
  limit: number;
  pass: boolean;
}

export interface GateResult {
  pass: boolean;
  checks: GateCheck[];
  /** Gated metrics that one of the two versions does not report (not compared). */
  skipped: string[];
}

/** `section.metric` of a metrics record, when it is a finite number. */
function metricValue(metrics: Record<string, unknown> | null, path: string): number | null {
  const dot = path.indexOf('.');
  if (metrics === null || dot <= 0) return null;
  const section = metrics[path.slice(0, dot)];
  if (section === null || typeof section !== 'object') return null;
  const value = (section as Record<string, unknown>)[path.slice(dot + 1)];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * Compare a candidate's metrics with the live version's. A metric passes when the candidate is
 * at most `tolerance` (relative, e.g. 0.02 = 2%) worse than live in the metric's direction.
 * @example qualityGate({ holdoutRating: { rmse: 0.86 } }, { holdoutRating: { rmse: 0.87 } }, ['holdoutRating.rmse'], 0.02).pass // true
 */
export function qualityGate(
  live: Record<string, unknown> | null,
  candidate: Record<string, unknown>,
  metrics: readonly string[],
  tolerance: number,
): GateResult {
  if (!(tolerance >= 0) || !Number.isFinite(tolerance)) {
    throw new ReelrankError('bad_input', `--tolerance must be a number >= 0, got ${tolerance}.`);
  }
  const checks: GateCheck[] = [];
  const skipped: string[] = [];
  for (const metric of metrics) {
    if (!/^[\w-]+\.[\w@-]+$/.test(metric)) {
      throw new ReelrankError(
        'bad_input',
        `gate metric '${metric}' is not 'section.metric' (e.g. ${DEFAULT_GATE.join(', ')}).`,
      );
    }
    const before = metricValue(live, metric);
    const after = metricValue(candidate, metric);
    if (before === null || after === null) {
      skipped.push(metric);
      continue;
    }
    const lower = LOWER_IS_BETTER.has(metric.slice(metric.indexOf('.') + 1));
    const limit = lower ? before * (1 + tolerance) : before * (1 - tolerance);
    checks.push({
      metric,
      live: before,
      candidate: after,
      limit,
      pass: lower ? after <= limit : after >= limit,
    });
  }
  return { pass: checks.every((c) => c.pass), checks, skipped };
}

export interface RetrainOptions {
  /** Where versions are published (S3, R2 over S3, or a folder store). */
  store: ObjectStore;
  /** Training options (data, tmdb, model, out, seed, ...). */
  training: TrainOptions;
  gate?: readonly string[];
  tolerance?: number;
  /** Versions kept in the store after publishing (the live one and the one before it always are). */
  keep?: number;
  /** Train and publish even when the live version was trained on the same data and model. */
  force?: boolean;
  /** Train and gate, but do not publish or prune. */
  dryRun?: boolean;
  /**
   * The feedback events store (`--events`): its events are merged into the training data, and the
   * gate compares live and candidate on the newest of the events since the live watermark.
   */
  events?: ObjectStore;
  /** Share of the new events, newest by time, held out for the fair gate (default 0.1). */
  newestFraction?: number;
  /** Metrics of the fair gate (default DEFAULT_NEWEST_GATE). */
  newestGate?: readonly string[];
  /**
   * Accept a candidate trained on another dataset (by name) than the live version. Off by default:
   * a mistyped or forgotten `--data` would otherwise retrain on the embedded demo data.
   */
  allowDatasetChange?: boolean;
  /** Publish a passing candidate as a canary serving this percent of people (reelrank promote / abort). */
  canaryPercent?: number;
  log?: (line: string) => void;
}

/** What a run read from the events store (also recorded in the manifest's trainingConfig.events). */
export interface EventsSummary {
  source: string;
  watermark: EventsWatermark | null;
  previousWatermark: EventsWatermark | null;
  objects: { read: number; new: number };
  events: { read: number; new: number; duplicates: number };
  counts: EventCounts;
}

/** The fair gate's two sides on the same newest rows (also recorded in the manifest's metrics). */
export interface NewestRowsGate {
  rows: number;
  fraction: number;
  live: NewestRowsScore;
  candidate: NewestRowsScore;
  evaluationVersion: string;
}

export type RetrainOutcome = 'published' | 'unchanged' | 'refused' | 'dry-run';

export interface RetrainResult {
  outcome: RetrainOutcome;
  /** The live version before this run. */
  live: string | null;
  /** The version trained in this run (null when unchanged). */
  candidate: string | null;
  candidateDir: string | null;
  gate: GateResult | null;
  published: PublishResult | null;
  pruned: PruneResult | null;
  events: EventsSummary | null;
  newestRows: NewestRowsGate | null;
  /** Set when the run was refused because the candidate's dataset is not the live one's. */
  datasetChange: { live: string; candidate: string } | null;
  seconds: number;
}

/** trainingConfig.events.watermark of a manifest, when it has one. */
export function eventsWatermarkOf(manifest: Manifest | null): EventsWatermark | null {
  const events = manifest?.trainingConfig.events as { watermark?: EventsWatermark | null } | undefined;
  const w = events?.watermark;
  return w && typeof w.objectKey === 'string' && typeof w.receivedAt === 'number' ? w : null;
}

/** One run of the retraining job; see the module comment for the steps. */
export async function retrain(options: RetrainOptions): Promise<RetrainResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const gateMetrics = options.gate ?? DEFAULT_GATE;
  const tolerance = options.tolerance ?? 0.02;
  const keep = options.keep ?? 5;
  if (!Number.isInteger(keep) || keep < 2) {
    throw new ReelrankError(
      'bad_input',
      `--keep must be a whole number >= 2 (live + previous), got ${keep}.`,
    );
  }
  qualityGate(null, {}, gateMetrics, tolerance); // validates the gate spec before any work
  const done = (
    outcome: RetrainOutcome,
    parts: Partial<Omit<RetrainResult, 'outcome' | 'seconds'>>,
  ): RetrainResult => ({
    live: null,
    candidate: null,
    candidateDir: null,
    gate: null,
    published: null,
    pruned: null,
    events: null,
    newestRows: null,
    datasetChange: null,
    ...parts,
    outcome,
    seconds: (performance.now() - started) / 1000,
  });

  const pointer = await readPointer(options.store);
  let live: Manifest | null = null;
  if (pointer !== null) {
    live = (await readManifest(options.store, pointer.version)).manifest;
    log(`live version: ${live.version} (model ${String(live.trainingConfig.model ?? '?')})`);
  } else log(`no live version in ${options.store.description}: first publish, no quality gate`);

  const model = options.training.model ?? DEFAULT_MODEL;
  const kind = await versionKind(model);
  if (kind !== 'factors') {
    throw new ReelrankError(
      'bad_option',
      `retrain publishes what the edge serves, and model '${model}' ${kind === 'neural' ? 'writes a neural version without factors, which the edge refuses' : 'cannot be written as a version'}; use a factor model (${EXPORTABLE_FACTOR_MODELS}).`,
    );
  }
  const seed = options.training.seed ?? 0;
  // The gate compares like with like: a candidate of another dataset is refused before training.
  const candidateDataset =
    options.training.dataset?.name ?? basename(resolve(options.training.data ?? DEFAULT_DATA_DIR));
  const liveDataset = live?.trainingConfig.dataset;
  if (
    live !== null &&
    !options.allowDatasetChange &&
    typeof liveDataset === 'string' &&
    liveDataset !== candidateDataset
  ) {
    log(
      `dataset ${candidateDataset} is not the live version's ${liveDataset}: refused before training (allow it with --allow-dataset-change)`,
    );
    return done('refused', {
      live: live.version,
      datasetChange: { live: liveDataset, candidate: candidateDataset },
    });
  }
  const loadBase = () =>
    options.training.dataset ??
    loadDataset(options.training.data, {
      ...(options.training.tmdb === undefined ? {} : { tmdb: options.training.tmdb }),
      ...(options.training.posters === undefined ? {} : { posters: options.training.posters }),
    });
  // Loaded once: for the fingerprint check and, when training goes ahead, for training itself.
  let dataset: Dataset | undefined;
  let events: EventsSummary | null = null;
  let merged: ReturnType<typeof mergeEvents> | null = null;
  const newEvents: { userId: number; event: RecentEvent }[] = [];
  if (options.events) {
    const previousWatermark = eventsWatermarkOf(live);
    const read = await readEvents(options.events, { after: previousWatermark?.objectKey ?? null });
    merged = mergeEvents(await loadBase(), read.events, read.isNew);
    dataset = merged.dataset;
    read.events.forEach((event, j) => {
      if (read.isNew[j] === 1 && event.userId !== undefined) newEvents.push({ userId: event.userId, event });
    });
    const newCount = read.isNew.reduce((a, b) => a + b, 0);
    events = {
      source: options.events.description,
      watermark:
        read.lastObjectKey === null
          ? previousWatermark
          : { objectKey: read.lastObjectKey, receivedAt: read.lastReceivedAt },
      previousWatermark,
      objects: read.objects,
      events: { read: read.events.length, new: newCount, duplicates: read.duplicates },
      counts: merged.counts,
    };
    const { used, skipped } = merged.counts;
    log(
      `events from ${events.source}: ${read.objects.read} objects (${read.objects.new} after the watermark ${previousWatermark?.objectKey ?? 'none'}), ${read.events.length} distinct events (${newCount} new, ${read.duplicates} duplicate lines)`,
    );
    log(
      `  used: ${used.rating} ratings, ${used.watch} watches, ${used.click} clicks, ${used.dislike} dislikes; skipped: ${skipped.impression} impressions (exposures), ${skipped.unknownMovie} unknown movies, ${skipped.session} session-only, ${skipped.superseded} superseded; ${merged.counts.newUsers} new users, ${merged.counts.replacedBaseRatings} base ratings replaced`,
    );
  }
  if (live !== null && !options.force) {
    dataset ??= await loadBase();
    const fingerprint = await datasetFingerprint(dataset);
    if (
      fingerprint === live.datasetFingerprint &&
      live.trainingConfig.model === model &&
      live.trainingConfig.seed === seed
    ) {
      log(`data unchanged since ${live.version} (${fingerprint}), same model and seed: nothing to do`);
      return done('unchanged', { live: live.version });
    }
  }

  // The fair gate: live and an evaluation candidate (trained without the newest rows) scored on
  // those rows through the shared serving code; the production candidate then trains on everything.
  let gate: GateResult | null = null;
  let newest: NewestRowsGate | null = null;
  if (live !== null && merged !== null && dataset !== undefined && merged.newRows.length > 0) {
    const fraction = options.newestFraction ?? 0.1;
    const newRowsMeta = Array.from(merged.newRows, (j, n) => ({
      row: j,
      ...merged.newRowEvents[n]!,
      rating: dataset!.ratings.rating[j]!,
      timestamp: dataset!.ratings.timestamp[j]!,
    }));
    const held = newestRows(newRowsMeta, fraction).map((n) => newRowsMeta[n]!);
    const rows: GateRow[] = held.map(({ userId, movieId, type, rating, timestamp }) => ({
      userId,
      movieId,
      type,
      rating,
      timestamp,
    }));
    log(
      `fair gate: ${rows.length} newest of ${newRowsMeta.length} new interactions held out (${(fraction * 100).toFixed(0)} %); evaluation fit without them`,
    );
    const evaluation = await runTraining({
      ...options.training,
      dataset: withoutRows(
        dataset,
        Uint32Array.from(held, (h) => h.row),
      ),
      out: join(options.training.out ?? 'artifacts', 'gate-evaluation'),
      quickReport: true,
      log: (line) => log(`  [evaluation fit] ${line}`),
    });
    const { openVersionFolder } = await import('../models/neural/version.ts');
    const candidateModel = await loadServingModel(
      await openVersionFolder(evaluation.dir, evaluation.version),
    );
    const liveModel = await loadServingModel(await openVersion(options.store));
    // What the edge folds in for the live version: each user's new events before the held-out ones.
    const heldPairs = new Set(rows.map((r) => `${r.userId}:${r.movieId}`));
    const prior = new Map<number, RecentEvent[]>();
    for (const { userId, event } of newEvents) {
      if (heldPairs.has(`${userId}:${event.movieId}`)) continue;
      const list = prior.get(userId);
      if (list) list.push(event);
      else prior.set(userId, [event]);
    }
    const decided = newestRowsGate(
      liveModel,
      candidateModel,
      rows,
      prior,
      options.newestGate ?? DEFAULT_NEWEST_GATE,
      tolerance,
    );
    const liveScore = decided.live;
    const candidateScore = decided.candidate;
    newest = {
      rows: rows.length,
      fraction,
      live: liveScore,
      candidate: candidateScore,
      evaluationVersion: evaluation.version,
    };
    for (const metric of ['ndcg@10', 'recall@10', 'rmse'] as const)
      if (liveScore[metric] !== undefined && candidateScore[metric] !== undefined)
        log(
          `newest rows ${metric}: live ${liveScore[metric]!.toFixed(4)}, candidate ${candidateScore[metric]!.toFixed(4)} (${liveScore.users} users, ${liveScore.ratings} ratings)`,
        );
    gate = decided.gate;
    for (const c of gate.checks)
      log(
        `gate ${c.metric}: live ${c.live.toFixed(4)}, candidate ${c.candidate.toFixed(4)}, limit ${c.limit.toFixed(4)} → ${c.pass ? 'ok' : 'WORSE'}`,
      );
    if (!gate.pass) {
      log(
        `candidate refused on the newest rows; ${live.version} stays live. The evaluation version is kept in ${evaluation.dir}.`,
      );
      return done('refused', {
        live: live.version,
        candidate: evaluation.version,
        candidateDir: evaluation.dir,
        gate,
        events,
        newestRows: newest,
      });
    }
  } else if (live !== null && merged !== null) {
    log('no new events since the watermark: the gate compares the recorded held-out metrics');
  }

  log(`training ${model} (seed ${seed})`);
  const trained = await runTraining({
    ...options.training,
    ...(dataset === undefined ? {} : { dataset }),
    ...(events
      ? {
          manifestExtras: {
            trainingConfig: { events },
            ...(newest ? { metrics: { newestRowsGate: newest } } : {}),
          },
        }
      : {}),
    log: (line) => log(`  ${line}`),
  });
  const candidateMetrics = trained.metrics;
  if (live !== null && newest === null) {
    gate = qualityGate(live.metrics, candidateMetrics, gateMetrics, tolerance);
    for (const c of gate.checks)
      log(
        `gate ${c.metric}: live ${c.live.toFixed(4)}, candidate ${c.candidate.toFixed(4)}, limit ${c.limit.toFixed(4)} → ${c.pass ? 'ok' : 'WORSE'}`,
      );
    if (gate.skipped.length > 0)
      log(`gate: not compared (missing in one version): ${gate.skipped.join(', ')}`);
    if (!gate.pass) {
      log(`candidate ${trained.version} refused; ${live.version} stays live. It is kept in ${trained.dir}.`);
      return done('refused', {
        live: live.version,
        candidate: trained.version,
        candidateDir: trained.dir,
        gate,
        events,
      });
    }
  }
  const candidate = {
    live: live?.version ?? null,
    candidate: trained.version,
    candidateDir: trained.dir,
    gate,
    events,
    newestRows: newest,
  };
  if (options.dryRun) {
    log(`dry run: ${trained.version} passed, not published`);
    return done('dry-run', candidate);
  }
  const canary = options.canaryPercent === undefined ? undefined : { percent: options.canaryPercent };
  const published = await publishVersion(new FsStore(trained.dir), options.store, canary ? { canary } : {});
  log(
    canary
      ? `published ${published.version} (${published.files} files, verified) as a canary for ${canary.percent}% of people; ${published.pointer.version} stays live (reelrank experiment, then promote or abort)`
      : `published ${published.version} (${published.files} files, verified); pointer moved`,
  );
  const pruned = await prune(options.store, keep);
  if (pruned.deleted.length > 0)
    log(`pruned ${pruned.deleted.length} old version(s): ${pruned.deleted.join(', ')}`);
  return done('published', { ...candidate, published, pruned });
}
