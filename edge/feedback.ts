/**
 * The immediate effect of feedback on a request: the recent events of a user / session (its
 * Durable Object) received after the live version's events watermark, folded into the user's state
 * by shared/serving/feedback.ts. Events the live version was trained on are left to the model.
 */
import { type FoldedFeedback, foldRecentEvents } from '../shared/serving/feedback.ts';
import type { UserState } from '../shared/serving/scoring.ts';
import type { LiveVersion } from './live.ts';
import { feedbackStub } from './routes/events.ts';

export interface WithFeedback extends FoldedFeedback {
  /** Milliseconds spent reading the events and folding them in (the Server-Timing `feedback` entry). */
  ms: number;
}

/**
 * `base` with the recent events of `key` (`user:<id>` / `session:<id>`) folded in; null when there
 * is no base (a user the version does not know) and no event either. Without the FEEDBACK binding
 * (an entry that does not declare it) the base is returned unchanged.
 */
export async function withRecentFeedback(
  env: Env,
  live: LiveVersion,
  key: string,
  base: UserState | null,
): Promise<WithFeedback | null> {
  const started = performance.now();
  const unchanged = base ? { user: base, folded: 0, unknownMovies: 0, ms: 0 } : null;
  if (!env.FEEDBACK) return unchanged;
  const events = await feedbackStub(env, key).recent(live.eventsWatermark?.receivedAt ?? 0);
  if (events.length === 0) return unchanged ? { ...unchanged, ms: performance.now() - started } : null;
  const folded = foldRecentEvents(live.model, base, events);
  if (!base && folded.folded === 0) return null;
  return { ...folded, ms: performance.now() - started };
}
