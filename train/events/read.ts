/**
 * Reading feedback events back from the events store (`--events s3://bucket/prefix/events`, R2's S3
 * API, or `file://dir`): every gzip NDJSON object of the shared layout (shared/events.ts), object by
 * object in key order (= write time), deduplicated by `eventId`. Objects after a watermark are the
 * new ones; a bad object stops the run with its key and line (nothing is skipped silently).
 */
import { gunzipSync } from 'node:zlib';
import { ReelrankError } from '../../shared/errors.ts';
import { eventsObjectTime, parseEventsNdjson, type StoredEvent } from '../../shared/events.ts';
import type { ObjectStore } from '../../shared/store.ts';

/**
 * The part of an event object's key from `dt=` on: what watermarks compare (it sorts by write
 * time), whatever prefix the store URL was given with.
 */
export function watermarkKey(key: string): string | null {
  const at = key.lastIndexOf('dt=');
  return at >= 0 && eventsObjectTime(key) !== null ? key.slice(at) : null;
}

export interface EventsRead {
  /** Distinct events (first occurrence of each eventId), in object order. */
  events: StoredEvent[];
  /** Per event (same order): true when its object comes after the `after` watermark. */
  isNew: Uint8Array;
  objects: { read: number; new: number };
  /** Lines that repeated an eventId already read. */
  duplicates: number;
  /** watermarkKey of the last object read (null when there is none). */
  lastObjectKey: string | null;
  /** Newest receivedAt among the events read (0 when none). */
  lastReceivedAt: number;
  /** Bytes read (compressed). */
  bytes: number;
}

/**
 * Reads every event object of `store` written no later than `upTo` (ms; default now), marking those
 * after `after` (a watermarkKey) as new.
 */
export async function readEvents(
  store: ObjectStore,
  { after = null, upTo = Date.now() }: { after?: string | null; upTo?: number } = {},
): Promise<EventsRead> {
  const listed = (await store.list(''))
    .map((o) => ({ key: o.key, mark: watermarkKey(o.key), time: eventsObjectTime(o.key) }))
    .filter((o): o is { key: string; mark: string; time: number } => o.mark !== null && o.time! <= upTo)
    .sort((a, b) => (a.mark < b.mark ? -1 : a.mark > b.mark ? 1 : 0));
  const seen = new Set<string>();
  const events: StoredEvent[] = [];
  const isNew: number[] = [];
  let duplicates = 0;
  let newObjects = 0;
  let bytes = 0;
  let lastReceivedAt = 0;
  for (const object of listed) {
    const body = await store.get(object.key);
    if (body === null) continue; // deleted between list and get (a lifecycle rule): nothing to read
    bytes += body.length;
    let text: string;
    try {
      text = gunzipSync(body).toString('utf8');
    } catch (error) {
      throw new ReelrankError(
        'bad_input',
        `${store.description}/${object.key}: not a gzip stream (${(error as Error).message})`,
      );
    }
    let parsed: StoredEvent[];
    try {
      parsed = parseEventsNdjson(text, `${store.description}/${object.key}`);
    } catch (error) {
      throw new ReelrankError('bad_input', (error as Error).message);
    }
    const fresh = after === null || object.mark > after;
    if (fresh) newObjects++;
    for (const event of parsed) {
      if (seen.has(event.eventId)) {
        duplicates++;
        continue;
      }
      seen.add(event.eventId);
      events.push(event);
      isNew.push(fresh ? 1 : 0);
      if (event.receivedAt > lastReceivedAt) lastReceivedAt = event.receivedAt;
    }
  }
  return {
    events,
    isNew: Uint8Array.from(isNew),
    objects: { read: listed.length, new: newObjects },
    duplicates,
    lastObjectKey: listed.at(-1)?.mark ?? null,
    lastReceivedAt,
    bytes,
  };
}
