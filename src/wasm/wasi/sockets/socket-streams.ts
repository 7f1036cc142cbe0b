/**
 * A TCP connection's two directions as the ports `streams.ts` turns into ordinary `wasi:io`
 * streams: a `ByteSource` over the bytes the socket thread has received, a `QueueingSink` over
 * the bytes still on their way to it. So `read` returns what is there, `blocking-read` waits
 * within the call's deadline, `check-write` permits what the send queue has room for, and
 * `blocking-flush` waits until the thread has handed everything to the OS.
 */

import type { SyncTcpConnection } from '../../../osl/node/sync-socket-bridge.js';
import type { ByteSource, QueueingSink } from '../byte-io.js';

/** Bytes queued for sending, at most, before `check-write` permits nothing. */
export const SEND_QUEUE_BYTES = 256 * 1024;

export function receivingSource(conn: SyncTcpConnection): ByteSource {
  return {
    read: (max) => conn.read(max),
    ready: () => conn.ready(),
    wait: (until) => conn.wait(until),
    waitAsync: (until) => conn.waitAsync(until),
  };
}

export function sendingSink(conn: SyncTcpConnection): QueueingSink {
  const atMost = (what: 'room' | 'flushed') => (what === 'room' ? SEND_QUEUE_BYTES - 1 : 0);
  return {
    write: (bytes) => conn.write(bytes),
    room: () => Math.max(0, SEND_QUEUE_BYTES - conn.unwrittenBytes()),
    queued: () => conn.unwrittenBytes(),
    waitFor: (what, until) => conn.waitWritten(atMost(what), until),
    waitForAsync: (what, until) => conn.waitWrittenAsync(atMost(what), until),
  };
}
