/**
 * The fair gate of `reelrank retrain --events`: the live version and the candidate are scored on the
 * same rows, the newest interactions by time (the last `fraction` of the events since the live
 * watermark), which the live version never saw and the candidate's evaluation fit leaves out. Both
 * sides answer as the edge would, through the shared serving code: the live version with the user's
 * earlier new events folded in (shared/serving/feedback.ts, what the edge does between retrains),
 * the candidate from the users it was trained on. Users neither side knows get the edge's cold-start
 * answer (popular and diverse).
 */
import type { EventType } from '../../shared/events.ts';
import { type GateResult, qualityGate } from './retrain.ts';
import { foldRecentEvents, type RecentEvent } from '../../shared/serving/feedback.ts';
import type { ServingModel } from '../../shared/serving/model.ts';
import {
  knownUser,
  popularDiverse,
  predictRating,
  recommend,
  sessionUser,
  type UserState,
} from '../../shared/serving/scoring.ts';

/** Gated by default on the newest rows: ranking quality of the served recommendations, rating error. */
export const DEFAULT_NEWEST_GATE = Object.freeze(['newest.ndcg@10', 'newest.rmse']);

/** One held-out interaction. */
export interface GateRow {
  userId: number;
  movieId: number;
  type: Exclude<EventType, 'impression'>;
  /** The training rating of the row (a rating's value, the pseudo-rating of a watch / click). */
  rating: number;
  timestamp: number;
}

/** The metrics of one side on the gate rows. */
export interface NewestRowsScore extends Record<string, number> {
  rows: number;
  /** Users with at least one positive held-out row (ranking metrics average over them). */
  users: number;
  'ndcg@10': number;
  'recall@10': number;
  /** Explicit ratings among the rows (RMSE is over them; absent when there are none). */
  ratings: number;
}

/**
 * The newest `fraction` of `rows` by time (at least one row): indexes into `rows`.
 * @example newestRows([{ timestamp: 3 }, { timestamp: 1 }, { timestamp: 2 }], 0.34) // [0]
 */
export function newestRows(rows: readonly { timestamp: number }[], fraction: number): number[] {
  if (!(fraction > 0 && fraction <= 1))
    throw new RangeError(`newest fraction must be in (0, 1], got ${fraction}`);
  const order = rows.map((_, n) => n).sort((a, b) => rows[a]!.timestamp - rows[b]!.timestamp || a - b);
  const take = Math.max(1, Math.ceil(fraction * rows.length));
  return rows.length === 0 ? [] : order.slice(order.length - take).sort((a, b) => a - b);
}

/** Is a held-out row a positive the recommendations should surface? */
function positive(row: GateRow, max: number): boolean {
  if (row.type === 'dislike') return false;
  if (row.type === 'rating') return row.rating >= 0.7 * max;
  return true;
}

/**
 * Scores `model` on `rows`: per user, the top-10 recommendations (seen movies excluded, as served)
 * against their positive rows (nDCG@10, recall@10), and the predicted rating of each explicit
 * rating (RMSE). `stateOf` gives the user state the edge would use (null: unknown).
 */
export function scoreOnRows(
  model: ServingModel,
  rows: readonly GateRow[],
  stateOf: (userId: number) => UserState | null,
  k = 10,
): NewestRowsScore {
  const max = model.ratingScale.max;
  const byUser = new Map<number, GateRow[]>();
  for (const row of rows) {
    const list = byUser.get(row.userId);
    if (list) list.push(row);
    else byUser.set(row.userId, [row]);
  }
  let ndcg = 0;
  let recall = 0;
  let users = 0;
  let sse = 0;
  let ratings = 0;
  for (const [userId, list] of byUser) {
    const state = stateOf(userId) ?? sessionUser(model, []);
    for (const row of list) {
      const itemIndex = model.itemIndexById.get(row.movieId);
      if (row.type !== 'rating' || itemIndex === undefined) continue;
      sse += (predictRating(model, state, itemIndex) - row.rating) ** 2;
      ratings++;
    }
    const relevant = new Set(
      list.filter((r) => positive(r, max) && model.itemIndexById.has(r.movieId)).map((r) => r.movieId),
    );
    if (relevant.size === 0) continue;
    const result =
      state.ratingCount > 0
        ? recommend(model, state, { k, excludeSeen: true })
        : popularDiverse(model, { k });
    let dcg = 0;
    let hits = 0;
    result.items.forEach((item, position) => {
      if (relevant.has(model.itemIds[item.itemIndex]!)) {
        dcg += 1 / Math.log2(position + 2);
        hits++;
      }
    });
    let ideal = 0;
    for (let n = 0; n < Math.min(k, relevant.size); n++) ideal += 1 / Math.log2(n + 2);
    ndcg += dcg / ideal;
    recall += hits / Math.min(k, relevant.size);
    users++;
  }
  const score: NewestRowsScore = {
    rows: rows.length,
    users,
    'ndcg@10': users > 0 ? ndcg / users : 0,
    'recall@10': users > 0 ? recall / users : 0,
    ratings,
  };
  if (ratings > 0) score.rmse = Math.sqrt(sse / ratings);
  return score;
}

/** What the live version would serve a user: stored state plus earlier new events folded in. */
export function liveStateOf(
  model: ServingModel,
  priorEvents: ReadonlyMap<number, readonly RecentEvent[]>,
): (userId: number) => UserState | null {
  return (userId) => {
    const index = model.userIndexById.get(userId);
    const base = index === undefined ? null : knownUser(model, index);
    const events = priorEvents.get(userId);
    if (!events || events.length === 0) return base;
    const folded = foldRecentEvents(model, base, events);
    return base || folded.folded > 0 ? folded.user : null;
  };
}

/** What a version trained on the users serves them: their stored state (null when unknown). */
export function trainedStateOf(model: ServingModel): (userId: number) => UserState | null {
  return (userId) => {
    const index = model.userIndexById.get(userId);
    return index === undefined ? null : knownUser(model, index);
  };
}

/**
 * The fair gate's decision: both versions scored on the same held-out rows (`live` as the edge
 * serves it, with `prior` events folded in), then each gated metric of the candidate may be at most
 * `tolerance` worse than live's. Numbers either version recorded at training time play no part.
 */
export function newestRowsGate(
  live: ServingModel,
  candidate: ServingModel,
  rows: readonly GateRow[],
  prior: ReadonlyMap<number, readonly RecentEvent[]>,
  metrics: readonly string[] = DEFAULT_NEWEST_GATE,
  tolerance = 0.02,
): { gate: GateResult; live: NewestRowsScore; candidate: NewestRowsScore } {
  const liveScore = scoreOnRows(live, rows, liveStateOf(live, prior));
  const candidateScore = scoreOnRows(candidate, rows, trainedStateOf(candidate));
  return {
    gate: qualityGate({ newest: liveScore }, { newest: candidateScore }, metrics, tolerance),
    live: liveScore,
    candidate: candidateScore,
  };
}
