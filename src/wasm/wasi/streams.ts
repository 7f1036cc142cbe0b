/**
 * `wasi:io/error` and `wasi:io/streams`, over the ports of `byte-io.ts`: an `input-stream`
 * reads a `ByteSource` (stdin), an `output-stream` writes a `ByteSink` (stdout and stderr: raw
 * bytes, or lines through `line-output.ts`). Any other stream (a file) is a new source or sink;
 * the WIT rules live here once:
 *
 * - Reads never block: `read` returns what is there, perhaps nothing; at the end of the source
 *   the stream is `closed`. `blocking-read` waits for data or the end, up to the call's
 *   deadline (then the call ends with `timeout`, see poll.ts). `len` is capped at
 *   `maxReadBytes` (the WIT allows returning fewer bytes).
 * - Sinks take every write before returning, so `check-write` always permits `maxWriteBytes`,
 *   nothing is left to flush and `subscribe` is always ready. A `QueueingSink` (a socket)
 *   queues instead: `check-write` permits what its queue has room for, `subscribe` is ready
 *   when there is room, and `blocking-flush` waits until the queue is empty. A write past the
 *   permit, or a blocking write past 4096 bytes, traps as the WIT says (wasmtime does the same).
 * - A source or sink that fails makes the operation answer `last-operation-failed` with an
 *   `error` whose `to-debug-string` says what failed and why; the stream is `closed` after.
 * - `splice` moves what `read` would return into the output stream; `blocking-splice` first
 *   waits for the input as `blocking-read` does.
 */

import { type CallBudget, Suspension } from '../engine/call-budget.js';
import { takesLentBytes } from '../engine/lent-bytes.js';
import { type ByteSink, type ByteSource, DeadlineReached, isQueueing, type QueueingSink } from './byte-io.js';
import { Pollable, ReadyPollable, waitForAny } from './poll.js';
import {
  budgeted,
  err,
  guestTrap,
  type Interface,
  length,
  OK_EMPTY,
  ok,
  type Result,
  self,
} from './values.js';

/** The most `blocking-write-and-flush` and `blocking-write-zeroes-and-flush` take (WASI). */
export const BLOCKING_WRITE_MAX = 4096;

/** The host object behind an `error` handle: why a stream operation failed. */
export class IoError {
  constructor(
    /** What `to-debug-string` returns. */
    readonly message: string,
    /** The Node error code behind it (`EPIPE`, `ENOSPC`…), for mapping to a filesystem `error-code`. */
    readonly errno?: string,
    readonly cause?: unknown,
  ) {}

  static from(stream: string, operation: string, cause: unknown): IoError {
    const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
    const why = cause instanceof Error ? cause.message : String(cause);
    return new IoError(
      `${operation} on ${stream} failed: ${why}`,
      typeof errno === 'string' ? errno : undefined,
      cause,
    );
  }
}

export type StreamError = { tag: 'last-operation-failed'; val: IoError } | { tag: 'closed' };

const CLOSED: Result<never, StreamError> = Object.freeze(err({ tag: 'closed' } as const));
const EMPTY = new Uint8Array(0);

function failed(error: IoError): Result<never, StreamError> {
  return err({ tag: 'last-operation-failed', val: error });
}

/** The host object behind an `input-stream` handle. */
export class InputStream {
  private closed = false;

  constructor(
    readonly name: string,
    private readonly source: ByteSource,
    private readonly maxRead: number,
  ) {}

  /** `read`: what is available now (perhaps nothing), `closed` at the end. */
  read(len: bigint): Result<Uint8Array, StreamError> {
    if (this.closed) return CLOSED;
    const n = Math.min(length(len), this.maxRead);
    if (n === 0) return ok(EMPTY);
    let bytes: Uint8Array | null;
    try {
      bytes = this.source.read(n);
    } catch (error) {
      this.closed = true;
      return failed(IoError.from(this.name, 'read', error));
    }
    if (bytes === null) {
      this.closed = true;
      return CLOSED;
    }
    return ok(bytes.length > n ? bytes.subarray(0, n) : bytes);
  }

  /** `blocking-read`: waits (within the call's budget) until there is data or the end. */
  blockingRead(len: bigint, budget: CallBudget): Result<Uint8Array, StreamError> {
    for (;;) {
      const result = this.read(len);
      if (result.tag === 'err' || result.val.length > 0 || len === 0n) return result;
      waitForAny([this.subscribe()], budget);
    }
  }

  /** True when a read would not wait: data, the end, or an error is there. */
  ready(): boolean {
    if (this.closed) return true;
    try {
      return this.source.ready();
    } catch {
      return true; // the next read reports the error
    }
  }

  subscribe(): Pollable {
    return new InputPollable(this, this.source);
  }
}

class InputPollable extends Pollable {
  constructor(
    private readonly stream: InputStream,
    private readonly input: ByteSource,
  ) {
    super(stream.name);
  }

  ready(): boolean {
    return this.stream.ready();
  }

  override wait(until: number): void {
    try {
      this.input.wait(until);
    } catch {
      // A failing source is ready: the next read reports the error.
    }
  }

  override waitAsync(until: number): Promise<void> {
    if (this.input.waitAsync === undefined) return super.waitAsync(until);
    return this.input.waitAsync(until).catch(() => {});
  }
}

/** The host object behind an `output-stream` handle. */
export class OutputStream {
  private closed = false;

  constructor(
    readonly name: string,
    private readonly sink: ByteSink,
    private readonly permit: number,
  ) {}

  /** A blocking write's bytes are out and its flush still under way: its call was suspended (JSPI). */
  private flushOwed = false;

  checkWrite(): Result<bigint, StreamError> {
    if (this.closed) return CLOSED;
    const permit = this.permitNow();
    return typeof permit === 'number' ? ok(BigInt(permit)) : permit;
  }

  /** What a `write` may take now: the permit, or less when a queue has less room; failed if the sink failed. */
  private permitNow(): number | Result<never, StreamError> {
    if (!isQueueing(this.sink)) return this.permit;
    try {
      return Math.min(this.permit, this.sink.room());
    } catch (error) {
      return this.fail('write', error);
    }
  }

  private fail(operation: string, error: unknown): Result<never, StreamError> {
    this.closed = true;
    return failed(IoError.from(this.name, operation, error));
  }

  /**
   * `write` (and the blocking writes, with `limit` 4096): all of `contents`, before returning.
   * Without `limit`, what `check-write` permits now (a queue's room only grows between the two).
   */
  write(
    contents: Uint8Array,
    fn: string,
    budget: CallBudget,
    limit?: number,
  ): Result<undefined, StreamError> {
    if (this.closed) return CLOSED;
    const max = limit ?? this.permitNow();
    if (typeof max !== 'number') return max;
    if (contents.length > max) {
      throw guestTrap(fn, `${contents.length} bytes is more than the ${max} permitted`, {
        permitted: max,
        length: contents.length,
      });
    }
    if (contents.length === 0) return OK_EMPTY;
    try {
      this.sink.write(contents, budget.deadline());
    } catch (error) {
      // The sink stopped at the deadline (a reader that does not read): the call's time is up.
      if (error instanceof DeadlineReached) budget.expire();
      this.closed = true;
      return failed(IoError.from(this.name, 'write', error));
    }
    return OK_EMPTY;
  }

  writeZeroes(len: bigint, fn: string, budget: CallBudget): Result<undefined, StreamError> {
    if (this.closed) return CLOSED;
    const max = this.permitNow();
    if (typeof max !== 'number') return max;
    const n = length(len);
    if (n > max) throw guestTrap(fn, `${len} bytes is more than the ${max} permitted`, { permitted: max });
    return this.write(new Uint8Array(n), fn, budget, max);
  }

  /**
   * `blocking-write-and-flush` (and its zeroes): at most 4096 bytes, written, then waited for
   * until sent. A queueing sink takes them whatever its room (the WIT allows 4096 always).
   */
  blockingWriteAndFlush(
    contents: Uint8Array,
    fn: string,
    budget: CallBudget,
  ): Result<undefined, StreamError> {
    // Note: a call suspended while flushing (JSPI) is retried with the same bytes, which went
    // out already; while one is suspended, the guest can make no other call on this stream.
    if (!this.flushOwed) {
      const written = this.write(contents, fn, budget, BLOCKING_WRITE_MAX);
      if (written.tag === 'err') return written;
      this.flushOwed = true;
    }
    try {
      const flushed = this.blockingFlush(budget);
      this.flushOwed = false;
      return flushed;
    } catch (error) {
      if (!(error instanceof Suspension)) this.flushOwed = false;
      throw error;
    }
  }

  /** `blocking-flush`: `flush`, then, for a queueing sink, a wait (within the call's budget) until it is empty. */
  blockingFlush(budget: CallBudget): Result<undefined, StreamError> {
    const sink = this.sink;
    if (this.closed || !isQueueing(sink)) return this.flush();
    for (;;) {
      let queued: number;
      try {
        queued = sink.queued();
      } catch (error) {
        return this.fail('flush', error);
      }
      if (queued === 0) return this.flush();
      waitForAny([new QueuePollable(this.name, sink, 'flushed')], budget);
    }
  }

  flush(): Result<undefined, StreamError> {
    if (this.closed) return CLOSED;
    try {
      this.sink.flush?.();
    } catch (error) {
      this.closed = true;
      return failed(IoError.from(this.name, 'flush', error));
    }
    return OK_EMPTY;
  }

  /** `splice` / `blocking-splice`: what a (blocking) read of `src` returns, written here. */
  splice(
    src: InputStream,
    len: bigint,
    fn: string,
    budget: CallBudget,
    blocking: boolean,
  ): Result<bigint, StreamError> {
    if (this.closed) return CLOSED;
    const permit = this.permitNow();
    if (typeof permit !== 'number') return permit;
    const n = len < BigInt(permit) ? len : BigInt(permit);
    const read = blocking ? src.blockingRead(n, budget) : src.read(n);
    if (read.tag === 'err') return read;
    const written = this.write(read.val, fn, budget);
    return written.tag === 'err' ? written : ok(BigInt(read.val.length));
  }

  subscribe(): Pollable {
    // A queue is ready when it has room; any other sink takes every write at once (or fails).
    if (isQueueing(this.sink) && !this.closed) return new QueuePollable(this.name, this.sink, 'room');
    return new ReadyPollable(this.name);
  }
}

/** Ready when a queueing sink has room, or is empty; a failed sink is ready (the next call reports it). */
class QueuePollable extends Pollable {
  constructor(
    name: string,
    private readonly sink: QueueingSink,
    private readonly what: 'room' | 'flushed',
  ) {
    super(name);
  }

  ready(): boolean {
    try {
      return this.what === 'room' ? this.sink.room() > 0 : this.sink.queued() === 0;
    } catch {
      return true;
    }
  }

  override wait(until: number): void {
    this.sink.waitFor(this.what, until);
  }

  override waitAsync(until: number): Promise<void> {
    return this.sink.waitForAsync(this.what, until);
  }
}

const M = '[method]output-stream.';
const I = '[method]input-stream.';
const where = (name: string) => `wasi:io/streams#${name}`;

function out(value: unknown, name: string): OutputStream {
  return self(value, OutputStream, where(name));
}

function input(value: unknown, name: string): InputStream {
  return self(value, InputStream, where(name));
}

function skipped(result: Result<Uint8Array, StreamError>): Result<bigint, StreamError> {
  return result.tag === 'err' ? result : ok(BigInt(result.val.length));
}

export function errorInterface(): Interface {
  return {
    '[method]error.to-debug-string': (e: unknown) =>
      self(e, IoError, 'wasi:io/error#[method]error.to-debug-string').message,
  };
}

export function streamsInterface(): Interface {
  return budgeted((budget) => ({
    [`${I}read`]: (s: unknown, len: bigint) => input(s, `${I}read`).read(len),
    [`${I}blocking-read`]: (s: unknown, len: bigint) =>
      input(s, `${I}blocking-read`).blockingRead(len, budget),
    [`${I}skip`]: (s: unknown, len: bigint) => skipped(input(s, `${I}skip`).read(len)),
    [`${I}blocking-skip`]: (s: unknown, len: bigint) =>
      skipped(input(s, `${I}blocking-skip`).blockingRead(len, budget)),
    [`${I}subscribe`]: (s: unknown) => input(s, `${I}subscribe`).subscribe(),

    [`${M}check-write`]: (s: unknown) => out(s, `${M}check-write`).checkWrite(),
    // Lent the guest's bytes (no copy): every sink takes them before it returns (ByteSink).
    [`${M}write`]: takesLentBytes((s: unknown, contents: Uint8Array) =>
      out(s, `${M}write`).write(contents, where(`${M}write`), budget),
    ),
    [`${M}blocking-write-and-flush`]: takesLentBytes((s: unknown, contents: Uint8Array) =>
      out(s, `${M}blocking-write-and-flush`).blockingWriteAndFlush(
        contents,
        where(`${M}blocking-write-and-flush`),
        budget,
      ),
    ),
    [`${M}flush`]: (s: unknown) => out(s, `${M}flush`).flush(),
    [`${M}blocking-flush`]: (s: unknown) => out(s, `${M}blocking-flush`).blockingFlush(budget),
    [`${M}subscribe`]: (s: unknown) => out(s, `${M}subscribe`).subscribe(),
    [`${M}write-zeroes`]: (s: unknown, len: bigint) =>
      out(s, `${M}write-zeroes`).writeZeroes(len, where(`${M}write-zeroes`), budget),
    [`${M}blocking-write-zeroes-and-flush`]: (s: unknown, len: bigint) => {
      const fn = where(`${M}blocking-write-zeroes-and-flush`);
      if (len > BigInt(BLOCKING_WRITE_MAX)) {
        throw guestTrap(fn, `${len} bytes is more than the ${BLOCKING_WRITE_MAX} permitted`, {
          permitted: BLOCKING_WRITE_MAX,
        });
      }
      return out(s, `${M}blocking-write-zeroes-and-flush`).blockingWriteAndFlush(
        new Uint8Array(Number(len)),
        fn,
        budget,
      );
    },
    [`${M}splice`]: (s: unknown, src: unknown, len: bigint) =>
      out(s, `${M}splice`).splice(input(src, `${M}splice`), len, where(`${M}splice`), budget, false),
    [`${M}blocking-splice`]: (s: unknown, src: unknown, len: bigint) =>
      out(s, `${M}blocking-splice`).splice(
        input(src, `${M}blocking-splice`),
        len,
        where(`${M}blocking-splice`),
        budget,
        true,
      ),
  }));
}
