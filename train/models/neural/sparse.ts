import type { Rng } from '../../../shared/random.ts';

/**
 * Sparse parameters (user/item/word embedding tables) live in Float32Arrays that we train
 * ourselves: tfjs cannot train `Embedding` layers on cpu/wasm in reasonable time (see DESIGN.md,
 * "Facts measured"). Per batch the rows are gathered into the dense tower's input, and the tower's
 * input gradient is scattered back here with a lazy (row-wise) Adam, as TF's LazyAdam does:
 * only the rows seen in the batch move, and each row keeps its own step count for bias correction.
 */
export interface SparseTableOptions {
  rows: number;
  dim: number;
  /** Initial values: N(0, initStd²) from `rng`, or a given matrix (rows x dim) to start from. */
  initStd?: number;
  initial?: Float32Array;
  rng?: Rng;
  learningRate?: number;
  /** L2 penalty added to the gradient of every row seen in a batch. */
  l2?: number;
  /** A frozen table is gathered but never updated (pretrained-frozen vectors). */
  frozen?: boolean;
  /**
   * How the rows learn (default 'lazy-adam'):
   * - 'lazy-adam': only the rows in the batch take an Adam step, each with its own step count
   *   (TF's LazyAdam);
   * - 'adam': every row takes a step every batch with one global step count, rows outside the batch
   *   with a zero gradient, so their momentum keeps moving them: what torch.optim.Adam does to a
   *   dense `nn.Embedding` (the PyTorch NCF). Costs rows x dim per batch: for small tables;
   * - 'adagrad': only the rows in the batch move, by lr·g/√(Σg²).
   */
  optimizer?: TableOptimizer;
  /**
   * 'adam' without l2: a row that has had no gradient for this many batches stops taking its
   * (by then negligible) momentum steps, so a batch costs the recently active rows, not the whole
   * table; when the row comes back its moments are decayed for the skipped steps, exactly. After
   * 200 idle steps a step is below 1e-9 of the learning rate ((0.9/√0.999)^200 ≈ 8e-10).
   * Infinity = every row every batch. Default 200.
   */
  adamWindow?: number;
}

export type TableOptimizer = 'lazy-adam' | 'adam' | 'adagrad';

export class SparseTable {
  readonly rows: number;
  readonly dim: number;
  readonly values: Float32Array;
  learningRate: number;
  l2: number;
  frozen: boolean;
  readonly optimizer: TableOptimizer;
  readonly adamWindow: number;
  /** 'adam': rows taking momentum steps (those with a gradient in the last `adamWindow` batches). */
  private activeRows: Uint32Array = new Uint32Array(0);
  private activeCount = 0;
  private isActive: Uint8Array = new Uint8Array(0);
  /** 'adam': the batch of each row's latest gradient, or (inactive rows) of its latest step. */
  private lastGradient: Uint32Array = new Uint32Array(0);
  /** Batches seen ('adam': the global step count of its bias correction). */
  private steps = 0;
  private readonly firstMoment: Float32Array;
  private readonly secondMoment: Float32Array;
  private readonly rowSteps: Uint32Array;
  /** Slot of each row in the current batch's gradient accumulator (-1 = not in the batch). */
  private readonly slotOfRow: Int32Array;
  private accumulator: Float32Array = new Float32Array(0);
  private slotRows: Uint32Array = new Uint32Array(0);

  constructor({
    rows,
    dim,
    initStd = 0.01,
    initial,
    rng,
    learningRate = 1e-3,
    l2 = 0,
    frozen = false,
    optimizer = 'lazy-adam',
    adamWindow = 200,
  }: SparseTableOptions) {
    if (!['lazy-adam', 'adam', 'adagrad'].includes(optimizer)) {
      throw new RangeError(`SparseTable optimizer '${optimizer}' is not one of: lazy-adam, adam, adagrad`);
    }
    this.optimizer = optimizer;
    if (!(adamWindow >= 1)) throw new RangeError(`SparseTable adamWindow is ${adamWindow}; it must be ≥ 1`);
    this.adamWindow = adamWindow;
    this.rows = rows;
    this.dim = dim;
    this.learningRate = learningRate;
    this.l2 = l2;
    this.frozen = frozen;
    if (initial) {
      if (initial.length !== rows * dim) {
        throw new RangeError(
          `SparseTable initial matrix has ${initial.length} values; expected rows x dim = ${rows} x ${dim} = ${rows * dim}`,
        );
      }
      this.values = Float32Array.from(initial);
    } else {
      this.values = new Float32Array(rows * dim);
      if (initStd > 0) {
        if (!rng) throw new RangeError('SparseTable needs an rng for a random initialisation (initStd > 0)');
        for (let i = 0; i < this.values.length; i++) this.values[i] = rng.normal() * initStd;
      }
    }
    // Optimizer state is allocated even when frozen, so a table can be unfrozen for fine-tuning.
    this.firstMoment = new Float32Array(rows * dim);
    this.secondMoment = new Float32Array(rows * dim);
    this.rowSteps = new Uint32Array(rows);
    if (optimizer === 'adam') {
      this.activeRows = new Uint32Array(rows);
      this.isActive = new Uint8Array(rows);
      this.lastGradient = new Uint32Array(rows);
    }
    this.slotOfRow = new Int32Array(rows).fill(-1);
  }

  /** Copy row `rowIndex[b]` into `out[b * outStride + outOffset ..]` for every b. */
  gather(rowIndex: ArrayLike<number>, out: Float32Array, outStride: number, outOffset: number): void {
    gatherRows(this.values, this.dim, rowIndex, out, outStride, outOffset);
  }

  /**
   * Apply gradients for a batch: `grad[b * gradStride + gradOffset ..]` (dim values) belongs to row
   * `rowIndex[b]`. Duplicate rows are summed first, so each row gets one Adam step per batch.
   */
  applyGradients(
    rowIndex: ArrayLike<number>,
    grad: Float32Array,
    gradStride: number,
    gradOffset: number,
    scale = 1,
  ): void {
    if (this.frozen) return;
    const dim = this.dim;
    const count = rowIndex.length;
    if (this.accumulator.length < count * dim) {
      this.accumulator = new Float32Array(count * dim);
      this.slotRows = new Uint32Array(count);
    }
    const slots = accumulateByRow(
      rowIndex,
      grad,
      gradStride,
      gradOffset,
      dim,
      scale,
      this.slotOfRow,
      this.accumulator,
      this.slotRows,
    );
    this.steps++;
    if (this.optimizer === 'lazy-adam') {
      lazyAdamUpdate(
        this.values,
        this.firstMoment,
        this.secondMoment,
        this.rowSteps,
        dim,
        this.slotRows,
        slots,
        this.accumulator,
        this.learningRate,
        this.l2,
      );
    } else if (this.optimizer === 'adagrad') {
      adagradUpdate(
        this.values,
        this.secondMoment,
        dim,
        this.slotRows,
        slots,
        this.accumulator,
        this.learningRate,
        this.l2,
      );
    } else if (this.l2 === 0 && Number.isFinite(this.adamWindow)) {
      this.windowedAdamStep(slots);
    } else {
      denseAdamUpdate(
        this.values,
        this.firstMoment,
        this.secondMoment,
        this.rowSteps,
        this.rows,
        dim,
        this.slotOfRow,
        this.accumulator,
        this.steps,
        this.learningRate,
        this.l2,
      );
    }
    for (let s = 0; s < slots; s++) this.slotOfRow[this.slotRows[s]!] = -1;
  }

  /**
   * Dense Adam (no l2) over the recently active rows only: rows of this batch join the active
   * set, their moments first decayed for the steps they sat out; rows idle for `adamWindow`
   * batches leave it.
   */
  private windowedAdamStep(slots: number): void {
    const { dim, steps: step, firstMoment: m1, secondMoment: m2, values } = this;
    for (let s = 0; s < slots; s++) {
      const row = this.slotRows[s]!;
      if (!this.isActive[row]) {
        const skipped = this.lastGradient[row]! > 0 ? step - 1 - this.lastGradient[row]! : 0;
        if (skipped > 0) {
          const d1 = BETA1 ** skipped;
          const d2 = BETA2 ** skipped;
          for (let i = row * dim, end = i + dim; i < end; i++) {
            m1[i] = m1[i]! * d1;
            m2[i] = m2[i]! * d2;
          }
        }
        this.isActive[row] = 1;
        this.activeRows[this.activeCount++] = row;
      }
      this.lastGradient[row] = step;
    }
    const correction = (this.learningRate * Math.sqrt(1 - BETA2 ** step)) / (1 - BETA1 ** step);
    for (let a = 0; a < this.activeCount; a++) {
      const row = this.activeRows[a]!;
      const slot = this.slotOfRow[row]!;
      if (slot < 0 && step - this.lastGradient[row]! >= this.adamWindow) {
        // Idle long enough: leave the active set (swap-remove); lastGradient now marks this step.
        this.isActive[row] = 0;
        this.lastGradient[row] = step - 1;
        this.activeRows[a] = this.activeRows[--this.activeCount]!;
        a--;
        continue;
      }
      const base = row * dim;
      const gbase = slot * dim;
      for (let j = 0; j < dim; j++) {
        const i = base + j;
        const g = slot < 0 ? 0 : this.accumulator[gbase + j]!;
        const m = BETA1 * m1[i]! + (1 - BETA1) * g;
        const v = BETA2 * m2[i]! + (1 - BETA2) * g * g;
        m1[i] = m;
        m2[i] = v;
        values[i] = values[i]! - (correction * m) / (Math.sqrt(v) + EPSILON);
      }
    }
  }
}

/** out[b*outStride + outOffset + j] = table[rowIndex[b]*dim + j]. */
export function gatherRows(
  table: Float32Array,
  dim: number,
  rowIndex: ArrayLike<number>,
  out: Float32Array,
  outStride: number,
  outOffset: number,
): void {
  for (let b = 0; b < rowIndex.length; b++) {
    const src = rowIndex[b]! * dim;
    const dst = b * outStride + outOffset;
    for (let j = 0; j < dim; j++) out[dst + j] = table[src + j]!;
  }
}

/**
 * Sum the gradient rows of a batch by table row. Returns the number of distinct rows; their ids are
 * in `slotRows[0..n)` and their summed gradients in `accumulator[s*dim ..]`. `slotOfRow` must be -1
 * everywhere on entry; the caller resets the touched entries.
 */
export function accumulateByRow(
  rowIndex: ArrayLike<number>,
  grad: Float32Array,
  gradStride: number,
  gradOffset: number,
  dim: number,
  scale: number,
  slotOfRow: Int32Array,
  accumulator: Float32Array,
  slotRows: Uint32Array,
): number {
  let slots = 0;
  for (let b = 0; b < rowIndex.length; b++) {
    const row = rowIndex[b]!;
    let slot = slotOfRow[row]!;
    if (slot < 0) {
      slot = slots++;
      slotOfRow[row] = slot;
      slotRows[slot] = row;
      accumulator.fill(0, slot * dim, slot * dim + dim);
    }
    const src = b * gradStride + gradOffset;
    const dst = slot * dim;
    for (let j = 0; j < dim; j++) accumulator[dst + j]! += grad[src + j]! * scale;
  }
  return slots;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

/** One Adam step for each listed row, with per-row bias correction (lazy Adam). */
export function lazyAdamUpdate(
  values: Float32Array,
  firstMoment: Float32Array,
  secondMoment: Float32Array,
  rowSteps: Uint32Array,
  dim: number,
  rows: Uint32Array,
  count: number,
  grads: Float32Array,
  learningRate: number,
  l2: number,
): void {
  for (let s = 0; s < count; s++) {
    const row = rows[s]!;
    const step = ++rowSteps[row]!;
    const correction = (learningRate * Math.sqrt(1 - BETA2 ** step)) / (1 - BETA1 ** step);
    const base = row * dim;
    const gbase = s * dim;
    for (let j = 0; j < dim; j++) {
      const i = base + j;
      const g = grads[gbase + j]! + l2 * values[i]!;
      const m = BETA1 * firstMoment[i]! + (1 - BETA1) * g;
      const v = BETA2 * secondMoment[i]! + (1 - BETA2) * g * g;
      firstMoment[i] = m;
      secondMoment[i] = v;
      values[i] = values[i]! - (correction * m) / (Math.sqrt(v) + EPSILON);
    }
  }
}

/**
 * One Adam step for EVERY row (global step count `step`): rows in the batch (slotOfRow ≥ 0) with
 * their summed gradient, the others with a zero gradient (their moments decay and they keep
 * moving), as torch.optim.Adam updates a dense embedding. With l2 > 0 every row is decayed
 * (PyTorch's weight_decay). Rows that never had a gradient (touched[row] = 0) are skipped
 * without l2: their moments are zero, so their step would be too.
 */
export function denseAdamUpdate(
  values: Float32Array,
  firstMoment: Float32Array,
  secondMoment: Float32Array,
  touched: Uint32Array,
  rows: number,
  dim: number,
  slotOfRow: Int32Array,
  grads: Float32Array,
  step: number,
  learningRate: number,
  l2: number,
): void {
  const correction = (learningRate * Math.sqrt(1 - BETA2 ** step)) / (1 - BETA1 ** step);
  for (let row = 0; row < rows; row++) {
    const slot = slotOfRow[row]!;
    const base = row * dim;
    if (slot < 0) {
      if (l2 === 0 && touched[row] === 0) continue;
      for (let j = 0; j < dim; j++) {
        const i = base + j;
        const g = l2 * values[i]!;
        const m = BETA1 * firstMoment[i]! + (1 - BETA1) * g;
        const v = BETA2 * secondMoment[i]! + (1 - BETA2) * g * g;
        firstMoment[i] = m;
        secondMoment[i] = v;
        values[i] = values[i]! - (correction * m) / (Math.sqrt(v) + EPSILON);
      }
      continue;
    }
    touched[row] = 1;
    const gbase = slot * dim;
    for (let j = 0; j < dim; j++) {
      const i = base + j;
      const g = grads[gbase + j]! + l2 * values[i]!;
      const m = BETA1 * firstMoment[i]! + (1 - BETA1) * g;
      const v = BETA2 * secondMoment[i]! + (1 - BETA2) * g * g;
      firstMoment[i] = m;
      secondMoment[i] = v;
      values[i] = values[i]! - (correction * m) / (Math.sqrt(v) + EPSILON);
    }
  }
}

/** One Adagrad step for each listed row: v += g², value -= lr·g/(√v + ε). */
export function adagradUpdate(
  values: Float32Array,
  sumSquares: Float32Array,
  dim: number,
  rows: Uint32Array,
  count: number,
  grads: Float32Array,
  learningRate: number,
  l2: number,
): void {
  for (let s = 0; s < count; s++) {
    const base = rows[s]! * dim;
    const gbase = s * dim;
    for (let j = 0; j < dim; j++) {
      const i = base + j;
      const g = grads[gbase + j]! + l2 * values[i]!;
      const v = sumSquares[i]! + g * g;
      sumSquares[i] = v;
      values[i] = values[i]! - (learningRate * g) / (Math.sqrt(v) + 1e-10);
    }
  }
}
