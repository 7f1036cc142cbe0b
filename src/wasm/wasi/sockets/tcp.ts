/**
 * `wasi:sockets/tcp@0.2` and `wasi:sockets/tcp-create-socket@0.2`: the WIT functions, each a
 * thin call into `TcpSocket` (tcp-socket.ts). Connections and listeners live on the socket
 * thread (osl/node/sync-socket-bridge.ts); no function here blocks: the guest waits with
 * `wasi:io/poll` on `subscribe`, or in the streams' blocking calls, within its call's deadline.
 */

import { type Interface, ok } from '../values.js';
import {
  fail,
  type IpAddressFamily,
  type IpSocketAddress,
  methods,
  networkOf,
  type SocketsContext,
} from './network.js';
import { TcpSocket } from './tcp-socket.js';

export function tcpCreateSocketInterface(sockets: SocketsContext): Interface {
  return {
    'create-tcp-socket': (family: IpAddressFamily) => {
      if (family !== 'ipv4' && family !== 'ipv6') return fail('not-supported');
      if (sockets.full()) return fail('new-socket-limit');
      return ok(new TcpSocket(family, sockets));
    },
  };
}

export function tcpInterface(): Interface {
  const method = methods('tcp', 'tcp-socket', TcpSocket);
  return Object.fromEntries([
    method('start-bind', (socket, net: unknown, local: IpSocketAddress) => {
      networkOf(net, 'tcp#[method]tcp-socket.start-bind');
      return socket.startBind(local);
    }),
    method('finish-bind', (socket) => socket.finishBind()),
    method('start-connect', (socket, net: unknown, remote: IpSocketAddress) => {
      networkOf(net, 'tcp#[method]tcp-socket.start-connect');
      return socket.startConnect(remote);
    }),
    method('finish-connect', (socket) => socket.finishConnect()),
    method('start-listen', (socket) => socket.startListen()),
    method('finish-listen', (socket) => socket.finishListen()),
    method('accept', (socket) => socket.accept()),
    method('local-address', (socket) => socket.localAddress()),
    method('remote-address', (socket) => socket.remoteAddress()),
    method('is-listening', (socket) => socket.isListening()),
    method('address-family', (socket) => socket.family),
    method('set-listen-backlog-size', (socket, v: bigint) => socket.setListenBacklogSize(v)),
    method('keep-alive-enabled', (socket) => socket.option('keepAlive')),
    method('set-keep-alive-enabled', (socket, v: boolean) => socket.setKeepAliveEnabled(v)),
    method('keep-alive-idle-time', (socket) => socket.option('keepAliveIdleNs')),
    method('set-keep-alive-idle-time', (socket, v: bigint) => socket.setKeepAliveIdleTime(v)),
    method('keep-alive-interval', (socket) => socket.option('keepAliveIntervalNs')),
    method('set-keep-alive-interval', (socket, v: bigint) => socket.setKeepAliveInterval(v)),
    method('keep-alive-count', (socket) => socket.option('keepAliveCount')),
    method('set-keep-alive-count', (socket, v: number) => socket.setKeepAliveCount(v)),
    method('hop-limit', (socket) => socket.option('hopLimit')),
    method('set-hop-limit', (socket, v: number) => socket.setHopLimit(v)),
    method('receive-buffer-size', (socket) => socket.option('receiveBufferSize')),
    method('set-receive-buffer-size', (socket, v: bigint) => socket.setReceiveBufferSize(v)),
    method('send-buffer-size', (socket) => socket.option('sendBufferSize')),
    method('set-send-buffer-size', (socket, v: bigint) => socket.setSendBufferSize(v)),
    method('subscribe', (socket) => socket.subscribe()),
    method('shutdown', (socket, how: 'receive' | 'send' | 'both') => socket.shutdown(how)),
  ]);
}
