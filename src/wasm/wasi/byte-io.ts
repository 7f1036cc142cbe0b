/**
 * The two ports behind every WASI stream: a `ByteSource` an `input-stream` reads from and a
 * `ByteSink` an `output-stream` writes to. `streams.ts` implements the WIT semantics (permits,
 * closed, last-operation-failed, blocking) once, over these; a new kind of stream — stdin from
 * a file descriptor (`fd-io.ts`), a file of a preopened directory, bytes given by an embedder —
 * is only a new source or sink.
 *
 * Both are synchronous: host functions run on the guest's thread, between two of its
 * instructions. A source never blocks in `read` (it says "nothing yet" instead) and waits only
 * in `wait`, bounded by the caller's deadline; a sink may block in `write`, also bounded.
 */

/** Where an `input-stream` reads from. */
export interface ByteSource {
  /**
   * Up to `max` bytes (`max` ≥ 1) available now: an empty array when none have arrived yet,
   * `null` at the end of the stream (it stays ended). Throws when reading failed: the stream
   * reports `last-operation-failed` carrying the error's message, then `closed`.
   */
  read(max: number): Uint8Array | null;
  /** True when `read` would return data or the end without waiting. */
  ready(): boolean;
  /** Waits until `ready()` or until `performance.now()` reaches `until`; may return early. */
  wait(until: number): void;
}

/** Where an `output-stream` writes to. */
export interface ByteSink {
  /**
   * Writes `bytes`, in order, before returning; may wait, but not once `performance.now()` is
   * past `until`: then it throws `DeadlineReached` (the call's time is up). Throws anything
   * else when writing failed (a closed pipe, a full disk): the stream reports
   * `last-operation-failed` carrying the error's message, then `closed`.
   */
  write(bytes: Uint8Array, until: number): void;
  /** Pushes out what the sink buffers itself, if it buffers (`flush`, `blocking-flush`). */
  flush?(): void;
}

/** Thrown by a sink that had to stop waiting at `until`; the export call then ends with `timeout`. */
export class DeadlineReached extends Error {
  constructor(what: string) {
    super(`${what}: the call's deadline came first`);
    this.name = 'DeadlineReached';
  }
}

const encoder = new TextEncoder();

/**
 * A source that yields `data` and then ends: a string (UTF-8), bytes, or a list of chunks (each
 * `read` returns at most the rest of one chunk, as a pipe would). Empty: at its end at once.
 *
 * @example
 * createWasi({ stdin: bytesSource(['first line\n', 'second line\n']) });
 */
export function bytesSource(data: string | Uint8Array | Iterable<string | Uint8Array> = []): ByteSource {
  const chunks = (typeof data === 'string' || data instanceof Uint8Array ? [data] : [...data])
    .map((chunk) => (typeof chunk === 'string' ? encoder.encode(chunk) : chunk.slice()))
    .filter((chunk) => chunk.length > 0);
  let next = 0;
  let offset = 0;
  return {
    read(max) {
      const chunk = chunks[next];
      if (chunk === undefined) return null;
      const end = Math.min(chunk.length, offset + max);
      const bytes = chunk.subarray(offset, end);
      offset = end;
      if (offset === chunk.length) {
        chunks[next++] = EMPTY;
        offset = 0;
      }
      return bytes;
    },
    ready: () => true,
    wait: () => {},
  };
}

const EMPTY = new Uint8Array(0);
