/**
 * 10,000 random and malformed requests against the live Worker (in-process, real workerd): zero
 * 5xx, and every error carries the JSON envelope. Seeded, so a failure reproduces.
 */
import { beforeAll, expect, it } from 'vitest';
import { createRng } from '../../shared/random.ts';
import { call, coldStart, fixture, publish } from './helpers.ts';

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
    let response: Response;
    try {
      response = await call(path, { method, headers, body });
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
  expect(failures.slice(0, 10)).toEqual([]);
  // The mix must exercise both successes and each client-error class, or the test proves little.
  expect(statuses.get(200) ?? 0).toBeGreaterThan(500);
  expect(statuses.get(400) ?? 0).toBeGreaterThan(500);
  expect(statuses.get(404) ?? 0).toBeGreaterThan(100);
  expect(statuses.get(413) ?? 0).toBeGreaterThan(0);
}, 120_000);
