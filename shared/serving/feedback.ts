/**
 * Immediate personalisation: a user's (or session's) recent feedback events, not yet in the live
 * version, folded into their ranking vector with the same closed-form implicit fold-in the trainer
 * solves its users with (shared/kernels/implicit.ts), merged with the stored history. Events become
 * interactions through the one table of shared/events.ts (EVENT_INTERACTION), as in training.
 */
import { EVENT_INTERACTION, type EventType } from '../events.ts';
import { foldInImplicit, implicitConfidence, implicitRegularization } from '../kernels/implicit.ts';
import { dequantizeRowInt8 } from '../kernels/int8.ts';
import type { ServingModel } from './model.ts';
import { type SessionRating, sessionUser, type UserState } from './scoring.ts';

/** What the fold-in needs of an event (a StoredEvent has all of it). */
export interface RecentEvent {
  movieId: number;
  type: EventType;
  value?: number;
  /** Seconds since the epoch. */
  timestamp: number;
  /** Milliseconds since the epoch (receipt at the edge). */
  receivedAt: number;
}

export type RecentAction = 'rated' | 'watched' | 'clicked' | 'disliked';

export interface FoldedFeedback {
  user: UserState;
  /** Events that changed the state (the last one per movie, impressions and unknown movies aside). */
  folded: number;
  /** Events naming a movie that is not in the version's catalog. */
  unknownMovies: number;
}

const ACTION: Readonly<Record<Exclude<EventType, 'impression'>, RecentAction>> = Object.freeze({
  rating: 'rated',
  watch: 'watched',
  click: 'clicked',
  dislike: 'disliked',
});

/**
 * The rating an event stands for in the implicit model: a rating's value, the stated pseudo-rating
 * of a watch or click, the top of the scale for a dislike's confidence (its preference is 0).
 */
export function eventRating(type: Exclude<EventType, 'impression'>, value: number | undefined, max: number) {
  const rule = EVENT_INTERACTION[type];
  if (rule.kind === 'explicit') return Math.min(max, value ?? max);
  if (rule.kind === 'implicit') return Math.min(max, rule.pseudoRating);
  return max;
}

/**
 * `base` (a known user's stored state, or null for someone the version does not know) with `events`
 * folded in. The last event per movie wins; impressions change nothing. With ranking factors, the
 * ranking vector is re-solved over stored history ∪ events: each positive event an interaction of
 * confidence 1 + α·f(r), a dislike one of preference 0. Every event's movie counts as seen, and
 * recent positives come first among the favourites (content profile, "because you just watched").
 * Stored history enters at the top of the rating scale (exact for 'binary' confidence, the default:
 * a version stores which movies a user rated, not the values).
 */
export function foldRecentEvents(
  model: ServingModel,
  base: UserState | null,
  events: readonly RecentEvent[],
): FoldedFeedback {
  const max = model.ratingScale.max;
  const latest = new Map<number, RecentEvent>();
  let unknownMovies = 0;
  const ordered = [...events].sort((a, b) => a.receivedAt - b.receivedAt || a.timestamp - b.timestamp);
  for (const event of ordered) {
    const itemIndex = model.itemIndexById.get(event.movieId);
    if (itemIndex === undefined) {
      unknownMovies++;
      continue;
    }
    if (event.type === 'impression') continue;
    latest.delete(itemIndex); // re-insert: Map order = recency
    latest.set(itemIndex, event);
  }
  const explicit: SessionRating[] = [];
  for (const [itemIndex, e] of latest)
    if (e.type === 'rating') explicit.push({ itemIndex, rating: Math.min(max, e.value ?? max) });
  const start = base ?? sessionUser(model, explicit);
  const history = base ? base.seen : [];
  if (latest.size === 0) return { user: start, folded: 0, unknownMovies };

  // Interactions: stored history first, then events (an event on a stored movie replaces it).
  const interactions = new Map<number, { rating: number; preference: number }>();
  for (let n = 0; n < history.length; n++) interactions.set(history[n]!, { rating: max, preference: 1 });
  const recent = new Map<number, RecentAction>();
  const recentFavourites: number[] = [];
  for (const [itemIndex, e] of latest) {
    const type = e.type as Exclude<EventType, 'impression'>;
    const negative = EVENT_INTERACTION[type].kind === 'negative';
    interactions.set(itemIndex, { rating: eventRating(type, e.value, max), preference: negative ? 0 : 1 });
    recent.set(itemIndex, ACTION[type]);
  }
  // Most recent first; a rating below the middle of the scale is no favourite.
  for (const [itemIndex, e] of [...latest].reverse()) {
    if (e.type === 'dislike') continue;
    if (e.type === 'rating' && (e.value ?? 0) < 0.7 * max) continue;
    recentFavourites.push(itemIndex);
  }

  let rankVector = start.rankVector ?? null;
  const ranking = model.ranking;
  if (ranking) {
    const { dim, config } = ranking;
    const n = interactions.size;
    const rows = new Float32Array(n * dim);
    const confidence = new Float64Array(n);
    const preference = new Float64Array(n);
    let r = 0;
    for (const [itemIndex, x] of interactions) {
      dequantizeRowInt8(ranking.itemFactors, itemIndex, rows.subarray(r * dim, (r + 1) * dim));
      confidence[r] = implicitConfidence(x.rating, config);
      preference[r] = x.preference;
      r++;
    }
    rankVector = foldInImplicit({
      gram: ranking.gram,
      k: dim,
      ratedFactors: rows,
      confidence,
      preference,
      lambda: implicitRegularization(n, config),
    });
  }
  const disliked = new Set([...recent].filter(([, a]) => a === 'disliked').map(([i]) => i));
  const favourites = [...new Set([...recentFavourites, ...Array.from(start.favourites)])].filter(
    (i) => !disliked.has(i),
  );
  const seen = new Set<number>(Array.from(history));
  let newPositives = 0;
  for (const [itemIndex, action] of recent) if (action !== 'disliked' && !seen.has(itemIndex)) newPositives++;
  for (const itemIndex of latest.keys()) seen.add(itemIndex);
  return {
    user: {
      ...start,
      rankVector,
      seen: Uint32Array.from(seen),
      favourites,
      ratingCount: (base ? base.ratingCount : 0) + newPositives,
      recentActions: recent,
      // The learned stage's recency signal: the items just acted on come first, then the stored ones.
      recent: [
        ...new Set([
          ...[...latest.keys()].reverse().filter((i) => !disliked.has(i)),
          ...Array.from(start.recent ?? []),
        ]),
      ],
    },
    folded: latest.size,
    unknownMovies,
  };
}
