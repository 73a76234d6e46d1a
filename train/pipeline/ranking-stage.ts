/**
 * The version's ranking stage, as `reelrank train` writes it: the sparse item-item (EASE) channel
 * fitted on every rating, and the learned ranking stage fitted on a time carve of the evaluation
 * split's training rows (train/models/ranker.ts), exported as a uint8 TF.js LayersModel.
 */
import type { VersionWriter } from '../artifacts/writer.ts';
import type { Dataset } from '../data/dataset.ts';
import type { LearnedRankingConfig } from '../../shared/serving/ranker.ts';
import type { ItemItemLists } from '../../shared/kernels/sparse-item.ts';
import {
  fitItemItem,
  ITEM_ITEM_DEFAULTS,
  type ItemItemOptions,
  itemItemWeightRows,
  recentCsr,
} from '../models/ranker.ts';
import type { LearnedStage, PendingLearnedStage } from './learned-stage.ts';

export interface RankingStage {
  itemItem: ItemItemLists;
  /** Per user, the latest rated items (user_recent.csr). */
  userRecent: { offsets: Uint32Array; indexes: Uint32Array };
  itemItemConfig: Required<ItemItemOptions>;
  learned: LearnedStage | null;
  /** trainingConfig.learnedRanking (null without the learned stage). */
  config: (LearnedRankingConfig & { backend: string; rankModel: string }) | null;
  metrics: Record<string, number>;
}

export interface RankingStageOptions {
  dataset: Dataset;
  /** Every row: the served item-item channel is fitted on them. */
  allRows: Uint32Array;
  rankModel: string;
  seed: number;
  itemItem?: ItemItemOptions;
  /** The learned stage, started on the evaluation split's rows (LearnedStageRunner); null: none. */
  learned: PendingLearnedStage | null;
  log: (line: string) => void;
}

/** Fits the item-item channel and awaits the learned stage (when one was started). */
export async function fitRankingStage(options: RankingStageOptions): Promise<RankingStage> {
  const { dataset, log, seed } = options;
  const itemItemConfig = { ...ITEM_ITEM_DEFAULTS, ...options.itemItem };
  let t = performance.now();
  const itemItem = await fitItemItem(dataset, options.allRows, itemItemConfig, seed);
  const itemItemSeconds = (performance.now() - t) / 1000;
  log(
    `item-item (EASE, ${itemItemConfig.maxItems} items, top ${itemItem.width} per item) in ${itemItemSeconds.toFixed(1)} s`,
  );
  const metrics: Record<string, number> = { itemItemSeconds, itemItemEntries: itemItem.indexes.length };
  const userRecent = recentCsr(dataset, options.allRows);
  const pending = options.learned;
  if (!pending) return { itemItem, userRecent, itemItemConfig, learned: null, config: null, metrics };
  t = performance.now();
  const learned = await pending.result;
  const waited = (performance.now() - t) / 1000;
  const seconds = Object.values(learned.seconds).reduce((a, b) => a + b, 0);
  log(
    `learned ranking stage (${learned.backend}) in ${seconds.toFixed(1)} s${pending.inWorker ? ` (in worker threads beside the rest of training; waited ${waited.toFixed(1)} s for it)` : ''}: users ${learned.config.enabled.users ? 'learned' : learned.config.fallback?.users}, sessions ${learned.config.enabled.sessions ? 'learned' : learned.config.fallback?.sessions}`,
  );
  Object.assign(metrics, {
    learnedSeconds: seconds,
    learnedWaitSeconds: waited,
    learnedLists: learned.lists,
    validationUsersLearnedNdcg10: learned.validation.users.learned,
    validationUsersBlendNdcg10: learned.validation.users.blend,
    validationUsersIalsNdcg10: learned.validation.users.ials,
    validationUsersItemItemNdcg10: learned.validation.users.itemItem,
    validationUsersLists: learned.validation.users.lists,
    validationSessionsLearnedNdcg10: learned.validation.sessions.learned,
    validationSessionsBlendNdcg10: learned.validation.sessions.blend,
    validationSessionsIalsNdcg10: learned.validation.sessions.ials,
    validationSessionsItemItemNdcg10: learned.validation.sessions.itemItem,
    validationSessionsLists: learned.validation.sessions.lists,
  });
  return {
    itemItem,
    userRecent,
    itemItemConfig,
    learned,
    config: { ...learned.config, backend: learned.backend, rankModel: options.rankModel },
    metrics,
  };
}

/** item_item.csr + item_item_weights.bin (int8, float16 row scales) and reranker/ (uint8 shards). */
export async function writeRankingStage(writer: VersionWriter, stage: RankingStage): Promise<void> {
  const { itemItem } = stage;
  await writer.csr('itemItem', itemItem.offsets, itemItem.indexes);
  await writer.csr('userRecent', stage.userRecent.offsets, stage.userRecent.indexes);
  const rows = itemItem.width > 0 ? itemItem.indexes.length / itemItem.width : 0;
  await writer.matrix('itemItemWeights', itemItemWeightRows(itemItem), rows, itemItem.width, {
    dtype: 'int8',
    scaleDtype: 'float16',
  });
  if (stage.learned) await writer.tfjsModel('reranker', stage.learned.model, { quantization: 'uint8' });
}
