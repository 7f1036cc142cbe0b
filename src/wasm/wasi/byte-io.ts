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
  /**
   * The same without blocking the thread (a call suspended on JSPI); may resolve early.
   * Absent: the stream is looked at again every few milliseconds.
   */
  waitAsync?(until: number): Promise<void>;
}

/** Where an `output-stream` writes to. */
export interface ByteSink {
  /**
   * Writes `bytes`, in order, before returning; `bytes` may be a view of the guest's memory,
   * valid only until then, so a sink that keeps bytes (a queue, a buffer) copies them. May wait, but not once `performance.now()` is
   * past `until`: then it throws `DeadlineReached` (the call's time is up). Throws anything
   * else when writing failed (a closed pipe, a full disk): the stream reports
   * `last-operation-failed` carrying the error's message, then `closed`.
   */
  write(bytes: Uint8Array, until: number): void;
  /** Pushes out what the sink buffers itself, if it buffers (`flush`, `blocking-flush`). */
  flush?(): void;
}

/**
 * A sink that queues what is written and sends it on its own (a socket): `write` queues at once
 * and never waits; the stream permits only what the queue has room for (`check-write`), and
 * `blocking-flush` waits until the queue is empty. The methods throw once the sink failed.
 */
export interface QueueingSink extends ByteSink {
  /** Bytes the queue takes now; 0 when it is full. */
  room(): number;
  /** Bytes queued and not yet sent. */
  queued(): number;
  /** Waits until there is room (`room`) or nothing is queued (`flushed`), or the sink failed, or `until`; may return early. */
  waitFor(what: 'room' | 'flushed', until: number): void;
  /** The same without blocking the thread. */
  waitForAsync(what: 'room' | 'flushed', until: number): Promise<void>;
}

export function isQueueing(sink: ByteSink): sink is QueueingSink {
  return typeof (sink as Partial<QueueingSink>).room === 'function';
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
