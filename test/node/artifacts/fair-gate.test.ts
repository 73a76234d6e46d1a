/**
 * The fair gate of `retrain --events`: live and candidate scored on the same newest rows through the
 * shared serving code, whatever numbers either recorded on its own older holdout. Real small
 * versions on ml-latest-small: a model that learned the users' tastes and an underfit one (2
 * factors, one iteration). The informed one is published over the underfit one even though its
 * recorded numbers are worse; the reverse is refused even though the underfit one's recorded numbers
 * are better — the old gate (recorded numbers) would decide both the other way round.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { openVersion } from '../../../shared/artifacts/loader.ts';
import { loadServingModel } from '../../../shared/serving/from-artifacts.ts';
import type { ServingModel } from '../../../shared/serving/model.ts';
import { loadDataset } from '../../../train/data/index.ts';
import { withoutRows } from '../../../train/events/merge.ts';
import { Ials } from '../../../train/models/ials.ts';
import { type GateRow, newestRows, newestRowsGate } from '../../../train/publish/fair-gate.ts';
import { qualityGate } from '../../../train/publish/retrain.ts';
import { fitBiasedMf, memoryStore, POINTER_KEY, writeFixtureVersion } from '../../support/fixture-version.ts';

describe('newestRows', () => {
  it('takes the newest fraction by time, at least one row', () => {
    const rows = [5, 1, 4, 2, 3].map((timestamp) => ({ timestamp }));
    expect(newestRows(rows, 0.4)).toEqual([0, 2]);
    expect(newestRows(rows, 0.01)).toEqual([0]);
    expect(newestRows([], 0.1)).toEqual([]);
    expect(() => newestRows(rows, 0)).toThrow(/newest fraction must be in \(0, 1\]/);
  });
});

describe('the gate on the newest rows', () => {
  let informed: ServingModel;
  let underfit: ServingModel;
  let rows: GateRow[];
  // What each version recorded on its own, older holdout: the underfit one looks better there.
  const recorded = {
    informed: { holdoutRankingRankModel: { 'ndcg@10': 0.2 }, holdoutRating: { rmse: 0.95 } },
    underfit: { holdoutRankingRankModel: { 'ndcg@10': 0.3 }, holdoutRating: { rmse: 0.9 } },
  };
  const oldGate = ['holdoutRating.rmse', 'holdoutRankingRankModel.ndcg@10'];

  beforeAll(async () => {
    const dataset = await loadDataset();
    // The newest 2 % of all ratings by time: what neither version trains on.
    const all = Array.from({ length: dataset.ratings.length }, (_, j) => ({
      timestamp: dataset.ratings.timestamp[j]!,
    }));
    const held = Uint32Array.from(newestRows(all, 0.02));
    rows = Array.from(held, (j) => ({
      userId: dataset.userIds[dataset.ratings.userIndex[j]!]!,
      movieId: dataset.movies[dataset.ratings.itemIndex[j]!]!.movieId,
      type: 'rating' as const,
      rating: dataset.ratings.rating[j]!,
      timestamp: dataset.ratings.timestamp[j]!,
    }));
    const train = withoutRows(dataset, held);
    const everyRow = Uint32Array.from({ length: train.ratings.length }, (_, j) => j);
    const build = async (name: string, factors: number, iterations: number, epochs: number) => {
      const ials = new Ials({ factors, iterations, alpha: 3, lambda: 30 });
      await ials.fit({ dataset: train, train: everyRow, seed: 1 });
      const version = await writeFixtureVersion(train, fitBiasedMf(train, { factors, epochs }), {
        version: name,
        ranking: ials.exportRankFactors(),
        contentNeighbors: false,
      });
      const objects = new Map(version.files);
      objects.set(POINTER_KEY, version.pointer);
      return loadServingModel(await openVersion(memoryStore(objects)));
    };
    informed = await build('informed', 16, 5, 8);
    underfit = await build('underfit', 2, 1, 1);
  });

  it('publishes a candidate better on the newest rows though its recorded numbers are worse', () => {
    const decided = newestRowsGate(underfit, informed, rows, new Map());
    expect(decided.candidate['ndcg@10']).toBeGreaterThan(decided.live['ndcg@10']);
    expect(decided.gate.pass).toBe(true);
    // The old gate, on the numbers each version recorded, would have refused it.
    expect(qualityGate(recorded.underfit, recorded.informed, oldGate, 0.02).pass).toBe(false);
  });

  it('refuses a candidate worse on the newest rows though its recorded numbers are better', () => {
    const decided = newestRowsGate(informed, underfit, rows, new Map());
    expect(decided.gate.pass).toBe(false);
    expect(decided.gate.checks.find((c) => c.metric === 'newest.ndcg@10')?.pass).toBe(false);
    expect(decided.live.rows).toBe(rows.length);
    expect(decided.candidate.rows).toBe(rows.length);
    expect(qualityGate(recorded.informed, recorded.underfit, oldGate, 0.02).pass).toBe(true);
  });
});
