import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AirssysError } from '../../src/shared/errors.js';
import { type Component, Engine } from '../../src/wasm/engine/engine.js';
import type { ComponentInstance } from '../../src/wasm/engine/instance.js';
import { fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

const engine = new Engine({ cacheDir: tempDir('engine') });
let basic: Component;
let hostile: Component;

beforeAll(async () => {
  basic = await engine.load(fixture('basic'));
  hostile = await engine.load(fixture('hostile'));
});

function failure(instance: ComponentInstance, name: string, args: unknown[] = []): AirssysError {
  const outcome = instance.invoke(name, args);
  if (outcome.ok) throw new Error(`${name} unexpectedly returned ${String(outcome.value)}`);
  return outcome.error;
}

/** Proves the host (and the component) still work after a contained failure. */
function stillServes(): void {
  expect(basic.instantiate().exports.add(20, 22)).toBe(42);
}

describe('engine — values cross the boundary intact', () => {
  it('round-trips scalars at their edges', () => {
    const t = basic.instantiate().exports;
    const call = (name: string, v: unknown) => t[`types#${name}`](v);
    expect(t.add(2 ** 32 - 1, 1)).toBe(0);
    expect(call('id-bool', true)).toBe(true);
    expect(call('id-s8', -128)).toBe(-128);
    expect(call('id-u8', 255)).toBe(255);
    expect(call('id-s16', -32768)).toBe(-32768);
    expect(call('id-u16', 65535)).toBe(65535);
    expect(call('id-s32', -(2 ** 31))).toBe(-(2 ** 31));
    expect(call('id-u32', 2 ** 32 - 1)).toBe(2 ** 32 - 1);
    expect(call('id-s64', -(2n ** 63n))).toBe(-(2n ** 63n));
    expect(call('id-u64', 2n ** 64n - 1n)).toBe(2n ** 64n - 1n);
    expect(call('id-f32', 1.5)).toBe(1.5);
    expect(call('id-f64', Math.PI)).toBe(Math.PI);
    expect(call('id-char', '🦀')).toBe('🦀');
  });

  it('round-trips strings and lists', () => {
    const t = basic.instantiate().exports;
    expect(t.echo('')).toBe('');
    expect(t.echo('héllo wörld — ✓')).toBe('héllo wörld — ✓');
    const long = 'x'.repeat(100_000);
    expect(t.echo(long)).toBe(long);
    expect(t['types#id-bytes'](Uint8Array.of(0, 1, 255))).toEqual(Uint8Array.of(0, 1, 255));
    expect(t['types#id-strings'](['a', '', 'ünïcode'])).toEqual(['a', '', 'ünïcode']);
  });

  it('round-trips records, tuples, variants, enums, options, results and flags', () => {
    const t = basic.instantiate().exports;
    expect(t['types#flip']({ x: 1, y: -2 })).toEqual({ x: -2, y: 1 });
    expect(t['types#id-pair']([7, 'seven'])).toEqual([7, 'seven']);
    expect(t['types#id-shape']({ tag: 'circle', val: 2.5 })).toEqual({ tag: 'circle', val: 2.5 });
    expect(t['types#id-shape']({ tag: 'rect', val: { x: 3, y: 4 } })).toEqual({
      tag: 'rect',
      val: { x: 3, y: 4 },
    });
    expect(t['types#id-shape']({ tag: 'none' })).toEqual({ tag: 'none' });
    expect(t['types#id-color']('green')).toBe('green');
    expect(t['types#id-opt']('some')).toBe('some');
    expect(t['types#id-opt'](undefined)).toBeUndefined();
    expect(t['types#checked-div'](7, 2)).toEqual({ tag: 'ok', val: 3 });
    expect(t['types#checked-div'](1, 0)).toEqual({ tag: 'err', val: 'division by zero' });
    expect(t['types#id-perms']({ read: true, write: false, exec: true })).toEqual({
      read: true,
      write: false,
      exec: true,
    });
    expect(t['types#sum17'](...Array.from({ length: 17 }, (_, i) => i + 1))).toBe(153);
  });

  it('refuses an argument of the wrong type without harming the instance', () => {
    const instance = basic.instantiate();
    expect(failure(instance, 'add', [-1, 2]).code).toBe('invalid-argument');
    expect(failure(instance, 'echo', [42]).code).toBe('invalid-argument');
    expect(instance.trapped).toBe(false);
    expect(instance.exports.add(1, 2)).toBe(3);
  });

  it('answers not-found for an export the component does not have', () => {
    expect(() => basic.instantiate().call('nope')).toThrowError(
      expect.objectContaining({ code: 'not-found' }),
    );
  });
});

describe('engine — hostile exports are contained', () => {
  it('ends an infinite loop with out-of-fuel after exactly its budget', () => {
    const error = failure(hostile.instantiate(), 'spin');
    expect(error.code).toBe('out-of-fuel');
    expect(error.message).toMatch(/fuel/);
    stillServes();
  });

  it('ends an infinite loop with a huge fuel budget with timeout, within its wall-clock budget', () => {
    const instance = hostile.instantiate();
    instance.setBudget(Number.MAX_SAFE_INTEGER, 150);
    const started = performance.now();
    const outcome = instance.invoke('spin');
    const elapsed = performance.now() - started;
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe('timeout');
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(1000);
    stillServes();
  });

  it('reports unbounded recursion as stack-overflow', () => {
    expect(failure(hostile.instantiate(), 'recurse', [0]).code).toBe('stack-overflow');
    stillServes();
  });

  it('reports unreachable and out-of-bounds access as trap', () => {
    expect(failure(hostile.instantiate(), 'boom').code).toBe('trap');
    expect(failure(hostile.instantiate(), 'oob').message).toMatch(/out of bounds/);
    stillServes();
  });

  it('stops memory.grow at the manifest cap (1MiB = 16 pages)', () => {
    const instance = hostile.instantiate();
    expect(instance.exports.grow(1000)).toBe(-1);
    const before = instance.exports.grow(0) as number;
    expect(instance.exports.grow(16 - before)).toBe(before);
    expect(instance.exports.grow(1)).toBe(-1);
  });

  it('reports a trap after a refused memory.grow as out-of-memory', () => {
    expect(failure(hostile.instantiate(), 'alloc-bomb').code).toBe('out-of-memory');
    stillServes();
  });

  it('never reuses an instance that trapped', () => {
    const instance = hostile.instantiate();
    failure(instance, 'boom');
    expect(instance.trapped).toBe(true);
    const again = failure(instance, 'work', [1]);
    expect(again.code).toBe('trap');
    expect(again.message).toMatch(/trapped earlier/);
  });
});

describe('engine — fuel is deterministic and proportional to work', () => {
  it('reports the same fuel for the same call, across instances', () => {
    const a = hostile.instantiate().invoke('work', [1000]);
    const b = hostile.instantiate().invoke('work', [1000]);
    const c = hostile.instantiate();
    c.invoke('work', [5]);
    const d = c.invoke('work', [1000]);
    expect(a.ok && b.ok && d.ok).toBe(true);
    expect(a.fuel).toBeGreaterThan(1000);
    expect(b.fuel).toBe(a.fuel);
    expect(d.fuel).toBe(a.fuel);
  });

  it('charges a constant per iteration: fuel(n) = a·n + b exactly', () => {
    const fuel = (n: number) => hostile.instantiate().invoke('work', [n]).fuel;
    const f0 = fuel(0);
    const perIteration = fuel(1) - f0;
    expect(perIteration).toBeGreaterThan(0);
    for (const n of [10, 1000, 123_457]) expect(fuel(n)).toBe(f0 + perIteration * n);
  });

  it('counts fuel exactly across refill slices (long calls)', () => {
    const instance = hostile.instantiate();
    instance.setBudget(Number.MAX_SAFE_INTEGER, 10_000);
    const n = 3_000_000; // several FUEL_SLICEs
    const small = hostile.instantiate().invoke('work', [1]).fuel;
    const zero = hostile.instantiate().invoke('work', [0]).fuel;
    const long = instance.invoke('work', [n]);
    expect(long.ok).toBe(true);
    expect(long.fuel).toBe(zero + (small - zero) * n);
  });
});

describe('engine — the compile pipeline refuses bad binaries before running them', () => {
  const compile = (bytes: Uint8Array) => () => engine.compile(bytes, basic.manifest);

  it('refuses garbage, truncated and empty binaries with invalid-component', () => {
    const good = readFileSync(join(fixture('basic'), 'component.wasm'));
    for (const bytes of [
      new Uint8Array(0),
      new TextEncoder().encode('MZ garbage'),
      good.subarray(0, good.length - 5),
    ]) {
      expect(compile(bytes)).toThrowError(expect.objectContaining({ code: 'invalid-component' }));
    }
  });

  it('refuses a binary over the size cap before decoding it', () => {
    const small = new Engine({ policy: { caps: { maxBinaryBytes: 1024 } } });
    const good = readFileSync(join(fixture('basic'), 'component.wasm'));
    expect(() => small.compile(good, basic.manifest)).toThrowError(/maxBinaryBytes/);
  });

  it('refuses a component with more core functions than the policy allows', () => {
    const strict = new Engine({ policy: { caps: { maxFunctions: 3 } } });
    const good = readFileSync(join(fixture('basic'), 'component.wasm'));
    expect(() => strict.compile(good, basic.manifest)).toThrowError(
      expect.objectContaining({ code: 'invalid-component' }),
    );
  });
});
