/**
 * Response schemas (zod) for the OpenAPI document and the handlers' types, and the error answers
 * every route declares. Loose where another part of the code owns the shape (reasons, metrics).
 */
import { z } from '@hono/zod-openapi';

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'bad_parameter' }),
      message: z.string().openapi({ example: 'k must be between 1 and 100' }),
      suggestions: z.array(z.unknown()).optional(),
    }),
  })
  .openapi('Error');

const ERROR_DESCRIPTIONS = {
  400: 'A parameter is invalid (the message names it, with its index: `ratings[3].rating`), or the JSON is malformed',
  401: 'Missing or invalid API key (`Authorization: Bearer <key>`); the answer carries `WWW-Authenticate: Bearer`',
  404: 'Unknown user, movie or channel',
  413: 'Request body larger than 64 KiB',
  415: 'A request body that is not `application/json`',
  429: 'Too many requests from this client IP or API key; see `Retry-After`',
  503: 'No live version is loaded',
} as const;

export type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

interface ErrorResponse {
  description: string;
  content: { 'application/json': { schema: typeof ErrorSchema } };
  headers?: Record<string, { schema: { type: 'string' | 'integer' }; description: string }>;
}

const HEADERS: Partial<Record<ErrorStatus, ErrorResponse['headers']>> = {
  401: { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'The challenge: Bearer' } },
  429: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait' } },
};

const errorResponse = (status: ErrorStatus): ErrorResponse => {
  const headers = HEADERS[status];
  return {
    description: ERROR_DESCRIPTIONS[status],
    content: { 'application/json': { schema: ErrorSchema } },
    ...(headers ? { headers } : {}),
  };
};

/** The error answers of a route that reads the live version: 429 and 503, plus the given ones (400, 401, ...). */
export function errorResponses(...statuses: ErrorStatus[]) {
  return errorResponsesOf([...statuses, 429, 503]);
}

/** The error answers of a route that needs no live version (the page, the document): 429 plus the given ones. */
export function errorResponsesWithoutVersion(...statuses: ErrorStatus[]) {
  return errorResponsesOf([...statuses, 429]);
}

function errorResponsesOf(statuses: ErrorStatus[]) {
  const all = new Set<ErrorStatus>(statuses);
  return Object.fromEntries([...all].sort().map((s) => [s, errorResponse(s)])) as Partial<
    Record<ErrorStatus, ErrorResponse>
  >;
}

/** A 200 JSON answer. */
export const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  200: { description, content: { 'application/json': { schema } } },
});

const year = z.number().int().nullable();
/** shared/display-title.ts: how people read the title; `title` stays the catalog's own form. */
const displayTitle = z.string().openapi({
  description: 'The title as people read it: "The Matrix" for the catalog\'s "Matrix, The"',
  example: 'The Matrix',
});

export const MovieRefSchema = z
  .object({ movieId: z.number().int(), title: z.string(), year })
  .openapi('MovieRef');

export const MovieSchema = z
  .object({
    movieId: z.number().int(),
    title: z.string(),
    displayTitle,
    year,
    genres: z.array(z.string()),
    tmdbId: z.number().int().nullable(),
    posterPath: z.string().nullable(),
    popularity: z.number(),
    ratingCount: z.number().int().nullable(),
    meanRating: z.number().nullable(),
  })
  .openapi('Movie');

const ChannelWeights = z.object({ collaborative: z.number(), content: z.number(), popularity: z.number() });

export const RecommendationsSchema = z
  .object({
    userId: z.number().int().optional(),
    ratingCount: z.number().int(),
    recentEvents: z
      .number()
      .int()
      .optional()
      .openapi({ description: 'Feedback events since the live version folded into this answer' }),
    version: z.string(),
    recommendationId: z.string().openapi({
      description:
        'Id of this list: quote it in feedback events (POST /v1/events) so clicks and ratings are attributed to the version and position that produced them',
    }),
    weights: ChannelWeights,
    items: z.array(
      z.object({
        movieId: z.number().int(),
        title: z.string(),
        displayTitle,
        year,
        genres: z.array(z.string()),
        score: z.number(),
        predictedRating: z.number().nullable(),
        channels: ChannelWeights,
        reason: z.looseObject({ kind: z.string(), text: z.string() }),
      }),
    ),
  })
  .openapi('Recommendations');

export const MovieSearchSchema = z
  .object({ version: z.string(), query: z.string(), total: z.number().int(), items: z.array(MovieSchema) })
  .openapi('MovieSearch');

export const MovieAnswerSchema = z.object({ version: z.string(), movie: MovieSchema }).openapi('MovieAnswer');

export const SimilarSchema = z
  .object({
    version: z.string(),
    movie: MovieSchema,
    by: z.string(),
    items: z.array(MovieSchema.extend({ similarity: z.number() })),
  })
  .openapi('SimilarMovies');

const RatingScale = z.object({ min: z.number(), max: z.number(), step: z.number() });

const TitlePrediction = MovieRefSchema.extend({
  query: z.string(),
  rating: z.number(),
  match: z.string(),
  ambiguous: z.boolean(),
  alternatives: z.array(MovieRefSchema),
});

export const TitlePredictionSchema = TitlePrediction.extend({
  version: z.string(),
  userId: z.number().int(),
  ratingScale: RatingScale,
}).openapi('TitlePrediction');

export const SessionPredictionsSchema = z
  .object({
    version: z.string(),
    ratingCount: z.number().int(),
    ratingScale: RatingScale,
    predictions: z.array(
      z.union([TitlePrediction, MovieRefSchema.extend({ rating: z.number() })]).openapi({
        description: 'By id: the movie and its rating; by title: also the query and how it matched',
      }),
    ),
  })
  .openapi('SessionPredictions');

export const UserPredictionSchema = z
  .object({
    version: z.string(),
    userId: z.number().int(),
    movieId: z.number().int(),
    rating: z.number(),
    ratingScale: RatingScale,
  })
  .openapi('UserPrediction');

export const UserPredictionsSchema = z
  .object({
    version: z.string(),
    userId: z.number().int(),
    ratingScale: RatingScale,
    predictions: z.array(z.object({ movieId: z.number().int(), rating: z.number() })),
  })
  .openapi('UserPredictions');

export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded', 'unavailable']),
    version: z.string().nullable(),
    eventsWatermark: z
      .object({ objectKey: z.string(), receivedAt: z.number().int() })
      .nullable()
      .optional()
      .openapi({
        description:
          'The feedback the live version was trained on: last event object read, newest receipt time (ms)',
      }),
    loadedAt: z.string().nullable().optional(),
    loadMs: z.number().nullable().optional(),
    pointerCheckedAt: z.string().nullable().optional(),
    pointerError: z.object({ code: z.string(), message: z.string(), at: z.string() }).nullable().optional(),
    refused: z
      .array(
        z.object({
          version: z.string(),
          manifestSha256: z.string(),
          code: z.string(),
          message: z.string(),
          at: z.string(),
        }),
      )
      .optional(),
    canary: z
      .object({
        version: z.string(),
        percent: z.number(),
        startedAt: z.string(),
        loaded: z.boolean(),
        loadedAt: z.string().nullable(),
      })
      .nullable()
      .optional()
      .openapi({ description: 'The canary the pointer names; loaded: serving its share in this isolate' }),
  })
  .openapi('Health', {
    description: 'Status and version for everyone; the other fields only with a read key',
  });

export const VersionSchema = z
  .looseObject({
    version: z.string(),
    createdAt: z.string(),
    formatVersion: z.number().int(),
    datasetFingerprint: z.string(),
    publishedAt: z.string(),
    previous: z.string().nullable(),
    loadedAt: z.string(),
    movies: z.number().int(),
    users: z.number().int(),
    factors: z.number().int(),
    rankingFactors: z.number().int().nullable(),
    kernel: z.string(),
    ratingScale: RatingScale,
    genres: z.array(z.string()),
    channels: z.record(z.string(), z.boolean()),
    metrics: z.record(z.string(), z.unknown()),
  })
  .openapi('Version');
