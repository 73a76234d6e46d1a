import type { TfjsQuantization } from '../../../shared/artifacts/tfjs.ts';
import type { ManifestFile } from '../../../shared/artifacts/manifest.ts';
import type { VersionWriter } from '../../artifacts/writer.ts';
import { NcfRecommender } from './ncf.ts';
import type { RatingTowerModel } from './rating-tower.ts';
import type { SparseTable } from './sparse.ts';

/**
 * Export a trained neural model into a version: the dense tower as a TF.js LayersModel with
 * quantized weight shards (`<prefix>model.json` + `group1-shard*.bin`, readable by
 * `tf.loadLayersModel`), each embedding table as a matrix (`<prefix><table>.bin`), and a small
 * `<prefix>layout.json` saying how a (user, item) pair becomes the tower's input.
 *
 * @example await exportNeuralModel(writer, ncf, { quantization: 'uint8' }) // neural/ncf-neumf/...
 */
export async function exportNeuralModel(
  writer: VersionWriter,
  model: NcfRecommender | RatingTowerModel,
  {
    quantization = 'uint8',
    tableDtype = 'float16',
    prefix = `neural/${model.name.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '')}/`,
  }: { quantization?: TfjsQuantization; tableDtype?: 'float32' | 'float16' | 'int8'; prefix?: string } = {},
): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  files.push(...(await writer.tfjsModel(`${prefix}model.json`, model.model, { quantization })));
  const tables: Record<string, SparseTable> = model.tables;
  for (const [name, table] of Object.entries(tables)) {
    files.push(
      await writer.matrix(`${prefix}${name}.bin`, table.values, table.rows, table.dim, { dtype: tableDtype }),
    );
  }
  const layout =
    model instanceof NcfRecommender
      ? {
          model: model.name,
          kind: 'ncf',
          variant: model.options.variant,
          inputs: { gmf: 'userGmf[user] * itemGmf[item]', mlp: 'concat(userMlp[user], itemMlp[item])' },
          output: 'logit (higher = more likely to interact)',
        }
      : {
          model: model.name,
          kind: 'rating-tower',
          input: model.inputLayout,
          output: 'rating - meanRating',
          meanRating: model.meanRating,
        };
  files.push(await writer.json(`${prefix}layout.json`, layout));
  return files;
}
