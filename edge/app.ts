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
} from '../shared/serving/scoring.ts';
import { errorBody, onError } from './errors.ts';
import { healthOf, type LiveVersion, liveVersion, searchKey } from './live.ts';
import { openApiDocument } from './openapi.ts';
import { PAGE_HTML } from './page.ts';
import {
  badParameter,
  movieIdParam,
  predictionsBody,
  recommendationsQuery,
  searchQuery,
  sessionBody,
  similarQuery,
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
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        c.json(errorBody('payload_too_large', `request body is larger than ${MAX_BODY_BYTES} bytes`), 413),
    }),
  );

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
    const needle = searchKey(q.trim());
    const hits: { index: number; rank: number }[] = [];
    for (let i = 0; i < v.titleIndex.length; i++) {
      const at = needle === '' ? 0 : v.titleIndex[i]!.indexOf(needle);
      if (at < 0) continue;
      // Prefix matches first, then word-start matches, then popularity.
      const wordStart = at === 0 ? 2 : /[^a-z0-9]/.test(v.titleIndex[i]![at - 1] ?? ' ') ? 1 : 0;
      hits.push({ index: i, rank: wordStart * 2 + model.popularity[i]! });
    }
    hits.sort((a, b) => b.rank - a.rank || a.index - b.index);
    return c.json({
      version: model.version,
      query: q,
      total: hits.length,
      items: hits.slice(0, limit).map((h) => movieJson(model, h.index)),
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
      const { model } = await live(c);
      const q = c.req.valid('query');
      const userId = c.req.valid('param').userId;
      const user = knownUser(model, userIndexOf(model, userId));
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
        ...recommendationsJson(model, result, (i) => predictRating(model, user, i)),
      });
    },
  );

  app.post('/v1/recommendations', zValidator('json', sessionBody, badParameter), async (c) => {
    const { model } = await live(c);
    const body = c.req.valid('json');
    const byItem = new Map<number, SessionRating>();
    body.ratings.forEach(({ movieId, rating }, n) => {
      if (rating < model.ratingScale.min || rating > model.ratingScale.max) {
        throw badParam(
          `ratings.${n}.rating: ${rating} is outside the rating scale ${model.ratingScale.min}..${model.ratingScale.max}`,
        );
      }
      const itemIndex = itemIndexOf(model, movieId);
      byItem.set(itemIndex, { itemIndex, rating }); // a movie rated twice: the last rating counts
    });
    const options = {
      k: body.k ?? 10,
      genreMask: body.genres ? genreMaskOf(model, body.genres) : 0,
      yearFrom: body.yearFrom,
      yearTo: body.yearTo,
    };
    if (byItem.size === 0) {
      const result = popularDiverse(model, { ...options, diversity: body.diversity ?? 0.3 });
      return c.json({ ratingCount: 0, ...recommendationsJson(model, result, null) });
    }
    const user = sessionUser(model, [...byItem.values()]);
    const result = recommend(model, user, { ...options, excludeSeen: true, diversity: body.diversity ?? 0 });
    return c.json({
      ratingCount: user.ratingCount,
      ...recommendationsJson(model, result, (i) => predictRating(model, user, i)),
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
