/**
 * The client side of `wasi:http` — `outgoing-request`, `request-options` and
 * `outgoing-handler.handle` — as far as an incoming handler's imports need it. Toolchains link
 * it whether or not the guest sends requests (StarlingMonkey does, for `fetch`), so the
 * resources exist and hold what the guest sets, but `handle` refuses every request with
 * `HTTP-request-denied`: outbound HTTP goes through `airssys:ext-network/http`, where the
 * egress policy applies, never around it.
 */

import { err, OK_EMPTY, ok, type Result } from '../values.js';
import { type Fields, validName } from './fields.js';
import { type Method, methodName, methodOf, type Scheme } from './request.js';
import { type ErrorCode, OutgoingBody } from './response.js';

const UNIT_ERR = Object.freeze({ tag: 'err' }) as Result<never, undefined>;

/** The host object behind an `outgoing-request` handle: data only, never sent. */
export class OutgoingRequest {
  method: Method = { tag: 'get' };
  pathWithQuery: string | undefined;
  scheme: Scheme | undefined;
  authority: string | undefined;
  private body: OutgoingBody | undefined;

  constructor(
    readonly fields: Fields,
    private readonly permit: number,
  ) {}

  setMethod(method: Method): Result<undefined, undefined> {
    const name = methodName(method);
    if (!validName(name)) return UNIT_ERR;
    this.method = methodOf(name);
    return OK_EMPTY;
  }

  takeBody(): Result<OutgoingBody, undefined> {
    if (this.body !== undefined) return UNIT_ERR;
    this.body = new OutgoingBody(undefined, this.permit);
    return ok(this.body);
  }
}

/** The host object behind a `request-options` handle: the timeouts the guest sets, unused. */
export class RequestOptions {
  connectTimeout: bigint | undefined;
  firstByteTimeout: bigint | undefined;
  betweenBytesTimeout: bigint | undefined;
}

/** Never created (`handle` answers no request), declared so that the types link. */
export class IncomingResponse {}
export class FutureIncomingResponse {}

export const REQUEST_DENIED: Result<never, ErrorCode> = Object.freeze(err({ tag: 'HTTP-request-denied' }));
