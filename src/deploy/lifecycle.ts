/**
 * The lifecycle of a component instance (SPEC §6) as an explicit state machine: one state per
 * instance key (`"counter"`, `"counter@<hash>"`), changed only along the transitions in
 * `TRANSITIONS`, each change an event with a timestamp and a reason. The machine only records
 * and checks; doing the work (compiling, starting actors, draining) is the caller's job, which
 * reports each step here. Pure apart from the optional `persist` callback.
 */

import { AirssysError } from '../shared/errors.js';

export const LIFECYCLE_STATES = [
  'uninstalled',
  'installing',
  'installed',
  'starting',
  'running',
  'updating',
  'stopping',
  'stopped',
  'failed',
] as const;

export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

/**
 * Every legal transition, and why it exists. Anything not listed is refused, including staying
 * in the same state: a repeated report is a bug in the caller, not a no-op.
 */
export const TRANSITIONS: Readonly<Record<LifecycleState, readonly LifecycleState[]>> = Object.freeze({
  // Nothing is known yet; the only way in is to start installing.
  uninstalled: ['installing'],
  // Storing and verifying the binary either succeeds or fails (bad manifest, disk error).
  installing: ['installed', 'failed'],
  // Installed but never started: start it, or remove it without ever running.
  installed: ['starting', 'uninstalled'],
  // `init` ran and the actor took its first message → running; `init` trapped → failed; the host
  // shut down before the start finished → stopping (so the start is cancelled, not abandoned).
  starting: ['running', 'failed', 'stopping'],
  // A new version is rolled out → updating; shut down → stopping; the supervisor gave up
  // (restart intensity exceeded) → failed.
  running: ['updating', 'stopping', 'failed'],
  // The switch completed or was rolled back → running again (the reason says which); the
  // rollback itself failed and nothing serves → failed.
  updating: ['running', 'failed'],
  // Draining ends in stopped; a drain that times out still ends in stopped (the instance is
  // terminated), with the timeout as the reason, so there is no stopping → failed.
  stopping: ['stopped'],
  // Restart it, or remove it.
  stopped: ['starting', 'uninstalled'],
  // Retry the start (or the install that failed), give up and mark it stopped so it is not
  // retried, or remove it.
  failed: ['starting', 'installing', 'stopped', 'uninstalled'],
});

export interface LifecycleEvent {
  readonly key: string;
  readonly from: LifecycleState;
  readonly to: LifecycleState;
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly reason: string;
}

export type LifecycleListener = (event: LifecycleEvent) => void;

export interface LifecycleOptions {
  /**
   * Called with each event before it takes effect; when it throws, the transition is refused and
   * nothing changes. `(event) => registry.recordEvent(event)` makes history survive restarts.
   */
  persist?: (event: LifecycleEvent) => void;
  /** Clock for `at`; default `Date.now`. */
  now?: () => number;
  /** Events kept in memory per key (the persisted history has no limit). Default 100. */
  historyLimit?: number;
  /** Receives an exception thrown by a listener; default: a process warning. */
  onListenerError?: (error: unknown, event: LifecycleEvent) => void;
}

/** True when `from → to` is in `TRANSITIONS`. */
export function isLegalTransition(from: LifecycleState, to: LifecycleState): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * The shortest legal path from one state to another, excluding `from` (empty when equal), or
 * undefined when `to` cannot be reached. Lets a caller that learns a state late (a version that
 * stopped while nobody watched) record every step it went through instead of an illegal jump.
 */
export function legalPath(from: LifecycleState, to: LifecycleState): LifecycleState[] | undefined {
  if (from === to) return [];
  const previous = new Map<LifecycleState, LifecycleState>([[from, from]]);
  const queue: LifecycleState[] = [from];
  while (queue.length > 0) {
    const state = queue.shift()!;
    for (const next of TRANSITIONS[state]) {
      if (previous.has(next)) continue;
      previous.set(next, state);
      if (next === to) {
        const path: LifecycleState[] = [to];
        for (let s = state; s !== from; s = previous.get(s)!) path.unshift(s);
        return path;
      }
      queue.push(next);
    }
  }
  return undefined;
}

export function isLifecycleState(value: unknown): value is LifecycleState {
  return typeof value === 'string' && (LIFECYCLE_STATES as readonly string[]).includes(value);
}

/**
 * @example
 * const lifecycle = new Lifecycle({ persist: (event) => registry.recordEvent(event) });
 * lifecycle.on((event) => console.log(`${event.key}: ${event.from} → ${event.to} (${event.reason})`));
 * lifecycle.transition('counter', 'installing', 'operator install');
 * lifecycle.transition('counter', 'installed', 'stored as sha256:…');
 */
export class Lifecycle {
  private readonly states = new Map<string, LifecycleState>();
  private readonly histories = new Map<string, LifecycleEvent[]>();
  private readonly listeners = new Set<LifecycleListener>();
  private readonly persist: ((event: LifecycleEvent) => void) | undefined;
  private readonly now: () => number;
  private readonly historyLimit: number;
  private readonly onListenerError: (error: unknown, event: LifecycleEvent) => void;

  constructor(options: LifecycleOptions = {}) {
    this.persist = options.persist;
    this.now = options.now ?? Date.now;
    const limit = options.historyLimit ?? 100;
    if (!Number.isInteger(limit) || limit < 0) {
      throw new AirssysError(
        'invalid-argument',
        `historyLimit ${limit} is not a non-negative integer: pass a count such as 100`,
        { details: { historyLimit: limit } },
      );
    }
    this.historyLimit = limit;
    this.onListenerError =
      options.onListenerError ??
      ((error, event) =>
        process.emitWarning(
          `lifecycle listener threw on ${event.key} ${event.from} → ${event.to}: ${
            error instanceof Error ? error.message : String(error)
          }`,
        ));
  }

  /** The current state; `uninstalled` for a key never seen. */
  state(key: string): LifecycleState {
    return this.states.get(key) ?? 'uninstalled';
  }

  /**
   * Moves `key` to `to`. Throws `invalid-argument` for a transition not in `TRANSITIONS` (and
   * changes nothing); otherwise persists the event, applies it and tells the listeners.
   */
  transition(key: string, to: LifecycleState, reason: string): LifecycleEvent {
    if (typeof key !== 'string' || key === '') {
      throw new AirssysError(
        'invalid-argument',
        'lifecycle key is empty: pass the instance key, e.g. "counter"',
        {
          details: { key },
        },
      );
    }
    if (!isLifecycleState(to)) {
      throw new AirssysError(
        'invalid-argument',
        `${key}: ${JSON.stringify(to)} is not a lifecycle state: use one of ${LIFECYCLE_STATES.join(', ')}`,
        { details: { key, to } },
      );
    }
    const from = this.state(key);
    if (!isLegalTransition(from, to)) {
      const legal = TRANSITIONS[from];
      throw new AirssysError(
        'invalid-argument',
        `${key}: cannot go from ${from} to ${to}: from ${from} the legal next states are ${legal.join(', ')}`,
        { details: { key, from, to, legal: [...legal] } },
      );
    }
    const event: LifecycleEvent = Object.freeze({ key, from, to, at: this.now(), reason: String(reason) });
    // Persist first: a transition the store refused must not be visible in memory either.
    this.persist?.(event);
    this.states.set(key, to);
    let history = this.histories.get(key);
    if (history === undefined) this.histories.set(key, (history = []));
    history.push(event);
    if (history.length > this.historyLimit) history.splice(0, history.length - this.historyLimit);
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        // Note: a faulty observer must not leave the machine half-notified or the caller
        // believing the transition failed — it did happen.
        this.onListenerError(error, event);
      }
    }
    return event;
  }

  /** Events of `key` in order, oldest first; the newest `limit` when given. */
  history(key: string, limit?: number): LifecycleEvent[] {
    const history = this.histories.get(key) ?? [];
    return limit === undefined ? [...history] : history.slice(Math.max(0, history.length - limit));
  }

  /** Every known key's current state. */
  snapshot(): Record<string, LifecycleState> {
    return Object.fromEntries(this.states);
  }

  /** Subscribes to every event; returns the unsubscribe function. */
  on(listener: LifecycleListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
