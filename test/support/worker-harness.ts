/**
 * Runs the edge Worker in workerd (Miniflare, the runtime under wrangler dev) from Node: bundle an
 * entry with esbuild the way wrangler does (.wasm imports stay CompiledWasm modules), start it with
 * an R2 bucket seeded with a version. Used by bench/latency.ts and the web-page browser test.
 */
import { copyFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { POINTER_KEY } from '../../shared/artifacts/spec.ts';
import type { FixtureVersion } from './fixture-version.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Bundles `entry` (relative to the repository) into `outDir`; returns the script path. */
export async function bundleWorker(entry: string, outDir: string): Promise<string> {
  const outfile = join(outDir, 'worker.mjs');
  await build({
    entryPoints: [join(REPO, entry)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    outfile,
    external: ['node:*', 'cloudflare:*'],
    logLevel: 'error',
    plugins: [
      {
        name: 'wasm-modules',
        setup(builder) {
          builder.onResolve({ filter: /\.wasm$/ }, (args) => {
            const source = resolve(args.resolveDir, args.path);
            copyFileSync(source, join(outDir, basename(source)));
            return { path: `./${basename(source)}`, external: true };
          });
        },
      },
    ],
  });
  return outfile;
}

export interface RunningWorker {
  mf: Miniflare;
  url: URL;
  inspectorPort: number | undefined;
}

/** The read key of harness workers (the secret READ_API_KEYS); send it as `Authorization: Bearer`. */
export const HARNESS_READ_KEY = 'harness-read-key';
/** `headers` carrying the harness read key. */
export const HARNESS_AUTH = Object.freeze({ authorization: `Bearer ${HARNESS_READ_KEY}` });

/** The write key of harness workers (the secret WRITE_API_KEYS). */
export const HARNESS_WRITE_KEY = 'harness-write-key';

/**
 * The feedback parts of wrangler.toml (events queue with its consumer and dead-letter queue, the
 * EVENTS bucket, the FeedbackStore Durable Object with SQLite storage) as Miniflare options.
 */
export const FEEDBACK_MINIFLARE_OPTIONS = {
  queueProducers: { EVENTS_QUEUE: 'reelrank-events' },
  queueConsumers: {
    'reelrank-events': {
      maxBatchSize: 100,
      maxBatchTimeout: 1,
      maxRetries: 10,
      deadLetterQueue: 'reelrank-events-dlq',
    },
  },
  durableObjects: { FEEDBACK: { className: 'FeedbackStore', useSQLite: true } },
} as const;

/**
 * Starts the bundled Worker with R2 seeded with `version` (files, then the pointer; null: empty),
 * the vars of wrangler.toml's defaults, the read key HARNESS_READ_KEY, and no rate limit bindings.
 * `feedback` adds the events queue, the EVENTS bucket, the FeedbackStore Durable Object and the
 * write key HARNESS_WRITE_KEY; `port` serves on 127.0.0.1:<port>; `bindings` override vars.
 */
export async function startWorker(
  script: string,
  version: FixtureVersion | null,
  {
    inspectorPort,
    feedback = false,
    port,
    bindings = {},
  }: { inspectorPort?: number; feedback?: boolean; port?: number; bindings?: Record<string, string> } = {},
): Promise<RunningWorker> {
  const mf = new Miniflare({
    modules: true,
    scriptPath: script,
    modulesRoot: dirname(script),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-26',
    compatibilityFlags: ['nodejs_compat'],
    r2Buckets: feedback ? ['ARTIFACTS', 'EVENTS'] : ['ARTIFACTS'],
    bindings: {
      ARTIFACT_PREFIX: '',
      POINTER_CHECK_SECONDS: '30',
      PUBLIC_ENDPOINTS: 'true',
      CORS_ORIGINS: '',
      READ_API_KEYS: HARNESS_READ_KEY,
      ...(feedback ? { WRITE_API_KEYS: HARNESS_WRITE_KEY } : {}),
      ...bindings,
    },
    ...(feedback ? FEEDBACK_MINIFLARE_OPTIONS : {}),
    ...(port !== undefined ? { host: '127.0.0.1', port } : {}),
    ...(inspectorPort !== undefined ? { inspectorPort } : {}),
  });
  const url = await mf.ready;
  // Miniflare's R2 type is the Workers one wrapped for Node; put() is all we need here.
  const bucket = (await mf.getR2Bucket('ARTIFACTS')) as unknown as {
    put(key: string, value: Uint8Array): Promise<unknown>;
  };
  if (version) {
    for (const [key, bytes] of version.files) await bucket.put(key, bytes);
    await bucket.put(POINTER_KEY, version.pointer);
  }
  return { mf, url, inspectorPort };
}
