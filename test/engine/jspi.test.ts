// Calls on JSPI (WebAssembly.Suspending / promising, Node.js 24+): a guest that waits suspends
// instead of blocking its thread, so two sleeping commands on one thread overlap and the event
// loop keeps turning; the outcome is the one the blocking path gives; the deadline still holds.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasJspi } from '../../src/shared/node-runtime.js';
import { type Component, Engine } from '../../src/wasm/engine/engine.js';
import { parseManifest } from '../../src/wasm/manifest/index.js';
import { bytesSource } from '../../src/wasm/wasi/byte-io.js';
import { runCommand, runCommandAsync } from '../../src/wasm/wasi/run-command.js';
import { cComponent } from '../support/c-component.js';
import { CAT, SLEEP } from '../support/wasi-c-programs.js';

async function command(source: string, timeoutMs = 5_000): Promise<Component> {
  const manifest = parseManifest(
    `[component]\nname = "c-io"\nversion = "1.0.0"\nwasm = "c.wasm"\n[resources]\nmemory = "4MiB"\ntimeout-ms = ${timeoutMs}\n`,
    { baseDir: '/tmp' },
  );
  return new Engine().compile(readFileSync(await cComponent(source, { kind: 'command' })), manifest);
}

function lines() {
  const out: string[] = [];
  return { out, sink: (line: string) => out.push(line) };
}

describe.runIf(hasJspi())('JSPI calls', () => {
  let sleeper: Component;
  let cat: Component;
  beforeAll(async () => {
    sleeper = await command(SLEEP);
    cat = await command(CAT);
  });

  it('two sleeping commands on one thread overlap, and timers run while they sleep', async () => {
    const a = lines();
    const b = lines();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const started = performance.now();
    const [ra, rb] = await Promise.all([
      runCommandAsync(sleeper, { args: ['sleep', 'u', '300000'], stdout: a.sink }),
      runCommandAsync(sleeper, { args: ['sleep', 'u', '300000'], stdout: b.sink }),
    ]);
    const elapsed = performance.now() - started;
    clearInterval(ticker);
    expect(ra).toMatchObject({ ok: true, status: 0 });
    expect(rb).toMatchObject({ ok: true, status: 0 });
    for (const out of [a.out, b.out]) {
      const slept = Number(/^slept_us=(\d+)$/.exec(out[0] ?? '')?.[1]);
      expect(slept).toBeGreaterThanOrEqual(300_000);
    }
    // Blocking, the two would take 600 ms and the interval would not fire during either.
    expect(elapsed).toBeLessThan(550);
    expect(ticks).toBeGreaterThanOrEqual(10);
  });

  it('gives the outcome and output of the blocking path for the same input', async () => {
    const input = ['first line\n', 'second ', 'line, no newline'];
    const sync = { out: lines(), err: lines() };
    const jspi = { out: lines(), err: lines() };
    const r1 = runCommand(cat, { stdin: bytesSource(input), stdout: sync.out.sink, stderr: sync.err.sink });
    const r2 = await runCommandAsync(cat, {
      stdin: bytesSource(input),
      stdout: jspi.out.sink,
      stderr: jspi.err.sink,
    });
    expect(r2).toMatchObject({ ok: r1.ok, status: (r1 as { status: number }).status });
    expect(jspi.out.out).toEqual(sync.out.out);
    expect(jspi.err.out).toEqual(sync.err.out);
    expect(r2.fuel).toBe(r1.fuel);
  });

  it('ends a suspended guest at its timeout-ms with timeout, and the instance is not reused', async () => {
    const short = await command(SLEEP, 200);
    const started = performance.now();
    const outcome = await runCommandAsync(short, { args: ['sleep', 's', '10'] });
    expect(outcome).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
