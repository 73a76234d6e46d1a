/**
 * Sparse item-item scoring (sparse EASE): every modelled item keeps its `width` largest-magnitude
 * weights B[i, ·], int8 with one scale per row; a user's score for item j is Σ over the items i
 * they interacted with of B[i, j]. Used by training (the ranking stage's features, evaluation)
 * and by the edge alike.
 */

/**
 * The item-item lists as served. Row i (a catalog item index) is `indexes[offsets[i] ..
 * offsets[i + 1])`; every non-empty row holds exactly `width` entries, so row i's weights are
 * `values[p] * scales[offsets[i] / width]` for p in the row.
 */
export interface ItemItemLists {
  width: number;
  offsets: Uint32Array;
  indexes: Uint32Array;
  values: Int8Array;
  /** One scale per non-empty row, in row order. */
  scales: Float32Array;
}

/**
 * Keeps, per modelled item, the `width` weights of largest magnitude of a dense [n, n] item-item
 * matrix over `modelled` (slot -> catalog item index); rows of unmodelled items stay empty. Values
 * are int8 with a per-row symmetric scale (max |w| / 127).
 * @example sparsifyItemItem(Float32Array.of(0, 2, -1, 0), Uint32Array.of(0, 1), 2, 1) // rows 0 -> [1], 1 -> [0]
 */
export function sparsifyItemItem(
  weights: Float32Array,
  modelled: Uint32Array,
  items: number,
  width: number,
): ItemItemLists {
  const n = modelled.length;
  const w = Math.max(0, Math.min(width, n - 1));
  const rowOf = new Int32Array(items).fill(-1);
  modelled.forEach((item, slot) => {
    rowOf[item] = slot;
  });
  const offsets = new Uint32Array(items + 1);
  for (let i = 0; i < items; i++) offsets[i + 1] = offsets[i]! + (rowOf[i]! >= 0 && w > 0 ? w : 0);
  const nnz = offsets[items]!;
  const indexes = new Uint32Array(nnz);
  const values = new Int8Array(nnz);
  const scales = new Float32Array(w > 0 ? nnz / w : 0);
  const magnitudes = new Float32Array(n);
  const candidates: number[] = [];
  for (let i = 0; i < items; i++) {
    const slot = rowOf[i]!;
    if (slot < 0 || w === 0) continue;
    const base = slot * n;
    // The w + 1 largest |B[slot, b]| (the diagonal among them or not) are at least the (w+1)-th
    // largest magnitude: only those candidates need the full ordering below.
    for (let b = 0; b < n; b++) magnitudes[b] = Math.abs(weights[base + b]!);
    magnitudes.sort();
    const threshold = magnitudes[n - 1 - Math.min(w, n - 1)]!;
    candidates.length = 0;
    for (let b = 0; b < n; b++)
      if (b !== slot && Math.abs(weights[base + b]!) >= threshold) candidates.push(b);
    // Largest |B[slot, b]| first, ties by lower slot.
    const sorted = candidates.sort((a, b) => {
      const d = Math.abs(weights[base + b]!) - Math.abs(weights[base + a]!);
      return d !== 0 ? d : a - b;
    });
    let kept = 0;
    let max = 0;
    const start = offsets[i]!;
    for (let p = 0; p < sorted.length && kept < w; p++) {
      const b = sorted[p]!;
      indexes[start + kept] = modelled[b]!;
      max = Math.max(max, Math.abs(weights[base + b]!));
      kept++;
    }
    const scale = max > 0 ? max / 127 : 0;
    scales[start / w] = scale;
    for (let p = 0; p < w; p++) {
      const b = rowOf[indexes[start + p]!]!;
      values[start + p] = scale > 0 ? Math.round(weights[base + b]! / scale) : 0;
    }
  }
  return { width: w, offsets, indexes, values, scales };
}

/**
 * scores[j] = Σ_n itemWeights[n] · B[items[n], j] (itemWeights absent: 1 each). `scores` is zeroed
 * first; items without a row add nothing.
 * @example itemItemScores(lists, Uint32Array.of(3, 7), null, new Float32Array(lists.offsets.length - 1))
 */
export function itemItemScores(
  lists: ItemItemLists,
  items: ArrayLike<number>,
  itemWeights: ArrayLike<number> | null,
  scores: Float32Array,
): Float32Array {
  scores.fill(0);
  const { offsets, indexes, values, scales, width } = lists;
  const rows = offsets.length - 1;
  for (let n = 0; n < items.length; n++) {
    const i = items[n]!;
    if (i >= rows) continue;
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    if (end === start) continue;
    const scale = scales[start / width]! * (itemWeights ? itemWeights[n]! : 1);
    for (let p = start; p < end; p++) scores[indexes[p]!] = scores[indexes[p]!]! + scale * values[p]!;
  }
  return scores;
}

/** Bytes the lists take in memory (and, within a few bytes of headers, on disk). */
export function itemItemBytes(lists: ItemItemLists): number {
  return (
    lists.offsets.byteLength + lists.indexes.byteLength + lists.values.byteLength + lists.scales.byteLength
  );
}
