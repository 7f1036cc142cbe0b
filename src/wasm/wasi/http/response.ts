/**
 * The outgoing side of `wasi:http/types` for an incoming handler: `outgoing-response`, its
 * `outgoing-body` and the `response-outparam` the guest answers through. They write to a
 * `ResponseTarget`, the port a server implements over its connection (`server.ts`: Node's
 * `ServerResponse`); tests can use one in memory.
 *
 * Order, as the WIT allows it: the guest may write body bytes before it calls
 * `response-outparam.set`; they wait here until the status and headers are out, then go in
 * order. After `set`, every write goes straight to the target (streamed to the client as the
 * guest writes it); `outgoing-body.finish` ends the response, with its trailers if any.
 */

import type { ByteSink } from '../byte-io.js';
import { OutputStream } from '../streams.js';
import { err, OK_EMPTY, ok, type Result } from '../values.js';
import type { Fields } from './fields.js';

/** Where a response goes: one client's connection. */
export interface ResponseTarget {
  /** Sends the status line and the headers. Called at most once. */
  start(status: number, headers: [string, string][]): void;
  /** Sends body bytes; throws when they cannot be sent (client gone, too much buffered). */
  write(bytes: Uint8Array): void;
  /** Ends the response, with trailers (sent only on a chunked response). */
  end(trailers: [string, string][] | undefined): void;
}

/** The WIT `error-code` variant (only the cases the host itself produces are named here). */
export type ErrorCode = { tag: string; val?: unknown };

const UNIT_ERR = Object.freeze({ tag: 'err' }) as Result<never, undefined>;

/** The host object behind an `outgoing-body` handle. */
export class OutgoingBody {
  private stream: OutputStream | undefined;
  private pending: Uint8Array[] = [];
  private target: ResponseTarget | undefined;
  private written = 0;
  /** Why the target stopped taking bytes; later writes fail with it. */
  private broken: unknown;
  /** Set by `finish`: the trailers, or null for none. */
  private trailers: Fields | null | undefined;

  constructor(
    /** The `content-length` the headers announce, checked against what is written. */
    private readonly declaredLength: number | undefined,
    private readonly permit: number,
  ) {}

  get finished(): boolean {
    return this.trailers !== undefined;
  }

  /** `write`: the body's output stream, once. */
  write(): Result<OutputStream, undefined> {
    if (this.stream !== undefined || this.finished) return UNIT_ERR;
    const sink: ByteSink = { write: (bytes) => this.push(bytes) };
    this.stream = new OutputStream('response body', sink, this.permit);
    return ok(this.stream);
  }

  /** `finish`: the body is complete; `HTTP-response-body-size` when it is not what `content-length` said. */
  finish(trailers: Fields | undefined): Result<undefined, ErrorCode> {
    if (this.declaredLength !== undefined && this.written !== this.declaredLength) {
      return err({ tag: 'HTTP-response-body-size', val: BigInt(this.written) });
    }
    this.trailers = trailers ?? null;
    try {
      this.target?.end(this.trailers?.toNode());
    } catch (error) {
      // The head or the end could not go out (Node refused a header): the guest is told.
      return err({ tag: 'internal-error', val: error instanceof Error ? error.message : String(error) });
    }
    return OK_EMPTY;
  }

  /** The response's head is out: what was written so far follows, and then everything at once. */
  attach(target: ResponseTarget): void {
    this.target = target;
    try {
      for (const chunk of this.pending) target.write(chunk);
      if (this.finished) target.end(this.trailers?.toNode());
    } catch (error) {
      // Bytes the stream already took: the guest learns of it at its next write.
      this.broken = error;
    }
    this.pending = [];
  }

  private push(bytes: Uint8Array): void {
    if (this.broken !== undefined) throw this.broken;
    if (this.finished) throw new Error('the body was already finished');
    if (this.declaredLength !== undefined && this.written + bytes.length > this.declaredLength) {
      throw new Error(`more than the ${this.declaredLength} bytes content-length announced`);
    }
    this.written += bytes.length;
    // The stream's caller may reuse its buffer: keep a copy while it waits.
    if (this.target === undefined) this.pending.push(bytes.slice());
    else this.target.write(bytes);
  }
}

/** The host object behind an `outgoing-response` handle. */
export class OutgoingResponse {
  private status = 200;
  private body: OutgoingBody | undefined;

  constructor(
    readonly fields: Fields,
    private readonly permit: number,
  ) {}

  statusCode(): number {
    return this.status;
  }

  setStatusCode(status: number): Result<undefined, undefined> {
    if (status < 100 || status > 999) return UNIT_ERR;
    this.status = status;
    return OK_EMPTY;
  }

  /** `headers`: the response's fields, immutable (they were moved into the response). */
  headers(): Fields {
    return this.fields.immutableView();
  }

  /** `body`: once. */
  takeBody(): Result<OutgoingBody, undefined> {
    if (this.body !== undefined) return UNIT_ERR;
    this.body = new OutgoingBody(this.fields.decimal('content-length'), this.permit);
    return ok(this.body);
  }

  /** Sends the head; a body never asked for is empty. */
  send(target: ResponseTarget): OutgoingBody | undefined {
    target.start(this.status, this.fields.toNode());
    if (this.body === undefined) {
      // No body to report a failure through: the server sees the response unsent and answers 500.
      try {
        target.end(undefined);
      } catch {}
    } else this.body.attach(target);
    return this.body;
  }
}

/** How the guest answered, as the host needs to know it after the call. */
export type Answer =
  | { kind: 'none' }
  | { kind: 'response'; body: OutgoingBody | undefined }
  | { kind: 'error'; code: ErrorCode };

/** The host object behind a `response-outparam` handle. */
export class ResponseOutparam {
  answer: Answer = { kind: 'none' };

  constructor(private readonly target: ResponseTarget) {}

  set(response: Result<OutgoingResponse, ErrorCode>): void {
    if (response.tag === 'err') {
      // The guest's own error: the server answers it (a 500), the guest's details stay in the log.
      this.answer = { kind: 'error', code: response.val };
      return;
    }
    this.answer = { kind: 'response', body: response.val.send(this.target) };
  }
}
