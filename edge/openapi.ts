/** The OpenAPI 3.1 description of the API, written by hand to match edge/app.ts and edge/schemas.ts. */

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});
const json = (description: string, schema: Record<string, unknown> = { type: 'object' }) => ({
  description,
  content: { 'application/json': { schema } },
});
const intParam = (
  name: string,
  where: 'path' | 'query',
  description: string,
  extra: Record<string, unknown> = {},
) => ({
  name,
  in: where,
  required: where === 'path',
  description,
  schema: { type: 'integer', ...extra },
});
const common = {
  '400': error('A parameter is invalid (the message names it)'),
  '503': error('No live version is loaded'),
};
const filters = [
  intParam('k', 'query', 'Number of results', { minimum: 1, maximum: 100, default: 10 }),
  {
    name: 'genres',
    in: 'query',
    required: false,
    description: 'Comma-separated genres (any of)',
    schema: { type: 'string' },
  },
  intParam('yearFrom', 'query', 'Earliest release year', { minimum: 1800, maximum: 2200 }),
  intParam('yearTo', 'query', 'Latest release year', { minimum: 1800, maximum: 2200 }),
  {
    name: 'diversity',
    in: 'query',
    required: false,
    description: 'MMR diversity, 0 (off) to 1',
    schema: { type: 'number', minimum: 0, maximum: 1, default: 0 },
  },
];

export const openApiDocument = Object.freeze({
  openapi: '3.1.0',
  info: {
    title: 'reelrank',
    version: '1',
    description:
      'Hybrid movie recommendations served from the live artifact version. Errors share one envelope: {"error": {"code", "message"}}.',
  },
  paths: {
    '/v1/health': {
      get: {
        summary: 'Live version and refused versions',
        responses: { '200': json('Serving'), '503': json('Nothing loaded') },
      },
    },
    '/v1/version': {
      get: {
        summary: 'The live version: ids, sizes, channels, metrics',
        responses: { '200': json('Version'), ...common },
      },
    },
    '/v1/movies': {
      get: {
        summary: 'Title search',
        parameters: [
          { name: 'q', in: 'query', required: false, schema: { type: 'string', maxLength: 200 } },
          intParam('limit', 'query', 'Maximum results', { minimum: 1, maximum: 100, default: 20 }),
        ],
        responses: { '200': json('Matching movies, best first'), ...common },
      },
    },
    '/v1/movies/{movieId}': {
      get: {
        summary: 'One movie',
        parameters: [intParam('movieId', 'path', 'Movie id')],
        responses: { '200': json('Movie'), '404': error('unknown_movie'), ...common },
      },
    },
    '/v1/movies/{movieId}/similar': {
      get: {
        summary: 'Similar movies by channel',
        parameters: [
          intParam('movieId', 'path', 'Movie id'),
          intParam('k', 'query', 'Number of results', { minimum: 1, maximum: 100, default: 10 }),
          {
            name: 'by',
            in: 'query',
            required: false,
            schema: {
              type: 'string',
              enum: ['content', 'visual', 'collaborative', 'hybrid'],
              default: 'hybrid',
            },
          },
        ],
        responses: {
          '200': json('Similar movies'),
          '404': error('unknown_movie, channel_unavailable or no_visual_neighbors (the movie has no poster)'),
          ...common,
        },
      },
    },
    '/v1/users/{userId}/recommendations': {
      get: {
        summary: 'Recommendations for a known user (hybrid blend, reasons)',
        parameters: [
          intParam('userId', 'path', 'User id'),
          ...filters,
          { name: 'excludeSeen', in: 'query', required: false, schema: { type: 'boolean', default: true } },
        ],
        responses: { '200': json('Recommendations'), '404': error('unknown_user'), ...common },
      },
    },
    '/v1/recommendations': {
      post: {
        summary: "Recommendations for an anonymous session's ratings (fold-in); none = popular and diverse",
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Session' } } },
        },
        responses: {
          '200': json('Recommendations'),
          '404': error('unknown_movie'),
          '413': error('payload_too_large'),
          ...common,
        },
      },
    },
    '/v1/predictions': {
      post: {
        summary:
          'Predicted ratings for an anonymous session: its ratings are folded in (as for /v1/recommendations); movies by id and/or title',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  ratings: { $ref: '#/components/schemas/Session/properties/ratings' },
                  movieIds: { type: 'array', items: { type: 'integer' }, maxItems: 1000 },
                  titles: {
                    type: 'array',
                    items: { type: 'string', minLength: 1, maxLength: 200 },
                    maxItems: 50,
                  },
                },
                description: 'At least one of movieIds and titles must be non-empty.',
              },
            },
          },
        },
        responses: {
          '200': json(
            'Predictions, ids first then titles (title entries carry match, ambiguous, alternatives)',
          ),
          '404': error('unknown_movie, or movie_not_found (with suggestions)'),
          '413': error('payload_too_large'),
          ...common,
        },
      },
    },
    '/v1/users/{userId}/predictions/{movieId}': {
      get: {
        summary: "Predicted rating on the dataset's scale",
        parameters: [intParam('userId', 'path', 'User id'), intParam('movieId', 'path', 'Movie id')],
        responses: { '200': json('Prediction'), '404': error('unknown_user or unknown_movie'), ...common },
      },
    },
    '/v1/users/{userId}/predictions': {
      get: {
        summary:
          "Predicted rating for a movie named by its title: exact title first (case, accents, punctuation, 'The'/'A'/'An' and MovieLens' 'Matrix, The' folded), then the best partial match; ambiguous titles list up to 5 alternatives",
        parameters: [
          intParam('userId', 'path', 'User id'),
          {
            name: 'title',
            in: 'query',
            required: true,
            description: "Movie title, e.g. 'Toy Story' or 'The Matrix (1999)'",
            schema: { type: 'string', minLength: 1, maxLength: 200 },
          },
          intParam('year', 'query', 'Release year (overrides a year written in the title)', {
            minimum: 1800,
            maximum: 2200,
          }),
        ],
        responses: {
          '200': json('The matched movie, how it matched, alternatives and the predicted rating', {
            $ref: '#/components/schemas/TitlePrediction',
          }),
          '404': error('unknown_user, or movie_not_found (with suggestions)'),
          ...common,
        },
      },
      post: {
        summary: 'Batch predictions',
        parameters: [intParam('userId', 'path', 'User id')],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['movieIds'],
                properties: {
                  movieIds: { type: 'array', items: { type: 'integer' }, minItems: 1, maxItems: 1000 },
                },
              },
            },
          },
        },
        responses: {
          '200': json('Predictions'),
          '404': error('unknown_user or unknown_movie'),
          '413': error('payload_too_large'),
          ...common,
        },
      },
    },
  },
  components: {
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string' },
              message: { type: 'string' },
              suggestions: {
                description: 'movie_not_found only: close titles',
                type: 'array',
                items: { $ref: '#/components/schemas/MovieRef' },
              },
            },
          },
        },
      },
      MovieRef: {
        type: 'object',
        required: ['movieId', 'title', 'year'],
        properties: {
          movieId: { type: 'integer' },
          title: { type: 'string' },
          year: { type: ['integer', 'null'] },
        },
      },
      TitlePrediction: {
        type: 'object',
        properties: {
          version: { type: 'string' },
          userId: { type: 'integer' },
          query: { type: 'string' },
          movieId: { type: 'integer' },
          title: { type: 'string' },
          year: { type: ['integer', 'null'] },
          rating: { type: 'number' },
          ratingScale: { type: 'object' },
          match: { enum: ['exact', 'partial'] },
          ambiguous: { type: 'boolean' },
          alternatives: { type: 'array', maxItems: 5, items: { $ref: '#/components/schemas/MovieRef' } },
        },
      },
      Session: {
        type: 'object',
        properties: {
          ratings: {
            type: 'array',
            maxItems: 500,
            items: {
              type: 'object',
              required: ['movieId', 'rating'],
              properties: { movieId: { type: 'integer' }, rating: { type: 'number' } },
            },
          },
          k: { type: 'integer', minimum: 1, maximum: 100 },
          genres: { type: 'array', items: { type: 'string' } },
          yearFrom: { type: 'integer' },
          yearTo: { type: 'integer' },
          diversity: { type: 'number', minimum: 0, maximum: 1 },
        },
      },
    },
  },
});
