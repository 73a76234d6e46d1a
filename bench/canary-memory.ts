/**
 * What a canary costs the isolate: the V8 heap of the real Worker (edge/index.ts in workerd) with
 * the live version alone and with live + canary loaded, over ml-latest-small and a synthetic
 * 100k-movie catalog, and whether the default budget (CANARY_MEMORY_MB, compared with the served
 * files of both versions) lets the canary in.
 *   npm run bench -- canary-memory
 * Writes bench/results/canary-memory.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { POINTER_KEY } from '../shared/artifacts/spec.ts';
import { DEFAULT_CANARY_MEMORY_MB, servedBytesOf } from '../shared/rollout.ts';
import { type FixtureVersion, fitBiasedMf, writeFixtureVersion } from '../test/support/fixture-version.ts';
import { bundleWorker, HARNESS_AUTH, startWorker } from '../test/support/worker-harness.ts';
import { type Dataset, loadDataset } from '../train/data/index.ts';
import { generateSyntheticWorld, syntheticWorldDataset } from '../train/data/synthetic.ts';
import { Ials } from '../train/models/ials.ts';
import { IALS_DEFAULTS } from '../train/models/registry.ts';
import { isolateHeapMB, withWebSocket } from './support/isolate.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const resultsFile = join(repoRoot, 'bench/results/canary-memory.json');

async function twoVersions(dataset: Dataset, name: string, factors: number, iterations: number) {
  const make = async (seed: number): Promise<FixtureVersion> => {
    const ials = new Ials({ ...IALS_DEFAULTS, iterations });
    await ials.fit({
      dataset,
      train: Uint32Array.from({ length: dataset.ratings.length }, (_, j) => j),
      seed,
    });
    return writeFixtureVersion(dataset, fitBiasedMf(dataset, { factors, epochs: 3, seed }), {
      version: `${name}-${seed === 1 ? 'a' : 'b'}`,
      contentNeighbors: false,
      ranking: ials.exportRankFactors(),
    });
  };
  return { a: await make(1), b: await make(2) };
}

function manifestOf(v: FixtureVersion): { files: { path: string; bytes: number }[] } {
  const key = [...v.files.keys()].find((k) => k.endsWith('/manifest.json'))!;
  return JSON.parse(new TextDecoder().decode(v.files.get(key)!));
}

async function measure(
  script: string,
  a: FixtureVersion,
  b: FixtureVersion,
  port: number,
  budgetMB: number | null,
) {
  const worker = await startWorker(script, a, {
    inspectorPort: port,
    bindings: {
      POINTER_CHECK_SECONDS: '0',
      ...(budgetMB === null ? {} : { CANARY_MEMORY_MB: String(budgetMB) }),
    },
  });
  const get = async (path: string) => {
    const r = await worker.mf.dispatchFetch(`http://bench.local${path}`, { headers: HARNESS_AUTH } as never);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  try {
    const empty = await isolateHeapMB(port);
    await get('/v1/version');
    const live = await isolateHeapMB(port);
    const bucket = (await worker.mf.getR2Bucket('ARTIFACTS')) as unknown as {
      put(key: string, value: Uint8Array | string): Promise<unknown>;
    };
    for (const [key, bytes] of b.files) if (!key.endsWith(POINTER_KEY)) await bucket.put(key, bytes);
    const pa = JSON.parse(new TextDecoder().decode(a.pointer));
    const pb = JSON.parse(new TextDecoder().decode(b.pointer));
    await bucket.put(
      POINTER_KEY,
      JSON.stringify({
        ...pa,
        canary: {
          version: pb.version,
          manifestSha256: pb.manifestSha256,
          percent: 10,
          salt: 'bench',
          startedAt: new Date().toISOString(),
        },
      }),
    );
    // Requests re-check the pointer (POINTER_CHECK_SECONDS=0) in the background: poll health.
    let health: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) {
      await get('/v1/version');
      health = (await get('/v1/health')).body;
      const canary = health.canary as { loaded?: boolean } | null;
      if (canary?.loaded || (health.refused as unknown[] | undefined)?.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const both = await isolateHeapMB(port);
    return { empty, live, both, health };
  } finally {
    await worker.mf.dispose();
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'reelrank-canary-memory-'));
  try {
    const script = await bundleWorker('edge/index.ts', work);
    const small = await loadDataset();
    const world = syntheticWorldDataset(
      generateSyntheticWorld({ movies: 100_000, users: 2000, ratings: 200_000, seed: 7 }),
    );
    const catalogs = [
      { name: 'ml-latest-small', dataset: small, factors: 32, iterations: 8 },
      { name: 'synthetic-100k', dataset: world, factors: 64, iterations: 4 },
    ];
    const rows: Record<string, unknown> = {};
    const checks: Record<string, boolean> = {};
    let port = 9460;
    for (const c of catalogs) {
      const { a, b } = await twoVersions(c.dataset, c.name, c.factors, c.iterations);
      const servedMB = (servedBytesOf(manifestOf(a)) + servedBytesOf(manifestOf(b))) / 2 ** 20;
      // Forced in (a budget above both) to see what both cost, then with the default budget.
      const forced = await measure(script, a, b, port++, 10_000);
      const byDefault = await measure(script, a, b, port++, null);
      const defaultLoaded = (byDefault.health.canary as { loaded?: boolean } | null)?.loaded === true;
      const liveMB = forced.live.totalMB - forced.empty.totalMB;
      const bothMB = forced.both.totalMB - forced.empty.totalMB;
      rows[c.name] = {
        movies: c.dataset.movies.length,
        servedFilesMBBoth: Number(servedMB.toFixed(1)),
        heapAboveEmptyMB: { live: Number(liveMB.toFixed(1)), liveAndCanary: Number(bothMB.toFixed(1)) },
        heapTotalMB: {
          empty: forced.empty.totalMB,
          live: forced.live.totalMB,
          liveAndCanary: forced.both.totalMB,
        },
        defaultBudgetMB: DEFAULT_CANARY_MEMORY_MB,
        canaryLoadedWithDefaultBudget: defaultLoaded,
        refusedWithDefaultBudget: byDefault.health.refused ?? [],
      };
      // The default budget must admit a canary exactly when both fit the 128 MB isolate with room.
      checks[
        `${c.name}: default budget ${defaultLoaded ? 'admits' : 'refuses'} the canary, and live + canary ${bothMB.toFixed(1)} MB ${bothMB < 112 ? '<' : '>='} 112 MB (128 MB isolate less headroom)`
      ] = defaultLoaded === bothMB < 112;
      console.log(c.name, JSON.stringify(rows[c.name]));
    }
    const result = {
      bench: 'canary-memory',
      machine: { cpus: cpus().length, loadavg1: loadavg()[0] },
      catalogs: rows,
      checks,
    };
    mkdirSync(dirname(resultsFile), { recursive: true });
    writeFileSync(resultsFile, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(checks, null, 2));
    console.log(`wrote ${resultsFile}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await withWebSocket(fileURLToPath(import.meta.url), main);
