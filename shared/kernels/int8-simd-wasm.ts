/**
 * The WebAssembly SIMD retrieval kernel, as its bytes, hand-assembled here so no compiler is
 * needed: `dot(codes, rows, cols, user, scales, vscale, out)` computes, for every row i,
 *   out[i] = f32(sum_j codes[i*cols + j] * user[j]) * scales[i] * vscale
 * with int8 item codes, an int16-quantized user vector and exact int32 accumulation
 * (i16x8.extend_{low,high}_i8x16_s + i32x4.dot_i16x8_s: 16 multiply-adds per 3 instructions).
 * Requirements: cols is a multiple of 16 and <= 256 (so |sum| <= 256 * 127 * 32767 < 2^31).
 * Workers refuse to compile wasm from bytes at run time, so the edge imports the same bytes as a
 * bundled module (edge/int8-simd.wasm, checked equal to these by test/node/kernels/simd.test.ts);
 * Node compiles them directly.
 */

const SIMD = 0xfd;
const op = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32Add: 0x6a,
  i32Shl: 0x74,
  f32Load: 0x2a,
  f32Store: 0x38,
  f32Mul: 0x94,
  f32ConvertI32S: 0xb2,
} as const;
// SIMD opcodes (after the 0xfd prefix, LEB128-encoded).
const simd = {
  v128Load: [0x00],
  v128Const: [0x0c],
  i32x4ExtractLane: [0x1b],
  i16x8ExtendLowI8x16S: [0x87, 0x01],
  i16x8ExtendHighI8x16S: [0x88, 0x01],
  i32x4Add: [0xae, 0x01],
  i32x4DotI16x8S: [0xba, 0x01],
} as const;

// Parameters and locals of `dot`.
const CODES = 0;
const ROWS = 1;
const COLS = 2;
const USER = 3;
const SCALES = 4;
const VSCALE = 5;
const OUT = 6;
const I = 7;
const J = 8;
const ACC = 9;
const V = 10;

function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
}

const get = (local: number) => [op.localGet, local];
const i32 = (value: number) => [op.i32Const, ...uleb(value)]; // small non-negative constants only
const s = (code: readonly number[], ...immediates: number[]) => [SIMD, ...code, ...immediates];

function body(): number[] {
  const code = [
    op.block,
    0x40,
    ...get(ROWS),
    op.i32Eqz,
    op.brIf,
    0,
    op.loop,
    0x40, // rows
    ...s(simd.v128Const, ...new Array<number>(16).fill(0)),
    op.localSet,
    ACC,
    ...i32(0),
    op.localSet,
    J,
    op.loop,
    0x40, // 16 columns per iteration
    ...get(CODES),
    ...get(J),
    op.i32Add,
    ...s(simd.v128Load, 0, 0),
    op.localSet,
    V,
    ...get(ACC),
    ...get(V),
    ...s(simd.i16x8ExtendLowI8x16S),
    ...get(USER),
    ...get(J),
    ...i32(1),
    op.i32Shl,
    op.i32Add,
    ...s(simd.v128Load, 0, 0),
    ...s(simd.i32x4DotI16x8S),
    ...s(simd.i32x4Add),
    ...get(V),
    ...s(simd.i16x8ExtendHighI8x16S),
    ...get(USER),
    ...get(J),
    ...i32(1),
    op.i32Shl,
    op.i32Add,
    ...s(simd.v128Load, 0, 16),
    ...s(simd.i32x4DotI16x8S),
    ...s(simd.i32x4Add),
    op.localSet,
    ACC,
    ...get(J),
    ...i32(16),
    op.i32Add,
    op.localTee,
    J,
    ...get(COLS),
    op.i32LtU,
    op.brIf,
    0,
    op.end,
    // out[i] = f32(lane0 + lane1 + lane2 + lane3) * scales[i] * vscale
    ...get(OUT),
    ...get(I),
    ...i32(2),
    op.i32Shl,
    op.i32Add,
    ...get(ACC),
    ...s(simd.i32x4ExtractLane, 0),
    ...get(ACC),
    ...s(simd.i32x4ExtractLane, 1),
    op.i32Add,
    ...get(ACC),
    ...s(simd.i32x4ExtractLane, 2),
    op.i32Add,
    ...get(ACC),
    ...s(simd.i32x4ExtractLane, 3),
    op.i32Add,
    op.f32ConvertI32S,
    ...get(SCALES),
    ...get(I),
    ...i32(2),
    op.i32Shl,
    op.i32Add,
    op.f32Load,
    2,
    0,
    op.f32Mul,
    ...get(VSCALE),
    op.f32Mul,
    op.f32Store,
    2,
    0,
    ...get(CODES),
    ...get(COLS),
    op.i32Add,
    op.localSet,
    CODES,
    ...get(I),
    ...i32(1),
    op.i32Add,
    op.localTee,
    I,
    ...get(ROWS),
    op.i32LtU,
    op.brIf,
    0,
    op.end,
    op.end,
    op.end,
  ];
  const locals = [2, 2, 0x7f, 2, 0x7b]; // 2 x i32 (i, j), 2 x v128 (acc, v)
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

function assemble(): Uint8Array<ArrayBuffer> {
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    // (i32 codes, i32 rows, i32 cols, i32 user, i32 scales, f32 vscale, i32 out) -> ()
    ...section(1, [1, 0x60, 7, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7d, 0x7f, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 1]), // one memory, 1 page to start; the host grows it once
    ...section(7, [2, ...name('memory'), 0x02, 0, ...name('dot'), 0x00, 0]),
    ...section(10, [1, ...body()]),
  ];
  return Uint8Array.from(bytes);
}

/** The kernel module's bytes (deterministic). */
export const INT8_SIMD_WASM: Uint8Array<ArrayBuffer> = assemble();
