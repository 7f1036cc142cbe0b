/**
 * Egress host patterns (`api.example.com:443`, `*.internal.example:8080`, `10.0.0.5:*`) and the
 * one function that turns a URL or a `host:port` pair into the host a connection really uses.
 *
 * THREAT MODEL: a guest controls the URL text. Any difference between how the policy reads a
 * URL and how the HTTP client reads it is an escape: `http://allowed.com@evil.com/` (userinfo),
 * `http://evil.com#@allowed.com` (fragment), `http://ALLOWED.com.` (case, trailing dot),
 * `http://еxample.com` (a Cyrillic homograph) or `http://0x7f.1` (an IP literal in disguise).
 * So both sides go through the WHATWG URL parser — the one `fetch` and `http` use — patterns
 * included, hosts are compared only after IDNA ToASCII, IP literals after normalisation, and a
 * URL carrying userinfo is refused outright rather than interpreted.
 */

import { domainToASCII } from 'node:url';
import { parseIp } from './ip.js';

export interface HostPattern {
  readonly source: string;
  /** ASCII host, without the `*.` of a wildcard pattern. */
  readonly host: string;
  readonly wildcard: boolean;
  /** Allowed port, or undefined for "any" (`:*`); a pattern without a port allows 80 and 443. */
  readonly ports: readonly number[] | undefined;
}

/** A connection target after normalisation: what the socket will be opened to. */
export interface Target {
  readonly host: string;
  readonly port: number;
  readonly isIp: boolean;
}

/**
 * Compiles one `host[:port]` pattern; throws `TypeError` when it is not one.
 *
 * @example
 * const p = compileHostPattern('*.example.com:443');
 * matchHost(p, { host: 'api.example.com', port: 443, isIp: false }); // true
 */
export function compileHostPattern(source: string): HostPattern {
  let text = source.trim();
  let wildcard = false;
  if (text.startsWith('*.')) {
    wildcard = true;
    text = text.slice(2);
  }
  let ports: number[] | undefined = [80, 443];
  const portMatch = /:(\*|\d{1,5})$/.exec(text);
  if (portMatch && !(text.startsWith('[') && !text.slice(0, portMatch.index).endsWith(']'))) {
    ports = portMatch[1] === '*' ? undefined : [Number(portMatch[1])];
    text = text.slice(0, portMatch.index);
  }
  if (ports?.some((p) => p < 1 || p > 65535)) throw new TypeError(`bad port in ${JSON.stringify(source)}`);
  let parsed: URL;
  try {
    parsed = new URL(`http://${text}/`);
  } catch {
    throw new TypeError(`not a host pattern: ${JSON.stringify(source)}`);
  }
  if (parsed.username || parsed.password || parsed.port || parsed.pathname !== '/' || text.includes('*')) {
    throw new TypeError(`not a host pattern: ${JSON.stringify(source)}`);
  }
  const host = normaliseHost(parsed.hostname);
  if (host === undefined) throw new TypeError(`not a host pattern: ${JSON.stringify(source)}`);
  if (wildcard && parseIp(host)) throw new TypeError(`"*." cannot prefix an IP address: ${source}`);
  return { source, host, wildcard, ports };
}

/** Lowercase ASCII host, trailing dot removed, IP literals in canonical form; undefined if invalid. */
export function normaliseHost(hostname: string): string | undefined {
  const ip = parseIp(hostname);
  if (ip) return ip.text;
  const ascii = domainToASCII(hostname.endsWith('.') ? hostname.slice(0, -1) : hostname);
  return ascii === '' ? undefined : ascii.toLowerCase();
}

export function matchHost(pattern: HostPattern, target: Target): boolean {
  if (pattern.ports && !pattern.ports.includes(target.port)) return false;
  if (!pattern.wildcard) return target.host === pattern.host;
  return !target.isIp && target.host.endsWith(`.${pattern.host}`);
}

/** Why a URL was refused before any policy was consulted. */
export class UrlRefusal {
  constructor(
    readonly reason: string,
    /** `malformed`: not something a policy can read at all; `denied`: readable but refused. */
    readonly kind: 'malformed' | 'denied' = 'denied',
  ) {}
}

/**
 * Parses a guest URL into its target and the URL actually sent (fragment dropped). Returns a
 * `UrlRefusal` for anything the policy will not interpret: non-HTTP schemes, userinfo,
 * unparseable text.
 */
export function targetOfUrl(input: unknown): { url: URL; target: Target } | UrlRefusal {
  if (typeof input !== 'string' && !(input instanceof URL))
    return new UrlRefusal('URL must be a string', 'malformed');
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return new UrlRefusal('not a valid absolute URL', 'malformed');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return new UrlRefusal(`scheme ${url.protocol} is not allowed (http and https only)`);
  }
  if (url.username !== '' || url.password !== '') {
    return new UrlRefusal('URLs with userinfo (user@host) are refused');
  }
  url.hash = '';
  const host = normaliseHost(url.hostname);
  if (host === undefined) return new UrlRefusal('URL has no usable host');
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return { url, target: { host, port, isIp: parseIp(host) !== undefined } };
}

/** Normalises a TCP `connect(host, port)` target the same way. */
export function targetOfHostPort(host: string, port: number): Target | UrlRefusal {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    return new UrlRefusal(`bad port ${port}`, 'malformed');
  if (typeof host !== 'string' || host.includes('@') || host.includes('/') || host.includes('#')) {
    return new UrlRefusal('host must be a bare host name or IP literal', 'malformed');
  }
  let parsed: URL;
  try {
    parsed = new URL(`http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}/`);
  } catch {
    return new UrlRefusal('not a valid host', 'malformed');
  }
  const normal = normaliseHost(parsed.hostname);
  if (normal === undefined) return new UrlRefusal('not a valid host', 'malformed');
  return { host: normal, port, isIp: parseIp(normal) !== undefined };
}
