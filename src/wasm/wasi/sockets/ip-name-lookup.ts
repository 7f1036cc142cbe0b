/**
 * `wasi:sockets/ip-name-lookup@0.2`: `resolve-addresses` starts a lookup on the socket thread
 * and returns at once; `resolve-next-address` answers `would-block` until the thread has the
 * answer, then the addresses one by one, then none. An IP literal is its own answer (no
 * lookup, no grant: a connect to it is judged anyway).
 *
 * A name is looked up only when some port of it is granted (`network.outbound`), and only if
 * every address it resolves to is one the grants allow (the egress policy's special-address
 * rules): `access-denied` otherwise, reported to `onDenied`. The answers are remembered for the
 * instance, so that a connect to one is judged as a connect to the name.
 */

import { PendingLookup } from '../../../osl/node/sync-socket-bridge.js';
import { type Interface, ok, type Result, self } from '../values.js';
import {
  type ErrorCode,
  fail,
  type IpAddress,
  ipAddressOf,
  isIpText,
  lookupErrorCodeOf,
  networkOf,
  type SocketsContext,
} from './network.js';
import { NOTHING_TO_WAIT_FOR, SocketPollable } from './pollable.js';

/** The operation name refusals are reported under (`onDenied`). */
export const LOOKUP_OPERATION = 'wasi.sockets.ip-name-lookup.resolve-addresses';
/** How long the thread may take to answer a lookup (the resolver's own limits are shorter). */
const LOOKUP_TIMEOUT_MS = 30_000;
/** Longest name looked up (DNS's limit on a name's text). */
const MAX_NAME = 253;

/** The host object behind a `resolve-address-stream` handle. */
export class ResolveAddressStream {
  private next = 0;
  private reported = false;

  constructor(
    private readonly name: string,
    private readonly answer: PendingLookup | readonly IpAddress[],
    private readonly sockets: SocketsContext,
  ) {}

  resolveNextAddress(): Result<IpAddress | undefined, ErrorCode> {
    if (!(this.answer instanceof PendingLookup)) return ok(this.answer[this.next++]);
    const outcome = this.answer.ready() ? this.answer.outcome() : undefined;
    if (outcome === undefined) return fail('would-block');
    if (!this.reported) {
      this.reported = true;
      this.sockets.report(LOOKUP_OPERATION, outcome.audit);
      if (outcome.ok) for (const a of outcome.addresses) this.sockets.resolved(a.address, this.name);
    }
    if (!outcome.ok) return fail(lookupErrorCodeOf(outcome.error));
    const address = outcome.addresses[this.next++];
    return ok(address === undefined ? undefined : ipAddressOf(address.address));
  }

  subscribe(): SocketPollable {
    const pending = this.answer instanceof PendingLookup ? this.answer : NOTHING_TO_WAIT_FOR;
    return new SocketPollable('resolve-address-stream', pending);
  }
}

const where = (fn: string) => `wasi:sockets/ip-name-lookup#${fn}`;

export function ipNameLookupInterface(): Interface {
  return {
    'resolve-addresses': (net: unknown, name: string) => {
      const sockets = networkOf(net, 'ip-name-lookup#resolve-addresses').sockets;
      const bare = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
      if (isIpText(bare)) return ok(new ResolveAddressStream(bare, [ipAddressOf(bare)], sockets));
      // Note: what no resolver would take is refused here, before it costs a round trip.
      if (name === '' || name.length > MAX_NAME || /[\s\0/@#?%\\]/.test(name))
        return fail('invalid-argument');
      const lookup = new PendingLookup(sockets.authority, name, LOOKUP_TIMEOUT_MS);
      return ok(new ResolveAddressStream(name, lookup, sockets));
    },
    '[method]resolve-address-stream.resolve-next-address': (s: unknown) =>
      self(
        s,
        ResolveAddressStream,
        where('[method]resolve-address-stream.resolve-next-address'),
      ).resolveNextAddress(),
    '[method]resolve-address-stream.subscribe': (s: unknown) =>
      self(s, ResolveAddressStream, where('[method]resolve-address-stream.subscribe')).subscribe(),
  };
}
