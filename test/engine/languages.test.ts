import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/wasm/engine/engine.js';
import { fixture } from '../support/fixtures.js';

describe('components from other toolchains', () => {
  it('runs a freestanding C component (clang) with its CPU-bound exports metered', async () => {
    const kernel = await new Engine().load(fixture('kernel'));
    const instance = kernel.instantiate();
    instance.setBudget(1e12, 10_000);
    expect(instance.exports.sieve(100)).toBe(25);
    expect(instance.exports.sieve(100_000)).toBe(9592);
    const outcome = instance.invoke('fib', [20]);
    expect(outcome).toMatchObject({ ok: true, value: 6765 });
    expect(outcome.fuel).toBeGreaterThan(0);
  });

  it('runs a JavaScript component built with componentize-js under a policy that allows its memory', async () => {
    // StarlingMonkey needs ~9 MiB before its first call: above the default 4 MiB ceiling.
    const engine = new Engine({ policy: { maxMemoryBytes: 64 * 1024 * 1024 } });
    const js = await engine.load(fixture('js'));
    const instance = js.instantiate();
    instance.setBudget(1e12, 30_000);
    expect(instance.exports.add(40, 2)).toBe(42);
    expect(instance.exports.echo('from js')).toBe('from js');
    expect(instance.exports.handle('')).toEqual({ tag: 'err', val: 'empty message' });
  });

  it('refuses the JavaScript component under the default policy, naming the memory field', async () => {
    await expect(new Engine().load(fixture('js'))).rejects.toMatchObject({ code: 'invalid-manifest' });
  });
});
