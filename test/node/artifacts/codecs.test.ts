import { describe, expect, it } from 'vitest';
import {
  csrRow,
  decodeCsr,
  decodeIds,
  decodeJson,
  decodeMatrix,
  decodeNeighbors,
  decodeStrings,
  decodeVector,
  encodeCsr,
  encodeIds,
  encodeJson,
  encodeMatrix,
  encodeNeighbors,
  encodeStrings,
  encodeVector,
  matrixRow,
  matrixToFloat32,
  NO_NEIGHBOR,
  neighborScoresFloat32,
  stringAt,
} from '../../../shared/artifacts/codecs.ts';
import { expectedByteLength, validateManifestFile } from '../../../shared/artifacts/manifest.ts';
import {
  decodeFloat16,
  encodeFloat16,
  float16BitsToFloat32,
  float32ToFloat16Bits,
} from '../../../shared/artifacts/float16.ts';
import { ReelrankError } from '../../../shared/errors.ts';
import { sha256Hex } from '../../../shared/hash.ts';

describe('float16', () => {
  it('encodes hand-checked bit patterns', () => {
    // 1 = 0x3c00, -2 = 0xc000, 65504 = max finite 0x7bff, 2^-24 = smallest subnormal 0x0001.
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(float32ToFloat16Bits(0.1)).toBe(0x2e66);
    expect(float32ToFloat16Bits(1e6)).toBe(0x7c00);
    expect(float32ToFloat16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(float32ToFloat16Bits(-0)).toBe(0x8000);
  });

  it('rounds ties to even', () => {
    // 1 + 2^-11 lies halfway between 1 (0x3c00, even) and 1 + 2^-10 (0x3c01): goes to even.
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3*2^-11 lies halfway between 0x3c01 (odd) and 0x3c02 (even).
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it('round-trips every finite half exactly and bounds the relative error of float32 inputs', () => {
    const mismatches: number[] = [];
    for (let bits = 0; bits < 0x7c00; bits++) {
      if (float32ToFloat16Bits(float16BitsToFloat32(bits)) !== bits) mismatches.push(bits);
    }
    expect(mismatches).toEqual([]);
    const values = new Float32Array(1000).map((_, i) => Math.sin(i) * 10 ** ((i % 8) - 3));
    const back = decodeFloat16(encodeFloat16(values));
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (Math.abs(v) >= 6.2e-5) expect(Math.abs(back[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11);
      else expect(Math.abs(back[i]! - v)).toBeLessThanOrEqual(2 ** -25);
    }
  });
});

describe('matrix codecs', () => {
  const rows = 3;
  const cols = 4;
  const data = new Float32Array([0.5, -1, 0.25, 0, 0, 0, 0, 0, 127, -63.5, 1, 2]);

  it('stores float32 raw, little-endian', () => {
    const bytes = encodeMatrix(data, rows, cols, 'float32');
    expect(bytes.length).toBe(48);
    // 0.5 = 0x3f000000 little-endian -> 00 00 00 3f
    expect([...bytes.subarray(0, 4)]).toEqual([0, 0, 0, 0x3f]);
    const m = decodeMatrix(bytes, rows, cols, 'float32');
    expect(m.dtype).toBe('float32');
    expect([...matrixToFloat32(m)]).toEqual([...data]);
  });

  it('stores int8 with per-row scales first, hand-computed', () => {
    const bytes = encodeMatrix(data, rows, cols, 'int8');
    expect(bytes.length).toBe(4 * rows + rows * cols);
    const m = decodeMatrix(bytes, rows, cols, 'int8');
    if (m.dtype !== 'int8') throw new Error('expected int8');
    // row 0: maxabs 1 -> scale 1/127; 0.5*127 = 63.5 -> 64 (half away from zero), 0.25*127 = 31.75 -> 32
    expect(m.scales[0]).toBeCloseTo(1 / 127, 7);
    expect([...m.values.subarray(0, 4)]).toEqual([64, -127, 32, 0]);
    // row 1: all zero -> scale 0, values 0
    expect(m.scales[1]).toBe(0);
    expect([...m.values.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
    // row 2: maxabs 127 -> scale 1; -63.5 -> -64
    expect(m.scales[2]).toBe(1);
    expect([...m.values.subarray(8, 12)]).toEqual([127, -64, 1, 2]);
    // the scale block is the first 12 bytes: scale 1.0 = 00 00 80 3f
    expect([...bytes.subarray(8, 12)]).toEqual([0, 0, 0x80, 0x3f]);
    const back = matrixToFloat32(m);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        // symmetric per-row bound: |x - x'| <= scale / 2
        expect(Math.abs(back[r * cols + c]! - data[r * cols + c]!)).toBeLessThanOrEqual(
          m.scales[r]! / 2 + 1e-7,
        );
      }
    }
    expect([...matrixRow(m, 2)]).toEqual([127, -64, 1, 2]);
  });

  it('stores int8 with float16 scales (2 bytes per row), scale rounded up to a half', () => {
    const bytes = encodeMatrix(data, rows, cols, 'int8', { scaleDtype: 'float16' });
    expect(bytes.length).toBe(2 * rows + rows * cols);
    // row 2: maxabs 127 -> scale exactly 1.0 = binary16 0x3c00, little-endian at bytes 4..5
    expect([...bytes.subarray(4, 6)]).toEqual([0x00, 0x3c]);
    expect(() => decodeMatrix(bytes, rows, cols, 'int8')).toThrow(/has 18 bytes, expected 24/);
    const m = decodeMatrix(bytes, rows, cols, 'int8', { scaleDtype: 'float16' });
    if (m.dtype !== 'int8') throw new Error('expected int8');
    // row 0: 1/127 is not a half; the stored scale is the next half above it
    expect(m.scales[0]).toBeGreaterThanOrEqual(1 / 127);
    expect(float32ToFloat16Bits(m.scales[0]!)).toBe(
      float32ToFloat16Bits(1 / 127) + (float16BitsToFloat32(float32ToFloat16Bits(1 / 127)) < 1 / 127 ? 1 : 0),
    );
    expect(m.scales[1]).toBe(0);
    expect([...m.values.subarray(8, 12)]).toEqual([127, -64, 1, 2]);
    const back = matrixToFloat32(m);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        expect(Math.abs(m.values[r * cols + c]!)).toBeLessThanOrEqual(127);
        expect(Math.abs(back[r * cols + c]! - data[r * cols + c]!)).toBeLessThanOrEqual(
          m.scales[r]! / 2 + 1e-7,
        );
      }
    }
  });

  it('stores float16 and decodes with the stated relative bound', () => {
    const bytes = encodeMatrix(data, rows, cols, 'float16');
    expect(bytes.length).toBe(2 * rows * cols);
    const m = decodeMatrix(bytes, rows, cols, 'float16');
    const back = matrixToFloat32(m);
    data.forEach((v, i) => {
      expect(Math.abs(back[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11);
    });
  });

  it('decodes zero-copy when aligned and copies when not', () => {
    const bytes = encodeMatrix(data, rows, cols, 'float32');
    const aligned = decodeMatrix(bytes, rows, cols, 'float32');
    expect(aligned.values.buffer).toBe(bytes.buffer);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const unaligned = decodeMatrix(shifted.subarray(1), rows, cols, 'float32');
    expect(unaligned.values.buffer).not.toBe(shifted.buffer);
    expect([...matrixToFloat32(unaligned)]).toEqual([...data]);
  });

  it('refuses a wrong size, a wrong dtype and mismatched data', () => {
    const bytes = encodeMatrix(data, rows, cols, 'float32');
    expect(() => decodeMatrix(bytes.subarray(0, 47), rows, cols, 'float32')).toThrow(/47 bytes, expected 48/);
    expect(() => decodeMatrix(bytes, rows, cols, 'bfloat16')).toThrow(
      /unknown dtype 'bfloat16'. Supported: 'float32', 'float16', 'int8'/,
    );
    expect(() => encodeMatrix(data, 2, 4, 'float32')).toThrow(/12 elements, expected 8/);
  });
});

describe('vector, ids, neighbours, CSR, JSON codecs', () => {
  it('round-trips vectors and ids', () => {
    const f = new Float32Array([1.5, -2]);
    expect([...decodeVector(encodeVector(f), 2, 'float32')]).toEqual([1.5, -2]);
    const u = new Uint8Array([0, 1, 255]);
    expect([...decodeVector(encodeVector(u), 3, 'uint8')]).toEqual([0, 1, 255]);
    const u16 = decodeVector(encodeVector(new Uint16Array([1995, 0, 65535])), 3, 'uint16');
    expect(u16).toBeInstanceOf(Uint16Array);
    expect([...u16]).toEqual([1995, 0, 65535]);
    const u32Bytes = encodeVector(new Uint32Array([258, 0xffffffff]));
    expect([...u32Bytes]).toEqual([2, 1, 0, 0, 255, 255, 255, 255]);
    expect([...decodeVector(u32Bytes, 2, 'uint32')]).toEqual([258, 0xffffffff]);
    expect(() => decodeVector(u32Bytes, 3, 'uint16')).toThrow(/uint16 vector \[3\] has 8 bytes, expected 6/);
    expect(() => decodeVector(u32Bytes, 2, 'int16')).toThrow(
      /unknown dtype 'int16'. Supported: 'float32', 'uint8', 'uint16', 'uint32'/,
    );
    const ids = new Uint32Array([7, 0xfffffffe, 42]);
    const bytes = encodeIds(ids);
    expect([...bytes.subarray(0, 4)]).toEqual([7, 0, 0, 0]);
    expect([...decodeIds(bytes, 3)]).toEqual([7, 0xfffffffe, 42]);
  });

  it('lays neighbour ids before scores', () => {
    const ids = new Uint32Array([1, 2, 0, NO_NEIGHBOR]);
    const scores = new Float32Array([0.9, 0.5, 0.75, Number.NEGATIVE_INFINITY]);
    const bytes32 = encodeNeighbors(ids, scores, 2, 2, 'float32');
    expect(bytes32.length).toBe(32);
    expect([...bytes32.subarray(12, 16)]).toEqual([255, 255, 255, 255]);
    const n32 = decodeNeighbors(bytes32, 2, 2, 'float32');
    expect([...n32.ids]).toEqual([...ids]);
    expect([...neighborScoresFloat32(n32)]).toEqual([...scores]);
    const bytes16 = encodeNeighbors(ids, scores, 2, 2, 'float16');
    expect(bytes16.length).toBe(24);
    const n16 = decodeNeighbors(bytes16, 2, 2, 'float16');
    // 0.75 and 0.5 are exact in float16; 0.9 within 2^-11 relative
    const s = neighborScoresFloat32(n16);
    expect(s[1]).toBe(0.5);
    expect(s[2]).toBe(0.75);
    expect(Math.abs(s[0]! - 0.9)).toBeLessThanOrEqual(0.9 * 2 ** -11);
    expect(s[3]).toBe(Number.NEGATIVE_INFINITY);
  });

  it('round-trips CSR and rejects bad offsets', () => {
    const offsets = new Uint32Array([0, 2, 2, 5]);
    const indexes = new Uint32Array([3, 9, 1, 4, 8]);
    const bytes = encodeCsr(offsets, indexes);
    expect(bytes.length).toBe(4 * (4 + 5));
    const csr = decodeCsr(bytes, 3, 5);
    expect([...csrRow(csr, 0)]).toEqual([3, 9]);
    expect([...csrRow(csr, 1)]).toEqual([]);
    expect([...csrRow(csr, 2)]).toEqual([1, 4, 8]);
    expect(() => encodeCsr(new Uint32Array([0, 3, 2, 5]), indexes)).toThrow(
      /must not decrease: offsets\[2\] = 2 < offsets\[1\] = 3/,
    );
    expect(() => encodeCsr(new Uint32Array([0, 2, 4]), indexes)).toThrow(/end at 5/);
  });

  it('round-trips JSON and names a broken file', () => {
    const value = { title: 'Misérables, Les', ids: [1, 2] };
    expect(decodeJson(encodeJson(value), 'catalog.json')).toEqual(value);
    expect(() => decodeJson(new TextEncoder().encode('{"a":'), 'catalog.json')).toThrow(ReelrankError);
    expect(() => decodeJson(new TextEncoder().encode('{"a":'), 'catalog.json')).toThrow(
      /catalog.json is not valid JSON/,
    );
  });

  it('hashes with WebCrypto sha256', async () => {
    // FIPS 180-2 test vector for 'abc'.
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('string columns', () => {
  it('stores UTF-16 offsets, then the UTF-8 text', () => {
    // 'Amélie' is 6 UTF-16 units and 7 UTF-8 bytes; the emoji is 2 units and 4 bytes.
    const { bytes, textBytes } = encodeStrings(['Heat', '', 'Amélie', '🎬x']);
    expect(textBytes).toBe(4 + 0 + 7 + 5);
    expect([...new Uint32Array(bytes.buffer, bytes.byteOffset, 5)]).toEqual([0, 4, 4, 10, 13]);
    expect(new TextDecoder().decode(bytes.subarray(20))).toBe('HeatAmélie🎬x');
    const column = decodeStrings(bytes, 4, textBytes);
    expect(Array.from({ length: 4 }, (_, i) => stringAt(column, i))).toEqual(['Heat', '', 'Amélie', '🎬x']);
    expect(column.text).toBe('HeatAmélie🎬x');
  });

  it('keeps a leading byte-order mark and an empty column', () => {
    const { bytes, textBytes } = encodeStrings(['\ufeffBOM']);
    expect(stringAt(decodeStrings(bytes, 1, textBytes), 0)).toBe('\ufeffBOM');
    const empty = encodeStrings([]);
    expect(empty.bytes.length).toBe(4);
    expect(decodeStrings(empty.bytes, 0, 0).length).toBe(0);
  });

  it('refuses offsets that do not fit the text, bad UTF-8 and a wrong size', () => {
    const { bytes, textBytes } = encodeStrings(['ab', 'cd']);
    const past = bytes.slice();
    past[8] = 5; // offsets [0, 2, 5]: the text has 4 units
    expect(() => decodeStrings(past, 2, textBytes)).toThrow(/end at 4 .* got 0 \.\. 5/);
    const backwards = bytes.slice();
    backwards[4] = 5; // offsets [0, 5, 4]
    expect(() => decodeStrings(backwards, 2, textBytes)).toThrow(
      /must not decrease: offsets\[2\] = 4 < offsets\[1\] = 5/,
    );
    const invalid = bytes.slice();
    invalid[12] = 0xff;
    expect(() => decodeStrings(invalid, 2, textBytes)).toThrow(
      /not valid UTF-8 \(first bad byte 0xff at text offset 0\)/,
    );
    expect(() => decodeStrings(bytes, 2, textBytes + 1)).toThrow(/has 16 bytes, expected 17/);
  });

  it('has a manifest size of 4 (n + 1) + text bytes', () => {
    expect(expectedByteLength('strings', 'utf8', [2, 4])).toBe(16);
    expect(expectedByteLength('vector', 'uint16', [3])).toBe(6);
    const entry = {
      path: 'catalog_titles.str',
      kind: 'strings',
      dtype: 'utf8',
      sha256: '0'.repeat(64),
      quantization: null,
    };
    expect(validateManifestFile('m', { ...entry, bytes: 16, shape: [2, 4] }, 0).shape).toEqual([2, 4]);
    expect(() => validateManifestFile('m', { ...entry, bytes: 15, shape: [2, 4] }, 0)).toThrow(
      /a utf8 strings of shape \[2,4\] has 16 bytes, the manifest says 15/,
    );
    expect(() => validateManifestFile('m', { ...entry, dtype: 'json', bytes: 16, shape: [2, 4] }, 0)).toThrow(
      /dtype is "json". Allowed: 'utf8'/,
    );
  });
});
