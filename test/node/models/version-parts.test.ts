import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Dataset } from '../../../train/data/dataset.ts';
import { datasetFingerprint, popularityScores, seenCsr } from '../../../train/pipeline/version-parts.ts';
import { REPO_ROOT } from '../../support/data.ts';

const hand = (ratingOfLast: number) =>
  ({
    name: 'hand',
    userIds: Uint32Array.of(10, 11),
    movies: [{ movieId: 1 }, { movieId: 2 }, { movieId: 3 }],
    ratings: {
      length: 4,
      userIndex: Uint32Array.of(0, 0, 1, 0),
      itemIndex: Uint32Array.of(2, 0, 1, 2),
      rating: Float32Array.of(4, 5, 3, ratingOfLast),
      timestamp: Uint32Array.of(1, 2, 3, 4),
    },
  }) as unknown as Dataset;

it('datasetFingerprint is stable for equal data and changes with one rating', async () => {
  const a = await datasetFingerprint(hand(1));
  expect(a).toMatch(/^sha256:[0-9a-f]{32}$/);
  expect(await datasetFingerprint(hand(1))).toBe(a);
  expect(await datasetFingerprint(hand(2))).not.toBe(a);
});

it('seenCsr lists distinct sorted items per user and the top-rated first (hand-computed)', () => {
  const { seen, top } = seenCsr(hand(1), 1);
  expect([...seen[0]]).toEqual([0, 2, 3]);
  expect([...seen[1]]).toEqual([0, 2, 1]);
  expect([...top[1]]).toEqual([0, 1]);
  expect([...popularityScores(Uint32Array.of(0, 3, 1))]).toEqual(
    [0, 1, Math.log1p(1) / Math.log1p(3)].map(Math.fround),
  );
});

it('the neural version writer and the training pipeline do not import each other', () => {
  const source = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
  expect(source('train/models/neural/version.ts')).not.toMatch(/pipeline\/train\.ts/);
  expect(source('train/pipeline/version-parts.ts')).not.toMatch(/from '\.\.\/models\//);
});
