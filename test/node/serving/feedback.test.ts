/**
 * The event format (R2 keys, gzip NDJSON codec) and the immediate fold-in of recent events into a
 * known user's ranking vector, on a real small version (ml-latest-small, implicit ALS factors).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { openVersion } from '../../../shared/artifacts/loader.ts';
import {
  decodeEventsNdjsonGzip,
  encodeEventsNdjsonGzip,
  eventsObjectKey,
  eventsObjectTime,
  type StoredEvent,
} from '../../../shared/events.ts';
import { foldRecentEvents, type RecentEvent } from '../../../shared/serving/feedback.ts';
import { loadServingModel } from '../../../shared/serving/from-artifacts.ts';
import type { ServingModel } from '../../../shared/serving/model.ts';
import { knownUser } from '../../../shared/serving/scoring.ts';
import { loadDataset } from '../../../train/data/index.ts';
import { Ials } from '../../../train/models/ials.ts';
import { fitBiasedMf, memoryStore, POINTER_KEY, writeFixtureVersion } from '../../support/fixture-version.ts';

describe('event objects', () => {
  it('are keyed by write time under events/dt=/hh= and the key gives the time back', () => {
    const t = Date.UTC(2026, 11, 2, 6, 5, 4, 321);
    const key = eventsObjectKey(t, 'b1');
    expect(key).toBe(`events/dt=2026-12-02/hh=06/${t}-b1.ndjson.gz`);
    expect(eventsObjectTime(key)).toBe(t);
    expect(eventsObjectTime(`prefix/${key}`)).toBe(t);
    expect(eventsObjectTime('events/other.json')).toBeNull();
    expect(() => eventsObjectKey(t, '../x')).toThrow(/batch name/);
  });

  it('round-trip through gzip NDJSON, and a bad line is refused with its line number', async () => {
    const events: StoredEvent[] = [
      { eventId: 'a', userId: 1, movieId: 2, type: 'rating', value: 4.5, timestamp: 1, receivedAt: 1000 },
      {
        eventId: 'b',
        sessionId: 's',
        movieId: 3,
        type: 'impression',
        timestamp: 2,
        receivedAt: 2000,
        recommendationId: 'r',
      },
    ];
    const bytes = await encodeEventsNdjsonGzip(events);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]); // gzip magic
    expect(await decodeEventsNdjsonGzip(bytes, 'x')).toEqual(events);
    const { gzipSync } = await import('node:zlib');
    const bad = gzipSync(`${JSON.stringify(events[0])}\n{"eventId":"c","movieId":-1}\n`);
    await expect(decodeEventsNdjsonGzip(new Uint8Array(bad), 'events/x.ndjson.gz')).rejects.toThrow(
      /^events\/x\.ndjson\.gz:2: /,
    );
    await expect(decodeEventsNdjsonGzip(new TextEncoder().encode('not gzip'), 'y')).rejects.toThrow(
      /y: not a gzip stream/,
    );
  });
});

describe('foldRecentEvents', () => {
  let model: ServingModel;
  beforeAll(async () => {
    const dataset = await loadDataset();
    const ials = new Ials({ factors: 16, iterations: 5, alpha: 3, lambda: 30 });
    await ials.fit({
      dataset,
      train: Uint32Array.from({ length: dataset.ratings.length }, (_, j) => j),
      seed: 1,
    });
    const version = await writeFixtureVersion(dataset, fitBiasedMf(dataset, { epochs: 2 }), {
      version: 'feedback-fixture',
      ranking: ials.exportRankFactors(),
      contentNeighbors: false,
    });
    const objects = new Map(version.files);
    objects.set(POINTER_KEY, version.pointer);
    model = await loadServingModel(await openVersion(memoryStore(objects)));
  });

  const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i]! * b[i]!;
      na += a[i]! ** 2;
      nb += b[i]! ** 2;
    }
    return dot / Math.sqrt(na * nb);
  };
  const event = (
    movieId: number,
    type: RecentEvent['type'],
    receivedAt: number,
    value?: number,
  ): RecentEvent => ({
    movieId,
    type,
    timestamp: Math.floor(receivedAt / 1000),
    receivedAt,
    ...(value === undefined ? {} : { value }),
  });

  it('re-solves a known user over the stored history to the vector the trainer exported', () => {
    const base = knownUser(model, 0);
    const already = model.movies[base.seen[0]!]!.movieId;
    const folded = foldRecentEvents(model, base, [event(already, 'rating', 1000, 5)]);
    expect(folded.folded).toBe(1);
    expect(cosine(folded.user.rankVector!, base.rankVector!)).toBeGreaterThan(0.999);
    expect(folded.user.ratingCount).toBe(base.ratingCount); // not a new movie
  });

  it('moves the vector towards new movies, counts them seen, and a dislike pulls the score down', () => {
    const base = knownUser(model, 0);
    const seen = new Set(Array.from(base.seen));
    const fresh = model.movies
      .map((m, i) => ({ m, i }))
      .filter(({ i }) => !seen.has(i))
      .slice(0, 3);
    const score = (v: ArrayLike<number>, itemIndex: number) => {
      const k = model.ranking!.dim;
      const row = new Float32Array(k);
      for (let j = 0; j < k; j++) row[j] = model.ranking!.itemFactors.values[itemIndex * k + j]!;
      return cosine(v, row);
    };
    const target = fresh[0]!;
    const liked = foldRecentEvents(model, base, [event(target.m.movieId, 'watch', 1000)]);
    const disliked = foldRecentEvents(model, base, [event(target.m.movieId, 'dislike', 1000)]);
    expect(score(liked.user.rankVector!, target.i)).toBeGreaterThan(score(base.rankVector!, target.i));
    expect(score(disliked.user.rankVector!, target.i)).toBeLessThan(score(base.rankVector!, target.i));
    expect(Array.from(liked.user.seen)).toContain(target.i);
    expect(liked.user.ratingCount).toBe(base.ratingCount + 1);
    expect(liked.user.favourites[0]).toBe(target.i);
    expect(disliked.user.favourites).not.toContain(target.i);
    expect(liked.user.recentActions?.get(target.i)).toBe('watched');
  });

  it('keeps the last event per movie, ignores impressions and counts unknown movies', () => {
    const base = knownUser(model, 1);
    const [a, b] = model.movies.filter((_, i) => !Array.from(base.seen).includes(i)).slice(0, 2);
    const folded = foldRecentEvents(model, base, [
      event(a!.movieId, 'dislike', 2000),
      event(a!.movieId, 'rating', 1000, 5), // older: the dislike wins
      event(b!.movieId, 'impression', 3000),
      event(987_654_321, 'watch', 4000),
    ]);
    expect(folded.folded).toBe(1);
    expect(folded.unknownMovies).toBe(1);
    expect(folded.user.recentActions?.get(model.itemIndexById.get(a!.movieId)!)).toBe('disliked');
    expect(Array.from(folded.user.seen)).not.toContain(model.itemIndexById.get(b!.movieId));
  });
});
