/**
 * A synchronous front for the sandbox's outbound HTTP, for callers that cannot await: host
 * functions called from WebAssembly run between two guest instructions, on a thread whose
 * event loop does not turn until the call returns (no JSPI here). So the exchange runs on a
 * thread of its own — one per process, started on first use and `unref`'d, so it never keeps
 * the process alive — through the whole osl chain (audit → egress policy → quota → NodeNetwork),
 * and the caller learns of the answer through a shared cell: `ready()` reads it, `wait(until)`
 * blocks on it with `Atomics.wait`, bounded by `until`. The answer itself, and the audit
 * records the chain made on that thread, come back as plain data over a `MessagePort` read
 * with `receiveMessageOnPort`, which needs no event loop either.
 *
 * Nothing here knows WebAssembly; the wasm layer's `wasi:http/outgoing-handler` is one caller.
 *
 * THREAT MODEL: the policy decision is made on the worker, by the same egress policy every
 * other outbound request goes through (it judges the address the socket really connects to),
 * from grants the caller compiled and checked at load. The worker holds no grants of its own:
 * every request carries the grants it is judged by, so one component's grants never judge
 * another's request. A worker that dies or hangs costs a caller at most its own time limit:
 * past it, the exchange fails `internal`, blamed on the host.
 */

import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { AuditRecord } from '../audit/audit-log.js';
import type { Grants } from '../policy/grants.js';
import type { HostPolicy } from '../policy/host-policy.js';

/** One exchange as plain data (it crosses to the worker thread by structured clone). */
export interface SyncHttpRequest {
  /** Who asks, for the audit records. */
  readonly component: string;
  readonly version: string;
  /** The grants it is judged by (osl form: `network.outbound`, `network.addresses`). */
  readonly grants: Grants;
  readonly policy?: Pick<HostPolicy, 'securityMode' | 'deny'>;
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  readonly maxResponseBytes: number;
  /** The whole exchange; the caller also gives up after it (plus a little), whatever the worker does. */
  readonly timeoutMs: number;
  readonly connectTimeoutMs?: number;
  readonly firstByteTimeoutMs?: number;
}

/** How it went; `audit` holds every decision the chain made for it, allowed or refused. */
export type SyncHttpOutcome =
  | {
      readonly ok: true;
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: Uint8Array;
      readonly remoteAddress: string;
      readonly audit: readonly AuditRecord[];
    }
  | {
      readonly ok: false;
      /** An `AirssysError` as data: its `code`, message and details (`errno`, `phase`, `quota`…). */
      readonly error: {
        readonly code: string;
        readonly message: string;
        readonly details?: Readonly<Record<string, unknown>>;
      };
      readonly audit: readonly AuditRecord[];
    };

/** Messages to the worker. */
export type BridgeMessage =
  | { readonly kind: 'port'; readonly port: MessagePort }
  | {
      readonly kind: 'request';
      readonly id: number;
      readonly cell: Int32Array;
      readonly request: SyncHttpRequest;
    };

/** Messages back from it. */
export interface BridgeReply {
  readonly id: number;
  readonly outcome: SyncHttpOutcome;
}

/** Time the caller grants the worker beyond the request's own limit before giving up on it. */
const GRACE_MS = 1000;

class Bridge {
  private nextId = 1;
  private readonly worker: Worker;
  private readonly replies: MessagePort;
  /** Replies read off the port for exchanges other than the one being looked at. */
  private readonly arrived = new Map<number, SyncHttpOutcome>();
  /** Exchanges given up on: their late replies are dropped. */
  private readonly abandoned = new Set<number>();

  constructor() {
    // Note: next to this file both in dist/ (tsc) and in the CLI bundle (dist/cli/, esbuild).
    this.worker = new Worker(new URL('./sync-http-worker.js', import.meta.url));
    this.worker.unref();
    const { port1, port2 } = new MessageChannel();
    this.replies = port1;
    const first: BridgeMessage = { kind: 'port', port: port2 };
    this.worker.postMessage(first, [port2]);
    this.worker.on('error', () => {
      // Callers waiting on it give up at their limit; the next exchange starts a new thread.
      if (current === this) current = undefined;
    });
    this.worker.on('exit', () => {
      if (current === this) current = undefined;
    });
  }

  send(request: SyncHttpRequest): PendingExchange {
    const id = this.nextId++;
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const message: BridgeMessage = { kind: 'request', id, cell, request };
    this.worker.postMessage(message);
    return new PendingExchange(this, id, cell, performance.now() + request.timeoutMs + GRACE_MS);
  }

  /** The reply for `id`, if it has arrived; others read on the way are kept for their callers. */
  take(id: number): SyncHttpOutcome | undefined {
    for (;;) {
      const mine = this.arrived.get(id);
      if (mine !== undefined) {
        this.arrived.delete(id);
        return mine;
      }
      const next = receiveMessageOnPort(this.replies);
      if (next === undefined) return undefined;
      const reply = next.message as BridgeReply;
      if (!this.abandoned.delete(reply.id)) this.arrived.set(reply.id, reply.outcome);
    }
  }

  forget(id: number): void {
    if (!this.arrived.delete(id)) this.abandoned.add(id);
  }
}

let current: Bridge | undefined;

/**
 * Starts one exchange on the bridge thread (starting the thread on first use) and returns at
 * once; the exchange is judged and performed there.
 *
 * @example
 * const pending = sendSync({ component: 'fetcher', version: '1.0.0', grants: { network: { outbound: ['api.example.com:443'] } },
 *   url: 'https://api.example.com/items', method: 'GET', headers: {}, maxResponseBytes: 1 << 20, timeoutMs: 5000 });
 * pending.wait(performance.now() + 5000);
 * const outcome = pending.outcome();
 */
export function sendSync(request: SyncHttpRequest): PendingExchange {
  current ??= new Bridge();
  return current.send(request);
}

/** One exchange under way on the bridge thread, seen from the caller's thread. */
export class PendingExchange {
  private result: SyncHttpOutcome | undefined;

  constructor(
    private readonly bridge: Bridge,
    private readonly id: number,
    private readonly cell: Int32Array,
    /** `performance.now()` time past which the worker is given up on. */
    private readonly giveUpAt: number,
  ) {}

  /** True once the outcome is there (or the worker has been given up on); never blocks. */
  ready(): boolean {
    return this.outcome() !== undefined;
  }

  /** Blocks until ready or until `performance.now()` reaches `until`; may return early. */
  wait(until: number): void {
    if (this.ready()) return;
    const left = Math.min(until, this.giveUpAt) - performance.now();
    // Written so that NaN also returns: Atomics.wait would take it as "forever".
    if (!(left > 0)) return;
    Atomics.wait(this.cell, 0, 0, left === Number.POSITIVE_INFINITY ? undefined : left);
  }

  /** The outcome once ready; undefined before. */
  outcome(): SyncHttpOutcome | undefined {
    if (this.result !== undefined) return this.result;
    if (Atomics.load(this.cell, 0) !== 0) {
      this.result = this.bridge.take(this.id);
      // Note: the cell is set after the reply is posted, so the reply is there; never undefined.
    } else if (performance.now() >= this.giveUpAt) {
      this.bridge.forget(this.id);
      this.result = {
        ok: false,
        error: { code: 'internal', message: 'the HTTP bridge thread did not answer in time' },
        audit: [],
      };
    }
    return this.result;
  }
}
