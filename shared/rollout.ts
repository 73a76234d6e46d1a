/**
 * Canary rollout: which arm (the live version or the candidate) answers a person.
 *
 * The pointer (`current.json`) may name a candidate beside the live version with a share of
 * traffic and a salt. A person (a known user id or an anonymous session id) is assigned by a
 * salted hash of their id, so they see the same arm on every request, in every isolate, with no
 * shared state; a new salt (a new canary) reshuffles who is in the candidate arm.
 */

/** The two arms of a rollout. */
export type Arm = 'live' | 'candidate';

/** What the pointer says about a candidate version (absent when there is no canary). */
export interface CanarySpec {
  version: string;
  manifestSha256: string;
  /** Share of people served by the candidate, in percent (0 < percent < 100). */
  percent: number;
  /** Mixed into the hash; a new canary gets a new salt. */
  salt: string;
  startedAt: string;
}

/** Number of hash buckets: shares are resolved to 0.01 %. */
export const ROLLOUT_BUCKETS = 10_000;

/**
 * 32-bit FNV-1a over the UTF-16 code units of `text`, then murmur3's finaliser so nearby ids
 * (user 1, user 2, ...) spread evenly over the buckets.
 * @example stableHash32('salt:user:1') // an integer in [0, 2^32)
 */
export function stableHash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The bucket in [0, ROLLOUT_BUCKETS) of a subject under a salt. */
export function rolloutBucket(subject: string, salt: string): number {
  return stableHash32(`${salt}:${subject}`) % ROLLOUT_BUCKETS;
}

/**
 * The arm that serves `subject` ('user:42', 'session:abc'); null subject (a request that names
 * nobody) and no canary both give the live arm.
 * @example armOf('user:1', { percent: 10, salt: 's1', ... }) // 'live' for ~90 % of ids
 */
export function armOf(
  subject: string | null,
  canary: Pick<CanarySpec, 'percent' | 'salt'> | null | undefined,
): Arm {
  if (subject === null || !canary) return 'live';
  return rolloutBucket(subject, canary.salt) < Math.round(canary.percent * (ROLLOUT_BUCKETS / 100))
    ? 'candidate'
    : 'live';
}

/** The subject key of a known user. */
export function userSubject(userId: number | string): string {
  return `user:${userId}`;
}

/** The subject key of an anonymous session. */
export function sessionSubject(sessionId: string): string {
  return `session:${sessionId}`;
}

/** Session ids accepted from clients: 1–128 characters of letters, digits, '.', '_', '-', ':'. */
export const SESSION_ID = /^[0-9A-Za-z._:-]{1,128}$/;

/**
 * A recommendation id names the version and arm that produced a list, so an event quoting it can
 * be attributed later without any server-side lookup: `<version>:<arm letter>:<issued at, base36
 * seconds>:<random>`. Version ids never contain ':'.
 */
export interface RecommendationIdParts {
  version: string;
  arm: Arm;
  /** Seconds since the epoch when the list was made. */
  issuedAt: number;
  nonce: string;
}

/** Build a recommendation id (see RecommendationIdParts). */
export function makeRecommendationId(parts: RecommendationIdParts): string {
  return `${parts.version}:${parts.arm === 'candidate' ? 'c' : 'l'}:${Math.floor(parts.issuedAt).toString(36)}:${parts.nonce}`;
}

/** Parse a recommendation id; null when it is not one of ours. */
export function parseRecommendationId(id: string): RecommendationIdParts | null {
  const parts = id.split(':');
  if (parts.length !== 4) return null;
  const [version, arm, issued, nonce] = parts as [string, string, string, string];
  if (!/^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$/.test(version)) return null;
  if (arm !== 'c' && arm !== 'l') return null;
  if (!/^[0-9a-z]{1,12}$/.test(issued) || !/^[0-9A-Za-z_-]{4,32}$/.test(nonce)) return null;
  return { version, arm: arm === 'c' ? 'candidate' : 'live', issuedAt: Number.parseInt(issued, 36), nonce };
}

/** A random nonce for recommendation ids (WebCrypto: the same on Node and Workers). */
export function randomNonce(bytes = 9): string {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  let out = '';
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < buf.length; i++) out += alphabet[buf[i]! & 63];
  return out;
}

/** Version files the isolate reads per request or never, rather than holding them. */
const NOT_HELD = new Set(['report.html', 'metrics.json', 'catalog_map.json']);

/**
 * Bytes of a version's files that the serving model holds in memory (everything but the neural
 * evaluation models, the report, metrics, catalog map and poster thumbnails, which are read from
 * the store per request or never). The isolate keeps a canary beside the live version only while both fit the budget.
 */
export function servedBytesOf(manifest: { files: readonly { path: string; bytes: number }[] }): number {
  let total = 0;
  for (const file of manifest.files) {
    if (/^(neural|posters)\//.test(file.path) || NOT_HELD.has(file.path)) continue;
    total += file.bytes;
  }
  return total;
}

/** Default budget for the served files of live + canary together (MB); CANARY_MEMORY_MB overrides. */
export const DEFAULT_CANARY_MEMORY_MB = 48;
