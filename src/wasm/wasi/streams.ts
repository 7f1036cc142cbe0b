/**
 * `wasi:io/error` and `wasi:io/streams`: the only streams a component gets are its stdout and
 * stderr (lines into the host's sinks, see `line-output.ts`) and a stdin that is closed. Writes
 * never block and never fail; a write larger than `check-write` permits, or a blocking write over
 * 4096 bytes, traps as the WASI text specifies (wasmtime does the same). `splice` reads from an
 * input stream, and the only input stream is closed, so it reports `closed`.
 */

import type { LineOutput } from './line-output.js';
import { Pollable } from './poll.js';
import { err, guestTrap, type Interface, length, OK_EMPTY, ok, type Result, self } from './values.js';

/** The most `blocking-write-and-flush` and `blocking-write-zeroes-and-flush` take (WASI). */
export const BLOCKING_WRITE_MAX = 4096;

/** The host object behind an `error` handle. */
export class IoError {
  constructor(readonly message: string) {}
}

type StreamError = { tag: 'last-operation-failed'; val: IoError } | { tag: 'closed' };

const CLOSED: Result<never, StreamError> = Object.freeze(err({ tag: 'closed' } as const));

/** The host object behind an `input-stream` handle: stdin, always at its end. */
export class InputStream {
  constructor(readonly name: string) {}
}

/** The host object behind an `output-stream` handle: stdout or stderr. */
export class OutputStream {
  constructor(
    readonly name: string,
    private readonly output: LineOutput,
    private readonly permit: number,
  ) {}

  checkWrite(): Result<bigint, StreamError> {
    return ok(BigInt(this.permit));
  }

  write(contents: Uint8Array, fn: string, max = this.permit): Result<undefined, StreamError> {
    if (contents.length > max) {
      throw guestTrap(fn, `${contents.length} bytes is more than the ${max} permitted`, {
        permitted: max,
        length: contents.length,
      });
    }
    this.output.write(contents);
    return OK_EMPTY;
  }

  writeZeroes(len: bigint, fn: string, max = this.permit): Result<undefined, StreamError> {
    const n = length(len);
    if (n > max) throw guestTrap(fn, `${len} bytes is more than the ${max} permitted`, { permitted: max });
    return this.write(new Uint8Array(n), fn, max);
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

export function errorInterface(): Interface {
  return {
    '[method]error.to-debug-string': (e: unknown) =>
      self(e, IoError, 'wasi:io/error#[method]error.to-debug-string').message,
  };
}

export function streamsInterface(): Interface {
  const closed = (name: string) => (stream: unknown) => {
    input(stream, name);
    return CLOSED;
  };
  // Every write is handed on at once: there is never anything left to flush.
  const flushed = (name: string) => (stream: unknown) => {
    out(stream, name);
    return OK_EMPTY;
  };
  return {
    [`${I}read`]: closed(`${I}read`),
    [`${I}blocking-read`]: closed(`${I}blocking-read`),
    [`${I}skip`]: closed(`${I}skip`),
    [`${I}blocking-skip`]: closed(`${I}blocking-skip`),
    [`${I}subscribe`]: (s: unknown) => new Pollable(input(s, `${I}subscribe`).name),

    [`${M}check-write`]: (s: unknown) => out(s, `${M}check-write`).checkWrite(),
    [`${M}write`]: (s: unknown, contents: Uint8Array) =>
      out(s, `${M}write`).write(contents, where(`${M}write`)),
    [`${M}blocking-write-and-flush`]: (s: unknown, contents: Uint8Array) =>
      out(s, `${M}blocking-write-and-flush`).write(
        contents,
        where(`${M}blocking-write-and-flush`),
        BLOCKING_WRITE_MAX,
      ),
    [`${M}flush`]: flushed(`${M}flush`),
    [`${M}blocking-flush`]: flushed(`${M}blocking-flush`),
    [`${M}subscribe`]: (s: unknown) => new Pollable(out(s, `${M}subscribe`).name),
    [`${M}write-zeroes`]: (s: unknown, len: bigint) =>
      out(s, `${M}write-zeroes`).writeZeroes(len, where(`${M}write-zeroes`)),
    [`${M}blocking-write-zeroes-and-flush`]: (s: unknown, len: bigint) =>
      out(s, `${M}blocking-write-zeroes-and-flush`).writeZeroes(
        len,
        where(`${M}blocking-write-zeroes-and-flush`),
        BLOCKING_WRITE_MAX,
      ),
    [`${M}splice`]: (s: unknown, src: unknown) => {
      out(s, `${M}splice`);
      input(src, `${M}splice`);
      return CLOSED;
    },
    [`${M}blocking-splice`]: (s: unknown, src: unknown) => {
      out(s, `${M}blocking-splice`);
      input(src, `${M}blocking-splice`);
      return CLOSED;
    },
  };
}
