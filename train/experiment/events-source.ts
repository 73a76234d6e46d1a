/**
 * Reads stored feedback events (gzip NDJSON objects under an events prefix, the layout of
 * shared/events.ts) for the experiment analysis, one object at a time, so a long window streams
 * instead of loading every batch at once.
 */
import { gunzipSync } from 'node:zlib';
import { ReelrankError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/store.ts';
import type { AttributableEvent } from './analyze.ts';

export interface EventsReadStats {
  objects: number;
  events: number;
  /** Lines that were not events (reported, never fatal: the rest of the stream still counts). */
  badLines: { where: string; line: number; message: string }[];
}

function toAttributable(value: unknown): AttributableEvent | null {
  if (value === null || typeof value !== 'object') return null;
  const e = value as Record<string, unknown>;
  if (typeof e.movieId !== 'number' || typeof e.type !== 'string' || typeof e.timestamp !== 'number')
    return null;
  const out: AttributableEvent = { movieId: e.movieId, type: e.type, timestamp: e.timestamp };
  if (typeof e.userId === 'number' || typeof e.userId === 'string') out.userId = e.userId;
  if (typeof e.sessionId === 'string') out.sessionId = e.sessionId;
  if (typeof e.value === 'number') out.value = e.value;
  if (typeof e.recommendationId === 'string') out.recommendationId = e.recommendationId;
  if (typeof e.eventId === 'string') (out as AttributableEvent & { eventId?: string }).eventId = e.eventId;
  return out;
}

/**
 * Every event of the `.ndjson.gz` / `.ndjson` objects in `store` (keys in order), deduplicated
 * by eventId (a retried queue batch may have been written twice).
 */
export async function* readStoredEvents(
  store: ObjectStore,
  stats: EventsReadStats = { objects: 0, events: 0, badLines: [] },
): AsyncGenerator<AttributableEvent> {
  const objects = (await store.list('')).filter((o) => /\.ndjson(\.gz)?$/.test(o.key));
  objects.sort((a, b) => a.key.localeCompare(b.key));
  if (objects.length === 0) {
    throw new ReelrankError('bad_input', `No event objects (*.ndjson.gz) under ${store.description}.`);
  }
  const seen = new Set<string>();
  for (const object of objects) {
    const bytes = await store.get(object.key);
    if (bytes === null) continue; // deleted since the listing
    const where = `${store.description}/${object.key}`;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(
        object.key.endsWith('.gz') ? gunzipSync(bytes) : bytes,
      );
    } catch (error) {
      stats.badLines.push({ where, line: 0, message: `not gzip NDJSON (${(error as Error).message})` });
      continue;
    }
    stats.objects++;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '') continue;
      let event: AttributableEvent | null = null;
      try {
        event = toAttributable(JSON.parse(line));
      } catch {
        event = null;
      }
      if (event === null) {
        stats.badLines.push({ where, line: i + 1, message: 'not an event record' });
        continue;
      }
      const id = (event as AttributableEvent & { eventId?: string }).eventId;
      if (id !== undefined) {
        if (seen.has(id)) continue;
        seen.add(id);
      }
      stats.events++;
      yield event;
    }
  }
}
