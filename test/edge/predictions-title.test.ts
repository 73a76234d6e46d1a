/**
 * Predictions by title (`GET /v1/users/:userId/predictions?title=`) and for anonymous sessions
 * (`POST /v1/predictions`), in workerd, against the real small version a (ml-latest-small).
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { liveVersion } from '../../edge/live.ts';
import { predictRating, sessionUser } from '../../shared/serving/scoring.ts';
import { coldStart, fixture, json, post, publish } from './helpers.ts';

type Ref = { movieId: number; title: string; year: number | null };
type TitlePrediction = Ref & {
  query: string;
  rating: number;
  match: 'exact' | 'partial';
  ambiguous: boolean;
  alternatives: Ref[];
};
type ErrorBody = { error: { code: string; message: string; suggestions?: Ref[] } };

const USER = fixture.predictions[0]!.userId;
const TOY_STORY = 1;
const MATRIX = 2571;
const predictions = (user: number, query: string) => `/v1/users/${user}/predictions?${query}`;

beforeAll(async () => {
  await coldStart();
  await publish(fixture.a);
});

describe('GET /v1/users/:userId/predictions?title=', () => {
  it('resolves a title and predicts what /predictions/:movieId predicts (trainer parity)', async () => {
    const { status, body } = await json<TitlePrediction & { version: string; userId: number }>(
      predictions(USER, 'title=toy%20story'),
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      version: fixture.a.version,
      userId: USER,
      query: 'toy story',
      movieId: TOY_STORY,
      title: 'Toy Story',
      year: 1995,
      match: 'exact',
      ambiguous: false,
      alternatives: [],
    });
    const byId = await json<{ rating: number }>(`/v1/users/${USER}/predictions/${TOY_STORY}`);
    expect(body.rating).toBe(byId.body.rating);
    const node = fixture.predictions.find((p) => p.userId === USER && p.movieId === TOY_STORY)!;
    expect(Math.abs(body.rating - node.serving)).toBeLessThan(1e-3);
  });

  it('matches the trailing-article form and a year in the title or as a parameter', async () => {
    for (const query of ['title=The%20Matrix', 'title=matrix%2C%20the%20(1999)', 'title=MATRIX&year=1999']) {
      const { status, body } = await json<TitlePrediction>(predictions(USER, query));
      expect(status, query).toBe(200);
      expect(body, query).toMatchObject({ movieId: MATRIX, title: 'Matrix, The', match: 'exact' });
    }
  });

  it('says when a title is ambiguous and lists the alternatives; year picks one', async () => {
    const { body } = await json<TitlePrediction>(predictions(USER, 'title=Hamlet'));
    expect(body.match).toBe('exact');
    expect(body.ambiguous).toBe(true);
    expect(body.alternatives).toHaveLength(4);
    for (const m of [body, ...body.alternatives]) expect(m.title).toBe('Hamlet');
    expect(new Set([body.year, ...body.alternatives.map((a) => a.year)])).toEqual(
      new Set([1948, 1964, 1990, 1996, 2000]),
    );
    const one = await json<TitlePrediction>(predictions(USER, 'title=Hamlet&year=1948'));
    expect(one.body).toMatchObject({ movieId: 1941, year: 1948, ambiguous: false });
    const partial = await json<TitlePrediction>(predictions(USER, 'title=star%20wars'));
    expect(partial.body.match).toBe('partial');
    expect(partial.body.title).toMatch(/^Star Wars/);
  });

  it('answers 404 movie_not_found with close suggestions', async () => {
    const typo = await json<ErrorBody>(predictions(USER, 'title=Matirx'));
    expect(typo.status).toBe(404);
    expect(typo.body.error.code).toBe('movie_not_found');
    expect(typo.body.error.message).toMatch(/^title: no movie of version .* matches 'Matirx'.*did you mean/);
    expect(typo.body.error.suggestions?.[0]).toEqual({ movieId: MATRIX, title: 'Matrix, The', year: 1999 });
    const wrongYear = await json<ErrorBody>(predictions(USER, 'title=Hamlet&year=1995'));
    expect(wrongYear.status).toBe(404);
    expect(wrongYear.body.error.message).toMatch(/no such title from 1995/);
    expect(wrongYear.body.error.suggestions?.map((s) => s.title)).toEqual(Array(5).fill('Hamlet'));
    const nothing = await json<ErrorBody>(predictions(USER, 'title=xqzv%20wvxq'));
    expect(nothing.status).toBe(404);
    expect(nothing.body.error.suggestions).toEqual([]);
  });

  it('answers 400 for an empty, missing, too long or letterless title, and 404 for an unknown user', async () => {
    const cases: [string, RegExp][] = [
      ['title=', /^title must not be empty/],
      ['title=%20%20', /^title must not be empty/],
      ['year=1999', /^title is required/],
      [`title=${'a'.repeat(201)}`, /^title must be at most 200 characters/],
      ['title=%3F!', /^title: '\?!' has no letters or digits/],
      ['title=Heat&year=19x5', /^year must be an integer/],
      ['title=Heat&k=3', /unknown parameter\(s\): k/],
    ];
    for (const [query, message] of cases) {
      const { status, body } = await json<ErrorBody>(predictions(USER, query));
      expect(status, query).toBe(400);
      expect(body.error.code, query).toBe('bad_parameter');
      expect(body.error.message, query).toMatch(message);
    }
    const unknown = await json<ErrorBody>(predictions(999_999, 'title=Heat'));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('unknown_user');
  });
});

describe('POST /v1/predictions (anonymous session)', () => {
  const session = fixture.sessions[0]!.ratings;

  it('predicts by id and by title for the folded-in session, as the shared scoring does', async () => {
    const { status, body } = await json<{
      version: string;
      ratingCount: number;
      ratingScale: { min: number; max: number };
      predictions: (Ref & Partial<TitlePrediction> & { rating: number })[];
    }>('/v1/predictions', post({ ratings: session, movieIds: [TOY_STORY], titles: ['The Matrix'] }));
    expect(status).toBe(200);
    expect(body.ratingCount).toBe(session.length);
    expect(body.predictions).toHaveLength(2);
    expect(body.predictions[0]).toMatchObject({ movieId: TOY_STORY, title: 'Toy Story' });
    expect(body.predictions[1]).toMatchObject({ query: 'The Matrix', movieId: MATRIX, match: 'exact' });
    // The same fold-in and prediction computed here on the live model.
    const { model } = await liveVersion(env, () => undefined);
    const user = sessionUser(
      model,
      session.map((r) => ({ itemIndex: model.itemIndexById.get(r.movieId)!, rating: r.rating })),
    );
    for (const p of body.predictions) {
      const expected = predictRating(model, user, model.itemIndexById.get(p.movieId)!);
      expect(Math.abs(p.rating - expected)).toBeLessThan(1e-4);
    }
  });

  it('agrees with the predicted ratings of POST /v1/recommendations for the same session', async () => {
    const recs = await json<{ items: { movieId: number; predictedRating: number }[] }>(
      '/v1/recommendations',
      post({ ratings: session, k: 5 }),
    );
    const ids = recs.body.items.map((i) => i.movieId);
    const { body } = await json<{ predictions: { movieId: number; rating: number }[] }>(
      '/v1/predictions',
      post({ ratings: session, movieIds: ids }),
    );
    body.predictions.forEach((p, n) => {
      expect(p.movieId).toBe(ids[n]);
      expect(Math.abs(p.rating - recs.body.items[n]!.predictedRating)).toBeLessThan(1e-3);
    });
  });

  it('moves with the session: liking the first two Matrix films raises the third', async () => {
    const ask = async (rating: number) =>
      (
        await json<{ predictions: { rating: number }[] }>(
          '/v1/predictions',
          post({
            ratings: [
              { movieId: MATRIX, rating },
              { movieId: 6365, rating }, // Matrix Reloaded
            ],
            titles: ['Matrix Revolutions'],
          }),
        )
      ).body.predictions[0]!.rating;
    expect(await ask(5)).toBeGreaterThan(await ask(0.5));
  });

  it('validates the body and names the failing entry', async () => {
    const cases: [unknown, number, string, RegExp][] = [
      [{ ratings: session }, 400, 'bad_parameter', /^movieIds or titles: give at least one movie/],
      [{ movieIds: [] }, 400, 'bad_parameter', /^movieIds or titles/],
      [{ titles: [''] }, 400, 'bad_parameter', /^titles\[0\]: title must not be empty/],
      [{ titles: Array(51).fill('Heat') }, 400, 'bad_parameter', /^titles: at most 50 titles/],
      [{ titles: ['Heat'], extra: 1 }, 400, 'bad_parameter', /unknown parameter\(s\): extra/],
      [
        { ratings: [{ movieId: 1, rating: 9 }], titles: ['Heat'] },
        400,
        'bad_parameter',
        /^ratings\[0\]\.rating: 9 is outside/,
      ],
      [
        { ratings: [{ movieId: 999_999_999, rating: 4 }], titles: ['Heat'] },
        404,
        'unknown_movie',
        /999999999/,
      ],
      [{ movieIds: [999_999_999] }, 404, 'unknown_movie', /movie 999999999 is not in the catalog/],
      [{ titles: ['Heat', 'xqzv wvxq'] }, 404, 'movie_not_found', /^titles\[1\]: no movie of version/],
      ['{not json', 400, 'bad_json', /./],
    ];
    for (const [body, status, code, message] of cases) {
      const response = await json<ErrorBody>('/v1/predictions', post(body));
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(response.body.error.code).toBe(code);
      expect(response.body.error.message).toMatch(message);
    }
  });

  it('without ratings predicts the baseline μ + b_i (no personal signal)', async () => {
    const { body } = await json<{ ratingCount: number; predictions: { rating: number }[] }>(
      '/v1/predictions',
      post({ movieIds: [TOY_STORY] }),
    );
    expect(body.ratingCount).toBe(0);
    const { model } = await liveVersion(env, () => undefined);
    const i = model.itemIndexById.get(TOY_STORY)!;
    const baseline = Math.min(
      model.ratingScale.max,
      Math.max(model.ratingScale.min, model.globalMean + model.itemBias[i]!),
    );
    expect(Math.abs(body.predictions[0]!.rating - baseline)).toBeLessThan(1e-4);
  });
});

describe('documentation', () => {
  it('lists both endpoints in the OpenAPI document', async () => {
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>('/openapi.json');
    expect(doc.body.paths['/v1/users/{userId}/predictions']?.get).toBeDefined();
    expect(doc.body.paths['/v1/predictions']?.post).toBeDefined();
  });
});
