/**
 * Parsing and validation of `Component.toml` (SPEC §3). Every failure is an `AirssysError` with
 * code `invalid-manifest`, blame `guest`, `details.field` set to the dotted field name, and a
 * one-line message that starts with that field name and says what is accepted. Unknown tables and
 * keys are errors, so a typo never silently drops a limit.
 */

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { AirssysError } from '../../shared/errors.js';
import { DEFAULT_HOST_POLICY, type HostPolicy } from '../engine/policy.js';
import {
  DEFAULT_FUEL,
  DEFAULT_HTTP_MAX_BODY_BYTES,
  DEFAULT_MAILBOX,
  DEFAULT_STORAGE_QUOTA_BYTES,
  DEFAULT_SUPERVISION,
  DEFAULT_TIMEOUT_MS,
  type HttpSection,
  MANIFEST_FILE_NAME,
  MAX_HTTP_BODY_BYTES,
  MAX_MANIFEST_BYTES,
  type Manifest,
  type Permissions,
  RESTART_POLICIES,
  type Resources,
  type RestartPolicy,
  type Supervision,
} from './schema.js';
import { formatSize, SIZE_ACCEPTED, tryParseSize } from './units.js';

export interface ParseManifestOptions {
  /** Host limits the manifest must stay within (default: `DEFAULT_HOST_POLICY`). */
  policy?: HostPolicy;
  /** Folder the `wasm` path is resolved against (normally the manifest's folder). */
  baseDir: string;
  /** Where the text came from; recorded in `source.path` and in error details. */
  path?: string;
}

type Table = Record<string, unknown>;

/** Field name used for errors about the document as a whole (syntax, size, encoding). */
export const DOCUMENT_FIELD = 'toml';

// ---------------------------------------------------------------------------------------------
// Errors and field names

function fail(field: string, message: string, extra: Record<string, unknown> = {}): never {
  throw new AirssysError('invalid-manifest', `${field}: ${message}`, {
    blame: 'guest',
    details: { field, ...extra },
  });
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

function child(parent: string, key: string): string {
  const shown = BARE_KEY.test(key) ? key : JSON.stringify(key);
  return parent === '' ? shown : `${parent}.${shown}`;
}

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function truncate(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(truncate(value));
  return String(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `string ${show(value)}`;
  if (typeof value === 'bigint') return `integer ${value}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `integer ${value}` : `float ${value}`;
  if (typeof value === 'boolean') return `boolean ${value}`;
  if (value instanceof Date) return 'a date-time';
  if (Array.isArray(value)) return 'an array';
  if (isTable(value)) return 'a table';
  return typeof value;
}

// ---------------------------------------------------------------------------------------------
// Known keys and did-you-mean

const SECTIONS = {
  component: ['name', 'version', 'description', 'wasm', 'world'],
  resources: ['memory', 'fuel', 'timeout-ms', 'mailbox'],
  permissions: ['filesystem', 'network', 'storage', 'process', 'messaging', 'custom'],
  supervision: ['restart', 'max-restarts', 'within-seconds'],
  http: ['routes', 'max-body', 'reuse-instance'],
  config: [],
} as const satisfies Record<string, readonly string[]>;

const PERMISSION_KEYS = {
  filesystem: ['read', 'write'],
  network: ['outbound', 'inbound'],
  storage: ['namespaces', 'quota'],
  process: ['spawn'],
  messaging: ['send', 'subscribe'],
} as const satisfies Record<string, readonly string[]>;

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

function squash(key: string): string {
  return key.toLowerCase().replace(/[-_\s]/g, '');
}

/** The closest allowed key to `key`, when it is close enough to be a likely typo. */
export function suggestKey(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of allowed) {
    if (squash(candidate) === squash(key)) return candidate;
    const distance = levenshtein(key.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const threshold = Math.max(1, Math.min(3, Math.floor(key.length / 3)));
  return bestDistance <= threshold ? best : undefined;
}

/** Which top-level section a misplaced key belongs in, e.g. `memory` → `resources`. */
function homeSection(key: string, except: string): string | undefined {
  for (const [section, keys] of Object.entries(SECTIONS)) {
    if (section !== except && (keys as readonly string[]).includes(key)) return section;
  }
  return undefined;
}

function checkKeys(table: Table, field: string, allowed: readonly string[]): void {
  for (const key of Object.keys(table)) {
    if (allowed.includes(key)) continue;
    const keyField = child(field, key);
    const kind = field === '' ? (isTable(table[key]) ? 'table' : 'top-level key') : 'key';
    const suggestion = suggestKey(key, allowed);
    const home = field === '' ? homeSection(key, '') : homeSection(key, field);
    let hint = '';
    if (suggestion !== undefined) {
      hint =
        field === '' && isTable(table[key])
          ? ` (did you mean [${suggestion}]?)`
          : ` (did you mean "${suggestion}"?)`;
    } else if (home !== undefined) {
      hint = ` (it belongs in [${home}])`;
    }
    const list = allowed.length === 0 ? 'none' : allowed.join(', ');
    fail(keyField, `unknown ${kind}${hint}; allowed: ${list}`, { key, suggestion: suggestion ?? home });
  }
}

// ---------------------------------------------------------------------------------------------
// Typed getters

function getTable(parent: Table, key: string, field: string): Table | undefined {
  const value = parent[key];
  if (value === undefined) return undefined;
  if (!isTable(value)) fail(field, `expected a table, got ${describe(value)}`);
  return value;
}

function getString(parent: Table, key: string, field: string, hint = ''): string | undefined {
  const value = parent[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') fail(field, `expected a string, got ${describe(value)}${hint}`);
  return value;
}

interface IntRange {
  min: number;
  max: number;
  /** Whose maximum it is, for the message: the host policy's or the format's own. */
  maxIsHost: boolean;
}

function getInteger(parent: Table, key: string, field: string, range: IntRange): number | undefined {
  const value = parent[key];
  if (value === undefined) return undefined;
  const allowed = `(allowed ${range.min}..${range.max})`;
  const above = range.maxIsHost ? "the host's maximum" : 'the maximum';
  if (typeof value === 'bigint') {
    if (value < BigInt(range.min)) fail(field, `${value} is below the minimum of ${range.min} ${allowed}`);
    fail(field, `${value} is above ${above} of ${range.max} ${allowed}`, { max: range.max });
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    const quoted =
      typeof value === 'string' && /^-?[0-9_]+$/.test(value) ? '; write the number without quotes' : '';
    fail(field, `expected an integer, got ${describe(value)}${quoted} ${allowed}`);
  }
  if (value < range.min)
    fail(field, `${value} is below the minimum of ${range.min} ${allowed}`, { min: range.min });
  if (value > range.max)
    fail(field, `${value} is above ${above} of ${range.max} ${allowed}`, { max: range.max });
  return value;
}

function getSize(parent: Table, key: string, field: string): number | undefined {
  const value = parent[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint') {
    fail(field, `expected a size, got ${describe(value)} (accepted: ${SIZE_ACCEPTED})`);
  }
  const result = tryParseSize(value);
  if (!result.ok) fail(field, `${show(value)} ${result.reason} (accepted: ${SIZE_ACCEPTED})`);
  return result.bytes;
}

type Check = { value: string } | { reason: string };

function getStringList(
  parent: Table,
  key: string,
  field: string,
  check: (item: string) => Check,
  accepted: string,
): readonly string[] {
  const value = parent[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    const wrap =
      typeof value === 'string' ? ` (wrap it in brackets: ${key} = [${JSON.stringify(value)}])` : '';
    fail(field, `expected an array of strings, got ${describe(value)}${wrap}`);
  }
  const out: string[] = [];
  value.forEach((item: unknown, index: number) => {
    const itemField = `${field}[${index}]`;
    if (typeof item !== 'string') fail(itemField, `expected a string, got ${describe(item)}`);
    const checked = check(item);
    if ('reason' in checked)
      fail(itemField, `${show(item)} ${checked.reason} (accepted: ${accepted})`, { value: item });
    const previous = out.indexOf(checked.value);
    if (previous !== -1)
      fail(itemField, `${show(item)} is listed twice (also at index ${previous})`, { value: item });
    out.push(checked.value);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Value syntaxes

const NAME_RE = /^[a-z][a-z0-9-]*$/;
const NAME_MAX = 64;
const SEMVER_RE =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const SEMVER_MAX = 256;
const DESCRIPTION_MAX = 4096;
const WIT_LABEL = '[a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*';
const WIT_SEMVER = SEMVER_RE.source.slice(1, -1);
const WORLD_RE = new RegExp(
  `^(?:${WIT_LABEL}|(?:${WIT_LABEL}:)+${WIT_LABEL}/${WIT_LABEL}(?:@${WIT_SEMVER})?)$`,
);
const NAMESPACE_RE = /^[a-z][a-z0-9._-]*$/;
const NAMESPACE_MAX = 64;
const CUSTOM_NAME_RE = /^[a-z][a-z0-9-]*(?:[:/.][a-z][a-z0-9-]*)*$/;
const CUSTOM_NAME_MAX = 128;
const TOPIC_SEGMENT_RE = /^[A-Za-z0-9_-]+$/;
const TOPIC_MAX = 255;
const DNS_LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** True for a strict semantic version 2.0.0 string. */
export function isSemver(text: string): boolean {
  return text.length <= SEMVER_MAX && SEMVER_RE.test(text);
}

const FS_ACCEPTED =
  'an absolute path glob such as "/data/in/**" ("*", "?", "[...]", "{a,b}"; "**" only as a whole segment; no "." or ".." segments)';

/** Checks an absolute path glob (filesystem permissions, process spawn). */
export function checkPathGlob(pattern: string): Check {
  if (pattern === '') return { reason: 'is empty' };
  if (pattern.includes('\0')) return { reason: 'contains a NUL character' };
  if (pattern.includes('\\')) return { reason: 'contains a backslash (use "/" separators)' };
  if (!pattern.startsWith('/')) return { reason: 'is not an absolute path' };
  if (pattern === '/') return { value: pattern };
  let braces = 0;
  for (const segment of pattern.slice(1).split('/')) {
    if (segment === '') return { reason: 'has an empty segment ("//" or a trailing "/")' };
    if (segment === '..') return { reason: 'has a ".." segment' };
    if (segment === '.') return { reason: 'has a "." segment' };
    if (segment.includes('**') && segment !== '**') return { reason: 'uses "**" inside a segment' };
    let inClass = false;
    for (let i = 0; i < segment.length; i++) {
      const c = segment[i];
      if (inClass) {
        if (c === ']' && segment[i - 1] !== '[' && !(segment[i - 1] === '!' && segment[i - 2] === '[')) {
          inClass = false;
        }
      } else if (c === '[') inClass = true;
      else if (c === ']') return { reason: 'has an unmatched "]"' };
      else if (c === '{') braces++;
      else if (c === '}' && --braces < 0) return { reason: 'has an unmatched "}"' };
    }
    if (inClass) return { reason: 'has an unclosed "["' };
  }
  if (braces !== 0) return { reason: 'has an unclosed "{"' };
  return { value: pattern };
}

const HOST_ACCEPTED =
  'host[:port] where host is a DNS name, "*." followed by a DNS name, an IPv4 address, [IPv6] or "*", and port is 1-65535 or "*"';

/** Checks and normalises (lower-cases) a `host[:port]` pattern. */
export function checkHostPattern(pattern: string): Check {
  if (pattern === '') return { reason: 'is empty' };
  if (/[\s\u0000-\u001f\u007f]/.test(pattern)) return { reason: 'contains whitespace or control characters' };
  if (pattern.includes('/')) return { reason: 'looks like a URL or path (give host[:port] only)' };
  let host: string;
  let port: string | undefined;
  if (pattern.startsWith('[')) {
    const close = pattern.indexOf(']');
    if (close === -1) return { reason: 'has an unclosed "["' };
    const address = pattern.slice(1, close);
    if (!isIPv6(address)) return { reason: `has an invalid IPv6 address "${address}"` };
    host = `[${address.toLowerCase()}]`;
    const rest = pattern.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return { reason: 'has text after "]" that is not ":port"' };
    port = rest === '' ? undefined : rest.slice(1);
  } else {
    const parts = pattern.split(':');
    if (parts.length > 2)
      return { reason: 'has more than one ":" (put IPv6 addresses in brackets, e.g. "[::1]:8080")' };
    host = parts[0].toLowerCase();
    port = parts[1];
    const hostReason = checkHost(host);
    if (hostReason !== undefined) return { reason: hostReason };
  }
  if (port !== undefined) {
    if (port === '') return { reason: 'has an empty port' };
    if (port !== '*') {
      if (!/^\d{1,5}$/.test(port)) return { reason: `has an invalid port "${port}"` };
      const n = Number(port);
      if (n < 1 || n > 65535) return { reason: `has port ${n} outside 1-65535` };
      port = String(n);
    }
  }
  return { value: port === undefined ? host : `${host}:${port}` };
}

function checkHost(host: string): string | undefined {
  if (host === '') return 'has an empty host';
  if (host === '*') return undefined;
  const name = host.startsWith('*.') ? host.slice(2) : host;
  if (name.includes('*')) return 'uses "*" other than as the whole host or a leading "*." label';
  if (name.length > 253) return 'has a host name longer than 253 characters';
  const labels = name.split('.');
  if (labels.every((label) => /^\d+$/.test(label))) {
    if (host !== name) return 'uses "*." in front of an IP address';
    return isIPv4(name) ? undefined : `has an invalid IPv4 address "${name}"`;
  }
  for (const label of labels) {
    if (label === '') return 'has an empty label in the host name';
    if (!DNS_LABEL_RE.test(label)) return `has an invalid host name label "${truncate(label, 30)}"`;
  }
  return undefined;
}

const TOPIC_ACCEPTED =
  'dot-separated segments of letters, digits, "_" and "-"; "*" as a whole segment matches one segment, ">" as the last segment matches the rest';

/** Checks a messaging topic pattern. */
export function checkTopicPattern(pattern: string): Check {
  if (pattern === '') return { reason: 'is empty' };
  if (pattern.length > TOPIC_MAX) return { reason: `is longer than ${TOPIC_MAX} characters` };
  const segments = pattern.split('.');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === '') return { reason: 'has an empty segment' };
    if (segment === '*') continue;
    if (segment === '>') {
      if (i !== segments.length - 1) return { reason: 'uses ">" before the last segment' };
      continue;
    }
    if (segment.includes('*') || segment.includes('>')) {
      return { reason: `uses a wildcard inside the segment "${truncate(segment, 30)}"` };
    }
    if (!TOPIC_SEGMENT_RE.test(segment))
      return { reason: `has invalid characters in the segment "${truncate(segment, 30)}"` };
  }
  return { value: pattern };
}

const NAMESPACE_ACCEPTED = `[a-z][a-z0-9-_.]*, at most ${NAMESPACE_MAX} characters`;

function checkNamespace(namespace: string): Check {
  if (namespace.length > NAMESPACE_MAX) return { reason: `is longer than ${NAMESPACE_MAX} characters` };
  if (!NAMESPACE_RE.test(namespace)) return { reason: 'is not a valid namespace' };
  return { value: namespace };
}

function checkCustomPattern(pattern: string): Check {
  if (pattern === '') return { reason: 'is empty' };
  if (pattern.includes('\0')) return { reason: 'contains a NUL character' };
  return { value: pattern };
}

// ---------------------------------------------------------------------------------------------
// Sections

function parseComponent(root: Table, baseDir: string): Manifest['component'] {
  const table = getTable(root, 'component', 'component');
  if (table === undefined)
    fail('component', 'missing required table [component] (with at least name and version)');
  checkKeys(table, 'component', SECTIONS.component);

  const name = getString(table, 'name', 'component.name');
  if (name === undefined) fail('component.name', 'missing (required; e.g. name = "counter")');
  if (name.length > NAME_MAX || !NAME_RE.test(name)) {
    const why = name.length > NAME_MAX ? `is ${name.length} characters long` : 'is not a valid name';
    fail(
      'component.name',
      `${show(name)} ${why} (accepted: [a-z][a-z0-9-]*, at most ${NAME_MAX} characters)`,
    );
  }

  const version = getString(table, 'version', 'component.version');
  if (version === undefined)
    fail('component.version', 'missing (required; a semantic version, e.g. version = "1.0.0")');
  if (!isSemver(version)) {
    const hint = /^v\d/.test(version) ? ', without a leading "v"' : '';
    fail(
      'component.version',
      `${show(version)} is not a semantic version (accepted: MAJOR.MINOR.PATCH with optional -prerelease and +build, e.g. "1.2.0"${hint})`,
    );
  }

  const description = getString(table, 'description', 'component.description');
  if (description !== undefined && description.length > DESCRIPTION_MAX) {
    fail(
      'component.description',
      `is ${description.length} characters long (accepted: at most ${DESCRIPTION_MAX})`,
    );
  }

  const wasmText = getString(table, 'wasm', 'component.wasm') ?? `${name}.wasm`;
  const wasm = resolveWasm(wasmText, baseDir);

  const world = getString(table, 'world', 'component.world');
  if (world !== undefined && !WORLD_RE.test(world)) {
    fail(
      'component.world',
      `${show(world)} is not a WIT world name (accepted: "namespace:package/world" with an optional "@version", e.g. "airssys:core/component@1.0.0", or a bare world name)`,
    );
  }

  return {
    name,
    version,
    ...(description === undefined ? {} : { description }),
    wasm,
    ...(world === undefined ? {} : { world }),
  };
}

function resolveWasm(text: string, baseDir: string): string {
  const field = 'component.wasm';
  const accepted = '(accepted: a relative path inside the manifest\'s folder, e.g. "counter.wasm")';
  const bad = (why: string): never => fail(field, `${show(text)} ${why} ${accepted}`, { value: text });
  if (text === '') bad('is empty');
  if (text.includes('\0')) bad('contains a NUL character');
  if (path.posix.isAbsolute(text) || path.win32.isAbsolute(text) || /^[A-Za-z]:/.test(text))
    bad('is an absolute path');
  if (text.includes('\\')) bad('contains a backslash (use "/" separators)');
  const normal = path.posix.normalize(text);
  if (normal === '..' || normal.startsWith('../')) bad("leaves the manifest's folder");
  if (normal === '.' || normal.endsWith('/')) bad('names a folder, not a file');
  return path.resolve(baseDir, ...normal.split('/'));
}

function parseResources(root: Table, policy: HostPolicy): Resources {
  const table = getTable(root, 'resources', 'resources') ?? {};
  checkKeys(table, 'resources', SECTIONS.resources);
  const range = `(allowed ${formatSize(policy.minMemoryBytes)}..${formatSize(policy.maxMemoryBytes)})`;
  const memoryBytes = getSize(table, 'memory', 'resources.memory');
  if (memoryBytes === undefined) {
    fail('resources.memory', `missing (required in [resources]; e.g. memory = "2MiB") ${range}`);
  }
  const shown = show(table.memory);
  const limits = { min: policy.minMemoryBytes, max: policy.maxMemoryBytes, value: memoryBytes };
  if (memoryBytes < policy.minMemoryBytes) {
    fail(
      'resources.memory',
      `${shown} is below the host's minimum of ${formatSize(policy.minMemoryBytes)} ${range}`,
      limits,
    );
  }
  if (memoryBytes > policy.maxMemoryBytes) {
    fail(
      'resources.memory',
      `${shown} is above the host's maximum of ${formatSize(policy.maxMemoryBytes)} ${range}; raise the maximum with --max-memory (host, install, run, serve, validate), max-memory in the host's config, or maxMemoryBytes when embedding`,
      limits,
    );
  }
  const fuel =
    getInteger(table, 'fuel', 'resources.fuel', { min: 1, max: policy.maxFuel, maxIsHost: true }) ??
    Math.min(DEFAULT_FUEL, policy.maxFuel);
  const timeoutMs =
    getInteger(table, 'timeout-ms', 'resources.timeout-ms', {
      min: 1,
      max: policy.maxTimeoutMs,
      maxIsHost: true,
    }) ?? Math.min(DEFAULT_TIMEOUT_MS, policy.maxTimeoutMs);
  const mailbox =
    getInteger(table, 'mailbox', 'resources.mailbox', { min: 1, max: policy.maxMailbox, maxIsHost: true }) ??
    Math.min(DEFAULT_MAILBOX, policy.maxMailbox);
  return { memoryBytes, fuel, timeoutMs, mailbox };
}

function permissionTable(parent: Table, kind: keyof typeof PERMISSION_KEYS): Table {
  const field = `permissions.${kind}`;
  const table = getTable(parent, kind, field) ?? {};
  checkKeys(table, field, PERMISSION_KEYS[kind]);
  return table;
}

function parsePermissions(root: Table): Permissions {
  const table = getTable(root, 'permissions', 'permissions') ?? {};
  checkKeys(table, 'permissions', SECTIONS.permissions);

  const fs = permissionTable(table, 'filesystem');
  const net = permissionTable(table, 'network');
  const storage = permissionTable(table, 'storage');
  const proc = permissionTable(table, 'process');
  const msg = permissionTable(table, 'messaging');

  const pf = 'permissions.';
  return {
    filesystem: {
      read: getStringList(fs, 'read', `${pf}filesystem.read`, checkPathGlob, FS_ACCEPTED),
      write: getStringList(fs, 'write', `${pf}filesystem.write`, checkPathGlob, FS_ACCEPTED),
    },
    network: {
      outbound: getStringList(net, 'outbound', `${pf}network.outbound`, checkHostPattern, HOST_ACCEPTED),
      inbound: getStringList(net, 'inbound', `${pf}network.inbound`, checkHostPattern, HOST_ACCEPTED),
    },
    storage: {
      namespaces: getStringList(
        storage,
        'namespaces',
        `${pf}storage.namespaces`,
        checkNamespace,
        NAMESPACE_ACCEPTED,
      ),
      quotaBytes: getSize(storage, 'quota', `${pf}storage.quota`) ?? DEFAULT_STORAGE_QUOTA_BYTES,
    },
    process: { spawn: getStringList(proc, 'spawn', `${pf}process.spawn`, checkPathGlob, FS_ACCEPTED) },
    messaging: {
      send: getStringList(msg, 'send', `${pf}messaging.send`, checkTopicPattern, TOPIC_ACCEPTED),
      subscribe: getStringList(
        msg,
        'subscribe',
        `${pf}messaging.subscribe`,
        checkTopicPattern,
        TOPIC_ACCEPTED,
      ),
    },
    custom: parseCustom(table),
  };
}

function parseCustom(permissions: Table): Record<string, readonly string[]> {
  const table = getTable(permissions, 'custom', 'permissions.custom') ?? {};
  const out: Record<string, readonly string[]> = {};
  for (const key of Object.keys(table)) {
    const field = child('permissions.custom', key);
    if (key.length > CUSTOM_NAME_MAX || !CUSTOM_NAME_RE.test(key)) {
      fail(
        field,
        `${show(key)} is not a valid capability name (accepted: lower-case kebab-case words joined by ":", "/" or ".", e.g. "acme:gpu", at most ${CUSTOM_NAME_MAX} characters)`,
      );
    }
    out[key] = getStringList(table, key, field, checkCustomPattern, 'non-empty strings');
  }
  return out;
}

function parseSupervision(root: Table): Supervision {
  const table = getTable(root, 'supervision', 'supervision') ?? {};
  checkKeys(table, 'supervision', SECTIONS.supervision);
  const restartText = getString(table, 'restart', 'supervision.restart');
  let restart = DEFAULT_SUPERVISION.restart;
  if (restartText !== undefined) {
    if (!(RESTART_POLICIES as readonly string[]).includes(restartText)) {
      const suggestion = suggestKey(restartText, RESTART_POLICIES);
      const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
      fail('supervision.restart', `${show(restartText)} is not one of ${RESTART_POLICIES.join(', ')}${hint}`);
    }
    restart = restartText as RestartPolicy;
  }
  const maxRestarts =
    getInteger(table, 'max-restarts', 'supervision.max-restarts', {
      min: 0,
      max: 1_000_000,
      maxIsHost: false,
    }) ?? DEFAULT_SUPERVISION.maxRestarts;
  const withinSeconds =
    getInteger(table, 'within-seconds', 'supervision.within-seconds', {
      min: 1,
      max: 86_400,
      maxIsHost: false,
    }) ?? DEFAULT_SUPERVISION.withinSeconds;
  return { restart, maxRestarts, withinSeconds };
}

const ROUTE_MAX = 256;
const ROUTES_MAX = 64;
const ROUTE_SEGMENT_RE = /^[A-Za-z0-9._~!$&'()*+,;=:@%-]+$/;
export const ROUTE_ACCEPTED = `an absolute path ("/hello") matched exactly, or a prefix ending in "/..." ("/api/...") matching it and everything below; segments of URL path characters, no "." or ".." segments, no "?" or "#", at most ${ROUTE_MAX} characters`;

/** A `[http] routes` entry: `/exact/path` or `/prefix/...`; the bare `/...` claims every path. */
export function checkRoute(route: string): Check {
  if (route.length > ROUTE_MAX) return { reason: `is ${route.length} characters long` };
  if (!route.startsWith('/')) return { reason: 'does not start with "/"' };
  const body = route === '/...' ? '' : route.endsWith('/...') ? route.slice(1, -4) : route.slice(1);
  if (body === '') return { value: route };
  for (const segment of body.split('/')) {
    if (segment === '') return { reason: 'has an empty segment ("//" or a trailing "/")' };
    if (segment === '.' || segment === '..') return { reason: `has a "${segment}" segment` };
    if (segment.includes('...')) return { reason: 'has "..." somewhere other than the last segment' };
    if (!ROUTE_SEGMENT_RE.test(segment))
      return { reason: `has a character not allowed in a URL path in "${truncate(segment, 20)}"` };
  }
  return { value: route };
}

function parseHttp(root: Table): HttpSection {
  const table = getTable(root, 'http', 'http') ?? {};
  checkKeys(table, 'http', SECTIONS.http);
  const routes = getStringList(table, 'routes', 'http.routes', checkRoute, ROUTE_ACCEPTED);
  if (routes.length > ROUTES_MAX)
    fail('http.routes', `lists ${routes.length} routes (accepted: at most ${ROUTES_MAX})`);
  const maxBodyBytes = getSize(table, 'max-body', 'http.max-body') ?? DEFAULT_HTTP_MAX_BODY_BYTES;
  if (maxBodyBytes > MAX_HTTP_BODY_BYTES) {
    fail(
      'http.max-body',
      `${show(table['max-body'])} is above the maximum of ${formatSize(MAX_HTTP_BODY_BYTES)} (a request body is held whole in memory)`,
    );
  }
  const reuse = table['reuse-instance'];
  if (reuse !== undefined && typeof reuse !== 'boolean')
    fail('http.reuse-instance', `expected a boolean (true or false), got ${describe(reuse)}`);
  return { routes, maxBodyBytes, reuseInstance: reuse === true };
}

function parseConfig(root: Table): Record<string, string> {
  const table = getTable(root, 'config', 'config') ?? {};
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(table)) {
    const field = child('config', key);
    if (key === '') fail(field, 'config keys must not be empty');
    if (typeof value !== 'string') {
      const quote =
        typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint'
          ? ` (quote it: ${BARE_KEY.test(key) ? key : JSON.stringify(key)} = "${value}")`
          : '';
      fail(field, `expected a string, got ${describe(value)}; config values are strings${quote}`);
    }
    out[key] = value;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Entry points

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function parseDocument(text: string): Table {
  if (Buffer.byteLength(text, 'utf8') > MAX_MANIFEST_BYTES) {
    fail(DOCUMENT_FIELD, `the manifest is larger than ${formatSize(MAX_MANIFEST_BYTES)}`);
  }
  try {
    return parseToml(text, {
      integersAsBigInt: 'asNeeded',
      unsafeKeyBehaviour: 'throw',
      maxDepth: 32,
    }) as Table;
  } catch (error) {
    if (error instanceof TomlError) {
      const first = error.message.split('\n')[0].replace(/^Invalid TOML document:\s*/, '');
      throw new AirssysError(
        'invalid-manifest',
        `${DOCUMENT_FIELD}: syntax error at line ${error.line}, column ${error.column}: ${first}`,
        {
          blame: 'guest',
          cause: error,
          details: { field: DOCUMENT_FIELD, line: error.line, column: error.column },
        },
      );
    }
    throw error;
  }
}

/**
 * Parses and validates the text of a `Component.toml`. Throws `AirssysError('invalid-manifest')`
 * naming the first offending field.
 */
export function parseManifest(text: string, options: ParseManifestOptions): Manifest {
  const policy = options.policy ?? DEFAULT_HOST_POLICY;
  const baseDir = path.resolve(options.baseDir);
  const sourcePath = options.path === undefined ? undefined : path.resolve(options.path);
  try {
    const root = parseDocument(text);
    checkKeys(root, '', Object.keys(SECTIONS));
    const component = parseComponent(root, baseDir);
    const resources = parseResources(root, policy);
    const permissions = parsePermissions(root);
    const supervision = parseSupervision(root);
    const http = parseHttp(root);
    const config = parseConfig(root);
    const digest = createHash('sha256').update(text, 'utf8').digest('hex');
    return deepFreeze({
      component,
      resources,
      permissions,
      supervision,
      http,
      config,
      source: { path: sourcePath, digest },
    });
  } catch (error) {
    if (sourcePath !== undefined && error instanceof AirssysError && error.code === 'invalid-manifest') {
      throw new AirssysError(error.code, error.message, {
        blame: error.blame,
        cause: error.cause,
        details: { ...error.details, path: sourcePath },
      });
    }
    throw error;
  }
}

/**
 * Reads and validates a manifest. `pathOrDir` is a `Component.toml` file or a folder holding one.
 * A missing file is `not-found`; everything else wrong with it is `invalid-manifest`.
 */
export async function loadManifest(
  pathOrDir: string,
  policy: HostPolicy = DEFAULT_HOST_POLICY,
): Promise<Manifest> {
  let file = path.resolve(pathOrDir);
  let info = await statOrNotFound(file, `no such manifest or component folder: ${file}`);
  if (info.isDirectory()) {
    file = path.join(file, MANIFEST_FILE_NAME);
    info = await statOrNotFound(file, `no ${MANIFEST_FILE_NAME} in ${path.dirname(file)}`);
  }
  if (!info.isFile()) {
    throw new AirssysError('invalid-argument', `${file} is not a file`, { details: { path: file } });
  }
  const bad = (message: string): never => {
    throw new AirssysError('invalid-manifest', `${DOCUMENT_FIELD}: ${message}`, {
      blame: 'guest',
      details: { field: DOCUMENT_FIELD, path: file },
    });
  };
  if (info.size > MAX_MANIFEST_BYTES) bad(`the manifest is larger than ${formatSize(MAX_MANIFEST_BYTES)}`);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw readError(error, file);
  }
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    bad('the manifest is not valid UTF-8');
  }
  return parseManifest(text, { policy, baseDir: path.dirname(file), path: file });
}

async function statOrNotFound(file: string, message: string) {
  try {
    return await stat(file);
  } catch (error) {
    throw readError(error, file, message);
  }
}

function readError(error: unknown, file: string, message?: string): AirssysError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new AirssysError('not-found', message ?? `no such file: ${file}`, {
      cause: error,
      details: { path: file },
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new AirssysError('invalid-argument', `cannot read ${file}: ${reason}`, {
    cause: error,
    details: { path: file },
  });
}
