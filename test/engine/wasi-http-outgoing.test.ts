// wasi:http/outgoing-handler and the osl bridge thread under it, without a component: the host
// functions called as the engine would call them, against an upstream server in a child process
// (this thread blocks while it waits, so the upstream cannot share its event loop).
// Runs against dist/ (built by `npm test` before vitest): the bridge thread loads compiled JS.

import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncHttpOutcome, SyncHttpRequest } from '../../dist/osl/node/sync-http-bridge.js';
import { sendSync } from '../../dist/osl/node/sync-http-bridge.js';
import { errorCodeOf } from '../../dist/wasm/wasi/http/error-code.js';
import { Fields } from '../../dist/wasm/wasi/http/fields.js';
import { outgoingHandlerInterface } from '../../dist/wasm/wasi/http/outgoing-handler.js';
import { httpTypesInterface } from '../../dist/wasm/wasi/http/types-interface.js';
import type { WasiOptions } from '../../dist/wasm/wasi/options.js';

const UPSTREAM = `
const http = require('node:http');
http.createServer((req, res) => {
  if (req.url === '/slow') { const t = setTimeout(() => res.end('late'), 3000); res.on('close', () => clearTimeout(t)); return; }
  if (req.url === '/big') { res.end(Buffer.alloc(4096, 97)); return; }
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => { res.writeHead(201, { 'x-upstream': 'yes' }); res.end('got ' + req.method + ' ' + req.url + ' ' + body); });
}).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
`;

let child: ChildProcess;
let port: number;

beforeAll(async () => {
  child = spawn(process.execPath, ['-e', UPSTREAM], { stdio: ['ignore', 'pipe', 'inherit'] });
  port = Number(await new Promise<string>((r) => child.stdout?.once('data', (d: Buffer) => r(d.toString()))));
});

afterAll(() => {
  child?.kill();
});

/** One exchange on the bridge, waited for on this thread. */
function exchange(request: Partial<SyncHttpRequest> & { url: string }): SyncHttpOutcome {
  const pending = sendSync({
    component: 'test',
    version: '0.0.0',
    grants: { network: { outbound: [] } },
    method: 'GET',
    headers: {},
    maxResponseBytes: 1 << 20,
    timeoutMs: 5000,
    ...request,
  });
  const until = performance.now() + 10_000;
  while (!pending.ready() && performance.now() < until) pending.wait(until);
  const outcome = pending.outcome();
  if (outcome === undefined) throw new Error('no outcome');
  return outcome;
}

const tagOf = (outcome: SyncHttpOutcome) => (outcome.ok ? 'ok' : errorCodeOf(outcome.error).tag);

describe('the synchronous HTTP bridge (osl)', () => {
  it('performs a granted request on its thread and returns status, headers and body', () => {
    const outcome = exchange({
      url: `http://127.0.0.1:${port}/x`,
      grants: { network: { outbound: [`127.0.0.1:${port}`], addresses: ['127.0.0.1'] } },
    });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.status).toBe(201);
    expect(outcome.headers['x-upstream']).toBe('yes');
    expect(Buffer.from(outcome.body).toString()).toBe('got GET /x ');
    expect(outcome.audit.map((r) => r.decision)).toEqual(['allow']);
  });

  it('refuses 127.0.0.1 when only the host:port is granted, not the address: HTTP-request-denied, audited deny', () => {
    const outcome = exchange({
      url: `http://127.0.0.1:${port}/x`,
      grants: { network: { outbound: [`127.0.0.1:${port}`] } },
    });
    expect(tagOf(outcome)).toBe('HTTP-request-denied');
    expect(outcome.audit).toMatchObject([
      { decision: 'deny', operation: 'net.fetch', code: 'capability-denied' },
    ]);
    expect(outcome.audit[0].reason).toMatch(/loopback/);
  });

  it('refuses a host no grant covers before any lookup: HTTP-request-denied', () => {
    const outcome = exchange({ url: 'http://api.example.com/' });
    expect(tagOf(outcome)).toBe('HTTP-request-denied');
    expect(outcome.audit[0].reason).toMatch(/no network grant covers api\.example\.com:80/);
  });

  it('a granted name that does not resolve is DNS-error', () => {
    const outcome = exchange({
      url: 'http://nothing.invalid/',
      grants: { network: { outbound: ['nothing.invalid:80'] } },
    });
    expect(outcome.ok ? undefined : errorCodeOf(outcome.error)).toMatchObject({ tag: 'DNS-error' });
  });

  it('nothing listening is connection-refused', () => {
    const outcome = exchange({
      url: 'http://127.0.0.1:1/',
      grants: { network: { outbound: ['127.0.0.1:1'], addresses: ['127.0.0.1'] } },
    });
    expect(tagOf(outcome)).toBe('connection-refused');
  });

  it('an upstream slower than the first-byte timeout is connection-read-timeout, on time', () => {
    const started = performance.now();
    const outcome = exchange({
      url: `http://127.0.0.1:${port}/slow`,
      grants: { network: { outbound: [`127.0.0.1:${port}`], addresses: ['127.0.0.1'] } },
      firstByteTimeoutMs: 150,
    });
    expect(tagOf(outcome)).toBe('connection-read-timeout');
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('a body over the limit is HTTP-response-body-size', () => {
    const outcome = exchange({
      url: `http://127.0.0.1:${port}/big`,
      grants: { network: { outbound: [`127.0.0.1:${port}`], addresses: ['127.0.0.1'] } },
      maxResponseBytes: 1000,
    });
    expect(outcome.ok ? undefined : errorCodeOf(outcome.error)).toEqual({
      tag: 'HTTP-response-body-size',
      val: 4096n,
    });
  });
});

type Fn = (...args: any[]) => any;
const types = httpTypesInterface(4096) as Record<string, Fn>;
const enc = new TextEncoder();

/** Sends `path` as the guest would (request, optional body, handle, poll, get) and returns the get. */
function guestRequest(wasi: WasiOptions, path: string, body?: string, options?: unknown): any {
  const handle = (outgoingHandlerInterface(wasi) as Record<string, Fn>).handle;
  const request = types['[constructor]outgoing-request'](Fields.empty());
  types['[method]outgoing-request.set-scheme'](request, { tag: 'HTTP' });
  types['[method]outgoing-request.set-authority'](request, `127.0.0.1:${port}`);
  types['[method]outgoing-request.set-path-with-query'](request, path);
  let outBody: unknown;
  if (body !== undefined) {
    types['[method]outgoing-request.set-method'](request, { tag: 'post' });
    outBody = types['[method]outgoing-request.body'](request).val;
  }
  const sent = handle(request, options);
  expect(sent.tag).toBe('ok');
  const future = sent.val;
  const pollable = types['[method]future-incoming-response.subscribe'](future);
  if (outBody !== undefined) {
    // Not sent before the body is finished.
    expect(pollable.ready()).toBe(false);
    const stream = types['[method]outgoing-body.write'](outBody).val;
    stream.write(enc.encode(body), 'test', { deadline: () => Number.POSITIVE_INFINITY });
    types['[static]outgoing-body.finish'](outBody, undefined);
  }
  const until = performance.now() + 10_000;
  while (!pollable.ready() && performance.now() < until) pollable.wait(until);
  const got = types['[method]future-incoming-response.get'](future);
  // The WIT's rule: a second get is some(err).
  expect(types['[method]future-incoming-response.get'](future)).toEqual({ tag: 'err' });
  return got;
}

describe('wasi:http/outgoing-handler over the bridge', () => {
  const grants = () => ({ outbound: [`127.0.0.1:${port}`], addresses: ['127.0.0.1'] });

  it('a granted GET resolves to an incoming-response whose body reads through an input-stream', () => {
    const got = guestRequest({ http: { network: grants() } }, '/hello?q=1');
    expect(got.tag).toBe('ok');
    expect(got.val.tag).toBe('ok');
    const response = got.val.val;
    expect(types['[method]incoming-response.status'](response)).toBe(201);
    const headers = types['[method]incoming-response.headers'](response);
    expect(new TextDecoder().decode(types['[method]fields.get'](headers, 'x-upstream')[0])).toBe('yes');
    const body = types['[method]incoming-response.consume'](response).val;
    expect(types['[method]incoming-response.consume'](response)).toEqual({ tag: 'err' });
    const stream = types['[method]incoming-body.stream'](body).val;
    const read = stream.read(1000n);
    expect(new TextDecoder().decode(read.val)).toBe('got GET /hello?q=1 ');
    expect(stream.read(1000n)).toEqual({ tag: 'err', val: { tag: 'closed' } });
  });

  it('sends the body the guest wrote once it is finished', () => {
    const got = guestRequest({ http: { network: grants() } }, '/post', 'payload');
    const body = types['[method]incoming-response.consume'](got.val.val).val;
    const stream = types['[method]incoming-body.stream'](body).val;
    expect(new TextDecoder().decode(stream.read(1000n).val)).toBe('got POST /post payload');
  });

  it('no grant: HTTP-request-denied, reported through onDenied and onAudit', () => {
    const denied: string[] = [];
    const audited: string[] = [];
    const got = guestRequest(
      {
        onDenied: (op, subject, reason) => denied.push(`${op} ${subject} ${reason}`),
        http: { onAudit: (record) => audited.push(record.decision) },
      },
      '/secret',
    );
    expect(got).toEqual({ tag: 'ok', val: { tag: 'err', val: { tag: 'HTTP-request-denied' } } });
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatch(
      /^wasi\.http\.outgoing-handler\.handle http:\/\/127\.0\.0\.1:\d+\/secret capability-denied: no network grant covers/,
    );
    expect(audited).toEqual(['deny']);
  });

  it("the host's deny rules beat the component's grant", () => {
    const got = guestRequest({ http: { network: grants(), deny: ['127.0.0.1:*'] } }, '/hello');
    expect(got).toEqual({ tag: 'ok', val: { tag: 'err', val: { tag: 'HTTP-request-denied' } } });
  });

  it("honours request-options' first-byte-timeout (nanoseconds)", () => {
    const options = types['[constructor]request-options']();
    types['[method]request-options.set-first-byte-timeout'](options, 100_000_000n);
    const got = guestRequest({ http: { network: grants() } }, '/slow', undefined, options);
    expect(got).toEqual({ tag: 'ok', val: { tag: 'err', val: { tag: 'connection-read-timeout' } } });
  });

  it('a response over http.maxResponseBodyBytes is HTTP-response-body-size', () => {
    const got = guestRequest({ http: { network: grants(), maxResponseBodyBytes: 100 } }, '/big');
    expect(got.val.val.tag).toBe('HTTP-response-body-size');
  });

  it('a malformed grant fails when the interface is built (link time), not per request', () => {
    expect(() => outgoingHandlerInterface({ http: { network: { outbound: ['http://x/'] } } })).toThrow(
      /network\.outbound\[0\]/,
    );
  });
});
