/**
 * rollback: going back to an older retained version is just another deployment, with the current
 * version as `fromVersion` (as in wadm, where rollback is `deploy(previous)`). Only the mechanics
 * that switch all traffic at once make sense for it — stop-start or blue-green; a canary of a
 * version already known good would only prolong the incident.
 *
 * Note: the older version's `migrate(from)` runs with the newer hash as `from`, so a component that
 * cannot read storage in its newer layout must say so by failing `migrate`; that fails the
 * rollback, which then restores storage and leaves the current version serving.
 */

import { AirssysError } from '../../shared/errors.js';
import type { Desired } from './types.js';
import { validateDesired } from './validate.js';

export interface RollbackRequest {
  address: string;
  /** The version serving now. */
  currentVersion: string;
  /** The retained version to go back to. */
  toVersion: string;
  instances: number;
  /** When the rollback begins (ms, the reconciler's clock). */
  startedAt: number;
  /** Default `{ kind: 'blue-green' }`: no outage, and the current version serves until the switch. */
  strategy?: { kind: 'stop-start' | 'blue-green'; healthTimeoutMs?: number };
}

/**
 * Builds the deployment that rolls an address back to a retained version.
 *
 * @example
 * const desired = rollbackDesired({ address: 'counter', currentVersion: v2, toVersion: v1, instances: 1, startedAt: now });
 * plan(desired, observed); // the blue-green moves from v2 to v1
 */
export function rollbackDesired(req: RollbackRequest): Desired {
  const strategy = req.strategy ?? { kind: 'blue-green' };
  if (strategy.kind !== 'stop-start' && strategy.kind !== 'blue-green')
    throw new AirssysError(
      'invalid-argument',
      `strategy.kind: expected 'stop-start' | 'blue-green' for a rollback, got ${JSON.stringify(strategy.kind)}`,
      { details: { field: 'strategy.kind' } },
    );
  const desired: Desired = {
    address: req.address,
    fromVersion: req.currentVersion,
    toVersion: req.toVersion,
    instances: req.instances,
    strategy,
    startedAt: req.startedAt,
  };
  validateDesired(desired);
  return desired;
}
