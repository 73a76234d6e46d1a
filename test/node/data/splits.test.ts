import { describe, expect, it } from 'vitest';
import type { RatingsTable, Split } from '../../../train/data/dataset.ts';
import {
  coldStartItems,
  groupRowsByUser,
  leaveLastOut,
  perUserStratified,
  randomHoldout,
} from '../../../train/data/splits.ts';

function table(rows: Array<[user: number, item: number, timestamp: number]>): RatingsTable {
  return {
    length: rows.length,
    userIndex: Uint32Array.from(rows.map((r) => r[0])),
    itemIndex: Uint32Array.from(rows.map((r) => r[1])),
    rating: new Float32Array(rows.length).fill(3),
    timestamp: Uint32Array.from(rows.map((r) => r[2])),
  };
}

// Hand-made: user 0 has a timestamp tie at 300 (rows 1 and 3), user 2 has a single rating.
const small = table([
  [0, 0, 100],
  [0, 1, 300],
  [1, 0, 50],
  [0, 2, 300],
  [2, 1, 10],
  [1, 2, 20],
]);

/** 40 users x 25 ratings each over 60 items, deterministic. */
const medium = table(
  Array.from({ length: 1000 }, (_, i): [number, number, number] => [
    i % 40,
    (i * 7) % 60,
    1_000_000 + ((i * 37) % 997),
  ]),
);

function expectPartition(split: Split, n: number): void {
  const all = [...split.train, ...split.test].sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
  expect([...split.train]).toEqual([...split.train].sort((a, b) => a - b));
}

describe('splits', () => {
  it('groupRowsByUser lists each user’s rows in table order', () => {
    const { offsets, rows } = groupRowsByUser(small);
    expect([...offsets]).toEqual([0, 3, 5, 6]);
    expect([...rows]).toEqual([0, 1, 3, 2, 5, 4]);
  });

  it('leaveLastOut holds out each user’s latest rating, ties to the later row, singletons stay in train', () => {
    const split = leaveLastOut(small);
    expect([...split.test]).toEqual([2, 3]);
    expect([...split.train]).toEqual([0, 1, 4, 5]);
  });

  it('randomHoldout: exact size, a partition, reproducible by seed', () => {
    const a = randomHoldout(medium, 0.2, 42);
    expect(a.test.length).toBe(200);
    expectPartition(a, 1000);
    expect([...randomHoldout(medium, 0.2, 42).test]).toEqual([...a.test]);
    expect([...randomHoldout(medium, 0.2, 43).test]).not.toEqual([...a.test]);
  });

  it('perUserStratified: round(count * f) per user, at least one rating left in train', () => {
    const split = perUserStratified(medium, 0.2, 1);
    expectPartition(split, 1000);
    const perUser = new Array(40).fill(0);
    for (const row of split.test) perUser[medium.userIndex[row]!]++;
    expect(perUser).toEqual(new Array(40).fill(5)); // 25 ratings each, 20% = 5
    const tiny = perUserStratified(small, 0.9, 1);
    // user 0: min(2, round(2.7)) = 2 of 3; user 1: min(1, round(1.8)) = 1 of 2; user 2: 0 of 1
    expect(tiny.test.length).toBe(3);
    expect(new Set([...tiny.train].map((r) => small.userIndex[r]))).toEqual(new Set([0, 1, 2]));
  });

  it('coldStartItems: held-out movies never appear in train', () => {
    const split = coldStartItems(medium, 0.25, 9);
    expectPartition(split, 1000);
    const testItems = new Set([...split.test].map((r) => medium.itemIndex[r]!));
    const trainItems = new Set([...split.train].map((r) => medium.itemIndex[r]!));
    expect(testItems.size).toBe(15); // round(60 * 0.25)
    for (const item of testItems) expect(trainItems.has(item)).toBe(false);
    expect([...coldStartItems(medium, 0.25, 9).test]).toEqual([...split.test]);
  });

  it('rejects fractions outside (0, 1) naming the value', () => {
    expect(() => randomHoldout(small, 1, 1)).toThrow('testFraction must be strictly between 0 and 1, got 1');
    expect(() => coldStartItems(small, 0, 1)).toThrow('itemFraction must be strictly between 0 and 1, got 0');
  });
});
