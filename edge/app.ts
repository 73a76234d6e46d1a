/**
 * The reelrank API: Hono with typed bindings, zod validation at the route edge, one JSON error
 * envelope. Every handler reads the isolate's live version (edge/live.ts) and scores with the
 * shared kernels (shared/serving), the same code training evaluates with.
 */
import { zValidator } from '@hono/zod-validator';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ReelrankError } from '../shared/errors.ts';
import { genreMaskOf, itemIndexOf, type ServingModel, userIndexOf } from '../shared/serving/model.ts';
import {
  knownUser,
  popularDiverse,
  predictRating,
  type RecommendResult,
  recommend,
  type SessionRating,
  sessionUser,
  similar,
  type UserState,
} from '../shared/serving/scoring.ts';
import { movieRef, resolveTitleOrThrow, searchTitles, type TitleMatch } from '../shared/serving/titles.ts';
import { errorBody, onError } from './errors.ts';
import { withRecentFeedback } from './feedback.ts';
import { healthOf, type LiveVersion, liveVersion } from './live.ts';
import { openApiDocument } from './openapi.ts';
import { PAGE_HTML } from './page.ts';
import { EVENTS_PATH, eventsRoutes } from './routes/events.ts';
import {
  badParameter,
  movieIdParam,
  predictionsBody,
  recommendationsQuery,
  searchQuery,
  sessionBody,
  sessionPredictionsBody,
  similarQuery,
  titlePredictionQuery,
  userIdParam,
  userMovieParams,
} from './schemas.ts';

export type AppEnv = { Bindings: Env };

/** Request bodies above this size are refused with 413 (500 ratings fit in ~20 KB). */
export const MAX_BODY_BYTES = 64 * 1024;

function live(c: Context<AppEnv>): Promise<LiveVersion> {
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

function movieJson(model: ServingModel, itemIndex: number) {
  const m = model.movies[itemIndex]!;
  return {
    movieId: m.movieId,
    title: m.title,
    year: m.year,
    genres: m.genres,
    tmdbId: m.tmdbId ?? null,
    posterPath: m.posterPath ?? null,
    popularity: round(model.popularity[itemIndex]!),
    ratingCount: m.ratingCount ?? null,
    meanRating: m.meanRating ?? null,
  };
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function recommendationsJson(
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

function badParam(message: string): ReelrankError {
  return new ReelrankError('bad_parameter', message);
}

/**
 * A session's ratings as item indexes, each checked against the rating scale (`bad_parameter`) and
 * the catalog (`unknown_movie`); a movie rated twice keeps its last rating.
 */
function sessionRatingsOf(
  model: ServingModel,
  ratings: readonly { movieId: number; rating: number }[],
): SessionRating[] {
  const byItem = new Map<number, SessionRating>();
  ratings.forEach(({ movieId, rating }, n) => {
    if (rating < model.ratingScale.min || rating > model.ratingScale.max) {
      throw badParam(
        `ratings.${n}.rating: ${rating} is outside the rating scale ${model.ratingScale.min}..${model.ratingScale.max}`,
      );
    }
    const itemIndex = itemIndexOf(model, movieId);
    byItem.set(itemIndex, { itemIndex, rating });
  });
  return [...byItem.values()];
}

/** One prediction for a movie named by its title: the movie, how the title matched, the rating. */
function titlePredictionJson(model: ServingModel, user: UserState, query: string, found: TitleMatch) {
  return {
    query,
    ...movieRef(model.movies[found.itemIndex]!),
    rating: round(predictRating(model, user, found.itemIndex), 4),
    match: found.match,
    ambiguous: found.ambiguous,
    alternatives: found.alternatives.map((i) => movieRef(model.movies[i]!)),
  };
}

/** The Hono application (exported for in-process tests: `app.request(path, init, env)`). */
export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound((c) =>
    c.json(
      errorBody(
        'not_found',
        `no route for ${c.req.method} ${new URL(c.req.url).pathname}; see /openapi.json`,
      ),
      404,
    ),
  );
  const defaultBodyLimit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) =>
      c.json(errorBody('payload_too_large', `request body is larger than ${MAX_BODY_BYTES} bytes`), 413),
  });
  // Event batches have their own, larger limit (edge/routes/events.ts).
  app.use('*', (c, next) => (c.req.path === EVENTS_PATH ? next() : defaultBodyLimit(c, next)));
  app.route(EVENTS_PATH, eventsRoutes());

  app.get('/', (c) => c.html(PAGE_HTML));
  app.get('/openapi.json', (c) => c.json(openApiDocument));

  app.get('/v1/health', async (c) => {
    // A fresh isolate has loaded nothing yet: try once, so that a probe right after a deploy or
    // a publish reports the version this isolate would serve, not a false 'unavailable'.
    if (!healthOf(c.env).live) await live(c).catch(() => undefined);
    const { live: current, refused, checkedAt, pointerError } = healthOf(c.env);
    const body = {
      status: current ? (refused.length > 0 ? 'degraded' : 'ok') : 'unavailable',
      version: current?.model.version ?? null,
      eventsWatermark: current?.eventsWatermark ?? null,
      loadedAt: current?.loadedAt ?? null,
      loadMs: current?.loadMs ?? null,
      pointerCheckedAt: checkedAt > 0 ? new Date(checkedAt).toISOString() : null,
      pointerError,
      refused,
    };
    return c.json(body, current ? 200 : 503);
  });

  app.get('/v1/version', async (c) => {
    const v = await live(c);
    const { model } = v;
    return c.json({
      version: model.version,
      createdAt: v.createdAt,
      formatVersion: v.formatVersion,
      datasetFingerprint: v.datasetFingerprint,
      publishedAt: v.pointer.publishedAt,
      previous: v.pointer.previous,
      loadedAt: v.loadedAt,
      movies: model.itemCount,
      users: model.userCount,
      factors: model.dim,
      // The collaborative channel of recommendations: implicit-ALS ranking factors when the
      // version has them (k of them), else the rating factors (older versions).
      rankingFactors: model.ranking?.dim ?? null,
      kernel: model.kernel,
      ratingScale: model.ratingScale,
      genres: model.genreNames,
      channels: {
        content: model.contentEmbeddings !== null || model.neighbors.content !== undefined,
        visual: model.neighbors.visual !== undefined,
        collaborative: true,
        hybrid: true,
      },
      metrics: v.metrics,
    });
  });

  app.get('/v1/movies', zValidator('query', searchQuery, badParameter), async (c) => {
    const { q = '', limit = 20 } = c.req.valid('query');
    const v = await live(c);
    const { model } = v;
    const hits = searchTitles(v.titleIndex, q.trim(), limit);
    return c.json({
      version: model.version,
      query: q,
      total: hits.total,
      items: hits.indexes.map((i) => movieJson(model, i)),
    });
  });

  app.get('/v1/movies/:movieId', zValidator('param', movieIdParam, badParameter), async (c) => {
    const { model } = await live(c);
    const index = itemIndexOf(model, c.req.valid('param').movieId);
    return c.json({ version: model.version, movie: movieJson(model, index) });
  });

  app.get(
    '/v1/movies/:movieId/similar',
    zValidator('param', movieIdParam, badParameter),
    zValidator('query', similarQuery, badParameter),
    async (c) => {
      const { model } = await live(c);
      const { k = 10, by = 'hybrid' } = c.req.valid('query');
      const index = itemIndexOf(model, c.req.valid('param').movieId);
      const items = similar(model, index, by, k);
      return c.json({
        version: model.version,
        movie: movieJson(model, index),
        by,
        items: items.map((s) => ({ ...movieJson(model, s.itemIndex), similarity: round(s.score) })),
      });
    },
  );

  app.get(
    '/v1/users/:userId/recommendations',
    zValidator('param', userIdParam, badParameter),
    zValidator('query', recommendationsQuery, badParameter),
    async (c) => {
      const v = await live(c);
      const { model } = v;
      const q = c.req.valid('query');
      const userId = c.req.valid('param').userId;
      // Recent feedback (edge/feedback.ts) changes the answer at once; a user the version does
      // not know yet is served from their events alone.
      const index = model.userIndexById.get(userId);
      const feedback = await withRecentFeedback(
        c.env,
        v,
        `user:${userId}`,
        index === undefined ? null : knownUser(model, index),
      );
      const user = feedback?.user ?? knownUser(model, userIndexOf(model, userId));
      if (feedback) c.header('Server-Timing', `feedback;dur=${feedback.ms.toFixed(2)}`);
      const result = recommend(model, user, {
        k: q.k ?? 10,
        genreMask: q.genres ? genreMaskOf(model, q.genres) : 0,
        yearFrom: q.yearFrom,
        yearTo: q.yearTo,
        excludeSeen: q.excludeSeen ?? true,
        diversity: q.diversity ?? 0,
      });
      return c.json({
        userId,
        ratingCount: user.ratingCount,
        recentEvents: feedback?.folded ?? 0,
        ...recommendationsJson(model, result, (i) => predictRating(model, user, i)),
      });
    },
  );

  app.post('/v1/recommendations', zValidator('json', sessionBody, badParameter), async (c) => {
    const { model } = await live(c);
    const body = c.req.valid('json');
    const sessionRatings = sessionRatingsOf(model, body.ratings);
    const options = {
      k: body.k ?? 10,
      genreMask: body.genres ? genreMaskOf(model, body.genres) : 0,
      yearFrom: body.yearFrom,
      yearTo: body.yearTo,
    };
    if (sessionRatings.length === 0) {
      const result = popularDiverse(model, { ...options, diversity: body.diversity ?? 0.3 });
      return c.json({ ratingCount: 0, ...recommendationsJson(model, result, null) });
    }
    const user = sessionUser(model, sessionRatings);
    const result = recommend(model, user, { ...options, excludeSeen: true, diversity: body.diversity ?? 0 });
    return c.json({
      ratingCount: user.ratingCount,
      ...recommendationsJson(model, result, (i) => predictRating(model, user, i)),
    });
  });

  app.get(
    '/v1/users/:userId/predictions',
    zValidator('param', userIdParam, badParameter),
    zValidator('query', titlePredictionQuery, badParameter),
    async (c) => {
      const v = await live(c);
      const { model } = v;
      const userId = c.req.valid('param').userId;
      const { title, year } = c.req.valid('query');
      const user = knownUser(model, userIndexOf(model, userId));
      const found = resolveTitleOrThrow(v.titleIndex, title, { year, version: model.version });
      return c.json({
        version: model.version,
        userId,
        ratingScale: model.ratingScale,
        ...titlePredictionJson(model, user, title, found),
      });
    },
  );

  app.post('/v1/predictions', zValidator('json', sessionPredictionsBody, badParameter), async (c) => {
    const v = await live(c);
    const { model } = v;
    const body = c.req.valid('json');
    const user = sessionUser(model, sessionRatingsOf(model, body.ratings));
    const byId = (body.movieIds ?? []).map((movieId) => {
      const itemIndex = itemIndexOf(model, movieId);
      return {
        ...movieRef(model.movies[itemIndex]!),
        rating: round(predictRating(model, user, itemIndex), 4),
      };
    });
    const byTitle = (body.titles ?? []).map((title, n) =>
      titlePredictionJson(
        model,
        user,
        title,
        resolveTitleOrThrow(v.titleIndex, title, { version: model.version, parameter: `titles.${n}` }),
      ),
    );
    return c.json({
      version: model.version,
      ratingCount: user.ratingCount,
      ratingScale: model.ratingScale,
      predictions: [...byId, ...byTitle],
    });
  });

  app.get(
    '/v1/users/:userId/predictions/:movieId',
    zValidator('param', userMovieParams, badParameter),
    async (c) => {
      const { model } = await live(c);
      const { userId, movieId } = c.req.valid('param');
      const user = knownUser(model, userIndexOf(model, userId));
      const rating = predictRating(model, user, itemIndexOf(model, movieId));
      return c.json({
        version: model.version,
        userId,
        movieId,
        rating: round(rating, 4),
        ratingScale: model.ratingScale,
      });
    },
  );

  app.post(
    '/v1/users/:userId/predictions',
    zValidator('param', userIdParam, badParameter),
    zValidator('json', predictionsBody, badParameter),
    async (c) => {
      const { model } = await live(c);
      const userId = c.req.valid('param').userId;
      const user = knownUser(model, userIndexOf(model, userId));
      const predictions = c.req.valid('json').movieIds.map((movieId) => ({
        movieId,
        rating: round(predictRating(model, user, itemIndexOf(model, movieId)), 4),
      }));
      return c.json({ version: model.version, userId, ratingScale: model.ratingScale, predictions });
    },
  );

  return app;
}
