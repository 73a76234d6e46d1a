/**
 * `POST /v1/events`: a batch of up to 500 feedback events. Each is validated (400 naming
 * `events[i].field`), given an id and a time when absent, deduplicated by `eventId` in its user's /
 * session's Durable Object (edge/feedback-store.ts), and the new ones are handed to the events
 * queue; 202 `{accepted, duplicates, eventIds}` once the queue has them. Should the queue refuse,
 * the Durable Objects forget the events again and the answer is 503, so a retry is not a duplicate.
 */
import { zValidator } from '@hono/zod-validator';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import { ReelrankError } from '../../shared/errors.ts';
import {
  EVENTS_PER_MESSAGE,
  type EventsMessage,
  eventsBodySchema,
  feedbackKey,
  type StoredEvent,
  toStoredEvent,
} from '../../shared/events.ts';
import { errorBody } from '../errors.ts';

export const EVENTS_PATH = '/v1/events';
/** 500 events with ids and recommendation ids fit in ~120 KB. */
export const MAX_EVENTS_BODY_BYTES = 256 * 1024;

type EventsEnv = { Bindings: Env };

/** zValidator hook: the first issue as a 400 that names `events[i].field`. */
function badEvents(
  result: { success: true } | { success: false; error: z.ZodError },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  const path = (issue?.path ?? [])
    .map((part, n) => (typeof part === 'number' ? `[${part}]` : n === 0 ? part : `.${part}`))
    .join('');
  let message = issue?.message ?? 'invalid request';
  if (issue?.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
  const field = message.split(' ')[0] ?? '';
  if (path !== '' && path.endsWith(field)) message = `${path.slice(0, path.length - field.length)}${message}`;
  else if (path) message = `${path}: ${message}`;
  return c.json(errorBody('bad_parameter', message), 400);
}

/** The stub of the Durable Object holding one user's / session's recent events. */
export function feedbackStub(env: Env, key: string) {
  return env.FEEDBACK.get(env.FEEDBACK.idFromName(key));
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let n = 0; n < items.length; n += size) out.push(items.slice(n, n + size));
  return out;
}

/** The events sub-application (mounted at /v1/events by edge/app.ts). */
export function eventsRoutes(): Hono<EventsEnv> {
  const events = new Hono<EventsEnv>();
  events.post(
    '/',
    bodyLimit({
      maxSize: MAX_EVENTS_BODY_BYTES,
      onError: (c) =>
        c.json(
          errorBody('payload_too_large', `request body is larger than ${MAX_EVENTS_BODY_BYTES} bytes`),
          413,
        ),
    }),
    zValidator('json', eventsBodySchema, badEvents),
    async (c) => {
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
    },
  );
  return events;
}
