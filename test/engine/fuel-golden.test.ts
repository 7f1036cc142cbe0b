/**
 * Golden fuel counts, computed by hand from the cost table in `src/wasm/engine/fuel-costs.ts`:
 * `nop`, `drop`, `block`, `loop`, `else`, `end` cost 0; every other instruction costs 1; bulk
 * operations add floor(n / 64). Blocks are charged when entered.
 *
 * Each instrumented module keeps its fuel in its own exported `airssys:fuel-counter` global; the
 * entry wrapper sets it to the (i32) budget, and `out-of-fuel` refills by returning a grant. Fuel
 * consumed = budget + Σ grants − the counter left at the end.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import {
  FUEL_COUNTER_EXPORT,
  FUEL_EXPORT_PREFIX,
  INSTRUMENT_MODULE,
  instrument,
} from '../../src/wasm/engine/instrument.js';

const WA: any = (globalThis as any).WebAssembly;
const BUDGET = 1_000_000_000;

let wabt: Awaited<ReturnType<typeof wabtInit>>;
beforeAll(async () => {
  wabt = await wabtInit();
});

function meter(src: string) {
  const mod = wabt.parseWat('golden.wat', src, {
    bulk_memory: true,
    multi_value: true,
    reference_types: true,
  });
  const bytes = new Uint8Array(mod.toBinary({}).buffer);
  mod.destroy();
  const state = { outOfFuel: 0, seen: [] as bigint[] };
  const imports = {
    'out-of-fuel': () => {
      state.outOfFuel++;
      state.seen.push(fuel.value);
      throw new Error('out of fuel');
    },
    'grow-failed': () => {},
  };
  const out = instrument(bytes, { memoryMaxPages: 4 }).bytes;
  const exports = new WA.Instance(new WA.Module(out), { [INSTRUMENT_MODULE]: imports }).exports;
  const fuel = exports[FUEL_COUNTER_EXPORT];
  /** Runs `name` with `budget` and returns [result, fuel consumed]. */
  const call = (name: string, args: unknown[] = [], budget = BUDGET): [unknown, number] => {
    const result = exports[FUEL_EXPORT_PREFIX + name](budget, ...args);
    return [result, budget - Number(fuel.value)];
  };
  return { call, state, fuel };
}

describe('fuel golden counts', () => {
  it('straight-line functions', () => {
    const { call } = meter(`(module
      (func (export "empty"))
      (func (export "const") (result i32) (i32.const 42))
      (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
      (func (export "free") nop nop (drop (i32.const 1)) (block (loop nop)))
      (func (export "ret") (result i32) (return (i32.const 1)) (i32.const 2)))`);
    expect(call('empty')).toEqual([undefined, 0]); // end
    expect(call('const')).toEqual([42, 1]); // i32.const + end
    expect(call('add', [2, 3])).toEqual([5, 3]); // local.get ×2 + i32.add
    expect(call('free')).toEqual([undefined, 1]); // only i32.const costs
    expect(call('ret')).toEqual([1, 2]); // i32.const + return; the dead code is never entered
  });

  it('if/else charges the path taken', () => {
    const { call } = meter(`(module (func (export "pick") (param i32) (result i32)
      (if (result i32) (local.get 0) (then (i32.const 1) (i32.const 5) (i32.add)) (else (i32.const 2)))))`);
    // entry: local.get, if = 2; then: 3 consts/add (+ else 0) = 3; else: i32.const (+ end 0) = 1.
    expect(call('pick', [1])).toEqual([6, 5]);
    expect(call('pick', [0])).toEqual([2, 3]);
  });

  it('br_table charges the target block', () => {
    const { call } = meter(`(module (func (export "switch") (param i32) (result i32)
      (block $c (block $b (block $a
        (br_table $a $b $c (local.get 0)))
        (return (i32.const 10)))
        (return (i32.const 20)))
      (i32.const 30)))`);
    // local.get + br_table = 2; then i32.const + return = 2, or i32.const + end = 1.
    expect(call('switch', [0])).toEqual([10, 4]);
    expect(call('switch', [1])).toEqual([20, 4]);
    expect(call('switch', [2])).toEqual([30, 3]);
    expect(call('switch', [7])).toEqual([30, 3]);
  });

  it('calls add the callee', () => {
    const { call } = meter(`(module
      (type $t (func (param i32) (result i32)))
      (table 1 funcref) (elem (i32.const 0) $inc)
      (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
      (func (export "direct") (result i32) (call $inc (i32.const 5)))
      (func (export "indirect") (result i32) (call_indirect (type $t) (i32.const 5) (i32.const 0))))`);
    expect(call('direct')).toEqual([6, 5]); // i32.const + call = 2, callee 3
    expect(call('indirect')).toEqual([6, 6]); // 2 × i32.const + call_indirect = 3, callee 3
  });

  it('bulk memory is charged 1 per 64 bytes on top of the instructions', () => {
    const { call } = meter(`(module (memory 1)
      (func (export "fill") (param i32) (memory.fill (i32.const 0) (i32.const 7) (local.get 0)))
      (func (export "copy") (param i32) (memory.copy (i32.const 0) (i32.const 4096) (local.get 0))))`);
    expect(call('fill', [0])).toEqual([undefined, 4]);
    expect(call('fill', [63])).toEqual([undefined, 4]);
    expect(call('fill', [64])).toEqual([undefined, 5]);
    expect(call('fill', [1000])).toEqual([undefined, 4 + 15]);
    expect(call('copy', [4096])).toEqual([undefined, 4 + 64]);
  });

  const SUM = `(module (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (block $b (loop $l
      (br_if $b (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (i32.add (local.get $s) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $s)))`;
  // Loop header (local.get ×2, i32.ge_u, br_if) = 4; body (8 instructions + br) = 9; exit
  // (local.get + end) = 1. So sum(n) costs 13n + 4 + 1.

  it('a loop of n iterations costs exactly 13n + 5, identically on every run', () => {
    const { call } = meter(SUM);
    for (const n of [0, 1, 2, 10, 1000, 100_000]) {
      const [result, used] = call('sum', [n]);
      expect(result).toBe(Number((BigInt(n) * BigInt(n - 1)) / 2n) | 0);
      expect(used).toBe(13 * n + 5);
      expect(call('sum', [n])[1]).toBe(used);
    }
  });

  it('out-of-fuel is detected at the next loop header', () => {
    const { call, state, fuel } = meter(SUM);
    const n = 50;
    // Enough for the last loop header: no out-of-fuel, even though the exit block overdraws by 1.
    expect(call('sum', [n], 13 * n + 4)[0]).toBe(1225);
    expect(fuel.value).toBe(-1n);
    expect(state.outOfFuel).toBe(0);
    // One less: the last header leaves the counter at -1 and out-of-fuel is called there.
    expect(() => call('sum', [n], 13 * n + 3)).toThrow('out of fuel');
    expect(state.outOfFuel).toBe(1);
    // Written back before out-of-fuel was called, and left there.
    expect(state.seen).toEqual([-1n]);
    expect(fuel.value).toBe(-1n);
  });

  it('refilling in small slices consumes exactly the same fuel', () => {
    const mod = wabt.parseWat('g.wat', SUM, {});
    const bytes = new Uint8Array(mod.toBinary({}).buffer);
    mod.destroy();
    let given = 0n;
    let calls = 0;
    const imports = {
      'out-of-fuel': () => {
        calls++;
        given += 7n;
        return 7n;
      },
      'grow-failed': () => {},
    };
    const out = instrument(bytes, { memoryMaxPages: 1 }).bytes;
    const exports = new WA.Instance(new WA.Module(out), { [INSTRUMENT_MODULE]: imports }).exports;
    const fuel = exports[FUEL_COUNTER_EXPORT];
    expect(exports[`${FUEL_EXPORT_PREFIX}sum`](5, 1000)).toBe(499500);
    expect(given).toBeGreaterThan(1000n);
    expect(calls).toBeGreaterThan(1000);
    expect(5n + given - fuel.value).toBe(BigInt(13 * 1000 + 5));
    // The same with one big slice: one call, same total.
    let once = 0n;
    const big = new WA.Instance(new WA.Module(out), {
      [INSTRUMENT_MODULE]: {
        'out-of-fuel': () => {
          once += 1_000_000n;
          return 1_000_000n;
        },
        'grow-failed': () => {},
      },
    }).exports;
    expect(big[`${FUEL_EXPORT_PREFIX}sum`](5, 1000)).toBe(499500);
    expect(once).toBe(1_000_000n);
    expect(5n + once - big[FUEL_COUNTER_EXPORT].value).toBe(BigInt(13 * 1000 + 5));
  });
});
