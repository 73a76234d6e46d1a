/**
 * Feedback events turned into interactions and merged with the base dataset, by the one table of
 * shared/events.ts (EVENT_INTERACTION): a rating is an explicit rating; a watch or click an implicit
 * interaction recorded at its stated pseudo-rating; a dislike the lowest rating of the scale; an
 * impression no interaction (exposure: counted, kept for evaluation). The last event per
 * (user, movie) wins and replaces a base rating of the same pair. Users the base does not know come
 * in through their events; events of anonymous sessions (no userId) and of movies the catalog does
 * not know are skipped and counted, never a crash.
 */
import { EVENT_INTERACTION, type EventType, type StoredEvent } from '../../shared/events.ts';
import type { Dataset, RatingsTable } from '../data/dataset.ts';

export interface EventCounts {
  /** Events turned into interactions, by type. */
  used: Record<Exclude<EventType, 'impression'>, number>;
  skipped: {
    /** Impressions: exposures, not interactions. */
    impression: number;
    /** Events naming a movie the catalog does not know. */
    unknownMovie: number;
    /** Events of anonymous sessions (no userId): no user to train. */
    session: number;
    /** Older events of a (user, movie) pair that a later event replaced. */
    superseded: number;
  };
  /** Base ratings replaced by an event on the same (user, movie). */
  replacedBaseRatings: number;
  /** Users that only events know. */
  newUsers: number;
}

export interface MergedDataset {
  dataset: Dataset;
  counts: EventCounts;
  /** Rows of the merged ratings table that come from new events (after the live watermark). */
  newRows: Uint32Array;
  /** The event type of each of `newRows`, and its user id. */
  newRowEvents: { type: Exclude<EventType, 'impression'>; userId: number; movieId: number }[];
  /** Impressions (what was shown, by recommendation id): not trained on, kept for evaluation. */
  exposures: { userIndex: number; itemIndex: number; timestamp: number; recommendationId: string | null }[];
}

/** The rating an event stands for in training, or null when it is no interaction. */
export function eventTrainingRating(
  event: Pick<StoredEvent, 'type' | 'value'>,
  scale: { min: number; max: number },
): number | null {
  const rule = EVENT_INTERACTION[event.type];
  switch (rule.kind) {
    case 'explicit':
      return Math.min(scale.max, Math.max(scale.min, event.value ?? scale.max));
    case 'implicit':
      return Math.min(scale.max, Math.max(scale.min, rule.pseudoRating));
    case 'negative':
      return scale.min;
    default:
      return null;
  }
}

/**
 * `base` plus the interactions of `events` (isNew[j] marks events after the live watermark).
 * @example const merged = mergeEvents(await loadDataset(), read.events, read.isNew);
 */
export function mergeEvents(base: Dataset, events: readonly StoredEvent[], isNew: Uint8Array): MergedDataset {
  const counts: EventCounts = {
    used: { rating: 0, watch: 0, click: 0, dislike: 0 },
    skipped: { impression: 0, unknownMovie: 0, session: 0, superseded: 0 },
    replacedBaseRatings: 0,
    newUsers: 0,
  };
  const itemIndexById = new Map<number, number>();
  base.movies.forEach((m, i) => {
    itemIndexById.set(m.movieId, i);
  });
  const userIndexById = new Map<number, number>();
  base.userIds.forEach((id, u) => {
    userIndexById.set(id, u);
  });
  const userIds = Array.from(base.userIds);
  const exposures: MergedDataset['exposures'] = [];

  // The last event per (user, movie), by the client's time, then the edge's.
  const latest = new Map<
    string,
    { event: StoredEvent; fresh: boolean; userIndex: number; itemIndex: number }
  >();
  events.forEach((event, j) => {
    if (event.userId === undefined) {
      counts.skipped.session++;
      return;
    }
    const itemIndex = itemIndexById.get(event.movieId);
    if (itemIndex === undefined) {
      counts.skipped.unknownMovie++;
      return;
    }
    let userIndex = userIndexById.get(event.userId);
    if (userIndex === undefined) {
      userIndex = userIds.length;
      userIds.push(event.userId);
      userIndexById.set(event.userId, userIndex);
      counts.newUsers++;
    }
    if (event.type === 'impression') {
      counts.skipped.impression++;
      exposures.push({
        userIndex,
        itemIndex,
        timestamp: event.timestamp,
        recommendationId: event.recommendationId ?? null,
      });
      return;
    }
    const key = `${userIndex}:${itemIndex}`;
    const before = latest.get(key);
    const later =
      !before ||
      event.timestamp > before.event.timestamp ||
      (event.timestamp === before.event.timestamp && event.receivedAt >= before.event.receivedAt);
    if (before) counts.skipped.superseded++;
    if (later) latest.set(key, { event, fresh: isNew[j] === 1, userIndex, itemIndex });
  });

  const { ratings } = base;
  const replaced = new Set<number>();
  if (latest.size > 0) {
    // Base rows of the users with events, to find the pairs an event re-rates.
    const withEvents = new Set([...latest.values()].map((x) => x.userIndex));
    for (let j = 0; j < ratings.length; j++) {
      const u = ratings.userIndex[j]!;
      if (withEvents.has(u) && latest.has(`${u}:${ratings.itemIndex[j]!}`)) replaced.add(j);
    }
  }
  counts.replacedBaseRatings = replaced.size;
  const total = ratings.length - replaced.size + latest.size;
  const table = {
    length: total,
    userIndex: new Uint32Array(total),
    itemIndex: new Uint32Array(total),
    rating: new Float32Array(total),
    timestamp: new Uint32Array(total),
  } satisfies RatingsTable;
  let row = 0;
  for (let j = 0; j < ratings.length; j++) {
    if (replaced.has(j)) continue;
    table.userIndex[row] = ratings.userIndex[j]!;
    table.itemIndex[row] = ratings.itemIndex[j]!;
    table.rating[row] = ratings.rating[j]!;
    table.timestamp[row] = ratings.timestamp[j]!;
    row++;
  }
  const newRows: number[] = [];
  const newRowEvents: MergedDataset['newRowEvents'] = [];
  for (const { event, fresh, userIndex, itemIndex } of latest.values()) {
    const rating = eventTrainingRating(event, base.ratingScale)!;
    const type = event.type as Exclude<EventType, 'impression'>;
    counts.used[type]++;
    if (fresh) {
      newRows.push(row);
      newRowEvents.push({ type, userId: event.userId!, movieId: event.movieId });
    }
    table.userIndex[row] = userIndex;
    table.itemIndex[row] = itemIndex;
    table.rating[row] = rating;
    table.timestamp[row] = event.timestamp;
    row++;
  }
  return {
    dataset: {
      ...base,
      name: base.name, // the same dataset grown by its feedback (retrain compares dataset names)
      ratings: table,
      userIds: Uint32Array.from(userIds),
      // Official splits index the base table; they do not describe the merged one.
      officialSplits: {},
      // Profiles are per base user; users from events have none.
      userProfiles: counts.newUsers === 0 ? base.userProfiles : undefined,
    },
    counts,
    newRows: Uint32Array.from(newRows),
    newRowEvents,
    exposures,
  };
}

/** The dataset without the given rows (the gate's evaluation fit leaves the newest rows out). */
export function withoutRows(dataset: Dataset, rows: Uint32Array): Dataset {
  const drop = new Uint8Array(dataset.ratings.length);
  for (const j of rows) drop[j] = 1;
  const keep: number[] = [];
  for (let j = 0; j < dataset.ratings.length; j++) if (drop[j] === 0) keep.push(j);
  const pick = <T extends Uint32Array | Float32Array>(a: T, make: (n: number) => T): T => {
    const out = make(keep.length);
    keep.forEach((j, n) => {
      out[n] = a[j]!;
    });
    return out;
  };
  const { ratings } = dataset;
  return {
    ...dataset,
    ratings: {
      length: keep.length,
      userIndex: pick(ratings.userIndex, (n) => new Uint32Array(n)),
      itemIndex: pick(ratings.itemIndex, (n) => new Uint32Array(n)),
      rating: pick(ratings.rating, (n) => new Float32Array(n)),
      timestamp: pick(ratings.timestamp, (n) => new Uint32Array(n)),
    },
    officialSplits: {},
  };
}
