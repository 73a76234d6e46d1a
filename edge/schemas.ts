/**
 * Request schemas (zod): each is the validator, the TypeScript type and the OpenAPI entry of its
 * route at once (edge/routes/*). A 400 names the parameter with its index (`ratings[3].rating`).
 */
import { SESSION_ID } from '../shared/rollout.ts';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { errorBody } from './errors.ts';

const MAX_ID = 2 ** 31 - 1;

/** A query or path integer, given as text: `name must be an integer` / `... between min and max`. */
const intString = (name: string, min: number, max: number, description: string) =>
  z
    .string()
    .regex(/^-?\d{1,9}$/, `${name} must be an integer`)
    .transform(Number)
    .refine((v) => v >= min && v <= max, `${name} must be between ${min} and ${max}`)
    .openapi({ type: 'integer', minimum: min, maximum: max, description });

const boolString = (name: string, description: string) =>
  z
    .enum(['true', 'false', '1', '0'], { error: `${name} must be true or false` })
    .transform((v) => v === 'true' || v === '1')
    .openapi({ type: 'boolean', description });

const unitString = (name: string, description: string) =>
  z
    .string()
    .regex(/^\d*\.?\d+$/, `${name} must be a number between 0 and 1`)
    .transform(Number)
    .refine((v) => v >= 0 && v <= 1, `${name} must be between 0 and 1`)
    .openapi({ type: 'number', minimum: 0, maximum: 1, description });

const genresString = z
  .string()
  .max(500, 'genres must be at most 500 characters')
  .transform((v) =>
    v
      .split(',')
      .map((g) => g.trim())
      .filter((g) => g.length > 0),
  )
  .openapi({ type: 'string', description: 'Comma-separated genres (any of), e.g. `Drama,Comedy`' });

export const MAX_K = 100;

const pathParam = (name: string) =>
  intString(name, 0, MAX_ID, `The ${name === 'userId' ? 'user' : 'movie'} id`).openapi({
    param: { name, in: 'path' },
  });

export const userIdParam = z.object({ userId: pathParam('userId') });
export const movieIdParam = z.object({ movieId: pathParam('movieId') });
export const userMovieParams = z.object({ userId: pathParam('userId'), movieId: pathParam('movieId') });

const kQuery = intString('k', 1, MAX_K, 'Number of results (default 10)');

const filterFields = {
  k: kQuery.optional(),
  genres: genresString.optional(),
  yearFrom: intString('yearFrom', 1800, 2200, 'Earliest release year').optional(),
  yearTo: intString('yearTo', 1800, 2200, 'Latest release year').optional(),
  diversity: unitString('diversity', 'MMR diversity, 0 (off, default) to 1').optional(),
};

const yearOrder = <T extends { yearFrom?: number; yearTo?: number }>(v: T) =>
  v.yearFrom === undefined || v.yearTo === undefined || v.yearFrom <= v.yearTo;
const yearOrderMessage = { message: 'yearFrom must not be after yearTo', path: ['yearFrom'] };

export const recommendationsQuery = z
  .strictObject({
    ...filterFields,
    excludeSeen: boolString('excludeSeen', 'Leave out movies the user rated (default true)').optional(),
  })
  .refine(yearOrder, yearOrderMessage);

export const SIMILAR_CHANNELS = ['content', 'visual', 'collaborative', 'hybrid'] as const;

export const similarQuery = z.strictObject({
  k: kQuery.optional(),
  by: z
    .enum(SIMILAR_CHANNELS, { error: `by must be one of ${SIMILAR_CHANNELS.join(', ')}` })
    .optional()
    .openapi({ description: 'Similarity channel (default hybrid)' }),
});

export const searchQuery = z.strictObject({
  q: z
    .string()
    .max(200, 'q must be at most 200 characters')
    .optional()
    .openapi({ description: 'Title words; empty lists by popularity' }),
  limit: intString('limit', 1, MAX_K, 'Number of results (default 20)').optional(),
});

export const MAX_SESSION_RATINGS = 500;

const movieIdNumber = z
  .number({ error: 'must be a number' })
  .int('must be an integer')
  .nonnegative('must be >= 0')
  .max(MAX_ID, `must be <= ${MAX_ID}`);

/** A session's ratings (anonymous user folded in): `[{movieId, rating}]`, at most 500. */
const sessionRatings = z
  .array(
    z.strictObject({
      movieId: movieIdNumber,
      rating: z.number({ error: 'must be a finite number' }),
    }),
    { error: 'must be an array of {movieId, rating}' },
  )
  .max(MAX_SESSION_RATINGS, `ratings: at most ${MAX_SESSION_RATINGS} ratings`)
  .openapi({ description: `The session's ratings, at most ${MAX_SESSION_RATINGS}` });

/**
 * An anonymous session's id: people with the same id always get the same arm of a canary
 * (shared/rollout.ts); also the `sessionId` of its feedback events.
 */
const sessionIdString = z
  .string({ error: 'sessionId must be a string' })
  .regex(SESSION_ID, 'sessionId: 1-128 letters, digits, or . _ : -')
  .openapi({ description: 'Stable id of the anonymous session (canary arm assignment, feedback events)' });

const yearNumber = z.number({ error: 'must be a number' }).int('must be an integer').min(1800).max(2200);

export const sessionBody = z
  .strictObject({
    sessionId: sessionIdString.optional(),
    ratings: sessionRatings.default([]),
    k: z
      .number({ error: 'k must be a number' })
      .int('k must be an integer')
      .min(1, 'k must be >= 1')
      .max(MAX_K, `k must be <= ${MAX_K}`)
      .optional(),
    genres: z
      .array(z.string({ error: 'must be a string' }).max(100))
      .max(32)
      .optional(),
    yearFrom: yearNumber.optional(),
    yearTo: yearNumber.optional(),
    diversity: z
      .number({ error: 'diversity must be a number' })
      .min(0, 'diversity must be >= 0')
      .max(1, 'diversity must be <= 1')
      .optional(),
  })
  .refine(yearOrder, yearOrderMessage)
  .openapi('SessionRecommendationsRequest');

export const MAX_BATCH_PREDICTIONS = 1000;

export const predictionsBody = z
  .strictObject({
    movieIds: z
      .array(movieIdNumber, { error: 'movieIds must be an array of movie ids' })
      .min(1, 'movieIds must not be empty')
      .max(MAX_BATCH_PREDICTIONS, `movieIds: at most ${MAX_BATCH_PREDICTIONS} ids`),
  })
  .openapi('UserPredictionsRequest');

export const MAX_TITLE_LENGTH = 200;

/** A movie title typed by a person: trimmed, 1..200 characters. */
const titleString = (name: string) =>
  z
    .string({
      error: (issue) => (issue.input === undefined ? `${name} is required` : `${name} must be a string`),
    })
    .trim()
    .min(1, `${name} must not be empty`)
    .max(MAX_TITLE_LENGTH, `${name} must be at most ${MAX_TITLE_LENGTH} characters`);

/** `GET /v1/users/:userId/predictions?title=&year=`. */
export const titlePredictionQuery = z.strictObject({
  title: titleString('title').openapi({ description: 'A movie title as a person types it' }),
  year: intString('year', 1800, 2200, 'Release year, when the title is ambiguous').optional(),
});

export const MAX_PREDICTION_TITLES = 50;

/** `POST /v1/predictions`: a session's ratings and the movies (ids and/or titles) to predict. */
export const sessionPredictionsBody = z
  .strictObject({
    sessionId: sessionIdString.optional(),
    ratings: sessionRatings.default([]),
    movieIds: z
      .array(movieIdNumber, { error: 'movieIds must be an array of movie ids' })
      .max(MAX_BATCH_PREDICTIONS, `movieIds: at most ${MAX_BATCH_PREDICTIONS} ids`)
      .optional(),
    titles: z
      .array(titleString('title'), { error: 'titles must be an array of strings' })
      .max(MAX_PREDICTION_TITLES, `titles: at most ${MAX_PREDICTION_TITLES} titles`)
      .optional(),
  })
  .refine((v) => (v.movieIds?.length ?? 0) + (v.titles?.length ?? 0) > 0, {
    message: 'movieIds or titles: give at least one movie to predict',
    path: ['movieIds'],
  })
  .openapi('SessionPredictionsRequest');

/** `ratings[3].rating`: a zod issue path as a person writes it. */
export function parameterPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

const TARGET_NAME: Readonly<Record<string, string>> = Object.freeze({
  json: 'the request body',
  query: 'the query',
  param: 'the path',
});

/**
 * The validation hook of every route (OpenAPIHono `defaultHook`): the first issue as a 400
 * `bad_parameter` whose message starts with the parameter's path.
 */
export function badParameter(
  result: { success: true } | { success: false; error: z.ZodError; data?: unknown; target?: string },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  if (!issue) return c.json(errorBody('bad_parameter', 'invalid request'), 400);
  const path = parameterPath(issue.path);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    message = `unknown parameter(s): ${issue.keys.join(', ')}`;
    if (path) message = `${path}: ${message}`;
  } else if (path === '') {
    // The whole body (or query) has the wrong type: `[]`, `null`, `42` instead of an object.
    const where = TARGET_NAME[result.target ?? ''] ?? 'the request';
    message = `${where} must be a JSON object, got ${describeValue(result.data)}`;
  } else if (
    !(issue.path.length === 1 && message.startsWith(`${path} `)) &&
    !message.startsWith(`${path}:`)
  ) {
    message = `${path}: ${message}`;
  }
  return c.json(errorBody('bad_parameter', message), 400);
}
