/**
 * A guest's WASI callbacks when the guest runs on another thread (`CommandThread`,
 * `HttpWorkerPool`): functions do not cross threads, so the caller's options go over as data —
 * the grants, and which callbacks exist — the thread makes callbacks that post one event each,
 * and the caller hands every event to its own callback, in the order the guest made them.
 */

import type { AuditRecord } from '../../osl/audit/audit-log.js';
import type {
  DeniedCallback,
  LineSink,
  WasiHttpOptions,
  WasiOptions,
  WasiSocketsOptions,
} from './options.js';

/** The callbacks (and the grants they belong to) that stay on the caller's thread. */
export interface GuestCallbacks {
  stdout?: LineSink;
  stderr?: LineSink;
  onDenied?: DeniedCallback;
  /** Outbound HTTP grants: the data goes to the thread, `onAudit` stays here. */
  http?: WasiHttpOptions;
  /** `wasi:sockets` and its grants, the same way (not linked when absent). */
  sockets?: WasiSocketsOptions;
}

/** `GuestCallbacks` as the thread receives them. */
export interface CallbacksData {
  http: Omit<WasiHttpOptions, 'onAudit'> | undefined;
  sockets: Omit<WasiSocketsOptions, 'onAudit'> | undefined;
  forward: { stdout: boolean; stderr: boolean; denied: boolean; httpAudit: boolean; socketAudit: boolean };
}

/** One callback the guest caused on the thread. */
export type CallbackEvent =
  | { kind: 'line'; stream: 'stdout' | 'stderr'; line: string }
  | { kind: 'denied'; operation: string; subject: string; reason: string }
  | { kind: 'audit'; of: 'http' | 'sockets'; record: AuditRecord };

export function callbacksData(callbacks: GuestCallbacks): CallbacksData {
  const { onAudit: httpAudit, ...http } = callbacks.http ?? {};
  const { onAudit: socketAudit, ...sockets } = callbacks.sockets ?? {};
  return {
    http: callbacks.http === undefined ? undefined : http,
    sockets: callbacks.sockets === undefined ? undefined : sockets,
    forward: {
      stdout: callbacks.stdout !== undefined,
      stderr: callbacks.stderr !== undefined,
      denied: callbacks.onDenied !== undefined,
      httpAudit: httpAudit !== undefined,
      socketAudit: socketAudit !== undefined,
    },
  };
}

/** On the thread: the WASI options that post an event for each callback the caller has. */
export function threadWasi(data: CallbacksData, send: (event: CallbackEvent) => void): WasiOptions {
  const { forward } = data;
  const audit = (of: 'http' | 'sockets') => (record: AuditRecord) => send({ kind: 'audit', of, record });
  return {
    ...(data.http !== undefined && {
      http: { ...data.http, ...(forward.httpAudit && { onAudit: audit('http') }) },
    }),
    ...(data.sockets !== undefined && {
      sockets: { ...data.sockets, ...(forward.socketAudit && { onAudit: audit('sockets') }) },
    }),
    // A forwarded stream replaces a byte sink the thread may have set for it (`serve`'s fds).
    ...(forward.stdout && {
      stdout: (line: string) => send({ kind: 'line', stream: 'stdout', line }),
      stdoutBytes: undefined,
    }),
    ...(forward.stderr && {
      stderr: (line: string) => send({ kind: 'line', stream: 'stderr', line }),
      stderrBytes: undefined,
    }),
    ...(forward.denied && {
      onDenied: (operation: string, subject: string, reason: string) =>
        send({ kind: 'denied', operation, subject, reason }),
    }),
  };
}

/** On the caller's thread: hands `event` to the callback it came from. */
export function deliver(callbacks: GuestCallbacks, event: CallbackEvent): void {
  switch (event.kind) {
    case 'line':
      callbacks[event.stream]?.(event.line);
      return;
    case 'denied':
      callbacks.onDenied?.(event.operation, event.subject, event.reason);
      return;
    case 'audit':
      callbacks[event.of]?.onAudit?.(event.record);
  }
}
