import { beforeAll, describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { AirssysError } from '../../src/shared/errors.js';
import { checkCoreModuleLimits, inspectCoreModule } from '../../src/wasm/binary/module-info.js';
import { DEFAULT_BINARY_CAPS } from '../../src/wasm/engine/policy.js';

let wabt: Awaited<ReturnType<typeof wabtInit>>;
beforeAll(async () => {
  wabt = await wabtInit();
});

function wat(src: string): Uint8Array {
  const mod = wabt.parseWat('info.wat', src, { multi_value: true, bulk_memory: true, reference_types: true });
  const bytes = new Uint8Array(mod.toBinary({}).buffer);
  mod.destroy();
  return bytes;
}

function caught(fn: () => unknown): AirssysError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AirssysError);
    return error as AirssysError;
  }
  throw new Error('expected an AirssysError');
}

const SAMPLE = `(module
  (type (func (param i32 i32 i32 i32 i32) (result i32 i32)))
  (import "env" "f" (func (param i32)))
  (import "env" "g" (func))
  (import "env" "mem" (memory 2 20))
  (import "env" "glob" (global i32))
  (import "env" "tab" (table 1 funcref))
  (memory (export "m") 1 8)
  (memory 3)
  (global (mut i32) (i32.const 0))
  (func $a (local i32 i64) (local f32))
  (func $b (param i32) (local i32 i32 i32 i32 i32 i32 i32))
  (func (export "c"))
  (export "a" (func $a))
  (start $a))`;

describe('inspectCoreModule', () => {
  it('counts what a module declares', () => {
    const bytes = new Uint8Array(wat(SAMPLE));
    const info = inspectCoreModule(bytes);
    expect(info.byteLength).toBe(bytes.length);
    expect(info.imports).toEqual({ total: 5, functions: 2, tables: 1, memories: 1, globals: 1, tags: 0 });
    expect(info.functions).toEqual({ imported: 2, defined: 3, total: 5 });
    expect(info.exports).toBe(3);
    expect(info.maxLocals).toBe(7);
    expect(info.maxParams).toBe(5);
    expect(info.maxResults).toBe(2);
    expect(info.globals).toBe(1);
    expect(info.hasStart).toBe(true);
    expect(info.memories).toEqual([
      { imported: true, min: 2, max: 20, shared: false, memory64: false },
      { imported: false, min: 1, max: 8, shared: false, memory64: false },
      { imported: false, min: 3, max: undefined, shared: false, memory64: false },
    ]);
    expect(inspectCoreModule(wat('(module)'))).toMatchObject({ types: 0, hasStart: false, memories: [] });
  });

  it('reports memory64 memories', () => {
    const mod = wabt.parseWat('m.wat', '(module (memory i64 5 6))', { memory64: true });
    const info = inspectCoreModule(new Uint8Array(mod.toBinary({}).buffer));
    expect(info.memories).toEqual([{ imported: false, min: 5, max: 6, shared: false, memory64: true }]);
  });

  it('does not decode function bodies beyond their locals', () => {
    const bytes = wat('(module (func (export "f") nop))');
    let at = -1;
    for (let i = 0; i + 2 < bytes.length; i++) {
      if (bytes[i] === 0x00 && bytes[i + 1] === 0x01 && bytes[i + 2] === 0x0b) at = i + 1;
    }
    const bad = bytes.slice();
    bad[at] = 0xff; // an invalid opcode: inspect does not look, compilation will reject it
    expect(inspectCoreModule(bad).functions.defined).toBe(1);
  });

  it('rejects garbage, truncation and components as invalid-component', () => {
    for (const bytes of [
      new Uint8Array([]),
      new Uint8Array([0x00, 0x61, 0x73]),
      new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
      new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]),
    ]) {
      const e = caught(() => inspectCoreModule(bytes));
      expect(e.code).toBe('invalid-component');
      expect(e.blame).toBe('guest');
      expect(e.message).toMatch(/at byte offset \d+/);
    }
    const full = wat(SAMPLE);
    let failures = 0;
    for (let len = 9; len < full.length; len++) {
      try {
        inspectCoreModule(full.subarray(0, len));
      } catch (error) {
        expect((error as AirssysError).code).toBe('invalid-component');
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
    // Sections out of order.
    const swapped = new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0, 0, 0, 0x03, 0x01, 0x00, 0x01, 0x01, 0x00,
    ]);
    expect(caught(() => inspectCoreModule(swapped)).message).toMatch(/out of order/);
    // A vector length larger than the data must not allocate or loop.
    const huge = new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0, 0, 0, 0x01, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f,
    ]);
    expect(caught(() => inspectCoreModule(huge)).message).toMatch(/vector length 4294967295/);
  });
});

describe('checkCoreModuleLimits', () => {
  const info = () => inspectCoreModule(wat(SAMPLE));

  it('accepts a module within the caps', () => {
    expect(() => checkCoreModuleLimits(info(), DEFAULT_BINARY_CAPS)).not.toThrow();
  });

  const cases: Array<[keyof typeof DEFAULT_BINARY_CAPS, number, number]> = [
    ['maxFunctions', 4, 5],
    ['maxImports', 4, 5],
    ['maxExports', 2, 3],
    ['maxLocals', 6, 7],
    ['maxParams', 4, 5],
    ['maxBinaryBytes', 10, -1],
  ];
  for (const [cap, limit, actual] of cases) {
    it(`names ${cap}, its limit and the actual value`, () => {
      const i = info();
      const e = caught(() => checkCoreModuleLimits(i, { ...DEFAULT_BINARY_CAPS, [cap]: limit }));
      const value = actual === -1 ? i.byteLength : actual;
      expect(e.code).toBe('invalid-component');
      expect(e.blame).toBe('guest');
      expect(e.message).toContain(cap);
      expect(e.message).toContain(String(limit));
      expect(e.message).toContain(String(value));
      expect(e.details).toEqual({ cap, limit, actual: value });
      // At the limit exactly is fine.
      expect(() => checkCoreModuleLimits(i, { ...DEFAULT_BINARY_CAPS, [cap]: value })).not.toThrow();
    });
  }
});
