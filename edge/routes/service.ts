/** Service routes: health (public summary, detail with a read key) and the live version. */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.ts';
import { hasKey, OPTIONAL_READ_KEY, publicUnlessConfigured } from '../auth.ts';
import { healthOf } from '../live.ts';
import { errorResponses, HealthSchema, ok, VersionSchema } from '../responses.ts';
import { live, similarChannels } from './common.ts';

export function serviceRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  const catalog = publicUnlessConfigured();

  const health = createRoute({
    method: 'get',
    path: '/v1/health',
    operationId: 'health',
    tags: ['service'],
    summary: 'Whether a version is live; with a read key also refused versions and pointer errors',
    security: OPTIONAL_READ_KEY,
    responses: {
      ...ok(
        HealthSchema,
        'A version is live (status ok, or degraded when the version the pointer names was refused or the pointer cannot be read)',
      ),
      ...errorResponses(),
      503: { description: 'Nothing is loaded', content: { 'application/json': { schema: HealthSchema } } },
    },
  });
  app.openapi(health, async (c) => {
    // A fresh isolate has loaded nothing yet: try once, so that a probe right after a deploy or
    // a publish reports the version this isolate would serve, not a false 'unavailable'.
    if (!healthOf(c.env).live) await live(c).catch(() => undefined);
    const { status, live: current, candidate, refused, checkedAt, pointerError } = healthOf(c.env);
    const code = current ? 200 : 503;
    const version = current?.model.version ?? null;
    // Public: status and version only. The detail (store keys, hashes, refusal messages) with a read key.
    if (!(await hasKey(c, 'read'))) return c.json({ status, version }, code);
    return c.json(
      {
        status,
        version,
        eventsWatermark: current?.eventsWatermark ?? null,
        loadedAt: current?.loadedAt ?? null,
        loadMs: current?.loadMs ?? null,
        pointerCheckedAt: checkedAt > 0 ? new Date(checkedAt).toISOString() : null,
        pointerError,
        refused,
        canary: current?.pointer.canary
          ? {
              version: current.pointer.canary.version,
              percent: current.pointer.canary.percent,
              startedAt: current.pointer.canary.startedAt,
              loaded: candidate?.model.version === current.pointer.canary.version,
              loadedAt: candidate?.loadedAt ?? null,
            }
          : null,
      },
      code,
    );
  });

  const version = createRoute({
    method: 'get',
    path: '/v1/version',
    operationId: 'liveVersion',
    tags: ['service'],
    summary: 'The live version: sizes, kernel, channels, metrics',
    security: OPTIONAL_READ_KEY,
    middleware: [catalog] as const,
    responses: { ...ok(VersionSchema, 'The live version'), ...errorResponses(401) },
  });
  app.openapi(version, async (c) => {
    const v = await live(c);
    const { model } = v;
    return c.json(
      {
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
        channels: similarChannels(model),
        metrics: v.metrics,
      },
      200,
    );
  });

  return app;
}
