/**
 * The egress policy: outbound HTTP and TCP only to granted `host[:port]` patterns, and only to
 * addresses the host allows — checked on the address the socket really connects to. A name
 * looked up on its own (`net.lookup`) is granted when some port of it is, and its answers are
 * checked as a connect's would be; datagrams (`net.datagram`) go where a connect could.
 *
 * THREAT MODEL (after wasmCloud's egress_policy.rs): an allow-list of names is not an
 * allow-list of places. `api.example.com` may resolve — or be re-bound, between a check and the
 * connect, by a DNS server the attacker runs — to `127.0.0.1` (the host's own admin API),
 * `10.0.0.5` (the LAN), or `169.254.169.254` (the cloud metadata service, which hands out
 * credentials). So the name is matched against the grants after WHATWG parsing and IDNA
 * ToASCII (host-pattern.ts), and then *every* address the lookup returns is classified
 * (ip.ts): loopback, private, link-local, metadata and other special ranges are refused unless
 * the grants list the address (`network.addresses`); the metadata service needs its exact
 * address. The checking `lookup` is handed to the socket itself, so the checked answer is the
 * answer used. IP-literal URLs never reach a lookup and are checked here directly. Each
 * redirect hop comes back through this guard as a new operation.
 */

import { lookup as dnsLookup } from 'node:dns/promises';
import { denied, malformed } from '../deny.js';
import type { OperationContext } from '../operation.js';
import type { Capabilities } from '../policy/grants.js';
import {
  type HostPattern,
  matchHost,
  normaliseHost,
  type Target,
  targetOfHostPort,
  targetOfUrl,
  UrlRefusal,
} from '../policy/host-pattern.js';
import { classifyIp, type IpAddress, inRange, parseIp } from '../policy/ip.js';
import type { Lookup, ResolvedAddress } from '../ports/network.js';
import type { Middleware } from './compose.js';

/** Name resolution used by the policy; tests pass a fake one. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

export interface EgressOptions {
  resolver?: Resolver;
  maxRedirects: number;
}

/**
 * @example
 * const egress = egressPolicy(compileCapabilities({ network: { outbound: ['api.example.com:443'] } }), { maxRedirects: 5 });
 */
export function egressPolicy(caps: Capabilities, options: EgressOptions): Middleware {
  const resolver = options.resolver ?? systemResolver;
  return async (ctx, next) => {
    const op = ctx.op;
    if (op.kind === 'net.fetch') {
      const parsed = targetOfUrl(op.url);
      if (parsed instanceof UrlRefusal) throw refusal(parsed);
      checkRequestLine(op.method, op.headers);
      ctx.subject = parsed.url.href;
      if (op.hop > options.maxRedirects) {
        throw denied(`more than ${options.maxRedirects} redirects`, { limit: options.maxRedirects });
      }
      checkTarget(caps, parsed.target, ctx);
      ctx.url = parsed.url;
      ctx.lookup = checkedLookup(caps, parsed.target, resolver);
    } else if (op.kind === 'net.connect' || op.kind === 'net.datagram') {
      const target = targetOfHostPort(op.host as string, op.port as number);
      if (target instanceof UrlRefusal) throw refusal(target);
      ctx.subject = `${target.host}:${target.port}`;
      checkTarget(caps, target, ctx);
      ctx.host = target.host;
      ctx.lookup = checkedLookup(caps, target, resolver);
    } else if (op.kind === 'net.lookup') {
      const host = typeof op.host === 'string' ? targetOfHostPort(op.host, 1) : undefined;
      if (host === undefined || host instanceof UrlRefusal) throw malformed('not a valid host name');
      // A lookup has no port: it is granted when some port of the name is (a connect may follow).
      const target = { ...host, port: ANY_PORT };
      ctx.subject = target.host;
      checkTarget(caps, target, ctx);
      ctx.host = target.host;
      ctx.lookup = checkedLookup(caps, target, resolver);
    } else if (op.kind === 'net.listen') {
      ctx.host = checkListen(caps, op.host, op.port);
      ctx.subject = `${ctx.host.includes(':') ? `[${ctx.host}]` : ctx.host}:${op.port}`;
    }
    await next();
  };
}

/**
 * A listener only on an address and port `network.listen` grants (no mode relaxes it: a
 * listener lets others in). Port 0, a free port chosen by the OS, needs a `:*` grant.
 */
export function checkListen(caps: Capabilities, host: unknown, port: unknown): string {
  const ip = typeof host === 'string' ? parseIp(host) : undefined;
  if (ip === undefined) throw malformed('a listener needs an IP address');
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw malformed(`bad port ${String(port)}`);
  const target = { host: ip.text, port, isIp: true };
  // Note: a pattern's ports are never 0, so port 0 matches `:*` patterns only.
  const granted = caps.listen.some((p) => matchHost(p, target));
  if (!granted) throw denied(`no listen grant covers ${ip.text}:${port}`, { host: ip.text, port });
  return ip.text;
}

function refusal(r: UrlRefusal) {
  return r.kind === 'malformed' ? malformed(r.reason) : denied(r.reason);
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Method and headers: CR/LF or NUL would let the guest write its own request (request splitting). */
function checkRequestLine(method: string, headers: Record<string, string>): void {
  if (typeof method !== 'string' || !TOKEN.test(method))
    throw malformed(`bad HTTP method ${JSON.stringify(method)}`);
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name) || typeof value !== 'string' || /[\r\n\0]/.test(value)) {
      throw malformed(`bad HTTP header ${JSON.stringify(name)}`);
    }
    if (name.toLowerCase() === 'host') throw malformed('the Host header is set from the URL');
  }
}

/** The port of a lookup's target: matches every pattern's ports (see `matches`). */
const ANY_PORT = 0;

/** `matchHost`, where a lookup (`ANY_PORT`) matches a pattern whatever ports it lists. */
function matches(pattern: HostPattern, target: Target): boolean {
  return matchHost(target.port === ANY_PORT ? { ...pattern, ports: undefined } : pattern, target);
}

function checkTarget(caps: Capabilities, target: Target, ctx: OperationContext): void {
  const where = target.port === ANY_PORT ? target.host : `${target.host}:${target.port}`;
  for (const rule of caps.netDeny) {
    if (matches(rule, target)) throw denied(`${where} is refused by host rule ${rule.source}`);
  }
  if (!caps.outbound.some((p) => matches(p, target))) {
    const reason = `no network grant covers ${where}`;
    if (caps.mode !== 'development') throw denied(reason, { host: target.host, port: target.port });
    ctx.note = `development mode: ${reason}`;
  }
  const literal = parseIp(target.host);
  if (literal) checkAddress(caps, literal, target.host);
}

function checkedLookup(caps: Capabilities, target: Target, resolver: Resolver): Lookup {
  return async (hostname) => {
    // Note: the socket asks for the name it was given; anything else means a confused caller.
    if (normaliseHost(hostname) !== target.host)
      throw denied(`lookup for ${hostname}, expected ${target.host}`);
    const literal = parseIp(target.host);
    const answers = literal ? [{ address: literal.text, family: literal.family }] : await resolver(hostname);
    return answers.map((answer) => {
      const ip = parseIp(answer.address);
      if (!ip) throw denied(`${hostname} resolved to ${answer.address}, which is not an address`);
      checkAddress(caps, ip, hostname);
      return { address: ip.text, family: ip.family };
    });
  };
}

function checkAddress(caps: Capabilities, ip: IpAddress, host: string): void {
  const cls = classifyIp(ip);
  if (cls === 'public') return;
  const exact = ip.family === 4 ? 32 : 128;
  for (const cidr of caps.addresses) {
    if (inRange(ip, cidr) && (cls !== 'metadata' || cidr.bits === exact)) return;
  }
  if ((cls === 'loopback' || cls === 'private') && caps.mode !== 'strict') return;
  throw denied(`${host} resolves to ${ip.text} (${cls}), which is not granted`, {
    host,
    address: ip.text,
    class: cls,
  });
}
