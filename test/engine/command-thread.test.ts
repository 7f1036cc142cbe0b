// Commands on a thread of their own (the synchronous bridge for Node.js without JSPI): the same
// C programs give the same output, status and fuel as `runCommand` in-thread; a sleeping run
// leaves the caller's event loop free; a run past its timeout-ms ends with `timeout` (by its own
// deadline, or by a hard stop that terminates the thread) and the next run works. Runs on every
// Node.js line. Runs against dist/ (built by `npm test` before vitest): the thread loads compiled JS.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Component, Engine } from '../../dist/wasm/engine/engine.js';
import { parseManifest } from '../../dist/wasm/manifest/index.js';
import { bytesSource } from '../../dist/wasm/wasi/byte-io.js';
import { CommandThread } from '../../dist/wasm/wasi/command-thread.js';
import { runCommand } from '../../dist/wasm/wasi/run-command.js';
import { cComponent } from '../support/c-component.js';
import { fixture } from '../support/fixtures.js';
import { CAT, EXIT, SLEEP } from '../support/wasi-c-programs.js';

/** argv[1] numbered lines, alternately to stdout and stderr, each with one write(2). */
const LINES = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  long n = atol(argv[1]);
  char line[64];
  for (long i = 0; i < n; i++) {
    int len = snprintf(line, sizeof line, "%s %ld\n", i % 2 ? "err" : "out", i);
    write(i % 2 ? 2 : 1, line, len);
  }
  return 0;
}
`;

/** Returns 0 at once; with an argument, spins until stopped: only a deadline ends it. */
const SPIN = `
int main(int argc, char **argv) {
  volatile unsigned long n = 0;
  if (argc > 1) for (;;) n++;
  return 0;
}
`;

async function command(source: string, timeoutMs = 5_000): Promise<Component> {
  const manifest = parseManifest(
    `[component]\nname = "c-io"\nversion = "1.0.0"\nwasm = "c.wasm"\n[resources]\nmemory = "4MiB"\nfuel = 1_000_000_000_000\ntimeout-ms = ${timeoutMs}\n`,
    { baseDir: '/tmp' },
  );
  return new Engine().compile(readFileSync(await cComponent(source, { kind: 'command' })), manifest);
}

/** Both streams into one list, as the daemon's log gets them. */
function transcript() {
  const all: string[] = [];
  return { all, stdout: (l: string) => all.push(`1:${l}`), stderr: (l: string) => all.push(`2:${l}`) };
}

describe('commands on a thread of their own', () => {
  const threads: CommandThread[] = [];
  const thread = (component: Component, options?: ConstructorParameters<typeof CommandThread>[1]) => {
    const t = new CommandThread(component, options);
    threads.push(t);
    return t;
  };
  let cat: Component;
  let lines: Component;
  let exit: Component;
  let sleeper: Component;
  beforeAll(async () => {
    [cat, lines, exit, sleeper] = await Promise.all([
      command(CAT),
      command(LINES),
      command(EXIT),
      command(SLEEP),
    ]);
  });
  afterAll(async () => {
    await Promise.all(threads.map((t) => t.close()));
  });

  it('give the output, exit status and fuel of runCommand for the same input', async () => {
    const t = thread(cat);
    const input = new TextEncoder().encode('first line\nsecond line, no newline');
    for (const args of [['cat'], ['cat', '3']]) {
      const inThread = transcript();
      const r1 = runCommand(cat, { args, stdin: bytesSource(input), ...inThread });
      const onThread = transcript();
      const r2 = await t.run({ args, stdin: input, ...onThread });
      expect(r2).toEqual({ ...r1, ms: r2.ms });
      expect(onThread.all).toEqual(inThread.all);
      expect(onThread.all).toContain('2:read 34 bytes');
    }
    // exit() from inside a function, after buffered output: a status (the adapter's 0 or 1), not a failure.
    const onExit = thread(exit);
    for (const [code, status] of [
      ['0', 0],
      ['7', 1],
    ] as const) {
      const viaExit = transcript();
      const r3 = await onExit.run({ args: ['exit', code], ...viaExit });
      expect(r3).toMatchObject({ ok: true, status });
      expect(viaExit.all).toEqual([`1:exiting with ${code}`]);
      expect(runCommand(exit, { args: ['exit', code] })).toEqual({ ...r3, ms: expect.any(Number) });
    }
  });

  it('deliver output lines in the order the guest wrote them, across both streams', async () => {
    const inThread = transcript();
    runCommand(lines, { args: ['lines', '400'], ...inThread });
    const onThread = transcript();
    expect(await thread(lines).run({ args: ['lines', '400'], ...onThread })).toMatchObject({
      ok: true,
      status: 0,
    });
    expect(onThread.all).toHaveLength(400);
    expect(onThread.all[0]).toBe('1:out 0');
    expect(onThread.all[399]).toBe('2:err 399');
    expect(onThread.all).toEqual(inThread.all);
  });

  it('leave the event loop free while the guest sleeps: timers fire, two threads overlap', async () => {
    const a = transcript();
    const b = transcript();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    // Warm both threads, so the timing below is the sleeps' and not the threads' start.
    const [ta, tb] = [thread(sleeper), thread(sleeper)];
    await Promise.all([ta.run({ args: ['sleep', 'q', '0'] }), tb.run({ args: ['sleep', 'q', '0'] })]);
    ticks = 0;
    const started = performance.now();
    const [ra, rb] = await Promise.all([
      ta.run({ args: ['sleep', 'u', '300000'], ...a }),
      tb.run({ args: ['sleep', 'u', '300000'], ...b }),
    ]);
    const elapsed = performance.now() - started;
    clearInterval(ticker);
    expect(ra).toMatchObject({ ok: true, status: 0 });
    expect(rb).toMatchObject({ ok: true, status: 0 });
    for (const out of [a.all, b.all]) {
      expect(Number(/^1:slept_us=(\d+)$/.exec(out[0] ?? '')?.[1])).toBeGreaterThanOrEqual(300_000);
    }
    // In-thread the two would take 600 ms and the interval would not fire during either.
    expect(elapsed).toBeLessThan(550);
    expect(ticks).toBeGreaterThanOrEqual(10);
  });

  it('end a sleep past timeout-ms and a spinning guest with timeout; the next run works', async () => {
    for (const [source, args] of [
      [SLEEP, ['sleep', 's', '10']],
      [SPIN, ['spin', 'forever']],
    ] as const) {
      const t = thread(await command(source, 300));
      const started = performance.now();
      const outcome = await t.run({ args });
      expect(performance.now() - started).toBeLessThan(1_500);
      // Its own deadline ended it, on the thread: fuel was counted up to there.
      expect(outcome).toMatchObject({ ok: false, error: { code: 'timeout', blame: 'guest' } });
      expect(outcome.fuel).toBeGreaterThan(0);
      expect(await t.run({ args: source === SLEEP ? ['sleep', 'q', '0'] : ['spin'] })).toMatchObject({
        ok: true,
        status: 0,
      });
    }
  });

  it('terminate a run that outlives its hard stop, answer timeout, and start a new thread for the next', async () => {
    // timeout-ms of a minute: the guest's own deadline is far off, only the hard stop ends it.
    const t = thread(await command(SPIN, 60_000), { stopAfterMs: 300 });
    for (let round = 0; round < 2; round++) {
      const started = performance.now();
      const outcome = await t.run({ args: ['spin', 'forever'] });
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(outcome).toMatchObject({
        ok: false,
        fuel: 0,
        error: { code: 'timeout', blame: 'guest', message: expect.stringMatching(/thread was terminated/) },
      });
      expect(await t.run({ args: ['spin'] })).toMatchObject({ ok: true, status: 0 });
    }
  });

  it('reject a component that is not a command, as runCommand throws, and refuse runs after close', async () => {
    const t = thread(await new Engine().load(fixture('basic')));
    await expect(t.run({})).rejects.toMatchObject({
      code: 'not-found',
      message: expect.stringMatching(/is not a command/),
    });
    // The thread is still good for the next run; after close() nothing runs.
    await expect(t.run({})).rejects.toMatchObject({ code: 'not-found' });
    await t.close();
    await expect(t.run({})).rejects.toMatchObject({
      code: 'internal',
      message: expect.stringMatching(/closed/),
    });
  });
});
