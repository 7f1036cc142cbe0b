/**
 * `wasi:http/types` and `wasi:http/outgoing-handler` as host functions, keyed by WIT name, with
 * the class of each resource beside them so that the engine accepts only the host's own objects
 * as those resources (the server passes an `IncomingRequest` and a `ResponseOutparam` into the
 * guest's `handle`). The semantics live in the resource classes; this file only maps WIT names
 * and checks `self`. Nothing here waits, so no function needs the call's budget (a guest waits
 * for a `future-incoming-response` through its pollable, in `wasi:io/poll`).
 */

import type { HostFunction, HostResourceClass } from '../../engine/link.js';
import { OK_EMPTY, type Result, self } from '../values.js';
import { Fields } from './fields.js';
import { FutureIncomingResponse, IncomingResponse } from './incoming-response.js';
import { OutgoingRequest, RequestOptions } from './outgoing.js';
import { FutureTrailers, IncomingBody, IncomingRequest, type Method, type Scheme } from './request.js';
import { type ErrorCode, OutgoingBody, OutgoingResponse, ResponseOutparam } from './response.js';

export type HttpInterface = Record<string, HostFunction | HostResourceClass>;

const where = (fn: string) => `wasi:http/types#${fn}`;

function on<T>(kind: abstract new (...args: any[]) => T, fn: string): (value: unknown) => T {
  return (value) => self(value, kind, where(fn));
}

const fields = on(Fields, '[method]fields');
const request = on(IncomingRequest, '[method]incoming-request');
const body = on(IncomingBody, '[method]incoming-body');
const trailers = on(FutureTrailers, '[method]future-trailers');
const response = on(OutgoingResponse, '[method]outgoing-response');
const outBody = on(OutgoingBody, '[method]outgoing-body');
const outRequest = on(OutgoingRequest, '[method]outgoing-request');
const options = on(RequestOptions, '[method]request-options');
const outparam = on(ResponseOutparam, '[static]response-outparam.set');

const inResponse = on(IncomingResponse, '[method]incoming-response');
const future = on(FutureIncomingResponse, '[method]future-incoming-response');

/**
 * The host functions of `wasi:http/types@0.2`. `maxWriteBytes` is the `check-write` permit of a
 * body's output stream.
 */
export function httpTypesInterface(maxWriteBytes: number): HttpInterface {
  return {
    fields: Fields,
    'incoming-request': IncomingRequest,
    'incoming-body': IncomingBody,
    'future-trailers': FutureTrailers,
    'outgoing-response': OutgoingResponse,
    'outgoing-body': OutgoingBody,
    'response-outparam': ResponseOutparam,
    'outgoing-request': OutgoingRequest,
    'request-options': RequestOptions,
    'incoming-response': IncomingResponse,
    'future-incoming-response': FutureIncomingResponse,

    'http-error-code': () => undefined,

    '[constructor]fields': () => Fields.empty(),
    '[static]fields.from-list': (entries: [string, Uint8Array][]) => Fields.fromList(entries),
    '[method]fields.get': (f: unknown, name: string) => fields(f).get(name),
    '[method]fields.has': (f: unknown, name: string) => fields(f).has(name),
    '[method]fields.set': (f: unknown, name: string, values: Uint8Array[]) => fields(f).set(name, values),
    '[method]fields.delete': (f: unknown, name: string) => fields(f).delete(name),
    '[method]fields.append': (f: unknown, name: string, value: Uint8Array) => fields(f).append(name, value),
    '[method]fields.entries': (f: unknown) => fields(f).entries(),
    '[method]fields.clone': (f: unknown) => fields(f).clone(),

    '[method]incoming-request.method': (r: unknown) => request(r).method(),
    '[method]incoming-request.path-with-query': (r: unknown) => request(r).pathWithQuery(),
    '[method]incoming-request.scheme': (r: unknown) => request(r).scheme(),
    '[method]incoming-request.authority': (r: unknown) => request(r).authority(),
    '[method]incoming-request.headers': (r: unknown) => request(r).headerFields,
    '[method]incoming-request.consume': (r: unknown) => request(r).consume(),

    '[method]incoming-body.stream': (b: unknown) => body(b).take(),
    '[static]incoming-body.finish': (b: unknown) => body(b).finish(),
    '[method]future-trailers.subscribe': (t: unknown) => trailers(t).subscribe(),
    '[method]future-trailers.get': (t: unknown) => trailers(t).get(),

    '[constructor]outgoing-response': (headers: unknown) =>
      new OutgoingResponse(fields(headers), maxWriteBytes),
    '[method]outgoing-response.status-code': (r: unknown) => response(r).statusCode(),
    '[method]outgoing-response.set-status-code': (r: unknown, status: number) =>
      response(r).setStatusCode(status),
    '[method]outgoing-response.headers': (r: unknown) => response(r).headers(),
    '[method]outgoing-response.body': (r: unknown) => response(r).takeBody(),
    '[method]outgoing-body.write': (b: unknown) => outBody(b).write(),
    '[static]outgoing-body.finish': (b: unknown, t: unknown) =>
      outBody(b).finish(t === undefined ? undefined : fields(t)),
    '[static]response-outparam.set': (p: unknown, r: Result<unknown, ErrorCode>) =>
      outparam(p).set(r.tag === 'ok' ? { tag: 'ok', val: response(r.val) } : r),

    '[constructor]outgoing-request': (headers: unknown) =>
      new OutgoingRequest(fields(headers), maxWriteBytes),
    '[method]outgoing-request.body': (r: unknown) => outRequest(r).takeBody(),
    '[method]outgoing-request.method': (r: unknown) => outRequest(r).method,
    '[method]outgoing-request.set-method': (r: unknown, m: Method) => outRequest(r).setMethod(m),
    '[method]outgoing-request.path-with-query': (r: unknown) => outRequest(r).pathWithQuery,
    '[method]outgoing-request.set-path-with-query': (r: unknown, p: string | undefined) => {
      outRequest(r).pathWithQuery = p;
      return OK_EMPTY;
    },
    '[method]outgoing-request.scheme': (r: unknown) => outRequest(r).scheme,
    '[method]outgoing-request.set-scheme': (r: unknown, s: Scheme | undefined) => {
      outRequest(r).scheme = s;
      return OK_EMPTY;
    },
    '[method]outgoing-request.authority': (r: unknown) => outRequest(r).authority,
    '[method]outgoing-request.set-authority': (r: unknown, a: string | undefined) => {
      outRequest(r).authority = a;
      return OK_EMPTY;
    },
    '[method]outgoing-request.headers': (r: unknown) => outRequest(r).fields.immutableView(),

    '[constructor]request-options': () => new RequestOptions(),
    '[method]request-options.connect-timeout': (o: unknown) => options(o).connectTimeout,
    '[method]request-options.set-connect-timeout': (o: unknown, d: bigint | undefined) => {
      options(o).connectTimeout = d;
      return OK_EMPTY;
    },
    '[method]request-options.first-byte-timeout': (o: unknown) => options(o).firstByteTimeout,
    '[method]request-options.set-first-byte-timeout': (o: unknown, d: bigint | undefined) => {
      options(o).firstByteTimeout = d;
      return OK_EMPTY;
    },
    '[method]request-options.between-bytes-timeout': (o: unknown) => options(o).betweenBytesTimeout,
    '[method]request-options.set-between-bytes-timeout': (o: unknown, d: bigint | undefined) => {
      options(o).betweenBytesTimeout = d;
      return OK_EMPTY;
    },

    '[method]incoming-response.status': (r: unknown) => inResponse(r).statusCode,
    '[method]incoming-response.headers': (r: unknown) => inResponse(r).headerFields,
    '[method]incoming-response.consume': (r: unknown) => inResponse(r).consume(),
    '[method]future-incoming-response.subscribe': (f: unknown) => future(f).subscribe(),
    '[method]future-incoming-response.get': (f: unknown) => future(f).get(),
  };
}
