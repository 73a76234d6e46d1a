/**
 * Rate limits (the Workers Rate Limiting bindings, simulated by miniflare) and CORS, in workerd:
 * 429 with Retry-After once a client IP has used wrangler.toml's burst, per-key limits counted per
 * key, preflight allowed for a listed origin and refused for another, no cross-origin reads by
 * default.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import wranglerToml from '../../wrangler.toml?raw';
import { TEST_READ_KEYS } from '../support/edge-keys.ts';
import { call, callWithoutKey, coldStart, fixture, publish } from './helpers.ts';

const USER = fixture.predictions[0]!.userId;

/** `simple = { limit = N, period = P }` of the [[ratelimits]] binding `name` in wrangler.toml. */
function configuredLimit(name: string): { limit: number; period: number } {
  const block = wranglerToml.split('[[ratelimits]]').find((b) => b.includes(`name = "${name}"`));
  const match = block && /simple\s*=\s*\{\s*limit\s*=\s*(\d+)\s*,\s*period\s*=\s*(\d+)\s*\}/.exec(block);
  if (!match) throw new Error(`wrangler.toml has no [[ratelimits]] ${name} with simple = { limit, period }`);
  return { limit: Number(match[1]), period: Number(match[2]) };
}

/** Miniflare's limiter counts in fixed windows of `period`: start a burst early in a window. */
async function atWindowStart(periodSeconds: number): Promise<void> {
  const into = Date.now() % (periodSeconds * 1000);
  if (into > periodSeconds * 1000 - 15_000)
    await new Promise((r) => setTimeout(r, periodSeconds * 1000 - into + 50));
}

async function expect429(response: Response, period: number, what: RegExp): Promise<void> {
  expect(response.status).toBe(429);
  expect(response.headers.get('retry-after')).toBe(String(period));
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe('rate_limited');
  expect(body.error.message).toMatch(what);
}

beforeAll(async () => {
  await coldStart();
  await publish(fixture.a);
});

describe('rate limits', () => {
  it("answers 429 with Retry-After once a client IP has used wrangler.toml's burst", async () => {
    const { limit, period } = configuredLimit('IP_RATE_LIMIT');
    expect(env.RATE_LIMIT_PERIOD_SECONDS).toBe(String(period));
    await atWindowStart(period);
    const ip = { 'cf-connecting-ip': '203.0.113.7' };
    let ok = 0;
    for (; ok < limit; ok++) {
      const response = await callWithoutKey('/v1/health', { headers: ip });
      expect(response.status, `request ${ok + 1} of the burst`).toBe(200);
      await response.arrayBuffer();
    }
    await expect429(await callWithoutKey('/v1/health', { headers: ip }), period, /client IP/);
    // Counted against this IP only: another client, and any route, are unaffected; this one is
    // refused on every route, keyed or not.
    const other = await callWithoutKey('/v1/health', { headers: { 'cf-connecting-ip': '203.0.113.8' } });
    expect(other.status).toBe(200);
    await expect429(await call(`/v1/users/${USER}/predictions/6`, { headers: ip }), period, /client IP/);
  }, 120_000);

  it('counts each API key apart and refuses a key over its limit', async () => {
    // A real miniflare limiter of 5 per 60 s (vitest.config.ts), in place of the 3,000 of wrangler.toml.
    const tight = {
      KEY_RATE_LIMIT: (env as unknown as { TEST_TIGHT_RATE_LIMIT: RateLimit }).TEST_TIGHT_RATE_LIMIT,
    };
    const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
    await atWindowStart(60);
    for (let n = 0; n < 5; n++) {
      const response = await callWithoutKey(`/v1/users/${USER}/predictions/6`, as(TEST_READ_KEYS[0]), tight);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    await expect429(
      await callWithoutKey(`/v1/users/${USER}/predictions/6`, as(TEST_READ_KEYS[0]), tight),
      60,
      /API key/,
    );
    const rotated = await callWithoutKey(`/v1/users/${USER}/predictions/6`, as(TEST_READ_KEYS[1]), tight);
    expect(rotated.status).toBe(200);
    await rotated.arrayBuffer();
    // Public routes without a key are not counted against any key.
    const anonymous = await callWithoutKey('/v1/movies/6', {}, tight);
    expect(anonymous.status).toBe(200);
    await anonymous.arrayBuffer();
  });
});

describe('CORS', () => {
  const origins = {
    CORS_ORIGINS: 'https://films.example, https://www.films.example/',
  } as unknown as Partial<Env>;
  const preflight = (origin: string) => ({
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization',
    },
  });

  it('answers a preflight from a listed origin, without a key', async () => {
    for (const origin of ['https://films.example', 'https://www.films.example']) {
      const response = await callWithoutKey(`/v1/users/${USER}/recommendations`, preflight(origin), origins);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
      expect(response.headers.get('access-control-allow-methods')).toContain('GET');
    }
  });

  it('refuses a preflight from another origin, and every origin by default', async () => {
    const other = await callWithoutKey('/v1/movies/6', preflight('https://evil.example'), origins);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const byDefault = await callWithoutKey('/v1/movies/6', preflight('https://films.example'));
    expect(env.CORS_ORIGINS).toBe('');
    expect(byDefault.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets a listed origin read answers, errors included, and no other origin', async () => {
    const allowed = await callWithoutKey(
      '/v1/movies/6',
      { headers: { origin: 'https://films.example' } },
      origins,
    );
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://films.example');
    await allowed.arrayBuffer();
    const denied = await callWithoutKey(
      `/v1/users/${USER}/recommendations`,
      { headers: { origin: 'https://films.example' } },
      origins,
    );
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe('https://films.example');
    expect(denied.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/i);
    await denied.arrayBuffer();
    const stranger = await callWithoutKey(
      '/v1/movies/6',
      { headers: { origin: 'https://evil.example' } },
      origins,
    );
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    await stranger.arrayBuffer();
  });
});
