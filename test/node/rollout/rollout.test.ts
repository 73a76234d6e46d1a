import { describe, expect, it } from 'vitest';
import {
  armOf,
  makeRecommendationId,
  parseRecommendationId,
  ROLLOUT_BUCKETS,
  rolloutBucket,
  sessionSubject,
  stableHash32,
  userSubject,
} from '../../../shared/rollout.ts';

describe('stable rollout assignment', () => {
  it('hashes deterministically (FNV-1a + murmur finaliser)', () => {
    expect(stableHash32('a')).not.toBe(stableHash32('b'));
    // Pinned values: the assignment must not change between releases, or people switch arms.
    expect(stableHash32('salt:user:1')).toBe(1316190673);
    expect(stableHash32('')).toBe(2872998923);
    expect(stableHash32('abc')).toBe(482950588);
    expect(rolloutBucket('user:1', 's')).toBeGreaterThanOrEqual(0);
    expect(rolloutBucket('user:1', 's')).toBeLessThan(ROLLOUT_BUCKETS);
  });

  it('puts 10 % of 10,000 sequential session ids in the candidate arm (±1.5 points), stable per id', () => {
    const canary = { percent: 10, salt: '5f1c2a9b0d3e4f61' };
    let candidate = 0;
    for (let i = 0; i < 10_000; i++) {
      const subject = sessionSubject(`s-${i}`);
      const arm = armOf(subject, canary);
      if (arm === 'candidate') candidate++;
      expect(armOf(subject, canary)).toBe(arm);
    }
    expect(Math.abs(candidate / 100 - 10)).toBeLessThanOrEqual(1.5);
  });

  it('sends requests that name nobody, and everyone without a canary, to the live arm', () => {
    expect(armOf(null, { percent: 99, salt: 'x' })).toBe('live');
    expect(armOf(userSubject(7), null)).toBe('live');
  });

  it('reshuffles with a new salt: different people in the candidate arm', () => {
    const inArm = (salt: string) =>
      new Set(
        Array.from({ length: 2000 }, (_, i) => userSubject(i)).filter(
          (s) => armOf(s, { percent: 20, salt }) === 'candidate',
        ),
      );
    const a = inArm('one');
    const b = inArm('two');
    const overlap = [...a].filter((s) => b.has(s)).length;
    // Independent 20 % draws overlap on ~20 % of each arm; the same salt would overlap 100 %.
    expect(overlap / a.size).toBeLessThan(0.35);
  });

  it('round-trips recommendation ids and rejects foreign ones', () => {
    const id = makeRecommendationId({
      version: '2026-12-02T07-00-00Z-ab12cd34',
      arm: 'candidate',
      issuedAt: 1_764_659_000,
      nonce: 'AbC_-123',
    });
    expect(parseRecommendationId(id)).toEqual({
      version: '2026-12-02T07-00-00Z-ab12cd34',
      arm: 'candidate',
      issuedAt: 1_764_659_000,
      nonce: 'AbC_-123',
    });
    for (const bad of ['', 'x', 'a:b:c:d', '../x:l:1:abcd', 'v:l:1:ab', 'v:q:1:abcd', 'v~l~1~abcd']) {
      expect(parseRecommendationId(bad), bad).toBeNull();
    }
  });
});
