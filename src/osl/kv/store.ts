/**
 * The per-component key-value store (SPEC §5 "Storage"): the port, its limits, and the rules
 * every backend shares for names, keys and values. Two backends implement it —
 * `SqliteKeyValueStore` (durable, the default) and `MemoryKeyValueStore` (tests) — and both
 * pass one contract suite (test/osl/kv/contract.ts). See docs/storage.md.
 *
 * THREAT MODEL: keys and values come from guests. A key is opaque data, never a path, a pattern
 * or SQL: `../x`, `other-ns/key`, `%`, `_` or `'; DROP TABLE kv; --` must name a key inside the
 * caller's namespace and nothing else. Backends therefore keep the namespace and the key in
 * separate fields (columns, nested maps) and only ever compare keys byte for byte. A guest can
 * also try to exhaust the host: every key, value and namespace is bounded, and a write that
 * would go over its namespace's quota is refused before anything changes.
 *
 * Keys are well-formed Unicode strings without U+0000. Note: NUL is refused because guests
 * written in C pass NUL-terminated strings (a key with a NUL is nearly always a truncation bug),
 * and because lone surrogates and NUL do not survive every tool an operator might inspect the
 * data with. Lone surrogates are refused because UTF-8 cannot encode them: two different
 * strings would otherwise become the same key.
 */

import { AirssysError } from '../../shared/errors.js';

/**
 * Opens namespaces and groups their writes into turns.
 *
 * Every method is synchronous: it is called from inside WebAssembly host imports, which cannot
 * await.
 *
 * @example
 * const store = new SqliteKeyValueStore({ path: '/var/lib/airssys/kv.db' });
 * const counter = store.namespace('counter', { quotaBytes: 10 * 1024 * 1024 });
 * store.beginTurn();
 * try {
 *   counter.increment('hits', 1n);
 *   store.endTurn();
 * } catch (error) {
 *   store.abortTurn();
 *   throw error;
 * }
 */
export interface KeyValueStore {
  /** Opens (creating if needed) the namespace of one component with its limits. */
  namespace(name: string, limits?: Partial<NamespaceLimits>): KvNamespace;
  /**
   * Group commit: writes made between `beginTurn()` and `endTurn()` are committed together at
   * `endTurn()`; reads inside the turn see them. Outside a turn every write commits at once.
   */
  beginTurn(): void;
  /** Commits the turn's writes; if the commit fails, throws and the writes are rolled back. */
  endTurn(): void;
  /** Rolls back the turn's writes (the handler trapped). Does nothing outside a turn. */
  abortTurn(): void;
  /** Rolls back an open turn and releases the backend. Further calls fail; a second close does nothing. */
  close(): void;
}

export interface NamespaceLimits {
  /** Sum over entries of key bytes (UTF-8) + value bytes. */
  quotaBytes: number;
  maxKeys: number;
  /** UTF-8 bytes of one key. */
  maxKeyBytes: number;
  maxValueBytes: number;
}

export interface ListOptions {
  /** `next` from the previous page: the listing resumes after this key. */
  cursor?: string;
  /** 1..1000, default 100. */
  limit?: number;
}

export interface ListPage {
  /** In UTF-8 byte order (= code point order). */
  keys: string[];
  /** Present when more keys may follow: pass it as `cursor` for the next page. */
  next?: string;
}

export interface Usage {
  bytes: number;
  keys: number;
}

/** One component's keys. Every error is an `AirssysError`; see docs/storage.md for the codes. */
export interface KvNamespace {
  readonly name: string;
  get(key: string): Uint8Array | undefined;
  set(key: string, value: Uint8Array): void;
  /** True when the key existed. */
  delete(key: string): boolean;
  listPrefix(prefix: string, options?: ListOptions): ListPage;
  /** A signed 64-bit counter stored as 8 bytes little-endian; a missing key counts as 0. */
  increment(key: string, delta: bigint): bigint;
  /**
   * Atomic: writes `value` only when the key currently holds `expected`. `expected` undefined
   * means "must be absent"; `value` undefined deletes.
   */
  compareAndSet(key: string, expected: Uint8Array | undefined, value: Uint8Array | undefined): boolean;
  usage(): Usage;
}

const MiB = 1024 * 1024;

export const DEFAULT_NAMESPACE_LIMITS: Readonly<NamespaceLimits> = Object.freeze({
  quotaBytes: MiB,
  maxKeys: 100_000,
  maxKeyBytes: 1024,
  maxValueBytes: MiB,
});

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;
export const MAX_NAMESPACE_NAME = 64;

const NAMESPACE_NAME = /^[a-z][a-z0-9._-]*$/;
const FORBIDDEN_IN_KEY = /\p{Cs}|\0/u;

/** A key in both forms the backends need: the text, and its UTF-8 bytes (the order and the size). */
export interface KeyRef {
  readonly text: string;
  readonly bytes: Buffer;
}

export function checkNamespaceName(name: unknown): string {
  if (typeof name !== 'string' || name.length > MAX_NAMESPACE_NAME || !NAMESPACE_NAME.test(name)) {
    throw new AirssysError(
      'invalid-argument',
      `invalid storage namespace name ${JSON.stringify(name)}: use 1 to ${MAX_NAMESPACE_NAME} characters of [a-z0-9._-], starting with a letter`,
      { blame: 'host', details: { namespace: name } },
    );
  }
  return name;
}

export function resolveLimits(limits: Partial<NamespaceLimits> = {}): NamespaceLimits {
  const resolved = { ...DEFAULT_NAMESPACE_LIMITS, ...limits };
  for (const field of Object.keys(DEFAULT_NAMESPACE_LIMITS) as (keyof NamespaceLimits)[]) {
    const value = resolved[field];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new AirssysError(
        'invalid-argument',
        `storage limit ${field} must be a positive integer, got ${String(value)}: fix the manifest or host configuration`,
        { blame: 'host', details: { field, value } },
      );
    }
  }
  return resolved;
}

function guestError(message: string, details: Record<string, unknown>): AirssysError {
  return new AirssysError('invalid-argument', message, { blame: 'guest', details });
}

/** Checks a string used as a key, prefix or cursor: well-formed, no NUL. */
function checkKeyText(what: string, text: unknown): string {
  if (typeof text !== 'string') {
    throw guestError(`storage ${what} must be a string, got ${typeof text}`, { [what]: typeof text });
  }
  if (FORBIDDEN_IN_KEY.test(text)) {
    throw guestError(
      `storage ${what} contains NUL or a lone surrogate: use well-formed Unicode without U+0000 (encode binary keys as hex or base64)`,
      { [what]: text },
    );
  }
  return text;
}

export function encodeKey(key: unknown, limits: NamespaceLimits): KeyRef {
  const text = checkKeyText('key', key);
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length === 0 || bytes.length > limits.maxKeyBytes) {
    throw guestError(
      `storage key is ${bytes.length} bytes of UTF-8; keys must be 1 to ${limits.maxKeyBytes} bytes: shorten it (hash long identifiers)`,
      { keyBytes: bytes.length, maxKeyBytes: limits.maxKeyBytes },
    );
  }
  return { text, bytes };
}

/** A prefix may be empty (list everything) and is not bounded by `maxKeyBytes` (it matches nothing longer). */
export function encodePrefix(prefix: unknown): Buffer {
  return Buffer.from(checkKeyText('prefix', prefix), 'utf8');
}

export function encodeCursor(cursor: unknown): Buffer | undefined {
  if (cursor === undefined) return undefined;
  return Buffer.from(checkKeyText('cursor', cursor), 'utf8');
}

export function checkListLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_LIST_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw guestError(
      `storage list limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${String(limit)}: page with the returned cursor instead`,
      { limit },
    );
  }
  return limit;
}

export function checkValue(value: unknown, limits: NamespaceLimits, what = 'value'): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw guestError(
      `storage ${what} must be a Uint8Array (bytes), got ${describeType(value)}: encode it first`,
      {
        type: describeType(value),
      },
    );
  }
  if (value.length > limits.maxValueBytes) {
    throw guestError(
      `storage ${what} is ${value.length} bytes, over the limit of ${limits.maxValueBytes}: split it across several keys`,
      { valueBytes: value.length, maxValueBytes: limits.maxValueBytes },
    );
  }
  return value;
}

/** `expected` of compare-and-set: any size (an oversized one simply never matches). */
export function checkOptionalBytes(value: unknown, what: string): Uint8Array | undefined {
  if (value === undefined || value instanceof Uint8Array) return value;
  throw guestError(`storage ${what} must be a Uint8Array or undefined, got ${describeType(value)}`, {
    type: describeType(value),
  });
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

/** Refuses a write that would take the namespace past its quota or key count. Shrinking always passes. */
export function checkQuota(namespace: string, limits: NamespaceLimits, before: Usage, after: Usage): void {
  if (after.bytes > before.bytes && after.bytes > limits.quotaBytes) {
    throw new AirssysError(
      'quota-exceeded',
      `storage namespace '${namespace}' would use ${after.bytes} of its ${limits.quotaBytes}-byte quota: delete or shrink entries, or raise the namespace's storage quota`,
      {
        blame: 'guest',
        details: { namespace, quotaBytes: limits.quotaBytes, usedBytes: before.bytes, wouldUse: after.bytes },
      },
    );
  }
  if (after.keys > before.keys && after.keys > limits.maxKeys) {
    throw new AirssysError(
      'quota-exceeded',
      `storage namespace '${namespace}' already holds ${before.keys} of its ${limits.maxKeys} keys: delete keys or raise the namespace's key limit`,
      { blame: 'guest', details: { namespace, maxKeys: limits.maxKeys, keys: before.keys } },
    );
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
