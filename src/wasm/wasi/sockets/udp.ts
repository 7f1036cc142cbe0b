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

import { checkListen } from '../../../osl/middleware/egress-policy.js';
import type { Endpoint } from '../../../osl/node/sync-socket-bridge.js';
import { SyncUdpSocket } from '../../../osl/node/sync-udp-socket.js';
import { isAirssysError } from '../../../shared/errors.js';
import type { CallBudget } from '../../engine/call-budget.js';
import { waitForAny } from '../poll.js';
import { budgeted, guestTrap, type Interface, length, OK_EMPTY, ok, type Result, self } from '../values.js';
import {
  type ErrorCode,
  endpointOf,
  errorCodeOf,
  fail,
  type IpAddressFamily,
  type IpSocketAddress,
  isIpv4Mapped,
  isUnspecified,
  networkOf,
  type SocketsContext,
  socketAddressOf,
} from './network.js';
import { NOTHING_TO_WAIT_FOR, SocketPollable } from './pollable.js';

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
  private released = false;

  constructor(
    readonly family: IpAddressFamily,
    private readonly sockets: SocketsContext,
  ) {
    sockets.open++;
  }

  startBind(local: IpSocketAddress): Result<undefined, ErrorCode> {
    if (this.state.tag !== 'unbound') return fail('invalid-state');
    if (local.tag !== this.family || isIpv4Mapped(local)) return fail('invalid-argument');
    const endpoint = endpointOf(local);
    let open = true;
    try {
      checkListen(this.sockets.capabilities, endpoint.address, endpoint.port);
    } catch (error) {
      open = false;
      // Note: an ephemeral port is a client's; only a chosen port needs the listen grant.
      if (endpoint.port !== 0) {
        const reason = isAirssysError(error) ? error.message : String(error);
        this.sockets.denied(UDP_BIND_OPERATION, `${endpoint.address}:${endpoint.port}`, reason);
        return fail('access-denied');
      }
    }
    this.state = { tag: 'binding', udp: SyncUdpSocket.create(endpoint, open) };
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
    if (
      remote.tag !== this.family ||
      isIpv4Mapped(remote) ||
      isUnspecified(remote) ||
      remote.val.port === 0
    ) {
      return 'invalid-argument';
    }
    return undefined;
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
    const watched = {
      ready: () => remotes.every((r) => judged().get(r)?.state !== 'pending'),
      wait: (until: number) => udp.waitJudged(remotes, until),
      waitAsync: (until: number) => udp.waitJudgedAsync(remotes, until),
    };
    const judged = () =>
      new Map(remotes.map((r) => [r, udp.judge(this.sockets.authority, this.sockets.hostFor(r.address), r)]));
    // Note: asking again is harmless (each is asked once), so a suspended call may start here again.
    waitForAny([new SocketPollable('udp judgement', watched)], budget);
    for (const [remote, judgement] of judged()) {
      const key = `${remote.address}|${remote.port}`;
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
    const size = value > 1n << 31n ? 1n << 31n : value;
    if (which === 'receive') this.receiveBufferSize = size;
    else this.sendBufferSize = size;
    return OK_EMPTY;
  }

  subscribe(): SocketPollable {
    const state = this.state;
    if (state.tag !== 'binding') return new SocketPollable('udp-socket', NOTHING_TO_WAIT_FOR);
    return new SocketPollable('udp-socket bind', {
      ready: () => state.udp.settled(),
      wait: (until) => state.udp.wait(until),
      waitAsync: (until) => state.udp.waitAsync(until),
    });
  }

  [Symbol.dispose](): void {
    const state = this.state;
    if (state.tag === 'binding' || state.tag === 'bound') state.udp.close();
    this.state = { tag: 'closed' };
    if (!this.released) {
      this.released = true;
      this.sockets.open--;
    }
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
    const live = () => this.socket.current(this.generation);
    return new SocketPollable('incoming-datagram-stream', {
      ready: () => !live() || this.udp.hasDatagram(),
      wait: (until) => this.udp.wait(until),
      waitAsync: (until) => this.udp.waitAsync(until),
    });
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
      if (d.data.length > MAX_DATAGRAM[this.socket.family]) {
        invalid = 'datagram-too-large';
        break;
      }
      if (d.remoteAddress === undefined) {
        if (peer === undefined) {
          invalid = 'invalid-argument';
          break;
        }
        destinations.push(undefined);
        continue;
      }
      invalid = this.socket.invalidDestination(d.remoteAddress);
      if (invalid !== undefined) break;
      const to = endpointOf(d.remoteAddress);
      if (peer !== undefined && (to.address !== peer.address || to.port !== peer.port)) {
        invalid = 'invalid-argument';
        break;
      }
      destinations.push(to);
    }
    const usable = destinations.length;
    const targets = [
      ...new Map(
        destinations.flatMap((t) => (t === undefined ? [] : [[`${t.address}|${t.port}`, t]])),
      ).values(),
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

  subscribe(): SocketPollable {
    return new SocketPollable('outgoing-datagram-stream', {
      ready: () => !this.socket.current(this.generation) || this.udp.sendRoom() > 0,
      wait: (until) => this.udp.wait(until),
      waitAsync: (until) => this.udp.waitAsync(until),
    });
  }
}

const where = (name: string) => `wasi:sockets/udp#${name}`;
const U = '[method]udp-socket.';
const IN = '[method]incoming-datagram-stream.';
const OUT = '[method]outgoing-datagram-stream.';

function udp(value: unknown, name: string): UdpSocket {
  return self(value, UdpSocket, where(`${U}${name}`));
}

export function udpCreateSocketInterface(sockets: SocketsContext): Interface {
  return {
    'create-udp-socket': (family: IpAddressFamily) => {
      if (family !== 'ipv4' && family !== 'ipv6') return fail('not-supported');
      if (sockets.open >= sockets.limits.maxSockets) return fail('new-socket-limit');
      return ok(new UdpSocket(family, sockets));
    },
  };
}

export function udpInterface(): Interface {
  return budgeted((budget) => ({
    [`${U}start-bind`]: (s: unknown, net: unknown, local: IpSocketAddress) => {
      networkOf(net, `udp#${U}start-bind`);
      return udp(s, 'start-bind').startBind(local);
    },
    [`${U}finish-bind`]: (s: unknown) => udp(s, 'finish-bind').finishBind(),
    [`${U}stream`]: (s: unknown, remote: IpSocketAddress | undefined) =>
      udp(s, 'stream').stream(remote, budget),
    [`${U}local-address`]: (s: unknown) => udp(s, 'local-address').localAddress(),
    [`${U}remote-address`]: (s: unknown) => udp(s, 'remote-address').remoteAddress(),
    [`${U}address-family`]: (s: unknown) => udp(s, 'address-family').family,
    [`${U}unicast-hop-limit`]: (s: unknown) => udp(s, 'unicast-hop-limit').unicastHopLimit(),
    [`${U}set-unicast-hop-limit`]: (s: unknown, v: number) =>
      udp(s, 'set-unicast-hop-limit').setUnicastHopLimit(v),
    [`${U}receive-buffer-size`]: (s: unknown) => udp(s, 'receive-buffer-size').bufferSize('receive'),
    [`${U}set-receive-buffer-size`]: (s: unknown, v: bigint) =>
      udp(s, 'set-receive-buffer-size').setBufferSize('receive', v),
    [`${U}send-buffer-size`]: (s: unknown) => udp(s, 'send-buffer-size').bufferSize('send'),
    [`${U}set-send-buffer-size`]: (s: unknown, v: bigint) =>
      udp(s, 'set-send-buffer-size').setBufferSize('send', v),
    [`${U}subscribe`]: (s: unknown) => udp(s, 'subscribe').subscribe(),
    [`${IN}receive`]: (s: unknown, max: bigint) =>
      self(s, IncomingDatagramStream, where(`${IN}receive`)).receive(max),
    [`${IN}subscribe`]: (s: unknown) => self(s, IncomingDatagramStream, where(`${IN}subscribe`)).subscribe(),
    [`${OUT}check-send`]: (s: unknown) =>
      self(s, OutgoingDatagramStream, where(`${OUT}check-send`)).checkSend(),
    [`${OUT}send`]: (s: unknown, datagrams: readonly OutgoingDatagram[]) =>
      self(s, OutgoingDatagramStream, where(`${OUT}send`)).send(datagrams, where(`${OUT}send`), budget),
    [`${OUT}subscribe`]: (s: unknown) =>
      self(s, OutgoingDatagramStream, where(`${OUT}subscribe`)).subscribe(),
  }));
}
