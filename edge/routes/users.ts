/** Known-user routes (`/v1/users/{userId}/...`): they reveal a user's history, so a read key is required. */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { genreMaskOf, itemIndexOf, userIndexOf } from '../../shared/serving/model.ts';
import { knownUser, predictRating, recommend } from '../../shared/serving/scoring.ts';
import { resolveTitleOrThrow } from '../../shared/serving/titles.ts';
import { userSubject } from '../../shared/rollout.ts';
import type { AppEnv } from '../app-env.ts';
import { withRecentFeedback } from '../feedback.ts';
import { READ_KEY, requireKey } from '../auth.ts';
import {
  errorResponses,
  ok,
  RecommendationsSchema,
  TitlePredictionSchema,
  UserPredictionSchema,
  UserPredictionsSchema,
} from '../responses.ts';
import {
  predictionsBody,
  recommendationsQuery,
  titlePredictionQuery,
  userIdParam,
  userMovieParams,
} from '../schemas.ts';
import {
  live,
  logImpressions,
  recommendationIdFor,
  recommendationsJson,
  round,
  titlePredictionJson,
} from './common.ts';

export function userRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  const readKey = requireKey('read');

  const recommendations = createRoute({
    method: 'get',
    path: '/v1/users/{userId}/recommendations',
    operationId: 'userRecommendations',
    tags: ['users'],
    summary:
      "Recommendations for a known user: the user's stored factors with their feedback events since the live version folded in (a user only events know is served from those)",
    security: READ_KEY,
    middleware: [readKey] as const,
    request: { params: userIdParam, query: recommendationsQuery },
    responses: {
      ...ok(RecommendationsSchema, 'Recommendations with reasons'),
      ...errorResponses(400, 401, 404),
    },
  });
  app.openapi(recommendations, async (c) => {
    const q = c.req.valid('query');
    const userId = c.req.valid('param').userId;
    const v = await live(c, userSubject(userId));
    const { model } = v;
    // Recent feedback (edge/feedback.ts) changes the answer at once; a user the version does not
    // know yet is served from their events alone.
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
    const recommendationId = recommendationIdFor(c, v);
    logImpressions(
      c,
      { userId },
      recommendationId,
      result.items.map((item) => model.movies[item.itemIndex]!.movieId),
    );
    return c.json(
      {
        userId,
        ratingCount: user.ratingCount,
        recentEvents: feedback?.folded ?? 0,
        ...recommendationsJson(model, result, (i) => predictRating(model, user, i), recommendationId),
      },
      200,
    );
  });

  const byTitle = createRoute({
    method: 'get',
    path: '/v1/users/{userId}/predictions',
    operationId: 'userPredictionByTitle',
    tags: ['users'],
    summary: "A known user's predicted rating for a movie named by its title",
    security: READ_KEY,
    middleware: [readKey] as const,
    request: { params: userIdParam, query: titlePredictionQuery },
    responses: {
      ...ok(TitlePredictionSchema, 'The movie, how the title matched, the rating'),
      ...errorResponses(400, 401, 404),
    },
  });
  app.openapi(byTitle, async (c) => {
    const userId = c.req.valid('param').userId;
    const v = await live(c, userSubject(userId));
    const { model } = v;
    const { title, year } = c.req.valid('query');
    const user = knownUser(model, userIndexOf(model, userId));
    const found = resolveTitleOrThrow(v.titleIndex, title, { year, version: model.version });
    return c.json(
      {
        version: model.version,
        userId,
        ratingScale: model.ratingScale,
        ...titlePredictionJson(model, user, title, found),
      },
      200,
    );
  });

  const byId = createRoute({
    method: 'get',
    path: '/v1/users/{userId}/predictions/{movieId}',
    operationId: 'userPrediction',
    tags: ['users'],
    summary: "A known user's predicted rating for one movie",
    security: READ_KEY,
    middleware: [readKey] as const,
    request: { params: userMovieParams },
    responses: { ...ok(UserPredictionSchema, 'The predicted rating'), ...errorResponses(400, 401, 404) },
  });
  app.openapi(byId, async (c) => {
    const { userId, movieId } = c.req.valid('param');
    const { model } = await live(c, userSubject(userId));
    const user = knownUser(model, userIndexOf(model, userId));
    const rating = predictRating(model, user, itemIndexOf(model, movieId));
    return c.json(
      { version: model.version, userId, movieId, rating: round(rating, 4), ratingScale: model.ratingScale },
      200,
    );
  });

  const batch = createRoute({
    method: 'post',
    path: '/v1/users/{userId}/predictions',
    operationId: 'userPredictions',
    tags: ['users'],
    summary: "A known user's predicted ratings for up to 1,000 movies",
    security: READ_KEY,
    middleware: [readKey] as const,
    request: {
      params: userIdParam,
      body: { required: true, content: { 'application/json': { schema: predictionsBody } } },
    },
    responses: {
      ...ok(UserPredictionsSchema, 'One rating per movie id'),
      ...errorResponses(400, 401, 404, 413, 415),
    },
  });
  app.openapi(batch, async (c) => {
    const userId = c.req.valid('param').userId;
    const { model } = await live(c, userSubject(userId));
    const user = knownUser(model, userIndexOf(model, userId));
    const predictions = c.req.valid('json').movieIds.map((movieId) => ({
      movieId,
      rating: round(predictRating(model, user, itemIndexOf(model, movieId)), 4),
    }));
    return c.json({ version: model.version, userId, ratingScale: model.ratingScale, predictions }, 200);
  });

  return app;
}
