import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { AirssysError } from '../../src/shared/errors.js';
import {
  FUEL_COUNTER_EXPORT,
  FUEL_EXPORT_PREFIX,
  INSTRUMENT_MODULE,
  importedMemory,
  instrument,
  MEMORY_IMPORT,
} from '../../src/wasm/engine/instrument.js';

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

/** Fuel passed to entry wrappers: the largest i32 budget. */
const BUDGET = 2 ** 31 - 1;
/** What a granting `out-of-fuel` returns: effectively unlimited. */
const GRANT = 10n ** 15n;

interface Plumbing {
  outOfFuel: number;
  growFailed: number;
  /** Sum of the grants `out-of-fuel` returned. */
  granted: bigint;
  /** The module's counter as `out-of-fuel` saw it, at each call made after instantiation. */
  seen: bigint[];
  /** The instance's exports, once instantiated (see `instantiate`). */
  exports: any;
  imports: Record<string, unknown>;
}

/** Host side of the instrumentation: `out-of-fuel` throws unless `grant` says how much to give. */
function plumbing(grant?: (p: Plumbing) => bigint): Plumbing {
  const p: Plumbing = { outOfFuel: 0, growFailed: 0, granted: 0n, seen: [], exports: undefined, imports: {} };
  p.imports = {
    'out-of-fuel': () => {
      p.outOfFuel++;
      if (p.exports) p.seen.push(p.exports[FUEL_COUNTER_EXPORT].value);
      if (!grant) throw new Error('out of fuel');
      const g = grant(p);
      p.granted += g;
      return g;
    },
    'grow-failed': () => {
      p.growFailed++;
    },
  };
  return p;
}

/** Instantiates instrumented bytes with `p` as the `airssys:instrument` imports. */
function instantiate(bytes: Uint8Array, p: Plumbing, imports: Record<string, unknown> = {}): any {
  p.exports = new WA.Instance(new WA.Module(bytes), { ...imports, [INSTRUMENT_MODULE]: p.imports }).exports;
  return p.exports;
}

/** The module's own fuel counter. */
function counter(exports: any): bigint {
  return exports[FUEL_COUNTER_EXPORT].value;
}

/** Fuel consumed so far: budget given to the wrapper + grants − what is left in the counter. */
function consumed(budget: number | bigint, p: Plumbing): bigint {
  return BigInt(budget) + p.granted - counter(p.exports);
}

function run(bytes: Uint8Array, imports: Record<string, Record<string, unknown>>, memoryMaxPages = 16) {
  const result = instrument(bytes, { memoryMaxPages });
  expect(WA.validate(result.bytes)).toBe(true);
  // The counter starts at 0, so start functions (and the first direct call) ask for fuel.
  const p = plumbing(() => GRANT);
  const raw = new WA.Instance(new WA.Module(bytes), imports).exports;
  const inst = instantiate(result.bytes, p, imports);
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
    // It ran metered from a zero counter: one grant, minus its cost (i32.const + global.set).
    expect(p.outOfFuel).toBe(1);
    expect(counter(inst)).toBe(GRANT - 2n);
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
        outcome(() => inst[FUEL_EXPORT_PREFIX + name](BUDGET, ...args)),
        `wrapped ${name}`,
      ).toEqual(second);
    }
    // Indirect calls through the shifted table must hit the same functions.
    expect(inst.indirect(2, 6, 7)).toBe(42);
    expect(inst.tail(100000)).toBe(42);
    // Nothing after the start function ran out: the wrappers' budgets and the grant sufficed.
    expect(p.outOfFuel).toBe(1);
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

  it('exported globals keep their indices and the counter is exported last', () => {
    const bytes = wat(`(module
      (import "env" "g0" (global $g0 i32))
      (global $a (export "a") i32 (i32.const 11))
      (global $b (export "b") (mut i64) (i64.const 22))
      (func (export "get") (result i64)
        (i64.add (global.get $b) (i64.add (i64.extend_i32_u (global.get $a)) (i64.extend_i32_u (global.get $g0))))))`);
    const { inst, p, result } = run(bytes, { env: { g0: 5 } });
    const exports = WA.Module.exports(new WA.Module(result.bytes));
    expect(exports.map((e: any) => `${e.name}/${e.kind}`)).toEqual([
      'a/global',
      'b/global',
      'get/function',
      `${FUEL_EXPORT_PREFIX}get/function`,
      `${FUEL_COUNTER_EXPORT}/global`,
    ]);
    // The counter is defined, not imported.
    const imports = WA.Module.imports(new WA.Module(result.bytes));
    expect(imports.filter((i: any) => i.kind === 'global').map((i: any) => i.name)).toEqual(['g0']);
    expect(inst.a.value).toBe(11);
    expect(inst.b.value).toBe(22n);
    expect(counter(inst)).toBe(0n);
    // The code still reads the right globals, and the counter is a separate one.
    inst[FUEL_COUNTER_EXPORT].value = 1000n;
    expect(inst.get()).toBe(38n);
    inst.b.value = 40n;
    expect(inst.get()).toBe(56n);
    // Each call: 3 × global.get + 2 × i64.extend_i32_u + 2 × i64.add = 7.
    expect(counter(inst)).toBe(1000n - 14n);
    expect(inst.b.value).toBe(40n);
    expect(inst[`${FUEL_EXPORT_PREFIX}get`](100)).toBe(56n);
    expect(counter(inst)).toBe(93n);
    expect(p.outOfFuel).toBe(0);
  });

  it('creates the type, import, function, code, global and export sections when missing', () => {
    const empty = wat('(module)');
    const r = instrument(empty, { memoryMaxPages: 1 });
    expect(WA.validate(r.bytes)).toBe(true);
    expect(r.exports).toEqual([]);
    const mod = new WA.Module(r.bytes);
    expect(WA.Module.imports(mod).map((i: any) => `${i.module}/${i.name}/${i.kind}`)).toEqual([
      'airssys:instrument/out-of-fuel/function',
      'airssys:instrument/grow-failed/function',
    ]);
    expect(WA.Module.exports(mod).map((e: any) => `${e.name}/${e.kind}`)).toEqual([
      `${FUEL_COUNTER_EXPORT}/global`,
    ]);
    const p = plumbing();
    const inst = instantiate(r.bytes, p);
    expect(counter(inst)).toBe(0n);
    inst[FUEL_COUNTER_EXPORT].value = -5n; // mutable i64
    expect(counter(inst)).toBe(-5n);
    // Only an imported function, re-exported: the wrapper needs new function and code sections.
    const reexport = wat(
      '(module (import "env" "f" (func $f (param i32) (result i32))) (export "f" (func $f)))',
    );
    const { inst: inst2, p: p2 } = run(reexport, { env: { f: (x: number) => x * 3 } });
    expect(inst2[`${FUEL_EXPORT_PREFIX}f`](77, 5)).toBe(15);
    expect(counter(inst2)).toBe(77n);
    expect(p2.outOfFuel).toBe(0);
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

  it('the fuel entry wrapper sets the counter from an i32 budget and returns the results', () => {
    const bytes = wat(`(module (func (export "pair") (param i32 f32) (result f32 i32)
      (local.get 1) (local.get 0)))`);
    const { inst, p } = run(bytes, {});
    const pair = inst[`${FUEL_EXPORT_PREFIX}pair`];
    expect(pair(500, 7, 1.5)).toEqual([1.5, 7]);
    expect(counter(inst)).toBe(498n); // 2 × local.get + end (free); see fuel-golden
    expect(p.outOfFuel).toBe(0);
    // The budget replaces whatever the counter held.
    inst[FUEL_COUNTER_EXPORT].value = -1000n;
    pair(10, 7, 1.5);
    expect(counter(inst)).toBe(8n);
    pair(BUDGET, 7, 1.5);
    expect(counter(inst)).toBe(BigInt(BUDGET) - 2n);
    // The i32 is read unsigned (i64.extend_i32_u): the counter is never set negative.
    pair(2 ** 32 - 1, 7, 1.5);
    expect(counter(inst)).toBe(2n ** 32n - 3n);
    pair(-1, 7, 1.5);
    expect(counter(inst)).toBe(2n ** 32n - 3n);
    // A NaN budget is 0: out of fuel at entry (here the host grants 1 more each time).
    const q = plumbing(() => 1n);
    const inst3 = instantiate(instrument(bytes, { memoryMaxPages: 1 }).bytes, q);
    expect(inst3[`${FUEL_EXPORT_PREFIX}pair`](Number.NaN, 7, 1.5)).toEqual([1.5, 7]);
    expect(q.outOfFuel).toBe(1);
    expect(q.seen).toEqual([-2n]);
    expect(counter(inst3)).toBe(-1n);
    expect(() =>
      instantiate(instrument(bytes, { memoryMaxPages: 1 }).bytes, plumbing())[`${FUEL_EXPORT_PREFIX}pair`](
        Number.NaN,
        7,
        1.5,
      ),
    ).toThrow('out of fuel');
  });

  it('a start function runs metered from a zero counter, so it needs a grant from out-of-fuel', () => {
    const bytes = wat(`(module (global $g (export "g") (mut i32) (i32.const 0))
      (start $init)
      (func $init (local $i i32)
        (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 10))))
        (global.set $g (local.get $i))))`);
    const out = instrument(bytes, { memoryMaxPages: 1 }).bytes;
    const refuse = plumbing();
    expect(() => instantiate(out, refuse)).toThrow('out of fuel');
    expect(refuse.outOfFuel).toBe(1);
    const p = plumbing(() => 1000n);
    const inst = instantiate(out, p);
    expect(inst.g.value).toBe(10);
    expect(p.outOfFuel).toBe(1);
    // 10 iterations × 7 (local.get, i32.const, i32.add, local.tee, i32.const, i32.lt_u, br_if)
    // + local.get + global.set.
    expect(1000n - counter(inst)).toBe(72n);
  });
});

describe('instrument: fuel exhaustion', () => {
  it('an infinite loop calls out-of-fuel, which can throw', () => {
    const bytes = wat('(module (func (export "spin") (loop $l (br $l))))');
    const p = plumbing();
    const inst = instantiate(instrument(bytes, { memoryMaxPages: 1 }).bytes, p);
    expect(() => inst[`${FUEL_EXPORT_PREFIX}spin`](10_000)).toThrow('out of fuel');
    expect(p.outOfFuel).toBe(1);
    // The counter was written back before the call: the host sees the deficit, there and after.
    expect(p.seen).toEqual([-1n]);
    expect(counter(inst)).toBe(-1n);
  });

  it('out-of-fuel refills through the value it returns and execution continues', () => {
    const bytes = wat(`(module (func (export "count") (param i32) (result i32) (local $i i32)
      (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
      (local.get $i)))`);
    const out = instrument(bytes, { memoryMaxPages: 1 }).bytes;
    const p = plumbing(() => 100n);
    const inst = instantiate(out, p);
    expect(inst[`${FUEL_EXPORT_PREFIX}count`](100, 10_000)).toBe(10_000);
    expect(p.outOfFuel).toBeGreaterThan(100);
    expect(p.granted).toBe(100n * BigInt(p.outOfFuel));
    // Every iteration costs 8 (the loop body), the exit local.get 1.
    expect(consumed(100, p)).toBe(8n * 10_000n + 1n);
    // Each call came with the counter written back, overdrawn by less than one block.
    for (const seen of p.seen) {
      expect(seen).toBeLessThan(0n);
      expect(seen).toBeGreaterThanOrEqual(-8n);
    }
  });

  it('writing the counter global from out-of-fuel does not refill: only the returned grant counts', () => {
    const bytes = wat(`(module (func (export "count") (param i32) (result i32) (local $i i32)
      (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
      (local.get $i)))`);
    const p = plumbing((pl) => {
      pl.exports[FUEL_COUNTER_EXPORT].value = 1_000_000_000n;
      return 50n;
    });
    const inst = instantiate(instrument(bytes, { memoryMaxPages: 1 }).bytes, p);
    expect(inst[`${FUEL_EXPORT_PREFIX}count`](100, 10_000)).toBe(10_000);
    expect(p.outOfFuel).toBeGreaterThan(1000);
    expect(consumed(100, p)).toBe(8n * 10_000n + 1n);
    expect(counter(inst)).toBeLessThan(50n);
  });

  it('a recursive function without loops is stopped at function entry', () => {
    const bytes = wat(`(module (func $r (export "r") (param i32) (result i32)
      (if (result i32) (local.get 0) (then (call $r (i32.sub (local.get 0) (i32.const 1)))) (else (i32.const 0)))))`);
    const out = instrument(bytes, { memoryMaxPages: 1 }).bytes;
    const p = plumbing();
    const inst = instantiate(out, p);
    expect(inst[`${FUEL_EXPORT_PREFIX}r`](1e6, 100)).toBe(0);
    // Per level: local.get, if, then local.get, i32.const, i32.sub, call = 6; the last else 1.
    expect(consumed(1e6, p)).toBe(6n * 100n + 3n);
    expect(() => inst[`${FUEL_EXPORT_PREFIX}r`](50, 100)).toThrow('out of fuel');
    // 8 levels use 48; the 9th charges its entry (2) and call (4), the 10th entry overdraws.
    expect(p.seen).toEqual([-6n]);
  });

  it('each module has its own counter: a callee module draws from its own grants', () => {
    const callee = wat(`(module (func (export "work") (param i32) (local $i i32)
      (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get 0))))))`);
    const caller = wat(`(module (import "m" "work" (func $work (param i32)))
      (func (export "go") (param i32) (call $work (local.get 0)) (call $work (local.get 0))))`);
    const calleeBytes = instrument(callee, { memoryMaxPages: 1 }).bytes;
    const callerBytes = instrument(caller, { memoryMaxPages: 1 }).bytes;
    // The cost of one `work(1000)`, alone.
    const solo = plumbing();
    instantiate(calleeBytes, solo)[`${FUEL_EXPORT_PREFIX}work`](1e9, 1000);
    const one = consumed(1e9, solo);
    expect(one).toBe(7n * 1000n); // local.get, i32.const, i32.add, local.tee, local.get, i32.lt_u, br_if
    expect(solo.outOfFuel).toBe(0);

    for (const grant of [GRANT, 7n]) {
      const pb = plumbing(() => grant);
      const b = instantiate(calleeBytes, pb);
      const pa = plumbing(); // A never runs out: it throws if asked
      const a = instantiate(callerBytes, pa, { m: { work: b.work } });
      expect(counter(b)).toBe(0n);
      a[`${FUEL_EXPORT_PREFIX}go`](100, 1000);
      // A paid only its own straight-line code (local.get, call, local.get, call, end = 4)...
      expect(counter(a)).toBe(96n);
      expect(pa.outOfFuel).toBe(0);
      // ...and B paid for both calls out of its own grants, asked for at its first loop header.
      expect(pb.seen[0]).toBe(-7n);
      expect(pb.granted - counter(b)).toBe(2n * one);
      if (grant === GRANT) expect(pb.outOfFuel).toBe(1);
      else expect(pb.outOfFuel).toBeGreaterThan(1000);
      // A later call through A's wrapper resets A's counter only; B keeps drawing on its own
      // (work(0) still runs the loop body once: 7 each).
      a[`${FUEL_EXPORT_PREFIX}go`](100, 0);
      expect(counter(a)).toBe(96n);
      expect(pa.outOfFuel).toBe(0);
      expect(pb.granted - counter(b)).toBe(2n * one + 2n * 7n);
    }
  });
});

describe('instrument: memory', () => {
  const GROW = `(module (memory (export "mem") 1 100)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;

  it('clamps the maximum; growing beyond returns -1 and calls grow-failed', () => {
    const out = instrument(wat(GROW), { memoryMaxPages: 3 }).bytes;
    const p = plumbing();
    const inst = instantiate(out, p);
    inst[FUEL_COUNTER_EXPORT].value = 1000n;
    expect(inst.grow(2)).toBe(1);
    expect(p.growFailed).toBe(0);
    expect(inst.grow(1)).toBe(-1);
    expect(p.growFailed).toBe(1);
    expect(() => inst.mem.grow(1)).toThrow();
    expect(inst.mem.buffer.byteLength).toBe(3 * 65536);
    // local.get + memory.grow per call; the failed grow's hook leaves the counter alone.
    expect(counter(inst)).toBe(996n);
    expect(p.outOfFuel).toBe(0);
    // The raw module would have grown.
    const raw = new WA.Instance(new WA.Module(wat(GROW)), {}).exports;
    expect(raw.grow(3)).toBe(1);
  });

  it('adds a maximum to a memory without one', () => {
    const out = instrument(wat('(module (memory (export "mem") 1))'), { memoryMaxPages: 2 }).bytes;
    const inst = instantiate(out, plumbing());
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
    const inst = instantiate(out, p, { env: { mem: memory } });
    expect(inst[`${FUEL_EXPORT_PREFIX}grow`](100, 10)).toBe(1);
    expect(memory.buffer.byteLength).toBe(11 * 65536);
    expect(p.growFailed).toBe(0);
  });

  it('rejects a bad memoryMaxPages', () => {
    expect(() => instrument(wat('(module)'), { memoryMaxPages: -1 })).toThrow(/memoryMaxPages/);
  });
});

describe('instrument: refusals', () => {
  it('refuses an already-instrumented module', () => {
    const once = instrument(wat('(module (func (export "f")))'), { memoryMaxPages: 1 }).bytes;
    expectInvalid(() => instrument(once, { memoryMaxPages: 1 }), 'invalid-component', /airssys:instrument/);
    for (const item of ['(func (result i64))', '(global (mut i64))']) {
      const sneaky = wat(`(module (import "airssys:instrument" "out-of-fuel" ${item}))`);
      expectInvalid(() => instrument(sneaky, { memoryMaxPages: 1 }), 'invalid-component', /fuel plumbing/);
    }
  });

  it('refuses exports that use the reserved prefix', () => {
    expectInvalid(
      () => instrument(wat('(module (func (export "airssys:fuel/x")))'), { memoryMaxPages: 1 }),
      'invalid-component',
      /reserved prefix/,
    );
    expectInvalid(
      () =>
        instrument(wat('(module (global (export "airssys:fuel-counter") (mut i64) (i64.const 0)))'), {
          memoryMaxPages: 1,
        }),
      'invalid-component',
      /reserved prefix/,
    );
  });

  it('gives a guest export named like the counter its own wrapper, without a clash', () => {
    const out = instrument(wat('(module (func (export "counter") (result i32) i32.const 7))'), {
      memoryMaxPages: 1,
    });
    expect(WA.validate(out.bytes)).toBe(true);
    const exports = new WA.Instance(new WA.Module(out.bytes), {
      [INSTRUMENT_MODULE]: { 'out-of-fuel': () => 0n, 'grow-failed': () => {} },
    }).exports;
    expect(exports[`${FUEL_EXPORT_PREFIX}counter`](100)).toBe(7);
    expect(exports[FUEL_COUNTER_EXPORT]).toBeInstanceOf(WA.Global);
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

describe('instrument: the memory from the host (importMemory)', () => {
  it("turns the one defined memory into airssys:instrument memory with the clamped limits; data lands in the host's memory", () => {
    const bytes = wat(`(module
      (memory (export "memory") 1)
      (data (i32.const 8) "hi")
      (func (export "size") (result i32) (memory.size)))`);
    const r = instrument(bytes, { memoryMaxPages: 4, importMemory: true });
    expect(r.memory).toEqual({ initial: 1, maximum: 4 });
    expect(importedMemory(r.bytes)).toEqual({ initial: 1, maximum: 4 });
    const mod = new WA.Module(r.bytes);
    expect(WA.Module.imports(mod).map((i: any) => `${i.module}/${i.name}/${i.kind}`)).toContain(
      `${INSTRUMENT_MODULE}/${MEMORY_IMPORT}/memory`,
    );
    const memory = new WA.Memory(r.memory);
    const p = plumbing();
    const inst = new WA.Instance(mod, { [INSTRUMENT_MODULE]: { ...p.imports, [MEMORY_IMPORT]: memory } })
      .exports;
    expect(inst.memory).toBe(memory);
    expect(Buffer.from(new Uint8Array(memory.buffer, 8, 2)).toString()).toBe('hi');
    inst[FUEL_COUNTER_EXPORT].value = 100n;
    expect(inst.size()).toBe(1);
    expect(() => memory.grow(4)).toThrow();
  });

  it('leaves a module without a memory, or one that imports its memory, as it was', () => {
    for (const src of ['(module)', '(module (import "env" "m" (memory 1)))']) {
      const r = instrument(wat(src), { memoryMaxPages: 4, importMemory: true });
      expect(r.memory).toBeUndefined();
      expect(importedMemory(r.bytes)).toBeUndefined();
    }
  });
});
