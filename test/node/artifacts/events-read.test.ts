/**
 * Reading event objects back for `retrain --events` from a `file://` store laid out as the queue
 * consumer writes R2 (events/dt=/hh=/<ms>-<batch>.ndjson.gz): key order = write time, objects after
 * the watermark marked new, repeated event ids read once, a broken object refused with its key and
 * line; the CLI refuses a bad --newest-fraction before any work.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeEventsNdjsonGzip, eventsObjectKey, type StoredEvent } from '../../../shared/events.ts';
import { readEvents, watermarkKey } from '../../../train/events/read.ts';
import { FsStore } from '../../../train/store/fs.ts';
import { cli } from '../../support/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'reelrank-events-read-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const event = (id: string, receivedAt: number): StoredEvent => ({
  eventId: id,
  userId: 1,
  movieId: 2,
  type: 'click',
  timestamp: Math.floor(receivedAt / 1000),
  receivedAt,
});
async function put(dir: string, writtenAt: number, events: StoredEvent[]): Promise<string> {
  const key = eventsObjectKey(writtenAt, `b${writtenAt}`);
  const path = join(dir, key);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, await encodeEventsNdjsonGzip(events));
  return key;
}

describe('readEvents from a file:// store', () => {
  it('reads objects in write order, marks those after the watermark new and reads each event id once', async () => {
    const dir = join(root, 'ok');
    const t = Date.UTC(2026, 11, 1, 23, 59, 0);
    const first = await put(dir, t, [event('a', t - 10), event('b', t - 5)]);
    await put(dir, t + 120_000, [event('b', t - 5), event('c', t + 100_000)]); // next day, b repeated
    const store = new FsStore(dir);
    const all = await readEvents(store);
    expect(all.events.map((e) => e.eventId)).toEqual(['a', 'b', 'c']);
    expect(all.duplicates).toBe(1);
    expect(all.objects).toEqual({ read: 2, new: 2 });
    expect(all.lastReceivedAt).toBe(t + 100_000);
    const after = await readEvents(store, { after: watermarkKey(first) });
    expect(Array.from(after.isNew)).toEqual([0, 0, 1]);
    expect(after.objects).toEqual({ read: 2, new: 1 });
    // The same watermark whatever prefix the store URL had: keys compare from dt= on.
    expect(watermarkKey(`prefix/${first}`)).toBe(watermarkKey(first));
    const upTo = await readEvents(store, { upTo: t + 60_000 });
    expect(upTo.objects.read).toBe(1);
  });

  it('refuses a broken object naming its key and line', async () => {
    const dir = join(root, 'broken');
    const key = eventsObjectKey(Date.UTC(2026, 0, 1), 'bad');
    mkdirSync(dirname(join(dir, key)), { recursive: true });
    writeFileSync(join(dir, key), gzipSync(`${JSON.stringify(event('a', 1000))}\n{"eventId":"x"}\n`));
    await expect(readEvents(new FsStore(dir))).rejects.toThrow(
      new RegExp(`${key.replaceAll('.', '\\.')}:2: `),
    );
  });
});

describe('reelrank retrain --events options', () => {
  it('refuses a --newest-fraction outside (0, 1] before any work', async () => {
    const { code, err } = await cli(
      'retrain',
      '--to',
      `file://${join(root, 'store')}`,
      '--events',
      `file://${join(root, 'ok')}`,
      '--newest-fraction',
      '2',
    );
    expect(code).toBe(1);
    expect(err).toMatch(/--newest-fraction must be a number in \(0, 1\], got '2'/);
  });
});
