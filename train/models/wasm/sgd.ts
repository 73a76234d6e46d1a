import { ReelrankError } from '../../../shared/errors.ts';
import { lazyWasmModule } from './module.ts';
import { SGD_WASM_BASE64 } from './sgd-wasm.ts';

/**
 * The SIMD biased-MF SGD kernel (sgd.wat) with its arrays in one WebAssembly memory. Training
 * writes each epoch's shuffled rows into `user`/`item`/`rating` and calls `epoch`; the factor and
 * bias views are the live parameters. Node only (train/): Workers refuse to compile wasm bytes.
 */
export interface SgdWasm {
  user: Uint32Array;
  item: Uint32Array;
  rating: Float32Array;
  userFactors: Float32Array;
  itemFactors: Float32Array;
  userBias: Float32Array;
  itemBias: Float32Array;
  /** One pass over the first `n` rows; returns the sum of squared errors before each update. */
  epoch(n: number, mean: number, lr: number, reg: number, lrBias: number, regBias: number): number;
}

const sgdModule = lazyWasmModule(SGD_WASM_BASE64);

/** True when this runtime can run the SIMD kernel (Node 16.4+ has wasm SIMD). */
export function wasmSgdAvailable(): boolean {
  return sgdModule() !== null;
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** Allocate the kernel's memory for `rows` ratings, `users` × `items` and `factors` (a multiple of 4). */
export function createSgdWasm(rows: number, users: number, items: number, factors: number): SgdWasm {
  if (factors % 4 !== 0) {
    throw new ReelrankError('bad_option', `the SIMD SGD kernel needs factors divisible by 4, got ${factors}`);
  }
  const compiled = sgdModule();
  if (compiled === null) {
    throw new ReelrankError(
      'unsupported',
      'this runtime cannot compile the SIMD SGD kernel (WebAssembly SIMD missing)',
    );
  }
  const layout: [string, number][] = [
    ['user', rows * 4],
    ['item', rows * 4],
    ['rating', rows * 4],
    ['P', users * factors * 4],
    ['Q', items * factors * 4],
    ['bu', users * 4],
    ['bi', items * 4],
  ];
  const offsets = new Map<string, number>();
  let total = 0;
  for (const [name, bytes] of layout) {
    offsets.set(name, total);
    total = align16(total + bytes);
  }
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(total / 65536)) });
  const instance = new WebAssembly.Instance(compiled, { env: { memory } });
  const epochFn = instance.exports.epoch as (...args: number[]) => number;
  const at = (name: string) => offsets.get(name)!;
  const buffer = memory.buffer;
  return {
    user: new Uint32Array(buffer, at('user'), rows),
    item: new Uint32Array(buffer, at('item'), rows),
    rating: new Float32Array(buffer, at('rating'), rows),
    userFactors: new Float32Array(buffer, at('P'), users * factors),
    itemFactors: new Float32Array(buffer, at('Q'), items * factors),
    userBias: new Float32Array(buffer, at('bu'), users),
    itemBias: new Float32Array(buffer, at('bi'), items),
    epoch: (n, mean, lr, reg, lrBias, regBias) =>
      epochFn(
        at('user'),
        at('item'),
        at('rating'),
        n,
        at('P'),
        at('Q'),
        at('bu'),
        at('bi'),
        factors,
        mean,
        lr,
        reg,
        lrBias,
        regBias,
      ),
  };
}
