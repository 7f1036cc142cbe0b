/**
 * OTP supervision. A supervisor is an actor whose behaviour is a `SupervisorCore`: it starts its
 * children in order, hears when a child's run ends, and applies its strategy:
 *
 * - `one-for-one`: restart the child that ended;
 * - `one-for-all`: end every other child (in reverse start order), then restart all, in order;
 * - `rest-for-one`: the same for the child that ended and those started after it.
 *
 * `permanent` children are always restarted, `transient` ones only after a failure, `temporary`
 * ones never (and are dropped when a sibling's failure ends them). More than `intensity` restarts
 * within `period` ms and the supervisor gives up: it ends all its children, emits `escalated`,
 * and fails itself, so its own supervisor applies its strategy one level up.
 *
 * Restarts reuse the child's cell, so refs stay valid and queued messages wait for the new run.
 * Exits are handled one at a time on a promise chain: a restart may wait on async `postStop`s
 * and a backoff, and two failures must not interleave their restarts.
 */

import { AirssysError } from '../shared/errors.js';
import { type ActorBehavior, type ExitReason, SHUTDOWN } from './actor.js';
import { type ActorCell, type ChildWatcher, RESOLVED } from './actor-cell.js';
import type { ActorRef } from './actor-ref.js';
import type { RestartType, ValidChildSpec, ValidSupervisorSpec } from './child-spec.js';
import { RestartWindow } from './restart-window.js';
import type { ActorSystem } from './system.js';

interface ChildEntry {
  readonly spec: ValidChildSpec;
  readonly cell: ActorCell;
}

export interface ChildInfo {
  readonly id: string;
  readonly ref: ActorRef;
  readonly restart: RestartType;
  /** Handling messages now (false between a failure and its restart, or while starting). */
  readonly running: boolean;
  readonly supervisor: boolean;
}

function describeReason(reason: ExitReason): string {
  if (reason.kind !== 'error') return reason.kind;
  return reason.error instanceof Error ? reason.error.message : String(reason.error);
}

export class SupervisorCore implements ActorBehavior, ChildWatcher {
  entries: ChildEntry[] = [];
  readonly window: RestartWindow;
  chain: Promise<void> = RESOLVED;
  cell!: ActorCell;
  private started = false;
  private escalating = false;

  constructor(
    readonly system: ActorSystem,
    readonly spec: ValidSupervisorSpec,
  ) {
    this.window = new RestartWindow(spec.intensity, spec.period);
  }

  attach(cell: ActorCell): void {
    this.cell = cell;
    cell.core = this;
  }

  /** Messages sent to a supervisor's ref are ignored: it is driven by its children's exits. */
  handle(): void {}

  /** Starts (or, after its own restart, restarts) every child in order. */
  preStart(): void {
    this.window.reset();
    this.escalating = false;
    const first = !this.started;
    this.started = true;
    const started: ChildEntry[] = [];
    let current: ValidChildSpec | undefined;
    try {
      if (first) {
        for (const spec of this.spec.children) {
          current = spec;
          const entry = this.spawnChild(spec);
          this.entries.push(entry);
          started.push(entry);
        }
      } else {
        for (const entry of this.entries.filter((e) => e.spec.restart === 'temporary')) this.remove(entry);
        for (const entry of this.entries) {
          current = entry.spec;
          entry.cell.startRun();
          started.push(entry);
          this.emitRestarted(entry, SHUTDOWN);
        }
      }
    } catch (error) {
      for (let k = started.length - 1; k >= 0; k--)
        void started[k].cell.endRun(SHUTDOWN, started[k].spec.shutdown);
      const message = error instanceof Error ? error.message : String(error);
      throw new AirssysError(
        'internal',
        `child '${current?.id}' of ${this.cell.describe()} failed to start: ${message}`,
        {
          cause: error,
          blame: 'guest',
          details: { childId: current?.id },
        },
      );
    }
  }

  /** Ends every child's run, newest first, each bounded by its own `shutdown`. */
  postStop(): Promise<void> | undefined {
    return this.endRuns(this.entries.slice(), SHUTDOWN, undefined);
  }

  finalizeChildren(): void {
    const entries = this.entries;
    this.entries = [];
    for (let k = entries.length - 1; k >= 0; k--) void entries[k].cell.terminate(SHUTDOWN, 'brutal-kill');
  }

  forget(cell: ActorCell): void {
    this.entries = this.entries.filter((e) => e.cell !== cell);
  }

  childExited(cell: ActorCell, reason: ExitReason): void {
    const run = cell.run;
    this.chain = this.chain
      .then(() => this.onExit(cell, run, reason))
      .catch((error: unknown) => {
        // A bug in the restart path must not leave children unsupervised: fail upward.
        this.cell.exitRun({ kind: 'error', error });
      });
  }

  private async onExit(cell: ActorCell, run: number, reason: ExitReason): Promise<void> {
    if (!this.cell.isRunning() || this.escalating) return;
    const index = this.entries.findIndex((e) => e.cell === cell);
    // Stale: the child was removed, or another exit already restarted it (one-for-all).
    if (index < 0 || cell.run !== run || !cell.live) return;
    const entry = this.entries[index];
    const restart = entry.spec.restart;
    if (
      restart === 'temporary' ||
      (restart === 'transient' && reason.kind !== 'error' && reason.kind !== 'killed')
    ) {
      this.entries.splice(index, 1);
      await cell.terminate(reason, entry.spec.shutdown);
      return;
    }
    if (!this.window.record(Date.now())) {
      await this.escalate(entry, reason);
      return;
    }
    const strategy = this.spec.strategy;
    const targets =
      strategy === 'one-for-one'
        ? [entry]
        : strategy === 'one-for-all'
          ? this.entries.slice()
          : this.entries.slice(index);
    await this.endRuns(targets, SHUTDOWN, { entry, reason });
    // OTP drops temporary children that a sibling's failure ended.
    for (const t of targets) if (t !== entry && t.spec.restart === 'temporary') this.remove(t);
    const delay = this.backoffDelay();
    if (delay > 0) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (!this.cell.isRunning() || this.escalating) return;
    }
    for (const t of targets) {
      if (!this.entries.includes(t) || t.cell.live) continue;
      try {
        t.cell.startRun();
      } catch (error) {
        // Counts as another failure of that child (and toward the intensity).
        this.emitRestarted(t, reason);
        t.cell.exitRun({ kind: 'error', error });
        continue;
      }
      this.emitRestarted(t, reason);
    }
  }

  private async escalate(entry: ChildEntry, reason: ExitReason): Promise<void> {
    this.escalating = true;
    const { intensity, period } = this.spec;
    const error = new AirssysError(
      'internal',
      `${this.cell.describe()} gave up: more than ${intensity} restarts within ${period} ms; ` +
        `last, child '${entry.spec.id}' exited: ${describeReason(reason)}`,
      {
        cause: reason.kind === 'error' ? reason.error : undefined,
        blame: 'guest',
        details: { intensity, period, childId: entry.spec.id },
      },
    );
    const escalated: ExitReason = { kind: 'error', error };
    const system = this.system;
    if (system.events.active) {
      system.events.emit({
        type: 'escalated',
        ref: this.cell.ref,
        name: this.cell.name,
        childId: this.cell.childId,
        at: Date.now(),
        reason: escalated,
      });
    }
    await this.endRuns(this.entries.slice(), SHUTDOWN, { entry, reason });
    this.cell.exitRun(escalated);
  }

  /** Ends the runs of `targets` newest first, one at a time; `failed` gets its own reason. */
  private endRuns(
    targets: ChildEntry[],
    other: ExitReason,
    failed: { entry: ChildEntry; reason: ExitReason } | undefined,
  ): Promise<void> | undefined {
    for (let k = targets.length - 1; k >= 0; k--) {
      const t = targets[k];
      const ended = t.cell.endRun(t === failed?.entry ? failed.reason : other, t.spec.shutdown);
      if (ended !== undefined) return ended.then(() => this.endRuns(targets.slice(0, k), other, failed));
    }
    return undefined;
  }

  private backoffDelay(): number {
    const backoff = this.spec.backoff;
    if (backoff === undefined) return 0;
    return Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** Math.max(0, this.window.count - 1));
  }

  private spawnChild(spec: ValidChildSpec): ChildEntry {
    const nested = spec.supervisor
      ? new SupervisorCore(this.system, spec.start as ValidSupervisorSpec)
      : undefined;
    const cell = this.system.spawnCell(
      nested ?? (spec.start as ActorBehavior),
      { name: spec.name, mailbox: spec.mailbox, shutdown: spec.shutdown },
      null,
      (c) => {
        c.supervisor = this;
        c.childId = spec.id;
        nested?.attach(c);
      },
    );
    return { spec, cell };
  }

  private remove(entry: ChildEntry): void {
    this.entries = this.entries.filter((e) => e !== entry);
    void entry.cell.terminate(SHUTDOWN, 'brutal-kill');
  }

  private emitRestarted(entry: ChildEntry, reason: ExitReason): void {
    const system = this.system;
    if (!system.events.active) return;
    const cell = entry.cell;
    system.events.emit({
      type: 'restarted',
      ref: cell.ref,
      name: cell.name,
      childId: cell.childId,
      at: Date.now(),
      reason,
      restarts: this.window.count,
    });
  }
}

/**
 * A handle on a running supervisor.
 *
 * @example
 * const sup = system.startSupervisor({ strategy: 'one-for-one', children: [{ id: 'w', start: worker }] });
 * sup.child('w')!.tell('work');
 * await sup.stop();
 */
export class Supervisor {
  constructor(
    private readonly core: SupervisorCore,
    readonly ref: ActorRef,
  ) {}

  /** Children in start order. */
  children(): ChildInfo[] {
    return this.core.entries.map((e) => ({
      id: e.spec.id,
      ref: e.cell.ref,
      restart: e.spec.restart,
      running: e.cell.isRunning(),
      supervisor: e.spec.supervisor,
    }));
  }

  /** The ref of child `id` (stable across its restarts), if the supervisor still has it. */
  child<M = any>(id: string): ActorRef<M> | undefined {
    return this.core.entries.find((e) => e.spec.id === id)?.cell.ref;
  }

  /** The handle of a nested supervisor child. */
  childSupervisor(id: string): Supervisor | undefined {
    const entry = this.core.entries.find((e) => e.spec.id === id);
    const core = entry?.cell.core;
    return core instanceof SupervisorCore ? new Supervisor(core, entry!.cell.ref) : undefined;
  }

  get alive(): boolean {
    return this.ref.alive;
  }

  /** Resolves once every exit reported so far has been handled (restarts done, backoffs waited). */
  async settled(): Promise<void> {
    let chain: Promise<void>;
    do {
      chain = this.core.chain;
      await chain;
    } while (chain !== this.core.chain);
  }

  /** Stops the supervisor: children newest first (each within its `shutdown`), then itself. */
  stop(): Promise<void> {
    return this.core.system.stop(this.ref);
  }
}
