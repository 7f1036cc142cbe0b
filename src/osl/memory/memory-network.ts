/**
 * An in-memory network for tests: HTTP handlers and TCP echo-style services registered by
 * address and port. Like the real port, it resolves names only through the `lookup` it is
 * given and "connects" to the address that lookup returned.
 */

import { AirssysError } from '../../shared/errors.js';
import { denied } from '../deny.js';
import { parseIp } from '../policy/ip.js';
import type {
  ExchangeOptions,
  HttpRequest,
  HttpResponse,
  Lookup,
  Network,
  ResolvedAddress,
  TcpConnection,
} from '../ports/network.js';

export interface MemoryHttpReply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export type MemoryHttpHandler = (request: HttpRequest) => MemoryHttpReply | Promise<MemoryHttpReply>;
/** Gets each chunk written by the client and returns the reply chunk (or nothing). */
export type MemoryTcpHandler = (data: Uint8Array) => Uint8Array | undefined;

/**
 * @example
 * const mem = new MemoryNetwork();
 * mem.http('127.0.0.1', 8080, () => ({ body: 'hello' }));
 */
export class MemoryNetwork implements Network {
  private readonly httpHandlers = new Map<string, MemoryHttpHandler>();
  private readonly tcpHandlers = new Map<string, MemoryTcpHandler>();

  http(address: string, port: number, handler: MemoryHttpHandler): void {
    this.httpHandlers.set(`${address}:${port}`, handler);
  }

  tcp(address: string, port: number, handler: MemoryTcpHandler): void {
    this.tcpHandlers.set(`${address}:${port}`, handler);
  }

  async exchange(request: HttpRequest, options: ExchangeOptions): Promise<HttpResponse> {
    const { url } = request;
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    const address = await pick(url.hostname, options.lookup);
    const handler = this.httpHandlers.get(`${address.address}:${port}`);
    if (!handler) throw refused(`${url.host}`);
    let timer: NodeJS.Timeout | undefined;
    const reply = await Promise.race([
      Promise.resolve(handler(request)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new AirssysError('timeout', `no response from ${url.host} within ${options.timeoutMs} ms`),
            ),
          options.timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    const body =
      typeof reply.body === 'string'
        ? new TextEncoder().encode(reply.body)
        : (reply.body ?? new Uint8Array());
    if (body.length > options.maxResponseBytes) {
      throw denied(`response body is over the ${options.maxResponseBytes}-byte limit`, {
        limit: options.maxResponseBytes,
        actual: body.length,
        quota: 'response',
      });
    }
    return {
      status: reply.status ?? 200,
      headers: Object.fromEntries(Object.entries(reply.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      body,
      remoteAddress: address.address,
    };
  }

  async connect(
    host: string,
    port: number,
    options: { lookup: Lookup; timeoutMs: number },
  ): Promise<TcpConnection> {
    const address = await pick(host, options.lookup);
    const handler = this.tcpHandlers.get(`${address.address}:${port}`);
    if (!handler) throw refused(`${host}:${port}`);
    return new MemoryTcpConnection(address.address, port, handler);
  }
}

async function pick(hostname: string, lookup: Lookup): Promise<ResolvedAddress> {
  const literal = parseIp(hostname);
  if (literal) return { address: literal.text, family: literal.family };
  const addresses = await lookup(hostname);
  if (addresses.length === 0)
    throw new AirssysError('not-found', `${hostname} has no addresses`, { blame: 'guest' });
  return addresses[0];
}

function refused(where: string): AirssysError {
  return new AirssysError('not-found', `${where}: ECONNREFUSED`, { blame: 'guest' });
}

class MemoryTcpConnection implements TcpConnection {
  private readonly inbox: Uint8Array[] = [];
  private closed = false;
  private readonly listeners: (() => void)[] = [];

  constructor(
    readonly remoteAddress: string,
    readonly remotePort: number,
    private readonly handler: MemoryTcpHandler,
  ) {}

  async write(data: Uint8Array): Promise<void> {
    if (this.closed) throw new AirssysError('invalid-argument', 'connection is closed', { blame: 'guest' });
    const reply = this.handler(data);
    if (reply) this.inbox.push(reply);
  }

  async read(): Promise<Uint8Array | null> {
    return this.inbox.shift() ?? null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.listeners) listener();
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.listeners.push(listener);
  }
}
