/**
 * Artifact faults in workerd (issue 10): a garbage current.json (invalid UTF-8) while serving and
 * on a fresh isolate, /v1/health after recovery, and a version whose hashes all match but whose
 * neighbour list names item 999999.
 */
import { env } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../shared/hash.ts';
import { coldStart, fileBytes, fixture, json, publish, runCron } from './helpers.ts';

type Health = {
  status: string;
  version: string | null;
  pointerError: { code: string; message: string } | null;
  refused: { version: string; code: string; message: string }[];
};
type ErrorBody = { error: { code: string; message: string } };

/** `printf 'garbage{{{\xff\xfe' > current.json`. */
const GARBAGE = Uint8Array.from([...new TextEncoder().encode('garbage{{{'), 0xff, 0xfe]);
const USER = fixture.predictions[0]!.userId;

const health = async () => (await json<Health>('/v1/health')).body;

describe('artifact faults', () => {
  beforeEach(coldStart);

  it('a garbage pointer while serving: keeps serving, health says degraded and why', async () => {
    await publish(fixture.a);
    expect((await json(`/v1/users/${USER}/recommendations?k=3`)).status).toBe(200);
    await env.ARTIFACTS.put('current.json', GARBAGE);
    await runCron();
    const recs = await json<{ version: string }>(`/v1/users/${USER}/recommendations?k=3`);
    expect(recs.status).toBe(200);
    expect(recs.body.version).toBe(fixture.a.version);
    const h = await health();
    expect(h.status).toBe('degraded');
    expect(h.version).toBe(fixture.a.version);
    expect(h.pointerError?.code).toBe('artifact_corrupt');
    expect(h.pointerError?.message).toMatch(/current\.json is not valid UTF-8/);
    // Repaired: healthy again.
    await publish(fixture.a);
    await runCron();
    expect((await health()).status).toBe('ok');
  });

  it('a garbage pointer on a fresh isolate: 503 no_live_version naming it, not 500', async () => {
    await env.ARTIFACTS.put('current.json', GARBAGE);
    const { status, body } = await json<ErrorBody>(`/v1/users/${USER}/recommendations`);
    expect(status).toBe(503);
    expect(body.error.code).toBe('no_live_version');
    expect(body.error.message).toMatch(/current\.json is not valid UTF-8/);
  });

  it('health is ok again once the pointer names a good version (refusals cleared)', async () => {
    await publish(fixture.a);
    expect((await json(`/v1/users/${USER}/recommendations?k=3`)).status).toBe(200);
    await publish(fixture.b, { corrupt: 'item_factors.bin' });
    await runCron();
    expect((await health()).status).toBe('degraded');
    // The operator rolls back: the pointer names a again.
    await env.ARTIFACTS.put(
      'current.json',
      Uint8Array.from(atob(fixture.a.pointer), (c) => c.charCodeAt(0)),
    );
    await runCron();
    const h = await health();
    expect(h.refused).toEqual([]);
    expect(h.status).toBe('ok');
  });

  it('refuses a version whose hashes match but whose neighbour list names item 999999', async () => {
    await publish(fixture.b);
    expect((await json(`/v1/users/${USER}/recommendations?k=3`)).status).toBe(200);
    // Version a with one neighbour index out of range, manifest and pointer re-hashed to match.
    await publish(fixture.a, { pointer: false });
    const path = 'neighbors_content.bin';
    const bytes = fileBytes(fixture.a, path).slice();
    new DataView(bytes.buffer).setUint32(4 * 7, 999_999, true);
    const prefix = `versions/${fixture.a.version}/`;
    await env.ARTIFACTS.put(prefix + path, bytes);
    const manifest = JSON.parse(new TextDecoder().decode(fileBytes(fixture.a, 'manifest.json'))) as {
      files: { path: string; sha256: string }[];
    };
    manifest.files.find((f) => f.path === path)!.sha256 = await sha256Hex(bytes);
    const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest));
    await env.ARTIFACTS.put(`${prefix}manifest.json`, manifestBytes);
    const pointer = JSON.parse(atob(fixture.a.pointer)) as { manifestSha256: string };
    pointer.manifestSha256 = await sha256Hex(manifestBytes);
    await env.ARTIFACTS.put('current.json', JSON.stringify(pointer));
    await runCron();
    const h = await health();
    expect(h.version).toBe(fixture.b.version); // b keeps serving
    expect(h.refused[0]).toMatchObject({ version: fixture.a.version, code: 'artifact_corrupt' });
    expect(h.refused[0]!.message).toMatch(/neighbors_content\.bin .*names neighbour 999999, out of range/);
    const similar = await json(`/v1/movies/${fixture.predictions[0]!.movieId}/similar?by=content&k=3`);
    expect(similar.status).toBe(200);
  });
});
