/**
 * API keys in workerd: every known-user route answers 401 without a key and with a wrong one, 200
 * with either of two rotated keys; no configured key is a 401 naming the secret; catalog routes are
 * public unless PUBLIC_ENDPOINTS=false; /v1/health shows its detail only to a read key.
 */
import { env } from 'cloudflare:test';
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AppEnv } from '../../edge/app-env.ts';
import { requireKey } from '../../edge/auth.ts';
import { onError } from '../../edge/errors.ts';
import { TEST_READ_KEYS, TEST_WRITE_KEYS } from '../support/edge-keys.ts';
import { callWithoutKey, coldStart, fixture, post, publish } from './helpers.ts';

const USER = fixture.predictions[0]!.userId;

/** Every route that reveals something about a known user, with a request that succeeds. */
const KNOWN_USER_ROUTES: { name: string; path: string; init?: RequestInit }[] = [
  { name: 'GET recommendations', path: `/v1/users/${USER}/recommendations?k=3` },
  { name: 'GET prediction by id', path: `/v1/users/${USER}/predictions/6` },
  { name: 'GET prediction by title', path: `/v1/users/${USER}/predictions?title=Heat` },
  { name: 'POST predictions', path: `/v1/users/${USER}/predictions`, init: post({ movieIds: [1, 6] }) },
];

const CATALOG_ROUTES: { name: string; path: string; init?: RequestInit }[] = [
  { name: 'search', path: '/v1/movies?q=heat' },
  { name: 'movie', path: '/v1/movies/6' },
  { name: 'similar', path: '/v1/movies/6/similar?k=3' },
  { name: 'session recommendations', path: '/v1/recommendations', init: post({ ratings: [] }) },
  {
    name: 'session predictions',
    path: '/v1/predictions',
    init: post({ ratings: [{ movieId: 1, rating: 5 }], movieIds: [6] }),
  },
  { name: 'version', path: '/v1/version' },
  { name: 'openapi', path: '/openapi.json' },
  { name: 'page', path: '/' },
];

function withKey(init: RequestInit | undefined, authorization: string): RequestInit {
  const headers = new Headers(init?.headers);
  headers.set('authorization', authorization);
  return { ...init, headers };
}

async function expect401(response: Response, message: RegExp, invalidToken: boolean): Promise<void> {
  expect(response.status).toBe(401);
  const challenge = response.headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(/^Bearer\b/);
  expect(challenge.includes('invalid_token')).toBe(invalidToken);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe('unauthorized');
  expect(body.error.message).toMatch(message);
}

beforeAll(async () => {
  await coldStart();
  await publish(fixture.a);
});

describe.each(KNOWN_USER_ROUTES)('known-user route: $name', ({ path, init }) => {
  it('answers 401 without a key', async () => {
    await expect401(await callWithoutKey(path, init), /Authorization: Bearer/, false);
  });

  it('answers 401 with a wrong key, a write key, or a malformed header', async () => {
    await expect401(
      await callWithoutKey(path, withKey(init, 'Bearer not-a-key')),
      /not a valid read key/,
      true,
    );
    const almost = `${TEST_READ_KEYS[0].slice(0, -1)}x`;
    await expect401(await callWithoutKey(path, withKey(init, `Bearer ${almost}`)), /not a valid/, true);
    await expect401(
      await callWithoutKey(path, withKey(init, `Bearer ${TEST_WRITE_KEYS[0]}`)),
      /not a valid read key/,
      true,
    );
    await expect401(await callWithoutKey(path, withKey(init, TEST_READ_KEYS[0])), /Bearer/, false);
  });

  it('answers 200 with either of the two rotated read keys', async () => {
    for (const key of TEST_READ_KEYS) {
      const response = await callWithoutKey(path, withKey(init, `Bearer ${key}`));
      expect(response.status, await response.clone().text()).toBe(200);
      await response.arrayBuffer();
    }
    // The scheme is case-insensitive (RFC 7235).
    const lower = await callWithoutKey(path, withKey(init, `bearer ${TEST_READ_KEYS[1]}`));
    expect(lower.status).toBe(200);
    await lower.arrayBuffer();
  });

  it('answers 401 naming READ_API_KEYS when no key is configured (secure by default)', async () => {
    for (const unset of [{ READ_API_KEYS: '' }, { READ_API_KEYS: undefined as unknown as string }]) {
      const response = await callWithoutKey(path, withKey(init, `Bearer ${TEST_READ_KEYS[0]}`), unset);
      await expect401(response, /set the Worker secret READ_API_KEYS/, false);
    }
  });
});

describe('catalog and anonymous routes', () => {
  it.each(CATALOG_ROUTES)('$name is public by default', async ({ path, init }) => {
    const response = await callWithoutKey(path, init);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  });

  it.each(CATALOG_ROUTES)('$name needs a read key when PUBLIC_ENDPOINTS=false', async ({ path, init }) => {
    const closed = { PUBLIC_ENDPOINTS: 'false' } as unknown as Partial<Env>;
    await expect401(await callWithoutKey(path, init, closed), /Authorization: Bearer/, false);
    const response = await callWithoutKey(path, withKey(init, `Bearer ${TEST_READ_KEYS[1]}`), closed);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  });
});

describe('/v1/health', () => {
  it('answers status and version publicly, the detail only with a read key', async () => {
    const open = await callWithoutKey('/v1/health');
    expect(open.status).toBe(200);
    expect(await open.json()).toEqual({ status: 'ok', version: fixture.a.version });
    const wrong = await callWithoutKey('/v1/health', withKey(undefined, 'Bearer nope'));
    expect(Object.keys(await wrong.json()).sort()).toEqual(['status', 'version']);
    const detailed = await callWithoutKey('/v1/health', withKey(undefined, `Bearer ${TEST_READ_KEYS[0]}`));
    const body = (await detailed.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', version: fixture.a.version });
    expect(body).toHaveProperty('refused');
    expect(body).toHaveProperty('loadedAt');
  });
});

describe('requireKey("write")', () => {
  // A write route is built with the same middleware; this one exists only in the test.
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.post('/write', requireKey('write'), (c) => c.json({ key: c.get('apiKeyId') }));
  const request = (authorization?: string, overrides: Partial<Env> = {}) =>
    app.request(
      '/write',
      { method: 'POST', headers: authorization ? { authorization } : {} },
      { ...env, ...overrides },
    );

  it('accepts either write key, refuses read keys and names WRITE_API_KEYS when unset', async () => {
    for (const [n, key] of TEST_WRITE_KEYS.entries()) {
      const response = await request(`Bearer ${key}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ key: `write:${n}` });
    }
    await expect401(await request(`Bearer ${TEST_READ_KEYS[0]}`), /not a valid write key/, true);
    await expect401(await request(), /Authorization: Bearer/, false);
    await expect401(
      await request(`Bearer ${TEST_WRITE_KEYS[0]}`, { WRITE_API_KEYS: ' , ' }),
      /set the Worker secret WRITE_API_KEYS/,
      false,
    );
  });
});
