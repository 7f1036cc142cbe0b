/**
 * The activity (audit) log: one record per decision — what a component asked for, whether it
 * was allowed, and why. Two implementations behind one interface: `SqliteAuditLog` (durable)
 * and `MemoryAuditLog` (tests).
 */

export type Decision = 'allow' | 'deny';

export interface AuditRecord {
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly component: string;
  readonly version: string;
  /** The operation kind, e.g. `fs.open`, `net.fetch`, `process.spawn`, `operator.deploy`. */
  readonly operation: string;
  readonly subject: string;
  readonly decision: Decision;
  readonly reason: string;
  /** The error code when the operation failed (a denial, or an allowed call that failed). */
  readonly code?: string;
}

export interface AuditQuery {
  component?: string;
  decision?: Decision;
  operation?: string;
  /** Inclusive lower bound (ms). */
  since?: number;
  /** Exclusive upper bound (ms). */
  until?: number;
  /** Newest first; default 1000. */
  limit?: number;
}

export interface AuditLog {
  /** Records a decision. Cheap: implementations may batch, but never drop. */
  record(entry: AuditRecord): void;
  /** Newest first. Sees every record made before the call. */
  query(query?: AuditQuery): AuditRecord[];
  /** Makes every record so far durable. */
  flush(): void;
  close(): void;
}

export const DEFAULT_QUERY_LIMIT = 1000;

/**
 * A log that only records, into `sink`: for code that writes decisions into a log kept and
 * queried elsewhere (a scheduler thread's sandboxes, the daemon's operator checks).
 */
export function recordInto(sink: (entry: AuditRecord) => void): AuditLog {
  return { record: sink, query: () => [], flush() {}, close() {} };
}

export function matchesQuery(r: AuditRecord, q: AuditQuery): boolean {
  return (
    (q.component === undefined || r.component === q.component) &&
    (q.decision === undefined || r.decision === q.decision) &&
    (q.operation === undefined || r.operation === q.operation) &&
    (q.since === undefined || r.time >= q.since) &&
    (q.until === undefined || r.time < q.until)
  );
}
