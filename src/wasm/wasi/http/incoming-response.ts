/**
 * The answer to an outgoing request: `future-incoming-response`, its pollable and the
 * `incoming-response` it resolves to. The exchange runs on the osl bridge thread
 * (osl/node/sync-http-bridge.ts); the future is ready when that thread has the whole
 * response — head and body, read there up to the body limit — so the body is then an
 * ordinary `incoming-body` over those bytes, the same class as a request's.
 *
 * A request whose body the guest is still writing is not sent yet: it goes out when the guest
 * finishes the body (`outgoing-body.finish`), and its future is not ready before.
 */

import type { PendingExchange, SyncHttpOutcome } from '../../../osl/node/sync-http-bridge.js';
import { Pollable } from '../poll.js';
import { sleepUntil } from '../sleep.js';
import { err, ok, type Result } from '../values.js';
import { errorCodeOf } from './error-code.js';
import { Fields } from './fields.js';
import { IncomingBody } from './request.js';
import type { ErrorCode } from './response.js';

const UNIT_ERR = Object.freeze({ tag: 'err' }) as Result<never, undefined>;
const encoder = new TextEncoder();

/** The host object behind an `incoming-response` handle. */
export class IncomingResponse {
  private consumed = false;
  readonly headerFields: Fields;

  constructor(
    readonly statusCode: number,
    headers: Readonly<Record<string, string>>,
    private readonly body: Uint8Array,
    private readonly maxRead: number,
  ) {
    this.headerFields = Fields.received(
      Object.entries(headers).map(([name, value]) => [name, encoder.encode(value)] as const),
    );
  }

  /** `consume`: the body, once; a second call is `err`, as the WIT says. */
  consume(): Result<IncomingBody, undefined> {
    if (this.consumed) return UNIT_ERR;
    this.consumed = true;
    return ok(new IncomingBody({ body: this.body, trailers: undefined }, this.maxRead));
  }
}

/** The host object behind a `future-incoming-response` handle. */
export class FutureIncomingResponse {
  private pending: PendingExchange | undefined;
  private settled: Result<IncomingResponse, ErrorCode> | undefined;
  private taken = false;

  constructor(
    private readonly maxRead: number,
    /** Told once of the exchange's outcome (its audit records), when it is first seen. */
    private readonly onOutcome: (outcome: SyncHttpOutcome) => void,
  ) {}

  /** The request went out (now, or when its body was finished). */
  sent(pending: PendingExchange): void {
    this.pending = pending;
  }

  /** Failed before it went out (the body could not be sent). */
  failed(code: ErrorCode): void {
    this.settled = err(code);
  }

  ready(): boolean {
    if (this.settled !== undefined) return true;
    const outcome = this.pending?.outcome();
    if (outcome === undefined) return false;
    this.onOutcome(outcome);
    this.settled = outcome.ok
      ? ok(new IncomingResponse(outcome.status, outcome.headers, outcome.body, this.maxRead))
      : err(errorCodeOf(outcome.error));
    return true;
  }

  /** Blocks until ready or `until`, on the bridge's cell (or, not sent yet, just until `until`). */
  wait(until: number): void {
    if (this.ready()) return;
    if (this.pending === undefined) sleepUntil(until);
    else this.pending.wait(until);
  }

  subscribe(): Pollable {
    return new ResponsePollable(this);
  }

  /** `get`: none before ready, `some(ok(…))` the first time after, `some(err)` later (the WIT's rule). */
  get(): Result<Result<IncomingResponse, ErrorCode>, undefined> | undefined {
    if (!this.ready()) return undefined;
    if (this.taken) return UNIT_ERR;
    this.taken = true;
    return ok(this.settled as Result<IncomingResponse, ErrorCode>);
  }
}

class ResponsePollable extends Pollable {
  constructor(private readonly future: FutureIncomingResponse) {
    super('future-incoming-response');
  }

  ready(): boolean {
    return this.future.ready();
  }

  override wait(until: number): void {
    this.future.wait(until);
  }
}
