import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../../train/cli/main.ts';
import { describeWithData, REPO_ROOT, sharedData } from '../../support/data.ts';

/** Run the CLI in-process and capture what it prints. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void out.push(args.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void err.push(args.join(' ')));
  const code = await runCli(argv);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

afterEach(() => vi.restoreAllMocks());

describe('reelrank ingest', () => {
  it('--json on the embedded default prints one JSON object with the counts', async () => {
    const { code, out } = await cli(['ingest', '--json']);
    expect(code).toBe(0);
    const summary = JSON.parse(out);
    expect(summary).toMatchObject({
      ratings: 100_836,
      users: 610,
      movies: 9_742,
      format: 'ml-latest',
      skippedRows: 0,
      name: 'ml-latest-small',
      ratingScale: { min: 0.5, max: 5, step: 0.5 },
    });
    expect(summary.sparsity).toBeCloseTo(1 - 100_836 / (610 * 9_742), 12);
  });

  it('prints a human summary by default', async () => {
    const { code, out } = await cli(['ingest']);
    expect(code).toBe(0);
    expect(out).toContain('100,836 ratings by 610 users of 9,742 movies (9,724 rated)');
    expect(out).toMatch(/rating scale 0\.5\.\.5 step 0\.5, mean 3\.50\d, sparsity 98\.30%/);
    expect(out).toContain('skipped rows: 0');
  });

  it('--help names every option', async () => {
    const { code, out } = await cli(['ingest', '--help']);
    expect(code).toBe(0);
    for (const option of ['--data', '--tmdb', '--posters', '--strict', '--json'])
      expect(out).toContain(option);
  });

  it('a missing folder is one line and exit code 1', async () => {
    const { code, err } = await cli(['ingest', '--data', join(REPO_ROOT, 'no-such-folder')]);
    expect(code).toBe(1);
    expect(err.split('\n')).toHaveLength(1);
    expect(err).toMatch(/^reelrank: data folder .*no-such-folder does not exist: expected/);
  });

  it('works through the real bin (node bin/reelrank.mjs ingest --json)', () => {
    const out = execFileSync(process.execPath, [join(REPO_ROOT, 'bin/reelrank.mjs'), 'ingest', '--json'], {
      cwd: '/', // the embedded data is found relative to the module, not the working directory
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toMatchObject({
      ratings: 100_836,
      users: 610,
      movies: 9_742,
      format: 'ml-latest',
    });
  });
});

describeWithData(
  ['ml-100k', 'ml-100k-posters', 'tmdb-5000', 'ml-1m'],
  'reelrank ingest --json on ../shared/data',
  () => {
    it('ml-100k with posters', async () => {
      const { out } = await cli([
        'ingest',
        '--data',
        sharedData('ml-100k'),
        '--posters',
        sharedData('ml-100k-posters'),
        '--json',
      ]);
      expect(JSON.parse(out)).toMatchObject({
        ratings: 100_000,
        users: 943,
        movies: 1_682,
        format: 'ml-100k',
        postersAttached: 1_663,
        officialSplits: { u1: { train: 80_000, test: 20_000 } },
      });
    });

    it('tmdb-5000 (synthetic ratings) and ml-1m (no ratings)', async () => {
      const tmdb = JSON.parse((await cli(['ingest', '--data', sharedData('tmdb-5000'), '--json'])).out);
      expect(tmdb).toMatchObject({ movies: 4_803, users: 500, format: 'tmdb-5000', syntheticRatings: true });
      vi.restoreAllMocks();
      const ml1m = JSON.parse((await cli(['ingest', '--data', sharedData('ml-1m'), '--json'])).out);
      expect(ml1m).toMatchObject({ ratings: 0, users: 6_040, movies: 3_883, format: 'ml-1m' });
      expect(ml1m.notes[0]).toMatch(/ratings\.dat is absent/);
    });

    it('ml-latest-small joined to tmdb-5000', async () => {
      const { out } = await cli([
        'ingest',
        '--data',
        sharedData('ml-latest-small'),
        '--tmdb',
        sharedData('tmdb-5000'),
        '--json',
      ]);
      expect(JSON.parse(out)).toMatchObject({ ratings: 100_836, tmdbJoined: 3_537 });
    });
  },
);
