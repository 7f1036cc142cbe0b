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
  /**
   * The call runs on JSPI (`WebAssembly.promising`): instead of blocking the thread, a host
   * function that must wait throws a `Suspension` with a promise of the moment to look again.
   */
  readonly suspends?: boolean;
}

/**
 * Thrown by a host function that must wait, under a budget that `suspends`: the engine waits for
 * `until` without blocking the thread (the guest's stack is suspended by JSPI) and then calls
 * the host function again with the same arguments. So a function may throw it only at a point
 * it can be restarted from: before it changed anything (every WASI wait is such a point: a
 * read that found no data, a poll that found nothing ready).
 */
export class Suspension {
  constructor(readonly until: Promise<void>) {}
}

/**
 * `fn` for a suspending import: its value when it returns, or, when it throws a `Suspension`,
 * a promise of its value once it could run to the end.
 */
export function retryAfterSuspension(fn: HostFunction): HostFunction {
  const attempt = (args: unknown[]): unknown => {
    try {
      return fn(...args);
    } catch (error) {
      if (error instanceof Suspension) return error.until.then(() => attempt(args));
      throw error;
    }
  };
  return (...args: unknown[]) => attempt(args);
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

/** True for a function made by `withCallBudget`: one that may wait. */
export function mayWait(fn: HostFunction): boolean {
  return (fn as Bindable)[BIND] !== undefined;
}

/** `fn` as linked into an instance whose calls have `budget`: itself unless made by `withCallBudget`. */
export function bindCallBudget(fn: HostFunction, budget: CallBudget): HostFunction {
  const bind = (fn as Bindable)[BIND];
  return bind === undefined ? fn : bind(budget);
}
