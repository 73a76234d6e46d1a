/**
 * Canary rollout in workerd: the pointer names a candidate beside the live version; people are
 * split by a salted hash of their id, stably; every answer names its version; promote and abort
 * swap without a failed request; a corrupt candidate is refused while live serves everyone.
 */
import { env } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { resetLiveState } from '../../edge/live.ts';
import { armOf, parseRecommendationId, sessionSubject, userSubject } from '../../shared/rollout.ts';
import type { StoredEvent } from '../../shared/events.ts';
import { analyzeExperiment } from '../../train/experiment/analyze.ts';
import { TEST_WRITE_KEYS } from '../support/edge-keys.ts';
import {
  call,
  callWithoutKey,
  coldStart,
  fixture,
  fromBase64,
  json,
  post,
  publish,
  runCron,
  storedEvents,
} from './helpers.ts';

type Pointer = { version: string; manifestSha256: string; publishedAt: string; previous: string | null };
const pointerOf = (v: { pointer: string }) =>
  JSON.parse(new TextDecoder().decode(fromBase64(v.pointer))) as Pointer;
const SALT = 'c0ffee0123456789';

async function writePointer(pointer: unknown): Promise<void> {
  await env.ARTIFACTS.put('current.json', JSON.stringify(pointer));
}

/**
 * Live a, canary b at `percent`; the pointer is re-read by the cron, or, with env `overrides`, by
 * requests carrying them (so the isolate reads its budget from the overridden env).
 */
async function startCanary(percent: number, salt = SALT, overrides?: Partial<Env>): Promise<void> {
  const a = pointerOf(fixture.a);
  const b = pointerOf(fixture.b);
  await writePointer({
    ...a,
    canary: {
      version: b.version,
      manifestSha256: b.manifestSha256,
      percent,
      salt,
      startedAt: '2026-12-02T07:00:00Z',
    },
  });
  if (overrides === undefined) return runCron();
  await call('/v1/version', undefined, {
    ...overrides,
    POINTER_CHECK_SECONDS: '0',
  } as unknown as Partial<Env>);
  await new Promise((r) => setTimeout(r, 50));
  await call('/v1/version', undefined, overrides);
}

const sessionRequest = (sessionId: string) => post({ sessionId, ratings: [], k: 1 });

describe('canary rollout', () => {
  beforeEach(async () => {
    await coldStart();
    await publish(fixture.b, { pointer: false });
    await publish(fixture.a);
  });

  it('serves 10% of 10,000 session ids from the canary, each id always on the same arm, named in every answer', async () => {
    await startCanary(10);
    const health = (await json<{ canary: { version: string; loaded: boolean } }>('/v1/health')).body;
    expect(health.canary).toMatchObject({ version: fixture.b.version, loaded: true });
    let candidate = 0;
    const armOfId = new Map<string, string>();
    for (let i = 0; i < 10_000; i++) {
      const id = `s${i}`;
      const response = await call('/v1/recommendations', sessionRequest(id));
      expect(response.status).toBe(200);
      const body = (await response.json()) as { version: string; recommendationId: string };
      const header = response.headers.get('x-reelrank-version');
      expect(header).toBe(body.version);
      if (body.version === fixture.b.version) candidate++;
      // The arm is the one the salted hash gives, and the recommendation id names it.
      const expected = armOf(sessionSubject(id), { percent: 10, salt: SALT });
      expect(body.version).toBe(expected === 'candidate' ? fixture.b.version : fixture.a.version);
      expect(parseRecommendationId(body.recommendationId)).toMatchObject({
        version: body.version,
        arm: expected,
      });
      if (i < 300) armOfId.set(id, body.version);
    }
    expect(Math.abs(candidate / 100 - 10)).toBeLessThanOrEqual(1.5);
    // Same ids again, after the isolate forgot everything (a fresh isolate): same arms.
    resetLiveState();
    for (const [id, version] of armOfId) {
      const again = (await json<{ version: string }>('/v1/recommendations', sessionRequest(id))).body;
      expect(again.version).toBe(version);
    }
    // The X-Session-Id header works like the body field; requests naming nobody get the live version.
    const [someId, itsVersion] = [...armOfId.entries()].find(([, v]) => v === fixture.b.version)!;
    const byHeader = await call('/v1/recommendations', {
      ...post({ ratings: [], k: 1 }),
      headers: { 'content-type': 'application/json', 'x-session-id': someId },
    });
    expect(byHeader.headers.get('x-reelrank-version')).toBe(itsVersion);
    const nobody = await call('/v1/recommendations', post({ ratings: [], k: 1 }));
    expect(nobody.headers.get('x-reelrank-version')).toBe(fixture.a.version);
  });

  it('assigns known users by id: the same user always gets the same arm, on every route', async () => {
    await startCanary(50);
    const users = [
      ...new Set([
        ...fixture.recommendations.map((r) => r.userId),
        ...Array.from({ length: 40 }, (_, i) => i + 1),
      ]),
    ];
    const seen = new Set<string>();
    for (const userId of users) {
      const recs = await call(`/v1/users/${userId}/recommendations?k=3`);
      expect(recs.status).toBe(200);
      const version = recs.headers.get('x-reelrank-version')!;
      const expected = armOf(userSubject(userId), { percent: 50, salt: SALT });
      expect(version).toBe(expected === 'candidate' ? fixture.b.version : fixture.a.version);
      seen.add(version);
      const prediction = await call(`/v1/users/${userId}/predictions/${fixture.predictions[0]!.movieId}`);
      expect(prediction.headers.get('x-reelrank-version')).toBe(version);
      expect(((await prediction.json()) as { version: string }).version).toBe(version);
    }
    expect(seen.size).toBe(2); // 40+ users at 50 %: both arms answer
  });

  it('promotes and aborts under load with zero failed requests', async () => {
    await startCanary(30);
    const failures: string[] = [];
    const versions = new Set<string>();
    let stop = false;
    const loadLoop = async (worker: number) => {
      let n = 0;
      while (!stop) {
        const id = `load-${worker}-${n++ % 50}`;
        const response = await call('/v1/recommendations', sessionRequest(id), {
          POINTER_CHECK_SECONDS: '0',
        } as unknown as Partial<Env>);
        if (response.status !== 200) failures.push(`${response.status} ${await response.text()}`);
        else versions.add(response.headers.get('x-reelrank-version')!);
        await new Promise((r) => setTimeout(r, 0));
      }
    };
    const loops = [0, 1, 2, 3].map(loadLoop);
    await new Promise((r) => setTimeout(r, 150));
    // Abort: a serves everyone.
    await writePointer(pointerOf(fixture.a));
    await runCron();
    await new Promise((r) => setTimeout(r, 100));
    expect(
      (await call('/v1/recommendations', sessionRequest('load-0-1'))).headers.get('x-reelrank-version'),
    ).toBe(fixture.a.version);
    // Canary again, then promote: b serves everyone, from the copy already in memory.
    await startCanary(30);
    await new Promise((r) => setTimeout(r, 100));
    const b = pointerOf(fixture.b);
    await writePointer({ ...b, previous: fixture.a.version });
    await runCron();
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    expect(versions).toEqual(new Set([fixture.a.version, fixture.b.version]));
    for (let i = 0; i < 50; i++) {
      const r = await call('/v1/recommendations', sessionRequest(`after-${i}`));
      expect(r.headers.get('x-reelrank-version')).toBe(fixture.b.version);
    }
    const health = (await json<{ version: string; canary: unknown; status: string }>('/v1/health')).body;
    expect(health).toMatchObject({ version: fixture.b.version, canary: null, status: 'ok' });
  });

  it('refuses a corrupt canary: the live version serves 100% and health says why', async () => {
    const b = pointerOf(fixture.b);
    const key = `versions/${fixture.b.version}/item_factors.bin`;
    const bytes = new Uint8Array(await (await env.ARTIFACTS.get(key))!.arrayBuffer());
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
    await env.ARTIFACTS.put(key, bytes);
    await startCanary(50);
    for (let i = 0; i < 200; i++) {
      const r = await call('/v1/recommendations', sessionRequest(`c${i}`));
      expect(r.status).toBe(200);
      expect(r.headers.get('x-reelrank-version')).toBe(fixture.a.version);
    }
    const health = (
      await json<{
        status: string;
        canary: { loaded: boolean };
        refused: { version: string; code: string; message: string }[];
      }>('/v1/health')
    ).body;
    expect(health.status).toBe('degraded');
    expect(health.canary.loaded).toBe(false);
    expect(health.refused[0]).toMatchObject({ version: b.version, code: 'artifact_corrupt' });
    expect(health.refused[0]!.message).toContain('item_factors.bin');
  });

  it('refuses a canary above the isolate memory budget, naming the budget', async () => {
    await call('/v1/version', undefined, { CANARY_MEMORY_MB: '1' } as unknown as Partial<Env>);
    await startCanary(10, SALT, { CANARY_MEMORY_MB: '1' } as unknown as Partial<Env>);
    const health = (await json<{ refused: { code: string; message: string }[] }>('/v1/health')).body;
    expect(health.refused[0]).toMatchObject({ code: 'canary_too_large' });
    expect(health.refused[0]!.message).toMatch(/canary budget of 1 MB \(CANARY_MEMORY_MB\)/);
    const r = await call('/v1/recommendations', sessionRequest('s1'));
    expect(r.headers.get('x-reelrank-version')).toBe(fixture.a.version);
  });
});

describe('attribution: impressions logged by the Worker, clicks quoting the recommendationId', () => {
  beforeEach(async () => {
    await coldStart();
    await publish(fixture.b, { pointer: false });
    await publish(fixture.a);
  });

  it('logs impressions per arm and position (LOG_IMPRESSIONS=true); reelrank experiment attributes the clicks', async () => {
    await startCanary(50);
    const logging = { LOG_IMPRESSIONS: 'true' } as unknown as Partial<Env>;
    const sessions = Array.from({ length: 12 }, (_, i) => `attr-${i}`);
    const lists = new Map<string, { recommendationId: string; movieIds: number[] }>();
    for (const sessionId of sessions) {
      const r = await json<{ recommendationId: string; items: { movieId: number }[] }>(
        '/v1/recommendations',
        post({ sessionId, ratings: [], k: 4 }),
        logging,
      );
      expect(r.status).toBe(200);
      lists.set(sessionId, {
        recommendationId: r.body.recommendationId,
        movieIds: r.body.items.map((x) => x.movieId),
      });
    }
    // Without a session id nothing is logged (nobody to attribute to); without the var neither.
    await call('/v1/recommendations', post({ ratings: [], k: 4 }), logging);
    await call('/v1/recommendations', post({ sessionId: 'not-logged', ratings: [], k: 4 }));
    // Each session clicks its second movie, quoting the list's id.
    const clicks = [...lists].map(([sessionId, list]) => ({
      sessionId,
      movieId: list.movieIds[1]!,
      type: 'click',
      recommendationId: list.recommendationId,
    }));
    const accepted = await callWithoutKey('/v1/events', {
      ...post({ events: clicks }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_WRITE_KEYS[0]}` },
    });
    expect(accepted.status).toBe(202);
    const wanted = sessions.length * 4 + sessions.length;
    let stored: StoredEvent[] = [];
    for (let waited = 0; waited < 30_000 && stored.length < wanted; waited += 250) {
      stored = (await storedEvents()).filter(
        (e) => e.sessionId?.startsWith('attr-') || e.sessionId === 'not-logged',
      );
      await new Promise((r) => setTimeout(r, 250));
    }
    const impressions = stored.filter((e) => e.type === 'impression');
    expect(impressions).toHaveLength(sessions.length * 4);
    expect(stored.some((e) => e.sessionId === 'not-logged')).toBe(false);
    for (const e of impressions) {
      const list = lists.get(e.sessionId!)!;
      expect(e.recommendationId).toBe(list.recommendationId);
      expect(list.movieIds[e.value! - 1]).toBe(e.movieId);
    }
    const report = analyzeExperiment(stored);
    const arms = new Map(report.arms.map((a) => [a.arm, a]));
    const inCandidate = sessions.filter(
      (id) => armOf(sessionSubject(id), { percent: 50, salt: SALT }) === 'candidate',
    );
    expect(arms.get('candidate')?.people ?? 0).toBe(inCandidate.length);
    expect(arms.get('live')?.people ?? 0).toBe(sessions.length - inCandidate.length);
    for (const arm of arms.values()) {
      expect(arm.clicks).toBe(arm.people);
      expect(arm.ctr).toBeCloseTo(0.25, 10);
      expect(arm.clicksByPosition).toEqual([0, arm.people]);
    }
  });
});
