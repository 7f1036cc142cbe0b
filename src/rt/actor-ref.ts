/**
 * The address of an actor: an id and the transport that reaches it. Refs are small, immutable,
 * comparable by identity and valid across restarts of the actor they name.
 */

import type { AskOptions, Transport } from './transport.js';

/**
 * A handle to send messages to an actor, wherever it runs.
 *
 * @example
 * const ref = system.spawn({ handle: (msg: string, ctx) => ctx.reply(msg.toUpperCase()) });
 * ref.tell('fire and forget');
 * const loud = await ref.ask<string>('hello', { timeoutMs: 100 }); // 'HELLO'
 */
export class ActorRef<M = any> {
  /** Unique within its transport. */
  readonly id: number;
  readonly transport: Transport;
  /**
   * Transport-private address (the local transport keeps its actor record here, so a local `tell`
   * needs no lookup). Callers must treat it as opaque.
   */
  readonly target: unknown;

  constructor(id: number, transport: Transport, target: unknown) {
    this.id = id;
    this.transport = transport;
    this.target = target;
  }

  /** Fire-and-forget; throws `not-found` if the actor stopped, `mailbox-full` if it is full. */
  tell(message: M, sender: ActorRef | null = null): void {
    this.transport.tell(this, message, sender);
  }

  /** Request/reply: resolves with the actor's `ctx.reply(…)`, rejects with `timeout` after the timeout. */
  ask<R = unknown>(message: M, options?: AskOptions): Promise<R> {
    return this.transport.ask<R>(this, message, options);
  }

  /** False once the actor has stopped for good (restarts keep it alive). */
  get alive(): boolean {
    return this.transport.isAlive(this);
  }

  toString(): string {
    return this.transport.describe(this);
  }
}
