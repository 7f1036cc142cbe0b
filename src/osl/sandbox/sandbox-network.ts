/**
 * The guest's network API. Redirects are followed here, one hop at a time, each hop a new
 * operation through the whole chain: a granted host that redirects to a denied one (or to
 * `http://169.254.169.254/`) is refused at that hop, and audited as such.
 */

import { malformed } from '../deny.js';
import type { HttpResponse, ResolvedAddress, TcpConnection, TcpListener } from '../ports/network.js';
import type { Run } from './sandbox.js';

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** `follow` (default) re-checks every hop; `manual` returns the 3xx response. */
  redirect?: 'follow' | 'manual';
  /** Lower than the host's cap only. */
  maxResponseBytes?: number;
  timeoutMs?: number;
  /** Until connected (see `ExchangeOptions`); none by default beyond `timeoutMs`. */
  connectTimeoutMs?: number;
  /** From connected to the response head; none by default beyond `timeoutMs`. */
  firstByteTimeoutMs?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * @example
 * const res = await sandbox.net.fetch('https://api.example.com/items', { method: 'GET' });
 * new TextDecoder().decode(res.body);
 */
export class SandboxNetwork {
  private readonly connections = new Set<TcpConnection>();

  constructor(
    private readonly run: Run,
    private readonly limits: { maxResponseBytes: number },
  ) {}

  async fetch(url: string, init: FetchInit = {}): Promise<HttpResponse & { url: string }> {
    let method = String(init.method ?? 'GET').toUpperCase();
    // Validated by the egress policy, inside the chain, so refusals are audited.
    let headers = Object.fromEntries(
      Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    let body = typeof init.body === 'string' ? new TextEncoder().encode(init.body) : init.body;
    const maxResponseBytes = Math.min(
      init.maxResponseBytes ?? this.limits.maxResponseBytes,
      this.limits.maxResponseBytes,
    );
    let current: string = url;
    for (let hop = 0; ; hop++) {
      const res = await this.run<HttpResponse>(
        {
          kind: 'net.fetch',
          url: current,
          hop,
          method,
          headers,
          body,
          maxResponseBytes,
          timeoutMs: init.timeoutMs ?? 30_000,
          connectTimeoutMs: init.connectTimeoutMs,
          firstByteTimeoutMs: init.firstByteTimeoutMs,
        },
        current,
      );
      const location = res.headers.location;
      if (init.redirect === 'manual' || !REDIRECTS.has(res.status) || location === undefined) {
        return { ...res, url: current };
      }
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw malformed(`redirect to an invalid URL ${JSON.stringify(location)}`);
      }
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      // Note: credentials never follow a redirect to another origin.
      if (next.origin !== new URL(current).origin) {
        headers = Object.fromEntries(
          Object.entries(headers).filter(
            ([k]) => !['authorization', 'cookie', 'proxy-authorization'].includes(k),
          ),
        );
      }
      current = next.href;
    }
  }

  async connect(host: string, port: number, options: { timeoutMs?: number } = {}): Promise<TcpConnection> {
    const conn = await this.run<TcpConnection>(
      { kind: 'net.connect', host, port, timeoutMs: options.timeoutMs ?? 10_000 },
      `${host}:${port}`,
    );
    this.connections.add(conn);
    conn.onClose(() => this.connections.delete(conn));
    return conn;
  }

  /**
   * The addresses of `host`, looked up through the chain: refused unless some port of it is
   * granted, and unless every answer is an address the grants allow (as for a connect).
   */
  lookup(host: string): Promise<ResolvedAddress[]> {
    return this.run<ResolvedAddress[]>({ kind: 'net.lookup', host }, host);
  }

  /**
   * The addresses datagrams to `host:port` may go to (UDP), judged as a connect there would be:
   * the checked answers of `host`, or the address itself.
   */
  datagramTarget(host: string, port: number): Promise<ResolvedAddress[]> {
    return this.run<ResolvedAddress[]>({ kind: 'net.datagram', host, port }, `${host}:${port}`);
  }

  /** A TCP listener on `host` (an IP address) and `port` (0: any free one), if `network.listen` grants it. */
  listen(host: string, port: number, options: { backlog?: number } = {}): Promise<TcpListener> {
    return this.run<TcpListener>(
      { kind: 'net.listen', host, port, backlog: options.backlog ?? 128 },
      `${host}:${port}`,
    );
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.connections].map((c) => c.close()));
  }
}
