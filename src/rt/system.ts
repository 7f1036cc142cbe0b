/**
 * The actor system: the composition root of this layer. It owns the scheduler, the local
 * transport, the registry, the broker and the lifecycle events, and is where actors and
 * supervisors are spawned and stopped.
 */

import { AirssysError } from '../shared/errors.js';
import type { ActorBehavior, BehaviorSource, ExitReason, Shutdown, SpawnOptions } from './actor.js';
import { checkShutdown, SHUTDOWN } from './actor.js';
import { ActorCell } from './actor-cell.js';
import type { ActorRef } from './actor-ref.js';
import { Broker } from './broker.js';
import { type SupervisorSpec, validateSupervisorSpec } from './child-spec.js';
import { EventHub, type LifecycleListener } from './events.js';
import { LocalTransport } from './local-transport.js';
import { checkMailbox, Mailbox, type MailboxOptions } from './mailbox.js';
import { Registry } from './registry.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';
import { Supervisor, SupervisorCore } from './supervisor.js';

export interface ActorSystemOptions extends SchedulerOptions {
  /** Mailbox settings for actors that do not declare their own. */
  mailbox?: MailboxOptions;
}

const GUARDIAN: ActorBehavior = { handle() {} };

/**
 * A running set of actors.
 *
 * @example
 * import { ActorSystem } from 'airssys-wasm/rt';
 * const system = new ActorSystem();
 * const counter = system.spawn({
 *   init: () => ({ n: 0 }),
 *   handle(msg: 'inc' | 'get', ctx) {
 *     if (msg === 'inc') ctx.state.n++;
 *     else ctx.reply(ctx.state.n);
 *   },
 * });
 * counter.tell('inc');
 * console.log(await counter.ask('get')); // 1
 * await system.shutdown();
 */
export class ActorSystem {
  readonly transport = new LocalTransport();
  readonly scheduler: Scheduler;
  readonly registry = new Registry();
  readonly events = new EventHub();
  readonly broker: Broker;
  private nextId = 1;
  private readonly defaultCapacity: number;
  private readonly defaultDropOldest: boolean;
  /** Parent of every top-level actor, so `shutdown` can find them all. */
  private readonly guardian: ActorCell;

  constructor(options: ActorSystemOptions = {}) {
    this.scheduler = new Scheduler(options);
    const mailbox = checkMailbox(options.mailbox, 'mailbox');
    this.defaultCapacity = mailbox.capacity;
    this.defaultDropOldest = mailbox.dropOldest;
    this.guardian = new ActorCell(this, 0, GUARDIAN, new Mailbox(1, false), null, undefined);
    this.guardian.startRun();
    this.broker = new Broker((ref, unsubscribe) => {
      if (ref.transport === this.transport) (ref.target as ActorCell).addCleanup(unsubscribe);
    });
  }

  /** Starts an actor; `preStart` runs before this returns (a synchronous throw fails the spawn). */
  spawn<M = any, S = any>(behavior: BehaviorSource<M, S>, options?: SpawnOptions): ActorRef<M> {
    return this.spawnCell(behavior, options, this.guardian).ref;
  }

  /**
   * Starts a supervisor and its children, in order. Throws `invalid-argument` naming the field
   * when the spec is malformed, before anything starts.
   */
  startSupervisor(spec: SupervisorSpec, options: { name?: string } = {}): Supervisor {
    const normalized = validateSupervisorSpec(spec);
    const core = new SupervisorCore(this, normalized);
    const cell = this.spawnCell(core, { name: options.name, shutdown: 'infinity' }, this.guardian, (c) =>
      core.attach(c),
    );
    return new Supervisor(core, cell.ref);
  }

  /**
   * Stops an actor for good: its children, then `postStop` (bounded by `shutdown`, default the
   * actor's own). Stopping a supervised child removes it from its supervisor. Idempotent.
   */
  stop(ref: ActorRef, options: { shutdown?: Shutdown } = {}): Promise<void> {
    const cell = this.localCell(ref, 'stop');
    return cell.terminate(SHUTDOWN, options.shutdown ?? cell.shutdown);
  }

  /** Resolves with the exit reason once `ref` stops for good (at once if it already has). */
  watch(ref: ActorRef): Promise<ExitReason> {
    const cell = this.localCell(ref, 'watch');
    return new Promise((resolve) => cell.addWatcher(resolve));
  }

  /** Listens to lifecycle events; returns the function that stops listening. */
  onEvent(listener: LifecycleListener): () => void {
    return this.events.on(listener);
  }

  /** Binds a name to a ref; throws `invalid-argument` on a clash. */
  register(name: string, ref: ActorRef): void {
    this.registry.register(name, ref);
    if (ref.transport === this.transport) {
      (ref.target as ActorCell).addCleanup(() => this.registry.unregister(name, ref));
    }
  }

  lookup<M = any>(name: string): ActorRef<M> | undefined {
    return this.registry.lookup(name);
  }

  /** Like `lookup`, but throws `not-found`. */
  resolve<M = any>(name: string): ActorRef<M> {
    return this.registry.resolve(name);
  }

  /** Stops every actor, newest first, and waits for them. */
  async shutdown(): Promise<void> {
    let child = this.guardian.firstChild;
    while (child !== null) {
      await child.terminate(SHUTDOWN, child.shutdown);
      child = this.guardian.firstChild;
    }
  }

  /** @internal Spawns under `parent` (`null` for supervised children); `setup` runs before the start. */
  spawnCell(
    source: BehaviorSource,
    options: SpawnOptions | undefined,
    parent: ActorCell | null,
    setup?: (cell: ActorCell) => void,
  ): ActorCell {
    if (
      typeof source !== 'function' &&
      (typeof source !== 'object' || source === null || typeof source.handle !== 'function')
    ) {
      throw new AirssysError(
        'invalid-argument',
        'behavior: expected an object with a handle(message, ctx) method, or a factory returning one',
      );
    }
    let mailbox: Mailbox;
    if (options === undefined) {
      mailbox = new Mailbox(this.defaultCapacity, this.defaultDropOldest);
    } else {
      if (options.name !== undefined) this.registry.checkFree(options.name);
      if (options.shutdown !== undefined) checkShutdown(options.shutdown, 'shutdown');
      const m = options.mailbox === undefined ? null : checkMailbox(options.mailbox, 'mailbox');
      mailbox =
        m === null
          ? new Mailbox(this.defaultCapacity, this.defaultDropOldest)
          : new Mailbox(m.capacity, m.dropOldest);
    }
    const cell = new ActorCell(this, this.nextId++, source, mailbox, parent, options);
    if (setup !== undefined) setup(cell);
    if (cell.name !== undefined) this.registry.register(cell.name, cell.ref);
    try {
      cell.startRun();
    } catch (error) {
      cell.abort();
      throw error;
    }
    if (this.events.active) {
      this.events.emit({
        type: 'started',
        ref: cell.ref,
        name: cell.name,
        childId: cell.childId,
        at: Date.now(),
      });
    }
    return cell;
  }

  /** @internal The cell behind a local ref; `invalid-argument` for refs of other transports. */
  localCell(ref: ActorRef, operation: string): ActorCell {
    if (ref === null || typeof ref !== 'object' || ref.transport !== this.transport) {
      throw new AirssysError(
        'invalid-argument',
        `${operation}: expected a ref to an actor of this system, got ${String(ref)}`,
      );
    }
    return ref.target as ActorCell;
  }
}
