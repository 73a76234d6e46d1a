import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  encodeCsr,
  encodeIds,
  encodeJson,
  encodeMatrix,
  encodeNeighbors,
  encodeStrings,
  encodeVector,
  type MatrixDtype,
  type ScaleDtype,
  type ScoreDtype,
  type Vector,
  vectorDtypeOf,
} from '../../shared/artifacts/codecs.ts';
import {
  type FileDtype,
  type FileKind,
  isValidFilePath,
  isValidVersionId,
  type Manifest,
  type ManifestFile,
  makeVersionId,
  type Quantization,
  validateManifest,
} from '../../shared/artifacts/manifest.ts';
import {
  ARTIFACT_FILES,
  type ArtifactName,
  FORMAT_VERSION,
  MANIFEST_FILE,
} from '../../shared/artifacts/spec.ts';
import { encodeTfjsModel, type TfjsQuantization } from '../../shared/artifacts/tfjs.ts';
import { ReelrankError } from '../../shared/errors.ts';
import { sha256Hex } from '../../shared/hash.ts';
import type { io } from '@tensorflow/tfjs-core';

/** A named file of ARTIFACT_FILES, or a custom path inside the version folder. */
export type FileName = ArtifactName | (string & {});

export interface VersionWriterOptions {
  /** Version id; default `<created-at>-<content hash>` (sortable by time), fixed at finish(). */
  version?: string;
  datasetFingerprint: string;
  trainingConfig: Record<string, unknown>;
  /** Where the numbers were computed, e.g. 'tfjs-cpu', 'typed-arrays'. */
  backend: string;
  /** Creation time (default now); tests pin it. */
  createdAt?: Date;
}

/** Anything with `save(handler)`, i.e. a tf.LayersModel (kept structural so train/ code need not import tfjs here). */
export interface SavableModel {
  save(handler: io.IOHandler): Promise<io.SaveResult>;
}

function pathFor(name: FileName, kind: FileKind): string {
  const named = (ARTIFACT_FILES as Record<string, { path: string; kind: string } | undefined>)[name];
  if (named !== undefined) {
    if (named.kind !== kind) {
      throw new ReelrankError(
        'bad_input',
        `Artifact ${name} (${named.path}) is a ${named.kind}, it cannot be written as a ${kind}.`,
      );
    }
    return named.path;
  }
  if (!isValidFilePath(name) || name === MANIFEST_FILE) {
    throw new ReelrankError(
      'bad_input',
      `Artifact name ${JSON.stringify(name)} is neither a known artifact (${Object.keys(ARTIFACT_FILES).join(', ')}) nor a safe relative path.`,
    );
  }
  return name;
}

/**
 * Writes one immutable version folder: every file is encoded, hashed and written as it is added;
 * `finish()` writes manifest.json last and moves the folder to `<dir>/<version>` in one rename,
 * so `<dir>` never holds a half-written version.
 *
 * @example
 * const writer = new VersionWriter('artifacts', { datasetFingerprint, trainingConfig, backend: 'typed-arrays' });
 * await writer.matrix('itemFactors', factors, items, k, { dtype: 'int8' });
 * const manifest = await writer.finish(); // artifacts/<manifest.version>/manifest.json
 */
export class VersionWriter {
  readonly parentDir: string;
  /** The folder files are written into until finish() (a hidden staging folder). */
  readonly stagingDir: string;
  private readonly options: VersionWriterOptions;
  private readonly createdAt: Date;
  private readonly files: ManifestFile[] = [];
  private metricsValue: Record<string, unknown> = {};
  private ready: Promise<void>;
  private finished = false;

  constructor(dir: string, options: VersionWriterOptions) {
    if (options.version !== undefined && !isValidVersionId(options.version)) {
      throw new ReelrankError(
        'bad_input',
        `Version id ${JSON.stringify(options.version)} is invalid: use letters, digits, '.', '_' and '-' (max 128).`,
      );
    }
    this.parentDir = resolve(dir);
    this.options = options;
    this.createdAt = options.createdAt ?? new Date();
    this.stagingDir = join(
      this.parentDir,
      `.staging-${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
    );
    this.ready = mkdir(this.stagingDir, { recursive: true }).then(() => undefined);
  }

  /** Paths written so far. */
  get paths(): string[] {
    return this.files.map((f) => f.path);
  }

  private async add(
    path: string,
    kind: FileKind,
    dtype: FileDtype,
    shape: number[],
    quantization: Quantization | null,
    bytes: Uint8Array,
  ): Promise<ManifestFile> {
    if (this.finished) {
      throw new ReelrankError('bad_input', `Version already finished; cannot add ${path}.`);
    }
    if (this.files.some((f) => f.path === path)) {
      throw new ReelrankError('bad_input', `File ${path} was already written to this version.`);
    }
    // Reserve the path before awaiting, so two concurrent adds of one path fail deterministically.
    const entry: ManifestFile = { path, kind, bytes: bytes.length, sha256: '', dtype, shape, quantization };
    this.files.push(entry);
    await this.ready;
    const file = join(this.stagingDir, ...path.split('/'));
    await mkdir(dirname(file), { recursive: true });
    entry.sha256 = await sha256Hex(bytes);
    await writeFile(file, bytes);
    return entry;
  }

  /**
   * A row-major float32 matrix stored as float32, float16 or int8 with a per-row scale (float32
   * scales by default; `scaleDtype: 'float16'` saves 2 bytes per row, see shared/artifacts/codecs.ts).
   * @example await writer.matrix('itemFactors', factors, items, 64, { dtype: 'int8' })
   */
  matrix(
    name: FileName,
    data: Float32Array,
    rows: number,
    cols: number,
    { dtype = 'float32', scaleDtype = 'float32' }: { dtype?: MatrixDtype; scaleDtype?: ScaleDtype } = {},
  ): Promise<ManifestFile> {
    const path = pathFor(name, 'matrix');
    const bytes = encodeMatrix(data, rows, cols, dtype, { scaleDtype });
    const quantization: Quantization | null =
      dtype === 'int8'
        ? { method: 'int8-row-symmetric', scaleDtype, layout: 'scales-then-values' }
        : dtype === 'float16'
          ? { method: 'float16' }
          : null;
    return this.add(path, 'matrix', dtype, [rows, cols], quantization, bytes);
  }

  /** A float32, uint8, uint16 or uint32 vector (stored as the array's type). */
  vector(name: FileName, data: Vector): Promise<ManifestFile> {
    const dtype = vectorDtypeOf(data);
    return this.add(pathFor(name, 'vector'), 'vector', dtype, [data.length], null, encodeVector(data));
  }

  /** A string column: one UTF-8 text and an offset per entry (shared/artifacts/codecs.ts). */
  strings(name: FileName, values: readonly string[]): Promise<ManifestFile> {
    const { bytes, textBytes } = encodeStrings(values);
    return this.add(pathFor(name, 'strings'), 'strings', 'utf8', [values.length, textBytes], null, bytes);
  }

  /** A uint32 id list (e.g. item index -> movieId). */
  ids(name: FileName, ids: Uint32Array): Promise<ManifestFile> {
    return this.add(pathFor(name, 'ids'), 'ids', 'uint32', [ids.length], null, encodeIds(ids));
  }

  /** A CSR list: `offsets` (rows + 1) into `indexes`. */
  csr(name: FileName, offsets: Uint32Array, indexes: Uint32Array): Promise<ManifestFile> {
    const bytes = encodeCsr(offsets, indexes);
    return this.add(pathFor(name, 'csr'), 'csr', 'uint32', [offsets.length - 1, indexes.length], null, bytes);
  }

  /** Fixed-K neighbour lists [rows, k] (ids + scores, best first). */
  neighbors(
    name: FileName,
    ids: Uint32Array,
    scores: Float32Array,
    rows: number,
    k: number,
    { scoreDtype = 'float16' }: { scoreDtype?: ScoreDtype } = {},
  ): Promise<ManifestFile> {
    const bytes = encodeNeighbors(ids, scores, rows, k, scoreDtype);
    const quantization: Quantization | null = scoreDtype === 'float16' ? { method: 'float16' } : null;
    return this.add(pathFor(name, 'neighbors'), 'neighbors', scoreDtype, [rows, k], quantization, bytes);
  }

  /** A JSON file. */
  json(name: FileName, value: unknown): Promise<ManifestFile> {
    return this.add(pathFor(name, 'json'), 'json', 'json', [], null, encodeJson(value));
  }

  /** Any other file (e.g. the HTML report), stored as-is. */
  raw(name: FileName, bytes: Uint8Array): Promise<ManifestFile> {
    return this.add(pathFor(name, 'other'), 'other', 'bytes', [], null, bytes);
  }

  /**
   * A TF.js LayersModel as `<name>/model.json` + `group1-shardNofM.bin`, weights quantized through
   * the weights-manifest `quantization` entries. `name` is a 'tfjs' artifact ('reranker') or a
   * custom model.json path.
   */
  async tfjsModel(
    name: FileName,
    model: SavableModel,
    { quantization = null, shardBytes }: { quantization?: TfjsQuantization; shardBytes?: number } = {},
  ): Promise<ManifestFile[]> {
    const modelPath = pathFor(name, 'tfjs');
    if (!modelPath.endsWith('.json')) {
      throw new ReelrankError('bad_input', `A TF.js model path must end in .json, got ${modelPath}.`);
    }
    let captured: io.ModelArtifacts | null = null;
    await model.save({
      save: async (artifacts) => {
        captured = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      },
    });
    if (captured === null)
      throw new ReelrankError('bad_input', `Model ${name} did not pass artifacts to save().`);
    const options = shardBytes === undefined ? { quantization } : { quantization, shardBytes };
    const files = encodeTfjsModel(captured, options);
    const base = modelPath.slice(0, modelPath.lastIndexOf('/') + 1);
    const tfjsQuantization: Quantization | null =
      quantization === null ? null : { method: 'tfjs', dtype: quantization };
    const entries: ManifestFile[] = [];
    for (const file of files) {
      const isModel = file.path === 'model.json';
      const path = isModel ? modelPath : base + file.path;
      entries.push(
        await this.add(
          path,
          isModel ? 'tfjs' : 'tfjs-weights',
          isModel ? 'json' : 'bytes',
          [],
          tfjsQuantization,
          file.bytes,
        ),
      );
    }
    return entries;
  }

  /** Evaluation metrics, recorded in the manifest (and as metrics.json). */
  async metrics(values: Record<string, unknown>): Promise<void> {
    this.metricsValue = { ...this.metricsValue, ...values };
  }

  /**
   * Write manifest.json last and publish the folder as `<dir>/<version>` (one rename). Returns the
   * manifest. Fails if that folder exists already (versions are immutable).
   */
  async finish(): Promise<Manifest & { dir: string }> {
    if (this.finished) throw new ReelrankError('bad_input', 'finish() was already called on this version.');
    await this.ready;
    if (
      Object.keys(this.metricsValue).length > 0 &&
      !this.files.some((f) => f.path === ARTIFACT_FILES.metrics.path)
    ) {
      await this.json('metrics', this.metricsValue);
    }
    this.finished = true;
    const files = [...this.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const contentHash = await sha256Hex(
      new TextEncoder().encode(files.map((f) => `${f.path}:${f.sha256}`).join('\n')),
    );
    const version = this.options.version ?? makeVersionId(this.createdAt, contentHash);
    const manifest: Manifest = validateManifest(
      {
        formatVersion: FORMAT_VERSION,
        version,
        createdAt: this.createdAt.toISOString(),
        datasetFingerprint: this.options.datasetFingerprint,
        trainingConfig: this.options.trainingConfig,
        metrics: this.metricsValue,
        backend: this.options.backend,
        files,
      },
      `manifest of ${version}`,
    );
    await writeFile(join(this.stagingDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
    const dir = join(this.parentDir, version);
    const existing = await readdir(dir).catch(() => null);
    if (existing !== null) {
      await rm(this.stagingDir, { recursive: true, force: true });
      throw new ReelrankError('bad_input', `Version folder ${dir} exists already; versions are immutable.`);
    }
    await rename(this.stagingDir, dir);
    return { ...manifest, dir };
  }

  /** Remove the staging folder without publishing anything (after a failed training run). */
  async abort(): Promise<void> {
    this.finished = true;
    await rm(this.stagingDir, { recursive: true, force: true });
  }
}
