/**
 * `npm run bench -- ingest [--ratings 20000000] [--movies 50000] [--users 200000] [--runs 3]
 * [--no-baseline]`
 *
 * Generates a synthetic MovieLens-format folder (ratings.csv + movies.csv) in a temp dir outside
 * the repository, then loads it with `loadDataset` in fresh child processes (so the generator's
 * memory does not pollute the measurement) and reports median throughput and peak resident bytes
 * per rating (peak RSS minus the RSS before loading, divided by ratings). For a ratio measured in
 * the same run it also parses the file once with a plain readline + split + Number parser into
 * the same typed arrays. Writes bench/results/ingest.json; deletes the temp folder.
 *
 * Targets (issue 2): >= 2M ratings/s, <= 24 bytes resident per rating.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../train/data/index.ts';
import { generateSyntheticWorld } from '../train/data/synthetic.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const thisFile = fileURLToPath(import.meta.url);

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`--${name} must be a positive number, got ${JSON.stringify(process.argv[i + 1])}`);
  }
  return value;
}

/** Resident and peak-resident memory in bytes (Linux /proc; elsewhere maxRSS from getrusage). */
function memory(): { rss: number; peakRss: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (key: string) =>
      Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
  } catch {
    return { rss: process.memoryUsage().rss, peakRss: process.resourceUsage().maxRSS * 1024 };
  }
}

interface ChildResult {
  kind: 'loadDataset' | 'naive';
  ratings: number;
  seconds: number;
  ratingsPerSecond: number;
  /** CPU time of the load (user + system): robust to other processes competing for the cores. */
  cpuSeconds: number;
  ratingsPerCpuSecond: number;
  rssBefore: number;
  peakRss: number;
  bytesPerRating: number;
}

/** Child mode: load the folder once and print one JSON line with time and memory. */
async function child(kind: ChildResult['kind'], dir: string): Promise<void> {
  const before = memory();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let ratings: number;
  if (kind === 'loadDataset') {
    const dataset = await loadDataset(dir);
    ratings = dataset.ratings.length;
  } else {
    ratings = await naiveParse(join(dir, 'ratings.csv'));
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const after = memory();
  const result: ChildResult = {
    kind,
    ratings,
    seconds,
    ratingsPerSecond: ratings / seconds,
    cpuSeconds,
    ratingsPerCpuSecond: ratings / cpuSeconds,
    rssBefore: before.rss,
    peakRss: after.peakRss,
    bytesPerRating: (after.peakRss - before.rss) / ratings,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** The obvious parser: readline, split(','), Number(), into growable typed arrays. */
async function naiveParse(path: string): Promise<number> {
  let capacity = 1 << 20;
  let users = new Uint32Array(capacity);
  let movies = new Uint32Array(capacity);
  let values = new Float32Array(capacity);
  let times = new Uint32Array(capacity);
  let n = 0;
  let first = true;
  for await (const line of createInterface({
    input: createReadStream(path),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    if (first) {
      first = false;
      continue;
    }
    const fields = line.split(',');
    if (n === capacity) {
      capacity *= 2;
      const grow = <T extends Uint32Array | Float32Array>(a: T, make: (c: number) => T): T => {
        const b = make(capacity);
        b.set(a);
        return b;
      };
      users = grow(users, (c) => new Uint32Array(c));
      movies = grow(movies, (c) => new Uint32Array(c));
      values = grow(values, (c) => new Float32Array(c));
      times = grow(times, (c) => new Uint32Array(c));
    }
    users[n] = Number(fields[0]);
    movies[n] = Number(fields[1]);
    values[n] = Number(fields[2]);
    times[n] = Number(fields[3]);
    n++;
  }
  return n;
}

function runChild(kind: ChildResult['kind'], dir: string): ChildResult {
  const out = execFileSync(process.execPath, ['--import', 'tsx', thisFile, '--child', kind, dir], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const line = out.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as ChildResult;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const childIndex = process.argv.indexOf('--child');
  if (childIndex >= 0) {
    await child(process.argv[childIndex + 1] as ChildResult['kind'], process.argv[childIndex + 2]!);
    return;
  }
  const ratings = Math.round(arg('ratings', 20_000_000));
  const movies = Math.round(arg('movies', 50_000));
  const users = Math.round(arg('users', 200_000));
  const runs = Math.round(arg('runs', 3));
  const withBaseline = !process.argv.includes('--no-baseline');

  const dir = mkdtempSync(join(tmpdir(), 'reelrank-bench-ingest-'));
  if (resolve(dir).startsWith(repoRoot)) throw new Error(`temp dir ${dir} is inside the repository`);
  try {
    console.log(
      `generating ${ratings.toLocaleString('en-US')} ratings (${movies} movies, ${users} users) in ${dir}`,
    );
    let started = performance.now();
    const world = generateSyntheticWorld({ movies, users, ratings, seed: 20 });
    const written = await world.writeMovieLensCsv(dir);
    const generateSeconds = (performance.now() - started) / 1000;
    console.log(`  wrote ${(written.bytes / 1e6).toFixed(0)} MB in ${generateSeconds.toFixed(1)} s`);

    const loads: ChildResult[] = [];
    for (let r = 0; r < runs; r++) {
      const result = runChild('loadDataset', dir);
      if (result.ratings !== ratings) {
        throw new Error(`loadDataset read ${result.ratings} ratings, the generator wrote ${ratings}`);
      }
      loads.push(result);
      console.log(
        `  loadDataset run ${r + 1}: ${result.seconds.toFixed(2)} s, ${(result.ratingsPerSecond / 1e6).toFixed(2)}M ratings/s (${(result.ratingsPerCpuSecond / 1e6).toFixed(2)}M per CPU-second), ${result.bytesPerRating.toFixed(1)} B/rating peak RSS delta`,
      );
    }
    started = performance.now();
    const naive = withBaseline ? runChild('naive', dir) : null;
    if (naive) {
      console.log(
        `  readline+split baseline: ${naive.seconds.toFixed(2)} s, ${(naive.ratingsPerSecond / 1e6).toFixed(2)}M ratings/s (${(naive.ratingsPerCpuSecond / 1e6).toFixed(2)}M per CPU-second), ${naive.bytesPerRating.toFixed(1)} B/rating`,
      );
    }
    const medianRate = median(loads.map((l) => l.ratingsPerSecond));
    const medianBytes = median(loads.map((l) => l.bytesPerRating));
    const results = {
      benchmark: 'ingest',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
      config: { ratings, movies, users, runs, seed: 20 },
      generate: { seconds: generateSeconds, bytes: written.bytes },
      loadDataset: {
        runs: loads,
        medianSeconds: median(loads.map((l) => l.seconds)),
        medianRatingsPerSecond: medianRate,
        medianRatingsPerCpuSecond: median(loads.map((l) => l.ratingsPerCpuSecond)),
        medianBytesPerRating: medianBytes,
      },
      naiveBaseline: naive,
      speedupOverNaive: naive ? medianRate / naive.ratingsPerSecond : null,
      speedupOverNaivePerCpuSecond: naive
        ? median(loads.map((l) => l.ratingsPerCpuSecond)) / naive.ratingsPerCpuSecond
        : null,
      loadAverageAtEnd: loadavg(),
      targets: { ratingsPerSecond: 2_000_000, bytesPerRating: 24 },
      meetsTargets: { ratingsPerSecond: medianRate >= 2_000_000, bytesPerRating: medianBytes <= 24 },
    };
    mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
    const out = join(repoRoot, 'bench/results/ingest.json');
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(
      `median: ${(medianRate / 1e6).toFixed(2)}M ratings/s (target >= 2M), ${medianBytes.toFixed(1)} B/rating (target <= 24)` +
        (naive ? `, ${results.speedupOverNaive!.toFixed(1)}x the readline+split parser` : ''),
    );
    console.log(`wrote ${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
