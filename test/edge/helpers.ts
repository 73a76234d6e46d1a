/** Seeding R2 with the provided fixture versions, and calling the Worker in-process. */
import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { inject } from 'vitest';
import { decodeEventsNdjsonGzip, EVENTS_PREFIX, type StoredEvent } from '../../shared/events.ts';
import worker from '../../edge/index.ts';
import { resetLiveState } from '../../edge/live.ts';
import { TEST_READ_KEYS } from '../support/edge-keys.ts';
import type { ProvidedFixture, ProvidedVersion } from './fixture-types.ts';

/** A read key of the test env (the first of the two rotated ones). */
export const READ_KEY = TEST_READ_KEYS[0];

export const fixture: ProvidedFixture = inject('reelrankFixture');

export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Bytes of a file of a provided version, by its path inside the version. */
export function fileBytes(version: ProvidedVersion, path: string): Uint8Array {
  const sha = version.files[`versions/${version.version}/${path}`];
  if (sha === undefined) throw new Error(`fixture version ${version.version} has no ${path}`);
  return fromBase64(fixture.blobs[sha]!);
}

/** Uploads every file of a version, then (by default) its pointer, like `reelrank publish`. */
export async function publish(
  version: ProvidedVersion,
  { pointer = true, corrupt }: { pointer?: boolean; corrupt?: string } = {},
): Promise<void> {
  for (const [key, sha] of Object.entries(version.files)) {
    const bytes = fromBase64(fixture.blobs[sha]!);
    if (corrupt !== undefined && key.endsWith(`/${corrupt}`))
      bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
    await env.ARTIFACTS.put(key, bytes);
  }
  if (pointer) await env.ARTIFACTS.put('current.json', fromBase64(version.pointer));
}

/** Empties the bucket and forgets the isolate's loaded version: a cold start. */
export async function coldStart(): Promise<void> {
  resetLiveState();
  let cursor: string | undefined;
  do {
    const page = await env.ARTIFACTS.list({ cursor });
    if (page.objects.length) await env.ARTIFACTS.delete(page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}

/**
 * A request to the Worker's fetch handler in this isolate, with optional env overrides. It carries
 * a valid read key unless `init` sets `authorization` itself (see `callWithoutKey`).
 */
export async function call(
  path: string,
  init?: RequestInit,
  overrides: Partial<Env> = {},
): Promise<Response> {
  const headers = new Headers(init?.headers);
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${READ_KEY}`);
  return callWithoutKey(path, { ...init, headers }, overrides);
}

/** A request exactly as given: no key added. */
export async function callWithoutKey(
  path: string,
  init?: RequestInit,
  overrides: Partial<Env> = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`https://reelrank.test${path}`, init),
    { ...env, ...overrides } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

export async function json<T = Record<string, unknown>>(
  path: string,
  init?: RequestInit,
  overrides?: Partial<Env>,
): Promise<{ status: number; body: T }> {
  const response = await call(path, init, overrides);
  return { status: response.status, body: (await response.json()) as T };
}

export function post(body: unknown): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

/** Runs the cron trigger (the scheduled handler) and waits for it. */
export async function runCron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(
    createScheduledController({ scheduledTime: new Date(), cron: '*/5 * * * *' }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
}

/** Every event the queue consumer has written to the EVENTS bucket so far (gzip NDJSON objects). */
export async function storedEvents(): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.EVENTS.list({ prefix: EVENTS_PREFIX, cursor });
    for (const o of page.objects) {
      const body = await env.EVENTS.get(o.key);
      out.push(...(await decodeEventsNdjsonGzip(new Uint8Array(await body!.arrayBuffer()), o.key)));
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out;
}
