/**
 * `reelrank start` (npm start) through its real path: a child process running bin/reelrank.mjs,
 * training on a small sample of the embedded data, publishing into a temporary wrangler dev state
 * and serving it in real workerd on a random free port, with REELRANK_READ_KEY set. Known-user
 * routes need that key; a POST that is not JSON is refused. Also: a busy port fails before any
 * training, and an unchanged start reuses the newest local version instead of training again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../../support/cli.ts';
import { REPO_ROOT } from '../../support/data.ts';

const work = mkdtempSync(join(tmpdir(), 'reelrank-start-'));
const data = join(work, 'ml-sample');
const out = join(work, 'artifacts');
const persist = join(work, 'wrangler-state');
const READ_KEY = 'test-read-key-0123456789';

async function freePort(): Promise<number> {
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

/** The first 3,000 ratings of the embedded data with its catalog: trains in seconds. */
beforeAll(() => {
  mkdirSync(data);
  const source = join(REPO_ROOT, 'data/ml-latest-small');
  const lines = readFileSync(join(source, 'ratings.csv'), 'utf8').split('\r\n').slice(0, 3001);
  writeFileSync(join(data, 'ratings.csv'), `${lines.join('\r\n')}\r\n`);
  writeFileSync(join(data, 'movies.csv'), readFileSync(join(source, 'movies.csv')));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const startArgs = ['--data', data, '--no-content', '--out', out, '--persist-to', persist];

describe('reelrank start, the real path (child process, wrangler dev, workerd)', () => {
  let child: ChildProcess | undefined;
  let output = '';
  let base = '';
  const devVars = join(REPO_ROOT, '.dev.vars');
  const devVarsBefore = existsSync(devVars) ? readFileSync(devVars, 'utf8') : null;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const { REELRANK_WRITE_KEY: _, ...env } = process.env;
    child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'bin/reelrank.mjs'), 'start', ...startArgs, '--port', String(port)],
      {
        // READ_API_KEYS in the shell must not beat the key start hands the Worker.
        env: { ...env, REELRANK_READ_KEY: READ_KEY, READ_API_KEYS: 'from-the-shell' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    const exited = new Promise<never>((_, reject) =>
      child!.once('exit', (code) => reject(new Error(`reelrank start exited (${code}):\n${output}`))),
    );
    const ready = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Try:') && output.trimEnd().endsWith("4.5}]}'")) resolve();
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
    });
    await Promise.race([ready, exited]);
  }, 180_000);

  afterAll(async () => {
    if (child?.pid !== undefined && child.exitCode === null) {
      const gone = new Promise((resolve) => child!.once('exit', resolve));
      process.kill(-child.pid, 'SIGTERM'); // the whole group: reelrank start and its wrangler dev
      await gone;
    }
  });

  it('prints the key from REELRANK_READ_KEY in its example requests, a generated write key, and leaves .dev.vars alone', () => {
    expect(output).toContain(
      `curl -H 'Authorization: Bearer ${READ_KEY}' '${base}/v1/users/1/recommendations?k=10'`,
    );
    expect(output).toMatch(new RegExp(`read: +${READ_KEY} +\\(from REELRANK_READ_KEY\\)`));
    expect(output).toMatch(/write: +[\w-]{43} +\(generated for this run\)/);
    expect(output).toMatch(/1\/3 training svdpp \(ratings\) \+ ials \(ranking\) on ml-sample, 3,000 ratings/);
    expect(output).toMatch(/svdpp epoch 1\/\d+: /);
    expect(existsSync(devVars) ? readFileSync(devVars, 'utf8') : null).toBe(devVarsBefore);
  });

  it('GET /v1/users/1/recommendations: 401 without the key or with a wrong one, 200 with it', async () => {
    const without = await fetch(`${base}/v1/users/1/recommendations`);
    expect(without.status).toBe(401);
    expect(without.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await fetch(`${base}/v1/users/1/recommendations`, {
      headers: { authorization: 'Bearer not-the-key' },
    });
    expect(wrong.status).toBe(401);
    const shell = await fetch(`${base}/v1/users/1/recommendations`, {
      headers: { authorization: 'Bearer from-the-shell' },
    });
    expect(shell.status).toBe(401);
    const withKey = await fetch(`${base}/v1/users/1/recommendations`, {
      headers: { authorization: `Bearer ${READ_KEY}` },
    });
    expect(withKey.status).toBe(200);
    const body = (await withKey.json()) as { items?: unknown[] };
    expect(Array.isArray(body.items)).toBe(true);
  });

  it('POST /v1/events: 401 without the write key; with it twenty Horror ratings for user 1 answer 202 and the next recommendations fold them in and leave them out', async () => {
    const writeKey = /write: +([\w-]{43}) /.exec(output)![1]!;
    const read = { authorization: `Bearer ${READ_KEY}` };
    const horror = (await (
      await fetch(`${base}/v1/users/1/recommendations?k=40&genres=Horror`, { headers: read })
    ).json()) as { items: { movieId: number }[] };
    const rated = horror.items.slice(20, 40).map((i) => i.movieId);
    expect(rated).toHaveLength(20);
    const body = JSON.stringify({
      events: rated.map((movieId) => ({ userId: 1, movieId, type: 'rating', value: 5 })),
    });
    const headers = { 'content-type': 'application/json' };
    const without = await fetch(`${base}/v1/events`, { method: 'POST', headers, body });
    expect(without.status).toBe(401);
    const posted = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${writeKey}` },
      body,
    });
    expect(posted.status).toBe(202);
    expect(await posted.json()).toMatchObject({ accepted: 20, duplicates: 0 });
    const after = (await (
      await fetch(`${base}/v1/users/1/recommendations?k=20`, { headers: read })
    ).json()) as { recentEvents: number; items: { movieId: number }[] };
    expect(after.recentEvents).toBe(20);
    expect(after.items.filter((i) => rated.includes(i.movieId))).toEqual([]);
  });

  it('POST with content-type text/plain answers 415', async () => {
    const response = await fetch(`${base}/v1/recommendations`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"ratings":[{"movieId":1,"rating":5}]}',
    });
    expect(response.status).toBe(415);
    expect(JSON.stringify(await response.json())).toMatch(/application\/json/);
  });
});

describe('reelrank start before and instead of training', () => {
  it('a busy port fails at once, before any training', async () => {
    let server: Server | undefined;
    const port = await freePort();
    await new Promise<void>((resolve) => {
      server = createServer().listen(port, '127.0.0.1', resolve);
    });
    try {
      const started = performance.now();
      const outDir = join(work, 'never-written');
      const { code, err } = await cli('start', '--data', data, '--out', outDir, '--port', String(port));
      expect(code).toBe(1);
      expect(err).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use.*--port <free port>`));
      expect(existsSync(outDir)).toBe(false);
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      await new Promise((resolve) => server?.close(resolve));
    }
  });

  it('reuses the newest local version when data, model and seed are unchanged; --retrain trains anew', async () => {
    const first = await cli('start', ...startArgs, '--no-serve');
    expect(first.code, first.err).toBe(0);
    const versions = readdirSync(out);
    const newest = versions.sort().at(-1)!;
    const again = await cli('start', ...startArgs, '--no-serve');
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain(`1/3 reusing ${newest}:`);
    expect(again.out).not.toMatch(/epoch/);
    expect(readdirSync(out)).toHaveLength(versions.length);
    const forced = await cli('start', ...startArgs, '--no-serve', '--retrain');
    expect(forced.code, forced.err).toBe(0);
    expect(forced.out).toMatch(/1\/3 training svdpp/);
    expect(readdirSync(out)).toHaveLength(versions.length + 1);
  }, 120_000);
});
