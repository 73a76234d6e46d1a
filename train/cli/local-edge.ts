import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { type R2BucketLike, R2Store } from '../../shared/stores/r2.ts';
import type { ObjectStore } from '../../shared/store.ts';

/**
 * The local edge: wrangler dev's R2 lives in `<persistTo>/v3/r2/<bucket_name>`. Publishing into it
 * through Miniflare's bucket API is exactly what `wrangler r2 object put --local` does, without a
 * wrangler process per file.
 */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_PERSIST_DIR = fileURLToPath(new URL('../../.wrangler/state', import.meta.url));
/** Must match `bucket_name` of the ARTIFACTS binding in wrangler.toml. */
export const LOCAL_BUCKET = 'reelrank-artifacts';

/** Open wrangler dev's local R2 bucket as an ObjectStore; call `close()` when done. */
export async function openLocalR2(
  persistTo = DEFAULT_PERSIST_DIR,
): Promise<{ store: ObjectStore; close: () => Promise<void> }> {
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response(null, { status: 204 }); } }',
    r2Buckets: { ARTIFACTS: LOCAL_BUCKET },
    r2Persist: `${persistTo}/v3/r2`,
  });
  const bucket = (await mf.getR2Bucket('ARTIFACTS')) as unknown as R2BucketLike;
  return {
    store: new R2Store(bucket, '', { name: `${LOCAL_BUCKET} (local)` }),
    close: () => mf.dispose(),
  };
}

/** A free TCP port on 127.0.0.1 (for a local server of a test or a script). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface LocalEdge {
  baseUrl: string;
  /** Resolves when wrangler dev says it is ready; rejects if it exits first. */
  ready: Promise<void>;
  /** Resolves with wrangler's exit code. */
  exited: Promise<number>;
  stop(): void;
}

/**
 * Start `wrangler dev` (workerd) on 127.0.0.1:`port`, offline, serving the R2 persisted in
 * `persistTo`, with the secrets of `envFiles`. Its output goes to `output` (default: this
 * process's stdout).
 */
export function startLocalEdge({
  port,
  persistTo = DEFAULT_PERSIST_DIR,
  output = (chunk: string) => process.stdout.write(chunk),
  envFiles = [],
}: {
  port: number;
  persistTo?: string;
  output?: (chunk: string) => void;
  /** dotenv files with the Worker's local secrets (`--env-file`; later files win, .dev.vars is then not read). */
  envFiles?: readonly string[];
}): LocalEdge {
  const wrangler = fileURLToPath(new URL('../../node_modules/wrangler/bin/wrangler.js', import.meta.url));
  // With `[secrets] required` in wrangler.toml, wrangler dev also reads secrets from its own
  // environment, where a shell's value would beat the env files: the files' names are dropped.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  };
  for (const file of envFiles) {
    for (const match of readFileSync(file, 'utf8').matchAll(/^\s*(?:export\s+)?([A-Za-z_]\w*)\s*=/gm))
      delete env[match[1]!];
  }
  const child: ChildProcess = spawn(
    process.execPath,
    [
      wrangler,
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--persist-to',
      persistTo,
      '--test-scheduled',
      ...envFiles.flatMap((file) => ['--env-file', file]),
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    },
  );
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 0)));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output(text);
      if (/Ready on/.test(text)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => output(chunk.toString()));
    void exited.then((code) =>
      reject(new Error(`wrangler dev exited with code ${code} before it was ready`)),
    );
  });
  return { baseUrl: `http://127.0.0.1:${port}`, ready, exited, stop: () => child.kill('SIGINT') };
}
