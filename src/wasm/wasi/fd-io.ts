/**
 * Sources and sinks on the host's file descriptors, for a component run as a process
 * (`airssys-wasm run`: stdin from fd 0, stdout and stderr to fds 1 and 2), with Node's
 * synchronous `fs.readSync` / `fs.writeSync` — host functions cannot await.
 *
 * Reading without blocking needs a non-blocking descriptor, which Node cannot make of an
 * existing one. So for a pipe, FIFO or terminal on Linux the source opens its own
 * non-blocking description of the same object (`/proc/self/fd/N` with `O_NONBLOCK`; the
 * original fd keeps its flags): `read` then answers "nothing yet" (EAGAIN) and `wait` sleeps in
 * short, growing steps (1–16 ms) until data arrives or the deadline passes. A regular file
 * never blocks. Elsewhere (a socket — what Node's `stdio: 'pipe'` gives a child — or another
 * platform) only blocking reads are possible: `ready()` then says yes, and a `read` waits in
 * the kernel for data, past any deadline. A descriptor someone already made non-blocking
 * (EAGAIN) is used as it is.
 *
 * Writes retry EAGAIN (a non-blocking pipe that is full) the same way, bounded by the deadline;
 * EPIPE (the reader went away; Node ignores SIGPIPE) and other errors fail the stream.
 */

import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { type ByteSink, type ByteSource, DeadlineReached } from './byte-io.js';
import { sleepUntil } from './sleep.js';

/** Longest pause between two attempts on a descriptor that is not ready. */
const MAX_PAUSE_MS = 16;

type Mode = 'file' | 'non-blocking' | 'blocking';

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** A source on a descriptor the caller keeps open; `close()` releases what the source opened. */
export interface FdSource extends ByteSource {
  close(): void;
}

/**
 * Reads the host descriptor `fd` (e.g. 0, the process's stdin).
 *
 * @example
 * createWasi({ stdin: fdSource(0), stdoutBytes: fdSink(1), stderrBytes: fdSink(2) });
 */
export function fdSource(fd: number): FdSource {
  let mode: Mode | undefined;
  let readFd = fd;
  let opened = false;
  /** Bytes `ready()` had to read to find out; handed out first. */
  let ahead: Uint8Array | undefined;
  let ended = false;
  let scratch: Uint8Array | undefined;

  const setUp = (): Mode => {
    const stat = fstatSync(fd);
    if (stat.isFile()) return 'file';
    if (process.platform === 'linux' && (stat.isFIFO() || stat.isCharacterDevice())) {
      try {
        readFd = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK);
        opened = true;
        return 'non-blocking';
      } catch {
        // Not reopenable (no /proc, or not permitted): blocking reads on the fd itself.
      }
    }
    return 'blocking';
  };

  /** One `read(2)`: bytes, `null` at the end, empty when nothing has arrived. */
  const readNow = (max: number): Uint8Array | null => {
    mode ??= setUp();
    // Polling an empty pipe is frequent: it reads into one buffer and copies out only data.
    const buffer = max <= SCRATCH_BYTES ? (scratch ??= new Uint8Array(SCRATCH_BYTES)) : new Uint8Array(max);
    let n: number;
    try {
      n = readSync(readFd, buffer, 0, max, null);
    } catch (error) {
      const why = code(error);
      if (why === 'EAGAIN' || why === 'EWOULDBLOCK') {
        // Someone made the descriptor non-blocking: use it as such.
        if (mode === 'blocking') mode = 'non-blocking';
        return EMPTY;
      }
      if (why === 'EINTR') return EMPTY;
      if (why === 'EOF')
        n = 0; // Windows pipes report their end as an error
      else throw error;
    }
    if (n === 0) {
      ended = true;
      return null;
    }
    return buffer.slice(0, n);
  };

  const source: FdSource = {
    read(max) {
      if (ahead !== undefined) {
        const bytes = ahead.subarray(0, max);
        ahead = bytes.length === ahead.length ? undefined : ahead.subarray(bytes.length);
        return bytes;
      }
      if (ended) return null;
      return readNow(max);
    },
    ready() {
      if (ahead !== undefined || ended) return true;
      mode ??= setUp();
      if (mode !== 'non-blocking') return true;
      const bytes = readNow(SCRATCH_BYTES);
      if (bytes !== null && bytes.length > 0) ahead = bytes;
      return bytes === null || bytes.length > 0;
    },
    wait(until) {
      let pause = 1;
      while (!source.ready()) {
        const now = performance.now();
        if (now >= until) return;
        sleepUntil(Math.min(until, now + pause));
        pause = Math.min(pause * 2, MAX_PAUSE_MS);
      }
    },
    close() {
      if (opened) closeSync(readFd);
      opened = false;
      readFd = fd;
      mode = undefined;
    },
  };
  return source;
}

/** What `ready()` reads at once to learn whether data has arrived; the size of the read buffer. */
const SCRATCH_BYTES = 64 * 1024;
const EMPTY = new Uint8Array(0);

/**
 * Writes to the host descriptor `fd` (e.g. 1 and 2, the process's stdout and stderr), unbuffered:
 * output reaches the descriptor in the order the guest wrote it, across streams too.
 *
 * @example
 * createWasi({ stdoutBytes: fdSink(1), stderrBytes: fdSink(2) });
 */
export function fdSink(fd: number): ByteSink {
  return {
    write(bytes, until) {
      let written = 0;
      let pause = 1;
      while (written < bytes.length) {
        try {
          written += writeSync(fd, bytes, written, bytes.length - written);
          pause = 1;
        } catch (error) {
          const why = code(error);
          if (why !== 'EAGAIN' && why !== 'EWOULDBLOCK' && why !== 'EINTR') throw error;
          const now = performance.now();
          if (now >= until) throw new DeadlineReached(`write to fd ${fd}`);
          sleepUntil(Math.min(until, now + pause));
          pause = Math.min(pause * 2, MAX_PAUSE_MS);
        }
      }
    },
  };
}
