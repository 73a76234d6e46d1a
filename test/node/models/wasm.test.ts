import { expect, it } from 'vitest';
import { sgdBiasedMfEpoch } from '../../../train/models/kernels.ts';
import { compileSgdWat, compileWat } from '../../../train/models/wasm/build.ts';
import { DOTS_WASM_BASE64 } from '../../../train/similar/wasm/dots-wasm.ts';
import { SGD_WASM_BASE64 } from '../../../train/models/wasm/sgd-wasm.ts';
import { createSgdWasm } from '../../../train/models/wasm/sgd.ts';

it('the embedded SIMD kernel is exactly what sgd.wat compiles to', async () => {
  const fresh = await compileSgdWat();
  expect(Buffer.from(fresh).toString('base64')).toBe(SGD_WASM_BASE64);
});

it('the embedded neighbour-score kernel is exactly what dots.wat compiles to', async () => {
  const fresh = await compileWat('dots');
  expect(Buffer.from(fresh).toString('base64')).toBe(DOTS_WASM_BASE64);
});

it('the SIMD epoch matches the typed-array epoch (hand-made 3 users × 2 items, 8 factors)', () => {
  const k = 8;
  const rows = [
    [0, 0, 4],
    [0, 1, 2],
    [1, 0, 5],
    [2, 1, 1],
    [1, 1, 3],
  ] as const;
  const wasm = createSgdWasm(rows.length, 3, 2, k);
  rows.forEach(([u, i, r], j) => {
    wasm.user[j] = u;
    wasm.item[j] = i;
    wasm.rating[j] = r;
  });
  for (let j = 0; j < wasm.userFactors.length; j++) wasm.userFactors[j] = ((j * 7) % 5) / 10 - 0.2;
  for (let j = 0; j < wasm.itemFactors.length; j++) wasm.itemFactors[j] = ((j * 3) % 7) / 10 - 0.3;
  const state = {
    factors: k,
    mean: 3,
    userFactors: wasm.userFactors.slice(),
    itemFactors: wasm.itemFactors.slice(),
    userBias: new Float32Array(3),
    itemBias: new Float32Array(2),
  };
  const js = sgdBiasedMfEpoch(
    wasm.user.slice(),
    wasm.item.slice(),
    wasm.rating.slice(),
    state,
    0.05,
    0.1,
    0.05,
    0.02,
  );
  const simd = wasm.epoch(rows.length, 3, 0.05, 0.1, 0.05, 0.02);
  expect(simd).toBeCloseTo(js, 4);
  for (let j = 0; j < state.userFactors.length; j++)
    expect(wasm.userFactors[j]!).toBeCloseTo(state.userFactors[j]!, 5);
  for (let j = 0; j < state.itemFactors.length; j++)
    expect(wasm.itemFactors[j]!).toBeCloseTo(state.itemFactors[j]!, 5);
  for (let j = 0; j < 3; j++) expect(wasm.userBias[j]!).toBeCloseTo(state.userBias[j]!, 5);
  expect(() => createSgdWasm(1, 1, 1, 6)).toThrow(/divisible by 4, got 6/);
});
