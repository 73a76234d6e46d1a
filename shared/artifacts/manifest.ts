/**
 * The manifest (`versions/<v>/manifest.json`) and pointer (`current.json`) types, validated with zod
 * (once per version load, never per request): anything read from a store is checked here before
 * any byte of it is trusted, and a refusal names the field and the value.
 */
import { z } from 'zod';
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
  'strings',
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
  'uint16',
  'uint32',
  'utf8',
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
  /** matrix [rows, cols]; vector/ids [n]; neighbors [rows, k]; csr [rows, nnz]; strings [n, text bytes]; others []. */
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
      return dtype === 'float32' || dtype === 'uint32'
        ? 4 * a
        : dtype === 'uint16'
          ? 2 * a
          : dtype === 'uint8'
            ? a
            : null;
    case 'ids':
      return 4 * a;
    case 'neighbors':
      return dtype === 'float32' ? 8 * a * b : dtype === 'float16' ? 6 * a * b : null;
    case 'csr':
      return 4 * (a + 1 + b);
    case 'strings':
      return 4 * (a + 1) + b;
    default:
      return null;
  }
}

const KIND_DTYPES: Readonly<Record<FileKind, readonly FileDtype[]>> = Object.freeze({
  matrix: ['float32', 'float16', 'int8'],
  vector: ['float32', 'uint8', 'uint16', 'uint32'],
  ids: ['uint32'],
  neighbors: ['float32', 'float16'],
  csr: ['uint32'],
  strings: ['utf8'],
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
  strings: 2,
});

/** `"x"`, `42`, `undefined`: a value as it appears in a message (long ones cut). */
function show(value: unknown): string {
  return value === undefined ? 'undefined' : (JSON.stringify(value)?.slice(0, 80) ?? String(value));
}

const oneOf = <T extends string>(field: string, allowed: readonly [T, ...T[]]) =>
  z.enum(allowed, {
    error: (issue) =>
      `${field} is ${show(issue.input)}. Allowed: ${allowed.map((a) => `'${a}'`).join(', ')}.`,
  });

const nonEmptyString = (field: string) =>
  z
    .string({ error: (issue) => `'${field}' must be a non-empty string, got ${show(issue.input)}.` })
    .min(1, { error: (issue) => `'${field}' must be a non-empty string, got ${show(issue.input)}.` });

const record = (field: string) =>
  z.record(z.string(), z.unknown(), {
    error: (issue) => `'${field}' must be an object, got ${show(issue.input)}.`,
  });

const versionId = (field: string) =>
  nonEmptyString(field).refine(isValidVersionId, {
    error: (issue) => `${field} ${show(issue.input)} is not a valid version id.`,
  });

const sha256Hex = (field: string) =>
  z
    .string({ error: (issue) => `${field} must be 64 lower-case hex characters, got ${show(issue.input)}.` })
    .regex(SHA256_HEX, {
      error: (issue) => `${field} must be 64 lower-case hex characters, got ${show(issue.input)}.`,
    });

const shapeMessage = (shape: unknown) =>
  `shape must be an array of non-negative integers, got ${show(shape)}.`;

const QuantizationSchema = z
  .discriminatedUnion(
    'method',
    [
      z.object({ method: z.literal('float16') }),
      z.object({
        method: z.literal('int8-row-symmetric'),
        scaleDtype: oneOf('quantization.scaleDtype', ['float32', 'float16']),
        layout: oneOf('quantization.layout', ['scales-then-values']),
      }),
      z.object({
        method: z.literal('tfjs'),
        dtype: oneOf('quantization.dtype', ['uint8', 'uint16', 'float16']),
      }),
    ],
    {
      error: (issue) =>
        issue.code === 'invalid_union'
          ? `quantization.method is ${show((issue.input as { method?: unknown } | undefined)?.method)}. Allowed: 'float16', 'int8-row-symmetric', 'tfjs'.`
          : `quantization must be an object or null, got ${show(issue.input)}.`,
    },
  )
  .nullish()
  .transform((q): Quantization | null => q ?? null);

/**
 * One file entry: the fields by zod, then what ties them together (dtype allowed for the kind,
 * rank of the shape, int8 needs its quantization, bytes = what dtype and shape imply).
 */
const ManifestFileSchema = z
  .object(
    {
      path: nonEmptyString('path').refine((path) => isValidFilePath(path) && path !== MANIFEST_FILE, {
        error: (issue) =>
          `path ${show(issue.input)} is not a safe relative path ('a-z0-9._-' parts joined by '/').`,
      }),
      kind: oneOf('kind', [...FILE_KINDS]),
      dtype: z.string({ error: (issue) => `dtype is ${show(issue.input)}.` }),
      bytes: z
        .number({ error: (issue) => `bytes must be a non-negative integer, got ${show(issue.input)}.` })
        .refine((n) => Number.isSafeInteger(n) && n >= 0, {
          error: (issue) => `bytes must be a non-negative integer, got ${show(issue.input)}.`,
        }),
      sha256: sha256Hex('sha256'),
      shape: z
        .array(z.unknown(), { error: (issue) => shapeMessage(issue.input) })
        .refine((shape) => shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0), {
          error: (issue) => shapeMessage(issue.input),
        }),
      quantization: QuantizationSchema,
    },
    { error: (issue) => `must be an object, got ${show(issue.input)}.` },
  )
  .superRefine((file, ctx) => {
    const allowed = KIND_DTYPES[file.kind];
    if (!allowed || !Array.isArray(file.shape)) return; // reported by the fields' own checks
    if (!(allowed as readonly string[]).includes(file.dtype)) {
      ctx.addIssue({
        code: 'custom',
        path: ['dtype'],
        message: `dtype is ${show(file.dtype)}. Allowed: ${allowed.map((a) => `'${a}'`).join(', ')}.`,
      });
      return;
    }
    const rank = KIND_RANK[file.kind];
    if (rank !== undefined && file.shape.length !== rank) {
      ctx.addIssue({
        code: 'custom',
        path: ['shape'],
        message: `a ${file.kind} has shape of rank ${rank}, got ${show(file.shape)}.`,
      });
      return;
    }
    const dtype = file.dtype as FileDtype;
    if (file.kind === 'matrix' && dtype === 'int8' && file.quantization?.method !== 'int8-row-symmetric') {
      ctx.addIssue({
        code: 'custom',
        path: ['quantization'],
        message: `an int8 matrix needs quantization method 'int8-row-symmetric', got ${show(file.quantization)}.`,
      });
      return;
    }
    const expected = expectedByteLength(file.kind, dtype, file.shape as number[], file.quantization);
    if (expected !== null && expected !== file.bytes) {
      ctx.addIssue({
        code: 'custom',
        path: ['bytes'],
        message: `a ${dtype} ${file.kind} of shape ${show(file.shape)} has ${expected} bytes, the manifest says ${file.bytes}.`,
      });
    }
  })
  .transform(
    (file): ManifestFile => ({
      path: file.path,
      kind: file.kind,
      bytes: file.bytes,
      sha256: file.sha256,
      dtype: file.dtype as FileDtype,
      shape: file.shape as number[],
      quantization: file.quantization,
    }),
  );

const ManifestSchema = z.object(
  {
    formatVersion: z.unknown().refine((v) => typeof v === 'number' && SUPPORTED_FORMAT_VERSIONS.includes(v), {
      error: (issue) =>
        `unknown format version ${show(issue.input)}. Supported: ${SUPPORTED_FORMAT_VERSIONS.join(', ')}.`,
    }),
    version: versionId('version'),
    createdAt: nonEmptyString('createdAt').refine((v) => !Number.isNaN(Date.parse(v)), {
      error: (issue) => `createdAt ${show(issue.input)} is not an ISO date.`,
    }),
    datasetFingerprint: nonEmptyString('datasetFingerprint'),
    trainingConfig: record('trainingConfig'),
    metrics: record('metrics'),
    backend: nonEmptyString('backend'),
    files: z.array(z.unknown(), { error: (issue) => `'files' must be an array, got ${show(issue.input)}.` }),
  },
  { error: (issue) => `must be a JSON object, got ${show(issue.input)}.` },
);

const PointerSchema = z.object(
  {
    version: versionId('version'),
    manifestSha256: sha256Hex('manifestSha256'),
    publishedAt: nonEmptyString('publishedAt'),
    previous: z
      .string({ error: (issue) => `previous must be a version id or null, got ${show(issue.input)}.` })
      .refine(isValidVersionId, {
        error: (issue) => `previous must be a version id or null, got ${show(issue.input)}.`,
      })
      .nullish()
      .transform((v) => v ?? null),
    canary: z
      .object(
        {
          version: versionId('canary.version'),
          manifestSha256: sha256Hex('canary.manifestSha256'),
          percent: z
            .number({ error: (issue) => `canary.percent must be a number, got ${show(issue.input)}.` })
            .refine((p) => p > 0 && p < 100, {
              error: (issue) => `canary.percent must be above 0 and below 100, got ${show(issue.input)}.`,
            }),
          salt: nonEmptyString('canary.salt'),
          startedAt: nonEmptyString('canary.startedAt'),
        },
        { error: (issue) => `canary must be an object or null, got ${show(issue.input)}.` },
      )
      .nullish()
      .transform((v): CanarySpec | null => v ?? null),
  },
  { error: (issue) => `must be a JSON object, got ${show(issue.input)}.` },
);

/** The first zod issue as `artifact_format`, prefixed with where it was found. */
function refuse(where: string, error: z.ZodError): never {
  const issue = error.issues[0];
  throw new ReelrankError('artifact_format', `${where}: ${issue?.message ?? 'invalid'}`);
}

/** Validate one file entry (exported for writers, which check what they are about to record). */
export function validateManifestFile(source: string, value: unknown, index: number): ManifestFile {
  const parsed = ManifestFileSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  // Name the file by its path once the path itself is valid, else by its index.
  const path = (value as { path?: unknown } | null)?.path;
  const issue = parsed.error.issues[0];
  const pathIsFine = typeof path === 'string' && issue?.path[0] !== 'path' && issue?.path.length !== 0;
  refuse(pathIsFine ? `${source} file '${path}'` : `${source} files[${index}]`, parsed.error);
}

/**
 * Check a parsed manifest and return it typed. An unknown format version, a missing field or an
 * inconsistent file entry throws ReelrankError('artifact_format') naming the field and value.
 */
export function validateManifest(value: unknown, source = MANIFEST_FILE): Manifest {
  const parsed = ManifestSchema.safeParse(value);
  if (!parsed.success) refuse(source, parsed.error);
  const { formatVersion, version, createdAt, datasetFingerprint, trainingConfig, metrics, backend } =
    parsed.data;
  const files = parsed.data.files.map((file, index) => validateManifestFile(source, file, index));
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path))
      throw new ReelrankError('artifact_format', `${source}: file '${file.path}' is listed twice.`);
    seen.add(file.path);
  }
  return {
    formatVersion: formatVersion as number,
    version,
    createdAt,
    datasetFingerprint,
    trainingConfig,
    metrics,
    backend,
    files,
  };
}

/** Check a parsed pointer object (`current.json`). */
export function validatePointer(value: unknown, source = 'current.json'): Pointer {
  const parsed = PointerSchema.safeParse(value);
  if (!parsed.success) refuse(source, parsed.error);
  const { version, manifestSha256, publishedAt, previous, canary } = parsed.data;
  if (canary?.version === version)
    throw new ReelrankError('artifact_format', `${source}: canary names the live version ${version}.`);
  return canary
    ? { version, manifestSha256, publishedAt, previous, canary }
    : { version, manifestSha256, publishedAt, previous };
}
