// wasi:sockets (ip-name-lookup, tcp, udp) and the osl socket thread under it, without a
// component: the host functions called as the engine would call them, against servers in a
// child process (this thread blocks while it waits, so they cannot share its event loop).
// Runs against dist/ (built by `npm test` before vitest): the socket thread loads compiled JS.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../dist/osl/audit/audit-log.js';
import { socketThreadStats, theBridge } from '../../dist/osl/node/sync-socket-bridge.js';
import { hasJspi } from '../../dist/shared/node-runtime.js';
import { bindCallBudget, type CallBudget, retryAfterSuspension } from '../../dist/wasm/engine/call-budget.js';
import { Engine } from '../../dist/wasm/engine/engine.js';
import { createWasi } from '../../dist/wasm/wasi/index.js';
import type { WasiOptions, WasiSocketsOptions } from '../../dist/wasm/wasi/options.js';
import { ROOT } from '../support/fixtures.js';
import { manifestWith } from '../support/manifest.js';
import { socketsProbe } from '../support/sockets-probe.js';

// echo: writes back what it reads, ends when the client ends. silent: accepts, never writes.
// deaf: accepts and never reads. refused: a port nothing listens on any more.
const SERVERS = `
const net = require('node:net');
const listen = (server) => new Promise((r) => server.listen(0, '127.0.0.1', () => r(server.address().port)));
(async () => {
  const echo = await listen(net.createServer({ allowHalfOpen: true }, (s) => { s.on('data', (d) => s.write(d)); s.on('end', () => s.end()); s.on('error', () => {}); }));
  const silent = await listen(net.createServer((s) => { s.on('error', () => {}); }));
  const deaf = await listen(net.createServer((s) => { s.pause(); s.on('error', () => {}); }));
  const gone = net.createServer();
  const refused = await listen(gone);
  await new Promise((r) => gone.close(r));
  // udpEcho: sends each datagram back; udpRelay: sends it back from another socket (another port).
  const dgram = require('node:dgram');
  const bind = (socket) => new Promise((r) => socket.bind(0, '127.0.0.1', () => r(socket.address().port)));
  const uecho = dgram.createSocket('udp4');
  uecho.on('message', (m, from) => uecho.send(m, from.port, from.address));
  const other = dgram.createSocket('udp4');
  const relay = dgram.createSocket('udp4');
  relay.on('message', (m, from) => other.send(m, from.port, from.address));
  const [udpEcho, , udpRelay] = [await bind(uecho), await bind(other), await bind(relay)];
  console.log(JSON.stringify({ echo, silent, deaf, refused, udpEcho, udpRelay }));
})();
`;

let child: ChildProcess;
let ports: { echo: number; silent: number; deaf: number; refused: number; udpEcho: number; udpRelay: number };

beforeAll(async () => {
  child = spawn(process.execPath, ['-e', SERVERS], { stdio: ['ignore', 'pipe', 'inherit'] });
  ports = JSON.parse(
    await new Promise<string>((r) => child.stdout?.once('data', (d: Buffer) => r(d.toString()))),
  );
});

afterAll(() => {
  child?.kill();
});

type Fn = (...args: unknown[]) => any;
type Result = { tag: 'ok' | 'err'; val?: any };

const LOOPBACK = { tag: 'ipv4', val: [127, 0, 0, 1] } as const;
const at = (port: number, address: readonly number[] = [127, 0, 0, 1]) => ({
  tag: 'ipv4',
  val: { port, address },
});
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

/** The WASI world of one instance with `sockets`, and what it reported. */
function world(sockets: WasiSocketsOptions | undefined, extra: WasiOptions = {}) {
  const denied: [string, string, string][] = [];
  const audit: AuditRecord[] = [];
  const wasi = createWasi({
    ...extra,
    sockets: sockets === undefined ? undefined : { ...sockets, onAudit: (r) => audit.push(r) },
    onDenied: (op, subject, reason) => denied.push([op, subject, reason]),
  });
  const iface = (name: string) => wasi.imports[name] as Record<string, Fn>;
  const tcp = iface('wasi:sockets/tcp@0.2');
  const m = (name: string) => tcp[`[method]tcp-socket.${name}`];
  const lookup = iface('wasi:sockets/ip-name-lookup@0.2');
  const io = iface('wasi:io/streams@0.2');
  const poll = iface('wasi:io/poll@0.2');
  const network = iface('wasi:sockets/instance-network@0.2')['instance-network']();
  const block = (pollable: unknown) => poll['[method]pollable.block'](pollable);

  const api = {
    wasi,
    denied,
    audit,
    network,
    tcp: m,
    io,
    poll,
    iface,
    block,
    socket(family = 'ipv4') {
      const made = iface('wasi:sockets/tcp-create-socket@0.2')['create-tcp-socket'](family) as Result;
      expect(made.tag).toBe('ok');
      return made.val;
    },
    /** start-connect, then finish-connect until it stops answering would-block. */
    connect(socket: unknown, address: unknown): Result {
      const started = m('start-connect')(socket, network, address) as Result;
      if (started.tag === 'err') return started;
      for (;;) {
        const finished = m('finish-connect')(socket) as Result;
        if (finished.tag === 'ok' || finished.val !== 'would-block') return finished;
        block(m('subscribe')(socket));
      }
    },
    /** Every address `name` resolves to, or the error code. */
    resolve(name: string): string[] | string {
      const stream = lookup['resolve-addresses'](network, name) as Result;
      if (stream.tag === 'err') return stream.val;
      const out: string[] = [];
      for (;;) {
        const next = lookup['[method]resolve-address-stream.resolve-next-address'](stream.val) as Result;
        if (next.tag === 'err' && next.val === 'would-block') {
          block(lookup['[method]resolve-address-stream.subscribe'](stream.val));
          continue;
        }
        if (next.tag === 'err') return next.val;
        if (next.val === undefined) return out;
        out.push(next.val.tag === 'ipv4' ? next.val.val.join('.') : next.val.val.join(':'));
      }
    },
    write(output: unknown, bytes: Uint8Array) {
      expect(io['[method]output-stream.blocking-write-and-flush'](output, bytes)).toEqual({ tag: 'ok' });
    },
    /** Reads until `n` bytes came (or the stream closed). */
    readExactly(input: unknown, n: number): Uint8Array {
      const chunks: Uint8Array[] = [];
      let got = 0;
      while (got < n) {
        const r = io['[method]input-stream.blocking-read'](input, BigInt(n - got)) as Result;
        if (r.tag === 'err') break;
        chunks.push(r.val);
        got += r.val.length;
      }
      return Buffer.concat(chunks);
    },
  };
  return api;
}

const echoGrants = (): WasiSocketsOptions => ({
  network: { outbound: [`127.0.0.1:${ports.echo}`], addresses: ['127.0.0.1'] },
});

/** Waits (this thread blocked) until the socket thread holds `count` objects, or 2 s passed. */
function threadHolds(count: number): number {
  const until = performance.now() + 2000;
  for (;;) {
    const stats = socketThreadStats();
    const held = (stats?.sockets ?? -1) + (stats?.listeners ?? 0);
    if (held === count || performance.now() > until) return held;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

describe('wasi:sockets linking', () => {
  it('is not linked without options.sockets, so a component importing it fails to link', () => {
    const keys = Object.keys(createWasi({}).imports);
    expect(keys.some((k) => k.startsWith('wasi:sockets/'))).toBe(false);
    const linked = Object.keys(createWasi({ sockets: {} }).imports).filter((k) =>
      k.startsWith('wasi:sockets/'),
    );
    expect(linked.sort()).toEqual(
      [
        'instance-network',
        'ip-name-lookup',
        'network',
        'tcp',
        'tcp-create-socket',
        'udp',
        'udp-create-socket',
      ]
        .map((i) => `wasi:sockets/${i}@0.2`)
        .sort(),
    );
  });

  it('provides every function of the wasi:sockets 0.2 WIT (checked against jco 0.2.12 WIT)', () => {
    const wit = readFileSync(
      join(ROOT, 'node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12/wasi-sockets/package.wit'),
      'utf8',
    ).replace(/\/\/.*$/gm, '');
    const imports = createWasi({ sockets: {} }).imports;
    const expected: string[] = [];
    for (const m of wit.matchAll(/^interface ([\w-]+) \{([\s\S]*?)^\}/gm)) {
      const [, name, body] = m;
      let resource: string | undefined;
      for (const line of body.split('\n')) {
        const open = /^\s*resource ([\w-]+) \{/.exec(line);
        if (open) resource = open[1];
        else if (/^\s*\}/.test(line)) resource = undefined;
        const fn = /^\s*%?([\w-]+): func/.exec(line);
        if (fn)
          expected.push(
            `wasi:sockets/${name}#${resource === undefined ? fn[1] : `[method]${resource}.${fn[1]}`}`,
          );
      }
    }
    expect(expected.length).toBeGreaterThan(50);
    const missing = expected.filter((e) => {
      const [name, fn] = e.split('#');
      return typeof (imports[`${name}@0.2`] as Record<string, unknown> | undefined)?.[fn] !== 'function';
    });
    expect(missing).toEqual([]);
  });

  it('refuses a malformed grant when the imports are made (invalid-argument)', () => {
    expect(() => createWasi({ sockets: { network: { listen: ['*.example.com:80'] } } })).toThrow(
      /network.listen/,
    );
  });
});

describe('wasi:sockets/ip-name-lookup', () => {
  it('resolves a granted name through the socket thread', () => {
    const w = world({ network: { outbound: ['localhost:*'], addresses: ['127.0.0.1', '::1'] } });
    const addresses = w.resolve('localhost');
    expect(Array.isArray(addresses)).toBe(true);
    expect(addresses).toContain('127.0.0.1');
    expect(w.audit.map((r) => [r.operation, r.subject, r.decision])).toEqual([
      ['net.lookup', 'localhost', 'allow'],
    ]);
  });

  it('refuses a name no grant covers with access-denied, reported to onDenied and the audit', () => {
    const w = world({ network: { outbound: ['api.example.com:443'] } });
    expect(w.resolve('localhost')).toBe('access-denied');
    expect(w.denied).toHaveLength(1);
    expect(w.denied[0][0]).toBe('wasi.sockets.ip-name-lookup.resolve-addresses');
    expect(w.denied[0][1]).toBe('localhost');
    expect(w.denied[0][2]).toMatch(/no network grant covers localhost/);
    expect(w.audit.map((r) => r.decision)).toEqual(['deny']);
  });

  it('refuses a granted name that resolves to loopback unless the address is granted too', () => {
    const w = world({ network: { outbound: ['localhost:*'] } });
    expect(w.resolve('localhost')).toBe('access-denied');
    expect(w.denied[0][2]).toMatch(/loopback/);
  });

  it('answers name-unresolvable for a name that does not resolve', () => {
    const w = world({ network: { outbound: ['no-such-host.invalid:*'] } });
    expect(w.resolve('no-such-host.invalid')).toBe('name-unresolvable');
  });

  it('returns an IP literal as its own answer without a lookup or a grant; refuses a malformed name', () => {
    const w = world({});
    expect(w.resolve('127.0.0.1')).toEqual(['127.0.0.1']);
    expect(w.resolve('[::1]')).toEqual(['0:0:0:0:0:0:0:1']);
    expect(w.resolve('')).toBe('invalid-argument');
    expect(w.resolve('a b')).toBe('invalid-argument');
    expect(w.denied).toEqual([]);
  });

  it('answers would-block until the thread has answered; the pollable is ready once it has', () => {
    const w = world({ network: { outbound: ['localhost:*'], addresses: ['127.0.0.1'] } });
    const lookup = w.iface('wasi:sockets/ip-name-lookup@0.2');
    const stream = lookup['resolve-addresses'](w.network, 'localhost').val;
    const next = () => lookup['[method]resolve-address-stream.resolve-next-address'](stream);
    const pollable = lookup['[method]resolve-address-stream.subscribe'](stream);
    // Note: a fast resolver may have answered already (the thread works while this one runs).
    const first = next();
    if (first.tag === 'err') {
      expect(first.val).toBe('would-block');
      w.block(pollable);
    }
    expect(w.poll['[method]pollable.ready'](pollable)).toBe(true);
    expect(first.tag === 'ok' ? first : next()).toEqual({ tag: 'ok', val: LOOPBACK });
  });
});

describe('wasi:sockets/tcp client', () => {
  it('connects to a granted address and echoes bytes both ways through wasi:io streams', () => {
    const w = world(echoGrants());
    const socket = w.socket();
    const connected = w.connect(socket, at(ports.echo));
    expect(connected.tag).toBe('ok');
    const [input, output] = connected.val;
    w.write(output, Buffer.from('hello over wasi:sockets'));
    expect(text(w.readExactly(input, 23))).toBe('hello over wasi:sockets');
    expect(w.tcp('remote-address')(socket)).toEqual({ tag: 'ok', val: at(ports.echo) });
    const local = w.tcp('local-address')(socket);
    expect(local.val.val.address).toEqual([127, 0, 0, 1]);
    expect(local.val.val.port).toBeGreaterThan(0);
    expect(w.audit.map((r) => [r.operation, r.subject, r.decision])).toEqual([
      ['net.connect', `127.0.0.1:${ports.echo}`, 'allow'],
    ]);
    socket[Symbol.dispose]();
  });

  it('reads return what is there: nothing before the echo arrives, then the bytes', () => {
    const w = world(echoGrants());
    const socket = w.socket();
    const [input, output] = w.connect(socket, at(ports.echo)).val;
    expect(w.io['[method]input-stream.read'](input, 100n)).toEqual({ tag: 'ok', val: new Uint8Array(0) });
    const pollable = w.io['[method]input-stream.subscribe'](input);
    expect(w.poll['[method]pollable.ready'](pollable)).toBe(false);
    w.write(output, Buffer.from('x'));
    w.block(pollable);
    expect(text(w.io['[method]input-stream.read'](input, 100n).val)).toBe('x');
    socket[Symbol.dispose]();
  });

  it('answers connection-refused when nothing listens', () => {
    const w = world({ network: { outbound: [`127.0.0.1:${ports.refused}`], addresses: ['127.0.0.1'] } });
    expect(w.connect(w.socket(), at(ports.refused))).toEqual({ tag: 'err', val: 'connection-refused' });
  });

  it('refuses an address the grants do not allow with access-denied, reported to onDenied and the audit', () => {
    // The host:port is granted, the loopback address is not (strict mode).
    const w = world({ network: { outbound: [`127.0.0.1:${ports.echo}`] } });
    expect(w.connect(w.socket(), at(ports.echo))).toEqual({ tag: 'err', val: 'access-denied' });
    expect(w.denied).toHaveLength(1);
    expect(w.denied[0].slice(0, 2)).toEqual(['wasi.sockets.tcp.connect', `127.0.0.1:${ports.echo}`]);
    expect(w.denied[0][2]).toMatch(/loopback/);
    expect(w.audit.map((r) => [r.operation, r.decision])).toEqual([['net.connect', 'deny']]);
  });

  it('refuses a port the grants do not cover, and everything without grants', () => {
    const w = world({ network: { outbound: [`127.0.0.1:${ports.silent}`], addresses: ['127.0.0.1'] } });
    expect(w.connect(w.socket(), at(ports.echo))).toEqual({ tag: 'err', val: 'access-denied' });
    expect(w.denied[0][2]).toMatch(/no network grant covers/);
    const none = world({});
    expect(none.connect(none.socket(), at(ports.echo))).toEqual({ tag: 'err', val: 'access-denied' });
  });

  it('judges a connect to a looked-up address as a connect to the name', () => {
    const grants = { network: { outbound: [`localhost:${ports.echo}`], addresses: ['127.0.0.1'] } };
    const before = world(grants);
    // Without the lookup, 127.0.0.1 is just an address no grant names.
    expect(before.connect(before.socket(), at(ports.echo))).toEqual({ tag: 'err', val: 'access-denied' });
    const w = world(grants);
    expect(w.resolve('localhost')).toContain('127.0.0.1');
    const socket = w.socket();
    expect(w.connect(socket, at(ports.echo)).tag).toBe('ok');
    expect(w.audit.map((r) => [r.operation, r.subject, r.decision])).toEqual([
      ['net.lookup', 'localhost', 'allow'],
      ['net.connect', `localhost:${ports.echo}`, 'allow'],
    ]);
    socket[Symbol.dispose]();
  });

  it('stops a blocking read that waits past the call deadline with the budget (timeout)', () => {
    const w = world({ network: { outbound: [`127.0.0.1:${ports.silent}`], addresses: ['127.0.0.1'] } });
    const socket = w.socket();
    const [input] = w.connect(socket, at(ports.silent)).val;
    const expired = new Error('expired');
    const started = performance.now();
    const budget: CallBudget = {
      deadline: () => started + 200,
      expire: () => {
        throw expired;
      },
    };
    const read = bindCallBudget(w.io['[method]input-stream.blocking-read'], budget);
    expect(() => read(input, 10n)).toThrow(expired);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(195);
    expect(waited).toBeLessThan(1000);
    socket[Symbol.dispose]();
  });

  it('permits only what the send queue has room for: a peer that does not read stops the writes', () => {
    const w = world({ network: { outbound: [`127.0.0.1:${ports.deaf}`], addresses: ['127.0.0.1'] } });
    const socket = w.socket();
    const [, output] = w.connect(socket, at(ports.deaf)).val;
    const expired = new Error('expired');
    let total = 0;
    let stalled = false;
    const chunk = new Uint8Array(64 * 1024);
    while (total < 256 * 1024 * 1024) {
      const permit = Number(w.io['[method]output-stream.check-write'](output).val);
      if (permit === 0) {
        const pollable = w.io['[method]output-stream.subscribe'](output);
        const until = performance.now() + 300;
        const block = bindCallBudget(w.poll['[method]pollable.block'], {
          deadline: () => until,
          expire: () => {
            throw expired;
          },
        });
        try {
          block(pollable);
        } catch (error) {
          expect(error).toBe(expired);
          stalled = true;
          break;
        }
        continue;
      }
      // A write past the permit traps, as the WIT says.
      expect(() => w.io['[method]output-stream.write'](output, new Uint8Array(permit + 1))).toThrow(
        /permitted/,
      );
      expect(w.io['[method]output-stream.write'](output, chunk.subarray(0, permit))).toEqual({ tag: 'ok' });
      total += permit;
    }
    expect(stalled).toBe(true);
    // The kernel's buffers took some; the queue never took more than its room.
    expect(total).toBeGreaterThan(256 * 1024);
    expect(Number(w.io['[method]output-stream.check-write'](output).val)).toBe(0);
    socket[Symbol.dispose]();
  });

  it('moves a megabyte both ways intact, writing as check-write permits', () => {
    const w = world(echoGrants());
    const socket = w.socket();
    const [input, output] = w.connect(socket, at(ports.echo)).val;
    const data = new Uint8Array(1024 * 1024).map((_, i) => (i * 7) % 251);
    const received: Uint8Array[] = [];
    let sent = 0;
    let got = 0;
    while (got < data.length) {
      const permit = Number(w.io['[method]output-stream.check-write'](output).val);
      if (permit > 0 && sent < data.length) {
        const n = Math.min(permit, data.length - sent);
        expect(w.io['[method]output-stream.write'](output, data.subarray(sent, sent + n)).tag).toBe('ok');
        sent += n;
      }
      const r = w.io['[method]input-stream.read'](input, 65536n);
      expect(r.tag).toBe('ok');
      received.push(r.val);
      got += r.val.length;
      if (r.val.length === 0 && (permit === 0 || sent === data.length)) {
        w.poll.poll([
          w.io['[method]input-stream.subscribe'](input),
          w.io['[method]output-stream.subscribe'](output),
        ]);
      }
    }
    expect(Buffer.compare(Buffer.concat(received), Buffer.from(data))).toBe(0);
    socket[Symbol.dispose]();
  });

  it('shutdown(send) sends a FIN after the queued bytes: the echo ends, the input closes, writes fail', () => {
    const w = world(echoGrants());
    const socket = w.socket();
    const [input, output] = w.connect(socket, at(ports.echo)).val;
    w.write(output, Buffer.from('last words'));
    expect(w.tcp('shutdown')(socket, 'send')).toEqual({ tag: 'ok' });
    expect(text(w.readExactly(input, 10))).toBe('last words');
    expect(w.io['[method]input-stream.blocking-read'](input, 10n)).toEqual({
      tag: 'err',
      val: { tag: 'closed' },
    });
    const write = w.io['[method]output-stream.write'](output, Buffer.from('more'));
    expect(write.tag).toBe('err');
    expect(write.val.tag).toBe('last-operation-failed');
    const error = write.val.val;
    expect(w.iface('wasi:sockets/network@0.2')['network-error-code'](error)).toBe('connection-reset');
    socket[Symbol.dispose]();
  });

  it('frees the thread-side socket when the guest drops it (no leaked handles)', () => {
    const baseline = threadHolds(0);
    expect(baseline).toBe(0);
    const w = world(echoGrants());
    const sockets = [w.socket(), w.socket(), w.socket()];
    for (const s of sockets) expect(w.connect(s, at(ports.echo)).tag).toBe('ok');
    expect(threadHolds(3)).toBe(3);
    for (const s of sockets) s[Symbol.dispose]();
    expect(threadHolds(0)).toBe(0);
    // A socket dropped while connecting is destroyed when its connect settles.
    const pending = w.socket();
    expect(w.tcp('start-connect')(pending, w.network, at(ports.echo))).toEqual({ tag: 'ok' });
    pending[Symbol.dispose]();
    expect(threadHolds(0)).toBe(0);
  });

  it('stays up through hostile call sequences, answering typed errors', () => {
    const w = world(echoGrants());
    const s = w.socket();
    expect(w.tcp('finish-connect')(s)).toEqual({ tag: 'err', val: 'not-in-progress' });
    expect(w.tcp('finish-bind')(s)).toEqual({ tag: 'err', val: 'not-in-progress' });
    expect(w.tcp('finish-listen')(s)).toEqual({ tag: 'err', val: 'not-in-progress' });
    expect(w.tcp('accept')(s)).toEqual({ tag: 'err', val: 'invalid-state' });
    expect(w.tcp('start-listen')(s)).toEqual({ tag: 'err', val: 'invalid-state' });
    expect(w.tcp('remote-address')(s)).toEqual({ tag: 'err', val: 'invalid-state' });
    expect(w.tcp('local-address')(s)).toEqual({ tag: 'err', val: 'invalid-state' });
    expect(w.tcp('shutdown')(s, 'both')).toEqual({ tag: 'err', val: 'invalid-state' });
    expect(w.tcp('start-connect')(s, w.network, at(0))).toEqual({ tag: 'err', val: 'invalid-argument' });
    expect(w.tcp('start-connect')(s, w.network, at(ports.echo, [0, 0, 0, 0]))).toEqual({
      tag: 'err',
      val: 'invalid-argument',
    });
    expect(w.tcp('start-connect')(s, w.network, at(ports.echo, [224, 0, 0, 1]))).toEqual({
      tag: 'err',
      val: 'invalid-argument',
    });
    const v6 = {
      tag: 'ipv6',
      val: { port: ports.echo, flowInfo: 0, address: [0, 0, 0, 0, 0, 0, 0, 1], scopeId: 0 },
    };
    expect(w.tcp('start-connect')(s, w.network, v6)).toEqual({ tag: 'err', val: 'invalid-argument' });
    expect(w.tcp('set-keep-alive-idle-time')(s, 0n)).toEqual({ tag: 'err', val: 'invalid-argument' });
    expect(w.tcp('set-hop-limit')(s, 0)).toEqual({ tag: 'err', val: 'invalid-argument' });
    expect(w.tcp('set-listen-backlog-size')(s, 0n)).toEqual({ tag: 'err', val: 'invalid-argument' });
    // Two connects at once: the second conflicts; after it is connected, another is invalid.
    expect(w.tcp('start-connect')(s, w.network, at(ports.echo))).toEqual({ tag: 'ok' });
    expect(w.tcp('start-connect')(s, w.network, at(ports.echo))).toEqual({
      tag: 'err',
      val: 'concurrency-conflict',
    });
    expect(w.tcp('start-bind')(s, w.network, at(0))).toEqual({ tag: 'err', val: 'invalid-state' });
    w.block(w.tcp('subscribe')(s));
    const [input, output] = w.tcp('finish-connect')(s).val;
    expect(w.tcp('finish-connect')(s)).toEqual({ tag: 'err', val: 'not-in-progress' });
    expect(w.tcp('start-connect')(s, w.network, at(ports.echo))).toEqual({
      tag: 'err',
      val: 'invalid-state',
    });
    expect(w.tcp('start-listen')(s)).toEqual({ tag: 'err', val: 'invalid-state' });
    // The host is still serving: the connection works.
    w.write(output, Buffer.from('still here'));
    expect(text(w.readExactly(input, 10))).toBe('still here');
    // A socket whose connect failed is closed for good.
    const refused = world({
      network: { outbound: [`127.0.0.1:${ports.refused}`], addresses: ['127.0.0.1'] },
    });
    const r = refused.socket();
    expect(refused.connect(r, at(ports.refused)).val).toBe('connection-refused');
    expect(refused.tcp('start-connect')(r, refused.network, at(ports.refused))).toEqual({
      tag: 'err',
      val: 'invalid-state',
    });
    s[Symbol.dispose]();
    r[Symbol.dispose]();
  });

  it('keeps the options a guest sets, within the WIT ranges', () => {
    const w = world({});
    const s = w.socket();
    expect(w.tcp('address-family')(s)).toBe('ipv4');
    expect(w.tcp('is-listening')(s)).toBe(false);
    expect(w.tcp('keep-alive-enabled')(s)).toEqual({ tag: 'ok', val: false });
    expect(w.tcp('set-keep-alive-enabled')(s, true)).toEqual({ tag: 'ok' });
    expect(w.tcp('keep-alive-enabled')(s)).toEqual({ tag: 'ok', val: true });
    expect(w.tcp('set-keep-alive-idle-time')(s, 1_500_000_000n)).toEqual({ tag: 'ok' });
    expect(w.tcp('keep-alive-idle-time')(s)).toEqual({ tag: 'ok', val: 2_000_000_000n });
    expect(w.tcp('set-receive-buffer-size')(s, 1n << 40n)).toEqual({ tag: 'ok' });
    expect(w.tcp('receive-buffer-size')(s).val).toBe(1n << 31n);
    expect(w.tcp('set-hop-limit')(s, 12)).toEqual({ tag: 'ok' });
    expect(w.tcp('hop-limit')(s)).toEqual({ tag: 'ok', val: 12 });
  });

  it('answers new-socket-limit past maxSockets, and frees a slot when one is dropped', () => {
    const w = world({ maxSockets: 2 });
    const create = w.iface('wasi:sockets/tcp-create-socket@0.2')['create-tcp-socket'];
    const a = create('ipv4').val;
    create('ipv6');
    expect(create('ipv4')).toEqual({ tag: 'err', val: 'new-socket-limit' });
    a[Symbol.dispose]();
    expect(create('ipv4').tag).toBe('ok');
  });
});

describe('wasi:sockets on JSPI', () => {
  it('suspends instead of blocking: the waits resolve from the socket thread while the event loop runs', async () => {
    const w = world(echoGrants());
    const budget: CallBudget = {
      deadline: () => performance.now() + 5000,
      expire: () => {
        throw new Error('expired');
      },
      suspends: true,
    };
    const suspending = (fn: Fn) => retryAfterSuspension(bindCallBudget(fn, budget)) as Fn;
    const block = suspending(w.poll['[method]pollable.block']);
    const socket = w.socket();
    expect(w.tcp('start-connect')(socket, w.network, at(ports.echo))).toEqual({ tag: 'ok' });
    let connected = w.tcp('finish-connect')(socket);
    while (connected.val === 'would-block') {
      await block(w.tcp('subscribe')(socket));
      connected = w.tcp('finish-connect')(socket);
    }
    const [input, output] = connected.val;
    const read = suspending(w.io['[method]input-stream.blocking-read']);
    let done = false;
    const reading = read(input, 100n).then((r: Result) => {
      done = true;
      return r;
    });
    // Suspended, not blocked: timers run on this thread while the read waits for bytes not sent yet.
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(done).toBe(false);
    const flush = suspending(w.io['[method]output-stream.blocking-write-and-flush']);
    expect(await flush(output, Buffer.from('over jspi'))).toEqual({ tag: 'ok' });
    expect(text((await reading).val)).toBe('over jspi');
    socket[Symbol.dispose]();
  });
});

describe('wasi:sockets/tcp multicast', () => {
  it('refuses ff00::/8 as multicast (invalid-argument), but not 00ff::1, whose text starts with "ff"', () => {
    const w = world(echoGrants());
    const v6 = (first: number) => ({
      tag: 'ipv6',
      val: { port: 9, flowInfo: 0, address: [first, 0, 0, 0, 0, 0, 0, 1], scopeId: 0 },
    });
    const multicast = w.socket('ipv6');
    expect(w.tcp('start-connect')(multicast, w.network, v6(0xff02))).toEqual({
      tag: 'err',
      val: 'invalid-argument',
    });
    const unicast = w.socket('ipv6');
    expect(w.tcp('start-connect')(unicast, w.network, v6(0x00ff))).toEqual({ tag: 'ok' });
    for (const s of [multicast, unicast]) s[Symbol.dispose]();
  });
});

describe('wasi:sockets/tcp server', () => {
  it('binds, listens and accepts on a granted address, and the connection works both ways', () => {
    const w = world({
      network: { listen: ['127.0.0.1:*'], outbound: ['127.0.0.1:*'], addresses: ['127.0.0.1'] },
    });
    const server = w.socket();
    expect(w.tcp('start-bind')(server, w.network, at(0))).toEqual({ tag: 'ok' });
    expect(w.tcp('finish-bind')(server)).toEqual({ tag: 'ok' });
    expect(w.tcp('start-listen')(server)).toEqual({ tag: 'ok' });
    let listened = w.tcp('finish-listen')(server);
    while (listened.val === 'would-block') {
      w.block(w.tcp('subscribe')(server));
      listened = w.tcp('finish-listen')(server);
    }
    expect(listened).toEqual({ tag: 'ok' });
    expect(w.tcp('is-listening')(server)).toBe(true);
    const port = w.tcp('local-address')(server).val.val.port;
    expect(port).toBeGreaterThan(0);
    expect(w.tcp('accept')(server)).toEqual({ tag: 'err', val: 'would-block' });

    const client = w.socket();
    const [cin, cout] = w.connect(client, at(port)).val;
    w.block(w.tcp('subscribe')(server));
    const accepted = w.tcp('accept')(server);
    expect(accepted.tag).toBe('ok');
    const [peer, sin, sout] = accepted.val;
    expect(w.tcp('remote-address')(peer).val.val.port).toBe(w.tcp('local-address')(client).val.val.port);
    w.write(cout, Buffer.from('ping'));
    expect(text(w.readExactly(sin, 4))).toBe('ping');
    w.write(sout, Buffer.from('pong'));
    expect(text(w.readExactly(cin, 4))).toBe('pong');
    expect(w.audit.map((r) => [r.operation, r.decision])).toEqual([
      ['net.listen', 'allow'],
      ['net.connect', 'allow'],
    ]);
    for (const s of [peer, client, server]) s[Symbol.dispose]();
    expect(threadHolds(0)).toBe(0);
  });

  it('refuses to bind where no listen grant covers, with access-denied at start-bind', () => {
    const w = world({ network: { listen: ['127.0.0.1:8080'] } });
    const s = w.socket();
    expect(w.tcp('start-bind')(s, w.network, at(0))).toEqual({ tag: 'err', val: 'access-denied' });
    expect(w.tcp('start-bind')(s, w.network, at(8080, [0, 0, 0, 0]))).toEqual({
      tag: 'err',
      val: 'access-denied',
    });
    expect(w.denied.map((d) => d[0])).toEqual(['wasi.sockets.tcp.start-bind', 'wasi.sockets.tcp.start-bind']);
    expect(w.denied[0][2]).toMatch(/no listen grant covers 127.0.0.1:0/);
    expect(w.tcp('start-bind')(s, w.network, at(8080))).toEqual({ tag: 'ok' });
  });

  it('reports an address in use at finish-listen', () => {
    const w = world({ network: { listen: ['127.0.0.1:*'] } });
    const s = w.socket();
    w.tcp('start-bind')(s, w.network, at(ports.echo));
    w.tcp('finish-bind')(s);
    w.tcp('start-listen')(s);
    let listened = w.tcp('finish-listen')(s);
    while (listened.val === 'would-block') {
      w.block(w.tcp('subscribe')(s));
      listened = w.tcp('finish-listen')(s);
    }
    expect(listened).toEqual({ tag: 'err', val: 'address-in-use' });
  });
});

describe('wasi:sockets/udp', () => {
  const udpWorld = (network: WasiSocketsOptions['network']) => {
    const w = world({ network });
    const udp = w.iface('wasi:sockets/udp@0.2');
    const u = (name: string) => udp[`[method]udp-socket.${name}`];
    const incoming = (name: string) => udp[`[method]incoming-datagram-stream.${name}`];
    const outgoing = (name: string) => udp[`[method]outgoing-datagram-stream.${name}`];
    return {
      ...w,
      u,
      incoming,
      outgoing,
      create: () => w.iface('wasi:sockets/udp-create-socket@0.2')['create-udp-socket']('ipv4').val,
      /** start-bind and finish-bind, waiting on the pollable. */
      bind(socket: unknown, address: unknown): Result {
        const started = u('start-bind')(socket, w.network, address) as Result;
        if (started.tag === 'err') return started;
        for (;;) {
          const done = u('finish-bind')(socket) as Result;
          if (done.tag === 'ok' || done.val !== 'would-block') return done;
          w.block(u('subscribe')(socket));
        }
      },
      send(out: unknown, datagrams: { data: Uint8Array; remoteAddress?: unknown }[]): Result {
        outgoing('check-send')(out);
        return outgoing('send')(out, datagrams);
      },
      /** The next datagrams, waiting up to `ms` for them ([] if none came). */
      receive(inc: unknown, ms = 2000): { data: Uint8Array; remoteAddress: any }[] {
        const until = performance.now() + ms;
        const block = bindCallBudget(w.poll['[method]pollable.block'], {
          deadline: () => until,
          expire: () => {
            throw new Error('expired');
          },
        });
        try {
          block(incoming('subscribe')(inc));
        } catch {
          return [];
        }
        return incoming('receive')(inc, 16n).val;
      },
    };
  };
  const udpGrants = () => ({ outbound: [`127.0.0.1:${ports.udpEcho}`], addresses: ['127.0.0.1'] });

  it('binds an ephemeral port without a grant and exchanges datagrams with a granted peer', () => {
    const w = udpWorld(udpGrants());
    const s = w.create();
    expect(w.bind(s, at(0, [0, 0, 0, 0]))).toEqual({ tag: 'ok' });
    expect(w.u('local-address')(s).val.val.port).toBeGreaterThan(0);
    const [inc, out] = w.u('stream')(s, undefined).val;
    expect(Number(w.outgoing('check-send')(out).val)).toBeGreaterThan(0);
    expect(
      w.outgoing('send')(out, [{ data: Buffer.from('ping'), remoteAddress: at(ports.udpEcho) }]),
    ).toEqual({
      tag: 'ok',
      val: 1n,
    });
    const got = w.receive(inc);
    expect(got.map((d) => [text(d.data), d.remoteAddress])).toEqual([['ping', at(ports.udpEcho)]]);
    expect(w.audit.map((r) => [r.operation, r.subject, r.decision])).toEqual([
      ['net.datagram', `127.0.0.1:${ports.udpEcho}`, 'allow'],
    ]);
    s[Symbol.dispose]();
  });

  it('refuses a destination no grant covers with access-denied, sending nothing, and reports it', () => {
    const w = udpWorld({ outbound: [`127.0.0.1:${ports.udpEcho}`] }); // the loopback address is not granted
    const s = w.create();
    w.bind(s, at(0, [0, 0, 0, 0]));
    const [inc, out] = w.u('stream')(s, undefined).val;
    expect(w.send(out, [{ data: Buffer.from('x'), remoteAddress: at(ports.udpEcho) }])).toEqual({
      tag: 'err',
      val: 'access-denied',
    });
    expect(w.denied.map((d) => d.slice(0, 2))).toEqual([
      ['wasi.sockets.udp.send', `127.0.0.1:${ports.udpEcho}`],
    ]);
    expect(w.receive(inc, 200)).toEqual([]);
    // A peer given to stream is judged there.
    expect(w.u('stream')(s, at(ports.udpEcho))).toEqual({ tag: 'err', val: 'access-denied' });
    s[Symbol.dispose]();
  });

  it('keeps datagrams only from where the socket sent, unless a listen grant covers its address', () => {
    const relayed = udpGrants();
    relayed.outbound.push(`127.0.0.1:${ports.udpRelay}`);
    const w = udpWorld(relayed);
    const s = w.create();
    w.bind(s, at(0, [127, 0, 0, 1]));
    const [inc, out] = w.u('stream')(s, undefined).val;
    // The relay answers from another port, which this socket never sent to: dropped.
    expect(w.send(out, [{ data: Buffer.from('via relay'), remoteAddress: at(ports.udpRelay) }]).val).toBe(1n);
    expect(w.receive(inc, 300)).toEqual([]);
    s[Symbol.dispose]();

    const open = udpWorld({ ...relayed, listen: ['127.0.0.1:*'] });
    const o = open.create();
    open.bind(o, at(0, [127, 0, 0, 1]));
    const [oin, oout] = open.u('stream')(o, undefined).val;
    expect(open.send(oout, [{ data: Buffer.from('via relay'), remoteAddress: at(ports.udpRelay) }]).val).toBe(
      1n,
    );
    const got = open.receive(oin);
    expect(got.map((d) => text(d.data))).toEqual(['via relay']);
    expect(got[0].remoteAddress.val.port).not.toBe(ports.udpRelay);
    o[Symbol.dispose]();
  });

  it('sends to and receives from the peer given to stream', () => {
    const w = udpWorld(udpGrants());
    const s = w.create();
    w.bind(s, at(0, [0, 0, 0, 0]));
    const [inc, out] = w.u('stream')(s, at(ports.udpEcho)).val;
    expect(w.u('remote-address')(s)).toEqual({ tag: 'ok', val: at(ports.udpEcho) });
    expect(w.send(out, [{ data: Buffer.from('a') }, { data: Buffer.from('b') }])).toEqual({
      tag: 'ok',
      val: 2n,
    });
    const got: string[] = [];
    while (got.length < 2) {
      const batch = w.receive(inc);
      if (batch.length === 0) break;
      got.push(...batch.map((d) => text(d.data)));
    }
    expect(got.sort()).toEqual(['a', 'b']);
    // Another destination than the peer is refused by the WIT.
    expect(w.send(out, [{ data: Buffer.from('c'), remoteAddress: at(ports.udpRelay) }])).toEqual({
      tag: 'err',
      val: 'invalid-argument',
    });
    s[Symbol.dispose]();
  });

  it('stays up through hostile calls, and frees the thread-side socket on drop', () => {
    const before = threadHolds(0);
    const w = udpWorld({ ...udpGrants(), listen: ['127.0.0.1:9'] });
    const s = w.create();
    expect(w.u('finish-bind')(s)).toEqual({ tag: 'err', val: 'not-in-progress' });
    expect(w.u('stream')(s, undefined)).toEqual({ tag: 'err', val: 'invalid-state' });
    expect(w.u('local-address')(s)).toEqual({ tag: 'err', val: 'invalid-state' });
    expect(w.u('start-bind')(s, w.network, at(5353))).toEqual({ tag: 'err', val: 'access-denied' });
    expect(w.u('set-unicast-hop-limit')(s, 0)).toEqual({ tag: 'err', val: 'invalid-argument' });
    expect(w.bind(s, at(0))).toEqual({ tag: 'ok' });
    expect(w.u('start-bind')(s, w.network, at(0))).toEqual({ tag: 'err', val: 'invalid-state' });
    const [, out] = w.u('stream')(s, undefined).val;
    // Without check-send, send traps (as the WIT says); past its permit too.
    expect(() =>
      w.outgoing('send')(out, [{ data: Buffer.from('x'), remoteAddress: at(ports.udpEcho) }]),
    ).toThrow(/check-send permitted/);
    expect(w.send(out, [{ data: Buffer.from('x') }])).toEqual({ tag: 'err', val: 'invalid-argument' });
    expect(w.send(out, [{ data: new Uint8Array(70_000), remoteAddress: at(ports.udpEcho) }])).toEqual({
      tag: 'err',
      val: 'datagram-too-large',
    });
    expect(w.send(out, [{ data: Buffer.from('x'), remoteAddress: at(0) }])).toEqual({
      tag: 'err',
      val: 'invalid-argument',
    });
    // A new stream closes the old ones.
    const [, out2] = w.u('stream')(s, undefined).val;
    expect(w.outgoing('check-send')(out)).toEqual({ tag: 'err', val: 'invalid-state' });
    expect(w.send(out2, [{ data: Buffer.from('ok'), remoteAddress: at(ports.udpEcho) }])).toEqual({
      tag: 'ok',
      val: 1n,
    });
    expect(threadHolds(before + 1)).toBe(before + 1);
    s[Symbol.dispose]();
    expect(threadHolds(before)).toBe(before);
  });
});

/** Options that let a component reach 127.0.0.1:PORT (the loopback address granted unless told). */
const reach = (port: number, addresses = ['127.0.0.1']): WasiOptions => ({
  sockets: { network: { outbound: [`127.0.0.1:${port}`], addresses } },
});

describe('wasi:sockets in a component', () => {
  // A component, not direct calls: the engine's own lifting and lowering (test/support/sockets-probe.ts).
  const probe = async () => new Engine().compile(await socketsProbe(), manifestWith('probe'));

  it("connects through the engine's lowering, and answers refusals and failures as error codes", async () => {
    const component = await probe();
    const run = (port: number, options: WasiOptions) => {
      const outcome = component.instantiate(createWasi(options).imports).invoke('probe', [port]);
      expect(outcome.ok).toBe(true);
      return outcome.ok ? outcome.value : undefined;
    };
    const before = threadHolds(0);
    expect(run(ports.echo, reach(ports.echo))).toBe(0);
    expect(run(ports.echo, reach(ports.echo, []))).toBe(101);
    expect(run(ports.refused, reach(ports.refused))).toBe(114);
    // The guest dropped its socket: nothing is left on the thread.
    expect(threadHolds(before)).toBe(before);
  });

  it('links only when the embedder grants sockets: capability-denied otherwise', async () => {
    const component = await probe();
    expect(() => component.instantiate(createWasi({}).imports)).toThrow(
      expect.objectContaining({
        code: 'capability-denied',
        // The message says what would grant it.
        message: expect.stringMatching(
          /imports .*wasi:sockets.*granted by --allow-outbound or \[permissions\] network\.outbound/,
        ),
      }),
    );
  });

  it.runIf(hasJspi())('waits on JSPI without blocking the thread', async () => {
    const component = await probe();
    const instance = component.instantiate(createWasi(reach(ports.echo)).imports, { jspi: true });
    const outcome = await instance.invokeAsync('probe', [ports.echo]);
    expect(outcome).toMatchObject({ ok: true, value: 0 });
  });
});

describe('the socket thread dying', () => {
  it('fails what waits on it at once (a blocking read gets an error, not the deadline), and a new socket gets a new thread', async () => {
    const w = world(echoGrants());
    const socket = w.socket();
    const [input] = w.connect(socket, at(ports.echo)).val;
    await (theBridge() as unknown as { worker: Worker }).worker.terminate();
    const started = performance.now();
    const read = w.io['[method]input-stream.blocking-read'](input, 16n) as Result;
    expect(read.tag).toBe('err');
    expect(performance.now() - started).toBeLessThan(1000);
    socket[Symbol.dispose]();

    const again = w.socket();
    const [in2, out2] = w.connect(again, at(ports.echo)).val;
    w.write(out2, Buffer.from('still here'));
    expect(text(w.readExactly(in2, 10))).toBe('still here');
    again[Symbol.dispose]();
  });
});
