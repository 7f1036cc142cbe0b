import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/wasm/engine/engine.js';
import type { HostImports } from '../../src/wasm/engine/link.js';
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

  it('runs a C component built with wasi-libc and the WASI adapter (4 core modules, resources)', async () => {
    const cWasi = await new Engine().load(fixture('c-wasi'));
    expect(cWasi.plan.modules.length).toBeGreaterThanOrEqual(4);
    // Grant every WASI function the component imports as a stub that records calls: libc links
    // them in, but greet/sum never do I/O, so none may be called.
    const called: string[] = [];
    const imports: HostImports = {};
    for (const imp of cWasi.plan.imports) {
      if (imp.kind !== 'instance') continue;
      imports[imp.name] = Object.fromEntries(
        Object.keys(imp.funcs).map((f) => [f, () => called.push(`${imp.name}#${f}`)]),
      );
    }
    const instance = cWasi.instantiate(imports);
    expect(instance.exports.greet('wasm')).toBe('hello, wasm! (4 bytes)');
    expect(instance.exports.sum([1, 2, 3, 4_000_000_000])).toBe(4_000_000_006n);
    expect(called).toEqual([]);
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
