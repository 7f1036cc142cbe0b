import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { AirssysError } from '../../src/shared/errors.js';
import { FUEL_EXPORT_PREFIX, INSTRUMENT_MODULE, instrument } from '../../src/wasm/engine/instrument.js';

// Typed loosely so the tests do not depend on a DOM/WebAssembly lib in tsconfig.
const WA: any = (globalThis as any).WebAssembly;

let wabt: Awaited<ReturnType<typeof wabtInit>>;
beforeAll(async () => {
  wabt = await wabtInit();
});

function wat(src: string): Uint8Array {
  const mod = wabt.parseWat('test.wat', src, {
    simd: true,
    bulk_memory: true,
    reference_types: true,
    multi_value: true,
    tail_call: true,
    sat_float_to_int: true,
    sign_extension: true,
  });
  try {
    return new Uint8Array(mod.toBinary({ write_debug_names: true }).buffer);
  } finally {
    mod.destroy();
  }
}

interface Plumbing {
  fuel: any;
  outOfFuel: number;
  growFailed: number;
  imports: Record<string, unknown>;
}

function plumbing(onOutOfFuel?: (p: Plumbing) => void): Plumbing {
  const p: Plumbing = {
    fuel: new WA.Global({ value: 'i64', mutable: true }, 0n),
    outOfFuel: 0,
    growFailed: 0,
    imports: {},
  };
  p.imports = {
    fuel: p.fuel,
    'out-of-fuel': () => {
      p.outOfFuel++;
      if (onOutOfFuel) onOutOfFuel(p);
      else throw new Error('out of fuel');
    },
    'grow-failed': () => {
      p.growFailed++;
    },
  };
  return p;
}

function run(bytes: Uint8Array, imports: Record<string, Record<string, unknown>>, memoryMaxPages = 16) {
  const result = instrument(bytes, { memoryMaxPages });
  expect(WA.validate(result.bytes)).toBe(true);
  const p = plumbing();
  // Start functions run (metered) during instantiation: the host sets the budget first.
  p.fuel.value = BigInt(BIG);
  const raw = new WA.Instance(new WA.Module(bytes), imports).exports;
  const inst = new WA.Instance(new WA.Module(result.bytes), { ...imports, [INSTRUMENT_MODULE]: p.imports })
    .exports;
  return { raw, inst, p, result };
}

function expectInvalid(fn: () => unknown, code = 'invalid-component', pattern?: RegExp): AirssysError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AirssysError);
    const e = error as AirssysError;
    expect(e.code).toBe(code);
    expect(e.blame).toBe('guest');
    if (pattern) expect(e.message).toMatch(pattern);
    return e;
  }
  throw new Error('expected an AirssysError');
}

const BIG = 1e15;

const KITCHEN_SINK = `(module
  (type $bin (func (param i32 i32) (result i32)))
  (import "env" "add1" (func $add1 (param i32) (result i32)))
  (import "env" "base" (global $base i32))
  (memory (export "mem") 1 4)
  (table $t (export "tab") 8 funcref)
  (table $t2 4 funcref)
  (global $counter (export "counter") (mut i32) (i32.const 0))
  (global $copy i32 (global.get $base))
  (global $fref funcref (ref.func $mul))
  (elem (table $t) (global.get $base) func $add $sub $mul)
  (elem $passive func $sub $add)
  (elem $exprs funcref (ref.func $mul) (ref.null func))
  (elem declare func $dec)
  (data (i32.const 16) "hello")
  (data (global.get $base) "\\01\\02")
  (data $pdata "passive!")
  (start $init)
  (func $init (global.set $counter (i32.const 100)))
  (func $add (type $bin) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $bin) (i32.sub (local.get 0) (local.get 1)))
  (func $mul (type $bin) (i32.mul (local.get 0) (local.get 1)))
  (func $dec (param i32) (result i32) (i32.sub (local.get 0) (i32.const 1)))
  (func (export "indirect") (param i32 i32 i32) (result i32)
    (call_indirect $t (type $bin) (local.get 1) (local.get 2) (i32.add (local.get 0) (global.get $base))))
  (func (export "via_import") (param i32) (result i32) (call $add1 (call $dec (local.get 0))))
  (func (export "table_init") (result i32)
    (table.init $t2 $passive (i32.const 0) (i32.const 0) (i32.const 2))
    (table.set $t2 (i32.const 2) (global.get $fref))
    (i32.add
      (call_indirect $t2 (type $bin) (i32.const 10) (i32.const 3) (i32.const 0))
      (i32.add
        (call_indirect $t2 (type $bin) (i32.const 10) (i32.const 3) (i32.const 1))
        (call_indirect $t2 (type $bin) (i32.const 10) (i32.const 3) (i32.const 2)))))
  (func (export "ref_func") (result i32)
    (table.set $t2 (i32.const 3) (ref.func $dec))
    (i32.add (ref.is_null (ref.null func)) (table.size $t2)))
  (func (export "switch") (param i32) (result i32)
    (block $c (block $b (block $a
      (br_table $a $b $c (local.get 0)))
      (return (i32.const 10)))
      (return (i32.const 20)))
    (i32.const 30))
  (func $pair (param i32) (result i32 i32) (local.get 0) (i32.mul (local.get 0) (i32.const 2)))
  (func (export "multi") (param i32) (result i32 i32)
    (local.get 0) (block (param i32) (result i32 i32) (call $pair))
    (if (param i32 i32) (result i32 i32) (i32.gt_s (local.get 0) (i32.const 5))
      (then (return (i32.const 1) (i32.const 2)))
      (else nop)))
  (func (export "early") (param i32) (result i32)
    (br_if 0 (i32.const 7) (local.get 0))
    (drop) (i32.const 9))
  (func (export "fact") (param i64) (result i64) (local $acc i64)
    (local.set $acc (i64.const 1))
    (block $done (loop $l
      (br_if $done (i64.le_s (local.get 0) (i64.const 1)))
      (local.set $acc (i64.mul (local.get $acc) (local.get 0)))
      (local.set 0 (i64.sub (local.get 0) (i64.const 1)))
      (br $l)))
    (local.get $acc))
  (func (export "globals") (result i32)
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (i32.add (global.get $counter) (i32.add (global.get $copy) (global.get $base))))
  (func (export "load") (result i32)
    (i32.add (i32.load8_u (i32.const 16)) (i32.load8_u (global.get $base))))
  (func (export "bulk") (result i32)
    (memory.fill (i32.const 100) (i32.const 7) (i32.const 300))
    (memory.copy (i32.const 1000) (i32.const 16) (i32.const 5))
    (memory.init $pdata (i32.const 2000) (i32.const 0) (i32.const 8))
    (data.drop $pdata)
    (i32.add (i32.load8_u (i32.const 399)) (i32.add (i32.load8_u (i32.const 1004)) (i32.load8_u (i32.const 2007)))))
  (func (export "simd") (param i32) (result i32) (local $v v128)
    (local.set $v (i32x4.splat (local.get 0)))
    (local.set $v (i32x4.add (local.get $v) (v128.const i32x4 1 2 3 4)))
    (v128.store offset=64 (i32.const 0) (local.get $v))
    (local.set $v (v128.load32_lane offset=64 1 (i32.const 8) (local.get $v)))
    (local.set $v (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))
    (i32.add (i32x4.extract_lane 1 (local.get $v)) (i32.load offset=76 (i32.const 0))))
  (func (export "sat") (param f64) (result i32) (i32.trunc_sat_f64_s (local.get 0)))
  (func (export "ext") (param i32) (result i32) (i32.extend8_s (local.get 0)))
  (func $count_down (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 42))
      (else (return_call $count_down (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "tail") (param i32) (result i32) (return_call $count_down (local.get 0)))
  (func (export "tail_indirect") (result i32)
    (return_call_indirect $t (type $bin) (i32.const 6) (i32.const 7) (i32.add (global.get $base) (i32.const 2))))
  (func (export "select") (param i32) (result i32)
    (select (result i32) (i32.const 1) (i32.const 2) (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (export "add1_reexport" (func $add1))
)`;

describe('instrument: a rewritten module is valid and behaves the same', () => {
  const env = { env: { add1: (x: number) => x + 1, base: 3 } };

  it('validates and returns identical results for every feature', () => {
    const bytes = wat(KITCHEN_SINK);
    expect(WA.validate(bytes)).toBe(true);
    const { raw, inst, p, result } = run(bytes, env);
    // Every exported function is reported and wrapped.
    for (const name of result.exports) {
      expect(typeof inst[name]).toBe('function');
      expect(typeof inst[FUEL_EXPORT_PREFIX + name]).toBe('function');
    }
    expect(result.exports).toContain('add1_reexport');
    expect(result.exports).not.toContain('mem');
    expect(inst.mem).toBeInstanceOf(WA.Memory);
    expect(inst.tab).toBeInstanceOf(WA.Table);
    expect(inst.counter.value).toBe(100); // start function ran (renumbered)
    p.fuel.value = BigInt(BIG);
    const calls: Array<[string, unknown[]]> = [
      ['indirect', [0, 5, 3]],
      ['indirect', [1, 5, 3]],
      ['indirect', [2, 5, 3]],
      ['via_import', [10]],
      ['table_init', []],
      ['ref_func', []],
      ['switch', [0]],
      ['switch', [1]],
      ['switch', [2]],
      ['switch', [9]],
      ['multi', [3]],
      ['multi', [7]],
      ['early', [0]],
      ['early', [1]],
      ['fact', [20n]],
      ['globals', []],
      ['globals', []],
      ['load', []],
      ['bulk', []],
      ['simd', [5]],
      ['sat', [1e20]],
      ['sat', [-3.7]],
      ['ext', [0xff]],
      ['tail', [100000]],
      ['tail_indirect', []],
      ['select', [0]],
      ['select', [1]],
      ['size', []],
      ['add1_reexport', [41]],
    ];
    const outcome = (fn: () => unknown) => {
      try {
        return { value: fn() };
      } catch (error) {
        return { trap: String(error) };
      }
    };
    for (const [name, args] of calls) {
      // Call raw and instrumented in lockstep (some exports are stateful): direct, then wrapper.
      const first = outcome(() => raw[name](...args));
      expect('value' in first, `${name} should not trap`).toBe(true);
      expect(
        outcome(() => inst[name](...args)),
        name,
      ).toEqual(first);
      const second = outcome(() => raw[name](...args));
      expect(
        outcome(() => inst[FUEL_EXPORT_PREFIX + name](BIG, ...args)),
        `wrapped ${name}`,
      ).toEqual(second);
    }
    // Indirect calls through the shifted table must hit the same functions.
    expect(inst.indirect(2, 6, 7)).toBe(42);
    expect(inst.tail(100000)).toBe(42);
    expect(p.outOfFuel).toBe(0);
  });

  it('keeps branch targets right around restructured loops (nested, br_table, params, results)', () => {
    const bytes = wat(`(module
      (func (export "search") (param $n i32) (param $target i32) (result i32)
        (local $i i32) (local $j i32) (local $k i32) (local $r i32)
        (local.set $r (i32.const -1))
        (block $done
          (loop $outer
            (block $next
              (local.set $j (i32.const 0))
              (loop $inner
                (if (i32.eq (i32.mul (local.get $i) (local.get $j)) (local.get $target))
                  (then (local.set $r (local.get $j)) (local.set $k (i32.const 1)))
                  (else
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (local.set $k (select (i32.const 0) (i32.const 2) (i32.lt_u (local.get $j) (local.get $n))))))
                (br_table $inner $done $next (local.get $k))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $outer (i32.lt_u (local.get $i) (local.get $n)))))
        (i32.add (i32.mul (local.get $i) (i32.const 100)) (local.get $r)))
      (func (export "params") (param $n i32) (result i32)
        (i32.const 0)
        (loop $l (param i32) (result i32)
          (i32.add (i32.const 3))
          (local.tee $n (i32.sub (local.get $n) (i32.const 1)))
          (br_if $l (i32.gt_s (i32.const 0)))
          ))
      (func (export "results") (param $n i32) (result i32 i64)
        (loop $l (result i32 i64)
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $n) (i32.const 10)))
          (local.get $n) (i64.extend_i32_u (local.get $n)))))`);
    const { raw, inst } = run(bytes, {});
    for (const args of [
      [10, 42],
      [10, 7],
      [10, 1000],
      [3, 4],
    ]) {
      expect(inst.search(...args)).toBe(raw.search(...args));
    }
    expect(inst.params(5)).toBe(raw.params(5));
    expect(inst.results(0)).toEqual(raw.results(0));
  });

  it('renumbers exported globals past the new fuel global', () => {
    const bytes = wat(`(module
      (import "env" "g0" (global $g0 i32))
      (global $a (export "a") i32 (i32.const 11))
      (global $b (export "b") (mut i64) (i64.const 22))
      (func (export "get") (result i64) (i64.add (global.get $b) (i64.extend_i32_u (global.get $a)))))`);
    const { inst, p } = run(bytes, { env: { g0: 5 } });
    expect(inst.a.value).toBe(11);
    expect(inst.b.value).toBe(22n);
    p.fuel.value = 1000n;
    expect(inst.get()).toBe(33n);
    expect(p.fuel.value).toBeLessThan(1000n);
  });

  it('creates the type, import, function, code and export sections when missing', () => {
    const empty = wat('(module)');
    const r = instrument(empty, { memoryMaxPages: 1 });
    expect(WA.validate(r.bytes)).toBe(true);
    expect(r.exports).toEqual([]);
    const imports = WA.Module.imports(new WA.Module(r.bytes));
    expect(imports.map((i: any) => `${i.module}/${i.name}/${i.kind}`)).toEqual([
      'airssys:instrument/fuel/global',
      'airssys:instrument/out-of-fuel/function',
      'airssys:instrument/grow-failed/function',
    ]);
    // Only an imported function, re-exported: the wrapper needs new function and code sections.
    const reexport = wat(
      '(module (import "env" "f" (func $f (param i32) (result i32))) (export "f" (func $f)))',
    );
    const { inst, p } = run(reexport, { env: { f: (x: number) => x * 3 } });
    expect(inst[`${FUEL_EXPORT_PREFIX}f`](77, 5)).toBe(15);
    expect(p.fuel.value).toBe(77n);
  });

  it('keeps custom sections other than `name`', () => {
    const bytes = wat('(module (func (export "f")))');
    const custom = [0x00, 0x06, 0x04, 0x6d, 0x69, 0x6e, 0x65, 0x2a]; // section "mine" with one byte
    const withCustom = new Uint8Array([...bytes, ...custom]);
    const out = instrument(withCustom, { memoryMaxPages: 1 }).bytes;
    const mod = new WA.Module(out);
    expect(WA.Module.customSections(mod, 'mine').length).toBe(1);
    expect(WA.Module.customSections(mod, 'name').length).toBe(0);
  });

  it('the fuel entry wrapper sets the budget and returns the results', () => {
    const bytes = wat(`(module (func (export "pair") (param i32 f32) (result f32 i32)
      (local.get 1) (local.get 0)))`);
    const { inst, p } = run(bytes, {});
    expect(inst[`${FUEL_EXPORT_PREFIX}pair`](500, 7, 1.5)).toEqual([1.5, 7]);
    expect(p.fuel.value).toBe(498n); // 2 × local.get + end (free); see fuel-golden
    // Saturating: a NaN budget is 0 (so out of fuel), a huge one is i64 max; neither traps.
    expect(() => inst[`${FUEL_EXPORT_PREFIX}pair`](Number.NaN, 7, 1.5)).toThrow('out of fuel');
    inst[`${FUEL_EXPORT_PREFIX}pair`](1e300, 7, 1.5);
    expect(p.fuel.value).toBe(9223372036854775807n - 2n);
  });
});

describe('instrument: fuel exhaustion', () => {
  it('an infinite loop calls out-of-fuel, which can throw', () => {
    const bytes = wat('(module (func (export "spin") (loop $l (br $l))))');
    const out = instrument(bytes, { memoryMaxPages: 1 }).bytes;
    const p = plumbing();
    const inst = new WA.Instance(new WA.Module(out), { [INSTRUMENT_MODULE]: p.imports }).exports;
    expect(() => inst[`${FUEL_EXPORT_PREFIX}spin`](10_000)).toThrow('out of fuel');
    expect(p.outOfFuel).toBe(1);
    // The counter was written back before the call: the host sees the deficit.
    expect(p.fuel.value).toBe(-1n);
  });

  it('out-of-fuel may refill the global and execution continues', () => {
    const bytes = wat(`(module (func (export "count") (param i32) (result i32) (local $i i32)
      (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
      (local.get $i)))`);
    const out = instrument(bytes, { memoryMaxPages: 1 }).bytes;
    let refills = 0;
    const p = plumbing((pl) => {
      refills++;
      pl.fuel.value += 100n;
    });
    const inst = new WA.Instance(new WA.Module(out), { [INSTRUMENT_MODULE]: p.imports }).exports;
    expect(inst[`${FUEL_EXPORT_PREFIX}count`](100, 10_000)).toBe(10_000);
    expect(refills).toBeGreaterThan(100);
  });

  it('a recursive function without loops is stopped at function entry', () => {
    const bytes = wat(`(module (func $r (export "r") (param i32) (result i32)
      (if (result i32) (local.get 0) (then (call $r (i32.sub (local.get 0) (i32.const 1)))) (else (i32.const 0)))))`);
    const out = instrument(bytes, { memoryMaxPages: 1 }).bytes;
    const p = plumbing();
    const inst = new WA.Instance(new WA.Module(out), { [INSTRUMENT_MODULE]: p.imports }).exports;
    expect(inst[`${FUEL_EXPORT_PREFIX}r`](1e6, 100)).toBe(0);
    expect(() => inst[`${FUEL_EXPORT_PREFIX}r`](50, 100)).toThrow('out of fuel');
  });

  it('fuel is shared through the global across instances (calls write back and reload)', () => {
    const callee = wat(`(module (func (export "work") (param i32) (local $i i32)
      (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get 0))))))`);
    const caller = wat(`(module (import "m" "work" (func $work (param i32)))
      (func (export "go") (param i32) (call $work (local.get 0)) (call $work (local.get 0))))`);
    const p = plumbing();
    const a = new WA.Instance(new WA.Module(instrument(callee, { memoryMaxPages: 1 }).bytes), {
      [INSTRUMENT_MODULE]: p.imports,
    }).exports;
    const b = new WA.Instance(new WA.Module(instrument(caller, { memoryMaxPages: 1 }).bytes), {
      [INSTRUMENT_MODULE]: p.imports,
      m: { work: a.work },
    }).exports;
    a[`${FUEL_EXPORT_PREFIX}work`](1e9, 1000);
    const one = 1e9 - Number(p.fuel.value);
    b[`${FUEL_EXPORT_PREFIX}go`](1e9, 1000);
    const two = 1e9 - Number(p.fuel.value);
    // go = 2 × work + its own straight-line code (local.get, call, local.get, call, end = 4).
    expect(two).toBe(2 * one + 4);
  });
});

describe('instrument: memory', () => {
  const GROW = `(module (memory (export "mem") 1 100)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;

  it('clamps the maximum; growing beyond returns -1 and calls grow-failed', () => {
    const out = instrument(wat(GROW), { memoryMaxPages: 3 }).bytes;
    const p = plumbing();
    const inst = new WA.Instance(new WA.Module(out), { [INSTRUMENT_MODULE]: p.imports }).exports;
    p.fuel.value = 1000n;
    expect(inst.grow(2)).toBe(1);
    expect(p.growFailed).toBe(0);
    expect(inst.grow(1)).toBe(-1);
    expect(p.growFailed).toBe(1);
    expect(() => inst.mem.grow(1)).toThrow();
    expect(inst.mem.buffer.byteLength).toBe(3 * 65536);
    // The raw module would have grown.
    const raw = new WA.Instance(new WA.Module(wat(GROW)), {}).exports;
    expect(raw.grow(3)).toBe(1);
  });

  it('adds a maximum to a memory without one', () => {
    const out = instrument(wat('(module (memory (export "mem") 1))'), { memoryMaxPages: 2 }).bytes;
    const inst = new WA.Instance(new WA.Module(out), { [INSTRUMENT_MODULE]: plumbing().imports }).exports;
    inst.mem.grow(1);
    expect(() => inst.mem.grow(1)).toThrow();
  });

  it('initial size above the manifest is out-of-memory', () => {
    const e = expectInvalid(
      () => instrument(wat('(module (memory 10))'), { memoryMaxPages: 4 }),
      'out-of-memory',
      /asks for 10 pages.*allows 4 pages/,
    );
    expect(e.details).toMatchObject({ pages: 10, maxPages: 4 });
  });

  it('rejects memory64', () => {
    const mod = wabt.parseWat('m.wat', '(module (memory i64 1))', { memory64: true });
    const bytes = new Uint8Array(mod.toBinary({}).buffer);
    expectInvalid(() => instrument(bytes, { memoryMaxPages: 4 }), 'invalid-component', /memory64/);
  });

  it('leaves imported memories alone', () => {
    const bytes = wat(`(module (import "env" "mem" (memory 1 50))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`);
    const out = instrument(bytes, { memoryMaxPages: 2 }).bytes;
    const memory = new WA.Memory({ initial: 1, maximum: 50 });
    const p = plumbing();
    const inst = new WA.Instance(new WA.Module(out), { env: { mem: memory }, [INSTRUMENT_MODULE]: p.imports })
      .exports;
    expect(inst[`${FUEL_EXPORT_PREFIX}grow`](100, 10)).toBe(1);
  });

  it('rejects a bad memoryMaxPages', () => {
    expect(() => instrument(wat('(module)'), { memoryMaxPages: -1 })).toThrow(/memoryMaxPages/);
  });
});

describe('instrument: refusals', () => {
  it('refuses an already-instrumented module', () => {
    const once = instrument(wat('(module (func (export "f")))'), { memoryMaxPages: 1 }).bytes;
    expectInvalid(() => instrument(once, { memoryMaxPages: 1 }), 'invalid-component', /airssys:instrument/);
    const sneaky = wat('(module (import "airssys:instrument" "fuel" (global (mut i64))))');
    expectInvalid(() => instrument(sneaky, { memoryMaxPages: 1 }), 'invalid-component', /fuel plumbing/);
  });

  it('refuses exports that use the reserved prefix', () => {
    expectInvalid(
      () => instrument(wat('(module (func (export "airssys:fuel/x")))'), { memoryMaxPages: 1 }),
      'invalid-component',
      /reserved prefix/,
    );
  });

  it('refuses garbage and truncated binaries with invalid-component, never a crash', () => {
    expectInvalid(
      () => instrument(new Uint8Array([1, 2, 3]), { memoryMaxPages: 1 }),
      'invalid-component',
      /offset/,
    );
    expectInvalid(
      () => instrument(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]), { memoryMaxPages: 1 }),
      'invalid-component',
      /component/,
    );
    const bytes = wat(KITCHEN_SINK);
    let rejected = 0;
    for (let len = 0; len < bytes.length; len++) {
      const cut = bytes.subarray(0, len);
      try {
        const out = instrument(cut, { memoryMaxPages: 16 });
        // A cut that falls on a section boundary can still be a well-formed (if incomplete) module.
        expect(out.bytes).toBeInstanceOf(Uint8Array);
      } catch (error) {
        expect(error).toBeInstanceOf(AirssysError);
        expect((error as AirssysError).code).toBe('invalid-component');
        expect((error as AirssysError).message).toMatch(/at byte offset \d+|section|code/);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(bytes.length * 0.9);
  });

  it('names an unknown opcode and its offset', () => {
    const bytes = wat('(module (func (export "f") nop))');
    // The body `0 locals, nop, end`.
    let at = -1;
    for (let i = 0; i + 2 < bytes.length; i++) {
      if (bytes[i] === 0x00 && bytes[i + 1] === 0x01 && bytes[i + 2] === 0x0b) at = i + 1;
    }
    const bad = bytes.slice();
    bad[at] = 0xff;
    expectInvalid(
      () => instrument(bad, { memoryMaxPages: 1 }),
      'invalid-component',
      new RegExp(`0xff at byte offset ${at}`),
    );
    bad[at] = 0xfe;
    expectInvalid(() => instrument(bad, { memoryMaxPages: 1 }), 'invalid-component', /atomics/);
  });

  it('random mutations are rejected as AirssysErrors or produce bytes (fuzz)', () => {
    const bytes = wat(KITCHEN_SINK);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (mutations) => {
          const copy = bytes.slice();
          for (const [i, v] of mutations) copy[i] = v;
          try {
            instrument(copy, { memoryMaxPages: 16 });
          } catch (error) {
            if (!(error instanceof AirssysError)) throw error;
            expect(['invalid-component', 'out-of-memory']).toContain(error.code);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
