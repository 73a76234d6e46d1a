/**
 * Reads a published version from any ObjectStore: the pointer (current.json), then the manifest it
 * pins, then lazily only the files a caller asks for, each verified (byte size and sha256) before
 * it is decoded. Every failure is a ReelrankError naming the file and what differs:
 *   'artifact_missing'  pointer, manifest or file absent (or not listed in the manifest)
 *   'artifact_corrupt'  size or sha256 differs from the manifest / pointer, unparsable JSON
 *   'artifact_format'   unknown format version, inconsistent manifest entry, wrong kind or dtype
 */
import { ReelrankError } from '../errors.ts';
import { sha256Hex } from '../hash.ts';
import type { ObjectStore } from '../store.ts';
import {
  type Csr,
  decodeCsr,
  decodeIds,
  decodeJson,
  decodeMatrix,
  decodeNeighbors,
  decodeStrings,
  decodeVector,
  type Matrix,
  type Neighbors,
  type StringColumn,
  type Vector,
} from './codecs.ts';
import {
  type FileKind,
  type Manifest,
  type ManifestFile,
  type Pointer,
  validateManifest,
  validatePointer,
} from './manifest.ts';
import { ARTIFACT_FILES, type ArtifactName, MANIFEST_FILE, POINTER_KEY, versionKey } from './spec.ts';
import { loadTfjsArtifacts } from './tfjs.ts';
import type { io } from '@tensorflow/tfjs-core';

/** A named file of ARTIFACT_FILES, or any other path listed in the manifest. */
export type FileRef = ArtifactName | (string & {});

/** The path inside a version folder of a named artifact (or the path itself). */
export function artifactPath(ref: FileRef): string {
  const named = (ARTIFACT_FILES as Record<string, { path: string } | undefined>)[ref];
  return named?.path ?? ref;
}

/**
 * Read and validate the pointer; null when the store has none (nothing published yet).
 * The pointer is the one object that is overwritten in place. S3, R2 and FsStore replace it
 * atomically, but some S3-compatible servers (s3rver) can serve a half-written object while a
 * publisher rewrites it, so an unparsable pointer is re-read a few times before it counts as corrupt.
 */
export async function readPointer(
  store: ObjectStore,
  { attempts = 4, retryDelayMs = 50 }: { attempts?: number; retryDelayMs?: number } = {},
): Promise<Pointer | null> {
  const where = `${store.description}/${POINTER_KEY}`;
  for (let attempt = 1; ; attempt++) {
    const bytes = await store.get(POINTER_KEY);
    if (bytes === null) return null;
    try {
      return validatePointer(decodeJson(bytes, `Pointer ${where}`), where);
    } catch (error) {
      if (attempt >= attempts || !(error instanceof ReelrankError)) throw error;
      await new Promise<void>((resolve) => setTimeout(resolve, retryDelayMs * attempt));
    }
  }
}

/**
 * Read and validate a version's manifest. With `expectedSha256` (from the pointer) the manifest
 * bytes must hash to it.
 */
export async function readManifest(
  store: ObjectStore,
  version: string,
  expectedSha256?: string,
): Promise<{ manifest: Manifest; sha256: string; bytes: Uint8Array }> {
  const key = versionKey(version, MANIFEST_FILE);
  const where = `${store.description}/${key}`;
  const bytes = await store.get(key);
  if (bytes === null) {
    throw new ReelrankError('artifact_missing', `Manifest ${where} of version ${version} does not exist.`, {
      version,
      file: MANIFEST_FILE,
    });
  }
  const sha256 = await sha256Hex(bytes);
  if (expectedSha256 !== undefined && sha256 !== expectedSha256) {
    throw new ReelrankError(
      'artifact_corrupt',
      `Manifest ${where} has sha256 ${sha256}, the pointer expects ${expectedSha256}.`,
      { version, file: MANIFEST_FILE, expectedSha256, actualSha256: sha256 },
    );
  }
  const manifest = validateManifest(decodeJson(bytes, `Manifest ${where}`), where);
  if (manifest.version !== version) {
    throw new ReelrankError(
      'artifact_corrupt',
      `Manifest ${where} names version ${manifest.version}, but it sits in the folder of version ${version}.`,
    );
  }
  return { manifest, sha256, bytes };
}

/**
 * Check `bytes` against a manifest entry; throws 'artifact_corrupt' naming the file, expected vs
 * actual size or hash.
 */
export async function verifyFileBytes(entry: ManifestFile, bytes: Uint8Array, where: string): Promise<void> {
  if (bytes.length !== entry.bytes) {
    throw new ReelrankError(
      'artifact_corrupt',
      `${where} has ${bytes.length} bytes, the manifest says ${entry.bytes}${bytes.length < entry.bytes ? ' (truncated)' : ''}.`,
      { file: entry.path, expectedBytes: entry.bytes, actualBytes: bytes.length },
    );
  }
  const sha256 = await sha256Hex(bytes);
  if (sha256 !== entry.sha256) {
    throw new ReelrankError(
      'artifact_corrupt',
      `${where} has sha256 ${sha256}, the manifest says ${entry.sha256}.`,
      {
        file: entry.path,
        expectedSha256: entry.sha256,
        actualSha256: sha256,
      },
    );
  }
}

export interface OpenOptions {
  /** Open this version instead of the one the pointer names (no pointer needed). */
  version?: string;
}

/** One problem found by `verifyAll`. */
export interface FileProblem {
  path: string;
  code: string;
  message: string;
}

/**
 * Open the live version (or `options.version`) of a store. Reads two small objects; files are
 * fetched and verified on first use and cached as verified bytes.
 * @example const live = await openVersion(store); const items = await live.matrix('itemFactors');
 */
export async function openVersion(store: ObjectStore, options: OpenOptions = {}): Promise<ArtifactVersion> {
  let pointer: Pointer | null = null;
  let version = options.version;
  if (version === undefined) {
    pointer = await readPointer(store);
    if (pointer === null) {
      throw new ReelrankError(
        'artifact_missing',
        `No version is published in ${store.description}: ${POINTER_KEY} does not exist.`,
        { file: POINTER_KEY },
      );
    }
    version = pointer.version;
  }
  const { manifest, sha256 } = await readManifest(store, version, pointer?.manifestSha256);
  return new ArtifactVersion(store, manifest, sha256, pointer);
}

/** A verified, lazily loaded version. */
export class ArtifactVersion {
  readonly version: string;
  private readonly files = new Map<string, ManifestFile>();
  private readonly cache = new Map<string, Promise<Uint8Array>>();

  constructor(
    readonly store: ObjectStore,
    readonly manifest: Manifest,
    readonly manifestSha256: string,
    readonly pointer: Pointer | null,
  ) {
    this.version = manifest.version;
    for (const file of manifest.files) this.files.set(file.path, file);
  }

  /** True when the manifest lists the file. */
  has(ref: FileRef): boolean {
    return this.files.has(artifactPath(ref));
  }

  /** The manifest entry of a file; 'artifact_missing' when the manifest does not list it. */
  entry(ref: FileRef, kind?: FileKind): ManifestFile {
    const path = artifactPath(ref);
    const entry = this.files.get(path);
    if (entry === undefined) {
      throw new ReelrankError(
        'artifact_missing',
        `Version ${this.version} in ${this.store.description} has no file ${path}${ref !== path ? ` (${ref})` : ''}.`,
        { version: this.version, file: path },
      );
    }
    if (kind !== undefined && entry.kind !== kind) {
      throw new ReelrankError(
        'artifact_format',
        `File ${path} of version ${this.version} is a ${entry.kind}, not a ${kind}.`,
        { version: this.version, file: path },
      );
    }
    return entry;
  }

  /** The verified bytes of a file (fetched once; a failed read is not cached). */
  bytes(ref: FileRef): Promise<Uint8Array> {
    const entry = this.entry(ref);
    let pending = this.cache.get(entry.path);
    if (pending === undefined) {
      pending = this.fetchVerified(entry);
      this.cache.set(entry.path, pending);
      pending.catch(() => this.cache.delete(entry.path));
    }
    return pending;
  }

  private async fetchVerified(entry: ManifestFile): Promise<Uint8Array> {
    const key = versionKey(this.version, entry.path);
    const where = `File ${entry.path} of version ${this.version} (${this.store.description}/${key})`;
    const bytes = await this.store.get(key);
    if (bytes === null) {
      throw new ReelrankError('artifact_missing', `${where} does not exist.`, {
        version: this.version,
        file: entry.path,
      });
    }
    await verifyFileBytes(entry, bytes, where);
    return bytes;
  }

  /** A matrix in its stored form (int8 + scales, float16 bits or float32). */
  async matrix(ref: FileRef): Promise<Matrix> {
    const entry = this.entry(ref, 'matrix');
    const [rows = 0, cols = 0] = entry.shape;
    const scaleDtype =
      entry.quantization?.method === 'int8-row-symmetric' ? entry.quantization.scaleDtype : 'float32';
    return decodeMatrix(await this.bytes(ref), rows, cols, entry.dtype, { scaleDtype });
  }

  /** A float32, uint8, uint16 or uint32 vector. */
  async vector(ref: FileRef): Promise<Vector> {
    const entry = this.entry(ref, 'vector');
    return decodeVector(await this.bytes(ref), entry.shape[0] ?? 0, entry.dtype);
  }

  /** A float32 vector ('artifact_format' when stored as uint8). */
  async floatVector(ref: FileRef): Promise<Float32Array> {
    const vector = await this.vector(ref);
    if (!(vector instanceof Float32Array)) {
      throw new ReelrankError(
        'artifact_format',
        `File ${artifactPath(ref)} is a ${this.entry(ref).dtype} vector, expected float32.`,
      );
    }
    return vector;
  }

  /** A uint32 id list. */
  async ids(ref: FileRef): Promise<Uint32Array> {
    const entry = this.entry(ref, 'ids');
    return decodeIds(await this.bytes(ref), entry.shape[0] ?? 0);
  }

  /** Fixed-K neighbour lists. */
  async neighbors(ref: FileRef): Promise<Neighbors> {
    const entry = this.entry(ref, 'neighbors');
    const [rows = 0, k = 0] = entry.shape;
    return decodeNeighbors(await this.bytes(ref), rows, k, entry.dtype);
  }

  /** A CSR list (e.g. per-user seen items); bad offsets are `artifact_corrupt` naming the file. */
  async csr(ref: FileRef): Promise<Csr> {
    const entry = this.entry(ref, 'csr');
    const [rows = 0, nnz = 0] = entry.shape;
    const bytes = await this.bytes(ref);
    try {
      return decodeCsr(bytes, rows, nnz);
    } catch (error) {
      if (!(error instanceof ReelrankError)) throw error;
      throw new ReelrankError(error.code, `File ${entry.path} of version ${this.version}: ${error.message}`, {
        version: this.version,
        file: entry.path,
      });
    }
  }

  /** A string column (one decoded text + offsets); bad offsets or UTF-8 are `artifact_corrupt` naming the file. */
  async strings(ref: FileRef): Promise<StringColumn> {
    const entry = this.entry(ref, 'strings');
    const [count = 0, textBytes = 0] = entry.shape;
    const bytes = await this.bytes(ref);
    try {
      return decodeStrings(bytes, count, textBytes);
    } catch (error) {
      if (!(error instanceof ReelrankError)) throw error;
      throw new ReelrankError(error.code, `File ${entry.path} of version ${this.version}: ${error.message}`, {
        version: this.version,
        file: entry.path,
      });
    }
  }

  /** A JSON file, parsed (the caller states the type; validate it where it matters). */
  async json<T = unknown>(ref: FileRef): Promise<T> {
    const entry = this.entry(ref);
    if (entry.dtype !== 'json') {
      throw new ReelrankError(
        'artifact_format',
        `File ${entry.path} of version ${this.version} is ${entry.dtype}, not JSON.`,
      );
    }
    return decodeJson<T>(await this.bytes(ref), `File ${entry.path} of version ${this.version}`);
  }

  /**
   * An IOHandler for `tf.loadLayersModel` reading a TF.js model of this version, every file
   * verified against the manifest.
   * @example const reranker = await tf.loadLayersModel(live.tfjsHandler('reranker'));
   */
  tfjsHandler(ref: FileRef): io.IOHandler {
    const modelPath = this.entry(ref, 'tfjs').path;
    return { load: () => loadTfjsArtifacts((path) => this.bytes(path), modelPath) };
  }

  /** Verify every file of the version; returns the problems (empty = all good). */
  async verifyAll(onFile?: (path: string, problem: FileProblem | null) => void): Promise<FileProblem[]> {
    const problems: FileProblem[] = [];
    for (const entry of this.manifest.files) {
      let problem: FileProblem | null = null;
      try {
        await this.bytes(entry.path);
      } catch (error) {
        if (!(error instanceof ReelrankError)) throw error;
        problem = { path: entry.path, code: error.code, message: error.message };
        problems.push(problem);
      }
      onFile?.(entry.path, problem);
    }
    return problems;
  }
}
