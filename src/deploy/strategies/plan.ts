/**
 * The one entry point the reconciler calls: checks the deployment and hands it to its strategy.
 * Pure: the same `desired` and `observed` always give the same commands, and nothing here reads a
 * clock, a file or the network.
 */

import { planBlueGreen } from './blue-green.js';
import { planCanary } from './canary.js';
import { planShadow } from './shadow.js';
import { planStopStart } from './stop-start.js';
import type { Command, Desired, Observed, StrategyKind, ValidDesired } from './types.js';
import { validateDesired } from './validate.js';

const STRATEGIES: Record<StrategyKind, (d: ValidDesired, o: Observed) => Command[]> = {
  'stop-start': planStopStart,
  'blue-green': planBlueGreen,
  canary: planCanary,
  shadow: planShadow,
};

/**
 * The next batch of commands for a deployment; never empty. Apply them in order, stop at the first
 * that fails (putting its message in `error`), observe again, and call again until a batch ends in
 * `done` or `failed`. Throws `invalid-argument` for a malformed `desired`.
 *
 * @example
 * const desired = { address: 'counter', fromVersion: v1, toVersion: v2, instances: 1,
 *                   strategy: { kind: 'blue-green' }, startedAt: now };
 * plan(desired, { now, versions: [{ version: v1, running: true, weight: 100, inflight: 0,
 *                                   stats: { handled: 0, errors: 0, crashes: 0 } }] });
 * // [{ op: 'start', version: v2, instances: 1 }, { op: 'migrate', … }, { op: 'probe', version: v2 }]
 */
export function plan(desired: Desired, observed: Observed): Command[] {
  const d = validateDesired(desired);
  return STRATEGIES[d.strategy.kind](d, observed);
}

/** True when a batch ends the deployment. */
export function isFinal(commands: readonly Command[]): boolean {
  const last = commands[commands.length - 1];
  return last !== undefined && (last.op === 'done' || last.op === 'failed');
}
