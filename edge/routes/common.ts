/** What several route groups share: the live version of a request and the JSON shapes of movies. */
import type { Context } from 'hono';
import { displayTitle } from '../../shared/display-title.ts';
import { ReelrankError } from '../../shared/errors.ts';
import { itemIndexOf, type ServingModel } from '../../shared/serving/model.ts';
import {
  predictRating,
  type RecommendResult,
  type SessionRating,
  type UserState,
} from '../../shared/serving/scoring.ts';
import { movieRef, type TitleMatch } from '../../shared/serving/titles.ts';
import { makeRecommendationId, randomNonce, SESSION_ID, sessionSubject } from '../../shared/rollout.ts';
import type { EventsMessage, StoredEvent } from '../../shared/events.ts';
import type { AppEnv } from '../app-env.ts';
import { armOfVersion, type LiveVersion, liveVersion } from '../live.ts';

/** Header naming the version that answered (both arms of a canary answer with their own). */
export const VERSION_HEADER = 'X-Reelrank-Version';
/** Header a client may send instead of a body `sessionId` to keep a session on one canary arm. */
export const SESSION_HEADER = 'X-Session-Id';

/**
 * The version this request is answered with (edge/live.ts): the canary's for the people its
 * share covers (`subject`: userSubject / sessionSubject of shared/rollout.ts), else the live one.
 * Names it in the X-Reelrank-Version header of the response.
 */
export async function live(c: Context<AppEnv>, subject: string | null = null): Promise<LiveVersion> {
  // waitUntil lets a background pointer check outlive the response; in-process tests have no ctx.
  let waitUntil: (p: Promise<unknown>) => void;
  try {
    const ctx = c.executionCtx;
    waitUntil = (p) => ctx.waitUntil(p);
  } catch {
    waitUntil = (p) => void p.catch(() => undefined);
  }
  const version = await liveVersion(c.env, waitUntil, subject);
  c.header(VERSION_HEADER, version.model.version);
  return version;
}

/** The canary subject of an anonymous request: its body `sessionId`, else the X-Session-Id header. */
export function sessionSubjectOf(c: Context<AppEnv>, bodySessionId: string | undefined): string | null {
  const id = sessionIdOf(c, bodySessionId);
  return id === null ? null : sessionSubject(id);
}

/** An anonymous request's session id (body `sessionId`, else the X-Session-Id header), or null. */
export function sessionIdOf(c: Context<AppEnv>, bodySessionId: string | undefined): string | null {
  const id = bodySessionId ?? c.req.header(SESSION_HEADER);
  return id !== undefined && SESSION_ID.test(id) ? id : null;
}

/**
 * With LOG_IMPRESSIONS=true, queues one impression event per recommended movie (position in
 * `value`, 1-based) for the person the list was made for, in the background: `reelrank experiment`
 * divides clicks by them. A list for nobody (no user, no session id) is not logged. Idempotent:
 * the event ids derive from the recommendation id.
 */
export function logImpressions(
  c: Context<AppEnv>,
  who: { userId: number } | { sessionId: string } | null,
  recommendationId: string,
  movieIds: readonly number[],
): void {
  if ((c.env.LOG_IMPRESSIONS as string) !== 'true' || who === null || movieIds.length === 0) return;
  const receivedAt = Date.now();
  const timestamp = Math.floor(receivedAt / 1000);
  const events: StoredEvent[] = movieIds.map((movieId, i) => ({
    eventId: `${recommendationId}:${i + 1}`,
    ...who,
    movieId,
    type: 'impression',
    value: i + 1,
    timestamp,
    recommendationId,
    receivedAt,
  }));
  const sent = c.env.EVENTS_QUEUE.send({ events } satisfies EventsMessage).catch((error: unknown) =>
    // Impressions are measurement, not the answer: a refused send is logged, the list still served.
    console.warn(`reelrank: impressions of ${recommendationId} not queued: ${(error as Error).message}`),
  );
  try {
    c.executionCtx.waitUntil(sent);
  } catch {
    void sent;
  }
}

/**
 * A fresh id for one recommendation list, naming the version and arm that made it, so feedback
 * events quoting it are attributed to them (shared/rollout.ts, `reelrank experiment`).
 */
export function recommendationIdFor(c: Context<AppEnv>, version: LiveVersion): string {
  return makeRecommendationId({
    version: version.model.version,
    arm: armOfVersion(c.env, version),
    issuedAt: Date.now() / 1000,
    nonce: randomNonce(),
  });
}

export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function movieJson(model: ServingModel, itemIndex: number) {
  const m = model.movies[itemIndex]!;
  return {
    movieId: m.movieId,
    title: m.title,
    displayTitle: displayTitle(m.title),
    year: m.year,
    genres: m.genres,
    tmdbId: m.tmdbId ?? null,
    posterPath: m.posterPath ?? null,
    popularity: round(model.popularity[itemIndex]!),
    ratingCount: m.ratingCount ?? null,
    // 4 decimals like popularity: a columns catalog keeps float32 means (3.9210000038146973).
    meanRating: m.meanRating == null ? null : round(m.meanRating),
  };
}

export function recommendationsJson(
  model: ServingModel,
  result: RecommendResult,
  predict: ((itemIndex: number) => number) | null,
  recommendationId: string,
) {
  return {
    version: model.version,
    recommendationId,
    weights: {
      collaborative: round(result.weights.collaborative),
      content: round(result.weights.content),
      popularity: round(result.weights.popularity),
    },
    items: result.items.map((item) => {
      const m = model.movies[item.itemIndex]!;
      return {
        movieId: m.movieId,
        title: m.title,
        displayTitle: displayTitle(m.title),
        year: m.year,
        genres: m.genres,
        score: round(item.score),
        predictedRating: predict ? round(predict(item.itemIndex), 3) : null,
        channels: {
          collaborative: round(item.channels.collaborative),
          content: round(item.channels.content),
          popularity: round(item.channels.popularity),
        },
        reason: item.reason,
      };
    }),
  };
}

/**
 * A session's ratings as item indexes, each checked against the rating scale (`bad_parameter`,
 * naming `ratings[n].rating`) and the catalog (`unknown_movie`); a movie rated twice keeps its
 * last rating.
 */
export function sessionRatingsOf(
  model: ServingModel,
  ratings: readonly { movieId: number; rating: number }[],
): SessionRating[] {
  const byItem = new Map<number, SessionRating>();
  ratings.forEach(({ movieId, rating }, n) => {
    if (rating < model.ratingScale.min || rating > model.ratingScale.max) {
      throw new ReelrankError(
        'bad_parameter',
        `ratings[${n}].rating: ${rating} is outside the rating scale ${model.ratingScale.min}..${model.ratingScale.max}`,
      );
    }
    const itemIndex = itemIndexOf(model, movieId);
    byItem.set(itemIndex, { itemIndex, rating });
  });
  return [...byItem.values()];
}

/** One prediction for a movie named by its title: the movie, how the title matched, the rating. */
export function titlePredictionJson(model: ServingModel, user: UserState, query: string, found: TitleMatch) {
  return {
    query,
    ...movieRef(model.movies[found.itemIndex]!),
    rating: round(predictRating(model, user, found.itemIndex), 4),
    match: found.match,
    ambiguous: found.ambiguous,
    alternatives: found.alternatives.map((i) => movieRef(model.movies[i]!)),
  };
}

/** The similar-movie channels a version can answer (`/v1/version`'s `channels`, the page's 'by' menu). */
export function similarChannels(model: ServingModel): {
  content: boolean;
  visual: boolean;
  collaborative: boolean;
  hybrid: boolean;
} {
  return {
    content: model.contentEmbeddings !== null || model.neighbors.content !== undefined,
    visual: model.neighbors.visual !== undefined,
    collaborative: true,
    hybrid: true,
  };
}
