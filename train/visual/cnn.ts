/**
 * Poster embeddings with a pretrained TF.js CNN: by default the repository's ImageNet MobileNet v1
 * 0.25 (models/mobilenet_v1_0.25_224, Apache-2.0) truncated at `global_average_pooling2d_1`
 * (256-d), or any user-supplied LayersModel (`--cnn <dir> --cnn-layer <name>`). Models are read
 * from the filesystem by an IOHandler: no network.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ReelrankError } from '../../shared/errors.ts';
import { decodeImage, type RgbaImage, resizeBilinearToUnitRange } from './image.ts';

/** The bundled default encoder. */
export const DEFAULT_CNN_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../models/mobilenet_v1_0.25_224',
);
export const DEFAULT_CNN_LAYER = 'global_average_pooling2d_1';

/**
 * A tfjs IOHandler reading `<dir>/model.json` and the weight shards it lists from disk. Errors
 * name the missing or short file.
 */
export function fileSystemModelHandler(dir: string): tf.io.IOHandler {
  return {
    load: async (): Promise<tf.io.ModelArtifacts> => {
      const modelPath = join(dir, 'model.json');
      let json: {
        modelTopology?: object;
        weightsManifest?: tf.io.WeightsManifestConfig;
        format?: string;
        generatedBy?: string;
        convertedBy?: string;
      };
      try {
        json = JSON.parse(await readFile(modelPath, 'utf8'));
      } catch (error) {
        throw new ReelrankError(
          'bad_model',
          `CNN model ${modelPath}: cannot read (${error instanceof Error ? error.message : String(error)}); expected a TF.js LayersModel model.json`,
        );
      }
      if (json.modelTopology === undefined || json.weightsManifest === undefined) {
        throw new ReelrankError(
          'bad_model',
          `CNN model ${modelPath}: has no modelTopology/weightsManifest, expected a TF.js LayersModel (not a GraphModel)`,
        );
      }
      const weightSpecs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of json.weightsManifest) {
        weightSpecs.push(...group.weights);
        for (const path of group.paths) {
          const shard = join(dir, path);
          buffers.push(
            await readFile(shard).catch((error: unknown) => {
              throw new ReelrankError(
                'bad_model',
                `CNN weight shard ${shard}: cannot read (${error instanceof Error ? error.message : String(error)})`,
              );
            }),
          );
        }
      }
      const total = buffers.reduce((s, b) => s + b.byteLength, 0);
      const weightData = new Uint8Array(total);
      let offset = 0;
      for (const b of buffers) {
        weightData.set(b, offset);
        offset += b.byteLength;
      }
      return {
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData: weightData.buffer,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
      };
    },
  };
}

/** A loaded poster encoder: image batch [n, size, size, 3] in [-1, 1] -> [n, dim]. */
export interface PosterCnn {
  model: tfl.LayersModel;
  /** Input side in pixels (224 for MobileNet). */
  inputSize: number;
  dim: number;
  /** Where it came from and which layer, for manifests and reports. */
  source: string;
  layer: string;
}

export interface LoadCnnOptions {
  /** Folder with model.json + shards (default: the bundled MobileNet v1 0.25). */
  dir?: string;
  /** Layer whose output is the embedding (default global_average_pooling2d_1). */
  layer?: string;
}

/**
 * Load a LayersModel and truncate it at `layer`. The layer's output must be [batch, dim]; a
 * spatial output ([batch, h, w, c]) is refused with the name of a pooling layer to use instead.
 * @example const cnn = await loadPosterCnn(); cnn.dim // 256
 */
export async function loadPosterCnn({
  dir = DEFAULT_CNN_DIR,
  layer = DEFAULT_CNN_LAYER,
}: LoadCnnOptions = {}): Promise<PosterCnn> {
  const full = await tfl.loadLayersModel(fileSystemModelHandler(dir));
  let target: tfl.layers.Layer;
  try {
    target = full.getLayer(layer);
  } catch {
    const names = full.layers.map((l) => l.name);
    throw new ReelrankError(
      'bad_input',
      `CNN ${dir} has no layer '${layer}'. Layers: ${names.slice(-12).join(', ')} (last 12 of ${names.length})`,
    );
  }
  const output = target.output as tfl.SymbolicTensor;
  if (output.shape.length !== 2) {
    const pools = full.layers.filter((l) => /pool/i.test(l.name)).map((l) => l.name);
    throw new ReelrankError(
      'bad_input',
      `CNN layer '${layer}' outputs shape [${output.shape.map((d) => d ?? 'batch').join(', ')}], expected [batch, dim]; pooling layers: ${pools.join(', ') || '(none)'}`,
    );
  }
  const inputShape = full.inputs[0]!.shape;
  const inputSize = inputShape[1];
  if (typeof inputSize !== 'number' || inputShape[2] !== inputSize || inputShape[3] !== 3) {
    throw new ReelrankError(
      'bad_model',
      `CNN ${dir} input shape [${inputShape.join(', ')}] is not [batch, size, size, 3]`,
    );
  }
  const model = tfl.model({ inputs: full.inputs, outputs: output });
  return { model, inputSize, dim: output.shape[1] as number, source: dir, layer };
}

/** Embed a batch of preprocessed images (each size*size*3 floats in [-1, 1]) -> [n, dim]. */
export function embedImageBatch(cnn: PosterCnn, images: readonly Float32Array[]): Float32Array {
  const s = cnn.inputSize;
  const flat = new Float32Array(images.length * s * s * 3);
  images.forEach((img, i) => {
    flat.set(img, i * s * s * 3);
  });
  return tf.tidy(() => {
    const out = cnn.model.predict(tf.tensor4d(flat, [images.length, s, s, 3])) as tf.Tensor;
    return out.dataSync() as Float32Array;
  });
}

/** Poster embeddings for a catalog: one row per movie, zeros + mask 0 where there is no poster. */
export interface PosterEmbeddings {
  dim: number;
  /** [movies, dim]; rows with mask 0 are all zero and must never be used as a vector. */
  embeddings: Float32Array;
  /** 1 = embedded from a real poster, 0 = no poster (no vector). */
  mask: Uint8Array;
  /** True when the images were rendered (renderSyntheticPoster), not real posters. */
  synthetic: boolean;
}

export interface EmbedPostersOptions {
  batchSize?: number;
  /** Reads a poster; default: the filesystem. */
  read?: (path: string) => Promise<Uint8Array>;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Embed the posters of a catalog (`posterPath` per movie, null when none). Movies without a poster
 * get NO vector (zero row, mask 0). An unreadable poster file is an error naming the file.
 * @example const { embeddings, mask } = await embedPosters(cnn, movies.map((m) => m.posterPath))
 */
export async function embedPosters(
  cnn: PosterCnn,
  posterPaths: readonly (string | null)[],
  { batchSize = 32, read = readFile, onProgress }: EmbedPostersOptions = {},
): Promise<PosterEmbeddings> {
  const n = posterPaths.length;
  const embeddings = new Float32Array(n * cnn.dim);
  const mask = new Uint8Array(n);
  const withPoster: number[] = [];
  posterPaths.forEach((p, i) => {
    if (p !== null && p !== '') withPoster.push(i);
  });
  for (let start = 0; start < withPoster.length; start += batchSize) {
    const rows = withPoster.slice(start, start + batchSize);
    const images = await Promise.all(
      rows.map(async (i) => {
        const path = posterPaths[i]!;
        const bytes = await read(path).catch((error: unknown) => {
          throw new ReelrankError(
            'bad_image',
            `poster ${path} (row ${i}): cannot read (${error instanceof Error ? error.message : String(error)})`,
          );
        });
        return resizeBilinearToUnitRange(decodeImage(bytes, path), cnn.inputSize);
      }),
    );
    const out = embedImageBatch(cnn, images);
    rows.forEach((i, b) => {
      embeddings.set(out.subarray(b * cnn.dim, (b + 1) * cnn.dim), i * cnn.dim);
      mask[i] = 1;
    });
    onProgress?.(Math.min(start + batchSize, withPoster.length), withPoster.length);
  }
  return { dim: cnn.dim, embeddings, mask, synthetic: false };
}

/**
 * Embed already-decoded images, one per movie (null = none: zero row, mask 0). Used for the
 * explicit synthetic-poster option (`synthetic: true` in the result, never mixed with real ones).
 */
export function embedImages(
  cnn: PosterCnn,
  images: readonly (RgbaImage | null)[],
  { batchSize = 32, synthetic }: { batchSize?: number; synthetic: boolean },
): PosterEmbeddings {
  const n = images.length;
  const embeddings = new Float32Array(n * cnn.dim);
  const mask = new Uint8Array(n);
  const rows = [...images.keys()].filter((i) => images[i] !== null);
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = rows.slice(start, start + batchSize);
    const out = embedImageBatch(
      cnn,
      batch.map((i) => resizeBilinearToUnitRange(images[i]!, cnn.inputSize)),
    );
    batch.forEach((i, b) => {
      embeddings.set(out.subarray(b * cnn.dim, (b + 1) * cnn.dim), i * cnn.dim);
      mask[i] = 1;
    });
  }
  return { dim: cnn.dim, embeddings, mask, synthetic };
}
