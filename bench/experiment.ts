/**
 * The canary experiment's statistics, checked against a known truth.
 *   npm run bench -- experiment [--people 20000] [--seeds 200]
 * Writes bench/results/experiment.json.
 *
 * Simulated people (train/experiment/simulate.ts) are split 90/10 by the edge's salted hash; each
 * sees 1–6 lists of 10 movies and clicks with a known probability (per-person propensity, position
 * discount, arm multiplier). Their events are written as the Worker's queue consumer writes them
 * (gzip NDJSON under events/dt=.../hh=.../) into a file:// store, beside a pointer naming the live
 * version and the canary, and `reelrank experiment --json` is run on them through the real CLI:
 *   - power: the canary truly better (click probability × 1.10): it must be found better at p < 0.05;
 *   - A/A: the same version in both arms, 200 seeds through the same analysis: a significant
 *     difference in at most 5 % of them (the test's nominal false-positive rate).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodeJson } from '../shared/artifacts/codecs.ts';
import { POINTER_KEY } from '../shared/artifacts/spec.ts';
import { runCli } from '../train/cli/main.ts';
import { analyzeExperiment } from '../train/experiment/analyze.ts';
import { simulateExperiment } from '../train/experiment/simulate.ts';
import { FsStore } from '../train/store/fs.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const resultsFile = join(repoRoot, 'bench/results/experiment.json');

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes a whole number >= 1`);
  return value;
}

const people = flag('people', 20_000);
const seeds = flag('seeds', 200);
const percent = 10;
const lift = 1.1;
const LIVE = '2026-12-01T03-00-00Z-aaaaaaaa';
const CANARY = '2026-12-02T03-00-00Z-bbbbbbbb';
const startSeconds = Math.floor(Date.parse('2026-12-02T04:00:00Z') / 1000);
const load = [loadavg()[0]];

// 1. Power, through the CLI on stored events.
const root = mkdtempSync(join(tmpdir(), 'reelrank-experiment-'));
const started = performance.now();
const events = simulateExperiment({
  seed: 1,
  people,
  percent,
  liveVersion: LIVE,
  candidateVersion: CANARY,
  candidateLift: lift,
  startSeconds,
});
const store = new FsStore(join(root, 'store'));
await store.put(
  POINTER_KEY,
  encodeJson({
    version: LIVE,
    manifestSha256: 'a'.repeat(64),
    publishedAt: '2026-12-01T03:00:00Z',
    previous: null,
    canary: {
      version: CANARY,
      manifestSha256: 'b'.repeat(64),
      percent,
      salt: 'sim-1',
      startedAt: '2026-12-02T04:00:00Z',
    },
  }),
);
// One object per 5,000 events, as consumer batches, keyed by hour like the consumer's layout.
const eventsDir = join(root, 'store', 'events');
for (let i = 0, batch = 0; i < events.length; i += 5000, batch++) {
  const chunk = events
    .slice(i, i + 5000)
    .map((e, j) => ({ eventId: `sim-${i + j}`, receivedAt: e.timestamp * 1000, ...e }));
  const t = new Date(chunk[0]!.timestamp * 1000).toISOString();
  const dir = join(eventsDir, `dt=${t.slice(0, 10)}`, `hh=${t.slice(11, 13)}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${String(chunk[0]!.receivedAt).padStart(13, '0')}-b${batch}.ndjson.gz`),
    gzipSync(chunk.map((e) => JSON.stringify(e)).join('\n')),
  );
}
const out: string[] = [];
const log = console.log;
console.log = (...a: unknown[]) => void out.push(a.join(' '));
const code = await runCli([
  'experiment',
  '--store',
  `file://${join(root, 'store')}`,
  '--events',
  `file://${eventsDir}`,
  '--window',
  '48',
  '--json',
]);
console.log = log;
const cliReport = JSON.parse(out.join('\n'));
const powerSeconds = (performance.now() - started) / 1000;
rmSync(root, { recursive: true, force: true });
console.log(
  `power (B ×${lift} click probability, ${people} people, ${percent}% canary): ${cliReport.verdict}`,
);

// 2. A/A: same version in both arms, many seeds, the same analysis function the CLI runs.
const aaStarted = performance.now();
let falsePositives = 0;
const pValues: number[] = [];
for (let seed = 1; seed <= seeds; seed++) {
  const aa = simulateExperiment({
    seed: 10_000 + seed,
    people,
    percent,
    liveVersion: LIVE,
    candidateVersion: LIVE,
    candidateLift: 1,
    startSeconds,
  });
  const report = analyzeExperiment(aa, { windowSeconds: 48 * 3600 });
  pValues.push(report.comparison?.pValue ?? 1);
  if (report.comparison?.significant) falsePositives++;
  if (seed % 20 === 0) console.error(`A/A ${seed}/${seeds}: ${falsePositives} significant so far`);
}
const aaSeconds = (performance.now() - aaStarted) / 1000;
load.push(loadavg()[0]);
const comparison = cliReport.comparison;
const result = {
  bench: 'experiment',
  machine: { cpus: cpus().length, loadavg1: load },
  settings: { people, percent, lift, seeds, windowHours: 48 },
  power: {
    exitCode: code,
    events: events.length,
    arms: cliReport.arms,
    comparison,
    verdict: cliReport.verdict,
    seconds: Number(powerSeconds.toFixed(1)),
  },
  aa: {
    seeds,
    significant: falsePositives,
    rate: falsePositives / seeds,
    // Under a valid test p-values are uniform: about 10 % of them below 0.1, 50 % below 0.5.
    pBelow: {
      '0.05': pValues.filter((p) => p < 0.05).length / seeds,
      '0.1': pValues.filter((p) => p < 0.1).length / seeds,
      '0.5': pValues.filter((p) => p < 0.5).length / seeds,
    },
    seconds: Number(aaSeconds.toFixed(1)),
  },
  checks: {
    'reelrank experiment exits 0 on stored events': code === 0,
    'B truly better is found better at p < 0.05':
      comparison !== null && comparison.significant && comparison.difference > 0,
    'A/A: significant in at most 5% of seeds': falsePositives / seeds <= 0.05,
  },
};
mkdirSync(dirname(resultsFile), { recursive: true });
writeFileSync(resultsFile, `${JSON.stringify(result, null, 2)}\n`);
console.log(`A/A: ${falsePositives}/${seeds} significant (${((100 * falsePositives) / seeds).toFixed(1)}%)`);
console.log(JSON.stringify(result.checks, null, 2));
console.log(`wrote ${resultsFile}`);
