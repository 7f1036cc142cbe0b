import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bindCallBudget } from '../../src/wasm/engine/call-budget.js';
import { type Component, Engine } from '../../src/wasm/engine/engine.js';
import type { HostImports } from '../../src/wasm/engine/link.js';
import { parseManifest } from '../../src/wasm/manifest/parse.js';
import {
  type ByteSink,
  type ByteSource,
  bytesSource,
  createWasi,
  fdSink,
  fdSource,
  IoError,
  WasiExit,
  type WasiOptions,
  wasiImports,
} from '../../src/wasm/wasi/index.js';
import { commandExport } from '../../src/wasm/wasi/run-command.js';
import { sleepUntil } from '../../src/wasm/wasi/sleep.js';
import { cComponent } from '../support/c-component.js';
import { tempDir } from '../support/temp.js';
import {
  BIG_WRITE,
  CAT,
  CLOCKS,
  EXIT,
  ISATTY,
  MANY_SLEEPS,
  POLL_STDIN,
  SLEEP,
} from '../support/wasi-c-programs.js';

type Fn = (...args: any[]) => any;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function manifest(timeoutMs = 5_000) {
  return parseManifest(
    [
      '[component]',
      'name = "c-io"',
      'version = "1.0.0"',
      'wasm = "c.wasm"',
      '[resources]',
      'memory = "4MiB"',
      `timeout-ms = ${timeoutMs}`,
    ].join('\n'),
    { baseDir: '/tmp' },
  );
}

async function command(source: string, timeoutMs?: number): Promise<Component> {
  const bytes = readFileSync(await cComponent(source, { kind: 'command' }));
  return new Engine().compile(bytes, manifest(timeoutMs));
}

function runExport(component: Component): string {
  const run = commandExport(component);
  if (run === undefined) throw new Error('not a command');
  return run;
}

interface Ran {
  status: number | undefined;
  error: { code: string; message: string } | undefined;
  fuel: number;
  ms: number;
}

/** Runs a command once, as `airssys-wasm run` does: a status, or the error that ended it. */
function run(component: Component, args: readonly string[], options: WasiOptions = {}): Ran {
  const instance = component.instantiate(wasiImports({ args: ['main', ...args], ...options }));
  const outcome = instance.invoke(runExport(component));
  if (outcome.ok) {
    const status = (outcome.value as { tag: string }).tag === 'ok' ? 0 : 1;
    return { status, error: undefined, fuel: outcome.fuel, ms: outcome.ms };
  }
  if (outcome.error instanceof WasiExit) {
    return { status: outcome.error.status, error: undefined, fuel: outcome.fuel, ms: outcome.ms };
  }
  return { status: undefined, error: outcome.error, fuel: outcome.fuel, ms: outcome.ms };
}

/** A byte sink that keeps what it gets, and a shared log of which stream wrote what. */
function collect(log: [string, string][] = [], name = 'out') {
  const chunks: Uint8Array[] = [];
  const sink: ByteSink = {
    write(bytes) {
      chunks.push(bytes.slice());
      log.push([name, decoder.decode(bytes)]);
    },
  };
  const bytes = () => {
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    return all;
  };
  return { sink, bytes, text: () => decoder.decode(bytes()), writes: () => chunks.length };
}

/**
 * A pipe whose writer sends each chunk `at` ms after the source is made, and closes it at
 * `endAt` ms: what a slow producer piped into a program looks like.
 */
function timedSource(chunks: readonly [at: number, data: string][], endAt: number): ByteSource {
  const start = performance.now();
  let next = 0;
  let pending = new Uint8Array(0);
  const arrive = () => {
    const elapsed = performance.now() - start;
    while (next < chunks.length && chunks[next][0] <= elapsed) {
      const data = encoder.encode(chunks[next++][1]);
      const joined = new Uint8Array(pending.length + data.length);
      joined.set(pending);
      joined.set(data, pending.length);
      pending = joined;
    }
    return elapsed;
  };
  return {
    read(max) {
      const elapsed = arrive();
      if (pending.length > 0) {
        const bytes = pending.subarray(0, max);
        pending = pending.subarray(bytes.length);
        return bytes;
      }
      return elapsed >= endAt ? null : new Uint8Array(0);
    },
    ready() {
      const elapsed = arrive();
      return pending.length > 0 || elapsed >= endAt;
    },
    wait(until) {
      const event = start + (next < chunks.length ? chunks[next][0] : endAt);
      sleepUntil(Math.min(until, event));
    },
  };
}

function iface(imports: HostImports, name: string): Record<string, Fn> {
  return imports[`${name}@0.2`] as Record<string, Fn>;
}

describe('WASI io — C programs on real streams', () => {
  let cat: Component;
  let sleeper: Component;
  beforeAll(async () => {
    cat = await command(CAT);
    sleeper = await command(SLEEP);
  });

  it('echoes stdin to EOF byte for byte, chunk by chunk as a pipe delivers it', () => {
    const stdout = collect();
    const stderr = collect();
    const stdin = bytesSource(['first line\n', 'second ', 'line, no newline']);
    const ran = run(cat, [], { stdin, stdoutBytes: stdout.sink, stderrBytes: stderr.sink });
    expect(ran).toMatchObject({ status: 0, error: undefined });
    expect(stdout.text()).toBe('first line\nsecond line, no newline');
    expect(stderr.text()).toBe('read 34 bytes\n');
  });

  it('echoes a megabyte of binary stdin exactly, NULs and invalid UTF-8 included', () => {
    const input = new Uint8Array(1024 * 1024 + 7);
    for (let i = 0; i < input.length; i++) input[i] = (i * 7919) & 0xff;
    const stdout = collect();
    const stderr = collect();
    const ran = run(cat, [], {
      stdin: bytesSource(input),
      stdoutBytes: stdout.sink,
      stderrBytes: stderr.sink,
    });
    expect(ran.status).toBe(0);
    expect(Buffer.from(stdout.bytes()).equals(Buffer.from(input))).toBe(true);
    expect(stderr.text()).toBe(`read ${input.length} bytes\n`);
  });

  it('waits for a slow producer: blocking reads return as data arrives, EOF ends the loop', () => {
    const stdout = collect();
    const stdin = timedSource(
      [
        [0, 'a'],
        [60, 'b'],
        [120, 'c'],
      ],
      180,
    );
    const ran = run(cat, [], { stdin, stdoutBytes: stdout.sink });
    expect(ran.status).toBe(0);
    expect(stdout.text()).toBe('abc');
    expect(ran.ms).toBeGreaterThanOrEqual(170);
  });

  it('sees stdin at its end when the embedder gives none', () => {
    const stderr = collect();
    expect(run(cat, [], { stderrBytes: stderr.sink }).status).toBe(0);
    expect(stderr.text()).toBe('read 0 bytes\n');
  });

  it('writes a megabyte byte-exact to a byte sink, stdout and stderr in the order written', async () => {
    const big = await command(BIG_WRITE);
    const log: [string, string][] = [];
    const stdout = collect(log, 'out');
    const stderr = collect(log, 'err');
    const n = 1_000_003;
    const ran = run(big, [String(n)], { stdoutBytes: stdout.sink, stderrBytes: stderr.sink });
    expect(ran.error).toBeUndefined();
    expect(ran.status).toBe(0);
    const out = stdout.text();
    expect(out).toHaveLength(n + 3);
    expect(out.slice(0, 30)).toBe('abcdefghijklmnopqrstuvwxyzabcd');
    expect(out.slice(n - 3)).toBe(
      `${'abcdefghijklmnopqrstuvwxyz'[(n - 3) % 26]}${'abcdefghijklmnopqrstuvwxyz'[(n - 2) % 26]}${'abcdefghijklmnopqrstuvwxyz'[(n - 1) % 26]}OOO`,
    );
    expect(log.slice(-6)).toEqual([
      ['out', 'O'],
      ['err', 'E'],
      ['out', 'O'],
      ['err', 'E'],
      ['out', 'O'],
      ['err', 'E'],
    ]);
  });

  it('sleeps for real with usleep, nanosleep and sleep', () => {
    for (const [how, amount, us] of [
      ['u', '150000', 150_000],
      ['n', '120000', 120_000],
      ['s', '1', 1_000_000],
    ] as const) {
      const stdout = collect();
      const started = performance.now();
      expect(run(sleeper, [how, amount], { stdoutBytes: stdout.sink }).status).toBe(0);
      const wall = performance.now() - started;
      const slept = Number(/slept_us=(\d+)/.exec(stdout.text())?.[1]);
      expect(slept).toBeGreaterThanOrEqual(us);
      expect(slept).toBeLessThan(us + 100_000);
      expect(wall).toBeGreaterThanOrEqual(us / 1000 - 1);
    }
  });

  it('ends a sleep past timeout-ms at the deadline with `timeout`: sleep(10) under 300 ms', async () => {
    const short = await command(SLEEP, 300);
    const started = performance.now();
    const ran = run(short, ['s', '10']);
    const wall = performance.now() - started;
    expect(ran.error).toMatchObject({ code: 'timeout', blame: 'guest' });
    expect(ran.error?.message).toMatch(/ran past its 300 ms budget/);
    expect(wall).toBeGreaterThanOrEqual(295);
    expect(wall).toBeLessThan(600);
  });

  it('ends the sleep at the deadline on the fast path too (calling the export directly)', async () => {
    const short = await command(SLEEP, 200);
    const instance = short.instantiate(wasiImports({ args: ['main', 's', '10'] }));
    const started = performance.now();
    expect(() => instance.exports[runExport(short)]()).toThrow(expect.objectContaining({ code: 'timeout' }));
    expect(performance.now() - started).toBeLessThan(500);
    expect(instance.trapped).toBe(true);
  });

  it('charges no fuel for waiting: a 200 ms sleep costs what a 0.1 ms sleep costs', () => {
    const short = run(sleeper, ['q', '000100']);
    const long = run(sleeper, ['q', '200000']);
    expect(short.status).toBe(0);
    expect(long.status).toBe(0);
    expect(long.ms).toBeGreaterThan(190);
    expect(long.fuel).toBe(short.fuel);
  });

  it('frees the pollable of every sleep: 2,000 sleeps leave the handle table small', async () => {
    const many = await command(MANY_SLEEPS);
    const instance = many.instantiate(wasiImports({ args: ['main', '2000'] }));
    expect(instance.invoke(runExport(many))).toMatchObject({ ok: true });
    const handles = (instance as unknown as { runtime: { handles: { entries: unknown[] } } }).runtime.handles;
    expect(handles.entries.length).toBeLessThan(32);
  });

  it('reads the real clocks and getrandom', async () => {
    const clocks = await command(CLOCKS);
    const stdout = collect();
    expect(run(clocks, [], { stdoutBytes: stdout.sink }).status).toBe(0);
    const out = Object.fromEntries(
      stdout
        .text()
        .trim()
        .split('\n')
        .map((l) => l.split('=')),
    );
    expect(out.rc).toBe('0');
    expect(Math.abs(Number(out.realtime) - Date.now() / 1000)).toBeLessThan(60);
    expect(Number(out.monotonic)).toBeGreaterThan(0);
    expect(out.resolution_ns).toBe('1');
    expect(out.getentropy).toBe('0');
    expect(out.random).toMatch(/^[0-9a-f]{32}$/);
    expect(out.random).not.toBe('0'.repeat(32));
  });

  it('reports a terminal only for the streams the embedder says are terminals', async () => {
    const isatty = await command(ISATTY);
    const none = collect();
    run(isatty, [], { stdoutBytes: none.sink });
    expect(none.text()).toBe('tty=000\n');
    const some = collect();
    run(isatty, [], { stdoutBytes: some.sink, terminals: { stdin: true, stderr: true } });
    expect(some.text()).toBe('tty=101\n');
  });

  it('polls stdin: times out before data, wakes when it arrives', async () => {
    const poller = await command(POLL_STDIN);
    const stdout = collect();
    const stdin = timedSource([[150, 'late']], 400);
    const started = performance.now();
    expect(run(poller, [], { stdin, stdoutBytes: stdout.sink }).status).toBe(0);
    const wall = performance.now() - started;
    expect(stdout.text()).toBe('first=0 second=1 data=late\n');
    expect(wall).toBeGreaterThanOrEqual(145);
    expect(wall).toBeLessThan(1_000);
  });

  it('reports exit statuses as the adapter passes them: 0, or 1 for any failure', async () => {
    const exit = await command(EXIT);
    for (const [code, status] of [
      ['0', 0],
      ['3', 1],
      ['255', 1],
    ] as const) {
      const stdout = collect();
      const exits: number[] = [];
      const ran = run(exit, [code], { stdoutBytes: stdout.sink, onExit: (s) => exits.push(s) });
      expect(ran.status).toBe(status);
      expect(exits).toEqual([status]);
      expect(stdout.text()).toBe(`exiting with ${code}\n`);
    }
    const stderr = collect();
    expect(run(cat, ['4'], { stderrBytes: stderr.sink }).status).toBe(1);
  });
});

describe('WASI io — the host functions', () => {
  function world(options: WasiOptions) {
    const wasi = createWasi(options);
    const streams = iface(wasi.imports, 'wasi:io/streams');
    const poll = iface(wasi.imports, 'wasi:io/poll');
    const clock = iface(wasi.imports, 'wasi:clocks/monotonic-clock');
    const stdin = iface(wasi.imports, 'wasi:cli/stdin')['get-stdin']();
    const stdout = iface(wasi.imports, 'wasi:cli/stdout')['get-stdout']();
    const stderr = iface(wasi.imports, 'wasi:cli/stderr')['get-stderr']();
    return { wasi, streams, poll, clock, stdin, stdout, stderr };
  }
  const I = '[method]input-stream.';
  const O = '[method]output-stream.';

  it('read returns nothing yet on an empty pipe; blocking-read waits; the end is `closed`', () => {
    const { streams, poll, stdin } = world({ stdin: timedSource([[80, 'hello']], 120) });
    expect(streams[`${I}read`](stdin, 10n)).toEqual({ tag: 'ok', val: new Uint8Array(0) });
    const pollable = streams[`${I}subscribe`](stdin);
    expect(poll['[method]pollable.ready'](pollable)).toBe(false);
    const started = performance.now();
    expect(streams[`${I}blocking-read`](stdin, 3n)).toEqual({ tag: 'ok', val: encoder.encode('hel') });
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    expect(poll['[method]pollable.ready'](pollable)).toBe(true);
    expect(streams[`${I}skip`](stdin, 100n)).toEqual({ tag: 'ok', val: 2n });
    expect(streams[`${I}read`](stdin, 0n)).toEqual({ tag: 'ok', val: new Uint8Array(0) });
    // Nothing more, not ended yet: skip is non-blocking too.
    expect(streams[`${I}skip`](stdin, 1n)).toEqual({ tag: 'ok', val: 0n });
    // The pollable is ready at the end (EOF), and every read after says closed.
    poll['[method]pollable.block'](pollable);
    expect(streams[`${I}blocking-skip`](stdin, 1n)).toEqual({ tag: 'err', val: { tag: 'closed' } });
    expect(streams[`${I}read`](stdin, 0n)).toEqual({ tag: 'err', val: { tag: 'closed' } });
  });

  it('caps a read at maxReadBytes whatever len the guest asks for', () => {
    const { streams, stdin } = world({
      stdin: bytesSource(new Uint8Array(10_000)),
      limits: { maxReadBytes: 4096 },
    });
    expect(streams[`${I}read`](stdin, 1n << 62n).val).toHaveLength(4096);
    expect(streams[`${I}blocking-skip`](stdin, 1n << 40n)).toEqual({ tag: 'ok', val: 4096n });
  });

  it('turns a failing source into last-operation-failed with a readable error, then closed', () => {
    const failing: ByteSource = {
      read() {
        throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
      },
      ready: () => true,
      wait: () => {},
    };
    const { wasi, streams, stdin } = world({ stdin: failing });
    const result = streams[`${I}read`](stdin, 1n);
    expect(result).toMatchObject({ tag: 'err', val: { tag: 'last-operation-failed' } });
    const error = result.val.val;
    expect(error).toBeInstanceOf(IoError);
    expect(error.errno).toBe('EIO');
    const debug = iface(wasi.imports, 'wasi:io/error')['[method]error.to-debug-string'](error);
    expect(debug).toBe('read on stdin failed: EIO: i/o error, read');
    expect(streams[`${I}read`](stdin, 1n)).toEqual({ tag: 'err', val: { tag: 'closed' } });
  });

  it('reports a write to a closed pipe as last-operation-failed (EPIPE), then closed', () => {
    const dir = tempDir('wasi-pipe');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(reader);
    try {
      const { wasi, streams, stdout } = world({ stdoutBytes: fdSink(writer) });
      const result = streams[`${O}blocking-write-and-flush`](stdout, encoder.encode('hello\n'));
      expect(result).toMatchObject({ tag: 'err', val: { tag: 'last-operation-failed' } });
      const debug = iface(wasi.imports, 'wasi:io/error')['[method]error.to-debug-string'](result.val.val);
      expect(debug).toMatch(/^write on stdout failed: EPIPE/);
      expect(streams[`${O}check-write`](stdout)).toEqual({ tag: 'err', val: { tag: 'closed' } });
      expect(streams[`${O}write`](stdout, encoder.encode('x'))).toEqual({
        tag: 'err',
        val: { tag: 'closed' },
      });
      expect(streams[`${O}flush`](stdout)).toEqual({ tag: 'err', val: { tag: 'closed' } });
    } finally {
      closeSync(writer);
    }
  });

  it('reads a FIFO through fdSource without blocking, and waits for its writer', () => {
    const dir = tempDir('wasi-fifo');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY);
    const source = fdSource(reader);
    try {
      const { streams, poll, stdin } = world({ stdin: source });
      expect(streams[`${I}read`](stdin, 10n)).toEqual({ tag: 'ok', val: new Uint8Array(0) });
      const pollable = streams[`${I}subscribe`](stdin);
      expect(poll['[method]pollable.ready'](pollable)).toBe(false);
      execFileSync('sh', ['-c', `printf 'piped' > ${fifo}`]);
      expect(poll['[method]pollable.ready'](pollable)).toBe(true);
      expect(streams[`${I}blocking-read`](stdin, 100n)).toEqual({ tag: 'ok', val: encoder.encode('piped') });
      closeSync(writer);
      expect(streams[`${I}blocking-read`](stdin, 100n)).toEqual({ tag: 'err', val: { tag: 'closed' } });
    } finally {
      source.close();
      closeSync(reader);
    }
  });

  it('splices stdin into stdout and writes zeroes, all byte-exact', () => {
    const stdout = collect();
    const {
      streams,
      stdin,
      stdout: out,
    } = world({
      stdin: timedSource(
        [
          [0, 'spliced '],
          [50, 'later'],
        ],
        80,
      ),
      stdoutBytes: stdout.sink,
    });
    expect(streams[`${O}splice`](out, stdin, 100n)).toEqual({ tag: 'ok', val: 8n });
    expect(streams[`${O}splice`](out, stdin, 100n)).toEqual({ tag: 'ok', val: 0n });
    expect(streams[`${O}blocking-splice`](out, stdin, 3n)).toEqual({ tag: 'ok', val: 3n });
    expect(streams[`${O}blocking-splice`](out, stdin, 100n)).toEqual({ tag: 'ok', val: 2n });
    expect(streams[`${O}write-zeroes`](out, 2n)).toEqual({ tag: 'ok' });
    expect(streams[`${O}blocking-write-zeroes-and-flush`](out, 1n)).toEqual({ tag: 'ok' });
    expect(streams[`${O}blocking-splice`](out, stdin, 100n)).toEqual({ tag: 'err', val: { tag: 'closed' } });
    expect(stdout.text()).toBe('spliced later\0\0\0');
  });

  it('permits maxWriteBytes per write, always ready, flushed at once', () => {
    const stdout = collect();
    const { streams, poll, stdout: out } = world({ stdoutBytes: stdout.sink, limits: { maxWriteBytes: 16 } });
    expect(streams[`${O}check-write`](out)).toEqual({ tag: 'ok', val: 16n });
    expect(streams[`${O}write`](out, new Uint8Array(16))).toEqual({ tag: 'ok' });
    expect(() => streams[`${O}write`](out, new Uint8Array(17))).toThrow(
      expect.objectContaining({ code: 'trap' }),
    );
    expect(() => streams[`${O}blocking-write-and-flush`](out, new Uint8Array(4097))).toThrow(
      expect.objectContaining({ code: 'trap' }),
    );
    expect(streams[`${O}flush`](out)).toEqual({ tag: 'ok' });
    expect(streams[`${O}blocking-flush`](out)).toEqual({ tag: 'ok' });
    expect(poll['[method]pollable.ready'](streams[`${O}subscribe`](out))).toBe(true);
    expect(stdout.bytes()).toHaveLength(16);
  });

  it('mixes clock and stream pollables in one poll and wakes at the earliest', () => {
    const made = performance.now();
    const { streams, poll, clock, stdin } = world({ stdin: timedSource([[60, 'x']], 500) });
    const input = streams[`${I}subscribe`](stdin);
    const soon = clock['subscribe-duration'](30_000_000n);
    const never = clock['subscribe-duration']((1n << 64n) - 1n);
    const started = performance.now();
    expect(poll.poll([never, input, soon])).toEqual([2]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(poll.poll([never, input, never])).toEqual([1]);
    expect(performance.now() - made).toBeGreaterThanOrEqual(59);
    expect(poll.poll([soon, input, soon])).toEqual([0, 1, 2]);
    // A past instant is ready at once.
    expect(poll['[method]pollable.ready'](clock['subscribe-instant'](0n))).toBe(true);
    expect(() => poll.poll([])).toThrow(expect.objectContaining({ code: 'trap', blame: 'guest' }));
  });

  it('never waits past the call deadline: a huge duration ends with expire() at the deadline', () => {
    const { poll, clock } = world({});
    const never = clock['subscribe-duration']((1n << 64n) - 1n);
    expect(poll['[method]pollable.ready'](never)).toBe(false);
    const deadline = performance.now() + 50;
    const expired = new Error('expired');
    const bound = bindCallBudget(poll.poll, {
      deadline: () => deadline,
      expire: () => {
        throw expired;
      },
    });
    expect(() => bound([never])).toThrow(expired);
    expect(performance.now()).toBeGreaterThanOrEqual(deadline);
    expect(performance.now() - deadline).toBeLessThan(40);
  });

  it('refuses a line sink and a byte sink for the same stream', () => {
    expect(() => createWasi({ stdout: () => {}, stdoutBytes: collect().sink })).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
  });

  it('gives initial-cwd and terminals only as the embedder says', () => {
    const plain = createWasi({});
    expect(iface(plain.imports, 'wasi:cli/environment')['initial-cwd']()).toBeUndefined();
    expect(iface(plain.imports, 'wasi:cli/terminal-stdin')['get-terminal-stdin']()).toBeUndefined();
    const given = createWasi({ initialCwd: '/work', terminals: { stdout: true } });
    expect(iface(given.imports, 'wasi:cli/environment')['initial-cwd']()).toBe('/work');
    expect(iface(given.imports, 'wasi:cli/terminal-stdout')['get-terminal-stdout']()).toBeTypeOf('object');
    expect(iface(given.imports, 'wasi:cli/terminal-stderr')['get-terminal-stderr']()).toBeUndefined();
  });
});
