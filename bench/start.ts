/**
 * `npm run bench -- start [--runs 3] [--baseline DIR]`
 *
 * How long `npm start` takes to a written version on the embedded ml-latest-small: the command
 * `reelrank start --no-serve --retrain` run `--runs` times, each into a fresh artifacts folder
 * and a fresh local R2 state (outside the repo). Per run: seconds to the version (the pipeline's
 * own "version ... written in X s"), wall seconds of the whole command (install excluded), peak
 * RSS of the process tree (from /usr/bin/time when present), the learned stage's seconds.
 *
 * `--baseline DIR`: a checkout of an earlier commit with its own node_modules (for example
 * `git worktree add /tmp/base 127ddfa && (cd /tmp/base && npm ci)`), run alternately with this one
 * in the same session, so the two medians and their ratio come from the same machine state.
 * Writes bench/results/start.json with `checks` (median to a version ≤ 22.6 s, the figure issue 15
 * measured before the learned stage existed; and ≤ the baseline's median when one is given).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberArg } from './support/args.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = numberArg('runs', 3);
const baselineAt = process.argv.indexOf('--baseline');
const baseline = baselineAt >= 0 ? resolve(process.argv[baselineAt + 1] ?? '') : null;
if (baseline && !existsSync(join(baseline, 'bin/reelrank.mjs')))
  throw new Error(
    `--baseline ${baseline}: no bin/reelrank.mjs there (a checkout of reelrank with node_modules)`,
  );
/** The figure issue 15 measured for `npm start` to a written version before the learned stage. */
const ISSUE_SECONDS = 22.6;
const timeBinary = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

interface Run {
  toVersion: number;
  wall: number;
  peakRssMb: number | null;
  learnedSeconds: number | null;
  loadavg: number;
}

function runOnce(root: string): Run {
  const scratch = mkdtempSync(join(tmpdir(), 'reelrank-start-bench-'));
  try {
    const command = [
      join(root, 'bin/reelrank.mjs'),
      'start',
      '--no-serve',
      '--retrain',
      '--out',
      join(scratch, 'artifacts'),
      '--persist-to',
      join(scratch, 'state'),
    ];
    const started = performance.now();
    const load = loadavg()[0]!;
    // Under /usr/bin/time when present, for the process tree's peak RSS.
    const [program, args] = timeBinary
      ? [timeBinary, ['-f', 'peak-rss-kb %M', process.execPath, ...command]]
      : [process.execPath, command];
    const result = spawnSync(program, args, {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, REELRANK_READ_KEY: 'bench-read', REELRANK_WRITE_KEY: 'bench-write' },
    });
    const wall = (performance.now() - started) / 1000;
    const output = `${result.stdout}\n${result.stderr}`;
    if (result.status !== 0)
      throw new Error(`${root}: reelrank start failed (${result.status}):\n${output.slice(-2000)}`);
    const written = /version \S+ written to .* in ([\d.]+) s/.exec(output);
    if (!written) throw new Error(`${root}: no "version ... written in X s" line in the output`);
    const rss = /peak-rss-kb (\d+)/.exec(output);
    const learned = /learned ranking stage \([^)]*\) in ([\d.]+) s/.exec(output);
    return {
      toVersion: Number(written[1]),
      wall,
      peakRssMb: rss ? Math.round(Number(rss[1]) / 1024) : null,
      learnedSeconds: learned ? Number(learned[1]) : null,
      loadavg: load,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const current: Run[] = [];
const earlier: Run[] = [];
for (let r = 0; r < RUNS; r++) {
  if (baseline) {
    earlier.push(runOnce(baseline));
    console.log(`baseline run ${r + 1}/${RUNS}: ${earlier.at(-1)!.toVersion} s to a version`);
  }
  current.push(runOnce(repoRoot));
  console.log(
    `run ${r + 1}/${RUNS}: ${current.at(-1)!.toVersion} s to a version (learned stage ${current.at(-1)!.learnedSeconds} s)`,
  );
}
const summary = (runs: Run[]) => ({
  medianToVersion: median(runs.map((r) => r.toVersion)),
  medianWall: Number(median(runs.map((r) => r.wall)).toFixed(1)),
  peakRssMb: runs.every((r) => r.peakRssMb !== null) ? Math.max(...runs.map((r) => r.peakRssMb!)) : null,
  runs,
});
const now = summary(current);
const before = baseline ? summary(earlier) : null;
const checks: Record<string, boolean> = {
  [`medianToVersionAtMost${ISSUE_SECONDS}s`]: now.medianToVersion <= ISSUE_SECONDS,
};
if (before) checks.medianToVersionAtMostBaseline = now.medianToVersion <= before.medianToVersion;
const report = {
  benchmark: 'start',
  command: 'reelrank start --no-serve --retrain (the embedded ml-latest-small)',
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown' },
  current: now,
  ...(before
    ? {
        baseline: { dir: baseline, ...before },
        ratioToVersion: Number((now.medianToVersion / before.medianToVersion).toFixed(3)),
      }
    : {}),
  checks,
};
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/start.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(
  `bench/results/start.json written: median ${now.medianToVersion} s to a version${before ? ` (baseline ${before.medianToVersion} s, ratio ${report.ratioToVersion})` : ''}; checks ${JSON.stringify(checks)}`,
);
