import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Component, Engine } from '../../src/wasm/engine/engine.js';
import {
  createWasi,
  DESCRIPTOR_METHODS,
  DIRECTORY_ENTRY_STREAM_METHODS,
  WasiExit,
  type WasiOptions,
  wasiImports,
} from '../../src/wasm/wasi/index.js';
import { fixture, ROOT } from '../support/fixtures.js';

/** The c-wasi-io fixture's `run` summary ("k=v;k=v") as an object. */
function summary(text: unknown): Record<string, string> {
  return Object.fromEntries(
    String(text)
      .split(';')
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

interface Recorded {
  stdout: string[];
  stderr: string[];
  denied: [string, string, string][];
  exits: number[];
}

function recording(extra: WasiOptions = {}): { options: WasiOptions; seen: Recorded } {
  const seen: Recorded = { stdout: [], stderr: [], denied: [], exits: [] };
  const options: WasiOptions = {
    stdout: (line) => seen.stdout.push(line),
    stderr: (line) => seen.stderr.push(line),
    onDenied: (op, subject, reason) => seen.denied.push([op, subject, reason]),
    onExit: (status) => seen.exits.push(status),
    ...extra,
  };
  return { options, seen };
}

/** A deterministic random source: 0, 1, 2, … */
function countingRandom(): (buffer: Uint8Array) => void {
  let next = 0;
  return (buffer) => {
    for (let i = 0; i < buffer.length; i++) buffer[i] = next++ & 0xff;
  };
}

const FIXED_WALL = {
  now: () => ({ seconds: 1_234_567_890n, nanoseconds: 250_000_000 }),
  resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
};
const FIXED_MONOTONIC = { now: () => 42_000_000_123n, resolution: () => 1n };

describe('WASI preview 2 — a C program (wasi-libc + adapter) with nothing granted', () => {
  let io: Component;
  beforeAll(async () => {
    io = await new Engine().load(fixture('c-wasi-io'));
  });

  it('links with wasiImports() alone and its stdout and stderr lines reach the sinks', () => {
    const { options, seen } = recording();
    const instance = io.instantiate(wasiImports(options));
    instance.exports.run();
    expect(seen.stdout).toEqual(['hello from stdout', 'second line, no newline yet... done']);
    expect(seen.stderr).toEqual(['warning on stderr']);
  });

  it('reads the clocks and random bytes from the injected sources', () => {
    const { options } = recording({
      wallClock: FIXED_WALL,
      monotonicClock: FIXED_MONOTONIC,
      random: countingRandom(),
    });
    const out = summary(io.instantiate(wasiImports(options)).exports.run());
    expect(out.time).toBe('1234567890');
    expect(out.mono_rc).toBe('0');
    expect(out.mono).toBe('42.000000123');
    expect(out.random_rc).toBe('0');
    expect(out.random).toBe('0001020304050607');
  });

  it('uses the real clocks and crypto randomness by default', () => {
    const out = summary(io.instantiate(wasiImports()).exports.run());
    expect(Math.abs(Number(out.time) - Date.now() / 1000)).toBeLessThan(60);
    expect(out.random).toMatch(/^[0-9a-f]{16}$/);
    expect(out.random).not.toBe('0000000000000000');
  });

  it('cannot open a host file: fopen("/etc/passwd") fails and no filesystem function was reached', () => {
    const { options, seen } = recording();
    const out = summary(io.instantiate(wasiImports(options)).exports.run());
    expect(out.fopen).toBe('failed');
    // wasi-libc finds no preopened directory for the path and refuses by itself (ENOTCAPABLE,
    // 76) before calling the adapter; a libc that asked the host would get `access` (EACCES, 2).
    expect(['76', '2', '44']).toContain(out.errno);
    // Nothing reached wasi:filesystem/types, so nothing was refused there.
    expect(seen.denied.filter(([op]) => op.startsWith('wasi.filesystem.'))).toEqual([]);
  });

  it('does not see the host environment, only the variables the embedder passes', () => {
    process.env.AIRSSYS_WASI_TEST_SECRET = 'leak';
    try {
      const bare = summary(io.instantiate(wasiImports()).exports.run());
      expect(bare.env).toBe('0');
      expect(bare.home).toBe('(unset)');
      const given = summary(io.instantiate(wasiImports({ env: { GREETING: 'hi there' } })).exports.run());
      expect(given.env).toBe('1');
      expect(given.greeting).toBe('hi there');
      expect(given.home).toBe('(unset)');
    } finally {
      delete process.env.AIRSSYS_WASI_TEST_SECRET;
    }
  });

  it('caps a huge line at maxLineChars and ends it with …', () => {
    const { options, seen } = recording();
    const instance = io.instantiate(wasiImports(options));
    expect(instance.exports.spam(1, 100_000)).toBe(100_001);
    expect(seen.stdout[0]).toBe(`${'x'.repeat(4096)}…`);
    // 100 kB is also past the default 64 KiB per call: the rest of the call is dropped, once said.
    expect(seen.stdout.slice(1)).toEqual([
      "[output truncated: more than 65536 bytes in one call; the rest of this call's output is dropped]",
    ]);
  });

  it('hands the sink one capped line for 3 MB written without a newline', () => {
    const { options, seen } = recording({ limits: { maxOutputBytesPerCall: 4 * 1024 * 1024 } });
    const instance = io.instantiate(wasiImports(options));
    expect(instance.exports.spam(1, 3_000_000)).toBe(3_000_001);
    expect(seen.stdout).toEqual([`${'x'.repeat(4096)}…`]);
  });

  it('caps the bytes forwarded per call and says how much was dropped', () => {
    const { options, seen } = recording({ limits: { maxOutputBytesPerCall: 10_000 } });
    const wasi = createWasi(options);
    const instance = io.instantiate(wasi.imports);
    // 1,000 lines of 99 'x' + newline: 100,000 bytes, 10,000 of which may pass.
    expect(instance.exports.spam(1_000, 99)).toBe(100_000);
    wasi.endCall();
    expect(seen.stdout).toHaveLength(101);
    expect(seen.stdout.slice(0, 100).every((line) => line === 'x'.repeat(99))).toBe(true);
    expect(seen.stdout[100]).toMatch(/^\[output truncated: more than 10000 bytes in one call/);
    // endCall starts a new budget: the next call is heard again.
    seen.stdout.length = 0;
    instance.exports.spam(2, 3);
    wasi.endCall();
    expect(seen.stdout).toEqual(['xxx', 'xxx']);
  });

  it('turns exit into a WasiExit error, reports the status and discards the instance', () => {
    const { options, seen } = recording();
    const instance = io.instantiate(wasiImports(options));
    let thrown: unknown;
    try {
      instance.exports.quit(3);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(WasiExit);
    // The preview1 adapter maps any non-zero code to exit(err): status 1.
    expect(thrown).toMatchObject({ code: 'trap', blame: 'guest', status: 1 });
    expect(seen.exits).toEqual([1]);
    expect(seen.stdout).toEqual(['bye']); // libc's exit flushed stdio first
    expect(instance.trapped).toBe(true);

    const zero = recording();
    const other = io.instantiate(wasiImports(zero.options));
    expect(other.invoke('quit', [0])).toMatchObject({ ok: false, error: { status: 0 } });
    expect(zero.seen.exits).toEqual([0]);
  });

  it('runs the c-wasi fixture with wasiImports() instead of stubs', async () => {
    const cWasi = await new Engine().load(fixture('c-wasi'));
    const instance = cWasi.instantiate(wasiImports());
    expect(instance.exports.greet('wasm')).toBe('hello, wasm! (4 bytes)');
    expect(instance.exports.sum([1, 2, 3, 4_000_000_000])).toBe(4_000_000_006n);
  });
});

describe('WASI preview 2 — the host functions', () => {
  type Fn = (...args: any[]) => any;
  const iface = (imports: ReturnType<typeof wasiImports>, name: string) =>
    imports[`${name}@0.2`] as Record<string, Fn>;

  it('has no directory without preopens, and takes no descriptor it did not hand out', () => {
    const { options, seen } = recording();
    const imports = wasiImports(options);
    expect(iface(imports, 'wasi:filesystem/preopens')['get-directories']()).toEqual([]);
    const types = iface(imports, 'wasi:filesystem/types');
    // Only the host creates descriptors (the engine checks handles): anything else is a host bug.
    expect(() =>
      types['[method]descriptor.open-at']({}, { symlinkFollow: false }, 'etc/passwd', {}, {}),
    ).toThrow(expect.objectContaining({ code: 'internal', blame: 'host' }));
    expect(() => types['[method]directory-entry-stream.read-directory-entry']({})).toThrow(
      expect.objectContaining({ code: 'internal' }),
    );
    expect(types['filesystem-error-code']({})).toBeUndefined();
    expect(seen.denied).toEqual([]);
  });

  it('provides every function of the WASI 0.2 WIT it implements (checked against jco 0.2.12 WIT)', () => {
    const wit = join(ROOT, 'node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12');
    const imports = wasiImports();
    const expected: string[] = [];
    for (const pkg of ['io', 'cli', 'clocks', 'random', 'filesystem']) {
      const text = readFileSync(join(wit, `wasi-${pkg}/package.wit`), 'utf8').replace(/\/\/.*$/gm, '');
      for (const m of text.matchAll(/^interface ([\w-]+) \{([\s\S]*?)^\}/gm)) {
        const [, name, body] = m;
        if (pkg === 'cli' && name === 'run') continue; // an export, not an import
        let resource: string | undefined;
        for (const line of body.split('\n')) {
          const open = /^\s*resource ([\w-]+) \{/.exec(line);
          if (open) resource = open[1];
          else if (/^\s*\}/.test(line)) resource = undefined;
          const fn = /^\s*([\w-]+): func/.exec(line);
          if (fn) {
            const key = resource === undefined ? fn[1] : `[method]${resource}.${fn[1]}`;
            expected.push(`wasi:${pkg}/${name}#${key}`);
          }
        }
      }
    }
    expect(expected.length).toBeGreaterThan(60);
    const missing = expected.filter((e) => {
      const [name, fn] = e.split('#');
      return typeof (imports[`${name}@0.2`] as Record<string, unknown> | undefined)?.[fn] !== 'function';
    });
    expect(missing).toEqual([]);
    expect(DESCRIPTOR_METHODS.length + DIRECTORY_ENTRY_STREAM_METHODS.length).toBe(
      expected.filter((e) => /#\[method\](descriptor|directory-entry-stream)\./.test(e)).length,
    );
  });

  it('traps on a random request over the cap and reports it, without allocating it', () => {
    const { options, seen } = recording({ limits: { maxRandomBytes: 1024 } });
    const random = iface(wasiImports(options), 'wasi:random/random');
    expect(random['get-random-bytes'](1024n)).toHaveLength(1024);
    expect(() => random['get-random-bytes'](1n << 40n)).toThrow(
      expect.objectContaining({ code: 'trap', blame: 'guest' }),
    );
    expect(seen.denied).toEqual([
      ['wasi.random.get-random-bytes', '1099511627776 bytes', expect.stringContaining('at most 1024')],
    ]);
  });

  it('draws every random interface from the injected source', () => {
    const imports = wasiImports({ random: countingRandom() });
    expect(iface(imports, 'wasi:random/random')['get-random-u64']()).toBe(0x0706050403020100n);
    expect(iface(imports, 'wasi:random/insecure')['get-insecure-random-bytes'](2n)).toEqual(
      new Uint8Array([8, 9]),
    );
    expect(iface(imports, 'wasi:random/insecure-seed')['insecure-seed']()).toEqual([
      0x11100f0e0d0c0b0an,
      0x1918171615141312n,
    ]);
  });

  it('writes within the permit, traps past it, and reports closed stdin and splice', () => {
    const { options, seen } = recording({ limits: { maxWriteBytes: 8 } });
    const imports = iface(wasiImports(options), 'wasi:io/streams');
    const cli = wasiImports(options);
    const stdout = (cli['wasi:cli/stdout@0.2'] as Record<string, Fn>)['get-stdout']();
    const stdin = (cli['wasi:cli/stdin@0.2'] as Record<string, Fn>)['get-stdin']();
    expect(imports['[method]output-stream.check-write'](stdout)).toEqual({ tag: 'ok', val: 8n });
    expect(imports['[method]output-stream.write'](stdout, new TextEncoder().encode('ok\n'))).toEqual({
      tag: 'ok',
    });
    expect(() => imports['[method]output-stream.write'](stdout, new Uint8Array(9))).toThrow(
      expect.objectContaining({ code: 'trap' }),
    );
    expect(() =>
      imports['[method]output-stream.blocking-write-and-flush'](stdout, new Uint8Array(4097)),
    ).toThrow(expect.objectContaining({ code: 'trap' }));
    expect(() => imports['[method]output-stream.write-zeroes'](stdout, 1n << 60n)).toThrow(
      expect.objectContaining({ code: 'trap' }),
    );
    expect(imports['[method]output-stream.blocking-splice'](stdout, stdin, 10n)).toEqual({
      tag: 'err',
      val: { tag: 'closed' },
    });
    expect(imports['[method]input-stream.blocking-read'](stdin, 10n)).toEqual({
      tag: 'err',
      val: { tag: 'closed' },
    });
    expect(seen.stdout).toEqual(['ok']);
  });

  it('makes a clock pollable ready only once its instant has come; poll returns the ready indexes', () => {
    const imports = wasiImports({ monotonicClock: FIXED_MONOTONIC });
    const clock = iface(imports, 'wasi:clocks/monotonic-clock');
    const poll = iface(imports, 'wasi:io/poll');
    const later = clock['subscribe-duration'](10_000_000_000n);
    expect(poll['[method]pollable.ready'](later)).toBe(false);
    expect(poll.poll([later, clock['subscribe-instant'](0n), later])).toEqual([1]);
    expect(() => poll.poll([])).toThrow(expect.objectContaining({ code: 'trap' }));
    expect(clock.now()).toBe(42_000_000_123n);
  });

  it('reports no terminal, no working directory and only the given arguments', () => {
    const imports = wasiImports({ args: ['prog', '--flag'] });
    const env = iface(imports, 'wasi:cli/environment');
    expect(env['get-arguments']()).toEqual(['prog', '--flag']);
    expect(env['get-environment']()).toEqual([]);
    expect(env['initial-cwd']()).toBeUndefined();
    expect(iface(imports, 'wasi:cli/terminal-stdout')['get-terminal-stdout']()).toBeUndefined();
  });

  it('emits a partial last line and never splits a surrogate pair when cutting a line', () => {
    const { options, seen } = recording({ limits: { maxLineChars: 3 } });
    const wasi = createWasi(options);
    const streams = wasi.imports['wasi:io/streams@0.2'] as Record<string, Fn>;
    const stdout = (wasi.imports['wasi:cli/stdout@0.2'] as Record<string, Fn>)['get-stdout']();
    const write = (text: string) =>
      streams['[method]output-stream.write'](stdout, new TextEncoder().encode(text));
    write('ab😀cd\nxy\r\n');
    write('tail');
    // invalid UTF-8 becomes U+FFFD
    streams['[method]output-stream.write'](stdout, new Uint8Array([0x0a, 0xff, 0x41]));
    wasi.endCall();
    expect(seen.stdout).toEqual(['ab…', 'xy', 'tai…', '\uFFFDA']);
  });
});
