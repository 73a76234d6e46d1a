/** Anonymous-session routes: a handful of ratings folded in on the fly. Public unless PUBLIC_ENDPOINTS=false. */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { genreMaskOf, itemIndexOf } from '../../shared/serving/model.ts';
import { popularDiverse, predictRating, recommend, sessionUser } from '../../shared/serving/scoring.ts';
import { movieRef, resolveTitleOrThrow } from '../../shared/serving/titles.ts';
import type { AppEnv } from '../app-env.ts';
import { OPTIONAL_READ_KEY, publicUnlessConfigured } from '../auth.ts';
import { errorResponses, ok, RecommendationsSchema, SessionPredictionsSchema } from '../responses.ts';
import { sessionBody, sessionPredictionsBody } from '../schemas.ts';
import {
  live,
  logImpressions,
  recommendationIdFor,
  recommendationsJson,
  round,
  sessionIdOf,
  sessionRatingsOf,
  sessionSubjectOf,
  titlePredictionJson,
} from './common.ts';

export function sessionRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  const catalog = publicUnlessConfigured();

  const recommendations = createRoute({
    method: 'post',
    path: '/v1/recommendations',
    operationId: 'sessionRecommendations',
    tags: ['sessions'],
    summary: "Recommendations for an anonymous session's ratings (cold start: popular and diverse)",
    security: OPTIONAL_READ_KEY,
    middleware: [catalog] as const,
    request: { body: { required: true, content: { 'application/json': { schema: sessionBody } } } },
    responses: {
      ...ok(RecommendationsSchema, 'Recommendations with reasons'),
      ...errorResponses(400, 401, 404, 413, 415),
    },
  });
  app.openapi(recommendations, async (c) => {
    const body = c.req.valid('json');
    const v = await live(c, sessionSubjectOf(c, body.sessionId));
    const { model } = v;
    const recommendationId = recommendationIdFor(c, v);
    const sessionRatings = sessionRatingsOf(model, body.ratings);
    const options = {
      k: body.k ?? 10,
      genreMask: body.genres ? genreMaskOf(model, body.genres) : 0,
      yearFrom: body.yearFrom,
      yearTo: body.yearTo,
    };
    const sessionId = sessionIdOf(c, body.sessionId);
    const logged = (result: { items: readonly { itemIndex: number }[] }) =>
      logImpressions(
        c,
        sessionId === null ? null : { sessionId },
        recommendationId,
        result.items.map((item) => model.movies[item.itemIndex]!.movieId),
      );
    if (sessionRatings.length === 0) {
      const result = popularDiverse(model, { ...options, diversity: body.diversity ?? 0.3 });
      logged(result);
      return c.json({ ratingCount: 0, ...recommendationsJson(model, result, null, recommendationId) }, 200);
    }
    const user = sessionUser(model, sessionRatings);
    const result = recommend(model, user, { ...options, excludeSeen: true, diversity: body.diversity ?? 0 });
    logged(result);
    return c.json(
      {
        ratingCount: user.ratingCount,
        ...recommendationsJson(model, result, (i) => predictRating(model, user, i), recommendationId),
      },
      200,
    );
  });

  const predictions = createRoute({
    method: 'post',
    path: '/v1/predictions',
    operationId: 'sessionPredictions',
    tags: ['sessions'],
    summary: 'Predicted ratings of an anonymous session for movies given by id or by title',
    security: OPTIONAL_READ_KEY,
    middleware: [catalog] as const,
    request: {
      body: { required: true, content: { 'application/json': { schema: sessionPredictionsBody } } },
    },
    responses: {
      ...ok(SessionPredictionsSchema, 'One prediction per movie, ids first'),
      ...errorResponses(400, 401, 404, 413, 415),
    },
  });
  app.openapi(predictions, async (c) => {
    const body = c.req.valid('json');
    const v = await live(c, sessionSubjectOf(c, body.sessionId));
    const { model } = v;
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
        resolveTitleOrThrow(v.titleIndex, title, { version: model.version, parameter: `titles[${n}]` }),
      ),
    );
    return c.json(
      {
        version: model.version,
        ratingCount: user.ratingCount,
        ratingScale: model.ratingScale,
        predictions: [...byId, ...byTitle],
      },
      200,
    );
  });

  return app;
}
