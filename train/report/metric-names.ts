/**
 * Readable names of the metric keys training records (metrics.json), with one line on what each
 * means, and of the metric sections (where the numbers come from). Used by report.html.
 */
export interface MetricName {
  name: string;
  meaning: string;
  /** Whether a larger value is better (null: neither, e.g. a count or a time). */
  higherIsBetter: boolean | null;
}

const AT_K = /^(precision|recall|ndcg|mrr|hr|map)@(\d+)$/;

const FIXED: Readonly<Record<string, MetricName>> = Object.freeze({
  rmse: {
    name: 'RMSE (stars)',
    meaning: 'Root mean squared error of predicted vs actual held-out ratings; big misses count more.',
    higherIsBetter: false,
  },
  mse: {
    name: 'MSE',
    meaning: 'Mean squared error of predicted ratings (RMSE squared).',
    higherIsBetter: false,
  },
  mae: {
    name: 'MAE (stars)',
    meaning: 'Mean absolute error: on average how many stars a prediction is off.',
    higherIsBetter: false,
  },
  r2: {
    name: 'R²',
    meaning: 'Share of the rating variance the model explains (0 = no better than the mean rating).',
    higherIsBetter: true,
  },
  coverage: {
    name: 'Catalog coverage',
    meaning: 'Share of the catalog that appears in at least one user’s top list.',
    higherIsBetter: true,
  },
  diversity: {
    name: 'Intra-list diversity',
    meaning: 'Average genre dissimilarity between the movies of one list (0 = all alike).',
    higherIsBetter: true,
  },
  novelty: {
    name: 'Novelty (bits)',
    meaning: 'Average self-information of recommended movies: higher means less popular picks.',
    higherIsBetter: null,
  },
  users: {
    name: 'Users evaluated',
    meaning: 'Users with at least one held-out rating.',
    higherIsBetter: null,
  },
  trainRmse: {
    name: 'Training RMSE (stars)',
    meaning:
      'RMSE of the exported (quantized) factors on every training rating: a sanity check, not a quality score.',
    higherIsBetter: false,
  },
  evaluationFitSeconds: {
    name: 'Evaluation fit (s)',
    meaning: 'Seconds to fit the model on the training part of the split.',
    higherIsBetter: null,
  },
  productionFitSeconds: {
    name: 'Production fit (s)',
    meaning: 'Seconds to refit on every rating for the exported version.',
    higherIsBetter: null,
  },
  totalSeconds: { name: 'Total (s)', meaning: 'Seconds for the whole training run.', higherIsBetter: null },
  itemItemSeconds: {
    name: 'Item-item fit (s)',
    meaning: 'Seconds to fit the sparse item-item (EASE) channel.',
    higherIsBetter: null,
  },
  itemItemEntries: {
    name: 'Item-item entries',
    meaning: 'Non-zero item-item weights kept in the version.',
    higherIsBetter: null,
  },
  learnedSeconds: {
    name: 'Learned re-ranker fit (s)',
    meaning: 'Seconds to fit the re-ranker.',
    higherIsBetter: null,
  },
  learnedLists: {
    name: 'Training lists',
    meaning: 'Candidate lists the re-ranker learned from.',
    higherIsBetter: null,
  },
  validationUsersLearnedNdcg10: {
    name: 'nDCG@10, known users, re-ranked',
    meaning: 'On the validation carve: lists re-ranked by the learned stage.',
    higherIsBetter: true,
  },
  validationUsersBlendNdcg10: {
    name: 'nDCG@10, known users, blend',
    meaning: 'Same users, the hand-weighted blend alone: the re-ranker serves only where it beats this.',
    higherIsBetter: true,
  },
  validationSessionsLearnedNdcg10: {
    name: 'nDCG@10, sessions, re-ranked',
    meaning: 'Anonymous sessions (a few ratings) on the validation carve, re-ranked.',
    higherIsBetter: true,
  },
  validationSessionsBlendNdcg10: {
    name: 'nDCG@10, sessions, blend',
    meaning: 'Same sessions, the blend alone.',
    higherIsBetter: true,
  },
});

const AT_K_NAMES: Readonly<Record<string, { name: string; meaning: string }>> = Object.freeze({
  precision: { name: 'Precision', meaning: 'Share of the top-K movies the user rated in the held-out part.' },
  recall: { name: 'Recall', meaning: 'Share of the user’s held-out movies found in the top K.' },
  ndcg: {
    name: 'nDCG',
    meaning: 'Rank-weighted hits in the top K, 1 = every held-out movie at the top (the main ranking score).',
  },
  mrr: { name: 'MRR', meaning: 'Mean of 1 / rank of the first held-out movie in the top K.' },
  hr: { name: 'Hit rate', meaning: 'Share of users with at least one held-out movie in the top K.' },
  map: { name: 'MAP', meaning: 'Mean average precision over the top K.' },
});

/**
 * The readable name of a metric key.
 * @example metricName('ndcg@10').name // 'nDCG@10'
 */
export function metricName(key: string): MetricName {
  const fixed = FIXED[key];
  if (fixed) return fixed;
  const atK = AT_K.exec(key);
  if (atK) {
    const base = AT_K_NAMES[atK[1]!]!;
    return {
      name: `${base.name}@${atK[2]}`,
      meaning: base.meaning.replaceAll('K', atK[2]!),
      higherIsBetter: true,
    };
  }
  return { name: key, meaning: '', higherIsBetter: null };
}

/**
 * The heading and origin line of a metric section (`holdoutRating`, `holdoutRanking`, ...).
 * `model` is the rating model's name, `split` the held-out split's name.
 */
export function sectionName(section: string, model: string, split: string): { title: string; about: string } {
  switch (section) {
    case 'holdoutRating':
      return {
        title: `Rating predictions (${model})`,
        about: `Predicted stars against the real held-out ratings (${split}), from a fit that never saw them. This model answers "what would I rate this?".`,
      };
    case 'holdoutRanking':
      return {
        title: `Top-10 lists ranked by the rating model (${model})`,
        about: `Each user’s 10 highest predicted unseen movies, checked against their held-out movies (${split}). A rating model ranks by predicted stars, which favours rarely-seen movies with a few high ratings, so its lists seldom contain what people watch next and these scores are low. Served recommendations are NOT ranked by it: see the ranking model below.`,
      };
    case 'holdoutRankingRankModel':
      return {
        title: 'Top-10 lists ranked by the ranking model (implicit ALS) — what recommendations serve',
        about: `Implicit ALS learns who watches what (not how many stars), and its factors score the collaborative channel of served recommendations. Same users, same held-out movies (${split}).`,
      };
    case 'rankingStage':
      return {
        title: 'Ranking stage: item-item channel and learned re-ranker',
        about:
          'Fitted on a carve of the training split, a fifth of its users held out for validation; the version enables the re-ranker only for the audiences (known users, sessions) where it beat the blend there.',
      };
    case 'training':
      return { title: 'Fit on all ratings', about: 'The exported model, refitted on every rating.' };
    case 'timing':
      return { title: 'Time', about: 'Wall-clock seconds on the training machine.' };
    default:
      return { title: section, about: '' };
  }
}
