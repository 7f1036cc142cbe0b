/**
 * `read-via-stream`, `write-via-stream` and `append-via-stream`: a file as the `ByteSource` /
 * `ByteSink` behind an ordinary `input-stream` / `output-stream` (streams.ts keeps the WIT
 * rules: permits, `closed`, `last-operation-failed`). Each stream keeps its own position, as
 * in wasmtime; reads and writes are positional (`pread` / `pwrite`), so two streams on one file
 * do not disturb each other. An append writes at the size the file has at that moment.
 *
 * A pipe or device in a preopen (opened `O_NONBLOCK`, so it can never hang the host) has no
 * position: reads answer "nothing yet" until data arrives, and `blocking-read` waits for it
 * within the call's deadline, in short sleeps.
 */

import { fstatSync, readSync, writeSync } from 'node:fs';
import type { ByteSink, ByteSource } from '../byte-io.js';
import { sleepUntil } from '../sleep.js';
import type { FileDescriptor } from './descriptor.js';
import { outcomeOf } from './errors.js';

/** How long a wait on a pipe sleeps before looking again. */
const PIPE_POLL_MS = 5;

/** Reports a refusal of the guard met by a stream (a path swapped while the file was evicted). */
export type StreamDenied = (operation: string, reason: string) => void;

function reported<T>(denied: StreamDenied, operation: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    const why = outcomeOf(error)?.denied;
    if (why !== undefined) denied(operation, why);
    throw error;
  }
}

function isAgain(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

/** `pread` at `position`, or a plain read for a file without positions (null: no position). */
function readAt(fd: number, buffer: Uint8Array, position: number | null): number {
  return readSync(fd, buffer, 0, buffer.length, position);
}

export class FileSource implements ByteSource {
  /** Bytes `ready()` read from a pipe to find out; handed out first. */
  private ahead: Uint8Array | null | undefined;

  constructor(
    private readonly file: FileDescriptor,
    private position: number,
    private readonly denied: StreamDenied,
  ) {}

  read(max: number): Uint8Array | null {
    if (this.ahead !== undefined) {
      const ahead = this.ahead;
      if (ahead === null || ahead.length <= max) {
        this.ahead = undefined;
        return ahead;
      }
      this.ahead = ahead.subarray(max);
      return ahead.subarray(0, max);
    }
    // Past 2^53 no file has data: the end.
    if (this.file.seekable && this.position + max > Number.MAX_SAFE_INTEGER) return null;
    const buffer = new Uint8Array(max);
    let n: number;
    try {
      n = reported(this.denied, 'read-via-stream', () =>
        this.file.use((fd) => readAt(fd, buffer, this.file.seekable ? this.position : null)),
      );
    } catch (error) {
      if (!this.file.seekable && isAgain(error)) return new Uint8Array(0);
      throw error;
    }
    if (n === 0) return null;
    this.position += n;
    return n === max ? buffer : buffer.subarray(0, n);
  }

  ready(): boolean {
    if (this.file.seekable || this.ahead !== undefined) return true;
    try {
      const got = this.read(4096);
      if (got !== null && got.length === 0) return false;
      this.ahead = got;
    } catch {
      // The next read reports it.
    }
    return true;
  }

  wait(until: number): void {
    if (!this.ready()) sleepUntil(Math.min(until, performance.now() + PIPE_POLL_MS));
  }
}

export class FileSink implements ByteSink {
  constructor(
    private readonly file: FileDescriptor,
    /** Where the next byte goes; `'append'`: at the end, wherever that is by then. */
    private position: number | 'append',
    private readonly denied: StreamDenied,
  ) {}

  write(bytes: Uint8Array, until: number): number {
    const operation = this.position === 'append' ? 'append-via-stream' : 'write-via-stream';
    let done = 0;
    while (done < bytes.length) {
      let n: number;
      try {
        n = reported(this.denied, operation, () =>
          this.file.use((fd) => {
            const at = this.file.seekable ? this.positionFor(fd, bytes.length - done) : null;
            return writeSync(fd, bytes, done, bytes.length - done, at);
          }),
        );
      } catch (error) {
        if (this.file.seekable || !isAgain(error)) throw error;
        // A full pipe: wait for its reader, within the deadline.
        if (performance.now() >= until) return done;
        sleepUntil(Math.min(until, performance.now() + PIPE_POLL_MS));
        continue;
      }
      done += n;
      if (typeof this.position === 'number') this.position += n;
    }
    return done;
  }

  private positionFor(fd: number, length: number): number {
    const at = this.position === 'append' ? fstatSync(fd).size : this.position;
    if (at + length > Number.MAX_SAFE_INTEGER) {
      throw Object.assign(new Error(`a write ending past byte 2^53 of the file is refused`), {
        code: 'EFBIG',
      });
    }
    return at;
  }
}
