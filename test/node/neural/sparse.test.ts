import { describe, expect, it } from 'vitest';
import { createRng } from '../../../shared/random.ts';
import { scatterProductGradients } from '../../../train/models/neural/ncf.ts';
import { gatherRows, SparseTable } from '../../../train/models/neural/sparse.ts';

describe('sparse tables', () => {
  it('gathers rows into a strided batch at an offset', () => {
    const table = Float32Array.of(1, 2, 10, 20, 100, 200); // 3 rows x 2
    const out = new Float32Array(3 * 3).fill(-1); // stride 3, offset 1
    gatherRows(table, 2, [2, 0, 2], out, 3, 1);
    expect([...out]).toEqual([-1, 100, 200, -1, 1, 2, -1, 100, 200]);
  });

  it('sums duplicate rows, then takes one lazy-Adam step per row (first step moves lr·sign(g))', () => {
    const table = new SparseTable({
      rows: 3,
      dim: 2,
      initial: Float32Array.of(0, 0, 0, 0, 0, 0),
      learningRate: 0.1,
    });
    // Row 2 appears twice: (1, 4) + (-3, 1) = (-2, 5). Row 0 once: (0.5, -0.5). Row 1 untouched.
    const grads = Float32Array.of(1, 4, 0.5, -0.5, -3, 1);
    table.applyGradients([2, 0, 2], grads, 2, 0);
    const v = [...table.values];
    const expected = [-0.1, 0.1, 0, 0, 0.1, -0.1];
    v.forEach((x, i) => {
      expect(x).toBeCloseTo(expected[i]!, 6);
    });
    // A second call reuses the slot map correctly (it was reset): row 1 now moves alone.
    table.applyGradients([1], Float32Array.of(2, -2), 2, 0);
    expect(table.values[2]).toBeCloseTo(-0.1, 6);
    expect(table.values[4]).toBeCloseTo(0.1, 6); // row 2 unchanged by the second call
  });

  it('does not move a frozen table, and rejects a wrongly sized initial matrix', () => {
    const table = new SparseTable({ rows: 2, dim: 1, initial: Float32Array.of(1, 2), frozen: true });
    table.applyGradients([0, 1], Float32Array.of(5, 5), 1, 0);
    expect([...table.values]).toEqual([1, 2]);
    expect(() => new SparseTable({ rows: 2, dim: 2, initial: Float32Array.of(1, 2) })).toThrow(
      'SparseTable initial matrix has 2 values; expected rows x dim = 2 x 2 = 4',
    );
  });

  it('initialises from the seed reproducibly', () => {
    const a = new SparseTable({ rows: 4, dim: 3, rng: createRng(7), initStd: 0.1 });
    const b = new SparseTable({ rows: 4, dim: 3, rng: createRng(7), initStd: 0.1 });
    expect([...a.values]).toEqual([...b.values]);
    expect(a.values.some((x) => x !== 0)).toBe(true);
  });

  it("'adam' moves every row every batch: momentum carries a row its batch left (hand-computed)", () => {
    const table = new SparseTable({
      rows: 3,
      dim: 1,
      initial: Float32Array.of(0, 0, 0),
      learningRate: 0.1,
      optimizer: 'adam',
    });
    table.applyGradients([0], Float32Array.of(1), 1, 0);
    // Step 1: m = 0.1, v = 0.001, bias-corrected step lr·m̂/√v̂ = lr.
    expect(table.values[0]).toBeCloseTo(-0.1, 6);
    table.applyGradients([1], Float32Array.of(1), 1, 0);
    // Step 2 (global count 2): row 0 has g = 0 but m = 0.09, v = 0.000999; row 1 m = 0.1, v = 0.001.
    const correction = (0.1 * Math.sqrt(1 - 0.999 ** 2)) / (1 - 0.9 ** 2);
    expect(table.values[0]).toBeCloseTo(-0.1 - (correction * 0.09) / Math.sqrt(0.000999), 6);
    expect(table.values[1]).toBeCloseTo(-(correction * 0.1) / Math.sqrt(0.001), 6);
    expect(table.values[2]).toBe(0); // never had a gradient: never moves (no l2)
  });

  it("'adam' over recently active rows matches every-row Adam, also for rows that come back", () => {
    const rng = createRng(11);
    const make = (adamWindow: number) =>
      new SparseTable({
        rows: 6,
        dim: 3,
        rng: createRng(2),
        initStd: 0.1,
        learningRate: 0.01,
        optimizer: 'adam',
        adamWindow,
      });
    const windowed = make(20);
    const dense = make(Number.POSITIVE_INFINITY);
    for (let step = 0; step < 300; step++) {
      // Rows 0-2 every batch; row 3 only in steps 0-9 and 150-159 (idle far past the window); 4-5 never.
      const rows = step < 10 || (step >= 150 && step < 160) ? [0, 1, 2, 3, 1] : [0, 1, 2];
      const grads = Float32Array.from({ length: rows.length * 3 }, () => rng.normal());
      windowed.applyGradients(rows, grads, 3, 0);
      dense.applyGradients(rows, grads, 3, 0);
    }
    // Left out: Σ_{s≥20} lr·r^s·m/√v with r = 0.9/√0.999, about lr·r^20/(1 - r) ≈ 0.012 at most.
    windowed.values.forEach((x, i) => {
      expect(Math.abs(x - dense.values[i]!)).toBeLessThan(1.5e-2);
    });
    expect(windowed.values[9]).not.toBe(dense.values[9]); // row 3 did sit out of the window
    expect(windowed.values.slice(12)).toEqual(dense.values.slice(12)); // never-seen rows 4-5 never move
    const wide = make(200);
    const dense2 = make(Number.POSITIVE_INFINITY);
    for (let step = 0; step < 600; step++) {
      const rows = step < 10 || (step >= 450 && step < 460) ? [0, 3] : [0];
      const grads = Float32Array.from({ length: rows.length * 3 }, () => rng.normal());
      wide.applyGradients(rows, grads, 3, 0);
      dense2.applyGradients(rows, grads, 3, 0);
    }
    wide.values.forEach((x, i) => {
      expect(x).toBeCloseTo(dense2.values[i]!, 6);
    });
  });

  it("'adagrad' divides by the root of the summed squared gradients (hand-computed)", () => {
    const table = new SparseTable({
      rows: 2,
      dim: 1,
      initial: Float32Array.of(0, 0),
      learningRate: 0.1,
      optimizer: 'adagrad',
    });
    table.applyGradients([0], Float32Array.of(2), 1, 0);
    expect(table.values[0]).toBeCloseTo(-0.1, 6); // 0.1·2/√4
    table.applyGradients([0], Float32Array.of(2), 1, 0);
    expect(table.values[0]).toBeCloseTo(-0.1 - 0.2 / Math.sqrt(8), 6);
    expect(table.values[1]).toBe(0);
    expect(() => new SparseTable({ rows: 1, dim: 1, optimizer: 'sgd' as 'adam' })).toThrow(
      "SparseTable optimizer 'sgd' is not one of: lazy-adam, adam, adagrad",
    );
  });

  it('turns the GMF product gradient into user and item gradients', () => {
    const user = Float32Array.of(1, 2);
    const item = Float32Array.of(3, -1);
    scatterProductGradients(Float32Array.of(0.5, 2), user, item, 2, 1);
    expect([...user]).toEqual([1.5, -2]); // g ⊙ item
    expect([...item]).toEqual([0.5, 4]); // g ⊙ user
  });
});
