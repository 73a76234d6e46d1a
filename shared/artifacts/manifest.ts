/**
 * The manifest (`versions/<v>/manifest.json`) and pointer (`current.json`) types, with hand-written
 * validation: anything read from a store is checked here before any byte of it is trusted.
 */
import type { CanarySpec } from '../rollout.ts';
import { ReelrankError } from '../errors.ts';
import { FORMAT_VERSION, MANIFEST_FILE } from './spec.ts';

/** Format versions this code can read. A manifest with another one is refused ('artifact_format'). */
export const SUPPORTED_FORMAT_VERSIONS: readonly number[] = Object.freeze([FORMAT_VERSION]);

export const FILE_KINDS = Object.freeze([
  'matrix',
  'vector',
  'ids',
  'neighbors',
  'csr',
  'json',
  'tfjs',
  'tfjs-weights',
  'other',
] as const);
export type FileKind = (typeof FILE_KINDS)[number];

export const FILE_DTYPES = Object.freeze([
  'float32',
  'float16',
  'int8',
  'uint8',
  'uint32',
  'json',
  'bytes',
] as const);
export type FileDtype = (typeof FILE_DTYPES)[number];

/**
 * How a file's values were quantized.
 * - `float16`: binary16 values (matrices) or scores (neighbour lists).
 * - `int8-row-symmetric`: int8 values with one float32 scale per row, scales first (see codecs.ts).
 * - `tfjs`: TF.js weight shards whose weights-manifest entries carry `quantization` (per weight).
 */
export type Quantization =
  | { method: 'float16' }
  | { method: 'int8-row-symmetric'; scaleDtype: 'float32' | 'float16'; layout: 'scales-then-values' }
  | { method: 'tfjs'; dtype: 'uint8' | 'uint16' | 'float16' };

export interface ManifestFile {
  /** Path inside the version folder, '/'-separated, e.g. 'item_factors.bin' or 'reranker/model.json'. */
  path: string;
  kind: FileKind;
  bytes: number;
  /** Lower-case hex SHA-256 of the file's bytes. */
  sha256: string;
  /** Element type as stored ('float16' matrices and neighbour scores, 'int8' matrices, ...). */
  dtype: FileDtype;
  /** matrix [rows, cols]; vector/ids [n]; neighbors [rows, k]; csr [rows, nnz]; others []. */
  shape: number[];
  quantization: Quantization | null;
}

export interface Manifest {
  formatVersion: number;
  version: string;
  /** ISO 8601 time the version was created. */
  createdAt: string;
  /** Identifies the training data (e.g. sha256 of the ratings), so two versions can be compared. */
  datasetFingerprint: string;
  trainingConfig: Record<string, unknown>;
  metrics: Record<string, unknown>;
  /** Where the numbers were computed, e.g. 'tfjs-cpu', 'tfjs-wasm', 'typed-arrays'. */
  backend: string;
  files: ManifestFile[];
}

/** The pointer object (`current.json`) naming the live version. */
export interface Pointer {
  version: string;
  /** SHA-256 of the live version's manifest.json bytes: the pointer pins the exact manifest. */
  manifestSha256: string;
  publishedAt: string;
  /** The version that was live before this one, or null. */
  previous: string | null;
  /** A candidate version serving a share of people beside the live one (shared/rollout.ts). */
  canary?: CanarySpec | null;
}

const VERSION_ID = /^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** True when `version` is a safe version id (letters, digits, '.', '_', '-'; at most 128 chars). */
export function isValidVersionId(version: string): boolean {
  return VERSION_ID.test(version) && !version.includes('..');
}

/**
 * A version id that sorts by creation time: `2026-11-21T06-30-00Z-<first 8 hex of contentHash>`.
 * @example makeVersionId(new Date('2026-11-21T06:30:00Z'), 'ab12cd34ef...') // '2026-11-21T06-30-00Z-ab12cd34'
 */
export function makeVersionId(createdAt: Date, contentHash: string): string {
  const stamp = createdAt.toISOString().slice(0, 19).replaceAll(':', '-');
  return `${stamp}Z-${contentHash.slice(0, 8)}`;
}

/** True when `path` is a safe relative file path inside a version folder. */
export function isValidFilePath(path: string): boolean {
  if (path.length === 0 || path.length > 512 || path.startsWith('/') || path.includes('\\')) return false;
  return path
    .split('/')
    .every((part) => part !== '' && part !== '.' && part !== '..' && /^[0-9A-Za-z._-]+$/.test(part));
}

function fail(source: string, message: string): never {
  throw new ReelrankError('artifact_format', `${source}: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(source: string, record: Record<string, unknown>, field: string): string {
  const value = record[field];
  if (typeof value !== 'string' || value.length === 0) {
    fail(source, `'${field}' must be a non-empty string, got ${JSON.stringify(value)}.`);
  }
  return value;
}

function requireRecord(
  source: string,
  record: Record<string, unknown>,
  field: string,
): Record<string, unknown> {
  const value = record[field];
  if (!isRecord(value)) fail(source, `'${field}' must be an object, got ${JSON.stringify(value)}.`);
  return value;
}

function requireOneOf<T extends string>(
  source: string,
  field: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(
      source,
      `${field} is ${JSON.stringify(value)}. Allowed: ${allowed.map((a) => `'${a}'`).join(', ')}.`,
    );
  }
  return value as T;
}

function validateQuantization(source: string, value: unknown): Quantization | null {
  if (value === null || value === undefined) return null;
  if (!isRecord(value)) fail(source, `quantization must be an object or null, got ${JSON.stringify(value)}.`);
  const method = requireOneOf(source, 'quantization.method', value.method, [
    'float16',
    'int8-row-symmetric',
    'tfjs',
  ] as const);
  if (method === 'float16') return { method };
  if (method === 'int8-row-symmetric') {
    const scaleDtype = requireOneOf(source, 'quantization.scaleDtype', value.scaleDtype, [
      'float32',
      'float16',
    ] as const);
    requireOneOf(source, 'quantization.layout', value.layout, ['scales-then-values'] as const);
    return { method, scaleDtype, layout: 'scales-then-values' };
  }
  const dtype = requireOneOf(source, 'quantization.dtype', value.dtype, [
    'uint8',
    'uint16',
    'float16',
  ] as const);
  return { method, dtype };
}

/** Expected byte size of a binary file from its kind, dtype, shape and int8 scale type; null when not derivable. */
export function expectedByteLength(
  kind: FileKind,
  dtype: FileDtype,
  shape: readonly number[],
  quantization: Quantization | null = null,
): number | null {
  const [a = 0, b = 0] = shape;
  switch (kind) {
    case 'matrix':
      if (dtype === 'float32') return 4 * a * b;
      if (dtype === 'float16') return 2 * a * b;
      if (dtype === 'int8') {
        const float16Scales =
          quantization?.method === 'int8-row-symmetric' && quantization.scaleDtype === 'float16';
        return (float16Scales ? 2 : 4) * a + a * b;
      }
      return null;
    case 'vector':
      return dtype === 'float32' ? 4 * a : dtype === 'uint8' ? a : null;
    case 'ids':
      return 4 * a;
    case 'neighbors':
      return dtype === 'float32' ? 8 * a * b : dtype === 'float16' ? 6 * a * b : null;
    case 'csr':
      return 4 * (a + 1 + b);
    default:
      return null;
  }
}

const KIND_DTYPES: Readonly<Record<FileKind, readonly FileDtype[]>> = Object.freeze({
  matrix: ['float32', 'float16', 'int8'],
  vector: ['float32', 'uint8'],
  ids: ['uint32'],
  neighbors: ['float32', 'float16'],
  csr: ['uint32'],
  json: ['json'],
  tfjs: ['json'],
  'tfjs-weights': ['bytes'],
  other: ['bytes', 'json'],
});

const KIND_RANK: Readonly<Partial<Record<FileKind, number>>> = Object.freeze({
  matrix: 2,
  vector: 1,
  ids: 1,
  neighbors: 2,
  csr: 2,
});

/** Validate one file entry (exported for writers, which check what they are about to record). */
export function validateManifestFile(source: string, value: unknown, index: number): ManifestFile {
  const where = `${source} files[${index}]`;
  if (!isRecord(value)) fail(where, `must be an object, got ${JSON.stringify(value)}.`);
  const path = requireString(where, value, 'path');
  if (!isValidFilePath(path) || path === MANIFEST_FILE) {
    fail(
      where,
      `path ${JSON.stringify(path)} is not a safe relative path ('a-z0-9._-' parts joined by '/').`,
    );
  }
  const at = `${source} file '${path}'`;
  const kind = requireOneOf(at, 'kind', value.kind, FILE_KINDS);
  const dtype = requireOneOf(at, 'dtype', value.dtype, KIND_DTYPES[kind]);
  const bytes = value.bytes;
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) {
    fail(at, `bytes must be a non-negative integer, got ${JSON.stringify(bytes)}.`);
  }
  const sha256 = value.sha256;
  if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) {
    fail(at, `sha256 must be 64 lower-case hex characters, got ${JSON.stringify(sha256)}.`);
  }
  const shape = value.shape;
  if (
    !Array.isArray(shape) ||
    !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
  ) {
    fail(at, `shape must be an array of non-negative integers, got ${JSON.stringify(shape)}.`);
  }
  const rank = KIND_RANK[kind];
  if (rank !== undefined && shape.length !== rank) {
    fail(at, `a ${kind} has shape of rank ${rank}, got ${JSON.stringify(shape)}.`);
  }
  const quantization = validateQuantization(at, value.quantization);
  if (kind === 'matrix' && dtype === 'int8' && quantization?.method !== 'int8-row-symmetric') {
    fail(
      at,
      `an int8 matrix needs quantization method 'int8-row-symmetric', got ${JSON.stringify(quantization)}.`,
    );
  }
  const expected = expectedByteLength(kind, dtype, shape as number[], quantization);
  if (expected !== null && expected !== bytes) {
    fail(
      at,
      `a ${dtype} ${kind} of shape ${JSON.stringify(shape)} has ${expected} bytes, the manifest says ${bytes}.`,
    );
  }
  return { path, kind, bytes, sha256, dtype, shape: shape as number[], quantization };
}

/**
 * Check a parsed manifest and return it typed. An unknown format version, a missing field or an
 * inconsistent file entry throws ReelrankError('artifact_format') naming the field and value.
 */
export function validateManifest(value: unknown, source = MANIFEST_FILE): Manifest {
  if (!isRecord(value)) fail(source, `must be a JSON object, got ${JSON.stringify(value)?.slice(0, 80)}.`);
  const formatVersion = value.formatVersion;
  if (typeof formatVersion !== 'number' || !SUPPORTED_FORMAT_VERSIONS.includes(formatVersion)) {
    fail(
      source,
      `unknown format version ${JSON.stringify(formatVersion)}. Supported: ${SUPPORTED_FORMAT_VERSIONS.join(', ')}.`,
    );
  }
  const version = requireString(source, value, 'version');
  if (!isValidVersionId(version))
    fail(source, `version ${JSON.stringify(version)} is not a valid version id.`);
  const createdAt = requireString(source, value, 'createdAt');
  if (Number.isNaN(Date.parse(createdAt)))
    fail(source, `createdAt ${JSON.stringify(createdAt)} is not an ISO date.`);
  const datasetFingerprint = requireString(source, value, 'datasetFingerprint');
  const trainingConfig = requireRecord(source, value, 'trainingConfig');
  const metrics = requireRecord(source, value, 'metrics');
  const backend = requireString(source, value, 'backend');
  if (!Array.isArray(value.files))
    fail(source, `'files' must be an array, got ${JSON.stringify(value.files)}.`);
  const files = value.files.map((file, index) => validateManifestFile(source, file, index));
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path)) fail(source, `file '${file.path}' is listed twice.`);
    seen.add(file.path);
  }
  return { formatVersion, version, createdAt, datasetFingerprint, trainingConfig, metrics, backend, files };
}

/** Check a parsed pointer object (`current.json`). */
export function validatePointer(value: unknown, source = 'current.json'): Pointer {
  if (!isRecord(value)) fail(source, `must be a JSON object, got ${JSON.stringify(value)?.slice(0, 80)}.`);
  const version = requireString(source, value, 'version');
  if (!isValidVersionId(version))
    fail(source, `version ${JSON.stringify(version)} is not a valid version id.`);
  const manifestSha256 = value.manifestSha256;
  if (typeof manifestSha256 !== 'string' || !SHA256_HEX.test(manifestSha256)) {
    fail(
      source,
      `manifestSha256 must be 64 lower-case hex characters, got ${JSON.stringify(manifestSha256)}.`,
    );
  }
  const publishedAt = requireString(source, value, 'publishedAt');
  const previous = value.previous ?? null;
  if (previous !== null && (typeof previous !== 'string' || !isValidVersionId(previous))) {
    fail(source, `previous must be a version id or null, got ${JSON.stringify(previous)}.`);
  }
  const canary = value.canary == null ? null : validateCanary(value.canary, source);
  if (canary?.version === version) fail(source, `canary names the live version ${version}.`);
  return canary
    ? { version, manifestSha256, publishedAt, previous, canary }
    : { version, manifestSha256, publishedAt, previous };
}

function validateCanary(value: unknown, source: string): CanarySpec {
  if (!isRecord(value))
    fail(source, `canary must be an object or null, got ${JSON.stringify(value)?.slice(0, 80)}.`);
  const version = requireString(source, value, 'version');
  if (!isValidVersionId(version))
    fail(source, `canary.version ${JSON.stringify(version)} is not a valid version id.`);
  const manifestSha256 = value.manifestSha256;
  if (typeof manifestSha256 !== 'string' || !SHA256_HEX.test(manifestSha256))
    fail(
      source,
      `canary.manifestSha256 must be 64 lower-case hex characters, got ${JSON.stringify(manifestSha256)}.`,
    );
  const percent = value.percent;
  if (typeof percent !== 'number' || !(percent > 0 && percent < 100))
    fail(source, `canary.percent must be a number above 0 and below 100, got ${JSON.stringify(percent)}.`);
  const salt = requireString(source, value, 'salt');
  const startedAt = requireString(source, value, 'startedAt');
  return { version, manifestSha256, percent, salt, startedAt };
}
