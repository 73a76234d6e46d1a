/**
 * Request validation (zod) at the route edge. Messages start with the parameter's name so a 400
 * says which one was wrong.
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { errorBody } from './errors.ts';

const intString = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d{1,9}$/, `${name} must be an integer`)
    .transform(Number)
    .refine((v) => v >= min && v <= max, `${name} must be between ${min} and ${max}`);

const boolString = (name: string) =>
  z
    .enum(['true', 'false', '1', '0'], { errorMap: () => ({ message: `${name} must be true or false` }) })
    .transform((v) => v === 'true' || v === '1');

const unitString = (name: string) =>
  z
    .string()
    .regex(/^\d*\.?\d+$/, `${name} must be a number between 0 and 1`)
    .transform(Number)
    .refine((v) => v >= 0 && v <= 1, `${name} must be between 0 and 1`);

const genresString = z
  .string()
  .max(500, 'genres must be at most 500 characters')
  .transform((v) =>
    v
      .split(',')
      .map((g) => g.trim())
      .filter((g) => g.length > 0),
  );

export const MAX_K = 100;

export const userIdParam = z.object({ userId: intString('userId', 0, 2 ** 31 - 1) });
export const movieIdParam = z.object({ movieId: intString('movieId', 0, 2 ** 31 - 1) });
export const userMovieParams = z.object({
  userId: intString('userId', 0, 2 ** 31 - 1),
  movieId: intString('movieId', 0, 2 ** 31 - 1),
});

const filterFields = {
  k: intString('k', 1, MAX_K).optional(),
  genres: genresString.optional(),
  yearFrom: intString('yearFrom', 1800, 2200).optional(),
  yearTo: intString('yearTo', 1800, 2200).optional(),
  diversity: unitString('diversity').optional(),
};

const yearOrder = <T extends { yearFrom?: number; yearTo?: number }>(v: T) =>
  v.yearFrom === undefined || v.yearTo === undefined || v.yearFrom <= v.yearTo;
const yearOrderMessage = { message: 'yearFrom must not be after yearTo', path: ['yearFrom'] };

export const recommendationsQuery = z
  .object({ ...filterFields, excludeSeen: boolString('excludeSeen').optional() })
  .strict()
  .refine(yearOrder, yearOrderMessage);

export const similarQuery = z
  .object({
    k: intString('k', 1, MAX_K).optional(),
    by: z
      .enum(['content', 'visual', 'collaborative', 'hybrid'], {
        errorMap: () => ({ message: 'by must be one of content, visual, collaborative, hybrid' }),
      })
      .optional(),
  })
  .strict();

export const searchQuery = z
  .object({
    q: z.string().max(200, 'q must be at most 200 characters').optional(),
    limit: intString('limit', 1, MAX_K).optional(),
  })
  .strict();

export const MAX_SESSION_RATINGS = 500;

/** A session's ratings (anonymous user folded in): `[{movieId, rating}]`, at most 500. */
const sessionRatings = z
  .array(
    z
      .object({
        movieId: z
          .number({ invalid_type_error: 'movieId must be a number' })
          .int('movieId must be an integer')
          .nonnegative('movieId must be >= 0'),
        rating: z.number({ invalid_type_error: 'rating must be a number' }).finite('rating must be finite'),
      })
      .strict(),
  )
  .max(MAX_SESSION_RATINGS, `ratings: at most ${MAX_SESSION_RATINGS} ratings`)
  .default([]);

export const sessionBody = z
  .object({
    ratings: sessionRatings,
    k: z
      .number()
      .int('k must be an integer')
      .min(1, 'k must be >= 1')
      .max(MAX_K, `k must be <= ${MAX_K}`)
      .optional(),
    genres: z.array(z.string().max(100)).max(32).optional(),
    yearFrom: z.number().int().min(1800).max(2200).optional(),
    yearTo: z.number().int().min(1800).max(2200).optional(),
    diversity: z.number().min(0, 'diversity must be >= 0').max(1, 'diversity must be <= 1').optional(),
  })
  .strict()
  .refine(yearOrder, yearOrderMessage);

export const MAX_BATCH_PREDICTIONS = 1000;

export const predictionsBody = z
  .object({
    movieIds: z
      .array(z.number().int('movieIds must hold integers').nonnegative('movieIds must be >= 0'))
      .min(1, 'movieIds must not be empty')
      .max(MAX_BATCH_PREDICTIONS, `movieIds: at most ${MAX_BATCH_PREDICTIONS} ids`),
  })
  .strict();

export const MAX_TITLE_LENGTH = 200;

/** A movie title typed by a person: trimmed, 1..200 characters. */
const titleString = (name: string) =>
  z
    .string({ required_error: `${name} is required`, invalid_type_error: `${name} must be a string` })
    .trim()
    .min(1, `${name} must not be empty`)
    .max(MAX_TITLE_LENGTH, `${name} must be at most ${MAX_TITLE_LENGTH} characters`);

/** `GET /v1/users/:userId/predictions?title=&year=`. */
export const titlePredictionQuery = z
  .object({ title: titleString('title'), year: intString('year', 1800, 2200).optional() })
  .strict();

export const MAX_PREDICTION_TITLES = 50;

/** `POST /v1/predictions`: a session's ratings and the movies (ids and/or titles) to predict. */
export const sessionPredictionsBody = z
  .object({
    ratings: sessionRatings,
    movieIds: z
      .array(z.number().int('movieIds must hold integers').nonnegative('movieIds must be >= 0'))
      .max(MAX_BATCH_PREDICTIONS, `movieIds: at most ${MAX_BATCH_PREDICTIONS} ids`)
      .optional(),
    titles: z
      .array(titleString('title'))
      .max(MAX_PREDICTION_TITLES, `titles: at most ${MAX_PREDICTION_TITLES} titles`)
      .optional(),
  })
  .strict()
  .refine((v) => (v.movieIds?.length ?? 0) + (v.titles?.length ?? 0) > 0, {
    message: 'movieIds or titles: give at least one movie to predict',
    path: ['movieIds'],
  });

/** zValidator hook: the first issue as a 400 naming the parameter. */
export function badParameter(
  result: { success: true } | { success: false; error: z.ZodError },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  const path = issue?.path.join('.') ?? '';
  let message = issue?.message ?? 'invalid request';
  if (issue?.code === 'unrecognized_keys') message = `unknown parameter(s): ${issue.keys.join(', ')}`;
  else if (path && !message.startsWith(path.split('.')[0] ?? '')) message = `${path}: ${message}`;
  return c.json(errorBody('bad_parameter', message), 400);
}
