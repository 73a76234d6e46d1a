/**
 * `npm run bench -- train-speed [--ratings 20000000] [--users 138000] [--items 27000] [--epochs 3]
 * [--skip-large]`
 *
 * 1. Kernel throughput: biased-MF SGD, 100 factors, one core, on the real ml-latest-small ratings
 *    repeated to 2M rows: rating updates per second (median of 5 epochs) of the SIMD wasm kernel
 *    and of the plain typed-array kernel, measured in the same run (their ratio).
 * 2. Scale: a synthetic 20M-rating dataset (train/data/synthetic.ts generator) trained to
 *    completion with biased MF (SIMD SGD, 100 factors), in a child process so the peak resident
 *    memory (VmHWM) belongs to that run alone.
 *
 * Writes bench/results/train-speed.json. Target (issue 6): >= 5M updates/s on one core.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng, shuffleInPlace } from '../shared/random.ts';
import { loadDataset } from '../train/data/index.ts';
import { generateSyntheticWorld, syntheticWorldDataset } from '../train/data/synthetic.ts';
import { permuteRows, sgdBiasedMfEpoch } from '../train/models/kernels.ts';
import { BiasedMf } from '../train/models/mf.ts';
import { createSgdWasm } from '../train/models/wasm/sgd.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const thisFile = fileURLToPath(import.meta.url);

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name} must be a positive number, got ${process.argv[i + 1]}`);
  return value;
}

function peakRssBytes(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};

/** Part 2, run in a child: generate, train, report JSON on stdout. */
async function scaleChild(): Promise<void> {
  const ratings = arg('ratings', 20_000_000);
  const users = arg('users', 138_000);
  const items = arg('items', 27_000);
  const epochs = arg('epochs', 3);
  const started = performance.now();
  const world = generateSyntheticWorld({ users, movies: items, ratings, seed: 1 });
  const dataset = syntheticWorldDataset(world);
  const generateSeconds = (performance.now() - started) / 1000;
  const all = new Uint32Array(dataset.ratings.length);
  for (let j = 0; j < all.length; j++) all[j] = j;
  const model = new BiasedMf({ factors: 100, epochs });
  const epochSeconds: number[] = [];
  const fitStarted = performance.now();
  const fitCpu = process.cpuUsage();
  await model.fit({ dataset, train: all, seed: 0, onEpoch: (e) => epochSeconds.push(e.seconds) });
  const fitSeconds = (performance.now() - fitStarted) / 1000;
  process.stdout.write(
    `${JSON.stringify({
      ratings: dataset.ratings.length,
      users: dataset.userIds.length,
      items: dataset.movies.length,
      epochs,
      factors: 100,
      generateSeconds,
      fitSeconds,
      medianEpochSeconds: median(epochSeconds),
      updatesPerSecondInFit: dataset.ratings.length / median(epochSeconds),
      fitCpuSeconds: (process.cpuUsage(fitCpu).user + process.cpuUsage(fitCpu).system) / 1e6,
      peakRssBytes: peakRssBytes(),
    })}\n`,
  );
}

async function main(): Promise<void> {
  const dataset = await loadDataset();
  const rows = 2_000_000;
  const k = 100;
  const users = dataset.userIds.length;
  const items = dataset.movies.length;
  const source = dataset.ratings;
  const user = new Uint32Array(rows);
  const item = new Uint32Array(rows);
  const rating = new Float32Array(rows);
  for (let j = 0; j < rows; j++) {
    const s = j % source.length;
    user[j] = source.userIndex[s]!;
    item[j] = source.itemIndex[s]!;
    rating[j] = source.rating[s]!;
  }
  const order = Uint32Array.from({ length: rows }, (_, j) => j);
  shuffleInPlace(order, createRng(1));
  const rng = createRng(2);
  const wasm = createSgdWasm(rows, users, items, k);
  permuteRows(order, user, item, rating, wasm.user, wasm.item, wasm.rating);
  for (let j = 0; j < wasm.userFactors.length; j++) wasm.userFactors[j] = rng.normal() * 0.05;
  for (let j = 0; j < wasm.itemFactors.length; j++) wasm.itemFactors[j] = rng.normal() * 0.05;
  const js = {
    factors: k,
    mean: 3.5,
    userFactors: wasm.userFactors.slice(),
    itemFactors: wasm.itemFactors.slice(),
    userBias: new Float32Array(users),
    itemBias: new Float32Array(items),
  };
  const jsUser = wasm.user.slice();
  const jsItem = wasm.item.slice();
  const jsRating = wasm.rating.slice();
  const wasmRates: number[] = [];
  const jsRates: number[] = [];
  // CPU time of this process as well as wall time: on a shared, loaded machine the wall clock
  // counts time spent waiting for a core; CPU time is the one-core cost.
  const wasmCpuRates: number[] = [];
  const jsCpuRates: number[] = [];
  const cpuSeconds = (start: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1e6;
  };
  for (let e = 0; e < 5; e++) {
    let t = performance.now();
    let c = process.cpuUsage();
    wasm.epoch(rows, 3.5, 0.005, 0.02, 0.005, 0.005);
    wasmRates.push(rows / ((performance.now() - t) / 1000));
    wasmCpuRates.push(rows / cpuSeconds(c));
    t = performance.now();
    c = process.cpuUsage();
    sgdBiasedMfEpoch(jsUser, jsItem, jsRating, js, 0.005, 0.02, 0.005, 0.005);
    jsRates.push(rows / ((performance.now() - t) / 1000));
    jsCpuRates.push(rows / cpuSeconds(c));
  }
  const kernel = {
    rows,
    factors: k,
    simdUpdatesPerSecond: median(wasmRates),
    typedArrayUpdatesPerSecond: median(jsRates),
    ratio: median(wasmRates) / median(jsRates),
    simdUpdatesPerCpuSecond: median(wasmCpuRates),
    typedArrayUpdatesPerCpuSecond: median(jsCpuRates),
    simdAll: wasmRates,
    typedArrayAll: jsRates,
  };
  console.log(
    `MF SGD, ${k} factors, one core: SIMD ${(kernel.simdUpdatesPerSecond / 1e6).toFixed(2)}M updates/s (${(kernel.simdUpdatesPerCpuSecond / 1e6).toFixed(2)}M per CPU-second), typed-array ${(kernel.typedArrayUpdatesPerSecond / 1e6).toFixed(2)}M/s (${(kernel.typedArrayUpdatesPerCpuSecond / 1e6).toFixed(2)}M per CPU-second), ratio x${kernel.ratio.toFixed(2)}; load average ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores`,
  );
  let scale: unknown = null;
  if (!process.argv.includes('--skip-large')) {
    const passArgs = ['ratings', 'users', 'items', 'epochs'].flatMap((n) => {
      const i = process.argv.indexOf(`--${n}`);
      return i < 0 ? [] : [`--${n}`, process.argv[i + 1]!];
    });
    const out = execFileSync(
      process.execPath,
      ['--max-old-space-size=16000', '--import', 'tsx', thisFile, '--child', ...passArgs],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        maxBuffer: 1 << 20,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    scale = JSON.parse(out.trim().split('\n').at(-1)!);
    console.log(`synthetic scale run: ${JSON.stringify(scale)}`);
  }
  mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
  writeFileSync(
    join(repoRoot, 'bench/results/train-speed.json'),
    JSON.stringify(
      { generatedAt: new Date().toISOString(), loadAverage: loadavg(), cpus: cpus().length, kernel, scale },
      null,
      2,
    ),
  );
}

if (process.argv.includes('--child')) await scaleChild();
else await main();
