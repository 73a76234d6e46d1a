/** Catalog routes: title search, one movie, similar movies. Public unless PUBLIC_ENDPOINTS=false. */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { itemIndexOf } from '../../shared/serving/model.ts';
import { similar } from '../../shared/serving/scoring.ts';
import { searchTitles } from '../../shared/serving/titles.ts';
import type { AppEnv } from '../app-env.ts';
import { OPTIONAL_READ_KEY, publicUnlessConfigured } from '../auth.ts';
import { errorResponses, MovieAnswerSchema, MovieSearchSchema, ok, SimilarSchema } from '../responses.ts';
import { movieIdParam, searchQuery, similarQuery } from '../schemas.ts';
import { live, movieJson, round } from './common.ts';

export function catalogRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  const catalog = publicUnlessConfigured();

  const search = createRoute({
    method: 'get',
    path: '/v1/movies',
    operationId: 'searchMovies',
    tags: ['catalog'],
    summary: 'Search titles (accents, articles and punctuation ignored)',
    security: OPTIONAL_READ_KEY,
    middleware: [catalog] as const,
    request: { query: searchQuery },
    responses: { ...ok(MovieSearchSchema, 'Matching movies, best first'), ...errorResponses(400, 401) },
  });
  app.openapi(search, async (c) => {
    const { q = '', limit = 20 } = c.req.valid('query');
    const v = await live(c);
    const { model } = v;
    const hits = searchTitles(v.titleIndex, q.trim(), limit);
    return c.json(
      {
        version: model.version,
        query: q,
        total: hits.total,
        items: hits.indexes.map((i) => movieJson(model, i)),
      },
      200,
    );
  });

  const movie = createRoute({
    method: 'get',
    path: '/v1/movies/{movieId}',
    operationId: 'getMovie',
    tags: ['catalog'],
    summary: 'One movie of the catalog',
    security: OPTIONAL_READ_KEY,
    middleware: [catalog] as const,
    request: { params: movieIdParam },
    responses: { ...ok(MovieAnswerSchema, 'The movie'), ...errorResponses(400, 401, 404) },
  });
  app.openapi(movie, async (c) => {
    const { model } = await live(c);
    const index = itemIndexOf(model, c.req.valid('param').movieId);
    return c.json({ version: model.version, movie: movieJson(model, index) }, 200);
  });

  const similarMovies = createRoute({
    method: 'get',
    path: '/v1/movies/{movieId}/similar',
    operationId: 'similarMovies',
    tags: ['catalog'],
    summary: 'Similar movies by content, poster visuals, collaborative signal, or a blend',
    security: OPTIONAL_READ_KEY,
    middleware: [catalog] as const,
    request: { params: movieIdParam, query: similarQuery },
    responses: { ...ok(SimilarSchema, 'The most similar movies'), ...errorResponses(400, 401, 404) },
  });
  app.openapi(similarMovies, async (c) => {
    const { model } = await live(c);
    const { k = 10, by = 'hybrid' } = c.req.valid('query');
    const index = itemIndexOf(model, c.req.valid('param').movieId);
    const items = similar(model, index, by, k);
    return c.json(
      {
        version: model.version,
        movie: movieJson(model, index),
        by,
        items: items.map((s) => ({ ...movieJson(model, s.itemIndex), similarity: round(s.score) })),
      },
      200,
    );
  });

  return app;
}
