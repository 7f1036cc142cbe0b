import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { AirssysError } from '../../src/shared/errors.js';
import { decodeComponent } from '../../src/wasm/component/decode.js';
import { buildComponent } from '../support/build-component.js';

const WIT = `package test:decode;
interface host { log: func(msg: string); }
world sample {
  import host;
  export add: func(a: u32, b: u32) -> u32;
  export echo: func(s: string) -> string;
  export api: interface {
    record point { x: s32, y: s32 }
    variant shape { circle(f64), rect(point), none }
    flip: func(p: point) -> point;
    area: func(s: shape) -> option<f64>;
  }
}`;

const WAT = `(module
  (import "test:decode/host" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $r i32) global.get $heap local.set $r
    global.get $heap local.get 3 i32.add global.set $heap local.get $r)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "echo") (param i32 i32) (result i32)
    (call $log (local.get 0) (local.get 1))
    (i32.store (i32.const 16) (local.get 0)) (i32.store (i32.const 20) (local.get 1)) (i32.const 16))
  (func (export "api#flip") (param i32 i32) (result i32)
    (i32.store (i32.const 32) (local.get 1)) (i32.store (i32.const 36) (local.get 0)) (i32.const 32))
  (func (export "api#area") (param i32 i64 i32) (result i32) (i32.const 48)))`;

let bytes: Uint8Array;
beforeAll(async () => {
  bytes = await buildComponent(WAT, WIT, 'sample');
});

function decodeError(input: Uint8Array): AirssysError {
  try {
    decodeComponent(input);
  } catch (error) {
    return error as AirssysError;
  }
  throw new Error('expected decodeComponent to throw');
}

function sectionBoundaries(binary: Uint8Array): Set<number> {
  const ends = new Set<number>();
  let pos = 8;
  while (pos < binary.length) {
    pos++;
    let size = 0;
    let shift = 0;
    let b: number;
    do {
      b = binary[pos++];
      size |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    pos += size;
    ends.add(pos);
  }
  return ends;
}

describe('component decoder', () => {
  it('lists lifted exports with their resolved types, interface functions as iface#func', () => {
    const plan = decodeComponent(bytes);
    expect(plan.exports.map((e) => e.name)).toEqual(['add', 'echo', 'api#flip', 'api#area']);
    const add = plan.exports[0];
    expect(add.type.params.map((p) => p.type.kind)).toEqual(['u32', 'u32']);
    expect(add.type.result).toEqual({ kind: 'u32' });
    const echo = plan.exports[1];
    expect(echo.options.hasMemory && echo.options.hasRealloc).toBe(true);
    const area = plan.exports[3];
    expect(area.type.params[0].type.kind).toBe('variant');
    expect(area.type.result).toEqual({ kind: 'option', type: { kind: 'f64' } });
  });

  it('resolves the lowered import to its interface path and the memory it writes to', () => {
    const plan = decodeComponent(bytes);
    expect(plan.lowered).toHaveLength(1);
    expect(plan.lowered[0].path).toEqual(['test:decode/host', 'log']);
    expect(plan.lowered[0].options.memory).toMatchObject({ kind: 'export', name: 'memory' });
    expect(plan.imports).toEqual([
      { kind: 'instance', name: 'test:decode/host', funcs: { log: expect.any(Object) }, types: {} },
    ]);
  });

  it('orders core instantiations as the component defines them', () => {
    const plan = decodeComponent(bytes);
    expect(plan.modules.length).toBe(3);
    // shim first, then main (needs the shim's table slot), then the fixup that fills it
    const main = plan.instances.findIndex((i) => 'test:decode/host' in i.args);
    expect(main).toBeGreaterThan(0);
    const fixup = plan.instances.findIndex((i) => 'shim' in i.args);
    expect(fixup).toBeGreaterThan(main);
  });

  it('rejects a core module with a message that says to build a component', () => {
    const core = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    const error = decodeError(core);
    expect(error.code).toBe('invalid-component');
    expect(error.message).toMatch(/core WebAssembly module/);
  });

  it('rejects garbage, a bad magic number and an unknown binary version', () => {
    expect(decodeError(Uint8Array.from([1, 2, 3])).code).toBe('invalid-component');
    expect(decodeError(new TextEncoder().encode('definitely not wasm')).message).toMatch(/magic/);
    const future = bytes.slice();
    future[4] = 0x0e;
    expect(decodeError(future).message).toMatch(/version/);
  });

  it('rejects every truncation inside a section with invalid-component', () => {
    const boundaries = sectionBoundaries(bytes);
    for (let length = 9; length < bytes.length; length++) {
      if (boundaries.has(length)) continue; // a prefix of whole sections is itself a component
      const error = decodeError(bytes.subarray(0, length));
      expect(error).toBeInstanceOf(AirssysError);
      expect(error.code).toBe('invalid-component');
    }
  });

  it('never throws anything but invalid-component on random byte corruption', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        (flips) => {
          const mutated = bytes.slice();
          for (const [at, value] of flips) mutated[8 + (at % (mutated.length - 8))] = value;
          try {
            decodeComponent(mutated);
          } catch (error) {
            expect(error).toBeInstanceOf(AirssysError);
            expect((error as AirssysError).code).toBe('invalid-component');
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
