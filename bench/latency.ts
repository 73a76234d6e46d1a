/**
 * `npm run bench -- latency [--requests 2000] [--warmup 200] [--movies 100000]`
 *
 * Serving latency of the edge Worker in workerd (Miniflare, the runtime wrangler dev uses) on this
 * machine. Builds two real versions with the artifact writer: ml-latest-small (biased MF fitted
 * here) and a synthetic 100k-movie catalog (64 factors, fitted on a generated world), bundles the
 * Worker (edge/bench-worker.ts = edge/index.ts + /bench/* routes) with esbuild, seeds R2 and times
 * requests from Node (round trip through dispatchFetch, so the numbers include the HTTP hop).
 * Reports p50/p90/p99 per endpoint after warm-up, cold start (pointer to first answer), the
 * workerd process' resident memory before and after loading the 100k catalog, and, in the same run
 * and interleaved request by request, the straightforward TF.js matMul + topk baseline against the
 * serving retrieval kernel. Writes bench/results/latency.json.
 *
 * Targets (issue 5): recommendations p99 <= 5 ms (ml-latest-small) and <= 15 ms (100k, and >= 3x
 * faster than the baseline); similar p99 <= 2 ms; fold-in of 20 ratings p99 <= 5 ms; cold start
 * <= 300 ms (ml-latest-small); memory of the 100k catalog < 128 MB.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { createRng } from '../shared/random.ts';
import {
  type FixtureVersion,
  fitBiasedMf,
  POINTER_KEY,
  writeFixtureVersion,
} from '../test/node/kernels/fixture-version.ts';
import { loadDataset } from '../train/data/index.ts';
import { generateSyntheticWorld, syntheticWorldDataset } from '../train/data/synthetic.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name} must be a positive number, got ${JSON.stringify(process.argv[i + 1])}`);
  return value;
}

const REQUESTS = arg('requests', 2000);
const WARMUP = arg('warmup', 200);
const BIG_MOVIES = arg('movies', 100_000);

interface Stats {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    n: s.length,
    p50: r(q(0.5)),
    p90: r(q(0.9)),
    p99: r(q(0.99)),
    max: r(s[s.length - 1]!),
    mean: r(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

/** Resident memory (bytes) of the workerd processes started by this Node process. */
function workerdRss(): number {
  let total = 0;
  const children = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], {
    encoding: 'utf8',
  });
  for (const line of children.trim().split('\n')) {
    const [pid, comm] = line.trim().split(/\s+/);
    if (!pid || !comm?.includes('workerd')) continue;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  }
  return total;
}

async function bundle(outDir: string): Promise<string> {
  const outfile = join(outDir, 'bench-worker.mjs');
  await build({
    entryPoints: [join(repoRoot, 'edge/bench-worker.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    outfile,
    external: ['node:*'],
    logLevel: 'error',
  });
  return outfile;
}

async function startWorker(script: string, version: FixtureVersion): Promise<Miniflare> {
  const mf = new Miniflare({
    modules: true,
    scriptPath: script,
    modulesRoot: dirname(script),
    compatibilityDate: '2026-04-26',
    compatibilityFlags: ['nodejs_compat'],
    r2Buckets: ['ARTIFACTS'],
    bindings: { ARTIFACT_PREFIX: '', POINTER_CHECK_SECONDS: '30' },
  });
  await mf.ready;
  // Miniflare's R2 type is the Workers one wrapped for Node; put() is all we need here.
  const bucket = (await mf.getR2Bucket('ARTIFACTS')) as unknown as {
    put(key: string, value: Uint8Array): Promise<unknown>;
  };
  for (const [key, bytes] of version.files) await bucket.put(key, bytes);
  await bucket.put(POINTER_KEY, version.pointer);
  return mf;
}

async function timed(mf: Miniflare, path: string, init?: RequestInit): Promise<number> {
  const started = performance.now();
  const response = await mf.dispatchFetch(`http://bench.local${path}`, init as never);
  await response.arrayBuffer();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
  return ms;
}

async function run(mf: Miniflare, makePath: (n: number) => [string, RequestInit?]): Promise<Stats> {
  for (let n = 0; n < WARMUP; n++) await timed(mf, ...makePath(n));
  const samples: number[] = [];
  for (let n = 0; n < REQUESTS; n++) samples.push(await timed(mf, ...makePath(WARMUP + n)));
  return stats(samples);
}

/** Two endpoints interleaved request by request (same load, same moment): stats of each. */
async function interleaved(
  mf: Miniflare,
  a: (n: number) => string,
  b: (n: number) => string,
): Promise<[Stats, Stats]> {
  for (let n = 0; n < WARMUP; n++) {
    await timed(mf, a(n));
    await timed(mf, b(n));
  }
  const sa: number[] = [];
  const sb: number[] = [];
  for (let n = 0; n < REQUESTS; n++) {
    sa.push(await timed(mf, a(WARMUP + n)));
    sb.push(await timed(mf, b(WARMUP + n)));
  }
  return [stats(sa), stats(sb)];
}

async function coldStarts(
  mf: Miniflare,
  path: string,
  runs = 5,
): Promise<{ firstAnswerMs: Stats; loadMs: Stats }> {
  const first: number[] = [];
  const load: number[] = [];
  for (let n = 0; n < runs; n++) {
    await timed(mf, '/bench/reset');
    first.push(await timed(mf, path));
    const health = (await (await mf.dispatchFetch('http://bench.local/v1/health')).json()) as {
      loadMs: number;
    };
    load.push(health.loadMs);
  }
  return { firstAnswerMs: stats(first), loadMs: stats(load) };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'reelrank-latency-'));
  const rng = createRng(5);
  try {
    let t = performance.now();
    const small = await loadDataset();
    const smallVersion = await writeFixtureVersion(small, fitBiasedMf(small, { factors: 32, epochs: 10 }), {
      version: 'bench-small',
    });
    const world = syntheticWorldDataset(
      generateSyntheticWorld({ movies: BIG_MOVIES, users: 2000, ratings: 200_000, seed: 7 }),
    );
    const bigVersion = await writeFixtureVersion(world, fitBiasedMf(world, { factors: 64, epochs: 3 }), {
      version: 'bench-100k',
      contentNeighbors: false,
    });
    const buildSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const script = await bundle(work);
    console.log(
      `versions built in ${buildSeconds.toFixed(1)} s, worker bundled in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );

    const popular = small.movies.map((m) => m.movieId).slice(0, 2000);
    const smallUsers = small.userIds;
    const session = () => ({
      k: 10,
      ratings: Array.from({ length: 20 }, () => ({
        movieId: popular[rng.int(popular.length)]!,
        rating: 0.5 + rng.int(10) / 2,
      })),
    });

    let mf = await startWorker(script, smallVersion);
    const smallCold = await coldStarts(mf, `/v1/users/${smallUsers[0]}/recommendations?k=10`);
    const smallResults = {
      recommendations: await run(mf, () => [
        `/v1/users/${smallUsers[rng.int(smallUsers.length)]}/recommendations?k=10`,
      ]),
      recommendationsDiverse: await run(mf, () => [
        `/v1/users/${smallUsers[rng.int(smallUsers.length)]}/recommendations?k=10&diversity=0.3`,
      ]),
      similarContentList: await run(mf, () => [
        `/v1/movies/${popular[rng.int(popular.length)]}/similar?k=10&by=content`,
      ]),
      similarCollaborativeExact: await run(mf, () => [
        `/v1/movies/${popular[rng.int(popular.length)]}/similar?k=10&by=collaborative`,
      ]),
      similarHybridBlend: await run(mf, () => [
        `/v1/movies/${popular[rng.int(popular.length)]}/similar?k=10&by=hybrid`,
      ]),
      foldIn20: await run(mf, () => [
        '/v1/recommendations',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(session()) },
      ]),
      prediction: await run(mf, () => [
        `/v1/users/${smallUsers[rng.int(smallUsers.length)]}/predictions/${popular[rng.int(popular.length)]}`,
      ]),
    };
    const [smallKernel, smallTfjs] = await interleaved(
      mf,
      (n) => `/bench/retrieve?user=${n}&k=10`,
      (n) => `/bench/tfjs?user=${n}&k=10`,
    );
    await mf.dispose();
    console.log('ml-latest-small done');

    mf = await startWorker(script, bigVersion);
    await timed(mf, '/bench/reset');
    const rssBefore = workerdRss();
    const bigCold = await coldStarts(mf, '/v1/users/1/recommendations?k=10', 3);
    const rssLoaded = workerdRss();
    const bigUsers = world.userIds;
    const bigRecs = await run(mf, () => [
      `/v1/users/${bigUsers[rng.int(bigUsers.length)]}/recommendations?k=10`,
    ]);
    const [bigKernel, bigTfjs] = await interleaved(
      mf,
      (n) => `/bench/retrieve?user=${n}&k=10`,
      (n) => `/bench/tfjs?user=${n}&k=10`,
    );
    const bigFoldIn = await run(mf, () => [
      '/v1/recommendations',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          k: 10,
          ratings: Array.from({ length: 20 }, () => ({
            movieId: world.movies[rng.int(2000)]!.movieId,
            rating: 1 + rng.int(5),
          })),
        }),
      },
    ]);
    // Peak after the TF.js baseline too (its float32 copy of the factors lives in the same isolate).
    const rssAfter = workerdRss();
    await mf.dispose();
    const versionBytes = (v: FixtureVersion) => [...v.files.values()].reduce((a, b) => a + b.length, 0);

    const mb = (x: number) => Math.round((x / 2 ** 20) * 10) / 10;
    const results = {
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
      runtime: 'workerd via miniflare (dispatchFetch round trip from Node, includes the HTTP hop)',
      requestsPerEndpoint: REQUESTS,
      warmup: WARMUP,
      mlLatestSmall: {
        movies: small.movies.length,
        users: small.userIds.length,
        factors: 32,
        versionMB: mb(versionBytes(smallVersion)),
        coldStart: smallCold,
        ...smallResults,
        retrievalKernel: smallKernel,
        retrievalTfjsBaseline: smallTfjs,
        baselineOverKernelP50: Math.round((smallTfjs.p50 / smallKernel.p50) * 100) / 100,
      },
      synthetic100k: {
        movies: world.movies.length,
        users: world.userIds.length,
        factors: 64,
        versionMB: mb(versionBytes(bigVersion)),
        coldStart: bigCold,
        recommendations: bigRecs,
        foldIn20: bigFoldIn,
        retrievalKernel: bigKernel,
        retrievalTfjsBaseline: bigTfjs,
        baselineOverKernelP50: Math.round((bigTfjs.p50 / bigKernel.p50) * 100) / 100,
        baselineOverKernelP99: Math.round((bigTfjs.p99 / bigKernel.p99) * 100) / 100,
        baselineOverRecommendationsP50: Math.round((bigTfjs.p50 / bigRecs.p50) * 100) / 100,
        workerdRssMB: {
          beforeLoad: mb(rssBefore),
          afterLoad: mb(rssLoaded),
          afterBaseline: mb(rssAfter),
          loadDelta: mb(rssLoaded - rssBefore),
        },
      },
    };
    const checks = {
      'recommendations p99 <= 5 ms (ml-latest-small)': results.mlLatestSmall.recommendations.p99 <= 5,
      'recommendations p99 <= 15 ms (100k)': bigRecs.p99 <= 15,
      'retrieval >= 3x faster than TF.js matMul+topk (100k, p50)':
        results.synthetic100k.baselineOverKernelP50 >= 3,
      'similar p99 <= 2 ms (precomputed lists)': results.mlLatestSmall.similarContentList.p99 <= 2,
      'fold-in 20 ratings p99 <= 5 ms (ml-latest-small)': results.mlLatestSmall.foldIn20.p99 <= 5,
      'cold start <= 300 ms (ml-latest-small, median pointer to first answer)':
        smallCold.firstAnswerMs.p50 <= 300,
      'memory of the 100k catalog < 128 MB (workerd RSS delta on load)':
        rssLoaded - rssBefore < 128 * 2 ** 20,
    };
    const out = { ...results, checks };
    mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
    writeFileSync(join(repoRoot, 'bench/results/latency.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log(JSON.stringify(out, null, 2));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
