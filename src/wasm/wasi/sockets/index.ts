/**
 * `wasi:sockets/*@0.2` for one instance, on the grants of `WasiOptions.sockets`: name lookups
 * TCP (client and server) and UDP through the osl socket thread and its egress policy. See
 * docs/wasi.md, "wasi:sockets".
 */

import type { SocketAuthority } from '../../../osl/node/sync-socket-bridge.js';
import { type Capabilities, compileCapabilities } from '../../../osl/policy/grants.js';
import { egressPolicyOf, type WasiContext, type WasiSocketsOptions } from '../options.js';
import type { Interface } from '../values.js';
import { ipNameLookupInterface } from './ip-name-lookup.js';
import { instanceNetworkInterface, networkInterface, SocketsContext } from './network.js';
import { tcpCreateSocketInterface, tcpInterface } from './tcp.js';
import { udpCreateSocketInterface, udpInterface } from './udp.js';

/** Sockets one instance may hold open at once unless `sockets.maxSockets` says otherwise. */
export const DEFAULT_MAX_SOCKETS = 64;

/** What every instance linked with the same options shares: their grants, compiled once. */
interface Authority {
  readonly authority: SocketAuthority;
  readonly capabilities: Capabilities;
}

/**
 * Per options object: a host links many instances with one (a fresh instance per request), and
 * compiling the grants is most of what linking sockets costs.
 */
const authorities = new WeakMap<WasiSocketsOptions, Authority>();

function authorityOf(options: WasiSocketsOptions): Authority {
  let found = authorities.get(options);
  if (found === undefined) {
    const network = {
      outbound: options.network?.outbound ?? [],
      addresses: options.network?.addresses ?? [],
      listen: options.network?.listen ?? [],
    };
    const policy = egressPolicyOf(options);
    const grants = { network };
    found = {
      capabilities: compileCapabilities(grants, policy),
      authority: {
        component: options.component ?? 'guest',
        version: options.version ?? '0.0.0',
        grants,
        policy,
      },
    };
    authorities.set(options, found);
  }
  return found;
}

/** The interfaces whose functions hold no per-instance state (it is on their resources). */
let shared: Record<string, Interface> | undefined;

/**
 * The interfaces, unversioned (`createWasi` keys them `@0.2`). The grants are compiled on the
 * first link with `options`, so a malformed pattern fails at link time (`invalid-argument`).
 */
export function socketsInterfaces(ctx: WasiContext, options: WasiSocketsOptions): Record<string, Interface> {
  const { authority, capabilities } = authorityOf(options);
  const sockets = new SocketsContext(
    authority,
    capabilities,
    {
      maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS,
      maxRead: ctx.limits.maxReadBytes,
      maxWrite: ctx.limits.maxWriteBytes,
    },
    ctx.denied,
    options.onAudit,
  );
  shared ??= {
    'wasi:sockets/network': networkInterface(),
    'wasi:sockets/ip-name-lookup': ipNameLookupInterface(),
    'wasi:sockets/tcp': tcpInterface(),
    'wasi:sockets/udp': udpInterface(),
  };
  return {
    ...shared,
    'wasi:sockets/instance-network': instanceNetworkInterface(sockets),
    'wasi:sockets/tcp-create-socket': tcpCreateSocketInterface(sockets),
    'wasi:sockets/udp-create-socket': udpCreateSocketInterface(sockets),
  };
}
