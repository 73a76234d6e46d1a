/**
 * One Durable Object per user (`user:<id>`) or anonymous session (`session:<id>`), with SQLite
 * storage: the last MAX_RECENT_EVENTS events, read on the next recommendation request to fold them
 * in at once, and the last MAX_REMEMBERED_IDS event ids, which make `POST /v1/events` idempotent by
 * `eventId` (a retried request is answered with `duplicates`, and nothing is queued twice).
 */
import { DurableObject } from 'cloudflare:workers';
import { type StoredEvent, storedEventSchema } from '../shared/events.ts';

/** Events kept per user / session for the immediate fold-in. */
export const MAX_RECENT_EVENTS = 500;
/** Event ids remembered per user / session for deduplication. */
export const MAX_REMEMBERED_IDS = 10_000;

export interface RecordResult {
  /** The events that were new, in request order. */
  fresh: StoredEvent[];
  duplicates: number;
}

export class FeedbackStore extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS event_ids (event_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
       CREATE TABLE IF NOT EXISTS events (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         event_id TEXT NOT NULL,
         received_at INTEGER NOT NULL,
         body TEXT NOT NULL
       );
       CREATE INDEX IF NOT EXISTS events_received ON events (received_at);`,
    );
  }

  /** Stores the events whose id is new (within this key); returns them and the duplicate count. */
  record(events: StoredEvent[]): RecordResult {
    return this.ctx.storage.transactionSync(() => {
      const fresh: StoredEvent[] = [];
      for (const event of events) {
        const known = this.sql.exec('SELECT 1 FROM event_ids WHERE event_id = ?', event.eventId).toArray();
        if (known.length > 0) continue;
        const { seq } = this.sql
          .exec<{ seq: number }>(
            'INSERT INTO events (event_id, received_at, body) VALUES (?, ?, ?) RETURNING seq',
            event.eventId,
            event.receivedAt,
            JSON.stringify(event),
          )
          .one();
        this.sql.exec('INSERT INTO event_ids (event_id, seq) VALUES (?, ?)', event.eventId, seq);
        fresh.push(event);
      }
      if (fresh.length > 0) this.trim();
      return { fresh, duplicates: events.length - fresh.length };
    });
  }

  /** Undoes `record` for these ids (the queue refused them: the client's retry must not be a duplicate). */
  forget(eventIds: string[]): void {
    this.ctx.storage.transactionSync(() => {
      for (const id of eventIds) {
        this.sql.exec('DELETE FROM events WHERE event_id = ?', id);
        this.sql.exec('DELETE FROM event_ids WHERE event_id = ?', id);
      }
    });
  }

  /** Events received after `afterMs` (milliseconds since the epoch), oldest first. */
  recent(afterMs: number): StoredEvent[] {
    const rows = this.sql
      .exec<{ body: string }>('SELECT body FROM events WHERE received_at > ? ORDER BY seq', afterMs)
      .toArray();
    return rows.map((r) => storedEventSchema.parse(JSON.parse(r.body)));
  }

  private trim(): void {
    this.sql.exec(
      'DELETE FROM events WHERE seq <= (SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?)',
      MAX_RECENT_EVENTS,
    );
    this.sql.exec(
      'DELETE FROM event_ids WHERE seq <= (SELECT seq FROM event_ids ORDER BY seq DESC LIMIT 1 OFFSET ?)',
      MAX_REMEMBERED_IDS,
    );
  }
}
