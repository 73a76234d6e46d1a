import { describe, expect, it } from 'vitest';
import { forEachLimit } from '../../../train/publish/limit.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('forEachLimit', () => {
  it('runs every item with at most `limit` in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachLimit([5, 1, 4, 2, 3, 1, 2], 3, async (ms, index) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await tick(ms);
      seen.push(index);
      inFlight--;
    });
    expect(peak).toBe(3);
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('starts nothing after the first failure, awaits the tasks in flight, rethrows the first error', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = forEachLimit([0, 1, 2, 3, 4, 5], 2, async (_, index) => {
      started.push(index);
      if (index === 1) throw new Error('upload 1 failed');
      await tick(20);
      finished.push(index);
    });
    await expect(run).rejects.toThrow('upload 1 failed');
    // Task 0 was in flight when 1 failed: it finished before forEachLimit returned; 2.. never started.
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([0]);
  });
});
