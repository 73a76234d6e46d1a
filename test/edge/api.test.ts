/**
 * Every endpoint and every error code, in workerd, against a real small version (ml-latest-small,
 * biased MF) published to this file's R2 bucket.
 */
import { SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../edge/app.ts';
import { NEW_USER_WEIGHTS, REGULAR_USER_WEIGHTS } from '../../shared/kernels/blend.ts';
import { call, coldStart, fixture, json, post, publish } from './helpers.ts';
import { resetLiveState } from '../../edge/live.ts';

type Item = {
  movieId: number;
  title: string;
  year: number | null;
  genres: string[];
  score: number;
  predictedRating: number | null;
  reason: { kind: string; text: string; movieId?: number };
};
type Recs = {
  version: string;
  userId?: number;
  ratingCount: number;
  weights: { collaborative: number; content: number; popularity: number };
  items: Item[];
};

const USER = fixture.predictions[0]!.userId; // a real user id of ml-latest-small
const HEAT = 6; // "Heat (1995)" in ml-latest-small
const TOY_STORY = 1;

describe('without a published version', () => {
  beforeAll(coldStart);
  it('answers 503 no_live_version, and health says unavailable', async () => {
    const { status, body } = await json<{ error: { code: string; message: string } }>(
      `/v1/users/${USER}/recommendations`,
    );
    expect(status).toBe(503);
    expect(body.error.code).toBe('no_live_version');
    expect(body.error.message).toMatch(/current\.json is absent/);
    const health = await json<{ status: string }>('/v1/health');
    expect(health.status).toBe(503);
    expect(health.body.status).toBe('unavailable');
  });
});

describe('with version a live', () => {
  beforeAll(async () => {
    await coldStart();
    await publish(fixture.a);
  });

  it('health in a fresh isolate loads the live version instead of reporting unavailable', async () => {
    resetLiveState(); // forget the loaded version, keep the bucket
    const health = await json<{ status: string; version: string }>('/v1/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', version: fixture.a.version });
  });

  it('reports health and version through the real Worker entry (SELF)', async () => {
    const version = await (await SELF.fetch('https://reelrank.test/v1/version')).json<{
      version: string;
      movies: number;
      users: number;
      factors: number;
      kernel: string;
      genres: string[];
    }>();
    expect(version.version).toBe(fixture.a.version);
    expect(version.movies).toBe(9742);
    expect(version.users).toBe(610);
    expect(version.factors).toBe(32);
    expect(version.kernel).toBe('wasm-simd'); // the bundled .wasm module, instantiated in workerd
    expect(version.genres).toContain('Drama');
    const health = await json<{ status: string; version: string; loadMs: number }>('/v1/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', version: fixture.a.version });
    expect(health.body.loadMs).toBeGreaterThanOrEqual(0);
  });

  it('recommends for a known user: k items, unseen, blended, with reasons', async () => {
    const { status, body } = await json<Recs>(`/v1/users/${USER}/recommendations?k=15`);
    expect(status).toBe(200);
    expect(body.items).toHaveLength(15);
    expect(body.ratingCount).toBeGreaterThan(30);
    expect(body.weights.collaborative).toBeCloseTo(REGULAR_USER_WEIGHTS.collaborative, 4); // a regular user
    expect(body.weights.content).toBeCloseTo(REGULAR_USER_WEIGHTS.content, 4);
    const seen = await json<{ predictions: { movieId: number }[] }>(
      `/v1/users/${USER}/predictions`,
      post({ movieIds: [TOY_STORY] }),
    );
    expect(seen.status).toBe(200);
    // user 1 rated Toy Story: it must not come back with excludeSeen (the default)
    expect(body.items.map((i) => i.movieId)).not.toContain(TOY_STORY);
    for (let n = 1; n < body.items.length; n++)
      expect(body.items[n - 1]!.score).toBeGreaterThanOrEqual(body.items[n]!.score);
    for (const item of body.items) {
      expect(item.reason.text).toMatch(/^(because you rated .+ highly|popular in .+|popular overall)$/);
      expect(item.predictedRating).toBeGreaterThanOrEqual(0.5);
      expect(item.predictedRating).toBeLessThanOrEqual(5);
    }
    expect(body.items.some((i) => i.reason.kind === 'rated')).toBe(true);
  });

  it('applies genre and year filters, diversity, and excludeSeen=false', async () => {
    const { body } = await json<Recs>(
      `/v1/users/${USER}/recommendations?k=10&genres=Comedy,Romance&yearFrom=1990&yearTo=1999`,
    );
    expect(body.items).toHaveLength(10);
    for (const item of body.items) {
      expect(item.genres.some((g) => g === 'Comedy' || g === 'Romance')).toBe(true);
      expect(item.year).toBeGreaterThanOrEqual(1990);
      expect(item.year).toBeLessThanOrEqual(1999);
    }
    const plain = await json<Recs>(`/v1/users/${USER}/recommendations?k=10`);
    const diverse = await json<Recs>(`/v1/users/${USER}/recommendations?k=10&diversity=0.9`);
    expect(diverse.body.items).toHaveLength(10);
    expect(diverse.body.items.map((i) => i.movieId)).not.toEqual(plain.body.items.map((i) => i.movieId));
    const genresOf = (items: Item[]) => new Set(items.flatMap((i) => i.genres)).size;
    expect(genresOf(diverse.body.items)).toBeGreaterThanOrEqual(genresOf(plain.body.items));
    // User 1 rated Toy Story (4.0), one of the most rated movies: back in the list once seen
    // movies are allowed, never there by default.
    const withSeen = await json<Recs>(`/v1/users/${USER}/recommendations?k=100&excludeSeen=false`);
    const unseenOnly = await json<Recs>(`/v1/users/${USER}/recommendations?k=100`);
    expect(withSeen.status).toBe(200);
    expect(withSeen.body.items.map((i) => i.movieId)).toContain(TOY_STORY);
    expect(unseenOnly.body.items.map((i) => i.movieId)).not.toContain(TOY_STORY);
  });

  it('gives the same scores as the trainer (float32 MF) and as shared/serving in Node', async () => {
    for (const p of fixture.predictions) {
      const { status, body } = await json<{ rating: number }>(
        `/v1/users/${p.userId}/predictions/${p.movieId}`,
      );
      expect(status).toBe(200);
      expect(Math.abs(body.rating - p.serving)).toBeLessThan(1e-3); // same kernel, rounded to 4 decimals
      expect(Math.abs(body.rating - p.float)).toBeLessThanOrEqual(fixture.tolerance); // int8 quantization
    }
    for (const r of fixture.recommendations) {
      const { body } = await json<Recs>(`/v1/users/${r.userId}/recommendations?k=10`);
      expect(body.items.map((i) => i.movieId)).toEqual(r.movieIds);
      body.items.forEach((item, n) => {
        expect(item.score).toBeCloseTo(r.scores[n]!, 3);
      });
    }
  });

  it('predicts in batch on the dataset scale', async () => {
    const ids = fixture.predictions.filter((p) => p.userId === USER).map((p) => p.movieId);
    const { status, body } = await json<{
      predictions: { movieId: number; rating: number }[];
      ratingScale: { min: number; max: number };
    }>(`/v1/users/${USER}/predictions`, post({ movieIds: ids }));
    expect(status).toBe(200);
    expect(body.ratingScale).toMatchObject({ min: 0.5, max: 5 });
    expect(body.predictions.map((p) => p.movieId)).toEqual(ids);
    const expected = fixture.predictions.filter((q) => q.userId === USER);
    body.predictions.forEach((p, n) => {
      expect(p.rating).toBeCloseTo(expected[n]!.serving, 3);
    });
  });

  it('folds in an anonymous session and recommends with shifting weights', async () => {
    const session = {
      k: 10,
      ratings: [
        { movieId: HEAT, rating: 5 },
        { movieId: 2571, rating: 4.5 },
        { movieId: TOY_STORY, rating: 1 },
      ],
    };
    const { status, body } = await json<Recs>('/v1/recommendations', post(session));
    expect(status).toBe(200);
    expect(body.ratingCount).toBe(3);
    expect(body.weights.content).toBeCloseTo(NEW_USER_WEIGHTS.content, 4); // a new user
    expect(body.weights.collaborative).toBeCloseTo(NEW_USER_WEIGHTS.collaborative, 4);
    expect(body.items).toHaveLength(10);
    const ids = body.items.map((i) => i.movieId);
    for (const rated of [HEAT, 2571, TOY_STORY]) expect(ids).not.toContain(rated);
    expect(
      body.items.some(
        (i) =>
          i.reason.text === 'because you rated Heat highly' ||
          i.reason.text.startsWith('because you rated The Matrix'),
      ),
    ).toBe(true);
    // The session vector is personal: a different taste gives a different list.
    const other = await json<Recs>(
      '/v1/recommendations',
      post({
        k: 10,
        ratings: [
          { movieId: TOY_STORY, rating: 5 },
          { movieId: HEAT, rating: 0.5 },
        ],
      }),
    );
    expect(other.body.items.map((i) => i.movieId)).not.toEqual(ids);
  });

  it('answers an empty session with popular and diverse movies', async () => {
    const { status, body } = await json<Recs>('/v1/recommendations', post({ ratings: [] }));
    expect(status).toBe(200);
    expect(body.weights).toEqual({ collaborative: 0, content: 0, popularity: 1 });
    expect(body.items).toHaveLength(10);
    for (const item of body.items) expect(item.reason.kind).toBe('popular');
    const popularOnly = await json<Recs>('/v1/recommendations', post({ ratings: [], diversity: 0 }));
    expect(new Set(body.items.flatMap((i) => i.genres)).size).toBeGreaterThanOrEqual(
      new Set(popularOnly.body.items.flatMap((i) => i.genres)).size,
    );
  });

  it('finds similar movies by every available channel', async () => {
    for (const by of ['content', 'collaborative', 'hybrid'] as const) {
      const { status, body } = await json<{ by: string; items: { movieId: number; similarity: number }[] }>(
        `/v1/movies/${HEAT}/similar?k=5&by=${by}`,
      );
      expect(status, by).toBe(200);
      expect(body.items).toHaveLength(5);
      expect(body.items.map((i) => i.movieId)).not.toContain(HEAT);
      for (let n = 1; n < 5; n++)
        expect(body.items[n - 1]!.similarity).toBeGreaterThanOrEqual(body.items[n]!.similarity - 1e-6);
    }
    const visual = await json<{ error: { code: string; message: string } }>(
      `/v1/movies/${HEAT}/similar?by=visual`,
    );
    expect(visual.status).toBe(404);
    expect(visual.body.error.code).toBe('channel_unavailable');
    expect(visual.body.error.message).toMatch(/Available: content, collaborative, hybrid/);
  });

  it('searches titles and returns one movie', async () => {
    const { body } = await json<{ items: { movieId: number; title: string }[]; total: number }>(
      '/v1/movies?q=heat&limit=5',
    );
    expect(body.items[0]).toMatchObject({ movieId: HEAT, title: 'Heat' });
    expect(body.total).toBeGreaterThan(1);
    // Case and accents are folded: 'AMÉLIE' finds "Amelie (Fabuleux destin d'Amélie Poulain, Le)".
    const accent = await json<{ items: { title: string }[] }>(`/v1/movies?q=${encodeURIComponent('AMÉLIE')}`);
    expect(accent.body.items[0]?.title).toMatch(/^Amelie \(Fabuleux destin/);
    // Display titles beside the catalog's own (shared/display-title.ts); search accepts both.
    const matrix = await json<{ items: { title: string; displayTitle: string }[] }>(
      '/v1/movies?q=the+matrix',
    );
    expect(matrix.body.items[0]).toMatchObject({ title: 'Matrix, The', displayTitle: 'The Matrix' });
    const one = await json<{ movie: { movieId: number; title: string; year: number; genres: string[] } }>(
      `/v1/movies/${HEAT}`,
    );
    expect(one.body.movie).toMatchObject({ movieId: HEAT, title: 'Heat', year: 1995 });
  });

  it('serves the OpenAPI document and the web page', async () => {
    const doc = await json<{ openapi: string; paths: Record<string, unknown> }>('/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/users/{userId}/recommendations',
        '/v1/recommendations',
        '/v1/movies/{movieId}/similar',
        '/v1/movies',
        '/v1/health',
        '/v1/version',
      ]),
    );
    const page = await call('/');
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('/v1/recommendations');
  });

  const errorCases: [string, string, RequestInit | undefined, number, string, RegExp][] = [
    ['unknown user', '/v1/users/999999/recommendations', undefined, 404, 'unknown_user', /user 999999/],
    ['unknown movie', '/v1/movies/424242424', undefined, 404, 'unknown_movie', /movie 424242424/],
    [
      'unknown movie in similar',
      '/v1/movies/424242424/similar',
      undefined,
      404,
      'unknown_movie',
      /movie 424242424/,
    ],
    [
      'unknown movie in prediction',
      `/v1/users/${USER}/predictions/424242424`,
      undefined,
      404,
      'unknown_movie',
      /424242424/,
    ],
    [
      'unknown user in prediction',
      `/v1/users/999999/predictions/${HEAT}`,
      undefined,
      404,
      'unknown_user',
      /999999/,
    ],
    [
      'unknown movie in a session',
      '/v1/recommendations',
      post({ ratings: [{ movieId: 424242424, rating: 4 }] }),
      404,
      'unknown_movie',
      /424242424/,
    ],
    [
      'k too large',
      `/v1/users/${USER}/recommendations?k=1000`,
      undefined,
      400,
      'bad_parameter',
      /^k must be between 1 and 100/,
    ],
    [
      'k not a number',
      `/v1/users/${USER}/recommendations?k=ten`,
      undefined,
      400,
      'bad_parameter',
      /^k must be an integer/,
    ],
    [
      'unknown genre',
      `/v1/users/${USER}/recommendations?genres=Opera`,
      undefined,
      400,
      'bad_parameter',
      /genres: unknown genre 'Opera'.*Drama/,
    ],
    [
      'years reversed',
      `/v1/users/${USER}/recommendations?yearFrom=2000&yearTo=1990`,
      undefined,
      400,
      'bad_parameter',
      /yearFrom must not be after yearTo/,
    ],
    [
      'diversity out of range',
      `/v1/users/${USER}/recommendations?diversity=2`,
      undefined,
      400,
      'bad_parameter',
      /^diversity/,
    ],
    [
      'excludeSeen not boolean',
      `/v1/users/${USER}/recommendations?excludeSeen=maybe`,
      undefined,
      400,
      'bad_parameter',
      /^excludeSeen must be true or false/,
    ],
    [
      'unknown query parameter',
      `/v1/users/${USER}/recommendations?kk=3`,
      undefined,
      400,
      'bad_parameter',
      /unknown parameter\(s\): kk/,
    ],
    [
      'bad user id',
      '/v1/users/abc/recommendations',
      undefined,
      400,
      'bad_parameter',
      /^userId must be an integer/,
    ],
    [
      'bad channel',
      `/v1/movies/${HEAT}/similar?by=smell`,
      undefined,
      400,
      'bad_parameter',
      /^by must be one of content, visual, collaborative, hybrid/,
    ],
    [
      'rating off scale',
      '/v1/recommendations',
      post({ ratings: [{ movieId: HEAT, rating: 9 }] }),
      400,
      'bad_parameter',
      /ratings\[0\]\.rating: 9 is outside the rating scale 0\.5\.\.5/,
    ],
    [
      'rating not a number',
      '/v1/recommendations',
      post({ ratings: [{ movieId: HEAT, rating: 'five' }] }),
      400,
      'bad_parameter',
      /ratings\[0\]\.rating/,
    ],
    ['malformed JSON', '/v1/recommendations', post('{"ratings": ['), 400, 'bad_json', /JSON/i],
    [
      'empty batch',
      `/v1/users/${USER}/predictions`,
      post({ movieIds: [] }),
      400,
      'bad_parameter',
      /movieIds must not be empty/,
    ],
    [
      'oversized body',
      '/v1/recommendations',
      post({ ratings: [], pad: 'x'.repeat(MAX_BODY_BYTES) }),
      413,
      'payload_too_large',
      /larger than 65536 bytes/,
    ],
    ['unknown route', '/v2/everything', undefined, 404, 'not_found', /no route for GET \/v2\/everything/],
  ];
  it.each(errorCases)('%s', async (_name, path, init, status, code, message) => {
    const response = await call(path, init);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(code);
    expect(body.error.message).toMatch(message);
  });
});
