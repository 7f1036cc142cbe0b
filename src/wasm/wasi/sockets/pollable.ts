/**
 * The pollable of a socket or a lookup: ready when the socket thread has reported what the
 * guest waits for (a lookup's answer, a connect's outcome, bytes, a connection to accept). A
 * wait blocks on the bridge's shared counter, bounded by the call's deadline (poll.ts), or
 * suspends on it when the call runs on JSPI.
 */

import { Pollable } from '../poll.js';

/** What a socket pollable watches: osl's bridged objects have this shape. */
export interface Watched {
  ready(): boolean;
  wait(until: number): void;
  waitAsync(until: number): Promise<void>;
}

export class SocketPollable extends Pollable {
  constructor(
    source: string,
    private readonly watched: Watched,
  ) {
    super(source);
  }

  ready(): boolean {
    return this.watched.ready();
  }

  override wait(until: number): void {
    this.watched.wait(until);
  }

  override waitAsync(until: number): Promise<void> {
    return this.watched.waitAsync(until);
  }
}

/** Waits as `waits` does (for the thread's next report), ready when `ready` says so. */
export function readyWhen(ready: () => boolean, waits: Pick<Watched, 'wait' | 'waitAsync'>): Watched {
  return { ready, wait: (until) => waits.wait(until), waitAsync: (until) => waits.waitAsync(until) };
}

/** Ready at once: a socket in a state with nothing to wait for (as wasmtime's). */
export const NOTHING_TO_WAIT_FOR: Watched = {
  ready: () => true,
  wait: () => {},
  waitAsync: async () => {},
};
