/**
 * The host object behind a `tcp-socket` handle: the WIT's state machine (after wasmtime's),
 * over a connection or listener on the socket thread.
 *
 *   unbound ─start-bind→ binding ─finish-bind→ bound ─start-listen→ listen-started
 *      │                                         │                    └─finish-listen→ listening
 *      └──────────────start-connect──────────────┴→ connecting ─finish-connect→ connected | closed
 *
 * `start-*` only starts: the work is done on the thread, and `finish-*` answers `would-block`
 * until it is (`subscribe` is ready then). Out of order calls answer `not-in-progress`,
 * `invalid-state` or `concurrency-conflict` as wasmtime does; nothing the guest calls reaches
 * the host as an exception.
 *
 * Node binds a TCP socket only when it connects or listens, so `finish-bind` only records the
 * address (checked against `network.listen` at `start-bind`): an address in use is reported by
 * `finish-listen` or `finish-connect`, and `local-address` of a socket bound to port 0 says 0
 * until then.
 */

import { type Endpoint, SyncTcpConnection, SyncTcpListener } from '../../../osl/node/sync-socket-bridge.js';
import { InputStream, OutputStream } from '../streams.js';
import { OK_EMPTY, ok, type Result } from '../values.js';
import {
  clampBufferSize,
  type ErrorCode,
  endpointOf,
  errorCodeOf,
  fail,
  type IpAddressFamily,
  type IpSocketAddress,
  isIpv4Mapped,
  isValidRemote,
  type SocketsContext,
  socketAddressOf,
} from './network.js';
import { NOTHING_TO_WAIT_FOR, readyWhen, SocketPollable } from './pollable.js';
import { receivingSource, sendingSink } from './socket-streams.js';

/** Operation names refusals are reported under (`onDenied`). */
export const CONNECT_OPERATION = 'wasi.sockets.tcp.connect';
export const LISTEN_OPERATION = 'wasi.sockets.tcp.listen';
export const BIND_OPERATION = 'wasi.sockets.tcp.start-bind';

/** How long the thread tries to connect (the OS gives up after about two minutes). */
const CONNECT_TIMEOUT_MS = 60_000;
const NS_PER_MS = 1_000_000n;

type State =
  | { tag: 'unbound' }
  | { tag: 'binding'; local: Endpoint }
  | { tag: 'bound'; local: Endpoint }
  | { tag: 'connecting'; conn: SyncTcpConnection }
  | { tag: 'connected'; conn: SyncTcpConnection }
  | { tag: 'listen-started'; listener: SyncTcpListener }
  | { tag: 'listening'; listener: SyncTcpListener }
  | { tag: 'closed' };

/** The options a guest may set; those Node cannot apply are kept and reported back. */
export interface Options {
  keepAlive: boolean;
  keepAliveIdleNs: bigint;
  keepAliveIntervalNs: bigint;
  keepAliveCount: number;
  hopLimit: number;
  receiveBufferSize: bigint;
  sendBufferSize: bigint;
  backlog: number;
}

/** Linux's defaults (what a new socket reports there). */
const DEFAULT_OPTIONS: Readonly<Options> = Object.freeze({
  keepAlive: false,
  keepAliveIdleNs: 7200n * 1000n * NS_PER_MS,
  keepAliveIntervalNs: 75n * 1000n * NS_PER_MS,
  keepAliveCount: 9,
  hopLimit: 64,
  receiveBufferSize: 131072n,
  sendBufferSize: 16384n,
  backlog: 128,
});

/** The options whose setters take any value but zero, as given (or clamped). */
type NonZeroOption =
  | 'keepAliveIntervalNs'
  | 'keepAliveCount'
  | 'hopLimit'
  | 'receiveBufferSize'
  | 'sendBufferSize';

export class TcpSocket {
  private state: State = { tag: 'unbound' };
  private readonly options: Options;
  /** Counts the socket closed in the instance's limit. */
  private readonly release: () => void;

  constructor(
    readonly family: IpAddressFamily,
    private readonly sockets: SocketsContext,
    options: Readonly<Options> = DEFAULT_OPTIONS,
    connected?: SyncTcpConnection,
  ) {
    this.options = { ...options };
    this.release = sockets.claim();
    if (connected !== undefined) this.state = { tag: 'connected', conn: connected };
  }

  startBind(local: IpSocketAddress): Result<undefined, ErrorCode> {
    if (this.state.tag !== 'unbound') return fail('invalid-state');
    if (local.tag !== this.family || isIpv4Mapped(local)) return fail('invalid-argument');
    const endpoint = endpointOf(local);
    const refusal = this.sockets.listenRefusal(endpoint);
    if (refusal !== undefined) {
      this.sockets.denied(BIND_OPERATION, `${endpoint.address}:${endpoint.port}`, refusal);
      return fail('access-denied');
    }
    this.state = { tag: 'binding', local: endpoint };
    return OK_EMPTY;
  }

  finishBind(): Result<undefined, ErrorCode> {
    if (this.state.tag !== 'binding') return fail('not-in-progress');
    this.state = { tag: 'bound', local: this.state.local };
    return OK_EMPTY;
  }

  startConnect(remote: IpSocketAddress): Result<undefined, ErrorCode> {
    const state = this.state;
    if (state.tag === 'connecting' || state.tag === 'binding' || state.tag === 'listen-started') {
      return fail('concurrency-conflict');
    }
    if (state.tag !== 'unbound' && state.tag !== 'bound') return fail('invalid-state');
    if (!isValidRemote(remote, this.family)) return fail('invalid-argument');
    const target = endpointOf(remote);
    if (isMulticastOrBroadcast(target)) return fail('invalid-argument');
    const conn = SyncTcpConnection.connect(this.sockets.authority, {
      host: this.sockets.hostFor(target.address),
      remote: target,
      local: state.tag === 'bound' ? state.local : undefined,
      timeoutMs: CONNECT_TIMEOUT_MS,
    });
    this.state = { tag: 'connecting', conn };
    return OK_EMPTY;
  }

  finishConnect(): Result<[InputStream, OutputStream], ErrorCode> {
    const state = this.state;
    if (state.tag !== 'connecting') return fail('not-in-progress');
    if (!state.conn.settled()) return fail('would-block');
    const { conn } = state;
    this.sockets.report(CONNECT_OPERATION, conn.audit);
    if (conn.state !== 'connected') {
      this.state = { tag: 'closed' };
      return fail(conn.failure === undefined ? 'unknown' : errorCodeOf(conn.failure));
    }
    this.state = { tag: 'connected', conn };
    this.applyKeepAlive();
    return ok(this.streams(conn));
  }

  /** The streams of a connection, named for debugging by its peer. */
  streams(conn: SyncTcpConnection): [InputStream, OutputStream] {
    const name = `tcp ${conn.remote?.address}:${conn.remote?.port}`;
    return [
      new InputStream(name, receivingSource(conn), this.sockets.limits.maxRead),
      new OutputStream(name, sendingSink(conn), this.sockets.limits.maxWrite),
    ];
  }

  startListen(): Result<undefined, ErrorCode> {
    const state = this.state;
    if (state.tag === 'binding' || state.tag === 'connecting') return fail('concurrency-conflict');
    if (state.tag !== 'bound') return fail('invalid-state');
    const listener = SyncTcpListener.listen(this.sockets.authority, state.local, this.options.backlog);
    this.state = { tag: 'listen-started', listener };
    return OK_EMPTY;
  }

  finishListen(): Result<undefined, ErrorCode> {
    const state = this.state;
    if (state.tag !== 'listen-started') return fail('not-in-progress');
    if (!state.listener.settled()) return fail('would-block');
    const { listener } = state;
    this.sockets.report(LISTEN_OPERATION, listener.audit);
    if (listener.state !== 'listening') {
      this.state = { tag: 'closed' };
      return fail(listener.failure === undefined ? 'unknown' : errorCodeOf(listener.failure));
    }
    this.state = { tag: 'listening', listener };
    return OK_EMPTY;
  }

  accept(): Result<[TcpSocket, InputStream, OutputStream], ErrorCode> {
    if (this.state.tag !== 'listening') return fail('invalid-state');
    if (this.sockets.full()) return fail('new-socket-limit');
    const conn = this.state.listener.accept();
    if (conn === undefined) return fail('would-block');
    // The accepted socket inherits the listener's options, as the WIT says.
    const socket = new TcpSocket(this.family, this.sockets, this.options, conn);
    socket.applyKeepAlive();
    return ok([socket, ...socket.streams(conn)]);
  }

  localAddress(): Result<IpSocketAddress, ErrorCode> {
    const state = this.state;
    switch (state.tag) {
      case 'bound':
        return ok(socketAddressOf(state.local));
      case 'connected':
        return state.conn.local === undefined ? fail('invalid-state') : ok(socketAddressOf(state.conn.local));
      case 'listening':
        return state.listener.local === undefined
          ? fail('invalid-state')
          : ok(socketAddressOf(state.listener.local));
      default:
        return fail('invalid-state');
    }
  }

  remoteAddress(): Result<IpSocketAddress, ErrorCode> {
    const state = this.state;
    if (state.tag !== 'connected' || state.conn.remote === undefined) return fail('invalid-state');
    return ok(socketAddressOf(state.conn.remote));
  }

  isListening(): boolean {
    return this.state.tag === 'listening';
  }

  setListenBacklogSize(value: bigint): Result<undefined, ErrorCode> {
    if (value === 0n) return fail('invalid-argument');
    const tag = this.state.tag;
    if (tag === 'connecting' || tag === 'connected') return fail('invalid-state');
    // Note: a listener already listening keeps its backlog (Node cannot change it).
    if (tag === 'listening' || tag === 'listen-started') return fail('not-supported');
    this.options.backlog = Number(value > 65535n ? 65535n : value);
    return OK_EMPTY;
  }

  /** An option as the guest set it (or as the socket it was accepted by had it), else the default. */
  option<K extends keyof Options>(key: K): Result<Options[K], ErrorCode> {
    return ok(this.options[key]);
  }

  setKeepAliveEnabled(value: boolean): Result<undefined, ErrorCode> {
    this.options.keepAlive = value;
    this.applyKeepAlive();
    return OK_EMPTY;
  }

  setKeepAliveIdleTime(value: bigint): Result<undefined, ErrorCode> {
    if (value <= 0n) return fail('invalid-argument');
    // Whole seconds, rounded up, as the OS keeps it (and wasmtime reports it).
    const second = 1000n * NS_PER_MS;
    this.options.keepAliveIdleNs = ((value + second - 1n) / second) * second;
    this.applyKeepAlive();
    return OK_EMPTY;
  }

  setKeepAliveInterval(value: bigint): Result<undefined, ErrorCode> {
    return this.setNonZero('keepAliveIntervalNs', value);
  }

  setKeepAliveCount(value: number): Result<undefined, ErrorCode> {
    return this.setNonZero('keepAliveCount', value);
  }

  setHopLimit(value: number): Result<undefined, ErrorCode> {
    return this.setNonZero('hopLimit', value);
  }

  setReceiveBufferSize(value: bigint): Result<undefined, ErrorCode> {
    return this.setNonZero('receiveBufferSize', clampBufferSize(value));
  }

  setSendBufferSize(value: bigint): Result<undefined, ErrorCode> {
    return this.setNonZero('sendBufferSize', clampBufferSize(value));
  }

  /** Keeps `value` unless it is zero (or less), which the WIT answers `invalid-argument`. */
  private setNonZero<K extends NonZeroOption>(key: K, value: Options[K]): Result<undefined, ErrorCode> {
    if (value <= 0) return fail('invalid-argument');
    this.options[key] = value;
    return OK_EMPTY;
  }

  subscribe(): SocketPollable {
    const state = this.state;
    switch (state.tag) {
      case 'connecting':
        return new SocketPollable(
          'tcp-socket connect',
          readyWhen(() => state.conn.settled(), state.conn),
        );
      case 'listen-started':
        return new SocketPollable(
          'tcp-socket listen',
          readyWhen(() => state.listener.settled(), state.listener),
        );
      case 'listening':
        return new SocketPollable('tcp-socket accept', state.listener);
      default:
        return new SocketPollable('tcp-socket', NOTHING_TO_WAIT_FOR);
    }
  }

  shutdown(how: 'receive' | 'send' | 'both'): Result<undefined, ErrorCode> {
    if (this.state.tag !== 'connected') return fail('invalid-state');
    this.state.conn.shutdown(how !== 'send', how !== 'receive');
    return OK_EMPTY;
  }

  private applyKeepAlive(): void {
    if (this.state.tag !== 'connected') return;
    this.state.conn.setKeepAlive(this.options.keepAlive, Number(this.options.keepAliveIdleNs / NS_PER_MS));
  }

  /** The guest dropped the socket: its connection or listener on the thread goes too. */
  [Symbol.dispose](): void {
    const state = this.state;
    if (state.tag === 'connecting' || state.tag === 'connected') {
      if (state.tag === 'connecting' && state.conn.settled())
        this.sockets.report(CONNECT_OPERATION, state.conn.audit);
      state.conn.close();
    } else if (state.tag === 'listen-started' || state.tag === 'listening') state.listener.close();
    this.state = { tag: 'closed' };
    this.release();
  }
}

function isMulticastOrBroadcast(endpoint: Endpoint): boolean {
  // ff00::/8: the first 16-bit group (written without leading zeros: `ff:…` is 0x00ff, not multicast).
  if (endpoint.family === 6) return Number.parseInt(endpoint.address.split(':')[0] || '0', 16) >= 0xff00;
  const first = Number(endpoint.address.split('.')[0]);
  return (first >= 224 && first <= 239) || endpoint.address === '255.255.255.255';
}
