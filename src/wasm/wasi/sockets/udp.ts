/**
 * `wasi:sockets/udp@0.2` and `wasi:sockets/udp-create-socket@0.2`, over a UDP socket on the
 * socket thread (osl/node/sync-udp-socket.ts): `start-bind` / `finish-bind`, then `stream`
 * gives the datagram streams (connected to one peer, or not).
 *
 * Grants: a bind to port 0 (what a client does, and what wasi-libc does before `sendto`) needs
 * no grant; a bind to a given port needs `network.listen` as TCP does (`access-denied`). A
 * datagram goes only where a TCP connect could (`network.outbound` and the special-address
 * rules, a looked-up address judged as its name): each destination is judged once per socket
 * on the thread, and `send` (or `stream` with a peer) waits for that within the call's
 * deadline; a refused one is `access-denied` and reported. What arrives is kept only from
 * destinations the socket sent to (or its peer), unless a listen grant covers its address.
 */

import type { Endpoint } from '../../../osl/node/sync-socket-bridge.js';
import { endpointKey, SyncUdpSocket } from '../../../osl/node/sync-udp-socket.js';
import type { CallBudget } from '../../engine/call-budget.js';
import { waitForAny } from '../poll.js';
import { budgeted, guestTrap, type Interface, length, OK_EMPTY, ok, type Result } from '../values.js';
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
  methods,
  networkOf,
  type SocketsContext,
  socketAddressOf,
} from './network.js';
import { NOTHING_TO_WAIT_FOR, readyWhen, SocketPollable } from './pollable.js';

/** Operation names refusals are reported under (`onDenied`). */
export const UDP_BIND_OPERATION = 'wasi.sockets.udp.start-bind';
export const DATAGRAM_OPERATION = 'wasi.sockets.udp.send';

/** Largest payload of one datagram (IPv4: 65535 − 8 − 20; IPv6 without jumbograms: 65535 − 8). */
const MAX_DATAGRAM = { ipv4: 65507, ipv6: 65527 } as const;

interface IncomingDatagram {
  data: Uint8Array;
  remoteAddress: IpSocketAddress;
}

interface OutgoingDatagram {
  data: Uint8Array;
  remoteAddress: IpSocketAddress | undefined;
}

type State =
  | { tag: 'unbound' }
  | { tag: 'binding'; udp: SyncUdpSocket }
  | { tag: 'bound'; udp: SyncUdpSocket }
  | { tag: 'closed' };

export class UdpSocket {
  private state: State = { tag: 'unbound' };
  /** The peer of the current streams, if `stream` was given one. */
  private peer: Endpoint | undefined;
  /** Bumped by every `stream`: older streams are closed. */
  private generation = 0;
  private readonly reported = new Set<string>();
  private hopLimit = 64;
  private receiveBufferSize = 212992n;
  private sendBufferSize = 212992n;
  /** Counts the socket closed in the instance's limit. */
  private readonly release: () => void;

  constructor(
    readonly family: IpAddressFamily,
    private readonly sockets: SocketsContext,
  ) {
    this.release = sockets.claim();
  }

  startBind(local: IpSocketAddress): Result<undefined, ErrorCode> {
    if (this.state.tag !== 'unbound') return fail('invalid-state');
    if (local.tag !== this.family || isIpv4Mapped(local)) return fail('invalid-argument');
    const endpoint = endpointOf(local);
    const refusal = this.sockets.listenRefusal(endpoint);
    // Note: an ephemeral port is a client's; only a chosen port needs the listen grant.
    if (refusal !== undefined && endpoint.port !== 0) {
      this.sockets.denied(UDP_BIND_OPERATION, `${endpoint.address}:${endpoint.port}`, refusal);
      return fail('access-denied');
    }
    this.state = { tag: 'binding', udp: SyncUdpSocket.create(endpoint, refusal === undefined) };
    return OK_EMPTY;
  }

  finishBind(): Result<undefined, ErrorCode> {
    const state = this.state;
    if (state.tag !== 'binding') return fail('not-in-progress');
    if (!state.udp.settled()) return fail('would-block');
    if (state.udp.state !== 'bound') {
      this.state = { tag: 'closed' };
      return fail(state.udp.failure === undefined ? 'unknown' : errorCodeOf(state.udp.failure));
    }
    this.state = { tag: 'bound', udp: state.udp };
    return OK_EMPTY;
  }

  stream(
    remote: IpSocketAddress | undefined,
    budget: CallBudget,
  ): Result<[IncomingDatagramStream, OutgoingDatagramStream], ErrorCode> {
    if (this.state.tag !== 'bound') return fail('invalid-state');
    const udp = this.state.udp;
    let peer: Endpoint | undefined;
    if (remote !== undefined) {
      const invalid = this.invalidDestination(remote);
      if (invalid !== undefined) return fail(invalid);
      peer = endpointOf(remote);
      const refused = this.judge(udp, [peer], budget);
      if (refused !== undefined) return fail(refused.code);
    }
    this.peer = peer;
    udp.connect(peer);
    const generation = ++this.generation;
    return ok([
      new IncomingDatagramStream(this, udp, generation),
      new OutgoingDatagramStream(this, udp, generation),
    ]);
  }

  /** Why `remote` cannot be a destination of this socket, if it cannot. */
  invalidDestination(remote: IpSocketAddress): ErrorCode | undefined {
    return isValidRemote(remote, this.family) ? undefined : 'invalid-argument';
  }

  /**
   * Waits (within the call's budget) until the thread has judged every one of `remotes`; the
   * first refused one and why, if any. Every judgement is reported once.
   */
  judge(
    udp: SyncUdpSocket,
    remotes: readonly Endpoint[],
    budget: CallBudget,
  ): { code: ErrorCode; remote: Endpoint } | undefined {
    // Every one asked (not only up to the first pending one), so that all are judged at once.
    const judged = () =>
      remotes.map((r) => udp.judge(this.sockets.authority, this.sockets.hostFor(r.address), r));
    const watched = {
      ready: () => judged().every((judgement) => judgement.state !== 'pending'),
      wait: (until: number) => udp.waitJudged(remotes, until),
      waitAsync: (until: number) => udp.waitJudgedAsync(remotes, until),
    };
    // Note: asking again is harmless (each is asked once), so a suspended call may start here again.
    waitForAny([new SocketPollable('udp judgement', watched)], budget);
    const judgements = judged();
    for (const [i, remote] of remotes.entries()) {
      const judgement = judgements[i];
      const key = endpointKey(remote);
      if (judgement.state !== 'pending' && !this.reported.has(key)) {
        this.reported.add(key);
        this.sockets.report(DATAGRAM_OPERATION, judgement.audit);
      }
      if (judgement.state === 'refused') return { code: errorCodeOf(judgement.error), remote };
    }
    return undefined;
  }

  current(generation: number): boolean {
    return generation === this.generation && this.state.tag === 'bound';
  }

  peerOf(): Endpoint | undefined {
    return this.peer;
  }

  localAddress(): Result<IpSocketAddress, ErrorCode> {
    const state = this.state;
    if (state.tag !== 'bound' || state.udp.local === undefined) return fail('invalid-state');
    return ok(socketAddressOf(state.udp.local));
  }

  remoteAddress(): Result<IpSocketAddress, ErrorCode> {
    return this.peer === undefined ? fail('invalid-state') : ok(socketAddressOf(this.peer));
  }

  unicastHopLimit(): Result<number, ErrorCode> {
    return ok(this.hopLimit);
  }

  setUnicastHopLimit(value: number): Result<undefined, ErrorCode> {
    if (value === 0) return fail('invalid-argument');
    this.hopLimit = value;
    return OK_EMPTY;
  }

  bufferSize(which: 'receive' | 'send'): Result<bigint, ErrorCode> {
    return ok(which === 'receive' ? this.receiveBufferSize : this.sendBufferSize);
  }

  setBufferSize(which: 'receive' | 'send', value: bigint): Result<undefined, ErrorCode> {
    if (value === 0n) return fail('invalid-argument');
    const size = clampBufferSize(value);
    if (which === 'receive') this.receiveBufferSize = size;
    else this.sendBufferSize = size;
    return OK_EMPTY;
  }

  subscribe(): SocketPollable {
    const state = this.state;
    if (state.tag !== 'binding') return new SocketPollable('udp-socket', NOTHING_TO_WAIT_FOR);
    return new SocketPollable(
      'udp-socket bind',
      readyWhen(() => state.udp.settled(), state.udp),
    );
  }

  [Symbol.dispose](): void {
    const state = this.state;
    if (state.tag === 'binding' || state.tag === 'bound') state.udp.close();
    this.state = { tag: 'closed' };
    this.release();
  }
}

export class IncomingDatagramStream {
  constructor(
    private readonly socket: UdpSocket,
    private readonly udp: SyncUdpSocket,
    private readonly generation: number,
  ) {}

  receive(max: bigint): Result<IncomingDatagram[], ErrorCode> {
    if (!this.socket.current(this.generation) || max === 0n) return ok([]);
    return ok(
      this.udp.receive(length(max)).map((d) => ({ data: d.bytes, remoteAddress: socketAddressOf(d.remote) })),
    );
  }

  subscribe(): SocketPollable {
    const ready = () => !this.socket.current(this.generation) || this.udp.hasDatagram();
    return new SocketPollable('incoming-datagram-stream', readyWhen(ready, this.udp));
  }
}

export class OutgoingDatagramStream {
  /** What the last `check-send` permitted and `send` has not used yet. */
  private permitted = 0;

  constructor(
    private readonly socket: UdpSocket,
    private readonly udp: SyncUdpSocket,
    private readonly generation: number,
  ) {}

  checkSend(): Result<bigint, ErrorCode> {
    if (!this.socket.current(this.generation)) return fail('invalid-state');
    const failed = this.udp.takeSendError();
    if (failed !== undefined) return fail(errorCodeOf(failed));
    this.permitted = this.udp.sendRoom();
    return ok(BigInt(this.permitted));
  }

  send(datagrams: readonly OutgoingDatagram[], fn: string, budget: CallBudget): Result<bigint, ErrorCode> {
    if (datagrams.length > this.permitted) {
      throw guestTrap(
        fn,
        `${datagrams.length} datagrams is more than the ${this.permitted} check-send permitted`,
      );
    }
    if (!this.socket.current(this.generation)) return fail('invalid-state');
    const failed = this.udp.takeSendError();
    if (failed !== undefined) return fail(errorCodeOf(failed));
    const peer = this.socket.peerOf();
    // Checked all first: what the WIT refuses is refused before anything is sent.
    const destinations: (Endpoint | undefined)[] = [];
    let invalid: ErrorCode | undefined;
    for (const d of datagrams) {
      const to = this.destinationOf(d, peer);
      if (typeof to === 'string') {
        invalid = to;
        break;
      }
      destinations.push(to);
    }
    const usable = destinations.length;
    const targets = [
      ...new Map(destinations.flatMap((t) => (t === undefined ? [] : [[endpointKey(t), t]]))).values(),
    ];
    const refused = targets.length === 0 ? undefined : this.socket.judge(this.udp, targets, budget);
    // Sent: those before the first one the WIT or the policy refuses.
    const at =
      refused === undefined
        ? -1
        : destinations.findIndex(
            (t) => t?.address === refused.remote.address && t.port === refused.remote.port,
          );
    const count = at === -1 ? usable : at;
    this.udp.send(datagrams.slice(0, count).map((d, i) => ({ bytes: d.data, remote: destinations[i] })));
    this.permitted -= count;
    if (count === 0) return fail(refused?.code ?? invalid ?? 'unknown');
    return ok(BigInt(count));
  }

  /** Where `d` goes (undefined: to the peer), or why the WIT refuses it. */
  private destinationOf(d: OutgoingDatagram, peer: Endpoint | undefined): Endpoint | undefined | ErrorCode {
    if (d.data.length > MAX_DATAGRAM[this.socket.family]) return 'datagram-too-large';
    if (d.remoteAddress === undefined) return peer === undefined ? 'invalid-argument' : undefined;
    const invalid = this.socket.invalidDestination(d.remoteAddress);
    if (invalid !== undefined) return invalid;
    const to = endpointOf(d.remoteAddress);
    // With a peer, a datagram may name it, and nothing else.
    if (peer !== undefined && endpointKey(to) !== endpointKey(peer)) return 'invalid-argument';
    return to;
  }

  subscribe(): SocketPollable {
    const ready = () => !this.socket.current(this.generation) || this.udp.sendRoom() > 0;
    return new SocketPollable('outgoing-datagram-stream', readyWhen(ready, this.udp));
  }
}

export function udpCreateSocketInterface(sockets: SocketsContext): Interface {
  return {
    'create-udp-socket': (family: IpAddressFamily) => {
      if (family !== 'ipv4' && family !== 'ipv6') return fail('not-supported');
      if (sockets.full()) return fail('new-socket-limit');
      return ok(new UdpSocket(family, sockets));
    },
  };
}

/** Where a `send` with more than `check-send` permitted traps. */
const SEND = 'wasi:sockets/udp#[method]outgoing-datagram-stream.send';

export function udpInterface(): Interface {
  const socket = methods('udp', 'udp-socket', UdpSocket);
  const incoming = methods('udp', 'incoming-datagram-stream', IncomingDatagramStream);
  const outgoing = methods('udp', 'outgoing-datagram-stream', OutgoingDatagramStream);
  return budgeted((budget) =>
    Object.fromEntries([
      socket('start-bind', (s, net: unknown, local: IpSocketAddress) => {
        networkOf(net, 'udp#[method]udp-socket.start-bind');
        return s.startBind(local);
      }),
      socket('finish-bind', (s) => s.finishBind()),
      socket('stream', (s, remote: IpSocketAddress | undefined) => s.stream(remote, budget)),
      socket('local-address', (s) => s.localAddress()),
      socket('remote-address', (s) => s.remoteAddress()),
      socket('address-family', (s) => s.family),
      socket('unicast-hop-limit', (s) => s.unicastHopLimit()),
      socket('set-unicast-hop-limit', (s, v: number) => s.setUnicastHopLimit(v)),
      socket('receive-buffer-size', (s) => s.bufferSize('receive')),
      socket('set-receive-buffer-size', (s, v: bigint) => s.setBufferSize('receive', v)),
      socket('send-buffer-size', (s) => s.bufferSize('send')),
      socket('set-send-buffer-size', (s, v: bigint) => s.setBufferSize('send', v)),
      socket('subscribe', (s) => s.subscribe()),
      incoming('receive', (s, max: bigint) => s.receive(max)),
      incoming('subscribe', (s) => s.subscribe()),
      outgoing('check-send', (s) => s.checkSend()),
      outgoing('send', (s, datagrams: readonly OutgoingDatagram[]) => s.send(datagrams, SEND, budget)),
      outgoing('subscribe', (s) => s.subscribe()),
    ]),
  );
}
