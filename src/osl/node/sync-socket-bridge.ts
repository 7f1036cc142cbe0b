/**
 * A synchronous front for the sandbox's sockets — name lookups, TCP connections and TCP
 * listeners — for callers that cannot await (host functions called from WebAssembly run
 * between two guest instructions; the event loop does not turn until they return). Node's
 * sockets live on a thread of their own (sync-socket-worker.ts, one per calling thread, started
 * on first use and `unref`'d); this side keeps, per socket, what that thread has reported:
 * bytes received, bytes still being written, the connect's outcome.
 *
 * Requests go to the thread with `postMessage`; everything it reports comes back over one
 * `MessagePort` read with `receiveMessageOnPort` (no event loop needed), and after each report
 * the thread bumps a shared counter and `Atomics.notify`s it: a caller that must wait
 * `Atomics.wait`s on that counter, bounded by its own deadline, or `Atomics.waitAsync`s on it
 * when its call is suspended (JSPI). Reading is flow-controlled: the thread stops reading a
 * socket once `RECEIVE_WINDOW` bytes are here unread, and goes on as the caller reads them.
 *
 * Nothing here knows WebAssembly; `wasm/wasi/sockets/` is one caller.
 *
 * THREAT MODEL: as for sync-http-bridge.ts, every decision is made on the thread by the osl
 * chain (audit → egress policy → quota → the thread's own network port) from grants the
 * request carries: the thread holds none of its own, so one component's grants never judge
 * another's socket. A connect is judged on the address the socket really connects to (the
 * thread checks it again once connected), a lookup as a connect to that name would be, a
 * listener on its `network.listen` grants. The audit records come back with each outcome. A
 * thread that dies or hangs costs a caller at most its own time limit (`internal` after it).
 */

import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { AuditRecord } from '../audit/audit-log.js';
import type { Grants } from '../policy/grants.js';
import type { HostPolicy } from '../policy/host-policy.js';
import type { ResolvedAddress } from '../ports/network.js';

/** Who asks and what it may do; every request to the thread carries it. */
export interface SocketAuthority {
  readonly component: string;
  readonly version: string;
  /** osl form: `network.outbound`, `network.addresses`, `network.listen`. */
  readonly grants: Grants;
  readonly policy?: Pick<HostPolicy, 'securityMode' | 'deny'>;
}

/** An address and port as Node reports them (`127.0.0.1`, `::1`). */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** Why an operation failed: an `AirssysError` code, and the Node `errno` when there was one. */
export interface SocketFailure {
  readonly code: string;
  readonly errno?: string;
  readonly message: string;
}

/** Messages to the thread. */
export type SocketRequest =
  | { readonly kind: 'port'; readonly port: MessagePort; readonly cell: Int32Array }
  | {
      readonly kind: 'lookup';
      readonly id: number;
      readonly authority: SocketAuthority;
      readonly name: string;
    }
  | {
      readonly kind: 'connect';
      readonly id: number;
      readonly authority: SocketAuthority;
      /** What the policy judges: the name the address was looked up under, or the address. */
      readonly host: string;
      readonly remote: Endpoint;
      readonly local?: Endpoint;
      readonly timeoutMs: number;
    }
  | {
      readonly kind: 'listen';
      readonly id: number;
      readonly authority: SocketAuthority;
      readonly local: Endpoint;
      readonly backlog: number;
    }
  | { readonly kind: 'write'; readonly id: number; readonly bytes: Uint8Array }
  | { readonly kind: 'consumed'; readonly id: number; readonly bytes: number }
  | { readonly kind: 'end'; readonly id: number }
  | { readonly kind: 'keep-alive'; readonly id: number; readonly enabled: boolean; readonly idleMs: number }
  | { readonly kind: 'close'; readonly id: number }
  | { readonly kind: 'stats'; readonly id: number }
  | {
      readonly kind: 'udp-bind';
      readonly id: number;
      readonly local: Endpoint;
      /** Datagrams from anyone are kept (a listen grant covers the address); otherwise only from where it sent. */
      readonly open: boolean;
    }
  | {
      readonly kind: 'udp-judge';
      readonly id: number;
      readonly authority: SocketAuthority;
      /** What the policy judges (as for a connect) and the address datagrams would go to. */
      readonly host: string;
      readonly remote: Endpoint;
    }
  | { readonly kind: 'udp-connect'; readonly id: number; readonly remote?: Endpoint }
  | { readonly kind: 'udp-send'; readonly id: number; readonly datagrams: readonly Datagram[] };

/** One UDP datagram and where it goes (or came from); no address: the connected peer. */
export interface Datagram {
  readonly bytes: Uint8Array;
  readonly remote?: Endpoint;
}

/** Reports from the thread. */
export type SocketEvent =
  | {
      readonly kind: 'resolved';
      readonly id: number;
      readonly addresses?: readonly ResolvedAddress[];
      readonly error?: SocketFailure;
      readonly audit: readonly AuditRecord[];
    }
  | {
      readonly kind: 'connected';
      readonly id: number;
      readonly local: Endpoint;
      readonly remote: Endpoint;
      readonly audit: readonly AuditRecord[];
    }
  | {
      readonly kind: 'listening';
      readonly id: number;
      readonly local: Endpoint;
      readonly audit: readonly AuditRecord[];
    }
  | {
      readonly kind: 'failed';
      readonly id: number;
      readonly error: SocketFailure;
      readonly audit: readonly AuditRecord[];
    }
  | {
      readonly kind: 'accepted';
      readonly id: number;
      readonly child: number;
      readonly local: Endpoint;
      readonly remote: Endpoint;
    }
  | { readonly kind: 'data'; readonly id: number; readonly bytes: Uint8Array }
  | { readonly kind: 'written'; readonly id: number; readonly bytes: number }
  | { readonly kind: 'ended'; readonly id: number }
  | { readonly kind: 'error'; readonly id: number; readonly error: SocketFailure }
  | { readonly kind: 'stats'; readonly id: number; readonly sockets: number; readonly listeners: number }
  | { readonly kind: 'udp-bound'; readonly id: number; readonly local: Endpoint }
  | {
      readonly kind: 'udp-judged';
      readonly id: number;
      readonly remote: Endpoint;
      readonly error?: SocketFailure;
      readonly audit: readonly AuditRecord[];
    }
  | { readonly kind: 'datagram'; readonly id: number; readonly bytes: Uint8Array; readonly remote: Endpoint }
  | {
      readonly kind: 'udp-sent';
      readonly id: number;
      readonly count: number;
      readonly error?: SocketFailure;
    };

/** Bytes the thread reads ahead of the caller per socket before it stops reading. */
export const RECEIVE_WINDOW = 256 * 1024;
/** Time a caller grants the thread beyond an operation's own limit before giving up on it. */
export const GRACE_MS = 1000;

/** What the thread's reports about one id go to; held weakly (see `SocketBridge.open`). */
export interface Reported {
  onEvent(event: SocketEvent): void;
}

/** `Atomics.waitAsync` (ES2024; Node.js has it since 16), which the project's `lib` does not declare. */
interface AtomicsWaitAsync {
  waitAsync(
    array: Int32Array,
    index: number,
    value: number,
    timeout?: number,
  ): { async: false; value: string } | { async: true; value: Promise<string> };
}

export class SocketBridge {
  private nextId = 1;
  private readonly worker: Worker;
  private readonly events: MessagePort;
  /** Bumped by the thread after every report. */
  private readonly cell = new Int32Array(new SharedArrayBuffer(4));
  private readonly owners = new Map<number, WeakRef<Reported>>();
  /**
   * An owner the garbage collector found unreachable (an instance discarded without dropping
   * its sockets, a trap) has its socket closed on the thread, so it leaks nothing there.
   */
  private readonly collected = new FinalizationRegistry<number>((id) => {
    this.owners.delete(id);
    this.post({ kind: 'close', id });
  });

  constructor() {
    // Note: next to this file both in dist/ (tsc) and in the CLI bundle (dist/cli/, esbuild).
    this.worker = new Worker(new URL('./sync-socket-worker.js', import.meta.url));
    this.worker.unref();
    const { port1, port2 } = new MessageChannel();
    this.events = port1;
    const first: SocketRequest = { kind: 'port', port: port2, cell: this.cell };
    this.worker.postMessage(first, [port2]);
    const gone = (why: string) => {
      if (current === this) current = undefined;
      this.failAll(why);
    };
    this.worker.on('error', (error) => gone(`the socket thread failed: ${error.message}`));
    this.worker.on('exit', (code) => gone(`the socket thread exited (${code})`));
  }

  /** A new id whose reports go to `owner`, for as long as it is reachable. */
  open(owner: Reported): number {
    const id = this.nextId++;
    this.adopt(id, owner);
    return id;
  }

  /** Reports for an id the thread made (an accepted connection) go to `owner`. */
  adopt(id: number, owner: Reported): void {
    this.owners.set(id, new WeakRef(owner));
    this.collected.register(owner, id, owner);
  }

  /** No more reports for `id` (its late ones are dropped). */
  release(id: number, owner: Reported): void {
    this.owners.delete(id);
    this.collected.unregister(owner);
  }

  post(request: SocketRequest): void {
    const transfer =
      request.kind === 'write'
        ? [request.bytes.buffer as ArrayBuffer]
        : request.kind === 'udp-send'
          ? request.datagrams.map((d) => d.bytes.buffer as ArrayBuffer)
          : [];
    this.worker.postMessage(request, transfer);
  }

  /**
   * The thread is gone: every socket and lookup still waiting for it fails now, instead of
   * waiting out its own time limit, and the waiters are woken. (A later socket gets a new thread.)
   */
  private failAll(message: string): void {
    this.drain();
    const error: SocketFailure = { code: 'internal', message };
    for (const [id, ref] of [...this.owners]) {
      const owner = ref.deref();
      this.owners.delete(id);
      if (owner === undefined) continue;
      // Each kind of owner takes the one that ends what it waits for, and ignores the others.
      owner.onEvent({ kind: 'resolved', id, error, audit: [] });
      owner.onEvent({ kind: 'failed', id, error, audit: [] });
      owner.onEvent({ kind: 'error', id, error });
    }
    Atomics.add(this.cell, 0, 1);
    Atomics.notify(this.cell, 0);
  }

  /** Hands every report that has arrived to its listener; never blocks. */
  drain(): void {
    for (;;) {
      const next = receiveMessageOnPort(this.events);
      if (next === undefined) return;
      const event = next.message as SocketEvent;
      const owner = this.owners.get(event.id)?.deref();
      if (owner !== undefined) owner.onEvent(event);
      // Note: a connection accepted for a listener already closed is nobody's: close it too.
      else if (event.kind === 'accepted') this.post({ kind: 'close', id: event.child });
    }
  }

  /** Blocks until `done()` or until `performance.now()` reaches `until`; may return early. */
  wait(done: () => boolean, until: number): void {
    const wait = this.waitFrom(done, until);
    if (wait === undefined) return;
    Atomics.wait(this.cell, 0, wait.seen, wait.timeout);
    this.drain();
  }

  /** The same without blocking the thread: resolves at the next report or at `until`. */
  async waitAsync(done: () => boolean, until: number): Promise<void> {
    const wait = this.waitFrom(done, until);
    if (wait === undefined) return;
    const waiting = (Atomics as unknown as AtomicsWaitAsync).waitAsync(this.cell, 0, wait.seen, wait.timeout);
    if (waiting.async) await waiting.value;
    this.drain();
  }

  /**
   * What a wait waits on: the counter as it was before the reports were read (so a report that
   * comes in between still wakes it) and the time left; undefined when there is nothing to wait for.
   */
  private waitFrom(
    done: () => boolean,
    until: number,
  ): { seen: number; timeout: number | undefined } | undefined {
    const seen = Atomics.load(this.cell, 0);
    this.drain();
    if (done()) return undefined;
    const left = until - performance.now();
    // Written so that NaN also returns: Atomics.wait would take it as "forever".
    if (!(left > 0)) return undefined;
    return { seen, timeout: left === Number.POSITIVE_INFINITY ? undefined : left };
  }
}

let current: SocketBridge | undefined;

export function theBridge(): SocketBridge {
  current ??= new SocketBridge();
  return current;
}

/** Something the thread reports on, seen from the caller's thread. */
export abstract class Bridged {
  protected readonly bridge = theBridge();
  /** The thread's name for it: a new one, or the one it made (an accepted connection). */
  protected readonly id: number;

  constructor(adopted?: number) {
    if (adopted === undefined) this.id = this.bridge.open(this);
    else {
      this.id = adopted;
      this.bridge.adopt(adopted, this);
    }
  }

  abstract onEvent(event: SocketEvent): void;

  /** True when the caller has something to act on; never blocks (reads the reports first). */
  ready(): boolean {
    this.bridge.drain();
    return this.isReady();
  }

  protected abstract isReady(): boolean;

  /** Blocks until `ready()` or until `performance.now()` reaches `until`; may return early. */
  wait(until: number): void {
    this.bridge.wait(() => this.isReady(), until);
  }

  /** `wait` without blocking the thread (a call suspended on JSPI). */
  waitAsync(until: number): Promise<void> {
    return this.bridge.waitAsync(() => this.isReady(), until);
  }

  /** No more reports for it; and, unless nothing of it is left there, closes it on the thread. */
  protected detach(closeOnThread: boolean): void {
    this.bridge.release(this.id, this);
    if (closeOnThread) this.bridge.post({ kind: 'close', id: this.id });
  }
}

/** The outcome of a lookup: addresses, or why not; `audit` holds the chain's decision. */
export type LookupOutcome =
  | {
      readonly ok: true;
      readonly addresses: readonly ResolvedAddress[];
      readonly audit: readonly AuditRecord[];
    }
  | { readonly ok: false; readonly error: SocketFailure; readonly audit: readonly AuditRecord[] };

/**
 * One name lookup under way on the thread.
 *
 * @example
 * const lookup = new PendingLookup(authority, 'api.example.com', 5000);
 * while (!lookup.ready()) lookup.wait(performance.now() + 5000);
 * lookup.outcome(); // { ok: true, addresses: [{ address: '93.184.215.14', family: 4 }], audit: [...] }
 */
export class PendingLookup extends Bridged {
  private result: LookupOutcome | undefined;
  private readonly giveUpAt: number;

  constructor(authority: SocketAuthority, name: string, timeoutMs: number) {
    super();
    this.giveUpAt = performance.now() + timeoutMs + GRACE_MS;
    this.bridge.post({ kind: 'lookup', id: this.id, authority, name });
  }

  onEvent(event: SocketEvent): void {
    if (event.kind !== 'resolved') return;
    this.detach(false);
    this.result =
      event.error === undefined
        ? { ok: true, addresses: event.addresses ?? [], audit: event.audit }
        : { ok: false, error: event.error, audit: event.audit };
  }

  protected isReady(): boolean {
    return this.outcome() !== undefined;
  }

  override wait(until: number): void {
    super.wait(Math.min(until, this.giveUpAt));
  }

  /** The outcome once the thread answered (or was given up on); undefined before. */
  outcome(): LookupOutcome | undefined {
    if (this.result === undefined && performance.now() >= this.giveUpAt) {
      this.detach(false);
      this.result = { ok: false, error: gaveUp('lookup'), audit: [] };
    }
    return this.result;
  }
}

export function gaveUp(what: string): SocketFailure {
  return { code: 'internal', message: `the socket thread did not answer the ${what} in time` };
}

/** A read or write on a connection failed: `code` is Node's errno (`ECONNRESET`…). */
export class SocketStreamError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'SocketStreamError';
  }
}

export type ConnectionState = 'connecting' | 'connected' | 'failed' | 'closed';

/**
 * One TCP connection on the thread, seen from the caller's thread: connecting, then a byte
 * pipe both ways. `read` and `write` never block; `wait` waits for the connect's outcome or
 * for bytes, `waitWritten` for bytes to be handed to the OS.
 *
 * @example
 * const conn = SyncTcpConnection.connect(authority, { host: '127.0.0.1', remote: { address: '127.0.0.1', port: 7, family: 4 }, timeoutMs: 5000 });
 * while (!conn.ready()) conn.wait(deadline);
 * conn.write(new TextEncoder().encode('hi'));
 */
export class SyncTcpConnection extends Bridged {
  state: ConnectionState = 'connecting';
  /** Why the connect failed, once `failed`. */
  failure: SocketFailure | undefined;
  local: Endpoint | undefined;
  remote: Endpoint | undefined;
  /** The chain's decisions about the connect, once it is settled. */
  audit: readonly AuditRecord[] = [];
  private readonly chunks: Uint8Array[] = [];
  private received = 0;
  private peerEnded = false;
  private receiveShut = false;
  private sendShut = false;
  private streamError: SocketFailure | undefined;
  private unwritten = 0;
  private readonly giveUpAt: number;

  private constructor(id: number | undefined, giveUpAfterMs: number) {
    super(id);
    this.giveUpAt = performance.now() + giveUpAfterMs;
  }

  /** Starts connecting to `remote`, judged as a connect to `host` (a name that resolved to it, or itself). */
  static connect(
    authority: SocketAuthority,
    target: { host: string; remote: Endpoint; local?: Endpoint; timeoutMs: number },
  ): SyncTcpConnection {
    const conn = new SyncTcpConnection(undefined, target.timeoutMs + GRACE_MS);
    conn.bridge.post({ kind: 'connect', id: conn.id, authority, ...target });
    return conn;
  }

  /** A connection a listener accepted (the thread's `child` id). */
  static accepted(child: number, local: Endpoint, remote: Endpoint): SyncTcpConnection {
    const conn = new SyncTcpConnection(child, 0);
    conn.state = 'connected';
    conn.local = local;
    conn.remote = remote;
    return conn;
  }

  onEvent(event: SocketEvent): void {
    switch (event.kind) {
      case 'connected':
        if (this.state !== 'connecting') return;
        this.state = 'connected';
        this.local = event.local;
        this.remote = event.remote;
        this.audit = event.audit;
        return;
      case 'failed':
        if (this.state !== 'connecting') return;
        this.state = 'failed';
        this.failure = event.error;
        this.audit = event.audit;
        this.detach(false);
        return;
      case 'data':
        if (this.receiveShut) this.consumed(event.bytes.length);
        else {
          this.chunks.push(event.bytes);
          this.received += event.bytes.length;
        }
        return;
      case 'written':
        this.unwritten = Math.max(0, this.unwritten - event.bytes);
        return;
      case 'ended':
        this.peerEnded = true;
        return;
      case 'error':
        this.streamError ??= event.error;
        this.unwritten = 0;
        return;
      default:
    }
  }

  protected isReady(): boolean {
    if (this.state === 'connecting') {
      if (performance.now() >= this.giveUpAt) {
        this.failure = gaveUp('connect');
        // Note: while still connecting, so that the thread destroys the socket if it ever connects.
        this.close();
      }
      return this.state !== 'connecting';
    }
    return this.readable();
  }

  override wait(until: number): void {
    super.wait(this.state === 'connecting' ? Math.min(until, this.giveUpAt) : until);
  }

  /** True once the connect has an outcome (`ready()` also waits for bytes once connected). */
  settled(): boolean {
    this.bridge.drain();
    this.isReady();
    return this.state !== 'connecting';
  }

  /** True when `read` would not wait: bytes, the end, or an error are there. */
  readable(): boolean {
    return (
      this.received > 0 ||
      this.peerEnded ||
      this.receiveShut ||
      this.streamError !== undefined ||
      this.state !== 'connected'
    );
  }

  /** Up to `max` bytes received (perhaps none yet), `null` at the end; throws `SocketStreamError` on failure. */
  read(max: number): Uint8Array | null {
    this.bridge.drain();
    if (this.received > 0 && !this.receiveShut) {
      const first = this.chunks[0];
      const bytes = first.length <= max ? first : first.subarray(0, max);
      if (bytes === first) this.chunks.shift();
      else this.chunks[0] = first.subarray(max);
      this.received -= bytes.length;
      this.consumed(bytes.length);
      return bytes;
    }
    if (this.streamError !== undefined) throw failureError(this.streamError);
    if (this.peerEnded || this.receiveShut || this.state !== 'connected') return null;
    return EMPTY;
  }

  private consumed(bytes: number): void {
    if (this.state === 'connected') this.bridge.post({ kind: 'consumed', id: this.id, bytes });
  }

  /** Queues `bytes` for sending (the thread writes them in order); throws `SocketStreamError` once failed. */
  write(bytes: Uint8Array): void {
    this.bridge.drain();
    if (this.streamError !== undefined) throw failureError(this.streamError);
    if (this.state !== 'connected' || this.sendShut) {
      throw new SocketStreamError(
        this.sendShut ? 'the connection is shut down for sending' : 'the connection is closed',
        'EPIPE',
      );
    }
    if (bytes.length === 0) return;
    // A copy of its own (a Buffer's `slice` would share Node's pool), handed over to the thread.
    this.bridge.post({ kind: 'write', id: this.id, bytes: new Uint8Array(bytes) });
    this.unwritten += bytes.length;
  }

  /** Bytes queued and not yet handed to the OS; throws `SocketStreamError` once failed. */
  unwrittenBytes(): number {
    this.bridge.drain();
    if (this.streamError !== undefined) throw failureError(this.streamError);
    return this.unwritten;
  }

  /** Blocks until `unwrittenBytes()` is at most `atMost` (or it failed) or `until` comes; may return early. */
  waitWritten(atMost: number, until: number): void {
    this.bridge.wait(() => this.unwritten <= atMost || this.streamError !== undefined, until);
  }

  waitWrittenAsync(atMost: number, until: number): Promise<void> {
    return this.bridge.waitAsync(() => this.unwritten <= atMost || this.streamError !== undefined, until);
  }

  /** Shuts down receiving (what arrives is dropped) and/or sending (a FIN after what is queued). */
  shutdown(receive: boolean, send: boolean): void {
    if (this.state !== 'connected') return;
    if (receive && !this.receiveShut) {
      this.receiveShut = true;
      this.consumed(this.received);
      this.chunks.length = 0;
      this.received = 0;
    }
    if (send && !this.sendShut) {
      this.sendShut = true;
      this.bridge.post({ kind: 'end', id: this.id });
    }
  }

  setKeepAlive(enabled: boolean, idleMs: number): void {
    if (this.state === 'connected') this.bridge.post({ kind: 'keep-alive', id: this.id, enabled, idleMs });
  }

  /** Destroys the socket on the thread; reads and writes fail after. Idempotent. */
  close(): void {
    if (this.state === 'closed') return;
    const was = this.state;
    this.state = 'closed';
    // A failed connect left nothing on the thread; a pending one is destroyed when it settles.
    this.detach(was !== 'failed');
  }
}

const EMPTY = new Uint8Array(0);

function failureError(failure: SocketFailure): SocketStreamError {
  return new SocketStreamError(failure.message, failure.errno);
}

/**
 * One TCP listener on the thread: starting, then listening, with the connections it accepted
 * waiting to be taken.
 *
 * @example
 * const listener = SyncTcpListener.listen(authority, { address: '127.0.0.1', port: 0, family: 4 }, 128);
 * while (!listener.ready()) listener.wait(deadline);
 * const conn = listener.accept(); // undefined when none is waiting
 */
export class SyncTcpListener extends Bridged {
  state: 'starting' | 'listening' | 'failed' | 'closed' = 'starting';
  failure: SocketFailure | undefined;
  local: Endpoint | undefined;
  audit: readonly AuditRecord[] = [];
  private readonly waiting: SyncTcpConnection[] = [];
  private readonly giveUpAt = performance.now() + 10_000;

  private constructor() {
    super();
  }

  static listen(authority: SocketAuthority, local: Endpoint, backlog: number): SyncTcpListener {
    const listener = new SyncTcpListener();
    listener.bridge.post({ kind: 'listen', id: listener.id, authority, local, backlog });
    return listener;
  }

  onEvent(event: SocketEvent): void {
    if (event.kind === 'listening' && this.state === 'starting') {
      this.state = 'listening';
      this.local = event.local;
      this.audit = event.audit;
    } else if (event.kind === 'failed' && this.state === 'starting') {
      this.state = 'failed';
      this.failure = event.error;
      this.audit = event.audit;
      this.detach(false);
    } else if (event.kind === 'accepted') {
      // Note: adopted now, so that bytes sent right after the accept are kept for it.
      const conn = SyncTcpConnection.accepted(event.child, event.local, event.remote);
      if (this.state === 'listening') this.waiting.push(conn);
      else conn.close();
    }
  }

  protected isReady(): boolean {
    if (this.state === 'starting' && performance.now() >= this.giveUpAt) {
      this.failure = gaveUp('listen');
      this.close(); // while starting: the thread closes the listener if it ever listens
    }
    return this.state !== 'starting' && (this.state !== 'listening' || this.waiting.length > 0);
  }

  /** True once the listen has an outcome (`ready()` waits for a connection too). */
  settled(): boolean {
    this.bridge.drain();
    this.isReady();
    return this.state !== 'starting';
  }

  /** The next accepted connection, if one is waiting. */
  accept(): SyncTcpConnection | undefined {
    this.bridge.drain();
    return this.waiting.shift();
  }

  close(): void {
    if (this.state === 'closed') return;
    const was = this.state;
    this.state = 'closed';
    for (const conn of this.waiting.splice(0)) conn.close();
    this.detach(was !== 'failed');
  }
}

/**
 * How many sockets and listeners the thread holds right now (waits up to `timeoutMs` for its
 * answer; undefined if none came): for tests and leak checks.
 */
export function socketThreadStats(timeoutMs = 2000): { sockets: number; listeners: number } | undefined {
  const b = theBridge();
  let answer: { sockets: number; listeners: number } | undefined;
  const owner: Reported = {
    onEvent(event) {
      if (event.kind === 'stats') answer = { sockets: event.sockets, listeners: event.listeners };
    },
  };
  const id = b.open(owner);
  b.post({ kind: 'stats', id });
  const until = performance.now() + timeoutMs;
  while (answer === undefined && performance.now() < until) b.wait(() => answer !== undefined, until);
  b.release(id, owner);
  return answer;
}
