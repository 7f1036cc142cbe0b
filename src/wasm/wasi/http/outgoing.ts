/**
 * The client side of `wasi:http/types` that the guest fills in: `outgoing-request`, its
 * `outgoing-body` and `request-options`. Data only: `outgoing-handler.handle`
 * (outgoing-handler.ts) sends it. The body the guest writes is kept here, up to a limit, and
 * sent whole once the guest finishes it (the bridge thread sends a request in one piece).
 */

import { OK_EMPTY, ok, type Result } from '../values.js';
import { type Fields, validName } from './fields.js';
import { type Method, methodName, methodOf, type Scheme } from './request.js';
import { OutgoingBody, type ResponseTarget } from './response.js';

const UNIT_ERR = Object.freeze({ tag: 'err' }) as Result<never, undefined>;

/**
 * Where an outgoing request's body goes: kept in memory until `finish`. The `OutgoingBody`
 * class is the response's, writing to this as its target.
 */
export class RequestBodyBuffer implements ResponseTarget {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  private listener: (() => void) | undefined;
  finished = false;

  constructor(private readonly maxBytes: number) {}

  start(): void {}

  write(bytes: Uint8Array): void {
    if (this.size + bytes.length > this.maxBytes) {
      throw new Error(`the request body is over the ${this.maxBytes}-byte limit`);
    }
    this.size += bytes.length;
    // The stream's caller may reuse its buffer.
    this.chunks.push(bytes.slice());
  }

  end(): void {
    // Note: request trailers are not sent (the bridge sends a request in one piece).
    this.finished = true;
    this.listener?.();
  }

  /** Calls `listener` once the body is finished (at once if it is). */
  whenFinished(listener: () => void): void {
    if (this.finished) listener();
    else this.listener = listener;
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

/** The host object behind an `outgoing-request` handle. */
export class OutgoingRequest {
  method: Method = { tag: 'get' };
  pathWithQuery: string | undefined;
  scheme: Scheme | undefined;
  authority: string | undefined;
  /** Set once the guest asked for the body. */
  bodyBuffer: RequestBodyBuffer | undefined;

  constructor(
    readonly fields: Fields,
    private readonly permit: number,
    /** The largest request body kept for sending. */
    private readonly maxBodyBytes: number = 16 * 1024 * 1024,
  ) {}

  setMethod(method: Method): Result<undefined, undefined> {
    const name = methodName(method);
    if (!validName(name)) return UNIT_ERR;
    this.method = methodOf(name);
    return OK_EMPTY;
  }

  takeBody(): Result<OutgoingBody, undefined> {
    if (this.bodyBuffer !== undefined) return UNIT_ERR;
    this.bodyBuffer = new RequestBodyBuffer(this.maxBodyBytes);
    const body = new OutgoingBody(undefined, this.permit);
    body.attach(this.bodyBuffer);
    return ok(body);
  }
}

/** The host object behind a `request-options` handle: timeouts in nanoseconds, as the WIT has them. */
export class RequestOptions {
  connectTimeout: bigint | undefined;
  firstByteTimeout: bigint | undefined;
  /** Kept for the guest to read back; not applied (the bridge reads the body in one go). */
  betweenBytesTimeout: bigint | undefined;
}
