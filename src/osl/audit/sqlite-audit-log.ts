/**
 * The audit log in SQLite (better-sqlite3), in WAL mode.
 *
 * Records are buffered and written once per event-loop turn in one transaction: a burst of a
 * thousand decisions costs one commit, not a thousand. `query()` flushes first, so a reader
 * always sees every decision made before it asked. Durability: with `synchronous = NORMAL` (the
 * default) a committed record survives a crash of the process; `synchronous: 'full'` also
 * survives power loss, at the cost of an fsync per commit. What can be lost is the current
 * turn's buffer if the process dies before it ends — call `flush()` where that matters.
 */

import Database from 'better-sqlite3';
import {
  type AuditLog,
  type AuditQuery,
  type AuditRecord,
  DEFAULT_QUERY_LIMIT,
  type Decision,
} from './audit-log.js';

export interface SqliteAuditLogOptions {
  /** Database file; `:memory:` for a throwaway one. */
  path: string;
  synchronous?: 'normal' | 'full';
}

interface Row {
  time: number;
  component: string;
  version: string;
  operation: string;
  subject: string;
  decision: Decision;
  reason: string;
  code: string | null;
}

/**
 * @example
 * const audit = new SqliteAuditLog({ path: '/var/lib/airssys/audit.db' });
 * audit.query({ component: 'counter', decision: 'deny', since: Date.now() - 3_600_000 });
 */
export class SqliteAuditLog implements AuditLog {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly insertMany: (rows: AuditRecord[]) => void;
  private buffer: AuditRecord[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(options: SqliteAuditLogOptions) {
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        component TEXT NOT NULL,
        version TEXT NOT NULL,
        operation TEXT NOT NULL,
        subject TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('allow', 'deny')),
        reason TEXT NOT NULL,
        code TEXT
      );
      CREATE INDEX IF NOT EXISTS audit_component_time ON audit (component, time);
      CREATE INDEX IF NOT EXISTS audit_decision_time ON audit (decision, time);
      CREATE INDEX IF NOT EXISTS audit_time ON audit (time);
    `);
    this.insert = this.db.prepare(
      'INSERT INTO audit (time, component, version, operation, subject, decision, reason, code) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertMany = this.db.transaction((rows: AuditRecord[]) => {
      for (const r of rows) {
        this.insert.run(
          r.time,
          r.component,
          r.version,
          r.operation,
          r.subject,
          r.decision,
          r.reason,
          r.code ?? null,
        );
      }
    });
  }

  record(entry: AuditRecord): void {
    this.buffer.push(entry);
    this.scheduled ??= setImmediate(() => this.flush());
  }

  flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    this.insertMany(rows);
  }

  query(query: AuditQuery = {}): AuditRecord[] {
    this.flush();
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.component !== undefined) where.push('component = ?') && params.push(query.component);
    if (query.decision !== undefined) where.push('decision = ?') && params.push(query.decision);
    if (query.operation !== undefined) where.push('operation = ?') && params.push(query.operation);
    if (query.since !== undefined) where.push('time >= ?') && params.push(query.since);
    if (query.until !== undefined) where.push('time < ?') && params.push(query.until);
    params.push(query.limit ?? DEFAULT_QUERY_LIMIT);
    const sql = `SELECT time, component, version, operation, subject, decision, reason, code FROM audit${
      where.length ? ` WHERE ${where.join(' AND ')}` : ''
    } ORDER BY time DESC, id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params) as Row[]).map((row) =>
      row.code === null ? { ...row, code: undefined } : row,
    ) as AuditRecord[];
  }

  close(): void {
    if (!this.db.open) return;
    this.flush();
    this.db.close();
  }
}
