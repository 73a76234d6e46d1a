/** `.wasm` imports are compiled modules in Workers (wrangler's CompiledWasm module rule). */
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
