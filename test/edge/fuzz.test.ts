/**
 * 10,000 random and malformed requests against the live Worker (in-process, real workerd): zero
 * 5xx, and every error carries the JSON envelope. Requests carry a valid (either rotated), wrong,
 * write or no API key, come from many client IPs and one busy one (429s), with and without CORS
 * origins and PUBLIC_ENDPOINTS=false, some with non-JSON bodies (415) or a body the client drops
 * (client_aborted). Seeded, so a failure reproduces.
 */
import { beforeAll, expect, it } from 'vitest';
import { createRng } from '../../shared/random.ts';
import { TEST_READ_KEYS, TEST_WRITE_KEYS } from '../support/edge-keys.ts';
import { callWithoutKey, coldStart, fixture, publish } from './helpers.ts';

const rng = createRng(20261121);
const pick = <T>(items: readonly T[]): T => items[rng.int(items.length)]!;
const USERS = [...new Set(fixture.predictions.map((p) => p.userId))];
const MOVIES = [...new Set(fixture.predictions.map((p) => p.movieId)), 6, 2571];

function randomString(max: number): string {
  const alphabet = 'abcXYZ019 -_.,;:!?%&=+/\\"\'<>{}[]()~`#@$^*|\u00e9\u4e2d\u{1f3ac}\u0000\n\t';
  const chars = [...alphabet];
  let out = '';
  const n = rng.int(max + 1);
  for (let i = 0; i < n; i++) out += pick(chars);
  return out;
}

function randomId(): string {
  return pick([
    () => String(pick(USERS)),
    () => String(pick(MOVIES)),
    () => String(rng.int(1_000_000)),
    () => String(-rng.int(1000)),
    () => '9'.repeat(1 + rng.int(40)),
    () => '1e3',
    () => '0x1F',
    () => '3.5',
    () => 'NaN',
    () => encodeURIComponent(randomString(12)) || 'x',
    () => '%00',
    () => '',
  ])();
}

function randomValue(): unknown {
  return pick([
    () => rng.int(200) - 50,
    () => rng.next() * 10 - 2,
    () => randomString(8),
    () => null,
    () => true,
    () => [],
    () => ({}),
    () => Array.from({ length: rng.int(5) }, () => rng.int(10_000)),
    () => '1'.repeat(400),
    () => 1e308,
    () => -0,
  ])();
}

function randomQuery(): string {
  const keys = [
    'k',
    'genres',
    'yearFrom',
    'yearTo',
    'excludeSeen',
    'diversity',
    'by',
    'q',
    'limit',
    'title',
    'year',
    randomString(5),
  ];
  const values = [
    '5',
    '0',
    '101',
    '-1',
    'abc',
    'true',
    'false',
    'maybe',
    '0.5',
    '2',
    'Drama',
    'Comedy,Drama',
    'Opera',
    'content',
    'visual',
    'hybrid',
    '1990',
    '2200',
    '1799',
    '',
    'Hamlet',
    'the matrix (1999)',
    'Matirx',
    randomString(10),
  ];
  const parts: string[] = [];
  const n = rng.int(5);
  for (let i = 0; i < n; i++)
    parts.push(`${encodeURIComponent(pick(keys))}=${encodeURIComponent(pick(values))}`);
  if (rng.next() < 0.05) parts.push('k=1&k=2');
  return parts.length ? `?${parts.join('&')}` : '';
}

function randomBody(): string | undefined {
  return pick([
    () => undefined,
    () => '',
    () => '{',
    () => 'null',
    () => '[]',
    () => randomString(30),
    () =>
      JSON.stringify({
        ratings: Array.from({ length: rng.int(25) }, () => ({
          movieId: rng.next() < 0.7 ? pick(MOVIES) : randomValue(),
          rating: rng.next() < 0.7 ? 0.5 + rng.int(10) / 2 : randomValue(),
        })),
      }),
    () =>
      JSON.stringify({
        ratings: [],
        k: randomValue(),
        genres: randomValue(),
        diversity: randomValue(),
        yearFrom: randomValue(),
      }),
    () =>
      JSON.stringify({
        movieIds: Array.from({ length: rng.int(30) }, () =>
          rng.next() < 0.8 ? pick(MOVIES) : randomValue(),
        ),
      }),
    () => JSON.stringify({ movieIds: randomValue(), extra: randomValue() }),
    () =>
      JSON.stringify({
        ratings: [{ movieId: pick(MOVIES), rating: 4 }],
        titles: Array.from({ length: rng.int(4) }, () =>
          rng.next() < 0.5 ? pick(['Heat', 'Hamlet', 'Toy Story (1995)', 'matirx']) : randomValue(),
        ),
      }),
    () => JSON.stringify({ [randomString(4)]: randomValue() }),
    () => `${'['.repeat(500)}${']'.repeat(500)}`,
    () => JSON.stringify({ ratings: [], pad: 'x'.repeat(70_000) }),
    () =>
      JSON.stringify({
        ratings: Array.from({ length: 600 }, (_, i) => ({ movieId: MOVIES[i % MOVIES.length], rating: 3 })),
      }),
  ])();
}

function randomPath(): string {
  return pick([
    () => `/v1/users/${randomId()}/recommendations${randomQuery()}`,
    () => `/v1/recommendations${randomQuery()}`,
    () => `/v1/predictions${randomQuery()}`,
    () => `/v1/movies/${randomId()}/similar${randomQuery()}`,
    () => `/v1/users/${randomId()}/predictions/${randomId()}${randomQuery()}`,
    () => `/v1/users/${randomId()}/predictions${randomQuery()}`,
    () => `/v1/movies${randomQuery()}`,
    () => `/v1/movies/${randomId()}${randomQuery()}`,
    () =>
      pick([
        '/v1/health',
        '/v1/version',
        '/openapi.json',
        '/',
        '/v1',
        '/v1/',
        '/v1/users',
        '//v1//movies',
        '/v1/movies/6/similar/extra',
      ]),
    () => `/${encodeURIComponent(randomString(20))}`,
  ])();
}

function randomAuthorization(): string | undefined {
  return pick([
    () => `Bearer ${pick(TEST_READ_KEYS)}`,
    () => `Bearer ${pick(TEST_READ_KEYS)}`,
    () => `Bearer ${pick(TEST_READ_KEYS)}`,
    () => `bearer ${pick(TEST_READ_KEYS)}`,
    () => `Bearer ${pick(TEST_WRITE_KEYS)}`,
    () => `Bearer ${Array.from({ length: 1 + rng.int(40) }, () => 'aZ09-._~+/='[rng.int(11)]).join('')}`,
    () => pick(TEST_READ_KEYS),
    () => `Basic ${btoa('user:pass')}`,
    () => 'Bearer',
    () => undefined,
  ])();
}

/**
 * Many clients, and one busy client (~1,000 requests, within at most two 60 s windows of the
 * 300-per-IP limit, so hundreds of 429s whatever the window boundaries).
 */
function randomClientIp(): string | undefined {
  const r = rng.next();
  if (r < 0.1) return '198.51.100.99';
  if (r < 0.14) return undefined;
  return `10.${rng.int(8)}.${rng.int(256)}.${rng.int(256)}`;
}

/** A body the client stops sending halfway (its connection drops). */
function abortedBody(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"ratings": [{"movieId": 6,'));
      controller.error(new Error('connection reset by peer'));
    },
  });
}

beforeAll(async () => {
  await coldStart();
  await publish(fixture.a);
});

it('answers 10,000 random and malformed requests without a single 5xx', async () => {
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  for (let n = 0; n < 10_000; n++) {
    const method =
      rng.next() < 0.6 ? 'GET' : pick(['POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
    const path = randomPath();
    const body = method === 'GET' || method === 'HEAD' ? undefined : randomBody();
    const aborted = body !== undefined && rng.next() < 0.01;
    const headers: Record<string, string> =
      rng.next() < 0.8
        ? { 'content-type': 'application/json' }
        : {
            'content-type': pick([
              'text/plain',
              'application/x-www-form-urlencoded',
              'application/json; charset=latin1',
              '',
            ]),
          };
    const authorization = randomAuthorization();
    if (authorization !== undefined) headers.authorization = authorization;
    const ip = randomClientIp();
    if (ip !== undefined) headers['cf-connecting-ip'] = ip;
    if (rng.next() < 0.1) headers.origin = pick(['https://films.example', 'https://evil.example', 'null']);
    if (method === 'OPTIONS' && rng.next() < 0.5)
      headers['access-control-request-method'] = pick(['GET', 'POST']);
    const overrides = {
      ...(rng.next() < 0.1 ? { PUBLIC_ENDPOINTS: 'false' } : {}),
      ...(rng.next() < 0.2 ? { CORS_ORIGINS: 'https://films.example' } : {}),
    } as Partial<Env>;
    const init = aborted
      ? ({ method, headers, body: abortedBody(), duplex: 'half' } as RequestInit)
      : { method, headers, body };
    let response: Response;
    try {
      response = await callWithoutKey(path, init, overrides);
    } catch (error) {
      failures.push(`${method} ${path}: threw ${(error as Error).message}`);
      continue;
    }
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    if (response.status >= 500)
      failures.push(
        `${method} ${path} ${body?.slice(0, 80) ?? ''} -> ${response.status} ${await response.text()}`,
      );
    else if (response.status >= 400 && method !== 'HEAD') {
      const envelope = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
      if (typeof envelope.error?.code !== 'string' || typeof envelope.error?.message !== 'string')
        failures.push(`${method} ${path}: no error envelope`);
    } else await response.arrayBuffer();
  }
  console.log(
    `fuzz statuses: ${[...statuses.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ')}`,
  );
  expect(failures.slice(0, 10)).toEqual([]);
  // The mix must exercise both successes and each client-error class, or the test proves little.
  expect(statuses.get(200) ?? 0).toBeGreaterThan(500);
  expect(statuses.get(400) ?? 0).toBeGreaterThan(500);
  expect(statuses.get(401) ?? 0).toBeGreaterThan(100);
  expect(statuses.get(404) ?? 0).toBeGreaterThan(100);
  expect(statuses.get(413) ?? 0).toBeGreaterThan(0);
  expect(statuses.get(415) ?? 0).toBeGreaterThan(10);
  expect(statuses.get(429) ?? 0).toBeGreaterThan(100);
}, 120_000);
