/**
 * API keys. Known-user routes need a read key, write routes a write key, both sent as
 * `Authorization: Bearer <key>` and compared in constant time with the comma-separated keys of the
 * Worker secrets `READ_API_KEYS` / `WRITE_API_KEYS` (several keys at once, so one can be rotated
 * without downtime). Secure by default: with no key configured, a protected route answers 401
 * naming the secret to set. Catalog and anonymous routes stay public unless the var
 * `PUBLIC_ENDPOINTS` is `"false"`.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.ts';
import { errorBody } from './errors.ts';
import { limitByKey } from './limits.ts';

export type KeyKind = 'read' | 'write';

const SECRET_OF: Readonly<Record<KeyKind, 'READ_API_KEYS' | 'WRITE_API_KEYS'>> = Object.freeze({
  read: 'READ_API_KEYS',
  write: 'WRITE_API_KEYS',
});

/** OpenAPI security schemes (HTTP bearer), declared in the document by edge/app.ts. */
export const SECURITY_SCHEMES = Object.freeze({
  readKey: { type: 'http', scheme: 'bearer', description: 'A key of the Worker secret READ_API_KEYS' },
  writeKey: { type: 'http', scheme: 'bearer', description: 'A key of the Worker secret WRITE_API_KEYS' },
} as const);

type SecurityRequirement = Record<string, string[]>;

/** `security` of a route that needs a read key (`createRoute({ security: READ_KEY, ... })`). */
export const READ_KEY: SecurityRequirement[] = [{ readKey: [] }];
/** `security` of a route that needs a write key. */
export const WRITE_KEY: SecurityRequirement[] = [{ writeKey: [] }];
/** `security` of a public route: no key, or a read key when the var PUBLIC_ENDPOINTS is "false". */
export const OPTIONAL_READ_KEY: SecurityRequirement[] = [{}, { readKey: [] }];

/** The keys of one secret: comma-separated, trimmed, empty entries dropped. */
export function configuredKeys(env: Env, kind: KeyKind): string[] {
  // Typed as string by wrangler types ([secrets] required), but unset until an operator sets it.
  const raw: unknown = env[SECRET_OF[kind]];
  if (typeof raw !== 'string') return [];
  return raw
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
}

/** The bearer token of a request, or null when there is no `Authorization: Bearer` header. */
export function bearerToken(c: Context): string | null {
  const header = c.req.header('authorization');
  if (!header) return null;
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header);
  return match ? match[1]! : null;
}

const encoder = new TextEncoder();

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

/** Equal-length digests compared without an early exit (the platform's, where it has one). */
function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  const subtle = crypto.subtle as SubtleCrypto & {
    timingSafeEqual?: (a: Uint8Array, b: Uint8Array) => boolean;
  };
  if (typeof subtle.timingSafeEqual === 'function') return subtle.timingSafeEqual(a, b);
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ (b[i] ?? 0);
  return diff === 0;
}

/** Digests of the configured keys, computed once per secret value (an isolate sees few). */
const digestCache = new Map<string, Promise<Uint8Array[]>>();

function digestsOf(keys: readonly string[]): Promise<Uint8Array[]> {
  const cacheKey = keys.join('\n');
  let digests = digestCache.get(cacheKey);
  if (!digests) {
    digests = Promise.all(keys.map(sha256));
    if (digestCache.size > 16) digestCache.clear();
    digestCache.set(cacheKey, digests);
  }
  return digests;
}

/**
 * Which configured key `token` is (its position), or -1. Both sides are hashed first, so the
 * comparison time depends neither on where they differ nor on their lengths, and every key is
 * compared (no early exit on a match).
 */
export async function matchKey(token: string, keys: readonly string[]): Promise<number> {
  const [presented, known] = await Promise.all([sha256(token), digestsOf(keys)]);
  let found = -1;
  known.forEach((digest, i) => {
    if (digestsEqual(presented, digest) && found < 0) found = i;
  });
  return found;
}

/** True when the request carries a valid key of `kind` (e.g. for the detail of /v1/health). */
export async function hasKey(c: Context<AppEnv>, kind: KeyKind): Promise<boolean> {
  const token = bearerToken(c);
  if (token === null) return false;
  return (await matchKey(token, configuredKeys(c.env, kind))) >= 0;
}

function unauthorized(c: Context<AppEnv>, message: string, invalidToken: boolean): Response {
  // RFC 6750: the challenge names the scheme; error="invalid_token" when a key was sent but is wrong.
  const challenge = invalidToken
    ? 'Bearer realm="reelrank", error="invalid_token"'
    : 'Bearer realm="reelrank"';
  return c.json(errorBody('unauthorized', message), 401, { 'WWW-Authenticate': challenge });
}

/**
 * Middleware: the request must carry a key of `kind`; else 401 with the error envelope and
 * `WWW-Authenticate: Bearer`. On success the key's id is in `c.var.apiKeyId` and the request
 * counts against the key's rate limit (edge/limits.ts).
 *
 * @example app.get('/v1/users/:userId/x', requireKey('read'), (c) => ...)
 */
export function requireKey(kind: KeyKind): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const keys = configuredKeys(c.env, kind);
    if (keys.length === 0)
      return unauthorized(
        c,
        `this route needs a ${kind} API key, and none is configured: set the Worker secret ${SECRET_OF[kind]} (comma-separated keys; wrangler secret put ${SECRET_OF[kind]})`,
        false,
      );
    const token = bearerToken(c);
    if (token === null)
      return unauthorized(
        c,
        `this route needs a ${kind} API key: send the header "Authorization: Bearer <key>"`,
        false,
      );
    const index = await matchKey(token, keys);
    if (index < 0) return unauthorized(c, `the API key is not a valid ${kind} key`, true);
    const keyId = `${kind}:${index}`;
    c.set('apiKeyId', keyId);
    const limited = await limitByKey(c, keyId);
    if (limited) return limited;
    await next();
  };
}

/** True unless the var `PUBLIC_ENDPOINTS` is `"false"` (then catalog routes need a read key). */
export function endpointsArePublic(env: Env): boolean {
  const value: unknown = env.PUBLIC_ENDPOINTS;
  return typeof value !== 'string' || value.trim().toLowerCase() !== 'false';
}

/** Middleware for catalog and anonymous routes: public, or a read key when `PUBLIC_ENDPOINTS=false`. */
export function publicUnlessConfigured(): MiddlewareHandler<AppEnv> {
  const readKey = requireKey('read');
  return async (c, next) => {
    if (endpointsArePublic(c.env)) return next();
    return readKey(c, next);
  };
}
