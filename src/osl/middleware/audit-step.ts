/**
 * The audit step: the outermost middleware, so it sees every outcome of the chain — the
 * guards' refusals, the port's own refusals at access (a symlink swapped in, a lookup refused,
 * a body over the cap) and plain successes — and records each as one decision.
 *
 * THREAT MODEL: a security log that a guest can flood, forge or silence is worse than none.
 * Subjects are bounded and control characters escaped (describeSubject); the record is written
 * whether the call succeeded or threw, before the error reaches the guest; and reads/writes on
 * an already-open handle are recorded only when refused, so a guest reading a file in 4 KiB
 * pieces cannot bury the decisions that matter under millions of identical "allow" lines.
 */

import { isAirssysError } from '../../shared/errors.js';
import type { AuditLog, Decision } from '../audit/audit-log.js';
import { BULK_OPERATIONS } from '../operation.js';
import type { Middleware } from './compose.js';

const MAX_REASON = 1024;

/**
 * @example
 * const run = compose([auditStep(log), pathGuard(caps)], terminal);
 */
export function auditStep(log: AuditLog, clock: () => number = Date.now): Middleware {
  return async (ctx, next) => {
    const record = (decision: Decision, reason: string, code?: string) =>
      log.record({
        time: clock(),
        component: ctx.component,
        version: ctx.version,
        operation: ctx.op.kind,
        subject: ctx.subject,
        decision,
        reason,
        code,
      });
    try {
      await next();
    } catch (error) {
      const code = isAirssysError(error) ? error.code : 'internal';
      const message = error instanceof Error ? error.message : String(error);
      record(
        !ctx.granted || code === 'capability-denied' ? 'deny' : 'allow',
        `${code}: ${message}`.slice(0, MAX_REASON),
        code,
      );
      throw error;
    }
    if (!BULK_OPERATIONS.has(ctx.op.kind)) record('allow', ctx.note ?? 'granted');
  };
}
