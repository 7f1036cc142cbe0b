/**
 * `wasi:sockets/network` and `wasi:sockets/instance-network`: the `network` resource every
 * socket call takes, the `error-code`s, and the address shapes of the WIT. A `Network` carries
 * the instance's socket context — its grants (as the osl authority every request to the socket
 * thread carries), the names its lookups resolved, and where refusals are reported — so a
 * socket call can only reach what that instance's grants allow.
 */

import { isIPv4, isIPv6 } from 'node:net';
import type { AuditRecord } from '../../../osl/audit/audit-log.js';
import { checkListen } from '../../../osl/middleware/egress-policy.js';
import type { Endpoint, SocketAuthority, SocketFailure } from '../../../osl/node/sync-socket-bridge.js';
import { SocketStreamError } from '../../../osl/node/sync-socket-bridge.js';
import type { Capabilities } from '../../../osl/policy/grants.js';
import { parseIp } from '../../../osl/policy/ip.js';
import { isAirssysError } from '../../../shared/errors.js';
import type { HostFunction } from '../../engine/link.js';
import type { DeniedCallback } from '../options.js';
import { IoError } from '../streams.js';
import { err, type Interface, type Result, self } from '../values.js';

export type ErrorCode =
  | 'unknown'
  | 'access-denied'
  | 'not-supported'
  | 'invalid-argument'
  | 'out-of-memory'
  | 'timeout'
  | 'concurrency-conflict'
  | 'not-in-progress'
  | 'would-block'
  | 'invalid-state'
  | 'new-socket-limit'
  | 'address-not-bindable'
  | 'address-in-use'
  | 'remote-unreachable'
  | 'connection-refused'
  | 'connection-reset'
  | 'connection-aborted'
  | 'datagram-too-large'
  | 'name-unresolvable'
  | 'temporary-resolver-failure'
  | 'permanent-resolver-failure';

export type IpAddressFamily = 'ipv4' | 'ipv6';

type Ipv4 = [number, number, number, number];
type Ipv6 = [number, number, number, number, number, number, number, number];

export type IpAddress = { tag: 'ipv4'; val: Ipv4 } | { tag: 'ipv6'; val: Ipv6 };

export type IpSocketAddress =
  | { tag: 'ipv4'; val: { port: number; address: Ipv4 } }
  | { tag: 'ipv6'; val: { port: number; flowInfo: number; address: Ipv6; scopeId: number } };

/** An `err(error-code)` result. */
export function fail(code: ErrorCode): Result<never, ErrorCode> {
  return err(code);
}

/** Node's errno as a WASI error code (as wasmtime maps the OS's). */
const BY_ERRNO: Readonly<Record<string, ErrorCode>> = {
  ECONNREFUSED: 'connection-refused',
  ECONNRESET: 'connection-reset',
  EPIPE: 'connection-reset',
  ECONNABORTED: 'connection-aborted',
  EHOSTUNREACH: 'remote-unreachable',
  ENETUNREACH: 'remote-unreachable',
  EHOSTDOWN: 'remote-unreachable',
  ENETDOWN: 'remote-unreachable',
  ETIMEDOUT: 'timeout',
  EADDRINUSE: 'address-in-use',
  EADDRNOTAVAIL: 'address-not-bindable',
  EACCES: 'access-denied',
  EPERM: 'access-denied',
  ENOMEM: 'out-of-memory',
  ENOBUFS: 'out-of-memory',
  EINVAL: 'invalid-argument',
  EMFILE: 'new-socket-limit',
  ENFILE: 'new-socket-limit',
};

/** Why a connect or listen failed, as the guest sees it. */
export function errorCodeOf(failure: SocketFailure): ErrorCode {
  if (failure.code === 'capability-denied') return 'access-denied';
  const byErrno = failure.errno === undefined ? undefined : BY_ERRNO[failure.errno];
  if (byErrno !== undefined) return byErrno;
  if (failure.code === 'timeout') return 'timeout';
  if (failure.code === 'invalid-argument') return 'invalid-argument';
  return 'unknown';
}

/** Why a lookup failed: refusals and bad names as such, then the resolver's kinds of failure. */
export function lookupErrorCodeOf(failure: SocketFailure): ErrorCode {
  if (failure.code === 'capability-denied') return 'access-denied';
  if (failure.code === 'invalid-argument') return 'invalid-argument';
  switch (failure.errno) {
    case 'ENOTFOUND':
    case 'ENODATA':
    case 'EAI_NONAME':
      return 'name-unresolvable';
    case 'EAI_AGAIN':
    case 'ETIMEOUT':
    case 'ESERVFAIL':
    case 'ECONNREFUSED':
      return 'temporary-resolver-failure';
    default:
      return 'permanent-resolver-failure';
  }
}

/** What one instance's sockets share: its grants, its lookups' answers, its reporting. */
export class SocketsContext {
  /** Addresses the instance's lookups returned, each with the name it was looked up under. */
  private readonly names = new Map<string, string>();
  /** Sockets open now (created and not dropped); see `claim`. */
  open = 0;

  constructor(
    readonly authority: SocketAuthority,
    /** The same grants, compiled: for the checks made on this side (bind). */
    readonly capabilities: Capabilities,
    readonly limits: { readonly maxSockets: number; readonly maxRead: number; readonly maxWrite: number },
    private readonly onDenied: DeniedCallback,
    private readonly onAudit: ((record: AuditRecord) => void) | undefined,
  ) {}

  /** The chain's decisions about one operation, passed on; refusals also reach `onDenied`. */
  report(operation: string, audit: readonly AuditRecord[]): void {
    for (const record of audit) {
      this.onAudit?.(record);
      if (record.decision === 'deny') this.onDenied(operation, record.subject, record.reason);
    }
  }

  denied(operation: string, subject: string, reason: string): void {
    this.onDenied(operation, subject, reason);
  }

  /** True when the instance holds as many sockets as it may (`new-socket-limit`). */
  full(): boolean {
    return this.open >= this.limits.maxSockets;
  }

  /** Counts one more socket open; the function returned counts it closed again (once). */
  claim(): () => void {
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
    };
  }

  /** Why `network.listen` does not cover `local`, if it does not: a bind's check, made on this side. */
  listenRefusal(local: Endpoint): string | undefined {
    try {
      checkListen(this.capabilities, local.address, local.port);
      return undefined;
    } catch (error) {
      return isAirssysError(error) ? error.message : String(error);
    }
  }

  /** `address` came back from a lookup of `name`: a connect to it is judged as a connect to `name`. */
  resolved(address: string, name: string): void {
    const key = canonical(address);
    this.names.delete(key);
    this.names.set(key, name);
    // Bounded: the oldest answers go first; a connect to one of them is judged on its address.
    if (this.names.size > MAX_NAMES) this.names.delete(this.names.keys().next().value as string);
  }

  /** What a connect to `address` is judged as: the name it was looked up under, or itself. */
  hostFor(address: string): string {
    return this.names.get(canonical(address)) ?? address;
  }
}

const MAX_NAMES = 1024;

/** One spelling per address, so that an answer and a later connect to it meet. */
const canonical = (address: string) => parseIp(address)?.text ?? address;

/** The host object behind a `network` handle. */
export class Network {
  constructor(readonly sockets: SocketsContext) {}
}

export function networkOf(value: unknown, fn: string): Network {
  return self(value, Network, `wasi:sockets/${fn}`);
}

/**
 * A maker of `[method]<resource>.<name>` entries of `wasi:sockets/<iface>`: each checks that its
 * `self` is a `kind` and calls `call` with it. The names are written once and joined at link
 * time, not at every call.
 *
 * @example
 * const method = methods('tcp', 'tcp-socket', TcpSocket);
 * Object.fromEntries([method('accept', (socket) => socket.accept())]);
 */
export function methods<T>(iface: string, resource: string, kind: abstract new (...args: any[]) => T) {
  const prefix = `[method]${resource}.`;
  return <A extends unknown[]>(
    name: string,
    call: (self: T, ...args: A) => unknown,
  ): [string, HostFunction] => {
    const fn = `wasi:sockets/${iface}#${prefix}${name}`;
    return [`${prefix}${name}`, (value: unknown, ...args: A) => call(self(value, kind, fn), ...args)];
  };
}

/** The text form of a WIT address (`127.0.0.1`, `::1`). */
export function addressText(address: IpAddress): string {
  if (address.tag === 'ipv4') return address.val.join('.');
  return address.val.map((word) => word.toString(16)).join(':');
}

/** A text address as the WIT's. */
export function ipAddressOf(text: string): IpAddress {
  if (isIPv4(text)) return { tag: 'ipv4', val: text.split('.').map(Number) as Ipv4 };
  return { tag: 'ipv6', val: ipv6Words(text) };
}

function ipv6Words(text: string): Ipv6 {
  const bare = text.split('%')[0];
  const [head, tail] = bare.includes('::') ? bare.split('::') : [bare, undefined];
  const words = (part: string | undefined): number[] => {
    if (part === undefined || part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (isIPv4(piece)) {
        const [a, b, c, d] = piece.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else out.push(Number.parseInt(piece, 16));
    }
    return out;
  };
  const first = words(head);
  const last = words(tail);
  const zeros = tail === undefined ? [] : new Array(8 - first.length - last.length).fill(0);
  return [...first, ...zeros, ...last] as Ipv6;
}

/** A WIT socket address as an endpoint. */
export function endpointOf(address: IpSocketAddress): Endpoint {
  const text = addressText(
    address.tag === 'ipv4'
      ? { tag: 'ipv4', val: address.val.address }
      : { tag: 'ipv6', val: address.val.address },
  );
  return { address: text, port: address.val.port, family: address.tag === 'ipv4' ? 4 : 6 };
}

/** An endpoint as a WIT socket address. */
export function socketAddressOf(endpoint: Endpoint): IpSocketAddress {
  const ip = ipAddressOf(endpoint.address);
  if (ip.tag === 'ipv4') return { tag: 'ipv4', val: { port: endpoint.port, address: ip.val } };
  return { tag: 'ipv6', val: { port: endpoint.port, flowInfo: 0, address: ip.val, scopeId: 0 } };
}

/** `ipv6` addresses that carry an IPv4 one (`::ffff:a.b.c.d`): the WIT refuses them for sockets. */
export function isIpv4Mapped(address: IpSocketAddress): boolean {
  if (address.tag !== 'ipv6') return false;
  const w = address.val.address;
  return w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff;
}

/** True for `0.0.0.0` and `::`. */
export function isUnspecified(address: IpSocketAddress): boolean {
  return (address.val.address as number[]).every((part) => part === 0);
}

/** What the WIT takes as a peer of a `family` socket: that family, not mapped, a real address and port. */
export function isValidRemote(remote: IpSocketAddress, family: IpAddressFamily): boolean {
  return remote.tag === family && !isIpv4Mapped(remote) && !isUnspecified(remote) && remote.val.port !== 0;
}

/** The largest send or receive buffer size a socket keeps; larger ones are kept as this. */
const MAX_BUFFER_SIZE = 1n << 31n;

export function clampBufferSize(value: bigint): bigint {
  return value > MAX_BUFFER_SIZE ? MAX_BUFFER_SIZE : value;
}

/** A text address valid for the WIT (what a lookup may return as is). */
export function isIpText(text: string): boolean {
  return isIPv4(text) || isIPv6(text);
}

export function networkInterface(): Interface {
  return {
    'network-error-code': (e: unknown) => {
      const error = self(e, IoError, 'wasi:sockets/network#network-error-code');
      if (!(error.cause instanceof SocketStreamError)) return undefined;
      return (error.errno === undefined ? undefined : BY_ERRNO[error.errno]) ?? 'unknown';
    },
  };
}

export function instanceNetworkInterface(sockets: SocketsContext): Interface {
  return { 'instance-network': () => new Network(sockets) };
}
