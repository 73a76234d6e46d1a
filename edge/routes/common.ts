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
import type { AppEnv } from '../app-env.ts';
import { type LiveVersion, liveVersion } from '../live.ts';

/** The version this request is answered with (edge/live.ts). */
export function live(c: Context<AppEnv>): Promise<LiveVersion> {
  // waitUntil lets a background pointer check outlive the response; in-process tests have no ctx.
  let waitUntil: (p: Promise<unknown>) => void;
  try {
    const ctx = c.executionCtx;
    waitUntil = (p) => ctx.waitUntil(p);
  } catch {
    waitUntil = (p) => void p.catch(() => undefined);
  }
  return liveVersion(c.env, waitUntil);
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
    meanRating: m.meanRating ?? null,
  };
}

export function recommendationsJson(
  model: ServingModel,
  result: RecommendResult,
  predict: ((itemIndex: number) => number) | null,
) {
  return {
    version: model.version,
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
