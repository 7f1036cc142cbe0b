/**
 * A manifest's `[permissions]` seen from the host: mapped onto the grants `osl` enforces, compared
 * between two versions (a deployment that widens them must be accepted), and suggested from the
 * audit log (learn mode: what a component tried, turned into the least-privilege grants that
 * would have allowed it).
 */

import type { AuditRecord } from '../osl/audit/audit-log.js';
import type { Grants } from '../osl/policy/grants.js';
import { parseIp } from '../osl/policy/ip.js';
import type { Manifest, Permissions } from '../wasm/manifest/schema.js';

/**
 * The osl grants of a manifest. An outbound grant that names an IP literal (`127.0.0.1:8080`)
 * also grants that one address, which the egress policy otherwise refuses for loopback and
 * private ranges: the author asked for exactly that place, and the operator sees it in the
 * manifest (and in the permission diff of a deployment).
 */
export function grantsOf(manifest: Manifest): Grants {
  const { filesystem, network, process } = manifest.permissions;
  return {
    filesystem: { read: filesystem.read, write: filesystem.write },
    network: networkGrantsOf(network.outbound),
    process: { spawn: process.spawn },
  };
}

/**
 * Component.toml `network.outbound` patterns (also `--allow-outbound`) as osl network grants:
 * no port means any port, and an IP literal also grants that one address.
 */
export function networkGrantsOf(patterns: readonly string[]): NonNullable<Grants['network']> {
  const addresses: string[] = [];
  const outbound: string[] = [];
  for (const pattern of patterns) {
    const { host, port } = splitHostPort(pattern);
    if (parseIp(host) !== undefined) addresses.push(host);
    // Component.toml: no port means any port (osl's own default is 80 and 443).
    outbound.push(port === undefined ? `${pattern}:*` : pattern);
  }
  return { outbound, addresses };
}

/**
 * Component.toml `network.inbound` as `wasi:sockets` listen grants: its IP patterns only (a
 * listener binds an address; an inbound host name grants none), no port meaning any port.
 */
export function listenGrantsOf(patterns: readonly string[]): string[] {
  const listen: string[] = [];
  for (const pattern of patterns) {
    const { host, port } = splitHostPort(pattern);
    if (parseIp(host) === undefined) continue;
    listen.push(port === undefined ? `${pattern}:*` : pattern);
  }
  return listen;
}

/** A `host[:port]` pattern's host (without brackets) and port. */
function splitHostPort(pattern: string): { host: string; port: string | undefined } {
  if (pattern.startsWith('[')) {
    const end = pattern.indexOf(']');
    const rest = pattern.slice(end + 1);
    return { host: pattern.slice(1, end), port: rest.startsWith(':') ? rest.slice(1) : undefined };
  }
  const colon = pattern.indexOf(':');
  return colon < 0
    ? { host: pattern, port: undefined }
    : { host: pattern.slice(0, colon), port: pattern.slice(colon + 1) };
}

/** A manifest with nothing granted: what a component runs with in learn mode. */
export function withoutPermissions(manifest: Manifest): Manifest {
  const p = manifest.permissions;
  const none: Permissions = {
    filesystem: { read: [], write: [] },
    network: { outbound: [], inbound: [] },
    storage: { namespaces: [], quotaBytes: p.storage.quotaBytes },
    process: { spawn: [] },
    messaging: { send: [], subscribe: [] },
    custom: {},
  };
  return { ...manifest, permissions: none };
}

/** Permission lists by their Component.toml name (`filesystem.read`, `messaging.send`, …). */
export type PermissionLists = Record<string, readonly string[]>;

export function permissionLists(p: Permissions): PermissionLists {
  const lists: PermissionLists = {
    'filesystem.read': p.filesystem.read,
    'filesystem.write': p.filesystem.write,
    'network.outbound': p.network.outbound,
    'network.inbound': p.network.inbound,
    'storage.namespaces': p.storage.namespaces,
    'process.spawn': p.process.spawn,
    'messaging.send': p.messaging.send,
    'messaging.subscribe': p.messaging.subscribe,
  };
  for (const [name, patterns] of Object.entries(p.custom)) lists[`custom.${name}`] = patterns;
  return lists;
}

export interface PermissionDiff {
  /** Patterns the new version asks for that the running one did not have. */
  readonly added: PermissionLists;
  readonly removed: PermissionLists;
  /** `storage.quota` in bytes, when it changed. */
  readonly quota?: { readonly from: number; readonly to: number };
  /** True when the new version may do something the running one could not. */
  readonly widens: boolean;
}

/**
 * What changes between the permissions of the running version and a new one. Patterns are
 * compared as text: a pattern rewritten to an equivalent one counts as removed and added, which
 * errs on the side of asking.
 */
export function permissionDiff(from: Permissions, to: Permissions): PermissionDiff {
  const before = permissionLists(from);
  const after = permissionLists(to);
  const added: Record<string, string[]> = {};
  const removed: Record<string, string[]> = {};
  for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = new Set(before[field] ?? []);
    const b = new Set(after[field] ?? []);
    const plus = [...b].filter((x) => !a.has(x));
    const minus = [...a].filter((x) => !b.has(x));
    if (plus.length > 0) added[field] = plus;
    if (minus.length > 0) removed[field] = minus;
  }
  const quota =
    from.storage.quotaBytes === to.storage.quotaBytes
      ? undefined
      : { from: from.storage.quotaBytes, to: to.storage.quotaBytes };
  const widens = Object.keys(added).length > 0 || (quota !== undefined && quota.to > quota.from);
  return { added, removed, quota, widens };
}

/** One line per change, `+ messaging.send "orders.created"`; empty when nothing changed. */
export function describeDiff(diff: PermissionDiff): string[] {
  const lines: string[] = [];
  for (const [field, list] of Object.entries(diff.added))
    for (const p of list) lines.push(`+ ${field} ${JSON.stringify(p)}`);
  for (const [field, list] of Object.entries(diff.removed))
    for (const p of list) lines.push(`- ${field} ${JSON.stringify(p)}`);
  if (diff.quota) lines.push(`~ storage.quota ${diff.quota.from} → ${diff.quota.to} bytes`);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// learn mode

/** A denial names a missing grant (not an escape, a deny rule, a quota or malformed input). */
const MISSING_GRANT = /no [a-z ]*grant covers|is not granted|declare it in Component\.toml/;
const DEVELOPMENT_NOTE = 'development mode: ';

/** Which permission list an audited operation needs. */
function fieldOf(operation: string): string | undefined {
  switch (operation) {
    case 'fs.open':
    case 'fs.read-file':
    case 'fs.stat':
    case 'fs.readdir':
      return 'filesystem.read';
    case 'fs.write-file':
    case 'fs.mkdir':
    case 'fs.unlink':
      return 'filesystem.write';
    case 'net.fetch':
    case 'net.connect':
    case 'wasi.http.outgoing-handler.handle':
    case 'wasi.sockets.tcp.connect':
      return 'network.outbound';
    case 'process.spawn':
      return 'process.spawn';
    case 'messaging.send':
    case 'messaging.publish':
      return 'messaging.send';
    case 'messaging.subscribe':
      return 'messaging.subscribe';
    case 'storage.open':
      return 'storage.namespaces';
    default:
      return undefined;
  }
}

/** The pattern that grants exactly this subject. */
function patternOf(field: string, r: AuditRecord): string | undefined {
  const subject = r.subject;
  // A spawn's subject is its whole command line; the grant is the executable the guard named.
  if (field === 'process.spawn') return /executable (\S+) is not granted/.exec(r.reason)?.[1];
  if (field !== 'network.outbound') return subject;
  try {
    // A URL (net.fetch) or host:port (net.connect).
    const url = new URL(subject.includes('://') ? subject : `tcp://${subject}`);
    const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
    return port === '' ? undefined : `${url.hostname}:${port}`;
  } catch {
    return undefined;
  }
}

/**
 * The least-privilege permissions that would have allowed every operation the audit log shows
 * a component was refused for lack of a grant (or, in development mode, allowed with a note
 * that it would have been refused): exact topics, namespaces, paths, hosts and executables,
 * never wider patterns. Refusals no grant can lift (escapes, deny rules, quotas, malformed
 * input) are left out.
 */
export function suggestPermissions(records: readonly AuditRecord[]): PermissionLists {
  const out = new Map<string, Set<string>>();
  for (const r of records) {
    const missing =
      (r.decision === 'deny' && r.code === 'capability-denied' && MISSING_GRANT.test(r.reason)) ||
      (r.decision === 'allow' && r.reason.startsWith(DEVELOPMENT_NOTE));
    if (!missing) continue;
    let field = fieldOf(r.operation);
    if (field === undefined) continue;
    // A read-file denied for lack of a write grant cannot happen; a write refused because only
    // the read grant is missing can (`read and write`): the reason names the access.
    if (field === 'filesystem.read' && /\bwrite grant\b/.test(r.reason)) field = 'filesystem.write';
    const pattern = patternOf(field, r);
    if (pattern === undefined) continue;
    let set = out.get(field);
    if (set === undefined) out.set(field, (set = new Set()));
    set.add(pattern);
  }
  const lists: Record<string, string[]> = {};
  for (const [field, set] of [...out].sort(([a], [b]) => a.localeCompare(b))) lists[field] = [...set].sort();
  return lists;
}

/** A `[permissions]` TOML fragment for suggested or added lists. */
export function permissionsToml(lists: PermissionLists): string {
  const tables = new Map<string, string[]>();
  for (const [field, patterns] of Object.entries(lists)) {
    const [table, key] = field.split('.', 2) as [string, string];
    const line = `${key} = [${patterns.map((p) => JSON.stringify(p)).join(', ')}]`;
    tables.set(table, [...(tables.get(table) ?? []), line]);
  }
  const out = ['[permissions]'];
  for (const [table, lines] of tables) out.push(`${table} = { ${lines.join(', ')} }`);
  return `${out.join('\n')}\n`;
}
