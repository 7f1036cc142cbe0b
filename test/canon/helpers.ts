/** Test helpers: WAT → core instances over the flat ABI, a bump allocator, a minimal CanonInstance. */

import wabtInit from 'wabt';
import { AirssysError } from '../../src/shared/errors.js';
import {
  type CanonInstance,
  type CanonMemory,
  compileLift,
  compileLower,
  createHandleTables,
  flattenFuncType,
  type HandleTables,
} from '../../src/wasm/component/canon/index.js';
import type {
  CanonOptionsShape,
  FuncType,
  ResourceType,
  StringEncoding,
  ValType,
} from '../../src/wasm/component/types.js';

// The project's lib settings carry no WebAssembly typings; the global exists at run time.
declare const WebAssembly: any;

const wabt = await wabtInit();

export function wat2wasm(source: string): Uint8Array {
  const mod = wabt.parseWat('test.wat', source, { multi_value: true, bulk_memory: true });
  try {
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}

export function instantiate(source: string, imports: Record<string, Record<string, unknown>> = {}): any {
  const module = new WebAssembly.Module(wat2wasm(source));
  return new WebAssembly.Instance(module, imports).exports;
}

/** Bump allocator with realloc-copy semantics; heap starts at 4096 and grows memory on demand. */
export const REALLOC_WAT = `
  (global $bump (mut i32) (i32.const 4096))
  (global $calls (export "realloc_calls") (mut i32) (i32.const 0))
  (func $realloc (export "cabi_realloc") (param $old i32) (param $oldSize i32) (param $align i32) (param $new i32) (result i32)
    (local $p i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $align))))
    (global.set $bump (i32.add (local.get $p) (local.get $new)))
    (if (i32.gt_u (global.get $bump) (i32.mul (memory.size) (i32.const 65536)))
      (then (if (i32.lt_s (memory.grow (i32.add (i32.shr_u (i32.sub (global.get $bump) (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1))) (i32.const 0))
        (then unreachable))))
    (if (local.get $old)
      (then (memory.copy (local.get $p) (local.get $old)
        (select (local.get $oldSize) (local.get $new) (i32.lt_u (local.get $oldSize) (local.get $new))))))
    (local.get $p))
`;

export class TestInstance implements CanonInstance {
  memory: CanonMemory | undefined = undefined;
  state = 0;
  fuel = 1_000_000;
  handles: HandleTables;
  failures: unknown[] = [];

  constructor(resources: ResourceType[] = []) {
    this.handles = createHandleTables(resources);
  }

  cannotEnter(): never {
    throw new AirssysError('trap', this.state === 2 ? 'instance poisoned' : 're-entered', {
      blame: this.state === 2 ? 'guest' : 'host',
    });
  }

  fail(error: unknown): Error {
    this.failures.push(error);
    this.state = 2;
    if (error instanceof AirssysError) return error;
    return new AirssysError('trap', error instanceof Error ? error.message : String(error), {
      blame: 'guest',
      cause: error,
    });
  }
}

export function shape(stringEncoding: StringEncoding = 'utf8', hasPostReturn = false): CanonOptionsShape {
  return { stringEncoding, hasMemory: true, hasRealloc: true, hasPostReturn };
}

const wat = (ts: readonly string[]): string => ts.join(' ');

/**
 * Identity through both directions: export `f(x: T…) -> R` whose core body forwards its flat
 * params (and a return area) to the lowered import `g`, which the host implements in JS. So a
 * call lowers JS args into core values (lift path), lifts them back to JS in the import (lower
 * path), lowers the host's result into the return area, and lifts it again.
 */
export function passThrough(
  type: FuncType,
  host: (...args: any[]) => unknown,
  options: {
    encoding?: StringEncoding;
    resources?: ResourceType[];
    postReturn?: (...a: unknown[]) => void;
  } = {},
) {
  const lift = flattenFuncType(type, 'lift');
  const lower = flattenFuncType(type, 'lower');
  const outParam = lower.params.length > lift.params.length;
  const RET = 256;
  const locals = lift.params.map((_, i) => `(local.get ${i})`).join(' ');
  const source = `(module
    (import "host" "g" (func $g (param ${wat(lower.params)}) (result ${wat(lower.results)})))
    (memory (export "memory") 1)
    ${REALLOC_WAT}
    (func (export "f") (param ${wat(lift.params)}) (result ${wat(lift.results)})
      ${locals} ${outParam ? `(i32.const ${RET})` : ''} (call $g) ${outParam ? `(i32.const ${RET})` : ''}))`;
  const inst = new TestInstance(options.resources);
  const sh = shape(options.encoding ?? 'utf8', options.postReturn !== undefined);
  let exports: any;
  const realloc = (a: number, b: number, c: number, d: number) => exports.cabi_realloc(a, b, c, d);
  const lowered = compileLower(type, { shape: { ...sh, hasPostReturn: false }, name: 'g' })(
    host,
    inst,
    realloc,
  );
  exports = instantiate(source, { host: { g: lowered } });
  inst.memory = exports.memory;
  const f = compileLift(type, { shape: sh, fuelParam: false, name: 'f' })(
    exports.f,
    inst,
    realloc,
    options.postReturn,
  );
  return { f, inst, exports };
}

/** `f(x: T) -> T` where the host side is the identity: the value survives lower → lift → lower → lift. */
export function identity(t: ValType, options: Parameters<typeof passThrough>[2] = {}) {
  return passThrough({ params: [{ name: 'x', type: t }], result: t }, (x: unknown) => x, options);
}

export const T = {
  bool: { kind: 'bool' },
  s8: { kind: 's8' },
  u8: { kind: 'u8' },
  s16: { kind: 's16' },
  u16: { kind: 'u16' },
  s32: { kind: 's32' },
  u32: { kind: 'u32' },
  s64: { kind: 's64' },
  u64: { kind: 'u64' },
  f32: { kind: 'f32' },
  f64: { kind: 'f64' },
  char: { kind: 'char' },
  string: { kind: 'string' },
} as const satisfies Record<string, ValType>;
