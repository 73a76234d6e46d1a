/**
 * The learned ranking stage in workerd: version c carries sparse item-item lists and a uint8 TF.js
 * ranker (reranker/model.json + shard). The edge loads it through the shared loader and must rank
 * a known user and an anonymous session exactly as shared/serving does in Node on the same files
 * (same movies, same order, same scores), and differently from the linear blend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { coldStart, fixture, json, post, publish } from './helpers.ts';

type Recs = { version: string; items: { movieId: number; score: number }[] };

describe('a version with a learned ranking stage', () => {
  beforeAll(async () => {
    await coldStart();
    await publish(fixture.learned.c);
  });

  it('ranks known users as the trainer does (edge/trainer parity)', async () => {
    for (const expected of fixture.learned.recommendations) {
      const { status, body } = await json<Recs>(`/v1/users/${expected.userId}/recommendations?k=10`);
      expect(status).toBe(200);
      expect(body.version).toBe(fixture.learned.c.version);
      expect(body.items.map((i) => i.movieId)).toEqual(expected.movieIds);
      body.items.forEach((item, r) => {
        expect(item.score).toBeCloseTo(expected.scores[r]!, 4);
      });
    }
    // The stage really ranks: at least one user's list differs from the blend's.
    expect(fixture.learned.recommendations.some((r) => r.movieIds.join() !== r.blendMovieIds.join())).toBe(
      true,
    );
  });

  it('ranks anonymous sessions as the trainer does', async () => {
    for (const session of fixture.learned.sessions) {
      const { status, body } = await json<Recs>(
        '/v1/recommendations',
        post({ k: 10, ratings: session.ratings }),
      );
      expect(status).toBe(200);
      expect(body.items.map((i) => i.movieId)).toEqual(session.movieIds);
      body.items.forEach((item, r) => {
        expect(item.score).toBeCloseTo(session.scores[r]!, 4);
      });
    }
    expect(fixture.learned.sessions.some((s) => s.movieIds.join() !== s.blendMovieIds.join())).toBe(true);
  });
});
