// The host side of wasi:http/types called directly, as a guest would call it: fields (validation,
// case-insensitive names, immutability), the incoming request and body, and the outgoing
// response's order rules into an in-memory ResponseTarget. test/cli/serve.test.ts covers the
// same through a real component and real sockets.

import { describe, expect, it } from 'vitest';
import { Fields } from '../../src/wasm/wasi/http/fields.js';
import { outgoingHandlerInterface } from '../../src/wasm/wasi/http/outgoing-handler.js';
import { IncomingRequest, methodOf } from '../../src/wasm/wasi/http/request.js';
import { ResponseOutparam, type ResponseTarget } from '../../src/wasm/wasi/http/response.js';
import { httpTypesInterface } from '../../src/wasm/wasi/http/types-interface.js';

const b = (s: string) => new TextEncoder().encode(s);
const t = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const http = httpTypesInterface(4096) as Record<string, (...args: any[]) => any>;

function memoryTarget() {
  const events: string[] = [];
  const target: ResponseTarget = {
    start: (status, headers) =>
      events.push(`start ${status} ${headers.map(([n, v]) => `${n}=${v}`).join(',')}`),
    write: (bytes) => events.push(`write ${t(bytes)}`),
    end: (trailers) =>
      events.push(`end${trailers ? ` ${trailers.map(([n, v]) => `${n}=${v}`).join(',')}` : ''}`),
  };
  return { events, target };
}

describe('wasi:http fields', () => {
  it('from-list keeps order and case; get and has ignore case', () => {
    const made = Fields.fromList([
      ['Content-Type', b('text/plain')],
      ['x-a', b('1')],
      ['X-A', b('2')],
    ]);
    expect(made.tag).toBe('ok');
    const f = made.val as Fields;
    expect(f.get('x-a').map(t)).toEqual(['1', '2']);
    expect(f.has('CONTENT-TYPE')).toBe(true);
    expect(f.get('missing')).toEqual([]);
    expect(f.entries().map(([n, v]) => [n, t(v)])).toEqual([
      ['Content-Type', 'text/plain'],
      ['x-a', '1'],
      ['X-A', '2'],
    ]);
  });

  it('refuses names that are not tokens and values with CR, LF or NUL: invalid-syntax', () => {
    expect(Fields.fromList([['bad name', b('v')]])).toEqual({ tag: 'err', val: { tag: 'invalid-syntax' } });
    expect(Fields.fromList([['x', b('a\r\nset-cookie: evil')]])).toEqual({
      tag: 'err',
      val: { tag: 'invalid-syntax' },
    });
    const f = Fields.empty();
    expect(f.append('x', new Uint8Array([0x61, 0]))).toEqual({ tag: 'err', val: { tag: 'invalid-syntax' } });
    expect(f.set('x', [b('tab\tand obs-text \xff')]).tag).toBe('ok');
  });

  it('refuses hop-by-hop headers the host owns: forbidden', () => {
    for (const name of ['Connection', 'transfer-encoding', 'Host', 'upgrade', 'keep-alive']) {
      expect(Fields.fromList([[name, b('x')]])).toEqual({ tag: 'err', val: { tag: 'forbidden' } });
    }
  });

  it('set replaces every value of a name, delete removes them, append adds one', () => {
    const f = Fields.empty();
    f.append('a', b('1'));
    f.append('A', b('2'));
    f.set('a', [b('3'), b('4')]);
    expect(f.get('a').map(t)).toEqual(['3', '4']);
    f.delete('A');
    expect(f.has('a')).toBe(false);
  });

  it("a request's headers and a response's headers() are immutable; clone is a mutable copy", () => {
    const request = new IncomingRequest(
      {
        method: 'GET',
        pathWithQuery: '/',
        scheme: 'http',
        authority: 'x',
        headers: [['host', b('x')]],
        body: new Uint8Array(0),
      },
      1024,
    );
    const headers = http['[method]incoming-request.headers'](request) as Fields;
    expect(headers.append('x', b('1'))).toEqual({ tag: 'err', val: { tag: 'immutable' } });
    expect(headers.set('x', [])).toEqual({ tag: 'err', val: { tag: 'immutable' } });
    expect(headers.delete('host')).toEqual({ tag: 'err', val: { tag: 'immutable' } });
    const copy = headers.clone();
    expect(copy.append('x', b('1')).tag).toBe('ok');
    expect(headers.has('x')).toBe(false);

    const response = http['[constructor]outgoing-response'](Fields.empty());
    expect(http['[method]outgoing-response.headers'](response).append('x', b('1'))).toEqual({
      tag: 'err',
      val: { tag: 'immutable' },
    });
  });
});

describe('wasi:http incoming-request', () => {
  const data = {
    method: 'POST',
    pathWithQuery: '/echo?x=1',
    scheme: 'http' as const,
    authority: 'example.test:8080',
    headers: [['content-length', b('5')]] as [string, Uint8Array][],
    body: b('hello'),
    trailers: [['x-checksum', b('abc')]] as [string, Uint8Array][],
  };

  it('reports method, path, scheme and authority as the WIT variants', () => {
    const r = new IncomingRequest(data, 1024);
    expect(http['[method]incoming-request.method'](r)).toEqual({ tag: 'post' });
    expect(http['[method]incoming-request.path-with-query'](r)).toBe('/echo?x=1');
    expect(http['[method]incoming-request.scheme'](r)).toEqual({ tag: 'HTTP' });
    expect(http['[method]incoming-request.authority'](r)).toBe('example.test:8080');
    expect(methodOf('PURGE')).toEqual({ tag: 'other', val: 'PURGE' });
    expect(methodOf('get')).toEqual({ tag: 'other', val: 'get' });
  });

  it('consume and stream work once; the body reads to its end, then the trailers are ready', () => {
    const r = new IncomingRequest(data, 1024);
    const body = http['[method]incoming-request.consume'](r);
    expect(body.tag).toBe('ok');
    expect(http['[method]incoming-request.consume'](r).tag).toBe('err');
    const stream = http['[method]incoming-body.stream'](body.val);
    expect(http['[method]incoming-body.stream'](body.val).tag).toBe('err');
    expect(t(stream.val.read(100n).val)).toBe('hello');
    expect(stream.val.read(100n)).toEqual({ tag: 'err', val: { tag: 'closed' } });
    const future = http['[static]incoming-body.finish'](body.val);
    expect(http['[method]future-trailers.subscribe'](future).ready()).toBe(true);
    const got = http['[method]future-trailers.get'](future);
    expect(got.tag).toBe('ok');
    expect(t((got.val.val as Fields).get('x-checksum')[0])).toBe('abc');
    expect(http['[method]future-trailers.get'](future).tag).toBe('err');
  });
});

describe('wasi:http outgoing-response into a ResponseTarget', () => {
  it('bytes written before response-outparam.set wait for the head, then follow in order', () => {
    const { events, target } = memoryTarget();
    const headers = (Fields.fromList([['x-a', b('1')]]).val as Fields) ?? Fields.empty();
    const response = http['[constructor]outgoing-response'](headers);
    expect(http['[method]outgoing-response.set-status-code'](response, 99).tag).toBe('err');
    expect(http['[method]outgoing-response.set-status-code'](response, 201).tag).toBe('ok');
    const body = http['[method]outgoing-response.body'](response).val;
    expect(http['[method]outgoing-response.body'](response).tag).toBe('err');
    const stream = http['[method]outgoing-body.write'](body).val;
    stream.write(b('early '), 'write', { deadline: () => Number.POSITIVE_INFINITY, expire: () => undefined });
    expect(events).toEqual([]);
    const outparam = new ResponseOutparam(target);
    http['[static]response-outparam.set'](outparam, { tag: 'ok', val: response });
    stream.write(b('late'), 'write', { deadline: () => Number.POSITIVE_INFINITY, expire: () => undefined });
    const trailers = Fields.fromList([['x-t', b('z')]]).val;
    expect(http['[static]outgoing-body.finish'](body, trailers).tag).toBe('ok');
    expect(events).toEqual(['start 201 x-a=1', 'write early ', 'write late', 'end x-t=z']);
    expect(outparam.answer.kind).toBe('response');
  });

  it('a body shorter or longer than its content-length is refused', () => {
    const { target } = memoryTarget();
    const response = http['[constructor]outgoing-response'](
      Fields.fromList([['content-length', b('3')]]).val,
    );
    const body = http['[method]outgoing-response.body'](response).val;
    http['[static]response-outparam.set'](new ResponseOutparam(target), { tag: 'ok', val: response });
    const stream = http['[method]outgoing-body.write'](body).val;
    const budget = { deadline: () => Number.POSITIVE_INFINITY, expire: () => undefined };
    expect(stream.write(b('ab'), 'write', budget).tag).toBe('ok');
    expect(http['[static]outgoing-body.finish'](body, undefined)).toEqual({
      tag: 'err',
      val: { tag: 'HTTP-response-body-size', val: 2n },
    });
    expect(stream.write(b('cd'), 'write', budget).tag).toBe('err');
  });

  it('a response without a body() is sent empty; an error-code answer is recorded, not sent', () => {
    const { events, target } = memoryTarget();
    http['[static]response-outparam.set'](new ResponseOutparam(target), {
      tag: 'ok',
      val: http['[constructor]outgoing-response'](Fields.empty()),
    });
    expect(events).toEqual(['start 200 ', 'end']);
    const failed = new ResponseOutparam(memoryTarget().target);
    http['[static]response-outparam.set'](failed, { tag: 'err', val: { tag: 'internal-error' } });
    expect(failed.answer).toEqual({ kind: 'error', code: { tag: 'internal-error' } });
  });

  it('outgoing-handler answers a request without an authority HTTP-request-URI-invalid (see wasi-http-outgoing.test.ts)', () => {
    const request = http['[constructor]outgoing-request'](Fields.empty());
    expect((outgoingHandlerInterface().handle as (r: unknown) => unknown)(request)).toEqual({
      tag: 'err',
      val: { tag: 'HTTP-request-URI-invalid' },
    });
  });
});
