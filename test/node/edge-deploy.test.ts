/**
 * The deploy path of the edge, without an account: `npm run deploy -- --dry-run --outdir` must build
 * the bundle wrangler would upload (its size is reported, and checked against the free plan's 3 MB
 * compressed), and that very bundle, run in workerd (Miniflare), serves an OpenAPI document that
 * validates as OpenAPI 3.1, generated from the routes' zod schemas.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/worker-harness.ts';

const FREE_PLAN_GZIP_BYTES = 3 * 1024 * 1024;

let outDir = '';
let mf: Miniflare | null = null;
let deployLog = '';

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'reelrank-deploy-'));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const { stdout, stderr } = await promisify(execFile)(
    npm,
    ['run', 'deploy', '--', '--dry-run', '--outdir', outDir],
    {
      cwd: REPO,
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        NO_COLOR: '1',
      },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  deployLog = stdout + stderr;
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('npm run deploy -- --dry-run', () => {
  it('builds the bundle and reports its size within the free plan limit', () => {
    expect(deployLog).toMatch(/--dry-run: exiting now/);
    const files = readdirSync(outDir).filter((f) => !f.endsWith('.map') && f !== 'README.md');
    expect(files).toContain('index.js');
    expect(files.some((f) => f.endsWith('.wasm'))).toBe(true);
    const raw = files.reduce((sum, f) => sum + statSync(join(outDir, f)).size, 0);
    const gzip = files.reduce((sum, f) => sum + gzipSync(readFileSync(join(outDir, f))).length, 0);
    console.log(
      `edge bundle (wrangler deploy --dry-run): ${(raw / 1024).toFixed(1)} KiB, gzip ${(gzip / 1024).toFixed(1)} KiB (${files.join(', ')})`,
    );
    expect(gzip).toBeLessThan(FREE_PLAN_GZIP_BYTES);
  });
});

describe('the OpenAPI document of the built bundle', () => {
  let doc: {
    openapi: string;
    paths: Record<string, Record<string, Record<string, unknown>>>;
    components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
  };

  beforeAll(async () => {
    mf = new Miniflare({
      modules: true,
      scriptPath: join(outDir, 'index.js'),
      modulesRoot: outDir,
      modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
      compatibilityDate: '2026-04-26',
      compatibilityFlags: ['nodejs_compat'],
      r2Buckets: ['ARTIFACTS'],
      bindings: { ARTIFACT_PREFIX: '', POINTER_CHECK_SECONDS: '30' },
    });
    const response = await mf.dispatchFetch('http://reelrank.test/openapi.json');
    expect(response.status).toBe(200);
    doc = (await response.json()) as typeof doc;
  }, 60_000);

  it('validates as OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('gives every operation an operationId, a 200 (or 202) schema, 429, and 401/415 where they apply', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(11);
    const ids = new Set<string>();
    for (const { path, method, op } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(typeof op.operationId, where).toBe('string');
      ids.add(op.operationId as string);
      const responses = op.responses as Record<string, { content?: Record<string, { schema?: unknown }> }>;
      // 200, or 202 where the work is queued (POST /v1/events).
      const success = (responses['200'] ?? responses['202'])?.content;
      expect(success && Object.values(success)[0]?.schema, where).toBeDefined();
      expect(responses['429'], where).toBeDefined();
      if (path.startsWith('/v1/users/')) {
        expect(responses['401'], where).toBeDefined();
        expect(op.security, where).toEqual([{ readKey: [] }]);
      }
      if (method === 'post') expect(responses['415'], where).toBeDefined();
      if (path === '/v1/events') {
        expect(responses['401'], where).toBeDefined();
        expect(op.security, where).toEqual([{ writeKey: [] }]);
      }
    }
    expect(ids.size).toBe(operations.length);
    expect(doc.components?.securitySchemes?.readKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components?.securitySchemes?.writeKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('describes parameters with their types and bounds from the zod schemas', () => {
    const op = doc.paths['/v1/users/{userId}/recommendations']?.get as {
      parameters: { name: string; in: string; required?: boolean; schema: Record<string, unknown> }[];
    };
    const byName = new Map(op.parameters.map((p) => [p.name, p]));
    expect(byName.get('userId')).toMatchObject({ in: 'path', required: true, schema: { type: 'integer' } });
    expect(byName.get('k')).toMatchObject({
      in: 'query',
      schema: { type: 'integer', minimum: 1, maximum: 100 },
    });
    expect(byName.get('excludeSeen')?.schema).toMatchObject({ type: 'boolean' });
  });
});
