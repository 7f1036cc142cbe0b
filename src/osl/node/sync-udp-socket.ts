/**
 * One UDP socket on the socket thread (sync-socket-bridge.ts), seen from the caller's thread:
 * bound, then sending to destinations the policy judged and receiving what arrives.
 *
 * THREAT MODEL: a datagram goes only where a TCP connect could (`net.datagram`: the egress
 * policy on `network.outbound` and the special-address rules), judged on the thread once per
 * destination and socket; the thread refuses to send anywhere it did not judge allowed. What
 * arrives is kept only from destinations the socket sent to (a stateful filter, as a NAT
 * would), unless the socket was bound where a `network.listen` grant covers (`open`). The
 * thread keeps at most `RECEIVE_QUEUE` datagrams the caller has not read; more are dropped, as
 * the OS drops datagrams for a full receive buffer.
 */

import type { AuditRecord } from '../audit/audit-log.js';
import {
  Bridged,
  type Datagram,
  type Endpoint,
  GRACE_MS,
  gaveUp,
  type SocketAuthority,
  type SocketEvent,
  type SocketFailure,
} from './sync-socket-bridge.js';

/** Datagrams kept for the caller, at most; the thread drops what would come past them. */
export const RECEIVE_QUEUE = 256;
/** Datagrams on their way to the OS, at most, before `sendRoom()` is 0. */
export const SEND_QUEUE = 64;
const BIND_TIMEOUT_MS = 5000;
const JUDGE_TIMEOUT_MS = 30_000;

/** A destination's judgement: under way, allowed, or refused (with the chain's reason). */
export type Judgement =
  | { readonly state: 'pending'; readonly giveUpAt: number }
  | { readonly state: 'allowed'; readonly audit: readonly AuditRecord[] }
  | { readonly state: 'refused'; readonly error: SocketFailure; readonly audit: readonly AuditRecord[] };

/** One key per destination, for maps and sets of them (addresses in the caller's text form). */
export const endpointKey = (e: Endpoint) => `${e.address}|${e.port}`;

/**
 * @example
 * const udp = SyncUdpSocket.create({ address: '0.0.0.0', port: 0, family: 4 }, false);
 * while (!udp.settled()) udp.wait(deadline);
 * udp.judge(authority, '127.0.0.1', { address: '127.0.0.1', port: 53, family: 4 });
 */
export class SyncUdpSocket extends Bridged {
  state: 'binding' | 'bound' | 'failed' | 'closed' = 'binding';
  failure: SocketFailure | undefined;
  local: Endpoint | undefined;
  private readonly bindGiveUpAt = performance.now() + BIND_TIMEOUT_MS + GRACE_MS;
  private readonly judged = new Map<string, Judgement>();
  private readonly received: { bytes: Uint8Array; remote: Endpoint }[] = [];
  private inFlight = 0;
  private sendError: SocketFailure | undefined;

  private constructor() {
    super();
  }

  static create(local: Endpoint, open: boolean): SyncUdpSocket {
    const socket = new SyncUdpSocket();
    socket.bridge.post({ kind: 'udp-bind', id: socket.id, local, open });
    return socket;
  }

  onEvent(event: SocketEvent): void {
    switch (event.kind) {
      case 'udp-bound':
        if (this.state === 'binding') {
          this.state = 'bound';
          this.local = event.local;
        }
        return;
      case 'failed':
        if (this.state === 'binding') {
          this.state = 'failed';
          this.failure = event.error;
          this.detach(false);
        }
        return;
      case 'udp-judged':
        this.judged.set(
          endpointKey(event.remote),
          event.error === undefined
            ? { state: 'allowed', audit: event.audit }
            : { state: 'refused', error: event.error, audit: event.audit },
        );
        return;
      case 'datagram':
        this.received.push({ bytes: event.bytes, remote: event.remote });
        return;
      case 'udp-sent':
        this.inFlight = Math.max(0, this.inFlight - event.count);
        if (event.error !== undefined) this.sendError ??= event.error;
        return;
      default:
    }
  }

  protected isReady(): boolean {
    if (this.state === 'binding' && performance.now() >= this.bindGiveUpAt) {
      this.failure = gaveUp('bind');
      this.close(); // while binding: the thread closes the socket if it ever binds
    }
    return this.state !== 'binding' && (this.state !== 'bound' || this.received.length > 0);
  }

  /** True once the bind has an outcome (`ready()` waits for a datagram too). */
  settled(): boolean {
    this.bridge.drain();
    this.isReady();
    return this.state !== 'binding';
  }

  /** Asks the thread whether datagrams may go to `remote` (judged as a connect to `host`), once. */
  judge(authority: SocketAuthority, host: string, remote: Endpoint): Judgement {
    this.bridge.drain();
    const key = endpointKey(remote);
    let judgement = this.judged.get(key);
    if (judgement === undefined) {
      judgement = { state: 'pending', giveUpAt: performance.now() + JUDGE_TIMEOUT_MS + GRACE_MS };
      this.judged.set(key, judgement);
      this.bridge.post({ kind: 'udp-judge', id: this.id, authority, host, remote });
    } else if (judgement.state === 'pending' && performance.now() >= judgement.giveUpAt) {
      judgement = { state: 'refused', error: gaveUp('datagram judgement'), audit: [] };
      this.judged.set(key, judgement);
    }
    return judgement;
  }

  /** Blocks until no judgement in `remotes` is pending, or `until`; may return early. */
  waitJudged(remotes: readonly Endpoint[], until: number): void {
    this.bridge.wait(() => this.allJudged(remotes), until);
  }

  waitJudgedAsync(remotes: readonly Endpoint[], until: number): Promise<void> {
    return this.bridge.waitAsync(() => this.allJudged(remotes), until);
  }

  private allJudged(remotes: readonly Endpoint[]): boolean {
    return remotes.every((r) => this.judged.get(endpointKey(r))?.state !== 'pending');
  }

  /** Sends to the connected peer only, and keeps datagrams from it only (or undoes that). */
  connect(remote: Endpoint | undefined): void {
    this.bridge.post({ kind: 'udp-connect', id: this.id, remote });
  }

  /** Datagrams `send` takes now; throws nothing: a failure shows in `takeSendError`. */
  sendRoom(): number {
    this.bridge.drain();
    return Math.max(0, SEND_QUEUE - this.inFlight);
  }

  /** Queues `datagrams` (each to an allowed destination, or the connected peer). */
  send(datagrams: readonly Datagram[]): void {
    if (this.state !== 'bound' || datagrams.length === 0) return;
    this.inFlight += datagrams.length;
    // Copies of their own (a Buffer's `slice` would share Node's pool), handed over to the thread.
    const copies = datagrams.map((d) => ({ bytes: new Uint8Array(d.bytes), remote: d.remote }));
    this.bridge.post({ kind: 'udp-send', id: this.id, datagrams: copies });
  }

  /** The first failure of an earlier send, once (the OS refused a datagram). */
  takeSendError(): SocketFailure | undefined {
    const error = this.sendError;
    this.sendError = undefined;
    return error;
  }

  /** Up to `max` datagrams received, oldest first. */
  receive(max: number): { bytes: Uint8Array; remote: Endpoint }[] {
    this.bridge.drain();
    const taken = this.received.splice(0, max);
    if (taken.length > 0) this.bridge.post({ kind: 'consumed', id: this.id, bytes: taken.length });
    return taken;
  }

  /** True when a datagram is waiting (or the socket is closed: nothing more will come). */
  hasDatagram(): boolean {
    this.bridge.drain();
    return this.received.length > 0 || this.state !== 'bound';
  }

  close(): void {
    if (this.state === 'closed') return;
    const was = this.state;
    this.state = 'closed';
    this.received.length = 0;
    this.detach(was !== 'failed');
  }
}
