/**
 * IP addresses as the egress policy sees them: parsed, normalised and classified.
 *
 * THREAT MODEL: an allow-list of host names says nothing about where a connection goes. A name
 * can resolve (or be re-bound between two lookups) to `127.0.0.1`, to a private LAN address or
 * to the cloud metadata service `169.254.169.254`, and the same address has many spellings:
 * `127.1`, `0x7f.1`, `2130706433`, `::ffff:127.0.0.1`, `::ffff:7f00:1`, `64:ff9b::7f00:1`. So
 * every address is reduced to one canonical form (IPv4-mapped and NAT64 forms become the IPv4
 * they embed) before it is classified, and only `public` addresses pass without an explicit
 * grant. Anything we cannot parse is not an address and is refused by the caller.
 */

import { isIPv4, isIPv6 } from 'node:net';

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

export interface IpAddress {
  readonly family: 4 | 6;
  /** 32-bit (IPv4) or 128-bit (IPv6) value. */
  readonly value: bigint;
  /** Canonical text: dotted quad, or RFC 5952-ish lowercase IPv6 without brackets. */
  readonly text: string;
}

/**
 * Parses an address literal (brackets allowed around IPv6). Mapped (`::ffff:a.b.c.d`),
 * IPv4-compatible (`::a.b.c.d`) and NAT64 (`64:ff9b::/96`) forms are returned as the IPv4
 * address they carry, so one rule covers every spelling. Returns undefined for anything else.
 *
 * @example
 * parseIp('::ffff:127.0.0.1')?.text; // '127.0.0.1'
 */
export function parseIp(input: string): IpAddress | undefined {
  let text = input;
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  if (isIPv4(text)) return v4(ipv4Value(text));
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (!isIPv6(text)) return undefined;
  const value = ipv6Value(text.toLowerCase());
  if (value === undefined) return undefined;
  const high96 = value >> 32n;
  if (high96 === 0xffffn || (high96 === 0n && value > 1n) || high96 === 0x64ff9b0000000000000000n) {
    return v4(value & 0xffffffffn);
  }
  return { family: 6, value, text: formatV6(value) };
}

function v4(value: bigint): IpAddress {
  const n = Number(value);
  return { family: 4, value, text: `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}` };
}

function ipv4Value(text: string): bigint {
  const [a, b, c, d] = text.split('.').map(Number);
  return BigInt(((a << 24) >>> 0) + (b << 16) + (c << 8) + d);
}

function ipv6Value(text: string): bigint | undefined {
  let body = text;
  let tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (body.slice(lastColon + 1).includes('.')) {
    const quad = Number(ipv4Value(body.slice(lastColon + 1)));
    tail = [quad >>> 16, quad & 0xffff];
    body = body.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const [left, right] = body.includes('::') ? body.split('::') : [body, undefined];
  const head = left ? left.split(':').map((h) => Number.parseInt(h, 16)) : [];
  const back = right ? right.split(':').map((h) => Number.parseInt(h, 16)) : [];
  const fill = 8 - head.length - back.length - tail.length;
  if (fill < 0 || (right === undefined && fill !== 0)) return undefined;
  const words = [...head, ...new Array(fill).fill(0), ...back, ...tail];
  let value = 0n;
  for (const w of words) value = (value << 16n) | BigInt(w);
  return value;
}

function formatV6(value: bigint): string {
  const words: string[] = [];
  for (let i = 7; i >= 0; i--) words.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return words.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

interface Range {
  family: 4 | 6;
  base: bigint;
  bits: number;
  cls: AddressClass;
}

function range(cidr: string, cls: AddressClass): Range {
  const parsed = parseCidr(cidr)!;
  return { ...parsed, cls };
}

/** Most specific first: `169.254.169.254/32` must win over `169.254.0.0/16`. */
const RANGES: Range[] = [
  range('169.254.169.254/32', 'metadata'),
  range('fd00:ec2::254/128', 'metadata'),
  range('0.0.0.0/8', 'unspecified'),
  range('127.0.0.0/8', 'loopback'),
  range('10.0.0.0/8', 'private'),
  range('172.16.0.0/12', 'private'),
  range('192.168.0.0/16', 'private'),
  range('100.64.0.0/10', 'private'),
  range('169.254.0.0/16', 'link-local'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved'),
  range('192.0.0.0/24', 'reserved'),
  range('192.0.2.0/24', 'reserved'),
  range('198.18.0.0/15', 'reserved'),
  range('198.51.100.0/24', 'reserved'),
  range('203.0.113.0/24', 'reserved'),
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('fc00::/7', 'private'),
  range('fe80::/10', 'link-local'),
  range('ff00::/8', 'multicast'),
  range('2001:db8::/32', 'reserved'),
  range('100::/64', 'reserved'),
];

/**
 * Classifies an address; only `public` may be reached without an explicit address grant.
 *
 * @example
 * classifyIp(parseIp('169.254.169.254')!); // 'metadata'
 */
export function classifyIp(ip: IpAddress): AddressClass {
  for (const r of RANGES) if (inRange(ip, r)) return r.cls;
  return 'public';
}

export interface Cidr {
  readonly family: 4 | 6;
  readonly base: bigint;
  readonly bits: number;
}

/** Parses `a.b.c.d/n`, `v6/n` or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  const bits = slash < 0 ? max : Number(text.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > max) return undefined;
  return { family: ip.family, base: ip.value, bits };
}

export function inRange(ip: IpAddress, cidr: Cidr): boolean {
  if (ip.family !== cidr.family) return false;
  const width = BigInt(ip.family === 4 ? 32 : 128);
  const shift = width - BigInt(cidr.bits);
  return ip.value >> shift === cidr.base >> shift;
}
