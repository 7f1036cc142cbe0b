/**
 * Deployment strategies (SPEC §6) as pure functions: `plan(desired, observed)` returns the next
 * commands for the reconciler, which owns every side effect and every clock.
 */

export { judgeCanary, type Verdict } from './canary.js';
export { PROBE_INTERVAL_MS } from './common.js';
export { isFinal, plan } from './plan.js';
export { type RollbackRequest, rollbackDesired } from './rollback.js';
export type {
  Command,
  Desired,
  Observed,
  StrategyKind,
  StrategySpec,
  ValidCanary,
  ValidDesired,
  ValidShadow,
  ValidStrategy,
  VersionObservation,
} from './types.js';
export { STRATEGY_KINDS, validateDesired, validateStrategy } from './validate.js';
