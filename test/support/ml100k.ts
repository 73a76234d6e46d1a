import type { Dataset } from '../../train/data/dataset.ts';
import { loadDataset } from '../../train/data/index.ts';
import { sharedData } from './data.ts';

let full: Promise<Dataset> | undefined;

/** ml-100k through the real loader, loaded once per test file. */
export function loadMl100k(): Promise<Dataset> {
  full ??= loadDataset(sharedData('ml-100k'));
  return full;
}

/**
 * A small real sample of ml-100k: the first `maxRatings` ratings of u.data (all of them by
 * default), with every movie (item index = movie id - 1) and every user (user index = user id - 1).
 * Official splits, user profiles and load issues are left out: split rows index the full ratings.
 */
export async function ml100kFirstRatings(maxRatings = Number.POSITIVE_INFINITY): Promise<Dataset> {
  const { name, format, source, ratings, userIds, movies, ratingScale, syntheticRatings } =
    await loadMl100k();
  const n = Math.min(ratings.length, maxRatings);
  return {
    name,
    format,
    source,
    ratings: {
      length: n,
      userIndex: ratings.userIndex.slice(0, n),
      itemIndex: ratings.itemIndex.slice(0, n),
      rating: ratings.rating.slice(0, n),
      timestamp: ratings.timestamp.slice(0, n),
    },
    userIds,
    movies,
    ratingScale,
    syntheticRatings,
    officialSplits: {},
    summary: { skippedRows: 0, issues: [] },
  };
}
