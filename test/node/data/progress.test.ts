import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgress } from '../../../train/cli/progress.ts';

afterEach(() => vi.restoreAllMocks());

describe('createProgress', () => {
  it('draws nothing when output is not a terminal (tests, pipes, CI) or when quiet', () => {
    const writes: unknown[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
      writes.push(chunk);
      return true;
    });
    const bars = [createProgress('ratings.csv', { unit: 'bytes' }), createProgress('x', { quiet: true })];
    for (const bar of bars) {
      bar.update(10, 100);
      bar.update(100);
      bar.stop();
      bar.stop();
    }
    expect(process.stdout.isTTY && process.stderr.isTTY).toBeFalsy();
    expect(writes).toEqual([]);
  });
});
