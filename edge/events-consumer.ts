/**
 * The queue consumer of feedback events (the `queue` handler of edge/index.ts): each batch of
 * messages becomes one gzip NDJSON object in the EVENTS bucket (shared/events.ts layout). The batch
 * is acknowledged only after the object is written; a failed write retries the whole batch, and a
 * batch that keeps failing moves to the dead-letter queue (wrangler.toml), so no event is dropped.
 * Events repeated across messages (a producer retry) are written once.
 */
import {
  type EventsMessage,
  encodeEventsNdjsonGzip,
  eventsObjectKey,
  type StoredEvent,
  storedEventSchema,
} from '../shared/events.ts';

/** The part of an R2 bucket the consumer writes with (tests pass a failing one). */
export interface EventsBucket {
  put(
    key: string,
    value: Uint8Array,
    options?: { httpMetadata?: { contentType?: string }; customMetadata?: Record<string, string> },
  ): Promise<unknown>;
}

export interface ConsumeResult {
  key: string | null;
  events: number;
  duplicates: number;
  invalidMessages: number;
}

/** Writes one batch to `bucket`; acks on success, retries (towards the DLQ) on failure. */
export async function consumeEvents(
  batch: MessageBatch<unknown>,
  bucket: EventsBucket,
  now: () => number = Date.now,
): Promise<ConsumeResult> {
  const byId = new Map<string, StoredEvent>();
  const valid: Message<unknown>[] = [];
  let total = 0;
  let invalidMessages = 0;
  for (const message of batch.messages) {
    const body = message.body as Partial<EventsMessage> | null;
    const parsed = Array.isArray(body?.events)
      ? body.events.map((e) => storedEventSchema.safeParse(e))
      : null;
    if (parsed === null || parsed.some((p) => !p.success)) {
      // Not ours to guess at: retried, then kept in the dead-letter queue for a person to look at.
      console.error(`reelrank events: message ${message.id} is not a valid events message; retrying`);
      invalidMessages++;
      message.retry();
      continue;
    }
    valid.push(message);
    for (const p of parsed) {
      if (!p.success) continue;
      total++;
      if (!byId.has(p.data.eventId)) byId.set(p.data.eventId, p.data);
    }
  }
  if (valid.length === 0) return { key: null, events: 0, duplicates: 0, invalidMessages };
  const events = [...byId.values()];
  const writtenAt = now();
  const key = eventsObjectKey(writtenAt, crypto.randomUUID().replaceAll('-', '').slice(0, 16));
  try {
    await bucket.put(key, await encodeEventsNdjsonGzip(events), {
      httpMetadata: { contentType: 'application/x-ndjson+gzip' },
      customMetadata: { events: String(events.length) },
    });
  } catch (error) {
    console.error(
      `reelrank events: writing ${events.length} events to ${key} failed (attempt ${Math.max(...valid.map((m) => m.attempts))}): ${(error as Error).message}; retrying`,
    );
    for (const message of valid) message.retry();
    return { key: null, events: 0, duplicates: 0, invalidMessages };
  }
  for (const message of valid) message.ack();
  return { key, events: events.length, duplicates: total - events.length, invalidMessages };
}
