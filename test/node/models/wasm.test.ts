import { expect, it } from 'vitest';
import { sgdBiasedMfEpoch } from '../../../train/models/kernels.ts';
import { compileSgdWat, compileWat } from '../../../train/models/wasm/build.ts';
import { DOTS_WASM_BASE64 } from '../../../train/similar/wasm/dots-wasm.ts';
import { SGD_WASM_BASE64 } from '../../../train/models/wasm/sgd-wasm.ts';
import { createSgdWasm } from '../../../train/models/wasm/sgd.ts';
import { IALS_WASM_BASE64 } from '../../../train/models/wasm/ials-wasm.ts';
import { applyRowSystem } from '../../../train/models/ials.ts';
import { createRng } from '../../../shared/random.ts';

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

it('the embedded iALS row-system kernel is exactly what ials.wat compiles to', async () => {
  const fresh = await compileWat('ials');
  expect(Buffer.from(fresh).toString('base64')).toBe(IALS_WASM_BASE64);
});

it.each([
  [32, 7],
  [5, 4],
  [8, 1],
])('the iALS row-system kernel gives the scalar loops bit for bit (k = %i, %i interactions)', (k, n) => {
  const rng = createRng(k * 31 + n);
  const rows = 20;
  const fixed = Float32Array.from({ length: rows * k }, () => rng.normal());
  const gram = new Float64Array(k * k);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) gram[i * k + j]! += fixed[r * k + i]! * fixed[r * k + j]!;
  const other = Uint32Array.from({ length: n }, () => rng.int(rows));
  const conf = Float32Array.from({ length: n }, (_, p) => (p === 1 ? 1 : 1 + 10 * rng.next()));
  const v = Float64Array.from({ length: k }, () => rng.normal());
  const expected = new Float64Array(k);
  applyRowSystem(gram, fixed, other, conf, 0, n, k, 0.37, v, expected);
  const memory = new WebAssembly.Memory({ initial: 1 });
  const { apply } = new WebAssembly.Instance(
    new WebAssembly.Module(Buffer.from(IALS_WASM_BASE64, 'base64')),
    { env: { memory } },
  ).exports as { apply: (...args: number[]) => void };
  const at = { gram: 0, fixed: 8192, other: 16384, conf: 20480, v: 24576, out: 28672 };
  new Float64Array(memory.buffer, at.gram, k * k).set(gram);
  new Float32Array(memory.buffer, at.fixed, rows * k).set(fixed);
  new Uint32Array(memory.buffer, at.other, n).set(other);
  new Float32Array(memory.buffer, at.conf, n).set(conf);
  new Float64Array(memory.buffer, at.v, k).set(v);
  apply(at.gram, at.fixed, at.other, at.conf, 0, n, k, 0.37, at.v, at.out);
  expect([...new Float64Array(memory.buffer, at.out, k)]).toEqual([...expected]);
});
