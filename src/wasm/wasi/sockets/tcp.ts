/**
 * `wasi:sockets/tcp@0.2` and `wasi:sockets/tcp-create-socket@0.2`: the WIT functions, each a
 * thin call into `TcpSocket` (tcp-socket.ts). Connections and listeners live on the socket
 * thread (osl/node/sync-socket-bridge.ts); no function here blocks: the guest waits with
 * `wasi:io/poll` on `subscribe`, or in the streams' blocking calls, within its call's deadline.
 */

import { type Interface, ok, self } from '../values.js';
import {
  fail,
  type IpAddressFamily,
  type IpSocketAddress,
  networkOf,
  type SocketsContext,
} from './network.js';
import { TcpSocket } from './tcp-socket.js';

const M = '[method]tcp-socket.';

function tcp(value: unknown, name: string): TcpSocket {
  return self(value, TcpSocket, `wasi:sockets/tcp#${M}${name}`);
}

export function tcpCreateSocketInterface(sockets: SocketsContext): Interface {
  return {
    'create-tcp-socket': (family: IpAddressFamily) => {
      if (family !== 'ipv4' && family !== 'ipv6') return fail('not-supported');
      if (sockets.open >= sockets.limits.maxSockets) return fail('new-socket-limit');
      return ok(new TcpSocket(family, sockets));
    },
  };
}

export function tcpInterface(): Interface {
  return {
    [`${M}start-bind`]: (s: unknown, net: unknown, local: IpSocketAddress) => {
      networkOf(net, `tcp#${M}start-bind`);
      return tcp(s, 'start-bind').startBind(local);
    },
    [`${M}finish-bind`]: (s: unknown) => tcp(s, 'finish-bind').finishBind(),
    [`${M}start-connect`]: (s: unknown, net: unknown, remote: IpSocketAddress) => {
      networkOf(net, `tcp#${M}start-connect`);
      return tcp(s, 'start-connect').startConnect(remote);
    },
    [`${M}finish-connect`]: (s: unknown) => tcp(s, 'finish-connect').finishConnect(),
    [`${M}start-listen`]: (s: unknown) => tcp(s, 'start-listen').startListen(),
    [`${M}finish-listen`]: (s: unknown) => tcp(s, 'finish-listen').finishListen(),
    [`${M}accept`]: (s: unknown) => tcp(s, 'accept').accept(),
    [`${M}local-address`]: (s: unknown) => tcp(s, 'local-address').localAddress(),
    [`${M}remote-address`]: (s: unknown) => tcp(s, 'remote-address').remoteAddress(),
    [`${M}is-listening`]: (s: unknown) => tcp(s, 'is-listening').isListening(),
    [`${M}address-family`]: (s: unknown) => tcp(s, 'address-family').family,
    [`${M}set-listen-backlog-size`]: (s: unknown, v: bigint) =>
      tcp(s, 'set-listen-backlog-size').setListenBacklogSize(v),
    [`${M}keep-alive-enabled`]: (s: unknown) => tcp(s, 'keep-alive-enabled').keepAliveEnabled(),
    [`${M}set-keep-alive-enabled`]: (s: unknown, v: boolean) =>
      tcp(s, 'set-keep-alive-enabled').setKeepAliveEnabled(v),
    [`${M}keep-alive-idle-time`]: (s: unknown) => tcp(s, 'keep-alive-idle-time').keepAliveIdleTime(),
    [`${M}set-keep-alive-idle-time`]: (s: unknown, v: bigint) =>
      tcp(s, 'set-keep-alive-idle-time').setKeepAliveIdleTime(v),
    [`${M}keep-alive-interval`]: (s: unknown) => tcp(s, 'keep-alive-interval').keepAliveInterval(),
    [`${M}set-keep-alive-interval`]: (s: unknown, v: bigint) =>
      tcp(s, 'set-keep-alive-interval').setKeepAliveInterval(v),
    [`${M}keep-alive-count`]: (s: unknown) => tcp(s, 'keep-alive-count').keepAliveCount(),
    [`${M}set-keep-alive-count`]: (s: unknown, v: number) =>
      tcp(s, 'set-keep-alive-count').setKeepAliveCount(v),
    [`${M}hop-limit`]: (s: unknown) => tcp(s, 'hop-limit').hopLimit(),
    [`${M}set-hop-limit`]: (s: unknown, v: number) => tcp(s, 'set-hop-limit').setHopLimit(v),
    [`${M}receive-buffer-size`]: (s: unknown) => tcp(s, 'receive-buffer-size').receiveBufferSize(),
    [`${M}set-receive-buffer-size`]: (s: unknown, v: bigint) =>
      tcp(s, 'set-receive-buffer-size').setReceiveBufferSize(v),
    [`${M}send-buffer-size`]: (s: unknown) => tcp(s, 'send-buffer-size').sendBufferSize(),
    [`${M}set-send-buffer-size`]: (s: unknown, v: bigint) =>
      tcp(s, 'set-send-buffer-size').setSendBufferSize(v),
    [`${M}subscribe`]: (s: unknown) => tcp(s, 'subscribe').subscribe(),
    [`${M}shutdown`]: (s: unknown, how: 'receive' | 'send' | 'both') => tcp(s, 'shutdown').shutdown(how),
  };
}
