/**
 * The key-value store in SQLite (better-sqlite3), in WAL mode — the default backend.
 *
 * One table of (namespace, key, value) with the namespace and the key in separate columns, the
 * key as a BLOB of its UTF-8 bytes (so SQLite's `memcmp` order is UTF-8 byte order and
 * `listPrefix` is an index range, never a `LIKE` a key could smuggle `%` into), and every value
 * bound as a statement parameter. A second table keeps each namespace's usage, updated in the
 * same transaction as the entries: reading it costs one lookup, and it stays right when several
 * connections (one per worker thread) write to the same file.
 *
 * Durability (docs/storage.md): with `synchronous: 'full'` (the default) a write is durable when
 * its commit returns — it survives the process being killed and the machine losing power. With
 * `'normal'` it survives the process being killed, but the last commits before a power loss or
 * OS crash may be rolled back (never torn). An uncommitted turn leaves nothing behind either way.
 *
 * Every write transaction is `BEGIN IMMEDIATE`: it takes the write lock up front, so a quota
 * check and the write it allows see the same data, and a busy database makes the writer wait
 * (`busyTimeoutMs`) instead of failing half-way through a turn.
 */

import Database from 'better-sqlite3';
import { AirssysError } from '../../shared/errors.js';
import type { KeyRef, Usage } from './store.js';
import type { KvTable } from './table.js';
import { TableStore } from './table-store.js';

export interface SqliteKeyValueStoreOptions {
  /** Database file, shared by every thread's store; `:memory:` for a throwaway one (no WAL). */
  path: string;
  /** `full` (default): fsync per commit, survives power loss. `normal`: survives a process crash only. */
  synchronous?: 'full' | 'normal';
  /** How long a write waits for another connection's transaction to end. Default 5000. */
  busyTimeoutMs?: number;
}

const SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS kv (
    ns TEXT NOT NULL,
    key BLOB NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (ns, key)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS kv_usage (
    ns TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL,
    keys INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

function prepare(db: Database.Database) {
  return {
    begin: db.prepare('BEGIN IMMEDIATE'),
    beginRead: db.prepare('BEGIN DEFERRED'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    get: db.prepare('SELECT value FROM kv WHERE ns = ? AND key = ?').pluck(),
    size: db.prepare('SELECT length(value) FROM kv WHERE ns = ? AND key = ?').pluck(),
    put: db.prepare(
      'INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value',
    ),
    remove: db.prepare('DELETE FROM kv WHERE ns = ? AND key = ?'),
    usage: db.prepare('SELECT bytes, keys FROM kv_usage WHERE ns = ?'),
    setUsage: db.prepare(
      'INSERT INTO kv_usage (ns, bytes, keys) VALUES (?, ?, ?) ON CONFLICT (ns) DO UPDATE SET bytes = excluded.bytes, keys = excluded.keys',
    ),
    listFrom: db
      .prepare('SELECT key FROM kv WHERE ns = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?')
      .pluck(),
    listAfter: db
      .prepare('SELECT key FROM kv WHERE ns = ? AND key > ? AND key < ? ORDER BY key LIMIT ?')
      .pluck(),
  };
}

type Statements = ReturnType<typeof prepare>;

class SqliteTable implements KvTable {
  private readonly db: Database.Database;
  private readonly statements: Statements;
  /** Usage of the namespaces touched by the open write, written back at commit. */
  private readonly pending = new Map<string, { usage: Usage; dirty: boolean }>();

  constructor(private readonly options: SqliteKeyValueStoreOptions) {
    try {
      this.db = new Database(options.path);
    } catch (error) {
      throw this.failure(error);
    }
    try {
      this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      const mode = this.db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal' && options.path !== ':memory:') {
        throw new AirssysError(
          'storage-error',
          `${options.path}: SQLite could not switch to WAL mode (got '${String(mode)}'): put the database on a local file system`,
          { details: { path: options.path } },
        );
      }
      this.db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      this.migrate();
    } catch (error) {
      this.db.close();
      throw error instanceof AirssysError ? error : this.failure(error);
    }
    this.statements = prepare(this.db);
  }

  begin(): void {
    this.statements.begin.run();
  }

  commit(): void {
    for (const [ns, entry] of this.pending) {
      if (entry.dirty) this.statements.setUsage.run(ns, entry.usage.bytes, entry.usage.keys);
    }
    this.statements.commit.run();
    this.pending.clear();
  }

  rollback(): void {
    this.pending.clear();
    this.statements.rollback.run();
  }

  beginRead(): void {
    this.statements.beginRead.run();
  }

  endRead(): void {
    if (this.db.inTransaction) this.statements.commit.run();
  }

  inWrite(): boolean {
    if (this.db.inTransaction) return true;
    // SQLite ended the transaction itself (disk full, I/O error): the cached usage died with it.
    this.pending.clear();
    return false;
  }

  get(ns: string, key: KeyRef): Uint8Array | undefined {
    const value = this.statements.get.get(ns, key.bytes) as Buffer | undefined;
    return value === undefined ? undefined : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }

  valueSize(ns: string, key: KeyRef): number | undefined {
    return this.statements.size.get(ns, key.bytes) as number | undefined;
  }

  put(ns: string, key: KeyRef, value: Uint8Array): void {
    this.statements.put.run(ns, key.bytes, value);
  }

  remove(ns: string, key: KeyRef): void {
    this.statements.remove.run(ns, key.bytes);
  }

  usage(ns: string): Usage {
    const cached = this.pending.get(ns);
    if (cached) return cached.usage;
    const row = this.statements.usage.get(ns) as Usage | undefined;
    const usage = row ? { bytes: row.bytes, keys: row.keys } : { bytes: 0, keys: 0 };
    // Only a write holds the lock that keeps this figure true until it ends.
    if (this.db.inTransaction) this.pending.set(ns, { usage, dirty: false });
    return usage;
  }

  setUsage(ns: string, usage: Usage): void {
    this.pending.set(ns, { usage: { ...usage }, dirty: true });
  }

  list(ns: string, start: Buffer, after: boolean, end: Buffer, limit: number): string[] {
    const statement = after ? this.statements.listAfter : this.statements.listFrom;
    return (statement.all(ns, start, end, limit) as Buffer[]).map((key) => key.toString('utf8'));
  }

  failure(error: unknown): AirssysError {
    const path = this.options.path;
    const code = (error as { code?: unknown }).code;
    const sqliteCode = typeof code === 'string' ? code : 'unknown';
    const reason = error instanceof Error ? error.message : String(error);
    const advice = sqliteCode.startsWith('SQLITE_BUSY')
      ? `another connection held the write lock for more than ${this.options.busyTimeoutMs ?? 5000} ms: retry, keep turns short, or raise busyTimeoutMs`
      : sqliteCode === 'SQLITE_FULL'
        ? 'the disk is full: free space on its volume'
        : sqliteCode.startsWith('SQLITE_READONLY') || sqliteCode.startsWith('SQLITE_CANTOPEN')
          ? 'check that the host may write the file, its -wal and -shm files and their folder'
          : sqliteCode === 'SQLITE_CORRUPT' || sqliteCode === 'SQLITE_NOTADB'
            ? 'the file is damaged or not a key-value database: restore it from a backup'
            : 'check the disk and the file';
    return new AirssysError('storage-error', `key-value store ${path}: ${reason}: ${advice}`, {
      cause: error,
      details: { path, sqliteCode },
    });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private migrate(): void {
    this.db
      .transaction(() => {
        const version = this.db.pragma('user_version', { simple: true }) as number;
        if (version > SCHEMA_VERSION) {
          throw new AirssysError(
            'storage-error',
            `${this.options.path}: key-value schema version ${version} is newer than this host's ${SCHEMA_VERSION}: upgrade airssys-wasm`,
            { details: { path: this.options.path, version } },
          );
        }
        this.db.exec(SCHEMA);
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })
      .immediate();
  }
}

/**
 * @example
 * // One store per worker thread, all on the same file.
 * const store = new SqliteKeyValueStore({ path: '/var/lib/airssys/kv.db' });
 * const ns = store.namespace('counter');
 * ns.set('greeting', new TextEncoder().encode('hello'));
 */
export class SqliteKeyValueStore extends TableStore {
  constructor(options: SqliteKeyValueStoreOptions) {
    super(new SqliteTable(options));
  }
}
