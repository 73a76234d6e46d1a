/**
 * The reelrank API: Hono on Workers, one zod schema per route as validator, type and OpenAPI entry
 * (@hono/zod-openapi), one JSON error envelope. Handlers read the isolate's live version
 * (edge/live.ts) and score with the shared kernels (shared/serving).
 *
 * Adding routes: put a group in `edge/routes/<group>.ts` exporting `<group>Routes(): OpenAPIHono<AppEnv>`
 * (schemas with `import { z } from '@hono/zod-openapi'`, zod 4);
 * declare each route with `createRoute({ method, path: '/v1/x/{id}', operationId, security, middleware,
 * request, responses: { ...ok(Schema, '...'), ...errorResponses(400, 401) } })` (edge/responses.ts)
 * and `app.openapi(route, handler)`; guard it with `requireKey('read' | 'write')` or
 * `publicUnlessConfigured()` (edge/auth.ts); then mount the group below with `app.route('/', ...)`.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import type { AppEnv } from './app-env.ts';
import { OPTIONAL_READ_KEY, publicUnlessConfigured, SECURITY_SCHEMES } from './auth.ts';
import { readBody } from './body.ts';
import { errorBody, onError } from './errors.ts';
import { limitByIp } from './limits.ts';
import { errorResponsesWithoutVersion, ok } from './responses.ts';
import { catalogRoutes } from './routes/catalog.ts';
import { EVENTS_PATH, eventsRoutes, MAX_EVENTS_BODY_BYTES } from './routes/events.ts';
import { serviceRoutes } from './routes/service.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { userRoutes } from './routes/users.ts';
import { webRoutes } from './routes/web.tsx';
import { badParameter } from './schemas.ts';

export type { AppEnv } from './app-env.ts';

/** Request bodies above this size are refused with 413 (500 ratings fit in ~20 KB). */
export const MAX_BODY_BYTES = 64 * 1024;

/** Origins allowed to read the API from a browser: the var CORS_ORIGINS, comma-separated ("" = none). */
export function corsOrigins(env: Env): string[] {
  const raw: unknown = env.CORS_ORIGINS;
  if (typeof raw !== 'string') return [];
  return raw
    .split(',')
    .map((o) => o.trim().replace(/\/+$/, ''))
    .filter((o) => o.length > 0);
}

/** The Hono application (exported for in-process tests: `app.request(path, init, env)`). */
export function createApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: badParameter });
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
  // CORS first: preflights are answered without a key, and 401/429 answers carry the headers too.
  app.use(
    '*',
    cors({
      origin: (origin, c) => (corsOrigins(c.env).includes(origin) ? origin : null),
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Content-Type'],
      exposeHeaders: ['Retry-After', 'WWW-Authenticate'],
      maxAge: 600,
    }),
  );
  app.route('/', webRoutes()); // the page, favicon and version assets: before the API's IP rate limit
  app.use('*', limitByIp());
  const readRequestBody = readBody({ maxBytes: MAX_BODY_BYTES });
  const readEventsBody = readBody({ maxBytes: MAX_EVENTS_BODY_BYTES }); // batches of up to 500 events
  app.use('*', (c, next) => (c.req.path === EVENTS_PATH ? readEventsBody : readRequestBody)(c, next));

  app.route('/', serviceRoutes());
  app.route('/', catalogRoutes());
  app.route('/', userRoutes());
  app.route('/', sessionRoutes());
  app.route('/', eventsRoutes());

  app.openAPIRegistry.registerComponent('securitySchemes', 'readKey', SECURITY_SCHEMES.readKey);
  app.openAPIRegistry.registerComponent('securitySchemes', 'writeKey', SECURITY_SCHEMES.writeKey);
  let document: ReturnType<typeof app.getOpenAPI31Document> | null = null;
  const openapi = createRoute({
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    tags: ['service'],
    summary: 'This document (OpenAPI 3.1), generated from the routes',
    security: OPTIONAL_READ_KEY,
    middleware: [publicUnlessConfigured()] as const,
    responses: {
      ...ok(z.looseObject({ openapi: z.string() }), 'The OpenAPI 3.1 document'),
      ...errorResponsesWithoutVersion(401),
    },
  });
  app.openapi(openapi, (c) => {
    document ??= app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'reelrank',
        version: '1',
        description:
          'Hybrid movie recommendations served from the live artifact version. Known-user routes need a read key (`Authorization: Bearer <key>`); catalog and session routes are public unless the Worker sets PUBLIC_ENDPOINTS=false. Errors share one envelope: `{"error": {"code", "message"}}`.',
      },
      security: OPTIONAL_READ_KEY,
    });
    return c.json(document, 200);
  });

  return app;
}
