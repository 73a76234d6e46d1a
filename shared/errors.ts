/**
 * One error type for everything reelrank reports to a person or a caller: a stable machine `code`
 * (e.g. 'artifact_corrupt', 'unknown_movie', 'bad_input') plus a message that names the item, the
 * bad value and what was expected. Training, CLI and edge all map these, never bare `Error`s.
 */
export class ReelrankError extends Error {
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ReelrankError';
    this.code = code;
    this.details = details;
  }
}

/** True for errors created by reelrank itself (as opposed to bugs and platform failures). */
export function isReelrankError(error: unknown): error is ReelrankError {
  return error instanceof ReelrankError;
}
