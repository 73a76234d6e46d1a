/**
 * A training-side WebAssembly kernel (base64 in a generated *-wasm.ts file), compiled once per
 * thread on first use; null where this runtime cannot compile it (no wasm SIMD), so the caller
 * takes its plain typed-array loops instead.
 */
export function lazyWasmModule(base64: string): () => WebAssembly.Module | null {
  let module: WebAssembly.Module | null | undefined;
  return () => {
    if (module === undefined) {
      try {
        module = new WebAssembly.Module(Buffer.from(base64, 'base64'));
      } catch {
        module = null;
      }
    }
    return module;
  };
}
