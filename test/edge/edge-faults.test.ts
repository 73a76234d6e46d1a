/**
 * Faults an outside test found at the edge (issue 10), each reproduced in workerd: bodies that are
 * not JSON, a client dropping its connection mid-body, 400s that did not say which entry of an
 * array was wrong or what the body was instead of an object.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { call, coldStart, fixture, post, publish } from './helpers.ts';

type ErrorBody = { error: { code: string; message: string } };

const USER = fixture.predictions[0]!.userId;
const SESSION = JSON.stringify({ ratings: [{ movieId: 6, rating: 5 }], movieIds: [1] });

beforeAll(async () => {
  await coldStart();
  await publish(fixture.a);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('POST bodies without a JSON content type', () => {
  const routes = ['/v1/recommendations', '/v1/predictions', `/v1/users/${USER}/predictions`];

  it.each(routes)('%s answers 415 naming application/json', async (path) => {
    for (const contentType of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'text/plain;charset=UTF-8',
    ]) {
      const response = await call(path, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: SESSION,
      });
      expect(response.status, contentType).toBe(415);
      const body = (await response.json()) as ErrorBody;
      expect(body.error.code).toBe('unsupported_media_type');
      expect(body.error.message).toContain('content-type: application/json');
      expect(body.error.message).toContain(contentType);
    }
  });

  it('answers 415 for a body without any content type, and still reads an empty one as {}', async () => {
    const bytes = new TextEncoder().encode(SESSION);
    const untyped = await call('/v1/predictions', { method: 'POST', body: bytes });
    expect(untyped.status).toBe(415);
    expect(((await untyped.json()) as ErrorBody).error.message).toMatch(/got no content-type/);
    const empty = await call('/v1/recommendations', { method: 'POST' });
    expect(empty.status).toBe(200); // no ratings: the popular, diverse list
    await empty.arrayBuffer();
  });

  it('accepts JSON with parameters and +json types', async () => {
    for (const contentType of ['application/json; charset=utf-8', 'application/vnd.api+json']) {
      const response = await call('/v1/predictions', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: SESSION,
      });
      expect(response.status, contentType).toBe(200);
      await response.arrayBuffer();
    }
  });
});

describe('a client that drops its connection mid-body', () => {
  it('is logged as a client abort, not as an unhandled internal error', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const warnings = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"ratings": [{"movieId": 6, '));
        controller.error(new Error('connection reset by peer'));
      },
    });
    const response = await call('/v1/recommendations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error.code).toBe('client_aborted');
    expect(errors).not.toHaveBeenCalled();
    expect(warnings).toHaveBeenCalledWith(expect.stringMatching(/client aborted POST \/v1\/recommendations/));
  });
});

describe('400 messages name the parameter with its index', () => {
  const cases: [string, unknown, RegExp][] = [
    ['a body that is an array', [], /^the request body must be a JSON object, got an array$/],
    ['a body that is null', null, /^the request body must be a JSON object, got null$/],
    ['a body that is a number', 42, /^the request body must be a JSON object, got a number$/],
    ['a body that is a string', 'ratings', /^the request body must be a JSON object, got a string$/],
    [
      'the fourth rating not a number',
      {
        ratings: [
          { movieId: 1, rating: 4 },
          { movieId: 2, rating: 4 },
          { movieId: 3, rating: 4 },
          { movieId: 6, rating: 'five' },
        ],
      },
      /^ratings\[3\]\.rating: /,
    ],
    [
      'a rating off the scale',
      {
        ratings: [
          { movieId: 1, rating: 4 },
          { movieId: 6, rating: 9 },
        ],
        movieIds: [1],
      },
      /^ratings\[1\]\.rating: 9 is outside/,
    ],
    [
      'a movie id that is not an integer',
      { ratings: [{ movieId: 6.5, rating: 4 }] },
      /^ratings\[0\]\.movieId: must be an integer/,
    ],
    [
      'an unknown key inside a rating',
      { ratings: [{ movieId: 6, rating: 4, stars: 5 }] },
      /^ratings\[0\]: unknown parameter\(s\): stars/,
    ],
    ['ratings that is not an array', { ratings: null }, /^ratings: must be an array/],
    ['a bad movie id in a batch', { ratings: [], movieIds: [1, 6, 'x'] }, /^movieIds\[2\]: must be a number/],
  ];

  it.each(cases)('%s', async (_name, body, message) => {
    const response = await call('/v1/predictions', post(JSON.stringify(body)));
    expect(response.status).toBe(400);
    const answer = (await response.json()) as ErrorBody;
    expect(answer.error.code).toBe('bad_parameter');
    expect(answer.error.message).toMatch(message);
  });

  it('names the index in a known user batch too', async () => {
    const response = await call(`/v1/users/${USER}/predictions`, post({ movieIds: [1, -6] }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error.message).toMatch(/^movieIds\[1\]: must be >= 0/);
  });
});
