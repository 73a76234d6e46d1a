/**
 * The one JSON error envelope, `{ error: { code, message } }`, and the HTTP status of every error
 * code reelrank reports. Anything that is not a ReelrankError or an HTTPException is a bug: logged
 * and answered 500 `internal_error` (never for bad input, which is always a 4xx).
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isReelrankError } from '../shared/errors.ts';

export const ERROR_STATUS: Readonly<Record<string, ContentfulStatusCode>> = Object.freeze({
  bad_parameter: 400,
  bad_json: 400,
  unauthorized: 401,
  unknown_user: 404,
  unknown_movie: 404,
  movie_not_found: 404,
  channel_unavailable: 404,
  no_visual_neighbors: 404,
  not_found: 404,
  client_aborted: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  no_live_version: 503,
  events_unavailable: 503,
});

export interface ErrorBody {
  error: { code: string; message: string; suggestions?: unknown[] };
}

/** The envelope; `suggestions` (movies close to a title that matched nothing) only when given. */
export function errorBody(code: string, message: string, suggestions?: unknown[]): ErrorBody {
  return { error: suggestions ? { code, message, suggestions } : { code, message } };
}

/** app.onError: maps known errors to their status, logs and hides the rest. */
export function onError(error: Error, c: Context): Response {
  if (isReelrankError(error)) {
    const status = ERROR_STATUS[error.code];
    const suggestions = error.details?.suggestions;
    if (status !== undefined)
      return c.json(
        errorBody(error.code, error.message, Array.isArray(suggestions) ? suggestions : undefined),
        status,
      );
    // Artifact problems reaching a request (should be caught at load): the service is degraded.
    if (error.code.startsWith('artifact_')) return c.json(errorBody(error.code, error.message), 503);
  }
  if (error instanceof HTTPException) {
    const status = error.status;
    if (status === 415) {
      // @hono/zod-openapi's media-type gate: a body whose content-type is not the declared JSON.
      const got = c.req.header('content-type');
      return c.json(
        errorBody(
          'unsupported_media_type',
          `the request body must be JSON: send "content-type: application/json" (got ${got ? `"${got}"` : 'no content-type'})`,
        ),
        415,
      );
    }
    const code =
      status === 413
        ? 'payload_too_large'
        : status === 400
          ? 'bad_json'
          : status === 404
            ? 'not_found'
            : 'bad_request';
    return c.json(errorBody(code, error.message || 'bad request'), status as ContentfulStatusCode);
  }
  console.error('reelrank: unhandled error', error);
  return c.json(errorBody('internal_error', 'internal error (logged)'), 500);
}
