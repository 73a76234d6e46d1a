/**
 * Version lifecycle in workerd: cold start, hot swap when the pointer moves (cron and request
 * paths), a corrupt version refused while the old one keeps serving.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { coldStart, fileBytes, fixture, json, publish, runCron } from './helpers.ts';

type Health = {
  status: string;
  version: string | null;
  refused: { version: string; code: string; message: string }[];
};
const USER = fixture.predictions[0]!.userId;
const versionOf = async (overrides?: Partial<Env>) =>
  (await json<{ version: string }>('/v1/version', undefined, overrides)).body.version;

describe('version lifecycle', () => {
  beforeEach(coldStart);

  it('loads on the first request (cold start) and reports how long it took', async () => {
    await publish(fixture.a);
    const started = Date.now();
    const { status, body } = await json<{ items: unknown[] }>(`/v1/users/${USER}/recommendations?k=5`);
    const coldMs = Date.now() - started;
    expect(status).toBe(200);
    expect(body.items).toHaveLength(5);
    const health = (await json<Health & { loadMs: number }>('/v1/health')).body;
    expect(health.version).toBe(fixture.a.version);
    expect(health.loadMs).toBeLessThanOrEqual(coldMs);
  });

  it('swaps to a new version on the cron trigger, without a redeploy', async () => {
    await publish(fixture.a);
    expect(await versionOf()).toBe(fixture.a.version);
    const before = (await json<{ rating: number }>(`/v1/users/${USER}/predictions/6`)).body.rating;
    await publish(fixture.b, { pointer: false });
    await runCron();
    expect(await versionOf()).toBe(fixture.a.version); // files alone change nothing: the pointer decides
    await publish(fixture.b);
    await runCron();
    expect(await versionOf()).toBe(fixture.b.version);
    const after = (await json<{ rating: number; version: string }>(`/v1/users/${USER}/predictions/6`)).body;
    expect(after.version).toBe(fixture.b.version);
    expect(after.rating).not.toBe(before); // a different fit answers
    // b has no precomputed neighbour lists: content similarity falls back to exact cosine
    const similar = await json<{ items: unknown[] }>('/v1/movies/6/similar?by=content&k=3');
    expect(similar.status).toBe(200);
    expect(similar.body.items).toHaveLength(3);
  });

  it('serves the same movies and title matches from catalog columns (a) and catalog.json objects (b)', async () => {
    type Movie = {
      movieId: number;
      title: string;
      year: number | null;
      genres: string[];
      meanRating: number | null;
    } & Record<string, unknown>;
    const look = async () => ({
      matrix: (await json<{ movie: Movie }>('/v1/movies/2571')).body.movie,
      amelie: (await json<{ movie: Movie }>('/v1/movies/4973')).body.movie,
      search: (await json<{ total: number; items: Movie[] }>('/v1/movies?q=star%20wars&limit=8')).body,
    });
    await publish(fixture.a);
    expect(await versionOf()).toBe(fixture.a.version);
    const columns = await look();
    await publish(fixture.b);
    await runCron();
    expect(await versionOf()).toBe(fixture.b.version);
    const objects = await look();
    expect(columns.matrix).toMatchObject({ movieId: 2571, title: 'Matrix, The', year: 1999, tmdbId: 603 });
    expect(columns.amelie.title).toBe("Amelie (Fabuleux destin d'Amélie Poulain, Le)");
    // b's export rounded means to 3 decimals; everything else is the same movie.
    const withoutMean = ({ meanRating, ...rest }: Movie) => rest;
    for (const key of ['matrix', 'amelie'] as const) {
      expect(withoutMean(columns[key])).toEqual(withoutMean(objects[key]));
      expect(Math.abs(columns[key].meanRating! - objects[key].meanRating!)).toBeLessThan(6e-4);
    }
    expect(columns.search.total).toBe(objects.search.total);
    expect(columns.search.items.map(withoutMean)).toEqual(objects.search.items.map(withoutMean));
    expect(columns.search.items.length).toBeGreaterThan(3);
  });

  it('re-reads the pointer on requests at most every POINTER_CHECK_SECONDS', async () => {
    await publish(fixture.a);
    expect(await versionOf()).toBe(fixture.a.version);
    await publish(fixture.b);
    // With the default 30 s the request path does not look yet...
    expect(await versionOf()).toBe(fixture.a.version);
    // ...with 0 s it checks in the background (waitUntil) and the next request sees b.
    await versionOf({ POINTER_CHECK_SECONDS: '0' } as unknown as Partial<Env>);
    expect(await versionOf()).toBe(fixture.b.version);
  });

  it('refuses a corrupt version, keeps serving the old one and reports it in /v1/health', async () => {
    await publish(fixture.a);
    expect(await versionOf()).toBe(fixture.a.version);
    await publish(fixture.b, { corrupt: 'item_factors.bin' });
    await runCron();
    expect(await versionOf()).toBe(fixture.a.version);
    const recs = await json<{ version: string; items: unknown[] }>(`/v1/users/${USER}/recommendations?k=3`);
    expect(recs.status).toBe(200);
    expect(recs.body.version).toBe(fixture.a.version);
    const health = (await json<Health>('/v1/health')).body;
    expect(health.status).toBe('degraded');
    expect(health.version).toBe(fixture.a.version);
    expect(health.refused[0]).toMatchObject({ version: fixture.b.version, code: 'artifact_corrupt' });
    expect(health.refused[0]!.message).toMatch(/item_factors\.bin .*sha256/);
  });

  it('refuses a truncated file and a missing file the same way', async () => {
    await publish(fixture.a);
    expect(await versionOf()).toBe(fixture.a.version);
    await publish(fixture.b);
    const seen = fileBytes(fixture.b, 'seen.csr');
    const { env } = await import('cloudflare:test');
    await env.ARTIFACTS.put(`versions/${fixture.b.version}/seen.csr`, seen.subarray(0, seen.length - 8));
    await env.ARTIFACTS.delete(`versions/${fixture.b.version}/user_factors.bin`);
    await runCron();
    expect(await versionOf()).toBe(fixture.a.version);
    const health = (await json<Health>('/v1/health')).body;
    expect(health.refused[0]!.version).toBe(fixture.b.version);
    expect(['artifact_corrupt', 'artifact_missing']).toContain(health.refused[0]!.code);
  });

  it('answers 503 when the first version is corrupt (never a half-loaded one)', async () => {
    await publish(fixture.a, { corrupt: 'catalog.json' });
    const { status, body } = await json<{ error: { code: string; message: string } }>(
      `/v1/users/${USER}/recommendations`,
    );
    expect(status).toBe(503);
    expect(body.error.code).toBe('no_live_version');
    expect(body.error.message).toMatch(
      new RegExp(`version ${fixture.a.version} was refused: .*catalog\\.json`),
    );
  });
});
