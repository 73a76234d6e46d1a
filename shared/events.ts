/**
 * Feedback events: what `POST /v1/events` accepts, what the queue consumer stores in R2, what the
 * Durable Object keeps per user / session, and what `reelrank retrain --events` reads back. Defined
 * once here (zod schema = validator = TypeScript type), with the R2 object layout and the gzip NDJSON
 * codec (web streams only, so the Worker and Node share it).
 *
 * R2 layout: `events/dt=YYYY-MM-DD/hh=HH/<13-digit ms>-<batch id>.ndjson.gz`, one object per consumer
 * batch, partitioned by the time the batch was written (UTC). Keys therefore sort by write time, which
 * is what a retraining watermark compares against.
 */
import { z } from 'zod';

export const EVENT_TYPES = Object.freeze(['rating', 'watch', 'click', 'impression', 'dislike'] as const);
export type EventType = (typeof EVENT_TYPES)[number];

/** Events per `POST /v1/events` request. */
export const MAX_EVENTS_PER_REQUEST = 500;
/** Rating values accepted on `type: 'rating'` (the MovieLens scale; the serving scale clamps further). */
export const EVENT_RATING_RANGE = Object.freeze({ min: 0.5, max: 5 });

/**
 * How each event type becomes an interaction, for training (train/events) and for the edge's
 * immediate fold-in (shared/serving/feedback.ts) alike:
 * - `explicit`: a rating, its value is the rating;
 * - `implicit`: watch / click, a positive interaction recorded as the stated pseudo-rating
 *   (confidence 1 + α·f(pseudoRating) in the implicit model, a rating row for the rating model);
 * - `negative`: dislike, preference 0 at the edge; the lowest rating of the scale in training;
 * - `exposure`: impression, never an interaction; kept for evaluation (what was shown).
 */
export const EVENT_INTERACTION = Object.freeze({
  rating: Object.freeze({ kind: 'explicit', pseudoRating: null }),
  watch: Object.freeze({ kind: 'implicit', pseudoRating: 4 }),
  click: Object.freeze({ kind: 'implicit', pseudoRating: 3 }),
  dislike: Object.freeze({ kind: 'negative', pseudoRating: null }),
  impression: Object.freeze({ kind: 'exposure', pseudoRating: null }),
} as const satisfies Record<
  EventType,
  { kind: 'explicit' | 'implicit' | 'negative' | 'exposure'; pseudoRating: number | null }
>);

/** Timestamps after this (seconds) are refused: they are almost certainly milliseconds. */
const MAX_TIMESTAMP_SECONDS = 4_102_444_800; // 2100-01-01
const idString = (name: string) =>
  z
    .string({ error: `${name} must be a string` })
    .min(1, `${name} must not be empty`)
    .max(128, `${name} must be at most 128 characters`)
    .regex(/^[\w.:@-]+$/, `${name} may hold letters, digits and _ . : @ - only`);

/** One event as a client sends it (eventId and timestamp optional). */
export const eventInputSchema = z
  .strictObject({
    eventId: idString('eventId').optional(),
    userId: z
      .number({ error: 'userId must be a number' })
      .int('userId must be an integer')
      .min(0, 'userId must be >= 0')
      .max(2 ** 31 - 1, 'userId must be < 2^31')
      .optional(),
    sessionId: idString('sessionId').optional(),
    movieId: z
      .number({
        error: (issue) => (issue.input === undefined ? 'movieId is required' : 'movieId must be a number'),
      })
      .int('movieId must be an integer')
      .min(0, 'movieId must be >= 0')
      .max(2 ** 31 - 1, 'movieId must be < 2^31'),
    type: z.enum(EVENT_TYPES, { error: `type must be one of ${EVENT_TYPES.join(', ')}` }),
    value: z.number({ error: 'value must be a number' }).optional(),
    timestamp: z
      .number({ error: 'timestamp must be a number (seconds since the epoch)' })
      .int('timestamp must be whole seconds since the epoch')
      .min(1, 'timestamp must be > 0 (seconds since the epoch)')
      .max(MAX_TIMESTAMP_SECONDS, 'timestamp must be seconds since the epoch (this looks like milliseconds)')
      .optional(),
    recommendationId: idString('recommendationId').optional(),
  })
  .superRefine((e, ctx) => {
    if (e.userId === undefined && e.sessionId === undefined)
      ctx.addIssue({ code: 'custom', path: ['userId'], message: 'userId or sessionId is required' });
    if (e.type === 'rating') {
      if (e.value === undefined)
        ctx.addIssue({ code: 'custom', path: ['value'], message: 'value (the rating) is required' });
      else if (e.value < EVENT_RATING_RANGE.min || e.value > EVENT_RATING_RANGE.max)
        ctx.addIssue({
          code: 'custom',
          path: ['value'],
          message: `value must be a rating from ${EVENT_RATING_RANGE.min} to ${EVENT_RATING_RANGE.max}`,
        });
    } else if (e.type === 'watch' && e.value !== undefined && (e.value < 0 || e.value > 1)) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: 'value of a watch is the fraction watched, 0..1',
      });
    }
  });
export type EventInput = z.infer<typeof eventInputSchema>;

/** `POST /v1/events` body. */
export const eventsBodySchema = z.strictObject({
  events: z
    .array(eventInputSchema, {
      error: (issue) => (issue.input === undefined ? 'events is required' : 'events must be an array'),
    })
    .min(1, 'events must not be empty')
    .max(MAX_EVENTS_PER_REQUEST, `events: at most ${MAX_EVENTS_PER_REQUEST} events per request`),
});

/** An event as stored (queue message, R2 line, Durable Object row): id and times always present. */
export const storedEventSchema = z.strictObject({
  eventId: z.string().min(1),
  userId: z.number().int().nonnegative().optional(),
  sessionId: z.string().min(1).optional(),
  movieId: z.number().int().nonnegative(),
  type: z.enum(EVENT_TYPES),
  value: z.number().optional(),
  /** Seconds since the epoch (the client's, else the server's clock on receipt). */
  timestamp: z.number().int().positive(),
  recommendationId: z.string().min(1).optional(),
  /** Milliseconds since the epoch when the edge accepted it (orders events against a watermark). */
  receivedAt: z.number().int().positive(),
});
export type StoredEvent = z.infer<typeof storedEventSchema>;

/** The stored form of an accepted event: an id when absent, the server's clock for missing times. */
export function toStoredEvent(input: EventInput, receivedAt: number, newId: () => string): StoredEvent {
  const event: StoredEvent = {
    eventId: input.eventId ?? newId(),
    movieId: input.movieId,
    type: input.type,
    timestamp: input.timestamp ?? Math.floor(receivedAt / 1000),
    receivedAt,
  };
  if (input.userId !== undefined) event.userId = input.userId;
  if (input.sessionId !== undefined) event.sessionId = input.sessionId;
  if (input.value !== undefined) event.value = input.value;
  if (input.recommendationId !== undefined) event.recommendationId = input.recommendationId;
  return event;
}

/** The Durable Object an event belongs to: its user's when it names one, else its session's. */
export function feedbackKey(event: { userId?: number; sessionId?: string }): string {
  return event.userId !== undefined ? `user:${event.userId}` : `session:${event.sessionId}`;
}

/** The queue message: the new events of one request (at most 100 per message). */
export interface EventsMessage {
  events: StoredEvent[];
}
export const EVENTS_PER_MESSAGE = 100;

/** Key prefix of event objects inside the events bucket. */
export const EVENTS_PREFIX = 'events/';

/**
 * The R2 key of one batch written at `writtenAt` (ms): `events/dt=YYYY-MM-DD/hh=HH/<ms>-<batch>.ndjson.gz`.
 * @example eventsObjectKey(Date.UTC(2026, 11, 2, 6), 'a1') // 'events/dt=2026-12-02/hh=06/1796191200000-a1.ndjson.gz'
 */
export function eventsObjectKey(writtenAt: number, batch: string): string {
  if (!/^[\w-]+$/.test(batch))
    throw new RangeError(`events batch name '${batch}' may hold [A-Za-z0-9_-] only`);
  const iso = new Date(writtenAt).toISOString();
  return `${EVENTS_PREFIX}dt=${iso.slice(0, 10)}/hh=${iso.slice(11, 13)}/${String(writtenAt).padStart(13, '0')}-${batch}.ndjson.gz`;
}

/** The write time (ms) of an event object from its key, or null when the key is not one. */
export function eventsObjectTime(key: string): number | null {
  const match = /(?:^|\/)dt=\d{4}-\d{2}-\d{2}\/hh=\d{2}\/(\d{13})-[\w-]+\.ndjson\.gz$/.exec(key);
  return match ? Number(match[1]) : null;
}

/**
 * What a version learned from events (trainingConfig.events): the last event object read (keys
 * compare by write time) and the newest receipt time among the events trained. The edge folds in
 * only events received after `receivedAt`; the next retrain reads objects after `objectKey`.
 */
export interface EventsWatermark {
  objectKey: string;
  receivedAt: number;
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done || value === undefined) break;
    chunks.push(value);
    total += value.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Runs bytes through a (de)compression stream: written and read concurrently (no backpressure stall). */
async function transform(
  stream: {
    readable: ReadableStream<Uint8Array>;
    writable: {
      getWriter(): { write(chunk: Uint8Array<ArrayBuffer>): Promise<void>; close(): Promise<void> };
    };
  },
  bytes: Uint8Array,
): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  // A corrupt input rejects both sides; the reader's rejection is the one reported.
  const written = Promise.all([writer.write(new Uint8Array(bytes)), writer.close()]).catch(() => undefined);
  const out = await collect(stream.readable);
  await written;
  return out;
}

/** Events as gzip-compressed NDJSON (one JSON object per line). */
export async function encodeEventsNdjsonGzip(events: readonly StoredEvent[]): Promise<Uint8Array> {
  const text = events.map((e) => JSON.stringify(e)).join('\n') + (events.length > 0 ? '\n' : '');
  return transform(new CompressionStream('gzip'), new TextEncoder().encode(text));
}

/**
 * Reads a gzip NDJSON event object back, each line checked against the stored schema; a bad line
 * throws naming `where` and the line number (nothing is skipped silently).
 */
export async function decodeEventsNdjsonGzip(bytes: Uint8Array, where: string): Promise<StoredEvent[]> {
  let text: string;
  try {
    text = new TextDecoder().decode(await transform(new DecompressionStream('gzip'), bytes));
  } catch (error) {
    throw new RangeError(`${where}: not a gzip stream (${(error as Error).message})`);
  }
  return parseEventsNdjson(text, where);
}

/** Parses NDJSON event lines (blank lines ignored); throws `<where>:<line>: <problem>` on a bad line. */
export function parseEventsNdjson(text: string, where: string): StoredEvent[] {
  const out: StoredEvent[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new RangeError(`${where}:${n + 1}: not JSON: ${line.slice(0, 80)}`);
    }
    const parsed = storedEventSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new RangeError(`${where}:${n + 1}: ${issue.path.join('.') || 'event'}: ${issue.message}`);
    }
    out.push(parsed.data);
  }
  return out;
}
