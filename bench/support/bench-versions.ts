/**
 * The two versions the serving benches run against, built as bench/latency.ts builds them (and
 * `reelrank train` writes them): ml-latest-small (biased MF fitted here) and a synthetic
 * 100k-movie catalog (64 factors), both with implicit-ALS ranking factors and the ranking stage
 * (sparse EASE item-item lists, 1,000 items x top 100, and the learned MLP, enabled for users and
 * sessions so every recommendation request runs it).
 */
import { RANKER_FEATURES } from '../../shared/serving/ranker.ts';
import { type FixtureVersion, fitBiasedMf, writeFixtureVersion } from '../../test/support/fixture-version.ts';
import { selectBackend } from '../../train/backend.ts';
import type { Dataset } from '../../train/data/dataset.ts';
import { loadDataset } from '../../train/data/index.ts';
import { generateSyntheticWorld, syntheticWorldDataset } from '../../train/data/synthetic.ts';
import { Ials, type IalsOptions } from '../../train/models/ials.ts';
import { fitItemItem, fitLearnedRanking, recentCsr } from '../../train/models/ranker.ts';
import { IALS_DEFAULTS } from '../../train/models/registry.ts';
import type { RankingStage } from '../../train/pipeline/ranking-stage.ts';

export interface BenchVersions {
  small: { dataset: Dataset; version: FixtureVersion };
  big: { dataset: Dataset; version: FixtureVersion };
}

export async function buildBenchVersions(bigMovies: number): Promise<BenchVersions> {
  const small = await loadDataset();
  const allRows = (d: Dataset) => Uint32Array.from({ length: d.ratings.length }, (_, j) => j);
  const rankingOf = async (dataset: Dataset, options: IalsOptions) => {
    const ials = new Ials(options);
    await ials.fit({ dataset, train: allRows(dataset), seed: 0 });
    return ials.exportRankFactors();
  };
  await selectBackend({ backend: 'cpu' });
  const itemItemConfig = { maxItems: 1000, width: 100, lambda: 300 };
  const learned = await fitLearnedRanking({ dataset: small, rows: allRows(small), content: null, epochs: 4 });
  const stageOf = async (dataset: Dataset): Promise<RankingStage> => ({
    itemItem: await fitItemItem(dataset, allRows(dataset), itemItemConfig),
    userRecent: recentCsr(dataset, allRows(dataset)),
    itemItemConfig,
    learned: { ...learned, backend: 'tfjs-cpu' },
    config: {
      features: RANKER_FEATURES,
      perChannel: 100,
      enabled: { users: true, sessions: true },
      backend: 'tfjs-cpu',
      rankModel: 'ials',
    },
    metrics: {},
  });
  const smallVersion = await writeFixtureVersion(small, fitBiasedMf(small, { factors: 32, epochs: 10 }), {
    version: 'bench-small',
    ranking: await rankingOf(small, IALS_DEFAULTS),
    rankingStage: await stageOf(small),
  });
  const world = syntheticWorldDataset(
    generateSyntheticWorld({ movies: bigMovies, users: 2000, ratings: 200_000, seed: 7 }),
  );
  const bigVersion = await writeFixtureVersion(world, fitBiasedMf(world, { factors: 64, epochs: 3 }), {
    version: 'bench-100k',
    contentNeighbors: false,
    ranking: await rankingOf(world, { ...IALS_DEFAULTS, iterations: 4 }),
    rankingStage: await stageOf(world),
  });
  return { small: { dataset: small, version: smallVersion }, big: { dataset: world, version: bigVersion } };
}
