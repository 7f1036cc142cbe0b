/**
 * `wasi:io/poll`: pollables and the one place the WASI layer waits for them.
 *
 * A pollable is ready when its event has happened: a clock's instant has come (`clocks.ts`),
 * a stream can be read or written (`streams.ts`). `poll` returns the indexes of the ready ones
 * and, when none is, blocks the thread until one is (`sleep.ts`): a clock says when it will be
 * ready and is slept for; a stream is asked to wait for its data. Every wait is bounded by the
 * export call's deadline (`timeout-ms`, see engine/call-budget.ts): at the deadline the call
 * ends with `timeout`, so a guest sleeping past its budget stops there. A wait runs no guest
 * code and costs no fuel. A call on JSPI (`budget.suspends`) does not block the thread: the wait
 * suspends the guest and the host function runs again once something may be ready.
 */

import { type CallBudget, Suspension } from '../engine/call-budget.js';
import { sleepUntil } from './sleep.js';
import { budgeted, guestTrap, type Interface, self } from './values.js';

/** When several streams wait at once, each gets this long in turn before the others are looked at. */
const SHARED_WAIT_MS = 10;

/** The host object behind every `pollable` handle. */
export abstract class Pollable {
  /** Why it exists (`stdin`, `subscribe-duration`…), for debugging. */
  constructor(readonly source: string) {}

  /** True once the event has happened; never blocks. */
  abstract ready(): boolean;

  /**
   * The `performance.now()` time at which it becomes ready by itself (a clock), or undefined
   * when only an outside event (data arriving) makes it ready.
   */
  dueAt(): number | undefined {
    return undefined;
  }

  /** Waits until ready or until `performance.now()` reaches `until`; may return early. */
  wait(until: number): void {
    sleepUntil(Math.min(until, this.dueAt() ?? until));
  }

  /**
   * The same without blocking the thread (a call on JSPI): resolves when it may be ready or at
   * `until`, whichever is first; may resolve early. Without an event to wait for, it looks
   * again after `ASYNC_LOOK_MS`.
   */
  waitAsync(until: number): Promise<void> {
    return sleepAsync(Math.min(until, this.dueAt() ?? performance.now() + ASYNC_LOOK_MS));
  }
}

/** How often a suspended guest's stream with no event of its own is looked at again. */
const ASYNC_LOOK_MS = 4;

function sleepAsync(until: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, until - performance.now())));
}

/** A pollable that is always ready: a sink that takes every write at once, a closed stream. */
export class ReadyPollable extends Pollable {
  ready(): boolean {
    return true;
  }
}

/**
 * Blocks until at least one of `pollables` is ready. At the call's deadline, ends the call with
 * `timeout` (`budget.expire()`).
 */
export function waitForAny(pollables: readonly Pollable[], budget: CallBudget): void {
  for (;;) {
    for (const p of pollables) if (p.ready()) return;
    const deadline = budget.deadline();
    if (performance.now() >= deadline) budget.expire();
    let until = deadline;
    const streams: Pollable[] = [];
    for (const p of pollables) {
      const due = p.dueAt();
      if (due === undefined) {
        if (!streams.includes(p)) streams.push(p);
      } else if (due < until) until = due;
    }
    // On JSPI the guest's stack is suspended instead and the call retried (call-budget.ts).
    if (budget.suspends) {
      throw new Suspension(
        streams.length === 0 ? sleepAsync(until) : Promise.race(streams.map((p) => p.waitAsync(until))),
      );
    }
    if (streams.length === 0) sleepUntil(until);
    else if (streams.length === 1) streams[0].wait(until);
    else {
      // Several event sources and no way to wait for all at once: each in turn, briefly.
      for (const p of streams) {
        p.wait(Math.min(until, performance.now() + SHARED_WAIT_MS));
        if (p.ready() || performance.now() >= until) break;
      }
    }
  }
}

const where = (fn: string) => `wasi:io/poll#${fn}`;

export function pollInterface(): Interface {
  return budgeted((budget) => ({
    '[method]pollable.ready': (p: unknown) => self(p, Pollable, where('[method]pollable.ready')).ready(),
    '[method]pollable.block': (p: unknown) =>
      waitForAny([self(p, Pollable, where('[method]pollable.block'))], budget),
    poll: (list: readonly unknown[]) => {
      // As the WIT says: an empty list traps (it could never return).
      if (list.length === 0) throw guestTrap(where('poll'), 'called with an empty list');
      const pollables = list.map((p) => self(p, Pollable, where('poll')));
      // A pollable can stop being ready between two looks (an injected clock stepped back):
      // then wait again rather than return an empty list, which the WIT rules out.
      for (;;) {
        waitForAny(pollables, budget);
        const ready: number[] = [];
        for (const [i, p] of pollables.entries()) if (p.ready()) ready.push(i);
        if (ready.length > 0) return ready;
      }
    },
  }));
}
