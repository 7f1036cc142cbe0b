/**
 * What a host function that waits may know about the export call that reached it: when the
 * call's `timeout-ms` runs out, and how to end the call there.
 *
 * The fuel meter checks the wall clock only between fuel slices, i.e. while guest code runs. A
 * host function that blocks (WASI `poll`, a blocking read of stdin) runs no guest code, so the
 * meter cannot stop it: such a function must bound its own wait by `deadline()` and call
 * `expire()` when it is reached, which ends the call exactly as the meter would (`timeout`,
 * instance discarded). Waiting costs no fuel: fuel counts guest instructions only.
 *
 * The engine links a function made with `withCallBudget` once per instance, with that
 * instance's budget; called directly (tests, another embedder), it runs with no deadline.
 */

import { AirssysError } from '../../shared/errors.js';
import type { HostFunction } from './link.js';

export interface CallBudget {
  /** `performance.now()` time at which the current call's `timeout-ms` runs out (`Infinity`: none). */
  deadline(): number;
  /** Ends the current call with `timeout`, as the fuel meter would at its next check. */
  expire(): never;
}

/** The budget of a host function called outside any engine call: no deadline. */
export const UNBOUNDED_CALL: CallBudget = Object.freeze({
  deadline: () => Number.POSITIVE_INFINITY,
  expire(): never {
    throw new AirssysError('internal', 'a call without a deadline cannot expire', { blame: 'host' });
  },
});

const BIND: unique symbol = Symbol('airssys:bind-call-budget');

type Bindable = HostFunction & { [BIND]?: (budget: CallBudget) => HostFunction };

/**
 * A host function that needs its caller's budget. `bind` is called once per linked instance
 * (and once now, unbounded, for direct calls), so it should only close over the budget.
 *
 * @example
 * const sleep = withCallBudget((budget) => (ms: number) => {
 *   const until = performance.now() + ms;
 *   waitUntil(Math.min(until, budget.deadline()));
 *   if (performance.now() < until) budget.expire();
 * });
 */
export function withCallBudget<F extends HostFunction>(bind: (budget: CallBudget) => F): F {
  const unbound = bind(UNBOUNDED_CALL) as F & Bindable;
  unbound[BIND] = bind;
  return unbound;
}

/** `fn` as linked into an instance whose calls have `budget`: itself unless made by `withCallBudget`. */
export function bindCallBudget(fn: HostFunction, budget: CallBudget): HostFunction {
  const bind = (fn as Bindable)[BIND];
  return bind === undefined ? fn : bind(budget);
}
