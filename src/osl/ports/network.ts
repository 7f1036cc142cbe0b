/**
 * The network port: one outbound HTTP exchange (no redirects followed — the sandbox follows
 * them hop by hop so each hop is checked) and outbound TCP connections.
 *
 * The port never resolves names on its own: every call carries a `lookup`, and the port must
 * connect only to an address that `lookup` returned. That is how the egress policy checks the
 * address a socket really uses, not one from an earlier, separate DNS query (DNS rebinding).
 */

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to the addresses a connection may use; throws to refuse. */
export type Lookup = (hostname: string) => Promise<ResolvedAddress[]>;

export interface HttpRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  /** The address the request was actually sent to. */
  readonly remoteAddress: string;
}

export interface ExchangeOptions {
  readonly lookup: Lookup;
  /** Bodies larger than this fail with `capability-denied` and are not buffered further. */
  readonly maxResponseBytes: number;
  /** The whole exchange, from the first byte sent to the last received. */
  readonly timeoutMs: number;
  /** Until the connection (TLS included) is up; fails `timeout` with `details.phase` `connect`. */
  readonly connectTimeoutMs?: number;
  /** From connected to the response head; fails `timeout` with `details.phase` `first-byte`. */
  readonly firstByteTimeoutMs?: number;
}

export interface TcpConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  write(data: Uint8Array): Promise<void>;
  /** The next chunk received, or null once the peer has closed. */
  read(): Promise<Uint8Array | null>;
  close(): Promise<void>;
  /** Called once when the connection ends, whoever ended it (quota bookkeeping). */
  onClose(listener: () => void): void;
}

/** A listening TCP socket of this host. */
export interface TcpListener {
  /** The address and port it listens on (the port chosen when 0 was asked for). */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Errors: `capability-denied` (the lookup refused, the body is over the cap), `timeout`,
 * `not-found` (the name does not resolve, nothing listens there, the network is unreachable)
 * and `internal` blamed on the host, with the cause, for any other socket failure.
 */
export interface Network {
  exchange(request: HttpRequest, options: ExchangeOptions): Promise<HttpResponse>;
  connect(host: string, port: number, options: { lookup: Lookup; timeoutMs: number }): Promise<TcpConnection>;
  /** Listens on `address` (an IP literal the policy judged) and `port`; optional for a port. */
  listen?(address: string, port: number, options: { backlog: number }): Promise<TcpListener>;
}
