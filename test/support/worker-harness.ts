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
    external: ['node:*'],
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

/**
 * Starts the bundled Worker with R2 seeded with `version` (files, then the pointer; null: empty),
 * the vars of wrangler.toml's defaults, the read key HARNESS_READ_KEY, and no rate limit bindings.
 */
export async function startWorker(
  script: string,
  version: FixtureVersion | null,
  {
    inspectorPort,
    bindings = {},
  }: {
    inspectorPort?: number /** Vars added to (or overriding) the defaults. */;
    bindings?: Record<string, string>;
  } = {},
): Promise<RunningWorker> {
  const mf = new Miniflare({
    modules: true,
    scriptPath: script,
    modulesRoot: dirname(script),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-26',
    compatibilityFlags: ['nodejs_compat'],
    r2Buckets: ['ARTIFACTS'],
    bindings: {
      ARTIFACT_PREFIX: '',
      POINTER_CHECK_SECONDS: '30',
      PUBLIC_ENDPOINTS: 'true',
      CORS_ORIGINS: '',
      READ_API_KEYS: HARNESS_READ_KEY,
      ...bindings,
    },
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
