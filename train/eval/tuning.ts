import type { Dataset } from '../data/dataset.ts';
import type { Recommender } from '../models/types.ts';
import { carveValidation } from './protocols.ts';

export interface Candidate<T> {
  value: T;
  make: () => Recommender;
}

export interface TuningResult<T> {
  best: T;
  /** Validation score of every candidate, in order. */
  scores: { value: T; score: number }[];
}

/**
 * Choose a hyper-parameter on a validation split carved from TRAINING rows (never the test
 * split): every candidate is fitted on train minus the carve and scored on the carve by `score`
 * (higher is better; pass a negated error for RMSE).
 */
export async function chooseOnValidation<T>(
  dataset: Dataset,
  train: Uint32Array,
  candidates: Candidate<T>[],
  score: (model: Recommender, fit: Uint32Array, validation: Uint32Array) => number,
  { fraction = 0.1, seed = 0 }: { fraction?: number; seed?: number } = {},
): Promise<TuningResult<T>> {
  const carve = carveValidation(dataset, train, fraction, seed);
  const scores: { value: T; score: number }[] = [];
  for (const candidate of candidates) {
    const model = candidate.make();
    await model.fit({ dataset, train: carve.train, seed });
    scores.push({ value: candidate.value, score: score(model, carve.train, carve.test) });
  }
  const best = scores.reduce((a, b) => (b.score > a.score ? b : a));
  return { best: best.value, scores };
}
