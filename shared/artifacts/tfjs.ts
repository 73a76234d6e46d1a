/**
 * TF.js LayersModel artifacts over any ObjectStore-like reader/writer: `model.json` plus
 * `group1-shardNofM.bin`, with float32 weights quantized through the standard weights-manifest
 * `quantization: {dtype, scale, min}` entries, so that `tf.loadLayersModel(handler)` reads them
 * unchanged (tfjs-core dequantizes on load). Only TYPES come from tfjs-core: this module runs in
 * Workers and Node without pulling TensorFlow.js in.
 *
 * Quantization (matching tensorflow/tfjs-converter's quantization.py):
 *   uint8/uint16  affine: scale = (max - min) / (2^bits - 1), min nudged so 0 is exact when
 *                 min <= 0 <= max; q = round((clip(x) - min) / scale); x' = q * scale + min.
 *                 Error bound per weight tensor: |x - x'| <= scale / 2 (+ float32 rounding).
 *   float16       binary16; relative error <= 2^-11 for |x| in [6.1e-5, 65504].
 */
import type { io } from '@tensorflow/tfjs-core';
import { ReelrankError } from '../errors.ts';
import type { ObjectStore } from '../store.ts';
import { encodeFloat16 } from './float16.ts';

export type TfjsQuantization = 'uint8' | 'uint16' | 'float16' | null;
export const TFJS_QUANTIZATIONS: readonly Exclude<TfjsQuantization, null>[] = Object.freeze([
  'uint8',
  'uint16',
  'float16',
]);

/** Default shard size: 4 MB, what the TF.js converter writes. */
export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

export interface TfjsSaveOptions {
  /** How float32 weights are stored; null keeps float32. */
  quantization?: TfjsQuantization;
  shardBytes?: number;
}

export interface EncodedFile {
  /** Path relative to the folder of model.json ('model.json', 'group1-shard1of2.bin', ...). */
  path: string;
  bytes: Uint8Array;
}

type WeightSpec = io.WeightsManifestEntry;

const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = Object.freeze({
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
});

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function concatBuffers(parts: readonly (ArrayBuffer | Uint8Array)[]): Uint8Array {
  const views = parts.map((p) => (p instanceof Uint8Array ? p : new Uint8Array(p)));
  const out = new Uint8Array(views.reduce((n, v) => n + v.length, 0));
  let offset = 0;
  for (const v of views) {
    out.set(v, offset);
    offset += v.length;
  }
  return out;
}

/** Affine range of tfjs-converter: nudge `min` so that 0 quantizes exactly (biases, ReLU zeros). */
function affineRange(min: number, max: number, levels: number): { scale: number; min: number; max: number } {
  if (max === min) return { scale: 1, min, max };
  const scale = (max - min) / levels;
  if (min <= 0 && max >= 0) {
    const zeroPoint = Math.round(-min / scale);
    const nudgedMin = -zeroPoint * scale;
    return { scale, min: nudgedMin, max: levels * scale + nudgedMin };
  }
  return { scale, min, max };
}

/**
 * Quantize one float32 weight for the weights manifest.
 * @example quantizeWeight(new Float32Array([-1, 0, 1]), 'uint8') // bytes [0, 128, 255]-ish, scale 2/255
 */
export function quantizeWeight(
  values: Float32Array,
  dtype: Exclude<TfjsQuantization, null>,
): { bytes: Uint8Array; quantization: NonNullable<WeightSpec['quantization']> } {
  if (dtype === 'float16') {
    const half = encodeFloat16(values);
    return { bytes: new Uint8Array(half.buffer, half.byteOffset, half.byteLength), quantization: { dtype } };
  }
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (values.length === 0) {
    min = 0;
    max = 0;
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    throw new ReelrankError(
      'bad_input',
      `Cannot quantize a weight holding non-finite values (min ${min}, max ${max}).`,
    );
  }
  const levels = dtype === 'uint8' ? 255 : 65535;
  const range = affineRange(min, max, levels);
  const quantized = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const clipped = Math.min(range.max, Math.max(range.min, values[i]!));
    const q = Math.round((clipped - range.min) / range.scale);
    quantized[i] = Math.min(levels, Math.max(0, q));
  }
  return {
    bytes: new Uint8Array(quantized.buffer, quantized.byteOffset, quantized.byteLength),
    quantization: { dtype, scale: range.scale, min: range.min },
  };
}

/** Shard file name as the TF.js converter writes it (1-based). */
export function shardName(group: number, shard: number, shards: number): string {
  return `group${group}-shard${shard}of${shards}.bin`;
}

/**
 * Encode saved model artifacts (what `model.save(handler)` passes to `handler.save`) as
 * model.json + weight shards, quantizing float32 weights as asked.
 */
export function encodeTfjsModel(
  artifacts: io.ModelArtifacts,
  { quantization = null, shardBytes = DEFAULT_SHARD_BYTES }: TfjsSaveOptions = {},
): EncodedFile[] {
  if (quantization !== null && !TFJS_QUANTIZATIONS.includes(quantization)) {
    throw new ReelrankError(
      'bad_input',
      `Unknown TF.js weight quantization ${JSON.stringify(quantization)}. Supported: 'uint8', 'uint16', 'float16', null.`,
    );
  }
  if (!Number.isSafeInteger(shardBytes) || shardBytes < 1) {
    throw new ReelrankError('bad_input', `shardBytes must be a positive integer, got ${shardBytes}.`);
  }
  if (artifacts.modelTopology instanceof ArrayBuffer) {
    throw new ReelrankError(
      'bad_input',
      'Only JSON model topologies (LayersModel) can be saved, got a binary GraphDef.',
    );
  }
  const specs = artifacts.weightSpecs ?? [];
  const weightData = artifacts.weightData ?? new ArrayBuffer(0);
  const source = concatBuffers(Array.isArray(weightData) ? weightData : [weightData]);

  const outSpecs: WeightSpec[] = [];
  const outParts: Uint8Array[] = [];
  let offset = 0;
  for (const spec of specs) {
    const width = BYTES_PER_ELEMENT[spec.quantization?.dtype ?? spec.dtype];
    if (width === undefined) {
      throw new ReelrankError(
        'bad_input',
        `Weight ${spec.name} has dtype ${spec.dtype}, which this saver cannot store. Supported: float32, int32, bool.`,
      );
    }
    const length = elementCount(spec.shape) * width;
    const raw = source.subarray(offset, offset + length);
    offset += length;
    if (quantization !== null && spec.dtype === 'float32' && spec.quantization === undefined) {
      // Copy: the source bytes may sit at an offset that is not 4-byte aligned.
      const values = new Float32Array(raw.slice().buffer);
      const quantized = quantizeWeight(values, quantization);
      outSpecs.push({ ...spec, quantization: quantized.quantization });
      outParts.push(quantized.bytes);
    } else {
      outSpecs.push({ ...spec });
      outParts.push(raw);
    }
  }
  if (offset !== source.length) {
    throw new ReelrankError(
      'bad_input',
      `Weight specs describe ${offset} bytes but the model passed ${source.length} bytes of weight data.`,
    );
  }
  const weights = concatBuffers(outParts);
  const shards = Math.max(1, Math.ceil(weights.length / shardBytes));
  const files: EncodedFile[] = [];
  const paths: string[] = [];
  for (let s = 0; s < shards; s++) {
    const path = shardName(1, s + 1, shards);
    paths.push(path);
    files.push({
      path,
      bytes: weights.slice(s * shardBytes, Math.min(weights.length, (s + 1) * shardBytes)),
    });
  }
  const modelJson: io.ModelJSON = {
    modelTopology: artifacts.modelTopology as io.ModelJSON['modelTopology'],
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? 'reelrank',
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths, weights: outSpecs }],
  };
  if (artifacts.trainingConfig !== undefined) modelJson.trainingConfig = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata !== undefined)
    modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.signature !== undefined) modelJson.signature = artifacts.signature;
  files.unshift({ path: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(modelJson)) });
  return files;
}

/** Reads one file (a path relative to the store root) or returns null when it does not exist. */
export type ReadFile = (path: string) => Promise<Uint8Array | null>;
export type WriteFile = (path: string, bytes: Uint8Array) => Promise<void>;

function dirOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash + 1);
}

function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  if (
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
  ) {
    return bytes.buffer;
  }
  return bytes.slice().buffer;
}

/**
 * Load model artifacts from `modelPath` (e.g. 'versions/v1/reranker/model.json'), reading shards
 * named in its weights manifest relative to its folder.
 */
export async function loadTfjsArtifacts(read: ReadFile, modelPath: string): Promise<io.ModelArtifacts> {
  const modelBytes = await read(modelPath);
  if (modelBytes === null) {
    throw new ReelrankError('artifact_missing', `TF.js model ${modelPath} does not exist.`);
  }
  let modelJson: io.ModelJSON;
  try {
    modelJson = JSON.parse(new TextDecoder().decode(modelBytes)) as io.ModelJSON;
  } catch (error) {
    throw new ReelrankError(
      'artifact_corrupt',
      `TF.js model ${modelPath} is not valid JSON: ${(error as Error).message}.`,
    );
  }
  if (typeof modelJson !== 'object' || modelJson === null || modelJson.modelTopology === undefined) {
    throw new ReelrankError('artifact_format', `TF.js model ${modelPath} has no modelTopology.`);
  }
  const base = dirOf(modelPath);
  const weightSpecs: WeightSpec[] = [];
  const parts: Uint8Array[] = [];
  for (const group of modelJson.weightsManifest ?? []) {
    weightSpecs.push(...group.weights);
    for (const shardPath of group.paths) {
      const path = base + shardPath;
      const shard = await read(path);
      if (shard === null) {
        throw new ReelrankError(
          'artifact_missing',
          `Weight shard ${path} of TF.js model ${modelPath} does not exist.`,
        );
      }
      parts.push(shard);
    }
  }
  const weightData = concatBuffers(parts);
  const expected = weightSpecs.reduce(
    (n, spec) =>
      n + elementCount(spec.shape) * (BYTES_PER_ELEMENT[spec.quantization?.dtype ?? spec.dtype] ?? 0),
    0,
  );
  if (expected !== weightData.length) {
    throw new ReelrankError(
      'artifact_corrupt',
      `Weight shards of TF.js model ${modelPath} hold ${weightData.length} bytes, its weights manifest describes ${expected}.`,
      { expectedBytes: expected, actualBytes: weightData.length },
    );
  }
  const artifacts: io.ModelArtifacts = {
    modelTopology: modelJson.modelTopology,
    weightSpecs,
    weightData: exactBuffer(weightData),
    format: modelJson.format,
    generatedBy: modelJson.generatedBy,
    convertedBy: modelJson.convertedBy,
  };
  if (modelJson.trainingConfig !== undefined) artifacts.trainingConfig = modelJson.trainingConfig;
  if (modelJson.userDefinedMetadata !== undefined)
    artifacts.userDefinedMetadata = modelJson.userDefinedMetadata;
  if (modelJson.signature !== undefined) artifacts.signature = modelJson.signature;
  return artifacts;
}

/**
 * An IOHandler for `tf.loadLayersModel(handler)` and `model.save(handler)` over any storage,
 * given as read/write functions (e.g. an ObjectStore's get/put, or a verified artifact loader).
 * @example await tf.loadLayersModel(tfjsIOHandler({ read: (k) => store.get(k) }, 'versions/v1/reranker/model.json'))
 */
export function tfjsIOHandler(
  storage: { read?: ReadFile; write?: WriteFile },
  modelPath: string,
  options: TfjsSaveOptions = {},
): io.IOHandler {
  const handler: io.IOHandler = {};
  const { read, write } = storage;
  if (read !== undefined) handler.load = () => loadTfjsArtifacts(read, modelPath);
  if (write !== undefined) {
    handler.save = async (artifacts) => {
      const files = encodeTfjsModel(artifacts, options);
      const base = dirOf(modelPath);
      // Shards first, model.json last: a reader never sees a model.json whose shards are missing.
      for (const file of [...files.slice(1), files[0]!]) {
        await write(file.path === 'model.json' ? modelPath : base + file.path, file.bytes);
      }
      const topologyBytes = files[0]!.bytes.length;
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: topologyBytes,
          weightDataBytes: files.slice(1).reduce((n, f) => n + f.bytes.length, 0),
        },
      };
    };
  }
  return handler;
}

/**
 * `tfjsIOHandler` over an ObjectStore (filesystem, S3, R2, memory): `model.save(handler)` writes
 * shards then model.json; `tf.loadLayersModel(handler)` reads them back. Unverified: to load a
 * model of a published version, use `ArtifactVersion.tfjsHandler`, which checks every file.
 * @example await model.save(storeIOHandler(store, 'models/reranker/model.json', { quantization: 'uint8' }))
 */
export function storeIOHandler(
  store: ObjectStore,
  modelKey: string,
  options: TfjsSaveOptions = {},
): io.IOHandler {
  return tfjsIOHandler(
    { read: (key) => store.get(key), write: (key, bytes) => store.put(key, bytes) },
    modelKey,
    options,
  );
}
