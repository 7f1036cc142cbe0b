/**
 * The few JS shapes every WASI interface file returns, in the engine's value mapping
 * (`component/canon/index.ts`): results as `{tag, val}`, u64 as bigint, host resources as the
 * host's own objects.
 */

import { AirssysError } from '../../shared/errors.js';
import { type CallBudget, UNBOUNDED_CALL, withCallBudget } from '../engine/call-budget.js';
import { mayLendBytes, takesLentBytes } from '../engine/lent-bytes.js';
import type { HostFunction } from '../engine/link.js';

/** One imported interface: host functions keyed by WIT name (`[method]output-stream.write`). */
export type Interface = Record<string, HostFunction>;

export type Result<T, E> = { tag: 'ok'; val: T } | { tag: 'err'; val: E };

export const OK_EMPTY = Object.freeze({ tag: 'ok' }) as Result<undefined, never>;

export function ok<T>(val: T): Result<T, never> {
  return { tag: 'ok', val };
}

export function err<E>(val: E): Result<never, E> {
  return { tag: 'err', val };
}

/** A trap the guest caused by breaking a WASI precondition; the instance is discarded. */
export function guestTrap(fn: string, message: string, details?: Record<string, unknown>): AirssysError {
  return new AirssysError('trap', `${fn}: ${message}`, { blame: 'guest', details });
}

/** `len: u64` as a number; anything past the safe range is as good as infinite for a cap check. */
export function length(value: bigint | number): number {
  const n = typeof value === 'bigint' ? value : BigInt(value);
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/**
 * The `self` of a resource method, checked to be the host's own kind of object. Only this
 * module creates these resources, so a mismatch is a host wiring bug (another import handing
 * out the same resource type), reported as such rather than as a TypeError deep inside.
 */
export function self<T>(value: unknown, kind: abstract new (...args: any[]) => T, fn: string): T {
  if (value instanceof kind) return value;
  throw new AirssysError('internal', `${fn}: the handle is not one this WASI implementation created`, {
    blame: 'host',
  });
}

/**
 * An interface whose functions may wait, so need their caller's deadline (`withCallBudget`):
 * `make` builds the functions for one budget, once per linked instance (and once, unbounded,
 * for direct calls).
 */
export function budgeted(make: (budget: CallBudget) => Interface): Interface {
  const made = new WeakMap<CallBudget, Interface>();
  const forBudget = (budget: CallBudget): Interface => {
    let functions = made.get(budget);
    if (functions === undefined) {
      functions = make(budget);
      made.set(budget, functions);
    }
    return functions;
  };
  const linked: Interface = {};
  const unbounded = forBudget(UNBOUNDED_CALL);
  for (const name of Object.keys(unbounded)) {
    const fn = withCallBudget((budget) => forBudget(budget)[name]);
    linked[name] = mayLendBytes(unbounded[name]) ? takesLentBytes(fn) : fn;
  }
  return linked;
}
