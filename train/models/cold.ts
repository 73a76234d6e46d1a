import { type ItemFeatures, fitProjection, projectRow } from './features.ts';
import { gatherRows, itemCounts } from './interactions.ts';
import { BiasedMf, type MfOptions } from './mf.ts';
import type { FitReport, Recommender, TrainContext } from './types.ts';

export interface ColdStartOptions {
  itemFeatures: ItemFeatures;
  /** Weight of the predicted (log) popularity against the taste term p_u·q_i + b_i. */
  popularityWeight?: number;
  /** Weight of the taste term. */
  tasteWeight?: number;
  mf?: MfOptions;
  projectionReg?: number;
}

/**
 * Scores movies nobody has rated yet (reference 004's metadata projection, LightFM's cold-start
 * protocol): a biased MF learns taste on rated movies; ridge maps from item features give every
 * unrated movie its [q_i, b_i] and a predicted log-popularity. Score = taste·(b_i + p_u·q_i) +
 * popularity·log-popularity: whether a user watches a movie depends on how visible it is as much
 * as on taste, and features (tags, TMDB text, genres) predict visibility.
 */
export class ColdStartHybrid implements Recommender {
  readonly name: string;
  readonly predictsRatings = false;
  private readonly mf: BiasedMf;
  private popularity: Float32Array = new Float32Array(0);
  private readonly o: Required<Omit<ColdStartOptions, 'mf'>>;

  constructor(options: ColdStartOptions, name = 'cold-hybrid') {
    this.name = name;
    this.o = {
      itemFeatures: options.itemFeatures,
      popularityWeight: options.popularityWeight ?? 1,
      tasteWeight: options.tasteWeight ?? 1,
      projectionReg: options.projectionReg ?? 1,
    };
    this.mf = new BiasedMf({
      factors: 32,
      epochs: 30,
      ...options.mf,
      itemFeatures: options.itemFeatures,
      projectionReg: this.o.projectionReg,
    });
  }

  async fit(context: TrainContext): Promise<FitReport> {
    const report = await this.mf.fit(context);
    const rows = gatherRows(context.dataset, context.train);
    const counts = itemCounts(rows);
    const features = this.o.itemFeatures;
    const warm = Uint8Array.from(counts, (c) => (c > 0 ? 1 : 0));
    const logCount = Float32Array.from(counts, (c) => Math.log1p(c));
    const projection = fitProjection(features, logCount, 1, warm, this.o.projectionReg);
    const out = new Float32Array(1);
    this.popularity = new Float32Array(features.items);
    for (let i = 0; i < features.items; i++) {
      if (warm[i]) {
        this.popularity[i] = logCount[i]!;
      } else {
        projectRow(projection, features, i, out);
        this.popularity[i] = out[0]!;
      }
    }
    return report;
  }

  predict(userIndex: Uint32Array, itemIndex: Uint32Array): Float32Array {
    const out = new Float32Array(userIndex.length);
    const all = new Float32Array(this.popularity.length);
    for (let j = 0; j < out.length; j++) {
      this.scoreAll(userIndex[j]!, all);
      out[j] = all[itemIndex[j]!]!;
    }
    return out;
  }

  scoreAll(userIndex: number, out: Float32Array): void {
    this.mf.scoreAll(userIndex, out);
    const { tasteWeight, popularityWeight } = this.o;
    for (let i = 0; i < out.length; i++)
      out[i] = tasteWeight * out[i]! + popularityWeight * this.popularity[i]!;
  }
}
