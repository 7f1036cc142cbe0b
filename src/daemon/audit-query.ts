/**
 * An audit query from URL parameters (`/v1/audit?component=counter&decision=deny&since=…`),
 * validated: a typo in a filter must not silently widen the answer to everything.
 */

import type { AuditQuery, Decision } from '../osl/audit/audit-log.js';
import { AirssysError } from '../shared/errors.js';

const MAX_LIMIT = 10_000;

export function auditQuery(raw: unknown): AuditQuery {
  const q = (raw ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(q)) {
    if (!['component', 'decision', 'operation', 'since', 'until', 'limit', 'token'].includes(key))
      throw new AirssysError(
        'invalid-argument',
        `unknown audit filter "${key}"; use component, decision, operation, since, until, limit`,
      );
  }
  const query: AuditQuery = {};
  if (q.component !== undefined) query.component = text(q.component, 'component');
  if (q.operation !== undefined) query.operation = text(q.operation, 'operation');
  if (q.decision !== undefined) {
    if (q.decision !== 'allow' && q.decision !== 'deny')
      throw new AirssysError(
        'invalid-argument',
        `decision: allow or deny, not ${JSON.stringify(q.decision)}`,
      );
    query.decision = q.decision as Decision;
  }
  if (q.since !== undefined) query.since = time(q.since, 'since');
  if (q.until !== undefined) query.until = time(q.until, 'until');
  if (q.limit !== undefined) {
    const n = Number(q.limit);
    if (!(Number.isInteger(n) && n >= 1 && n <= MAX_LIMIT))
      throw new AirssysError('invalid-argument', `limit: a whole number 1..${MAX_LIMIT}`);
    query.limit = n;
  }
  return query;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '')
    throw new AirssysError('invalid-argument', `${field}: expected text`);
  return value;
}

/** Milliseconds since the epoch, or an ISO 8601 date. */
export function time(value: unknown, field: string): number {
  const s = text(value, field);
  const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(ms))
    throw new AirssysError(
      'invalid-argument',
      `${field}: milliseconds since the epoch or an ISO date, not ${s}`,
    );
  return ms;
}
