/**
 * Access control for operators (people and tools driving the host, not components): roles map
 * to the operations they may perform, principals to roles. Every decision is audited like a
 * component's.
 *
 * THREAT MODEL: the admin API and CLI act on every component; a token leaked from a read-only
 * dashboard must not deploy code. Deny by default: an unknown principal, an unknown role or an
 * operation no role lists is refused. Patterns are `*` (everything), `component.*` (one
 * dotted prefix) or an exact name — nothing that could be read two ways.
 */

import type { AuditLog } from '../audit/audit-log.js';
import { denied } from '../deny.js';

export interface AccessRules {
  /** Role name → operation patterns, e.g. `{ viewer: ['audit.read', 'component.list'] }`. */
  roles: Readonly<Record<string, readonly string[]>>;
  /** Principal → role names. */
  principals: Readonly<Record<string, readonly string[]>>;
}

/**
 * @example
 * const acl = new OperatorAcl({
 *   roles: { admin: ['*'], operator: ['component.*', 'audit.read'], viewer: ['audit.read'] },
 *   principals: { alice: ['operator'], bob: ['viewer'] },
 * }, auditLog);
 * acl.authorize('bob', 'component.deploy', 'counter'); // throws capability-denied, audited
 */
export class OperatorAcl {
  constructor(
    private readonly rules: AccessRules,
    private readonly audit?: AuditLog,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Whether `principal` may perform `operation`. Pure; not audited. */
  can(principal: string, operation: string): boolean {
    const roles = Object.hasOwn(this.rules.principals, principal) ? this.rules.principals[principal] : [];
    for (const role of roles) {
      const patterns = Object.hasOwn(this.rules.roles, role) ? this.rules.roles[role] : [];
      for (const p of patterns) {
        if (p === '*' || p === operation || (p.endsWith('.*') && operation.startsWith(p.slice(0, -1))))
          return true;
      }
    }
    return false;
  }

  /** Throws `capability-denied` unless allowed; records the decision either way. */
  authorize(principal: string, operation: string, component = '-'): void {
    const allowed = this.can(principal, operation);
    this.audit?.record({
      time: this.clock(),
      component,
      version: '',
      operation: `operator.${operation}`,
      subject: `operator:${principal}`,
      decision: allowed ? 'allow' : 'deny',
      reason: allowed ? 'granted by role' : `no role of ${principal} allows ${operation}`,
      code: allowed ? undefined : 'capability-denied',
    });
    if (!allowed) throw denied(`${principal} may not ${operation}`, { principal, operation });
  }
}
