/**
 * `wasi:sockets/*@0.2` for one instance, on the grants of `WasiOptions.sockets`: name lookups
 * TCP (client and server) and UDP through the osl socket thread and its egress policy. See
 * docs/wasi.md, "wasi:sockets".
 */

import { compileCapabilities } from '../../../osl/policy/grants.js';
import type { WasiContext, WasiSocketsOptions } from '../options.js';
import type { Interface } from '../values.js';
import { ipNameLookupInterface } from './ip-name-lookup.js';
import { instanceNetworkInterface, networkInterface, SocketsContext } from './network.js';
import { tcpCreateSocketInterface, tcpInterface } from './tcp.js';
import { udpCreateSocketInterface, udpInterface } from './udp.js';

/** Sockets one instance may hold open at once unless `sockets.maxSockets` says otherwise. */
export const DEFAULT_MAX_SOCKETS = 64;

/**
 * The interfaces, unversioned (`createWasi` keys them `@0.2`). The grants are compiled now, so
 * a malformed pattern fails at link time (`invalid-argument`).
 */
export function socketsInterfaces(ctx: WasiContext, options: WasiSocketsOptions): Record<string, Interface> {
  const network = {
    outbound: options.network?.outbound ?? [],
    addresses: options.network?.addresses ?? [],
    listen: options.network?.listen ?? [],
  };
  const policy = {
    ...(options.securityMode === undefined ? {} : { securityMode: options.securityMode }),
    ...(options.deny === undefined ? {} : { deny: { network: options.deny } }),
  };
  const grants = { network };
  const capabilities = compileCapabilities(grants, policy);
  const sockets = new SocketsContext(
    { component: options.component ?? 'guest', version: options.version ?? '0.0.0', grants, policy },
    capabilities,
    {
      maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS,
      maxRead: ctx.limits.maxReadBytes,
      maxWrite: ctx.limits.maxWriteBytes,
    },
    ctx.denied,
    options.onAudit,
  );
  return {
    'wasi:sockets/network': networkInterface(),
    'wasi:sockets/instance-network': instanceNetworkInterface(sockets),
    'wasi:sockets/ip-name-lookup': ipNameLookupInterface(),
    'wasi:sockets/tcp': tcpInterface(),
    'wasi:sockets/tcp-create-socket': tcpCreateSocketInterface(sockets),
    'wasi:sockets/udp': udpInterface(),
    'wasi:sockets/udp-create-socket': udpCreateSocketInterface(sockets),
  };
}
