import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/wasm/engine/engine.js';
import { fixture } from '../support/fixtures.js';

const engine = new Engine();

describe('linking — no ambient authority', () => {
  it('calls a granted host import with lifted values', async () => {
    const greeter = await engine.load(fixture('greeter'));
    const logged: string[] = [];
    const instance = greeter.instantiate({ host: { log: (msg: string) => logged.push(msg) } });
    expect(instance.exports.greet('world')).toBe('hello, world');
    expect(logged).toEqual(['hello, world']);
  });

  it('refuses to instantiate when an imported interface is not granted', async () => {
    const greeter = await engine.load(fixture('greeter'));
    expect(() => greeter.instantiate({})).toThrowError(
      expect.objectContaining({ code: 'capability-denied' }),
    );
    expect(() => greeter.instantiate({ host: {} })).toThrowError(/host#log/);
  });

  it('refuses a component that imports an ambient interface nobody granted', async () => {
    const bad = await engine.load(fixture('bad-world'));
    expect(() => bad.instantiate()).toThrowError(expect.objectContaining({ code: 'capability-denied' }));
    expect(() => bad.instantiate()).toThrowError(/evil:ambient\/files/);
  });

  it('refuses a C component linked against WASI: this host grants no WASI', async () => {
    const cWasi = await engine.load(fixture('c-wasi'));
    expect(() => cWasi.instantiate()).toThrowError(expect.objectContaining({ code: 'capability-denied' }));
  });

  it('surfaces a host import error as the call failure and poisons the instance', async () => {
    const greeter = await engine.load(fixture('greeter'));
    const instance = greeter.instantiate({
      host: {
        log: () => {
          throw new Error('disk full');
        },
      },
    });
    const outcome = instance.invoke('greet', ['x']);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.message).toMatch(/disk full/);
    expect(instance.trapped).toBe(true);
  });
});
