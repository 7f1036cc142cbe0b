/**
 * `wasi:io/poll`. Nothing this host hands out ever waits: output is taken at once, stdin is
 * closed, and clock subscriptions do not sleep (a host scheduler thread must never block on a
 * guest's behalf). So every pollable is ready, `block` returns at once and `poll` reports every
 * index. A guest that sleeps through `subscribe-duration` therefore does not sleep.
 */

import { guestTrap, type Interface } from './values.js';

/** The host object behind every `pollable` handle. */
export class Pollable {
  /** Why it exists (`stdout`, `subscribe-duration`…), for debugging. */
  constructor(readonly source: string) {}
}

export function pollInterface(): Interface {
  return {
    '[method]pollable.ready': () => true,
    '[method]pollable.block': () => {},
    poll: (pollables: readonly unknown[]) => {
      if (pollables.length === 0) throw guestTrap('wasi:io/poll#poll', 'called with an empty list');
      return Array.from({ length: pollables.length }, (_, i) => i);
    },
  };
}
