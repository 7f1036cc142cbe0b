/**
 * What a storage backend provides: rows addressed by (namespace, key), a usage record per
 * namespace, and atomic writes. The rules — validation, quotas, counters, compare-and-set,
 * paging — are written once on top of it (namespace.ts), and turns once (table-store.ts), so
 * the backends cannot drift apart. Internal to osl/kv.
 */

import type { AirssysError } from '../../shared/errors.js';
import type { KeyRef, Usage } from './store.js';

export interface KvTable {
  /**
   * Starts an atomic write that excludes every other writer of the same data (SQLite: `BEGIN
   * IMMEDIATE`, which waits up to the busy timeout for another connection's write to end).
   * Reads and writes until `commit`/`rollback` belong to it.
   */
  begin(): void;
  commit(): void;
  rollback(): void;
  /** False when the backend ended the write on its own after an error (SQLite does on disk full). */
  inWrite(): boolean;
  /**
   * Starts a read-only snapshot shared by the reads that follow, until `endRead`. Note: SQLite
   * pays two file-lock system calls to start and end each read transaction — half the cost of
   * a lookup — so a turn's reads share one.
   */
  beginRead(): void;
  endRead(): void;

  get(ns: string, key: KeyRef): Uint8Array | undefined;
  /** The value's length, without reading it. */
  valueSize(ns: string, key: KeyRef): number | undefined;
  /** Only inside a write. The backend keeps its own copy of `value`. */
  put(ns: string, key: KeyRef, value: Uint8Array): void;
  /** Only inside a write. */
  remove(ns: string, key: KeyRef): void;
  /** Inside a write: including the write's own changes. */
  usage(ns: string): Usage;
  /** Only inside a write. */
  setUsage(ns: string, usage: Usage): void;
  /**
   * Up to `limit` keys of `ns` in byte order, from `start` (inclusive, or exclusive when
   * `after`) up to `end` (exclusive).
   */
  list(ns: string, start: Buffer, after: boolean, end: Buffer, limit: number): string[];

  /** A backend failure as a `storage-error` saying what to do. */
  failure(error: unknown): AirssysError;
  close(): void;
}
