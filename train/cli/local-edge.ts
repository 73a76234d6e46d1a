import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { R2Store, type R2BucketLike } from '../../shared/stores/r2.ts';
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

/** Start `wrangler dev` on localhost, offline, serving the local R2; resolves when it exits. */
export function serveLocally({
  port,
  persistTo = DEFAULT_PERSIST_DIR,
  onReady,
}: {
  port: number;
  persistTo?: string;
  onReady: (baseUrl: string) => void;
}): Promise<number> {
  const wrangler = fileURLToPath(new URL('../../node_modules/wrangler/bin/wrangler.js', import.meta.url));
  const child = spawn(
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
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['inherit', 'pipe', 'inherit'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    },
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  let announced = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    if (!announced && /Ready on/.test(chunk.toString())) {
      announced = true;
      onReady(baseUrl);
    }
  });
  const stop = () => child.kill('SIGINT');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 0)));
}
