/**
 * Feedback events in workerd with miniflare's queue, Durable Objects (SQLite) and R2: validation
 * (400 naming events[i].field, 413), idempotency by eventId, the queue consumer writing gzip NDJSON
 * to R2 (and retrying a failing write without losing anything), and the immediate effect on the
 * next recommendation request.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../edge/index.ts';
import { consumeEvents, type EventsBucket } from '../../edge/events-consumer.ts';
import { MAX_EVENTS_BODY_BYTES } from '../../edge/routes/events.ts';
import {
  decodeEventsNdjsonGzip,
  EVENTS_PREFIX,
  eventsObjectTime,
  type StoredEvent,
} from '../../shared/events.ts';
import { TEST_WRITE_KEYS } from '../support/edge-keys.ts';
import {
  callWithoutKey,
  coldStart,
  fixture,
  json,
  post,
  publish,
  READ_KEY,
  storedEvents,
} from './helpers.ts';

/** A POST /v1/events request carrying a write key (the second one: keys rotate). */
const postEvents = (body: unknown): RequestInit => ({
  ...post(body),
  headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_WRITE_KEYS[1]}` },
});

type Accepted = { accepted: number; duplicates: number; eventIds: string[] };
type ErrorJson = { error: { code: string; message: string } };
type Recs = {
  recentEvents: number;
  ratingCount: number;
  items: { movieId: number; genres: string[]; reason: { kind: string; text: string } }[];
};

const USER = fixture.recommendations[1]!.userId;

/** Waits until the queue consumer has written `count` events to R2 (the queue batches every 2 s). */
async function waitForEvents(
  count: number,
  which: (e: StoredEvent) => boolean,
  timeoutMs = 30_000,
): Promise<StoredEvent[]> {
  const started = Date.now();
  for (;;) {
    const events = (await storedEvents()).filter(which);
    if (events.length >= count || Date.now() - started > timeoutMs) return events;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('POST /v1/events', () => {
  beforeAll(async () => {
    await coldStart();
    await publish(fixture.a);
  });

  it('needs a write key: 401 with WWW-Authenticate: Bearer without one, and with a read key', async () => {
    const body = JSON.stringify({ events: [{ userId: 1, movieId: 1, type: 'click' }] });
    const none = await callWithoutKey('/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const read = await callWithoutKey('/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${READ_KEY}` },
      body,
    });
    expect(read.status).toBe(401);
    const ok = await json<Accepted>(
      '/v1/events',
      postEvents({ events: [{ userId: 1, movieId: 1, type: 'click' }] }),
    );
    expect(ok.status).toBe(202);
  });

  it('refuses bad events with 400 naming events[i].field, and bodies over the limit with 413', async () => {
    const bad = await json<ErrorJson>(
      '/v1/events',
      postEvents({
        events: [
          { userId: 1, movieId: 1, type: 'click' },
          { userId: 1, movieId: 'x', type: 'click' },
        ],
      }),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      code: 'bad_parameter',
      message: 'events[1].movieId: movieId must be a number',
    });
    const cases: [unknown, RegExp][] = [
      [{ movieId: 1, type: 'click' }, /^events\[0\]\.userId: userId or sessionId is required/],
      [{ userId: 1, movieId: 1, type: 'like' }, /^events\[0\]\.type: type must be one of rating, watch/],
      [{ userId: 1, movieId: 1, type: 'rating' }, /^events\[0\]\.value: value \(the rating\) is required/],
      [
        { userId: 1, movieId: 1, type: 'rating', value: 9 },
        /^events\[0\]\.value: value must be a rating from 0.5 to 5/,
      ],
      [
        { userId: 1, movieId: 1, type: 'click', timestamp: Date.now() },
        /^events\[0\]\.timestamp: .*looks like milliseconds/,
      ],
      [
        { userId: 1, movieId: 1, type: 'click', colour: 'red' },
        /^events\[0\]: unknown parameter\(s\): colour/,
      ],
    ];
    for (const [event, message] of cases) {
      const r = await json<ErrorJson>('/v1/events', postEvents({ events: [event] }));
      expect(r.status, JSON.stringify(event)).toBe(400);
      expect(r.body.error.message).toMatch(message);
    }
    const tooMany = await json<ErrorJson>(
      '/v1/events',
      postEvents({ events: Array.from({ length: 501 }, () => ({ userId: 1, movieId: 1, type: 'click' })) }),
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toMatch(/at most 500 events/);
    const big = await json<ErrorJson>(
      '/v1/events',
      postEvents({
        events: [{ userId: 1, movieId: 1, type: 'click', sessionId: 'x'.repeat(MAX_EVENTS_BODY_BYTES) }],
      }),
    );
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    expect((await json<ErrorJson>('/v1/events', postEvents('{"events": ['))).body.error.code).toBe(
      'bad_json',
    );
  });

  it('answers 202, counts a repeated eventId once (in the request and across requests), and the consumer writes each event once to R2', async () => {
    const events = [
      { eventId: 'dup-1', userId: 7, movieId: 1, type: 'click' },
      { eventId: 'dup-1', userId: 7, movieId: 1, type: 'click' },
      {
        eventId: 'dup-2',
        sessionId: 's-1',
        movieId: 2,
        type: 'watch',
        value: 0.8,
        recommendationId: 'rec-9',
      },
      { eventId: 'dup-3', userId: 7, movieId: 3, type: 'impression' },
    ];
    const first = await json<Accepted>('/v1/events', postEvents({ events }));
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ accepted: 4, duplicates: 1 });
    expect(first.body.eventIds.slice(0, 3)).toEqual(['dup-1', 'dup-1', 'dup-2']);
    const again = await json<Accepted>('/v1/events', postEvents({ events: events.slice(0, 3) }));
    expect(again.body).toMatchObject({ accepted: 3, duplicates: 3 });
    const stored = await waitForEvents(3, (e) => e.eventId.startsWith('dup-'));
    await new Promise((r) => setTimeout(r, 1500)); // a second copy would come with the next batch
    expect((await storedEvents()).filter((e) => e.eventId.startsWith('dup-'))).toHaveLength(3);
    const byId = new Map(stored.map((e) => [e.eventId, e]));
    expect(byId.get('dup-2')).toMatchObject({
      sessionId: 's-1',
      movieId: 2,
      type: 'watch',
      recommendationId: 'rec-9',
    });
    expect(byId.get('dup-1')!.timestamp).toBe(Math.floor(byId.get('dup-1')!.receivedAt / 1000));
    const keys = (await env.EVENTS.list({ prefix: EVENTS_PREFIX })).objects.map((o) => o.key);
    for (const key of keys)
      expect(key).toMatch(/^events\/dt=\d{4}-\d{2}-\d{2}\/hh=\d{2}\/\d{13}-\w+\.ndjson\.gz$/);
    expect(eventsObjectTime(keys[0]!)).toBeGreaterThan(Date.now() - 120_000);
  });
});

describe('the queue consumer', () => {
  const message = (id: string, events: StoredEvent[], attempts = 1) => ({
    id,
    timestamp: new Date(),
    attempts,
    body: { events },
  });
  const event = (n: number): StoredEvent => ({
    eventId: `fault-${n}`,
    userId: 42,
    movieId: n,
    type: 'click',
    timestamp: 1_700_000_000 + n,
    receivedAt: 1_700_000_000_000 + n,
  });

  it('retries every message while the R2 write fails, then writes each event once: nothing lost', async () => {
    const written = new Map<string, Uint8Array>();
    let failuresLeft = 3;
    const flaky: EventsBucket = {
      async put(key, value) {
        if (failuresLeft > 0) {
          failuresLeft--;
          throw new Error('R2 is unavailable (injected)');
        }
        written.set(key, value);
      },
    };
    const messages = [
      message('m1', [event(1), event(2)]),
      message('m2', [event(2), event(3)]), // event 2 again (a producer retry)
    ];
    for (let attempt = 1; ; attempt++) {
      const batch = createMessageBatch(
        'reelrank-events',
        messages.map((m) => ({ ...m, attempts: attempt })),
      );
      const ctx = createExecutionContext();
      const outcome = await consumeEvents(batch, flaky);
      const result = await getQueueResult(batch, ctx);
      if (attempt <= 3) {
        expect(result.retryMessages.map((m: { msgId: string }) => m.msgId).sort()).toEqual(['m1', 'm2']);
        expect(result.explicitAcks).toEqual([]);
        expect(outcome.key).toBeNull();
        continue;
      }
      expect(result.explicitAcks.sort()).toEqual(['m1', 'm2']);
      expect(result.retryMessages).toEqual([]);
      expect(outcome).toMatchObject({ events: 3, duplicates: 1 });
      break;
    }
    expect(written.size).toBe(1);
    const [key, bytes] = [...written][0]!;
    const events = await decodeEventsNdjsonGzip(bytes, key);
    expect(events.map((e) => e.eventId).sort()).toEqual(['fault-1', 'fault-2', 'fault-3']);
  });

  it('retries (towards the dead-letter queue) a message that is not an events message, and writes the rest', async () => {
    const written: string[] = [];
    const bucket: EventsBucket = { put: async (key) => void written.push(key) };
    const batch = createMessageBatch('reelrank-events', [
      message('good', [event(10)]),
      { id: 'bad', timestamp: new Date(), attempts: 1, body: { events: [{ movieId: 'x' }] } },
    ]);
    const ctx = createExecutionContext();
    const outcome = await consumeEvents(batch, bucket);
    const result = await getQueueResult(batch, ctx);
    expect(outcome).toMatchObject({ events: 1, invalidMessages: 1 });
    expect(result.explicitAcks).toEqual(['good']);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(['bad']);
    expect(written).toHaveLength(1);
  });

  it('is the Worker queue handler, writing to the EVENTS bucket', async () => {
    const batch = createMessageBatch('reelrank-events', [message('h1', [event(20)])]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(['h1']);
    expect((await storedEvents()).some((e) => e.eventId === 'fault-20')).toBe(true);
  });
});

describe('immediate effect on recommendations', () => {
  beforeAll(async () => {
    await coldStart();
    await publish(fixture.a);
  });

  const horrorShare = (items: Recs['items']) => items.filter((i) => i.genres.includes('Horror')).length;

  it('a user who rates twenty horror movies 5 stars gets more horror at once, without the rated movies', async () => {
    const before = await json<Recs>(`/v1/users/${USER}/recommendations?k=20`);
    expect(before.status).toBe(200);
    expect(before.body.recentEvents).toBe(0);
    // Twenty horror movies the user has not seen (not the very top ones, which the list may already hold).
    const horror = await json<Recs>(`/v1/users/${USER}/recommendations?k=40&genres=Horror`);
    const rated = horror.body.items.slice(20, 40).map((i) => i.movieId);
    expect(rated).toHaveLength(20);
    const posted = await json<Accepted>(
      '/v1/events',
      postEvents({ events: rated.map((movieId) => ({ userId: USER, movieId, type: 'rating', value: 5 })) }),
    );
    expect(posted.body).toMatchObject({ accepted: 20, duplicates: 0 });
    const after = await json<Recs>(`/v1/users/${USER}/recommendations?k=20`);
    expect(after.status).toBe(200);
    expect(after.body.recentEvents).toBe(20);
    expect(after.body.ratingCount).toBe(before.body.ratingCount + 20);
    expect(after.body.items.filter((i) => rated.includes(i.movieId))).toEqual([]);
    expect(horrorShare(after.body.items)).toBeGreaterThan(horrorShare(before.body.items));
    expect(after.body.items.some((i) => /^because you just rated /.test(i.reason.text))).toBe(true);
  });

  it('serves a user the version does not know from their events alone', async () => {
    const unknown = 999_999;
    expect((await json<ErrorJson>(`/v1/users/${unknown}/recommendations`)).status).toBe(404);
    await json(
      '/v1/events',
      postEvents({
        events: [
          { userId: unknown, movieId: 1, type: 'watch' },
          { userId: unknown, movieId: 260, type: 'rating', value: 4.5 },
        ],
      }),
    );
    const recs = await json<Recs>(`/v1/users/${unknown}/recommendations?k=10`);
    expect(recs.status).toBe(200);
    expect(recs.body.recentEvents).toBe(2);
    expect(recs.body.items.map((i) => i.movieId)).not.toContain(1);
    expect(recs.body.items.map((i) => i.movieId)).not.toContain(260);
  });
});
