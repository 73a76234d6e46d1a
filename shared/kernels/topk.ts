/**
 * Top-K selection over a score array with a bounded min-heap: O(n log k), no allocation per item.
 * Used by evaluation (train) and serving (edge) alike.
 */
export interface TopK {
  /** Item indexes, best first. */
  indexes: Uint32Array;
  scores: Float32Array;
}

const bits = new Float64Array(1);
const words = new BigInt64Array(bits.buffer);

/** The largest double below `t` (finite t): v > result exactly when v >= t. */
function below(t: number): number {
  if (t === 0) return -Number.MIN_VALUE;
  bits[0] = t;
  words[0] = t > 0 ? words[0]! - 1n : words[0]! + 1n;
  return bits[0]!;
}

/** Block maxima of a score array: `length` entries per block, in block order. */
const blockMaxima = { values: new Float64Array(0), sorted: new Float64Array(0) };

/**
 * Just below a lower bound of the `size`-th highest score: the `size`-th highest of the maxima
 * of 2·size blocks of `length` entries (those maxima are `size` distinct entries at least that
 * high), or -Infinity. The maxima stay in `blockMaxima.values`: a block whose maximum is not
 * above the bound holds no candidate.
 */
function blockFloor(scores: ArrayLike<number>, n: number, size: number, length: number): number {
  const blocks = Math.ceil(n / length);
  if (blockMaxima.values.length < blocks) {
    blockMaxima.values = new Float64Array(blocks);
    blockMaxima.sorted = new Float64Array(blocks);
  }
  const maxima = blockMaxima.values;
  for (let b = 0, start = 0; start < n; b++, start += length) {
    let max = Number.NEGATIVE_INFINITY;
    const end = Math.min(n, start + length);
    for (let i = start; i < end; i++) {
      const v = scores[i]!;
      if (v > max) max = v;
    }
    maxima[b] = max;
  }
  const sorted = blockMaxima.sorted.subarray(0, blocks);
  sorted.set(maxima.subarray(0, blocks));
  sorted.sort();
  const bound = sorted[blocks - size]!;
  return bound > Number.NEGATIVE_INFINITY && bound < Number.POSITIVE_INFINITY
    ? below(bound)
    : Number.NEGATIVE_INFINITY;
}

/**
 * The k highest scores. Entries with `exclude?.(i)` true, or a score of -Infinity/NaN, are skipped.
 * Ties are broken by the lower index, so results are deterministic.
 * @example topK(Float32Array.of(0.1, 0.9, 0.5), 2) // indexes [1, 2]
 */
export function topK(scores: ArrayLike<number>, k: number, exclude?: (index: number) => boolean): TopK {
  const n = scores.length;
  const size = Math.max(0, Math.min(k, n));
  const heapIdx = new Uint32Array(size);
  const heapVal = new Float64Array(size);
  let count = 0;
  // "a is worse than b": lower score, or equal score and higher index.
  const worse = (va: number, ia: number, vb: number, ib: number) => va < vb || (va === vb && ia > ib);
  const siftDown = (start: number) => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < count && worse(heapVal[l]!, heapIdx[l]!, heapVal[m]!, heapIdx[m]!)) m = l;
      if (r < count && worse(heapVal[r]!, heapIdx[r]!, heapVal[m]!, heapIdx[m]!)) m = r;
      if (m === i) return;
      const tv = heapVal[i]!;
      const ti = heapIdx[i]!;
      heapVal[i] = heapVal[m]!;
      heapIdx[i] = heapIdx[m]!;
      heapVal[m] = tv;
      heapIdx[m] = ti;
      i = m;
    }
  };
  if (size > 0) {
    // Once the heap is full, an item must beat its worst entry: a higher score (an equal one loses
    // on the index, as items come in index order). One comparison rejects most items. Before
    // that, a lower bound of the k-th score from block maxima keeps the heap from churning.
    const prefilter = exclude === undefined && n >= 8 * size;
    const length = Math.ceil(n / (2 * size));
    let floor = prefilter ? blockFloor(scores, n, size, length) : Number.NEGATIVE_INFINITY;
    const push = (v: number, i: number) => {
      if (count < size) {
        // sift up
        let c = count++;
        heapVal[c] = v;
        heapIdx[c] = i;
        while (c > 0) {
          const p = (c - 1) >> 1;
          if (!worse(heapVal[c]!, heapIdx[c]!, heapVal[p]!, heapIdx[p]!)) break;
          const tv = heapVal[c]!;
          const ti = heapIdx[c]!;
          heapVal[c] = heapVal[p]!;
          heapIdx[c] = heapIdx[p]!;
          heapVal[p] = tv;
          heapIdx[p] = ti;
          c = p;
        }
        if (count === size) floor = heapVal[0]!;
      } else if (worse(heapVal[0]!, heapIdx[0]!, v, i)) {
        heapVal[0] = v;
        heapIdx[0] = i;
        siftDown(0);
        floor = heapVal[0]!;
      }
    };
    if (prefilter && floor > Number.NEGATIVE_INFINITY) {
      // Only blocks whose maximum clears the floor can hold a candidate.
      const maxima = blockMaxima.values;
      // `at` mirrors `floor` in a local the loop can keep in a register.
      let at = floor;
      for (let b = 0, start = 0; start < n; b++, start += length) {
        if (!(maxima[b]! > at)) continue;
        const end = Math.min(n, start + length);
        for (let i = start; i < end; i++) {
          const v = scores[i]!;
          if (v > at) {
            push(v, i);
            at = floor;
          }
        }
      }
    } else {
      let at = floor;
      for (let i = 0; i < n; i++) {
        const v = scores[i]!;
        if (!(v > at)) continue; // also skips -Infinity and NaN
        if (exclude?.(i)) continue;
        push(v, i);
        at = floor;
      }
    }
  }
  // Pop worst-first into the tail to get best-first order.
  const indexes = new Uint32Array(count);
  const out = new Float32Array(count);
  for (let pos = count - 1; pos >= 0; pos--) {
    indexes[pos] = heapIdx[0]!;
    out[pos] = heapVal[0]!;
    count--;
    heapVal[0] = heapVal[count]!;
    heapIdx[0] = heapIdx[count]!;
    siftDown(0);
  }
  return { indexes, scores: out };
}
