/**
 * The ranking channel in workerd: version a carries implicit-ALS ranking factors (rank_* files),
 * version b is laid out like an older version without them. Recommendations of a known user and of
 * an anonymous session must come from the ranking factors (equal to shared/serving in Node, and
 * different from what the rating factors would give); b must still serve both as before.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { coldStart, fixture, json, post, publish } from './helpers.ts';

type Recs = {
  version: string;
  ratingCount: number;
  weights: { collaborative: number; content: number; popularity: number };
  items: { movieId: number; score: number; predictedRating: number | null }[];
};

describe('a version with ranking factors', () => {
  beforeAll(async () => {
    await coldStart();
    await publish(fixture.a);
  });

  it('says so in /v1/version', async () => {
    const { body } = await json<{ version: string; rankingFactors: number | null }>('/v1/version');
    expect(body.version).toBe(fixture.a.version);
    expect(body.rankingFactors).toBe(fixture.rankingFactors);
  });

  it('ranks a known user with the ranking factors (trainer/edge parity)', async () => {
    for (const [n, expected] of fixture.recommendations.entries()) {
      const { status, body } = await json<Recs>(`/v1/users/${expected.userId}/recommendations?k=10`);
      expect(status).toBe(200);
      const ids = body.items.map((i) => i.movieId);
      expect(ids).toEqual(expected.movieIds);
      body.items.forEach((item, r) => {
        expect(item.score).toBeCloseTo(expected.scores[r]!, 3);
      });
      // The rating factors would have ranked otherwise: the list really comes from the new channel.
      expect(ids).not.toEqual(fixture.recommendationsWithoutRanking[n]!.movieIds);
    }
  });

  it('folds an anonymous session into the ranking space (implicit ALS closed form)', async () => {
    for (const session of fixture.sessions) {
      const { status, body } = await json<Recs>(
        '/v1/recommendations',
        post({ k: 10, ratings: session.ratings }),
      );
      expect(status).toBe(200);
      expect(body.ratingCount).toBe(session.ratings.length);
      const ids = body.items.map((i) => i.movieId);
      expect(ids).toEqual(session.movieIds);
      body.items.forEach((item, r) => {
        expect(item.score).toBeCloseTo(session.scores[r]!, 3);
      });
      expect(ids).not.toEqual(session.movieIdsWithoutRanking);
      // Ratings still predict through the rating factors.
      for (const item of body.items) expect(item.predictedRating).not.toBeNull();
    }
  });
});

describe('an older version without ranking factors', () => {
  beforeAll(async () => {
    await coldStart();
    await publish(fixture.b);
  });

  it('loads and serves known users and sessions from the rating factors', async () => {
    const version = await json<{ version: string; rankingFactors: number | null }>('/v1/version');
    expect(version.body).toMatchObject({ version: fixture.b.version, rankingFactors: null });
    const user = fixture.recommendations[0]!.userId;
    const known = await json<Recs>(`/v1/users/${user}/recommendations?k=10`);
    expect(known.status).toBe(200);
    expect(known.body.items).toHaveLength(10);
    expect(known.body.weights.collaborative).toBeGreaterThan(0);
    const session = await json<Recs>(
      '/v1/recommendations',
      post({ k: 10, ratings: fixture.sessions[0]!.ratings }),
    );
    expect(session.status).toBe(200);
    expect(session.body.items).toHaveLength(10);
    expect(session.body.version).toBe(fixture.b.version);
  });
});
