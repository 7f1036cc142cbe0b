/**
 * The run queue: actors with messages wait here and are drained in batches. One drain is started
 * by a single `queueMicrotask` (so a `tell` from outside the runtime is handled within the same
 * tick, without a Promise or timer per message) and then runs every ready actor, each for at most
 * `throughput` messages per turn so a hot actor cannot starve the others. After `sliceMs` of work
 * the drain yields to the event loop with `setImmediate`, so timers and I/O still run under load.
 */

/** What the scheduler needs from an actor. */
export interface Runnable {
  /** Set while the actor sits in the run queue, so it is queued at most once. */
  scheduled: boolean;
  /** Handles up to `budget` messages; re-schedules itself if it still has work. */
  runTurn(budget: number): void;
}

export interface SchedulerOptions {
  /** Messages one actor may handle per turn before the next ready actor runs (default 64). */
  throughput?: number;
  /** Milliseconds of continuous work before yielding to the event loop (default 4). */
  sliceMs?: number;
}

/** How many turns run between clock reads: `performance.now()` is too dear to call every turn. */
const CLOCK_EVERY = 64;

export class Scheduler {
  private queue: (Runnable | undefined)[] = new Array(1024);
  private head = 0;
  private tail = 0;
  private mask = 1023;
  private requested = false;
  private draining = false;
  readonly throughput: number;
  readonly sliceMs: number;
  private readonly drainFn = () => this.drain();

  constructor(options: SchedulerOptions = {}) {
    this.throughput = options.throughput ?? 64;
    this.sliceMs = options.sliceMs ?? 4;
  }

  schedule(actor: Runnable): void {
    if (actor.scheduled) return;
    actor.scheduled = true;
    this.queue[this.tail] = actor;
    this.tail = (this.tail + 1) & this.mask;
    if (this.tail === this.head) this.grow();
    if (!this.requested && !this.draining) {
      this.requested = true;
      queueMicrotask(this.drainFn);
    }
  }

  /** Actors waiting to run (for tests and diagnostics). */
  get pending(): number {
    return (this.tail - this.head) & this.mask;
  }

  private drain(): void {
    this.requested = false;
    this.draining = true;
    const start = performance.now();
    const budget = this.throughput;
    let turns = 0;
    try {
      while (this.head !== this.tail) {
        const actor = this.queue[this.head]!;
        this.queue[this.head] = undefined;
        this.head = (this.head + 1) & this.mask;
        actor.scheduled = false;
        actor.runTurn(budget);
        if (++turns % CLOCK_EVERY === 0 && performance.now() - start >= this.sliceMs) break;
      }
    } finally {
      this.draining = false;
      // Work left (sliced, or a bug threw past runTurn): continue after the event loop had a turn.
      if (this.head !== this.tail && !this.requested) {
        this.requested = true;
        setImmediate(this.drainFn);
      }
    }
  }

  private grow(): void {
    // Called when the ring just became full (tail caught head): unwrap into a buffer twice as big.
    const old = this.queue;
    const n = old.length;
    const next = new Array<Runnable | undefined>(n * 2);
    for (let k = 0; k < n; k++) next[k] = old[(this.head + k) & this.mask];
    this.queue = next;
    this.head = 0;
    this.tail = n;
    this.mask = n * 2 - 1;
  }
}
