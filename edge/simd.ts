/**
 * The SIMD retrieval kernel for Workers: the module is bundled at build time (a `.wasm` import
 * becomes a compiled WebAssembly.Module), since Workers refuse to compile wasm from bytes at run
 * time. Each matrix gets its own instance (its memory is sized once, never grown afterwards).
 */
import type { Int8SimdExports } from '../shared/kernels/int8-simd.ts';
import int8SimdModule from './int8-simd.wasm';

/** A fresh kernel instance. */
export function simdKernel(): Int8SimdExports {
  return new WebAssembly.Instance(int8SimdModule, {}).exports as unknown as Int8SimdExports;
}
