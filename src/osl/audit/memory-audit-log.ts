/** The audit log in memory, for tests; same query semantics as the SQLite one. */

import {
  type AuditLog,
  type AuditQuery,
  type AuditRecord,
  DEFAULT_QUERY_LIMIT,
  matchesQuery,
} from './audit-log.js';

/**
 * @example
 * const log = new MemoryAuditLog();
 * log.query({ component: 'counter', decision: 'deny' });
 */
export class MemoryAuditLog implements AuditLog {
  readonly records: AuditRecord[] = [];

  record(entry: AuditRecord): void {
    this.records.push(entry);
  }

  query(query: AuditQuery = {}): AuditRecord[] {
    const limit = query.limit ?? DEFAULT_QUERY_LIMIT;
    const out: AuditRecord[] = [];
    for (let i = this.records.length - 1; i >= 0 && out.length < limit; i--) {
      if (matchesQuery(this.records[i], query)) out.push(this.records[i]);
    }
    return out;
  }

  flush(): void {}

  close(): void {}
}
