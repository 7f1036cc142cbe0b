/**
 * The seam between a ref and the place its actor lives. An `ActorRef` is only an id plus a
 * transport, so a ref to an actor elsewhere would have the same shape and API as a local one;
 * only the transport differs (nats.js keeps sockets out of its core the same way). The local
 * transport is the only one this layer ships: components are reached by address, not by ref,
 * so messages between threads and hosts are routed one level up, where addresses, versions and
 * back-pressure live (`src/host/node.ts` between threads, `src/cluster/` between hosts over NATS).
 */

import type { ActorRef } from './actor-ref.js';

export interface AskOptions {
  /** Milliseconds before the returned promise rejects with `timeout` (default 5000, like OTP's `call`). */
  timeoutMs?: number;
}

export const DEFAULT_ASK_TIMEOUT_MS = 5000;

export interface Transport {
  /** Short name for messages and debugging (`local`, `worker`, `nats`…). */
  readonly kind: string;
  /**
   * Delivers `message` to the actor `ref` names, FIFO per sender. Throws `not-found` when the
   * actor has stopped and `mailbox-full` when its mailbox rejects the message.
   */
  tell(ref: ActorRef, message: unknown, sender: ActorRef | null): void;
  /** Sends `message` with a reply slot and resolves with the reply, or rejects on timeout/failure. */
  ask<R>(ref: ActorRef, message: unknown, options: AskOptions | undefined): Promise<R>;
  /** Whether the actor is still there (a restart does not count as gone). */
  isAlive(ref: ActorRef): boolean;
  /** Human-readable name of the actor for error messages. */
  describe(ref: ActorRef): string;
}
