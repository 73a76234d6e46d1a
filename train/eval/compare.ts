import { ReelrankError } from '../../shared/errors.ts';
import type { Dataset, Split } from '../data/dataset.ts';
import type { ModelSetup } from '../models/registry.ts';
import { createModel, modelEntry } from '../models/registry.ts';
import type { Recommender } from '../models/types.ts';
import {
  evaluateColdStart,
  evaluateRanking,
  evaluateRating,
  evaluateSampled,
  type MetricRecord,
} from './harness.ts';
import { coldItemSplit, leaveLastOut, randomSplit, stratifiedSplit } from './protocols.ts';

/**
 * Side-by-side comparison of models on one protocol: the engine of `reelrank evaluate` and of
 * bench/quality.ts. One row per (model, metric), the shape of bench/results/quality.json.
 */
export interface ResultRow {
  dataset: string;
  protocol: string;
  model: string;
  metric: string;
  value: number;
  seed: number;
  trainSeconds: number;
}

/** Counts the protocols report beside the metrics; they are not result rows. */
const NOT_METRICS = new Set(['users', 'coldItems']);

/**
 * One model's metrics as result rows (bookkeeping counts such as `users` left out).
 * @example metricRows({ dataset: 'ml-100k', protocol: 'u1', model: 'svdpp', seed: 0, trainSeconds: 2 }, { rmse: 0.915, users: 459 }) // one row, metric 'rmse'
 */
export function metricRows(
  row: Omit<ResultRow, 'metric' | 'value'>,
  metrics: Readonly<Record<string, number>>,
): ResultRow[] {
  return Object.entries(metrics)
    .filter(([metric]) => !NOT_METRICS.has(metric))
    .map(([metric, value]) => ({ ...row, metric, value }));
}

export const PROTOCOLS = Object.freeze({
  random: 'random 90/10 holdout: rating metrics (rating models) + full ranking @10',
  official: 'an official split shipped with the data (e.g. ml-100k u1): rating metrics',
  stratified: 'per-user stratified 75/25, full ranking @10, binary relevance',
  ncf: 'leave-last-out by timestamp, 99 sampled negatives, HR/NDCG@10',
  cold: '20% of movies cold (all ratings held out), per-user AUC over cold movies',
} as const);
export type Protocol = keyof typeof PROTOCOLS;

export interface CompareOptions {
  protocol: Protocol;
  seed?: number;
  /** Official split name for protocol 'official' (default 'u1'). */
  officialSplit?: string;
  setup?: ModelSetup;
  /** Called with each model's rows as soon as they exist. */
  onRows?: (rows: ResultRow[]) => void;
}

function protocolSplit(
  dataset: Dataset,
  protocol: Protocol,
  seed: number,
  official: string,
): Split & { coldItems?: Uint8Array } {
  switch (protocol) {
    case 'random':
      return randomSplit(dataset, 0.1, seed);
    case 'official': {
      const split = dataset.officialSplits[official];
      if (!split) {
        throw new ReelrankError(
          'bad_option',
          `dataset ${dataset.name} has no official split '${official}'. Available: ${Object.keys(dataset.officialSplits).join(', ') || 'none'}`,
        );
      }
      return split;
    }
    case 'stratified':
      return stratifiedSplit(dataset, 0.25, seed);
    case 'ncf':
      return leaveLastOut(dataset);
    case 'cold':
      return coldItemSplit(dataset, 0.2, seed);
    default:
      throw new ReelrankError(
        'bad_option',
        `protocol '${String(protocol)}' is unknown. Available: ${Object.keys(PROTOCOLS).join(', ')}`,
      );
  }
}

/** Metrics of one fitted model on one protocol's split. */
export function protocolMetrics(
  model: Recommender,
  dataset: Dataset,
  protocol: Protocol,
  split: Split & { coldItems?: Uint8Array },
  seed: number,
): MetricRecord {
  switch (protocol) {
    case 'random':
      return {
        ...(model.predictsRatings ? evaluateRating(model, dataset, split.test) : {}),
        ...evaluateRanking(model, dataset, split.train, split.test, { k: 10 }),
      };
    case 'official':
      return model.predictsRatings ? evaluateRating(model, dataset, split.test) : {};
    case 'stratified':
      return evaluateRanking(model, dataset, split.train, split.test, { k: 10 });
    case 'ncf':
      return evaluateSampled(model, dataset, split.train, split.test, { negatives: 99, k: 10, seed });
    case 'cold':
      return evaluateColdStart(model, dataset, split.test, split.coldItems!);
    default:
      throw new ReelrankError('bad_option', `protocol '${String(protocol)}' is unknown`);
  }
}

/** Fit every model on the protocol's training rows and evaluate it; returns all rows. */
export async function compareModels(
  dataset: Dataset,
  models: string[],
  options: CompareOptions,
): Promise<ResultRow[]> {
  const seed = options.seed ?? 0;
  const official = options.officialSplit ?? 'u1';
  const split = protocolSplit(dataset, options.protocol, seed, official);
  const protocolName = options.protocol === 'official' ? `official-${official}` : split.name;
  const rows: ResultRow[] = [];
  for (const name of models) {
    const entry = modelEntry(name);
    if (options.protocol === 'official' && !entry.ratings) continue;
    const model = createModel(name, options.setup ?? {});
    const started = performance.now();
    await model.fit({ dataset, train: split.train, seed });
    const trainSeconds = (performance.now() - started) / 1000;
    const metrics = protocolMetrics(model, dataset, options.protocol, split, seed);
    const mine = metricRows(
      { dataset: dataset.name, protocol: protocolName, model: name, seed, trainSeconds },
      metrics,
    );
    rows.push(...mine);
    options.onRows?.(mine);
  }
  return rows;
}

/** Rows as a text table: one line per model, one column per metric. */
export function formatTable(rows: ResultRow[]): string {
  const metrics = [...new Set(rows.map((r) => r.metric))];
  const keys = [...new Set(rows.map((r) => `${r.dataset}\u0000${r.protocol}\u0000${r.model}`))];
  const header = ['dataset', 'protocol', 'model', 'train s', ...metrics];
  const lines = keys.map((key) => {
    const [dataset, protocol, model] = key.split('\u0000') as [string, string, string];
    const mine = rows.filter((r) => r.dataset === dataset && r.protocol === protocol && r.model === model);
    return [
      dataset,
      protocol,
      model,
      (mine[0]?.trainSeconds ?? 0).toFixed(1),
      ...metrics.map((m) => {
        const row = mine.find((r) => r.metric === m);
        return row ? row.value.toFixed(4) : '';
      }),
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const fmt = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c]!)).join('  ');
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}
