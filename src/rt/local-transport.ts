/**
 * Same-thread delivery: the fast path behind every local `ActorRef`. A local ref's `target` is
 * the actor's cell, so `tell` is one method call into its mailbox with no lookup. `ask` sends the
 * message with a one-shot reply ref as its sender; replying through that ref settles the promise.
 */

import { AirssysError } from '../shared/errors.js';
import type { ActorCell } from './actor-cell.js';
import { ActorRef } from './actor-ref.js';
import { type AskOptions, DEFAULT_ASK_TIMEOUT_MS, type Transport } from './transport.js';

export class LocalTransport implements Transport {
  readonly kind = 'local';

  tell(ref: ActorRef, message: unknown, sender: ActorRef | null): void {
    (ref.target as ActorCell).enqueue(message, sender);
  }

  ask<R>(ref: ActorRef, message: unknown, options: AskOptions | undefined): Promise<R> {
    const timeoutMs = options?.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS;
    if (!(typeof timeoutMs === 'number' && timeoutMs > 0 && Number.isFinite(timeoutMs))) {
      return Promise.reject(
        new AirssysError(
          'invalid-argument',
          `timeoutMs: expected a positive number, got ${String(timeoutMs)}`,
          {
            details: { field: 'timeoutMs' },
          },
        ),
      );
    }
    return new Promise<R>((resolve, reject) => {
      const pending = new PendingAsk(resolve as (v: unknown) => void, reject);
      // A throw here (`not-found`, `mailbox-full`) rejects the promise: the executor catches it.
      (ref.target as ActorCell).enqueue(message, new ActorRef(nextReplyId++, REPLY_TRANSPORT, pending));
      pending.timer = setTimeout(() => {
        if (pending.done) return;
        pending.done = true;
        reject(
          new AirssysError('timeout', `${ref} did not reply within ${timeoutMs} ms`, {
            details: { timeoutMs, actor: ref.id },
          }),
        );
      }, timeoutMs);
    });
  }

  isAlive(ref: ActorRef): boolean {
    return (ref.target as ActorCell).isAlive();
  }

  describe(ref: ActorRef): string {
    return (ref.target as ActorCell).describe();
  }
}

let nextReplyId = 1;

class PendingAsk {
  done = false;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  constructor(
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void,
  ) {}
}

/**
 * Transport of one-shot reply refs. Note: replying after the asker gave up (timeout) is a no-op,
 * not an error: the replier cannot know the asker's deadline, and failing it for that would turn
 * a slow answer into a crash (OTP discards late `gen_server` replies the same way).
 */
const REPLY_TRANSPORT: Transport = {
  kind: 'reply',
  tell(ref, message) {
    const pending = ref.target as PendingAsk;
    if (pending.done) return;
    pending.done = true;
    clearTimeout(pending.timer);
    pending.resolve(message);
  },
  ask() {
    return Promise.reject(new AirssysError('invalid-argument', 'a reply ref accepts one reply, not an ask'));
  },
  isAlive(ref) {
    return !(ref.target as PendingAsk).done;
  },
  describe(ref) {
    return `reply#${ref.id}`;
  },
};

/** Rejects the ask behind `sender` (if it is a reply ref still waiting); true if it was one. */
export function rejectAsk(sender: ActorRef | null, error: unknown): boolean {
  if (sender === null || sender.transport !== REPLY_TRANSPORT) return false;
  const pending = sender.target as PendingAsk;
  if (pending.done) return true;
  pending.done = true;
  clearTimeout(pending.timer);
  pending.reject(error);
  return true;
}
