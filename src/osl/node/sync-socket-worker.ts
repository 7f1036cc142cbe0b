/**
 * The socket thread of `sync-socket-bridge.ts`: owns the Node sockets and listeners, by the
 * caller's ids. Each lookup, connect and listen runs through a sandbox built from the grants
 * the request carries — audit → egress policy → quota → the network port below — and its
 * outcome goes back with the chain's audit records. After every report it bumps the shared
 * counter and wakes a caller waiting on it.
 *
 * A connect is judged as a connect to the request's `host` (the name the guest looked the
 * address up under, or the address itself) whose lookup answers exactly the guest's address:
 * so the grants of the name apply, and the address is checked as any answer would be (the
 * egress policy's special-address rules). Once connected, the peer's address is checked again
 * against the one judged.
 */

import dgram from 'node:dgram';
import net from 'node:net';
import { type MessagePort, parentPort } from 'node:worker_threads';
import { AirssysError, toAirssysError } from '../../shared/errors.js';
import { type AuditRecord, recordInto } from '../audit/audit-log.js';
import { type Capabilities, compileCapabilities } from '../policy/grants.js';
import { parseIp } from '../policy/ip.js';
import type { Network, TcpConnection, TcpListener } from '../ports/network.js';
import { createSandbox } from '../sandbox/sandbox.js';
import { toNodeLookup } from './node-network.js';
import {
  type Endpoint,
  RECEIVE_WINDOW,
  type SocketAuthority,
  type SocketEvent,
  type SocketFailure,
  type SocketRequest,
} from './sync-socket-bridge.js';
import { RECEIVE_QUEUE } from './sync-udp-socket.js';

let events: MessagePort | undefined;
let cell: Int32Array | undefined;

function report(event: SocketEvent, transfer: ArrayBuffer[] = []): void {
  events?.postMessage(event, transfer);
  // Note: after the post, so that a caller woken by the counter finds the report on the port.
  if (cell !== undefined) {
    Atomics.add(cell, 0, 1);
    Atomics.notify(cell, 0);
  }
}

/** An open connection and how far the caller is behind reading it. */
interface Tracked {
  readonly socket: net.Socket;
  unread: number;
  paused: boolean;
}

const sockets = new Map<number, Tracked>();

/** A bound UDP socket: where it may send (judged), whether anyone may send to it, its peer. */
interface TrackedUdp {
  readonly socket: dgram.Socket;
  readonly allowed: Set<string>;
  readonly open: boolean;
  unread: number;
  connected: string | undefined;
  peer: Endpoint | undefined;
}

const udps = new Map<number, TrackedUdp>();
/** One spelling per address (the caller's `0:0:0:0:0:0:0:1` and Node's `::1` alike). */
const canonical = (address: string) => parseIp(address)?.text ?? address;
const keyOf = (address: string, port: number) => `${canonical(address)}|${port}`;
const listeners = new Map<number, net.Server>();
/** Connects and listens under way; a close for one of them is kept in `closedEarly`. */
const starting = new Set<number>();
const closedEarly = new Set<number>();
/** Ids of accepted connections: negative, so they never meet the caller's. */
let nextChild = -1;

/** Grants seen recently, compiled: a component opens many sockets with the same grants. */
const compiled = new Map<string, Capabilities>();
const MAX_COMPILED = 64;

function capabilitiesOf(authority: SocketAuthority): Capabilities {
  const key = JSON.stringify([authority.grants, authority.policy ?? {}]);
  let caps = compiled.get(key);
  if (caps === undefined) {
    caps = compileCapabilities(authority.grants, authority.policy);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, caps);
  }
  return caps;
}

function sandboxOf(
  authority: SocketAuthority,
  audit: AuditRecord[],
  extra: { net?: Network; answer?: Endpoint } = {},
) {
  const answer = extra.answer;
  return createSandbox({
    component: authority.component,
    version: authority.version,
    grants: capabilitiesOf(authority),
    policy: authority.policy,
    audit: recordInto((record) => audit.push(record)),
    resolver:
      answer === undefined ? undefined : async () => [{ address: answer.address, family: answer.family }],
    ports: extra.net === undefined ? undefined : { net: extra.net },
  });
}

function failureOf(error: unknown): SocketFailure {
  const failure = toAirssysError(error);
  const errno = failure.details?.errno ?? (failure.cause as NodeJS.ErrnoException | undefined)?.code;
  return {
    code: failure.code,
    errno: typeof errno === 'string' ? errno : undefined,
    message: failure.message,
  };
}

function socketError(error: unknown, where: string): AirssysError {
  const errno = (error as NodeJS.ErrnoException).code;
  const code = errno === 'ETIMEDOUT' ? 'timeout' : errno === 'ECONNREFUSED' ? 'not-found' : 'internal';
  return new AirssysError(code, `${where}: ${(error as Error).message}`, {
    cause: error,
    blame: code === 'internal' ? 'host' : 'guest',
    details: { errno },
  });
}

function endpointOf(
  address: string | undefined,
  port: number | undefined,
  family: string | undefined,
): Endpoint {
  return { address: address ?? '', port: port ?? 0, family: family === 'IPv6' ? 6 : 4 };
}

/** Both ends of a connected socket, as a `connected` or `accepted` report gives them. */
function endsOf(socket: net.Socket): { local: Endpoint; remote: Endpoint } {
  return {
    local: endpointOf(socket.localAddress, socket.localPort, socket.localFamily),
    remote: endpointOf(socket.remoteAddress, socket.remotePort, socket.remoteFamily),
  };
}

/** The network port of one connect or listen: Node's sockets, which this thread then keeps. */
class ThreadSocket implements TcpConnection {
  private readonly closeListeners: (() => void)[] = [];

  constructor(readonly socket: net.Socket) {
    socket.once('close', () => {
      for (const listener of this.closeListeners.splice(0)) listener();
    });
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  get remotePort(): number {
    return this.socket.remotePort ?? 0;
  }

  write(): Promise<void> {
    return Promise.reject(new AirssysError('internal', 'written through the bridge, not the port'));
  }

  read(): Promise<Uint8Array | null> {
    return Promise.reject(new AirssysError('internal', 'read through the bridge, not the port'));
  }

  async close(): Promise<void> {
    this.socket.destroy();
  }

  onClose(listener: () => void): void {
    if (this.socket.closed) listener();
    else this.closeListeners.push(listener);
  }
}

class ThreadListener implements TcpListener {
  constructor(readonly server: net.Server) {}

  get address(): string {
    return (this.server.address() as net.AddressInfo).address;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.close();
  }
}

const NO_HTTP: Network['exchange'] = () =>
  Promise.reject(new AirssysError('internal', 'the socket thread sends no HTTP'));

async function lookup(id: number, authority: SocketAuthority, name: string): Promise<void> {
  const audit: AuditRecord[] = [];
  try {
    const addresses = await sandboxOf(authority, audit).net.lookup(name);
    report({ kind: 'resolved', id, addresses, audit });
  } catch (error) {
    report({ kind: 'resolved', id, error: failureOf(error), audit });
  }
}

async function connect(request: Extract<SocketRequest, { kind: 'connect' }>): Promise<void> {
  const { id, remote, local } = request;
  const audit: AuditRecord[] = [];
  const port: Network = {
    exchange: NO_HTTP,
    connect: (host, remotePort, options) =>
      new Promise((resolve, reject) => {
        const socket = net.connect({
          host,
          port: remotePort,
          lookup: toNodeLookup(options.lookup),
          family: remote.family,
          localAddress: local?.address,
          localPort: local === undefined || local.port === 0 ? undefined : local.port,
          allowHalfOpen: true,
          // Note: the guest writes what it means to send (WASI has no Nagle option); as Go does.
          noDelay: true,
        });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(
            new AirssysError(
              'timeout',
              `could not connect to ${host}:${remotePort} in ${options.timeoutMs} ms`,
            ),
          );
        }, options.timeoutMs);
        socket.once('error', (error) => {
          clearTimeout(timer);
          reject(socketError(error, `${host}:${remotePort}`));
        });
        socket.once('connect', () => {
          clearTimeout(timer);
          resolve(new ThreadSocket(socket));
        });
      }),
  };
  starting.add(id);
  try {
    const sandbox = sandboxOf(request.authority, audit, { net: port, answer: remote });
    const conn = (await sandbox.net.connect(request.host, remote.port, {
      timeoutMs: request.timeoutMs,
    })) as ThreadSocket;
    const { socket } = conn;
    if (closedEarly.delete(id)) {
      socket.destroy();
      return;
    }
    // Note: the address judged must be the address connected to.
    if (canonical(socket.remoteAddress ?? '') !== canonical(remote.address)) {
      socket.destroy();
      throw new AirssysError('internal', `connected to ${socket.remoteAddress}, not ${remote.address}`);
    }
    track(id, socket);
    report({ kind: 'connected', id, ...endsOf(socket), audit });
  } catch (error) {
    if (!closedEarly.delete(id)) report({ kind: 'failed', id, error: failureOf(error), audit });
  } finally {
    starting.delete(id);
  }
}

async function listen(request: Extract<SocketRequest, { kind: 'listen' }>): Promise<void> {
  const { id, local } = request;
  const audit: AuditRecord[] = [];
  const port: Network = {
    exchange: NO_HTTP,
    connect: () => Promise.reject(new AirssysError('internal', 'a listener does not connect')),
    listen: (address, listenPort, options) =>
      new Promise((resolve, reject) => {
        const server = net.createServer({ allowHalfOpen: true, noDelay: true });
        server.once('error', (error) => reject(socketError(error, `listen on ${address}:${listenPort}`)));
        server.listen({ host: address, port: listenPort, backlog: options.backlog, exclusive: true }, () =>
          resolve(new ThreadListener(server)),
        );
      }),
  };
  starting.add(id);
  try {
    const sandbox = sandboxOf(request.authority, audit, { net: port });
    const listener = (await sandbox.net.listen(local.address, local.port, {
      backlog: request.backlog,
    })) as ThreadListener;
    const { server } = listener;
    if (closedEarly.delete(id)) {
      server.close();
      return;
    }
    listeners.set(id, server);
    server.on('connection', (socket) => {
      const child = nextChild--;
      report({ kind: 'accepted', id, child, ...endsOf(socket) });
      track(child, socket);
    });
    report({
      kind: 'listening',
      id,
      local: { ...local, address: listener.address, port: listener.port },
      audit,
    });
  } catch (error) {
    if (!closedEarly.delete(id)) report({ kind: 'failed', id, error: failureOf(error), audit });
  } finally {
    starting.delete(id);
  }
}

/** Keeps `socket` under `id` and reports what happens to it; stops reading while the caller is behind. */
function track(id: number, socket: net.Socket): void {
  const tracked: Tracked = { socket, unread: 0, paused: false };
  sockets.set(id, tracked);
  socket.on('data', (chunk: Buffer) => {
    const bytes = new Uint8Array(chunk); // a copy: Node's chunks may share a pool
    report({ kind: 'data', id, bytes }, [bytes.buffer]);
    tracked.unread += bytes.length;
    if (tracked.unread >= RECEIVE_WINDOW && !tracked.paused) {
      tracked.paused = true;
      socket.pause();
    }
  });
  socket.on('end', () => report({ kind: 'ended', id }));
  socket.on('error', (error) =>
    report({ kind: 'error', id, error: failureOf(socketError(error, 'socket')) }),
  );
  socket.on('close', () => {
    if (sockets.get(id) === tracked) sockets.delete(id);
  });
}

function write(id: number, bytes: Uint8Array): void {
  const tracked = sockets.get(id);
  if (tracked === undefined || tracked.socket.destroyed) {
    report({
      kind: 'error',
      id,
      error: { code: 'internal', errno: 'EPIPE', message: 'the connection is closed' },
    });
    return;
  }
  tracked.socket.write(bytes, (error) => {
    if (error === undefined || error === null) report({ kind: 'written', id, bytes: bytes.length });
  });
}

function udpBind(request: Extract<SocketRequest, { kind: 'udp-bind' }>): void {
  const { id, local } = request;
  const socket = dgram.createSocket({
    type: local.family === 6 ? 'udp6' : 'udp4',
    ipv6Only: local.family === 6,
  });
  starting.add(id);
  socket.once('error', (error) => {
    if (!starting.delete(id)) return;
    socket.close();
    if (!closedEarly.delete(id))
      report({ kind: 'failed', id, error: failureOf(socketError(error, 'bind')), audit: [] });
  });
  socket.bind({ address: local.address, port: local.port, exclusive: true }, () => {
    starting.delete(id);
    if (closedEarly.delete(id)) {
      socket.close();
      return;
    }
    const tracked: TrackedUdp = {
      socket,
      allowed: new Set(),
      open: request.open,
      unread: 0,
      connected: undefined,
      peer: undefined,
    };
    udps.set(id, tracked);
    socket.on('error', () => {}); // a send's failure goes to its callback
    socket.on('message', (message, from) => {
      const key = keyOf(from.address, from.port);
      // Note: the stateful filter — from where it sent, or from anyone where a listen grant covers.
      if (
        tracked.connected !== undefined
          ? key !== tracked.connected
          : !tracked.open && !tracked.allowed.has(key)
      )
        return;
      if (tracked.unread >= RECEIVE_QUEUE) return;
      tracked.unread++;
      const bytes = new Uint8Array(message);
      const remote = endpointOf(from.address, from.port, from.family);
      report({ kind: 'datagram', id, bytes, remote }, [bytes.buffer]);
    });
    const at = socket.address();
    report({ kind: 'udp-bound', id, local: endpointOf(at.address, at.port, at.family) });
  });
}

async function udpJudge(request: Extract<SocketRequest, { kind: 'udp-judge' }>): Promise<void> {
  const { id, remote } = request;
  const audit: AuditRecord[] = [];
  try {
    const answers = await sandboxOf(request.authority, audit, { answer: remote }).net.datagramTarget(
      request.host,
      remote.port,
    );
    const judged = canonical(remote.address);
    if (!answers.some((a) => canonical(a.address) === judged)) {
      throw new AirssysError(
        'internal',
        `${request.host} was judged at another address than ${remote.address}`,
      );
    }
    udps.get(id)?.allowed.add(keyOf(remote.address, remote.port));
    report({ kind: 'udp-judged', id, remote, audit });
  } catch (error) {
    report({ kind: 'udp-judged', id, remote, error: failureOf(error), audit });
  }
}

function udpSend(request: Extract<SocketRequest, { kind: 'udp-send' }>): void {
  const { id } = request;
  const tracked = udps.get(id);
  // Each datagram is reported on its own: the caller counts them back out of its send queue.
  const refused = (message: string, errno: string) =>
    report({ kind: 'udp-sent', id, count: 1, error: { code: 'internal', errno, message } });
  for (const datagram of request.datagrams) {
    const to = datagram.remote ?? tracked?.peer;
    if (tracked === undefined) refused('the socket is closed', 'EPIPE');
    else if (to === undefined) refused('no destination', 'EDESTADDRREQ');
    // Note: only where the chain allowed it, whatever the caller sends.
    else if (!tracked.allowed.has(keyOf(to.address, to.port)))
      refused(`${to.address}:${to.port} was not judged`, 'EACCES');
    else {
      tracked.socket.send(datagram.bytes, to.port, to.address, (error) =>
        report({
          kind: 'udp-sent',
          id,
          count: 1,
          error: error ? failureOf(socketError(error, `send to ${to.address}:${to.port}`)) : undefined,
        }),
      );
    }
  }
}

function close(id: number): void {
  const udp = udps.get(id);
  if (udp !== undefined) {
    udps.delete(id);
    udp.socket.close();
    return;
  }
  const tracked = sockets.get(id);
  if (tracked !== undefined) {
    sockets.delete(id);
    tracked.socket.destroy();
    return;
  }
  const server = listeners.get(id);
  if (server !== undefined) {
    listeners.delete(id);
    server.close();
    return;
  }
  if (starting.has(id)) closedEarly.add(id);
}

function handle(message: SocketRequest): void {
  switch (message.kind) {
    case 'port':
      events = message.port;
      cell = message.cell;
      return;
    case 'lookup':
      void lookup(message.id, message.authority, message.name);
      return;
    case 'connect':
      void connect(message);
      return;
    case 'listen':
      void listen(message);
      return;
    case 'write':
      write(message.id, message.bytes);
      return;
    case 'udp-bind':
      udpBind(message);
      return;
    case 'udp-judge':
      void udpJudge(message);
      return;
    case 'udp-connect': {
      const udp = udps.get(message.id);
      if (udp === undefined) return;
      udp.peer = message.remote;
      udp.connected =
        message.remote === undefined ? undefined : keyOf(message.remote.address, message.remote.port);
      return;
    }
    case 'udp-send':
      udpSend(message);
      return;
    case 'consumed': {
      const udp = udps.get(message.id);
      if (udp !== undefined) {
        // For a UDP socket, `bytes` counts datagrams.
        udp.unread = Math.max(0, udp.unread - message.bytes);
        return;
      }
      const tracked = sockets.get(message.id);
      if (tracked === undefined) return;
      tracked.unread = Math.max(0, tracked.unread - message.bytes);
      if (tracked.paused && tracked.unread < RECEIVE_WINDOW) {
        tracked.paused = false;
        tracked.socket.resume();
      }
      return;
    }
    case 'end':
      sockets.get(message.id)?.socket.end();
      return;
    case 'keep-alive':
      sockets.get(message.id)?.socket.setKeepAlive(message.enabled, message.idleMs);
      return;
    case 'close':
      close(message.id);
      return;
    case 'stats':
      report({ kind: 'stats', id: message.id, sockets: sockets.size + udps.size, listeners: listeners.size });
      return;
  }
}

parentPort?.on('message', handle);
