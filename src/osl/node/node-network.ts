/**
 * The network port over `node:http`, `node:https` and `node:net`.
 *
 * THREAT MODEL: the address checked must be the address connected to. Resolving a name, checking
 * the answer and then handing the *name* to the HTTP client lets a hostile DNS server answer
 * `93.184.216.34` to the check and `127.0.0.1` to the client (DNS rebinding). Here the client
 * gets no resolver of its own: the policy's `lookup` is installed as the socket's `lookup`
 * option, so the one answer that was checked is the one `connect(2)` uses. No keep-alive agent
 * either: a pooled socket would carry a request to an address checked for another host.
 * Bodies are counted as they arrive and the socket is destroyed at the cap, so an endless
 * response costs at most the cap in memory.
 */

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { AirssysError } from '../../shared/errors.js';
import { denied } from '../deny.js';
import type {
  ExchangeOptions,
  HttpRequest,
  HttpResponse,
  Lookup,
  Network,
  TcpConnection,
} from '../ports/network.js';

type NodeLookup = NonNullable<net.TcpSocketConnectOpts['lookup']>;

/** Adapts an async `Lookup` to the callback shape sockets call (with and without `all`). */
export function toNodeLookup(lookup: Lookup): NodeLookup {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    lookup(hostname).then(
      (addresses) => {
        if (addresses.length === 0) {
          callback(new AirssysError('not-found', `${hostname} has no addresses`, { blame: 'guest' }));
        } else if (options?.all) callback(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      },
      (error) => callback(error),
    );
  }) as unknown as NodeLookup;
}

/**
 * @example
 * const net = new NodeNetwork();
 * const res = await net.exchange(
 *   { url: new URL('http://svc.test:8080/'), method: 'GET', headers: {} },
 *   { lookup: async () => [{ address: '127.0.0.1', family: 4 }], maxResponseBytes: 1 << 20, timeoutMs: 5000 },
 * );
 */
export class NodeNetwork implements Network {
  exchange(request: HttpRequest, options: ExchangeOptions): Promise<HttpResponse> {
    const { url } = request;
    const client = url.protocol === 'https:' ? https : http;
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const finish = (error: unknown, value?: HttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(phaseTimer);
        if (error) {
          req.destroy();
          reject(fromSocketError(error, url.host));
        } else resolve(value!);
      };
      const req = client.request(
        {
          protocol: url.protocol,
          hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
          port: url.port === '' ? undefined : Number(url.port),
          path: `${url.pathname}${url.search}`,
          method: request.method,
          headers: { ...request.headers, host: url.host },
          lookup: toNodeLookup(options.lookup),
          agent: false,
        },
        (res) => {
          clearTimeout(phaseTimer);
          const declared = Number(res.headers['content-length'] ?? Number.NaN);
          if (declared > options.maxResponseBytes) {
            finish(overCap(declared, options.maxResponseBytes));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > options.maxResponseBytes) finish(overCap(size, options.maxResponseBytes));
            else chunks.push(chunk);
          });
          res.on('error', (error) => finish(error));
          res.on('end', () =>
            finish(undefined, {
              status: res.statusCode ?? 0,
              headers: flattenHeaders(res.headers),
              body: Buffer.concat(chunks),
              remoteAddress: res.socket?.remoteAddress ?? '',
            }),
          );
        },
      );
      const timer = setTimeout(
        () =>
          finish(
            new AirssysError('timeout', `no response from ${url.host} within ${options.timeoutMs} ms`, {
              details: { phase: 'response', limit: options.timeoutMs },
            }),
          ),
        options.timeoutMs,
      );
      // The connect and first-byte timeouts run one after the other on one timer: connecting,
      // then waiting for the head once connected (wasi:http's request-options).
      let phaseTimer: NodeJS.Timeout | undefined;
      const phase = (name: 'connect' | 'first-byte', ms: number | undefined) => {
        clearTimeout(phaseTimer);
        if (ms === undefined) return;
        const what = name === 'connect' ? 'could not connect to' : 'no response head from';
        phaseTimer = setTimeout(
          () =>
            finish(
              new AirssysError('timeout', `${what} ${url.host} within ${ms} ms`, {
                details: { phase: name, limit: ms },
              }),
            ),
          ms,
        );
      };
      phase('connect', options.connectTimeoutMs);
      req.on('socket', (socket) => {
        const connected = () => phase('first-byte', options.firstByteTimeoutMs);
        socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
      });
      req.on('close', () => clearTimeout(phaseTimer));
      req.on('error', (error) => finish(error));
      req.end(request.body === undefined ? undefined : Buffer.from(request.body));
    });
  }

  connect(
    host: string,
    port: number,
    options: { lookup: Lookup; timeoutMs: number },
  ): Promise<TcpConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: host.startsWith('[') ? host.slice(1, -1) : host,
        port,
        lookup: toNodeLookup(options.lookup),
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new AirssysError('timeout', `could not connect to ${host}:${port} within ${options.timeoutMs} ms`),
        );
      }, options.timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(fromSocketError(error, `${host}:${port}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new NodeTcpConnection(socket));
      });
    });
  }
}

class NodeTcpConnection implements TcpConnection {
  private readonly chunks: Uint8Array[] = [];
  private readonly waiting: ((chunk: Uint8Array | null) => void)[] = [];
  private ended = false;
  private readonly closeListeners: (() => void)[] = [];

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter(chunk);
      else this.chunks.push(chunk);
    });
    const end = () => {
      if (this.ended) return;
      this.ended = true;
      for (const waiter of this.waiting.splice(0)) waiter(null);
      for (const listener of this.closeListeners) listener();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  get remotePort(): number {
    return this.socket.remotePort ?? 0;
  }

  write(data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.write(data, (error) => (error ? reject(fromSocketError(error, 'socket')) : resolve())),
    );
  }

  read(): Promise<Uint8Array | null> {
    const chunk = this.chunks.shift();
    if (chunk) return Promise.resolve(chunk);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async close(): Promise<void> {
    this.socket.destroy();
  }

  onClose(listener: () => void): void {
    if (this.ended) listener();
    else this.closeListeners.push(listener);
  }
}

function overCap(size: number, limit: number): AirssysError {
  return denied(`response body is over the ${limit}-byte limit`, { limit, actual: size, quota: 'response' });
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) out[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function fromSocketError(error: unknown, where: string): AirssysError {
  if (error instanceof AirssysError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const options = { cause: error, details: { errno: code } };
  switch (code) {
    case 'ENOTFOUND':
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new AirssysError('not-found', `${where}: ${code}`, { ...options, blame: 'guest' });
    case 'ETIMEDOUT':
      return new AirssysError('timeout', `${where}: timed out`, options);
    default:
      return new AirssysError('internal', `${where}: ${(error as Error).message}`, options);
  }
}
