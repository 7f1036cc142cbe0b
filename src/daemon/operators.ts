/**
 * Who may do what on the admin API. The admin token (`<data-dir>/admin-token`) is the principal
 * `admin`, allowed everything; other operators each get their own token
 * (`<data-dir>/operator-tokens/<name>`, created at the first start, owner-only) and the roles the
 * configuration names. Every route is one operation; `OperatorAcl` decides and audits each
 * decision in the host's audit log, so a leaked read-only token cannot deploy code and every
 * refusal is on record.
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditLog } from '../osl/audit/audit-log.js';
import { OperatorAcl } from '../osl/policy/rbac.js';
import { AirssysError } from '../shared/errors.js';
import { loadOrCreateToken, tokenMatches } from './token.js';

/** Built-in roles; configuration may add others. */
export const DEFAULT_ROLES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  admin: ['*'],
  operator: [
    'status.read',
    'component.*',
    'deployment.*',
    'address.*',
    'logs.read',
    'audit.read',
    'metrics.read',
  ],
  viewer: ['status.read', 'component.list', 'logs.read', 'audit.read', 'metrics.read'],
});

export interface OperatorConfig {
  /** Role names (built-in or from `roles`). */
  readonly roles: readonly string[];
}

export interface OperatorOptions {
  /** Operator name → roles. Names: `[a-z][a-z0-9-]*`. */
  readonly operators?: Readonly<Record<string, OperatorConfig>>;
  /** Extra roles: name → operation patterns (`*`, `component.*`, `audit.read`). */
  readonly roles?: Readonly<Record<string, readonly string[]>>;
}

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

export class Operators {
  private readonly tokens: { name: string; token: string }[];
  private readonly acl: OperatorAcl;

  constructor(dataDir: string, adminToken: string, options: OperatorOptions, audit: AuditLog) {
    const roles = { ...DEFAULT_ROLES, ...options.roles };
    const principals: Record<string, readonly string[]> = { admin: ['admin'] };
    this.tokens = [{ name: 'admin', token: adminToken }];
    const configured = Object.entries(options.operators ?? {});
    if (configured.length > 0) mkdirSync(join(dataDir, 'operator-tokens'), { recursive: true, mode: 0o700 });
    for (const [name, config] of configured) {
      if (!NAME.test(name) || name === 'admin')
        throw new AirssysError(
          'invalid-argument',
          `operators.${name}: a name like "alice" ([a-z][a-z0-9-]*), not "admin"`,
        );
      for (const role of config.roles) {
        if (!Object.hasOwn(roles, role))
          throw new AirssysError(
            'invalid-argument',
            `operators.${name}: unknown role "${role}" (known: ${Object.keys(roles).join(', ')})`,
          );
      }
      principals[name] = config.roles;
      this.tokens.push({ name, token: loadOrCreateToken(join(dataDir, 'operator-tokens'), name) });
    }
    this.acl = new OperatorAcl({ roles, principals }, audit);
  }

  /** The operator a bearer token belongs to (compared in constant time with each), or undefined. */
  identify(presented: string | undefined): string | undefined {
    let found: string | undefined;
    for (const { name, token } of this.tokens) if (tokenMatches(token, presented)) found = name;
    return found;
  }

  /** Throws `capability-denied` (audited) unless `operator` may perform `operation`. */
  authorize(operator: string, operation: string, component?: string): void {
    this.acl.authorize(operator, operation, component);
  }
}

/** The operation a route performs. */
export function operationOf(method: string, routePath: string): string {
  const key = `${method} ${routePath}`;
  const known: Record<string, string> = {
    'GET /v1/status': 'status.read',
    'GET /v1/components': 'component.list',
    'POST /v1/components': 'component.install',
    'GET /v1/deployments': 'status.read',
    'POST /v1/deployments': 'deployment.create',
    'POST /v1/rollback': 'deployment.rollback',
    'DELETE /v1/addresses/:address': 'address.stop',
    'POST /v1/addresses/:address/send': 'address.send',
    'POST /v1/addresses/:address/request': 'address.request',
    'POST /v1/addresses/:address/run': 'address.run',
    'GET /v1/http/routes': 'status.read',
    'GET /v1/logs': 'logs.read',
    'GET /v1/events': 'logs.read',
    'GET /v1/audit': 'audit.read',
    'GET /v1/audit/suggest': 'audit.read',
    'GET /v1/metrics': 'metrics.read',
    'GET /v1/cluster': 'status.read',
    'PUT /v1/cluster/deployments/:address': 'deployment.create',
    'DELETE /v1/cluster/deployments/:address': 'deployment.stop',
  };
  // Deny by default: a route nobody mapped needs the admin role (`*`).
  return known[key] ?? `unmapped ${key}`;
}
