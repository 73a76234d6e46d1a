import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { matVecInt8, quantizeRowsInt8 } from '../../../shared/kernels/int8.ts';
import { type Int8SimdExports, SimdInt8MatVec } from '../../../shared/kernels/int8-simd.ts';
import { INT8_SIMD_WASM } from '../../../shared/kernels/int8-simd-wasm.ts';
import { createRng } from '../../../shared/random.ts';
import { REPO_ROOT } from '../../support/data.ts';

function kernel(): Int8SimdExports {
  return new WebAssembly.Instance(new WebAssembly.Module(INT8_SIMD_WASM), {})
    .exports as unknown as Int8SimdExports;
}

describe('wasm SIMD int8 retrieval kernel', () => {
  it('computes a hand-checked 2 x 16 product exactly', () => {
    // row 0: codes 1..16, scale 0.5; row 1: all -127, scale 1. vector: 1 at j = 0 and 2 at j = 15.
    const values = new Int8Array(32);
    for (let j = 0; j < 16; j++) {
      values[j] = j + 1;
      values[16 + j] = -127;
    }
    const m = { rows: 2, cols: 16, values, scales: Float32Array.of(0.5, 1) };
    const v = new Float32Array(16);
    v[0] = 1;
    v[15] = 2;
    const out = new SimdInt8MatVec(kernel(), m).matVec(v);
    expect(out[0]).toBeCloseTo((1 * 1 + 16 * 2) * 0.5, 4); // 16.5
    expect(out[1]).toBeCloseTo(-127 * 3, 2);
  });

  it('matches the JS kernel within the int16 query quantization, including padded widths', () => {
    const rng = createRng(11);
    for (const cols of [16, 32, 34, 64, 100]) {
      const rows = 1013;
      const q = quantizeRowsInt8(
        Float32Array.from({ length: rows * cols }, () => rng.normal()),
        cols,
      );
      const v = Float32Array.from({ length: cols }, () => rng.normal());
      const simd = new SimdInt8MatVec(kernel(), q);
      const got = simd.matVec(v);
      const want = matVecInt8(q, v);
      const vmax = Math.max(...Array.from(v, Math.abs));
      for (let i = 0; i < rows; i++) {
        // |error| <= sum_j |code_ij| * scale_i * (vscale / 2)
        let bound = 0;
        for (let j = 0; j < cols; j++) bound += Math.abs(q.values[i * cols + j]!);
        bound = (bound * q.scales[i]! * vmax) / 32767 / 2 + 1e-4 * Math.abs(want[i]!) + 1e-5;
        expect(Math.abs(got[i]! - want[i]!), `cols ${cols} row ${i}`).toBeLessThanOrEqual(bound);
      }
      expect(simd.stride % 16).toBe(0);
    }
  });

  it('returns zeros for a zero query and refuses rows too wide for int32 accumulation', () => {
    const q = quantizeRowsInt8(
      Float32Array.from({ length: 64 }, (_, i) => i - 30),
      32,
    );
    expect(Array.from(new SimdInt8MatVec(kernel(), q).matVec(new Float32Array(32)))).toEqual([0, 0]);
    expect(
      () =>
        new SimdInt8MatVec(kernel(), {
          rows: 1,
          cols: 300,
          values: new Int8Array(300),
          scales: new Float32Array(1),
        }),
    ).toThrow(/300 columns > 256/);
  });

  it('ships the same bytes to the edge as a bundled module (edge/int8-simd.wasm)', () => {
    const shipped = new Uint8Array(readFileSync(join(REPO_ROOT, 'edge/int8-simd.wasm')));
    expect(Buffer.from(shipped).equals(Buffer.from(INT8_SIMD_WASM))).toBe(true);
  });
});
