/**
 * The incoming side of `wasi:http/types`: `incoming-request`, its `incoming-body` and the
 * `future-trailers` the body's `finish` returns. The host reads the whole request (up to its
 * body limit) before the guest is called, so the body stream is an ordinary `input-stream` over
 * those bytes (always ready, `closed` at the end) and the trailers are ready at once.
 */

import { bytesSource } from '../byte-io.js';
import { ReadyPollable } from '../poll.js';
import { InputStream } from '../streams.js';
import { ok, type Result } from '../values.js';
import { Fields } from './fields.js';

/** The WIT `method` variant: the standard methods by name, anything else as `other`. */
export type Method = { tag: string; val?: string };
/** The WIT `scheme` variant. */
export type Scheme = { tag: 'HTTP' } | { tag: 'HTTPS' } | { tag: 'other'; val: string };

const METHODS = new Set(['get', 'head', 'post', 'put', 'delete', 'connect', 'options', 'trace', 'patch']);

export function methodOf(name: string): Method {
  const lower = name.toLowerCase();
  // Methods are case-sensitive on the wire: only the upper-case spelling is the standard one.
  return METHODS.has(lower) && name === name.toUpperCase() ? { tag: lower } : { tag: 'other', val: name };
}

/** The method as it goes on the wire: `GET` for `{ tag: 'get' }`. */
export function methodName(method: Method): string {
  return method.tag === 'other' ? (method.val ?? '') : method.tag.toUpperCase();
}

/** What the host read from the client: everything the guest may ask about the request. */
export interface RequestData {
  method: string;
  /** Origin form (`/hello?name=x`), as the request line had it. */
  pathWithQuery: string;
  scheme: 'http' | 'https';
  /** The `host` header, if any. */
  authority: string | undefined;
  headers: readonly (readonly [string, Uint8Array])[];
  body: Uint8Array;
  trailers?: readonly (readonly [string, Uint8Array])[];
}

const UNIT_ERR = Object.freeze({ tag: 'err' }) as Result<never, undefined>;

/** The host object behind an `incoming-request` handle. */
export class IncomingRequest {
  private body: IncomingBody | undefined;
  private consumed = false;
  readonly headerFields: Fields;

  constructor(
    private readonly data: RequestData,
    private readonly maxRead: number,
  ) {
    this.headerFields = Fields.received(data.headers);
  }

  method(): Method {
    return methodOf(this.data.method);
  }

  pathWithQuery(): string {
    return this.data.pathWithQuery;
  }

  scheme(): Scheme {
    return this.data.scheme === 'https' ? { tag: 'HTTPS' } : { tag: 'HTTP' };
  }

  authority(): string | undefined {
    return this.data.authority;
  }

  /** `consume`: the body, once; a second call is `err`, as the WIT says. */
  consume(): Result<IncomingBody, undefined> {
    if (this.consumed) return UNIT_ERR;
    this.consumed = true;
    this.body = new IncomingBody(this.data, this.maxRead);
    return ok(this.body);
  }
}

/** The host object behind an `incoming-body` handle. */
export class IncomingBody {
  private stream: InputStream | undefined;

  constructor(
    /** A request's body and trailers, or a response's (incoming-response.ts). */
    private readonly data: Pick<RequestData, 'body' | 'trailers'>,
    private readonly maxRead: number,
  ) {}

  /** `stream`: the body's bytes, once. */
  take(): Result<InputStream, undefined> {
    if (this.stream !== undefined) return UNIT_ERR;
    this.stream = new InputStream('incoming body', bytesSource(this.data.body), this.maxRead);
    return ok(this.stream);
  }

  finish(): FutureTrailers {
    return new FutureTrailers(
      this.data.trailers === undefined || this.data.trailers.length === 0
        ? undefined
        : Fields.received(this.data.trailers),
    );
  }
}

/** The host object behind a `future-trailers` handle: ready at once (the body was read whole). */
export class FutureTrailers {
  private taken = false;

  constructor(private readonly trailers: Fields | undefined) {}

  subscribe(): ReadyPollable {
    return new ReadyPollable('future-trailers');
  }

  /** `get`: `some(ok(ok(trailers?)))` the first time, `some(err)` after (the WIT's rule). */
  get(): Result<Result<Fields | undefined, never>, undefined> {
    if (this.taken) return UNIT_ERR;
    this.taken = true;
    return ok(ok(this.trailers));
  }
}
