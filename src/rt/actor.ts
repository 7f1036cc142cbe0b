/**
 * What an actor is to its author: a behaviour (`handle`, optional `init`, `preStart`, `postStop`)
 * plus state, and the context it is handed while running. The machinery behind it lives in
 * `actor-cell.ts`; this file is the contract.
 */

import { AirssysError } from '../shared/errors.js';
import type { ActorRef } from './actor-ref.js';
import type { MailboxOptions } from './mailbox.js';

/** Why an actor's run ended. `normal` and `shutdown` are expected; the others are failures. */
export type ExitReason =
  | { readonly kind: 'normal' }
  | { readonly kind: 'shutdown' }
  | { readonly kind: 'killed' }
  | { readonly kind: 'error'; readonly error: unknown };

export const NORMAL: ExitReason = Object.freeze({ kind: 'normal' });
export const SHUTDOWN: ExitReason = Object.freeze({ kind: 'shutdown' });
export const KILLED: ExitReason = Object.freeze({ kind: 'killed' });

/** True for reasons that are failures (a `transient` child is restarted only after those). */
export function isAbnormal(reason: ExitReason): boolean {
  return reason.kind === 'error' || reason.kind === 'killed';
}

/** How long a stopping actor's `postStop` may take: `brutal-kill` skips it, a number waits that long. */
export type Shutdown = 'brutal-kill' | 'infinity' | number;

/**
 * An actor's code. One behaviour object may be shared by any number of actors: per-actor data
 * lives in `ctx.state`, which `init` creates afresh on every start and restart.
 *
 * @example
 * const counter: ActorBehavior<{ add: number } | 'get', { n: number }> = {
 *   init: () => ({ n: 0 }),
 *   handle(msg, ctx) {
 *     if (msg === 'get') ctx.reply(ctx.state.n);
 *     else ctx.state.n += msg.add;
 *   },
 * };
 */
export interface ActorBehavior<M = any, S = any> {
  /** Creates the state; called before `preStart` on every (re)start. */
  init?(): S;
  /**
   * Handles one message. Synchronous by default; when it returns a promise the actor takes its
   * next message only after that promise settles, and a rejection is a failure like a throw.
   */
  handle(message: M, ctx: ActorContext<M, S>): void | PromiseLike<void>;
  /** Runs before the first message of each (re)start; a throw or rejection is a failure. */
  preStart?(ctx: ActorContext<M, S>): void | PromiseLike<void>;
  /** Runs when a run ends (stop or before a restart); bounded by the actor's `shutdown`. */
  postStop?(ctx: ActorContext<M, S>, reason: ExitReason): void | PromiseLike<void>;
}

/** A behaviour, or a factory called on every (re)start for behaviours that keep state in fields. */
export type BehaviorSource<M = any, S = any> = ActorBehavior<M, S> | (() => ActorBehavior<M, S>);

export interface SpawnOptions {
  /** Registers the actor under this name (unique in the system) until it stops. */
  name?: string;
  mailbox?: MailboxOptions;
  /**
   * When true, a linked actor's abnormal exit arrives as an {@link ExitSignal} message instead of
   * failing this actor (Erlang's `trap_exit`).
   */
  trapExit?: boolean;
  /** Bound on `postStop` when stopped (default 5000 ms, OTP's default for workers). */
  shutdown?: Shutdown;
}

/** Delivered to a monitoring actor when the actor it monitors stops for good. */
export interface DownSignal {
  readonly type: 'down';
  readonly ref: ActorRef;
  readonly reason: ExitReason;
}

/** Delivered to a linked actor that traps exits when its peer stops abnormally. */
export interface ExitSignal {
  readonly type: 'exit';
  readonly ref: ActorRef;
  readonly reason: ExitReason;
}

/** What a running actor can do; handed to `handle`, `preStart` and `postStop`. */
export interface ActorContext<M = any, S = any> {
  /** This actor's own ref (stable across restarts). */
  readonly self: ActorRef<M>;
  /** Per-run state from `init`; mutate it or assign a new value. */
  state: S;
  /** Sender of the message being handled (`null` when sent without one). */
  readonly sender: ActorRef | null;
  /** Answers the message being handled: resolves an `ask`, or tells the sender. */
  reply(value: unknown): void;
  /** Spawns a child that stops when this actor stops. */
  spawn<M2, S2>(behavior: BehaviorSource<M2, S2>, options?: SpawnOptions): ActorRef<M2>;
  /** Ends this actor's run with reason `normal` once the current message is handled. */
  stop(): void;
  /** Asks for a {@link DownSignal} message when `ref` stops for good. */
  monitor(ref: ActorRef): void;
  demonitor(ref: ActorRef): void;
  /** Links both ways: when either stops abnormally, the other fails too (unless it traps exits). */
  link(ref: ActorRef): void;
  unlink(ref: ActorRef): void;
}

export function checkShutdown(value: unknown, field: string): Shutdown {
  if (value === 'brutal-kill' || value === 'infinity') return value;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw new AirssysError(
    'invalid-argument',
    `${field}: expected 'brutal-kill', 'infinity' or a whole number of milliseconds >= 0, got ${JSON.stringify(value)}`,
    { details: { field } },
  );
}
