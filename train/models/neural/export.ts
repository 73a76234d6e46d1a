import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { MatrixDtype } from '../../../shared/artifacts/codecs.ts';
import { matrixToFloat32 } from '../../../shared/artifacts/codecs.ts';
import type { ArtifactVersion } from '../../../shared/artifacts/loader.ts';
import type { ManifestFile } from '../../../shared/artifacts/manifest.ts';
import type { TfjsQuantization } from '../../../shared/artifacts/tfjs.ts';
import { ReelrankError } from '../../../shared/errors.ts';
import type { VersionWriter } from '../../artifacts/writer.ts';
import type { FitReport, Recommender } from '../types.ts';
import { NcfRecommender } from './ncf.ts';
import { RatingTowerModel } from './rating-tower.ts';

/**
 * A trained neural model inside a version, under `<prefix>` (default `neural/<model name>/`):
 * - `model.json` + `group1-shard*.bin`: the dense tower as a TF.js LayersModel with quantized
 *   weights (weights-manifest `quantization` entries), readable by `tf.loadLayersModel`;
 * - one matrix per embedding table / input part (float16 by default);
 * - `layout.json` (a `NeuralLayout`): how a (user, item) pair becomes the tower's input, and what
 *   its output means.
 * `loadNeuralScorer` reads it back through the verifying artifact loader.
 */
export type NeuralLayout = NcfLayout | RatingTowerLayout;

export interface NcfLayout {
  format: 1;
  kind: 'ncf';
  model: string;
  variant: 'neumf' | 'gmf' | 'mlp';
  gmfDim: number;
  mlpDim: number;
  /** Matrix files (relative to the layout's folder) of the tables the variant uses. */
  tables: Partial<Record<'userGmf' | 'itemGmf' | 'userMlp' | 'itemMlp', string>>;
  /** Tower inputs, in the model's input order. */
  inputs: { name: 'gmf' | 'mlp'; rule: string }[];
  output: 'logit';
}

export interface RatingTowerLayout {
  format: 1;
  kind: 'rating-tower';
  model: string;
  /** Input parts in column order; each a matrix over users or items. */
  parts: { name: string; by: 'user' | 'item'; width: number; file: string; trained: boolean }[];
  meanRating: number;
  ratingScale: { min: number; max: number };
  output: 'rating minus meanRating (clamp to ratingScale after adding it)';
}

/** A neural model that `exportNeuralModel` can write. */
export type ExportableNeuralModel = NcfRecommender | RatingTowerModel;

/** True for the neural models with a TF.js tower (NCF variants, deep hybrid, title models). */
export function isExportableNeural(model: Recommender): model is ExportableNeuralModel {
  return model instanceof NcfRecommender || model instanceof RatingTowerModel;
}

/** The default folder of a model inside a version: `neural/<model name, path-safe>/`. */
export function neuralPrefix(modelName: string): string {
  return `neural/${modelName.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '')}/`;
}

export interface NeuralExport {
  prefix: string;
  layout: NeuralLayout;
  files: ManifestFile[];
  /** Bytes of the quantized weight shards (model.json excluded). */
  shardBytes: number;
  /** Bytes of the table / part matrices. */
  tableBytes: number;
}

/**
 * Export a trained neural model into a version (see `NeuralLayout` for what is written).
 *
 * @example await exportNeuralModel(writer, ncf, { quantization: 'uint8' }) // neural/ncf-neumf/...
 */
export async function exportNeuralModel(
  writer: VersionWriter,
  model: ExportableNeuralModel,
  {
    quantization = 'uint8',
    tableDtype = 'float16',
    prefix = neuralPrefix(model.name),
  }: { quantization?: TfjsQuantization; tableDtype?: MatrixDtype; prefix?: string } = {},
): Promise<NeuralExport> {
  const files: ManifestFile[] = [];
  files.push(...(await writer.tfjsModel(`${prefix}model.json`, model.model, { quantization })));
  let layout: NeuralLayout;
  if (model instanceof NcfRecommender) {
    const { variant, gmfDim, mlpDim } = model.options;
    const used = (['userGmf', 'itemGmf', 'userMlp', 'itemMlp'] as const).filter((name) =>
      name.endsWith('Gmf') ? variant !== 'mlp' : variant !== 'gmf',
    );
    const tables: NcfLayout['tables'] = {};
    for (const name of used) {
      const table = model.tables[name];
      tables[name] = `${name}.bin`;
      files.push(
        await writer.matrix(`${prefix}${name}.bin`, table.values, table.rows, table.dim, {
          dtype: tableDtype,
        }),
      );
    }
    layout = {
      format: 1,
      kind: 'ncf',
      model: model.name,
      variant,
      gmfDim,
      mlpDim,
      tables,
      inputs: [
        ...(variant !== 'mlp'
          ? [{ name: 'gmf' as const, rule: 'userGmf[user] * itemGmf[item] (element-wise)' }]
          : []),
        ...(variant !== 'gmf'
          ? [{ name: 'mlp' as const, rule: 'concat(userMlp[user], itemMlp[item])' }]
          : []),
      ],
      output: 'logit',
    };
  } else {
    const parts: RatingTowerLayout['parts'] = [];
    const trained = new Set(model.inputLayout.filter((p) => p.trained).map((p) => p.name));
    for (const side of model.sideMatrices()) {
      const file = `${side.name}.bin`;
      parts.push({ name: side.name, by: side.by, width: side.width, file, trained: trained.has(side.name) });
      files.push(
        await writer.matrix(`${prefix}${file}`, side.values, side.rows, side.width, { dtype: tableDtype }),
      );
    }
    const { min, max } = model.ratingScale;
    layout = {
      format: 1,
      kind: 'rating-tower',
      model: model.name,
      parts,
      meanRating: model.meanRating,
      ratingScale: { min, max },
      output: 'rating minus meanRating (clamp to ratingScale after adding it)',
    };
  }
  files.push(await writer.json(`${prefix}layout.json`, layout));
  const shardBytes = files.filter((f) => f.kind === 'tfjs-weights').reduce((sum, f) => sum + f.bytes, 0);
  const tableBytes = files.filter((f) => f.kind === 'matrix').reduce((sum, f) => sum + f.bytes, 0);
  return { prefix, layout, files, shardBytes, tableBytes };
}

/** A neural model read back from a version: scores (user, item) pairs as the trained model did. */
export interface NeuralScorer {
  layout: NeuralLayout;
  model: tfl.LayersModel;
  /** Logits (NCF) or clamped ratings (rating towers), one per pair. */
  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array;
  dispose(): void;
}

const SCORE_CHUNK = 4096;

/**
 * Load `<prefix>layout.json`, its matrices and `<prefix>model.json` (through the version's
 * verifying IOHandler, so `tf.loadLayersModel` dequantizes the shards) into a scorer.
 * Call `selectBackend()` first.
 *
 * @example const scorer = await loadNeuralScorer(await openVersion(store), 'neural/ncf-neumf/');
 */
export async function loadNeuralScorer(version: ArtifactVersion, prefix: string): Promise<NeuralScorer> {
  const layout = await version.json<NeuralLayout>(`${prefix}layout.json`);
  if (layout.format !== 1 || (layout.kind !== 'ncf' && layout.kind !== 'rating-tower')) {
    throw new ReelrankError(
      'artifact_format',
      `${prefix}layout.json of version ${version.version} has format ${String(layout.format)} / kind ${String(layout.kind)}; supported: format 1, kind 'ncf' or 'rating-tower'`,
    );
  }
  const model = await tfl.loadLayersModel(version.tfjsHandler(`${prefix}model.json`));
  const read = async (file: string) => {
    const matrix = await version.matrix(`${prefix}${file}`);
    return { values: matrixToFloat32(matrix), cols: matrix.cols };
  };
  const run = (inputs: tf.Tensor[]): Float32Array => {
    // Not tidy's return value: tidy walks a returned typed array element by element (slow).
    let scores = new Float32Array(0);
    tf.tidy(() => {
      const out = model.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor;
      scores = (out.dataSync() as Float32Array).slice();
    });
    return scores;
  };

  if (layout.kind === 'ncf') {
    const tables: Partial<Record<keyof NcfLayout['tables'], Float32Array>> = {};
    for (const [name, file] of Object.entries(layout.tables) as [keyof NcfLayout['tables'], string][])
      tables[name] = (await read(file)).values;
    const { gmfDim, mlpDim } = layout;
    return {
      layout,
      model,
      predict: (users, items) =>
        scoreInChunks(users, items, (u, i) => {
          const n = u.length;
          const inputs: tf.Tensor[] = [];
          if (tables.userGmf && tables.itemGmf) {
            const gmf = new Float32Array(n * gmfDim);
            gmfProduct(tables.userGmf, tables.itemGmf, gmfDim, u, i, gmf);
            inputs.push(tf.tensor2d(gmf, [n, gmfDim]));
          }
          if (tables.userMlp && tables.itemMlp) {
            const mlp = new Float32Array(n * 2 * mlpDim);
            concatRows(tables.userMlp, mlpDim, u, mlp, 2 * mlpDim, 0);
            concatRows(tables.itemMlp, mlpDim, i, mlp, 2 * mlpDim, mlpDim);
            inputs.push(tf.tensor2d(mlp, [n, 2 * mlpDim]));
          }
          try {
            return run(inputs);
          } finally {
            for (const t of inputs) t.dispose();
          }
        }),
      dispose: () => model.dispose(),
    };
  }
  const parts = await Promise.all(
    layout.parts.map(async (p) => ({ ...p, values: (await read(p.file)).values })),
  );
  const width = parts.reduce((sum, p) => sum + p.width, 0);
  const { meanRating, ratingScale } = layout;
  return {
    layout,
    model,
    predict: (users, items) =>
      scoreInChunks(users, items, (u, i) => {
        const n = u.length;
        const x = new Float32Array(n * width);
        let offset = 0;
        for (const part of parts) {
          concatRows(part.values, part.width, part.by === 'user' ? u : i, x, width, offset);
          offset += part.width;
        }
        const input = tf.tensor2d(x, [n, width]);
        try {
          const y = run([input]);
          for (let k = 0; k < n; k++)
            y[k] = Math.min(ratingScale.max, Math.max(ratingScale.min, y[k]! + meanRating));
          return y;
        } finally {
          input.dispose();
        }
      }),
    dispose: () => model.dispose(),
  };
}

/**
 * A loaded scorer as a `Recommender` over `items` catalog items, so the evaluation harness can
 * measure what the exported files score (not the trained object). It cannot be fitted.
 */
export function scorerRecommender(
  scorer: NeuralScorer,
  { name, predictsRatings, items }: { name: string; predictsRatings: boolean; items: number },
): Recommender {
  const allItems = Uint32Array.from({ length: items }, (_, i) => i);
  return {
    name,
    predictsRatings,
    fit: (): Promise<FitReport> =>
      Promise.reject(new ReelrankError('bad_option', `${name} is read from a version; it cannot be fitted`)),
    predict: (users, itemIndex) => scorer.predict(users, itemIndex),
    scoreAll: (user, out) => {
      out.set(scorer.predict(new Uint32Array(items).fill(user), allItems));
    },
  };
}

function scoreInChunks(
  users: Uint32Array,
  items: Uint32Array,
  score: (u: Uint32Array, i: Uint32Array) => Float32Array,
): Float32Array {
  if (users.length !== items.length) {
    throw new ReelrankError(
      'bad_input',
      `neural scorer: ${users.length} user indexes but ${items.length} item indexes; they must pair up`,
    );
  }
  const out = new Float32Array(users.length);
  for (let start = 0; start < users.length; start += SCORE_CHUNK) {
    const end = Math.min(users.length, start + SCORE_CHUNK);
    out.set(score(users.subarray(start, end), items.subarray(start, end)), start);
  }
  return out;
}

/** out[b*dim + j] = userTable[users[b]*dim + j] * itemTable[items[b]*dim + j]: NCF's GMF input. */
export function gmfProduct(
  userTable: Float32Array,
  itemTable: Float32Array,
  dim: number,
  users: Uint32Array,
  items: Uint32Array,
  out: Float32Array,
): void {
  for (let b = 0; b < users.length; b++) {
    const u = users[b]! * dim;
    const i = items[b]! * dim;
    const o = b * dim;
    for (let j = 0; j < dim; j++) out[o + j] = userTable[u + j]! * itemTable[i + j]!;
  }
}

/** out[b*stride + offset + j] = table[rows[b]*dim + j]: one part of a concatenated input row. */
export function concatRows(
  table: Float32Array,
  dim: number,
  rows: Uint32Array,
  out: Float32Array,
  stride: number,
  offset: number,
): void {
  for (let b = 0; b < rows.length; b++) {
    const src = rows[b]! * dim;
    const dst = b * stride + offset;
    for (let j = 0; j < dim; j++) out[dst + j] = table[src + j]!;
  }
}
