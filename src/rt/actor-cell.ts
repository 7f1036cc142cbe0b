/**
 * The runtime record behind one actor: its mailbox, its current run (behaviour + state), its
 * place in the tree, and the links and monitors that learn of its end. The cell doubles as the
 * `ActorContext` handed to the behaviour, so a spawn allocates three objects (cell, ref, mailbox)
 * and a message none. Fields are all set in the constructor so every cell has one hidden class.
 *
 * A cell outlives restarts: the supervisor ends a run (`endRun`: children, then `postStop`) and
 * starts another (`startRun`: `init`, then `preStart`) on the same cell, so refs and queued
 * messages survive. `stop` ends the last run and `finalize`s the cell; its ref then answers
 * `not-found`.
 */

import { AirssysError } from '../shared/errors.js';
import {
  type ActorBehavior,
  type ActorContext,
  type BehaviorSource,
  type DownSignal,
  type ExitReason,
  type ExitSignal,
  isAbnormal,
  KILLED,
  NORMAL,
  SHUTDOWN,
  type Shutdown,
  type SpawnOptions,
} from './actor.js';
import { ActorRef } from './actor-ref.js';
import { rejectAsk } from './local-transport.js';
import type { Mailbox } from './mailbox.js';
import type { Runnable } from './scheduler.js';
import type { ActorSystem } from './system.js';

/** Handles messages. */
const RUNNING = 0;
/** Waiting for an async `preStart`; messages queue. */
const STARTING = 1;
/** Between runs (crashed, exited, or ended by its supervisor); messages queue. */
const SUSPENDED = 2;
/** Ending for good; `tell` answers `not-found`. */
const STOPPING = 3;
const STOPPED = 4;

export const RESOLVED: Promise<void> = Promise.resolve();

/** What a supervisor hears from a child whose run ended on its own. */
export interface ChildWatcher {
  childExited(cell: ActorCell, reason: ExitReason): void;
  /** The child was stopped for good (e.g. `system.stop(ref)`): drop it. */
  forget(cell: ActorCell): void;
  /** The cell is the supervisor itself and is being finalized: finalize its children. */
  finalizeChildren?(): void;
}

type Watcher = ActorCell | ((reason: ExitReason) => void);

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== undefined && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * Fields most actors never use, kept out of the cell until first written: an idle actor's size
 * drives spawn cost (every retained byte is copied by the young-generation GC) and memory.
 */
class CellExtras {
  name: string | undefined = undefined;
  childId: string | undefined = undefined;
  trapExit = false;
  shutdown: Shutdown = 5000;
  supervisor: ChildWatcher | null = null;
  core: ChildWatcher | null = null;
  links: ActorCell[] | null = null;
  watchers: Watcher[] | null = null;
  cleanups: (() => void)[] | null = null;
  stopping: Promise<void> | null = null;
  exitReason: ExitReason | null = null;
}

export class ActorCell implements ActorContext, Runnable {
  readonly ref: ActorRef;
  readonly system: ActorSystem;
  readonly mailbox: Mailbox;
  source: BehaviorSource | null;
  behavior: ActorBehavior | null = null;
  state: any = undefined;
  status = SUSPENDED;
  /** Counts runs; async continuations of an older run compare it and stand down. */
  run = 0;
  /** True from `startRun` until `endRun`: a `postStop` is owed. */
  live = false;
  scheduled = false;
  /** An async `handle` is in flight. */
  busy = false;
  stopRequested = false;
  sender: ActorRef | null = null;
  parent: ActorCell | null;
  // Plain (unsupervised) children as an intrusive list, newest first: O(1) add/remove and no
  // per-parent Set, which matters when a million actors hang off the guardian.
  firstChild: ActorCell | null = null;
  prevSibling: ActorCell | null = null;
  nextSibling: ActorCell | null = null;
  private ext: CellExtras | null = null;

  constructor(
    system: ActorSystem,
    id: number,
    source: BehaviorSource,
    mailbox: Mailbox,
    parent: ActorCell | null,
    options: SpawnOptions | undefined,
  ) {
    this.system = system;
    this.source = source;
    this.mailbox = mailbox;
    this.parent = parent;
    if (options !== undefined) {
      if (options.name !== undefined) this.extras().name = options.name;
      if (options.trapExit === true) this.extras().trapExit = true;
      if (options.shutdown !== undefined) this.extras().shutdown = options.shutdown;
    }
    this.ref = new ActorRef(id, system.transport, this);
    if (parent !== null) {
      const first = parent.firstChild;
      this.nextSibling = first;
      if (first !== null) first.prevSibling = this;
      parent.firstChild = this;
    }
  }

  private extras(): CellExtras {
    if (this.ext === null) this.ext = new CellExtras();
    return this.ext;
  }

  get id(): number {
    return this.ref.id;
  }
  get name(): string | undefined {
    return this.ext?.name;
  }
  get trapExit(): boolean {
    return this.ext?.trapExit === true;
  }
  get shutdown(): Shutdown {
    return this.ext === null ? 5000 : this.ext.shutdown;
  }
  /** Child id in its supervisor, when supervised. */
  get childId(): string | undefined {
    return this.ext?.childId;
  }
  set childId(value: string | undefined) {
    this.extras().childId = value;
  }
  /** The supervisor of this cell, when supervised; `null` for plain actors. */
  get supervisor(): ChildWatcher | null {
    return this.ext === null ? null : this.ext.supervisor;
  }
  set supervisor(value: ChildWatcher | null) {
    this.extras().supervisor = value;
  }
  /** This cell's own supervision logic, when it is a supervisor. */
  get core(): ChildWatcher | null {
    return this.ext === null ? null : this.ext.core;
  }
  set core(value: ChildWatcher | null) {
    this.extras().core = value;
  }
  get links(): ActorCell[] | null {
    return this.ext === null ? null : this.ext.links;
  }
  set links(value: ActorCell[] | null) {
    if (value !== null || this.ext !== null) this.extras().links = value;
  }
  get watchers(): Watcher[] | null {
    return this.ext === null ? null : this.ext.watchers;
  }
  set watchers(value: Watcher[] | null) {
    if (value !== null || this.ext !== null) this.extras().watchers = value;
  }
  get cleanups(): (() => void)[] | null {
    return this.ext === null ? null : this.ext.cleanups;
  }
  set cleanups(value: (() => void)[] | null) {
    if (value !== null || this.ext !== null) this.extras().cleanups = value;
  }
  get stopping(): Promise<void> | null {
    return this.ext === null ? null : this.ext.stopping;
  }
  set stopping(value: Promise<void> | null) {
    if (value !== null || this.ext !== null) this.extras().stopping = value;
  }
  /** Why the actor stopped (kept after the end, for late monitors). */
  get exitReason(): ExitReason | null {
    return this.ext === null ? null : this.ext.exitReason;
  }
  set exitReason(value: ExitReason | null) {
    // Note: the common reasons are shared singletons; only keep extras for the others.
    if (value !== null || this.ext !== null) this.extras().exitReason = value;
  }

  get self(): ActorRef {
    return this.ref;
  }

  // ---- messages -------------------------------------------------------------------------

  enqueue(message: unknown, sender: ActorRef | null): void {
    if (this.status >= STOPPING) {
      throw new AirssysError('not-found', `${this.describe()} has stopped; the message was not delivered`, {
        details: { actor: this.id },
      });
    }
    if (!this.mailbox.push(message, sender)) {
      throw new AirssysError(
        'mailbox-full',
        `${this.describe()} has ${this.mailbox.capacity} messages waiting; retry later or raise its mailbox capacity`,
        { details: { actor: this.id, capacity: this.mailbox.capacity } },
      );
    }
    if (this.status === RUNNING && !this.busy) this.system.scheduler.schedule(this);
  }

  /** Queues a system signal past the capacity (see `Mailbox.forcePush`). */
  signal(message: DownSignal | ExitSignal): void {
    if (this.status >= STOPPING) return;
    this.mailbox.forcePush(message, null);
    if (this.status === RUNNING && !this.busy) this.system.scheduler.schedule(this);
  }

  runTurn(budget: number): void {
    if (this.status !== RUNNING || this.busy) return;
    const behavior = this.behavior!;
    const mailbox = this.mailbox;
    let handled = 0;
    while (mailbox.size > 0) {
      if (handled === budget) {
        this.system.scheduler.schedule(this);
        return;
      }
      const message = mailbox.shift();
      const sender = mailbox.lastSender;
      this.sender = sender;
      handled++;
      let result: unknown;
      try {
        result = behavior.handle(message, this);
      } catch (error) {
        this.crash(error, sender);
        return;
      }
      if (result !== undefined && isThenable(result)) {
        this.awaitHandler(result);
        return;
      }
      if (this.stopRequested) {
        this.exitRun(NORMAL);
        return;
      }
      // The handler may have stopped or failed this actor by other paths (a link, system.stop).
      if (this.status !== RUNNING) return;
    }
    this.sender = null;
  }

  private awaitHandler(result: PromiseLike<unknown>): void {
    this.busy = true;
    const run = this.run;
    result.then(
      () => {
        if (this.run !== run || this.status !== RUNNING) return;
        this.busy = false;
        this.sender = null;
        if (this.stopRequested) this.exitRun(NORMAL);
        else if (this.mailbox.size > 0) this.system.scheduler.schedule(this);
      },
      (error: unknown) => {
        if (this.run !== run || this.status !== RUNNING) return;
        this.busy = false;
        this.crash(error, this.sender);
      },
    );
  }

  /** The current run failed: the asker (if any) learns why, then the run ends abnormally. */
  crash(error: unknown, sender: ActorRef | null): void {
    this.sender = null;
    if (sender !== null) {
      rejectAsk(
        sender,
        error instanceof AirssysError
          ? error
          : new AirssysError(
              'messaging-error',
              `${this.describe()} failed while handling the request: ${error instanceof Error ? error.message : String(error)}`,
              { cause: error, blame: 'guest' },
            ),
      );
    }
    this.exitRun({ kind: 'error', error });
  }

  /** The run ended on its own (crash or `ctx.stop()`): the supervisor decides, or the actor stops. */
  exitRun(reason: ExitReason): void {
    if (this.status >= STOPPING) return;
    this.status = SUSPENDED;
    this.busy = false;
    if (this.supervisor !== null) this.supervisor.childExited(this, reason);
    else void this.terminate(reason, this.shutdown);
  }

  // ---- runs -----------------------------------------------------------------------------

  /** Starts a run: a fresh behaviour/state, then `preStart`. A synchronous throw propagates. */
  startRun(): void {
    this.run++;
    const source = this.source!;
    const behavior = typeof source === 'function' ? source() : source;
    this.behavior = behavior;
    this.stopRequested = false;
    this.busy = false;
    this.sender = null;
    this.live = true;
    this.status = STARTING;
    this.state = behavior.init === undefined ? undefined : behavior.init();
    if (behavior.preStart !== undefined) {
      const result = behavior.preStart(this);
      if (isThenable(result)) {
        const run = this.run;
        result.then(
          () => {
            if (this.run === run && this.status === STARTING) this.becomeRunning();
          },
          (error: unknown) => {
            if (this.run === run && this.status === STARTING) this.crash(error, null);
          },
        );
        return;
      }
    }
    this.becomeRunning();
  }

  private becomeRunning(): void {
    this.status = RUNNING;
    if (this.stopRequested) this.exitRun(NORMAL);
    else if (this.mailbox.size > 0) this.system.scheduler.schedule(this);
  }

  /**
   * Ends the current run: plain children first (newest first), then `postStop`, bounded by
   * `shutdown`. Returns a promise only when something was asynchronous.
   */
  endRun(reason: ExitReason, shutdown: Shutdown): Promise<void> | undefined {
    if (!this.live) return undefined;
    this.live = false;
    this.busy = false;
    // An async handler still in flight will never reply: its asker learns now.
    if (this.sender !== null) rejectAsk(this.sender, this.goneError());
    this.sender = null;
    if (this.status < STOPPING) this.status = SUSPENDED;
    const children = this.firstChild === null ? undefined : this.stopChildren(shutdown === 'brutal-kill');
    if (children === undefined) return this.runPostStop(reason, shutdown);
    return children.then(() => this.runPostStop(reason, shutdown));
  }

  private stopChildren(brutal: boolean): Promise<void> | undefined {
    let child = this.firstChild;
    while (child !== null) {
      const next = child.nextSibling;
      const done = child.terminate(SHUTDOWN, brutal ? 'brutal-kill' : child.shutdown);
      // Children stop one at a time, like OTP; an asynchronous one makes the rest wait for it.
      if (done !== RESOLVED) return done.then(() => this.stopChildren(brutal));
      child = next;
    }
    return undefined;
  }

  private runPostStop(reason: ExitReason, shutdown: Shutdown): Promise<void> | undefined {
    const behavior = this.behavior;
    if (behavior === null || behavior.postStop === undefined || shutdown === 'brutal-kill') return undefined;
    let result: unknown;
    try {
      result = behavior.postStop(this, reason);
    } catch {
      // Note: a failing postStop must not keep the actor (or its supervisor's restart) from going on.
      return undefined;
    }
    if (!isThenable(result)) return undefined;
    const settled = Promise.resolve(result).then(
      () => {},
      () => {},
    );
    if (shutdown === 'infinity') return settled;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        // Out of time: the run is cut off, as OTP kills a child that overruns its shutdown.
        this.exitReason = KILLED;
        resolve();
      }, shutdown);
      void settled.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  // ---- stopping for good ----------------------------------------------------------------

  /** Ends the actor for good; resolves when it is finalized (`RESOLVED` when that was synchronous). */
  terminate(reason: ExitReason, shutdown: Shutdown): Promise<void> {
    if (this.status === STOPPED) return RESOLVED;
    if (this.stopping !== null) return this.stopping;
    this.status = STOPPING;
    const ended = this.endRun(reason, shutdown);
    if (ended === undefined) {
      this.finalize(reason);
      return RESOLVED;
    }
    this.stopping = ended.then(() => this.finalize(reason));
    return this.stopping;
  }

  private finalize(reason: ExitReason): void {
    if (this.exitReason === KILLED) reason = KILLED;
    this.status = STOPPED;
    // `exitReason ?? SHUTDOWN` is how it is read, so the common case needs no extras object.
    if (reason !== SHUTDOWN || this.ext !== null) this.exitReason = reason;
    this.core?.finalizeChildren?.();
    const system = this.system;
    // Messages nobody will handle: an asker waiting on one learns so now, not at its timeout.
    if (this.mailbox.size > 0) {
      this.mailbox.drain((_message, sender) => {
        if (sender !== null) rejectAsk(sender, this.goneError());
      });
    }
    const parent = this.parent;
    if (parent !== null) {
      if (this.prevSibling !== null) this.prevSibling.nextSibling = this.nextSibling;
      else if (parent.firstChild === this) parent.firstChild = this.nextSibling;
      if (this.nextSibling !== null) this.nextSibling.prevSibling = this.prevSibling;
      this.prevSibling = this.nextSibling = this.parent = null;
    }
    if (this.name !== undefined) system.registry.unregister(this.name, this.ref);
    if (this.supervisor !== null) this.supervisor.forget(this);
    if (this.cleanups !== null) for (const cleanup of this.cleanups) cleanup();
    if (this.watchers !== null) {
      for (const watcher of this.watchers) {
        if (typeof watcher === 'function') watcher(reason);
        else watcher.signal({ type: 'down', ref: this.ref, reason });
      }
    }
    if (this.links !== null) {
      for (const peer of this.links) {
        peer.links = peer.links!.filter((c) => c !== this);
        if (isAbnormal(reason)) peer.linkedExit(this.ref, reason);
      }
    }
    this.links = this.watchers = this.cleanups = null;
    this.behavior = this.source = null;
    this.state = undefined;
    if (system.events.active) {
      system.events.emit({
        type: 'stopped',
        ref: this.ref,
        name: this.name,
        childId: this.childId,
        at: Date.now(),
        reason,
      });
    }
  }

  private linkedExit(from: ActorRef, reason: ExitReason): void {
    if (this.status >= STOPPING) return;
    if (this.trapExit) {
      this.signal({ type: 'exit', ref: from, reason });
      return;
    }
    // Note: deferred, so a peer failing does not unwind through the stack of whatever is
    // finalizing the other actor (possibly this actor's own handler).
    queueMicrotask(() => {
      if (this.status === RUNNING || this.status === STARTING) this.exitRun(reason);
    });
  }

  /** Stops a cell that failed to start: no `postStop` (its `preStart` did not finish). */
  abort(): void {
    this.live = false;
    this.status = STOPPING;
    this.finalize(SHUTDOWN);
  }

  isAlive(): boolean {
    return this.status < STOPPING;
  }

  isRunning(): boolean {
    return this.status === RUNNING;
  }

  describe(): string {
    return this.name === undefined ? `actor #${this.id}` : `actor #${this.id} ('${this.name}')`;
  }

  private goneError(): AirssysError {
    return new AirssysError('not-found', `${this.describe()} stopped before answering the request`, {
      details: { actor: this.id },
    });
  }

  // ---- ActorContext ---------------------------------------------------------------------

  reply(value: unknown): void {
    const sender = this.sender;
    if (sender === null) {
      throw new AirssysError(
        'invalid-argument',
        `${this.describe()} cannot reply: the message has no sender`,
      );
    }
    sender.tell(value, this.ref);
  }

  spawn(behavior: BehaviorSource, options?: SpawnOptions): ActorRef {
    return this.system.spawnCell(behavior, options, this).ref;
  }

  stop(): void {
    this.stopRequested = true;
    // Called outside a handler (a timer holding ctx): nothing else would notice the request.
    const run = this.run;
    queueMicrotask(() => {
      if (this.run === run && this.stopRequested && this.status === RUNNING && !this.busy)
        this.exitRun(NORMAL);
    });
  }

  monitor(ref: ActorRef): void {
    this.system.localCell(ref, 'monitor').addWatcher(this);
  }

  demonitor(ref: ActorRef): void {
    const target = this.system.localCell(ref, 'demonitor');
    if (target.watchers !== null) target.watchers = target.watchers.filter((w) => w !== this);
  }

  link(ref: ActorRef): void {
    const peer = this.system.localCell(ref, 'link');
    if (peer === this) return;
    if (peer.status === STOPPED) {
      this.linkedExit(peer.ref, peer.exitReason ?? SHUTDOWN);
      return;
    }
    if (this.links === null) this.links = [];
    if (!this.links.includes(peer)) this.links.push(peer);
    if (peer.links === null) peer.links = [];
    if (!peer.links.includes(this)) peer.links.push(this);
  }

  unlink(ref: ActorRef): void {
    const peer = this.system.localCell(ref, 'unlink');
    if (this.links !== null) this.links = this.links.filter((c) => c !== peer);
    if (peer.links !== null) peer.links = peer.links.filter((c) => c !== this);
  }

  /** Adds a monitor; one added after the end fires at once with the recorded reason. */
  addWatcher(watcher: Watcher): void {
    if (this.status === STOPPED) {
      const reason = this.exitReason ?? SHUTDOWN;
      if (typeof watcher === 'function') watcher(reason);
      else watcher.signal({ type: 'down', ref: this.ref, reason });
      return;
    }
    if (this.watchers === null) this.watchers = [];
    this.watchers.push(watcher);
  }

  addCleanup(cleanup: () => void): void {
    if (this.cleanups === null) this.cleanups = [];
    this.cleanups.push(cleanup);
  }
}
