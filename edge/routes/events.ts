/**
 * `POST /v1/events`: a batch of up to 500 feedback events. Each is validated (400 naming
 * `events[i].field`), given an id and a time when absent, deduplicated by `eventId` in its user's /
 * session's Durable Object (edge/feedback-store.ts), and the new ones are handed to the events
 * queue; 202 `{accepted, duplicates, eventIds}` once the queue has them. Should the queue refuse,
 * the Durable Objects forget the events again and the answer is 503, so a retry is not a duplicate.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { ReelrankError } from '../../shared/errors.ts';
import {
  EVENTS_PER_MESSAGE,
  type EventsMessage,
  eventsBodySchema,
  feedbackKey,
  MAX_EVENTS_PER_REQUEST,
  type StoredEvent,
  toStoredEvent,
} from '../../shared/events.ts';
import type { AppEnv } from '../app-env.ts';
import { requireKey, WRITE_KEY } from '../auth.ts';
import { errorResponses } from '../responses.ts';

export const EVENTS_PATH = '/v1/events';
/** 500 events with ids and recommendation ids fit in ~120 KB (edge/app.ts reads bodies up to this). */
export const MAX_EVENTS_BODY_BYTES = 256 * 1024;

export const EventsAcceptedSchema = z
  .object({
    accepted: z.number().int().openapi({ description: 'Valid events in the request (all of them)' }),
    duplicates: z
      .number()
      .int()
      .openapi({ description: 'Of those, events whose eventId was already accepted (stored once)' }),
    eventIds: z.array(z.string()).openapi({ description: 'The id of each event, assigned when absent' }),
  })
  .openapi('EventsAccepted');

/** The stub of the Durable Object holding one user's / session's recent events. */
export function feedbackStub(env: Env, key: string) {
  return env.FEEDBACK.get(env.FEEDBACK.idFromName(key));
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let n = 0; n < items.length; n += size) out.push(items.slice(n, n + size));
  return out;
}

/** The events route (mounted by edge/app.ts): a write key is required. */
export function eventsRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  const route = createRoute({
    method: 'post',
    path: EVENTS_PATH,
    operationId: 'postEvents',
    tags: ['events'],
    summary: `Feedback events (at most ${MAX_EVENTS_PER_REQUEST}): idempotent by eventId; they change the user's recommendations at once and feed the retraining job`,
    security: WRITE_KEY,
    middleware: [requireKey('write')] as const,
    request: {
      body: {
        required: true,
        content: { 'application/json': { schema: eventsBodySchema.openapi('EventsRequest') } },
      },
    },
    responses: {
      202: {
        description: 'Accepted: the new events are queued for storage',
        content: { 'application/json': { schema: EventsAcceptedSchema } },
      },
      ...errorResponses(400, 401, 415),
      413: {
        ...errorResponses(413)[413]!,
        description: `Request body larger than ${MAX_EVENTS_BODY_BYTES / 1024} KiB`,
      },
      503: {
        ...errorResponses()[503]!,
        description: 'No live version, or the events queue refused the events (nothing stored; retry)',
      },
    },
  });
  app.openapi(route, async (c) => {
    const receivedAt = Date.now();
    const stored = c.req
      .valid('json')
      .events.map((e) => toStoredEvent(e, receivedAt, () => crypto.randomUUID()));
    const groups = new Map<string, StoredEvent[]>();
    for (const event of stored) {
      const key = feedbackKey(event);
      const list = groups.get(key);
      if (list) list.push(event);
      else groups.set(key, [event]);
    }
    const recorded = await Promise.all(
      [...groups].map(async ([key, list]) => ({ key, ...(await feedbackStub(c.env, key).record(list)) })),
    );
    const fresh = recorded.flatMap((r) => r.fresh);
    if (fresh.length > 0) {
      try {
        await c.env.EVENTS_QUEUE.sendBatch(
          chunks(fresh, EVENTS_PER_MESSAGE).map((list) => ({
            body: { events: list } satisfies EventsMessage,
          })),
        );
      } catch (error) {
        await Promise.all(
          recorded
            .filter((r) => r.fresh.length > 0)
            .map((r) => feedbackStub(c.env, r.key).forget(r.fresh.map((e) => e.eventId))),
        );
        throw new ReelrankError(
          'events_unavailable',
          `the events queue refused ${fresh.length} events (${(error as Error).message}); nothing was stored, retry the request`,
        );
      }
    }
    return c.json(
      {
        accepted: stored.length,
        duplicates: stored.length - fresh.length,
        eventIds: stored.map((e) => e.eventId),
      },
      202,
    );
  });
  return app;
}
