/**
 * A bounded FIFO mailbox: a ring buffer of `(message, sender)` pairs that grows by doubling up to
 * its capacity, so an idle actor costs no buffer at all and a hot one never copies on dequeue
 * (`Array.prototype.shift` is O(n) once V8 leaves its fast path).
 */

import { AirssysError } from '../shared/errors.js';
import type { ActorRef } from './actor-ref.js';

/** What a full mailbox does with one more message. */
export type OverflowPolicy = 'reject' | 'drop-oldest';

export interface MailboxOptions {
  /** Most messages held at once (default 1024, the manifest's default). */
  capacity?: number;
  /**
   * `reject` (default): `tell` throws `mailbox-full`, so the sender feels back-pressure.
   * `drop-oldest`: the oldest message is discarded; only for actors declared lossy.
   */
  overflow?: OverflowPolicy;
}

export const DEFAULT_MAILBOX_CAPACITY = 1024;

/** Checks mailbox options (`field` names them in errors) and fills in defaults. */
export function checkMailbox(
  value: MailboxOptions | undefined,
  field: string,
): { capacity: number; dropOldest: boolean } {
  if (value === undefined) return { capacity: DEFAULT_MAILBOX_CAPACITY, dropOldest: false };
  if (typeof value !== 'object' || value === null) {
    throw new AirssysError('invalid-argument', `${field}: expected an object`, { details: { field } });
  }
  const capacity = value.capacity ?? DEFAULT_MAILBOX_CAPACITY;
  if (!(Number.isInteger(capacity) && capacity >= 1)) {
    throw new AirssysError(
      'invalid-argument',
      `${field}.capacity: expected a whole number >= 1, got ${JSON.stringify(capacity)}`,
      {
        details: { field: `${field}.capacity` },
      },
    );
  }
  const overflow = value.overflow ?? 'reject';
  if (overflow !== 'reject' && overflow !== 'drop-oldest') {
    throw new AirssysError(
      'invalid-argument',
      `${field}.overflow: expected 'reject' or 'drop-oldest', got ${JSON.stringify(overflow)}`,
      {
        details: { field: `${field}.overflow` },
      },
    );
  }
  return { capacity, dropOldest: overflow === 'drop-oldest' };
}

/** Slots for the first allocation: 4 messages (each takes a message slot and a sender slot). */
const INITIAL_SLOTS = 8;
const EMPTY: unknown[] = [];

export class Mailbox {
  /** Interleaved `[message, sender, message, sender, …]`; length is a power of two. */
  private buf: unknown[] = EMPTY;
  private head = 0;
  /** Number of messages (not slots). */
  size = 0;
  /** Sender of the message last returned by `shift`. */
  lastSender: ActorRef | null = null;
  /** Messages discarded by `drop-oldest` since the actor started (observability). */
  dropped = 0;
  readonly capacity: number;
  readonly dropOldest: boolean;

  constructor(capacity: number, dropOldest: boolean) {
    this.capacity = capacity;
    this.dropOldest = dropOldest;
  }

  /** Appends a message; returns false when full under the `reject` policy (nothing changed). */
  push(message: unknown, sender: ActorRef | null): boolean {
    if (this.size >= this.capacity) {
      if (!this.dropOldest) return false;
      this.shift();
      this.dropped++;
    }
    this.forcePush(message, sender);
    return true;
  }

  /**
   * Appends past the capacity. Note: only for system signals (monitor `down`, trapped `exit`),
   * which must never be lost to back-pressure or the watcher would wait forever.
   */
  forcePush(message: unknown, sender: ActorRef | null): void {
    let buf = this.buf;
    const slots = this.size << 1;
    if (slots === buf.length) buf = this.grow();
    const i = (this.head + slots) & (buf.length - 1);
    buf[i] = message;
    buf[i + 1] = sender;
    this.size++;
  }

  /** Removes and returns the oldest message; its sender is left in `lastSender`. */
  shift(): unknown {
    const buf = this.buf;
    const h = this.head;
    const message = buf[h];
    this.lastSender = buf[h + 1] as ActorRef | null;
    // Clear the slots so the buffer does not keep delivered messages alive.
    buf[h] = undefined;
    buf[h + 1] = undefined;
    this.head = (h + 2) & (buf.length - 1);
    this.size--;
    return message;
  }

  /** Empties the mailbox, calling `each` on every pending message in order. */
  drain(each: (message: unknown, sender: ActorRef | null) => void): void {
    while (this.size > 0) {
      const message = this.shift();
      each(message, this.lastSender);
    }
    this.buf = EMPTY;
    this.head = 0;
    this.lastSender = null;
  }

  private grow(): unknown[] {
    const old = this.buf;
    const next = new Array<unknown>(old.length === 0 ? INITIAL_SLOTS : old.length * 2);
    // Unwrap the ring so the new buffer starts at index 0.
    const slots = this.size << 1;
    for (let k = 0; k < slots; k++) next[k] = old[(this.head + k) & (old.length - 1)];
    this.buf = next;
    this.head = 0;
    return next;
  }
}
