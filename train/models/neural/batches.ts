import { createRng, type Rng } from '../../../shared/random.ts';
import type { Csr } from '../interactions.ts';

/**
 * Small helpers shared by the neural models: per-user item sets for negative sampling, and epoch
 * orders.
 */

/** Items of each user, sorted ascending (a copy of the CSR's index, sorted per segment). */
export function sortedItemsByUser(csr: Csr): { offsets: Uint32Array; items: Uint32Array } {
  const items = Uint32Array.from(csr.index);
  for (let u = 0; u + 1 < csr.offsets.length; u++)
    items.subarray(csr.offsets[u]!, csr.offsets[u + 1]!).sort();
  return { offsets: csr.offsets, items };
}

/** Binary search for `item` in `sorted[start, end)`. */
export function containsSorted(sorted: Uint32Array, start: number, end: number, item: number): boolean {
  let lo = start;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === item) return true;
    if (v < item) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

/**
 * A uniformly random item the user has not interacted with (rejection sampling; users who rated
 * nearly the whole catalog fall back to any item after 100 tries rather than loop forever).
 */
export function sampleNegative(
  seen: { offsets: Uint32Array; items: Uint32Array },
  user: number,
  itemCount: number,
  rng: Rng,
): number {
  const start = seen.offsets[user]!;
  const end = seen.offsets[user + 1]!;
  for (let attempt = 0; attempt < 100; attempt++) {
    const item = rng.int(itemCount);
    if (!containsSorted(seen.items, start, end, item)) return item;
  }
  return rng.int(itemCount);
}

/** 0..n-1 in a seeded random order. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/**
 * The early-stopping carve of the rating towers and two-stage: without a given validation set
 * and with patience on, a seeded `fraction` of the training rows (at least one), drawn from its
 * own generator so training order does not depend on it. Otherwise the context's own split.
 */
export function earlyStoppingCarve(
  context: { train: Uint32Array; validation?: Uint32Array; seed: number },
  patience: number,
  fraction: number,
): { train: Uint32Array; validation: Uint32Array | undefined } {
  if (patience <= 0 || context.validation) return { train: context.train, validation: context.validation };
  const order = permutation(context.train.length, createRng(context.seed ^ 0x1b873593));
  const held = Math.max(1, Math.round(context.train.length * fraction));
  return {
    validation: Uint32Array.from(order.subarray(0, held), (k) => context.train[k]!),
    train: Uint32Array.from(order.subarray(held), (k) => context.train[k]!),
  };
}
