// Runs against dist/ (built by `npm test` before vitest): the instance thread loads compiled JS.
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Engine, IsolatedInstance } from '../../dist/index.js';
import { fixture } from '../support/fixtures.js';

const blocking = pathToFileURL(new URL('../support/blocking-imports.mjs', import.meta.url).pathname).href;

describe('isolated instances', () => {
  it('answers calls from their own thread with fuel and time', async () => {
    const basic = await new Engine().load(fixture('basic'));
    const isolated = await IsolatedInstance.create(basic);
    try {
      expect(await isolated.invoke('add', [1, 2])).toMatchObject({ ok: true, value: 3 });
      expect(await isolated.invoke('echo', ['over there'])).toMatchObject({ ok: true, value: 'over there' });
    } finally {
      await isolated.close();
    }
  });

  it('terminates a call that never returns (a blocking host import) with timeout; the host lives on', async () => {
    const greeter = await new Engine().load(fixture('greeter'));
    const isolated = await IsolatedInstance.create(greeter, { importsModule: blocking, graceMs: 20 });
    const started = performance.now();
    const outcome = await isolated.invoke('greet', ['x']);
    const elapsed = performance.now() - started;
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe('timeout');
    expect(elapsed).toBeLessThan(greeter.manifest.resources.timeoutMs + 1000);
    expect(isolated.alive).toBe(false);
    expect(await isolated.invoke('greet', ['y'])).toMatchObject({ ok: false, error: { code: 'timeout' } });
  });
});
