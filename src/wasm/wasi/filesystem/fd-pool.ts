/**
 * Bounds the host file descriptors one WASI instance keeps open.
 *
 * Why: a file's fd is closed when the guest drops its descriptor (`FileDescriptor`'s
 * `[Symbol.dispose]`, which the engine calls), but a guest may also hold many descriptors open
 * at once, or leak them. So at most `max` files per instance hold an fd; using another closes
 * the least recently used one, which reopens (by its path, beneath its root, checked to be the
 * same file) when next used. A finalizer still closes the fd of a descriptor collected while
 * holding one (a host-side drop the engine never saw).
 */

import { closeSync } from 'node:fs';

/** One file's fd, or none while evicted. Shared by the file and the pool, never by two files. */
export interface FdSlot {
  fd: number | undefined;
}

export class FdPool {
  /** Slots holding an fd, least recently used first (a Set keeps insertion order). */
  private readonly open = new Set<FdSlot>();
  private readonly finalizer = new FinalizationRegistry<FdSlot>((slot) => this.release(slot));

  constructor(private readonly max: number) {}

  /** Takes over `fd`, opened for `owner`; it is closed when `owner` is collected, at the latest. */
  adopt(owner: object, fd: number): FdSlot {
    const slot: FdSlot = { fd: undefined };
    this.makeRoom();
    slot.fd = fd;
    this.open.add(slot);
    this.finalizer.register(owner, slot, slot);
    return slot;
  }

  /**
   * The slot's fd, reopened with `reopen` if it was evicted. Use the fd before the next call
   * to `use`: that call may evict it.
   */
  use(slot: FdSlot, reopen: () => number): number {
    if (slot.fd !== undefined) {
      this.open.delete(slot);
      this.open.add(slot);
      return slot.fd;
    }
    this.makeRoom();
    slot.fd = reopen();
    this.open.add(slot);
    return slot.fd;
  }

  /** Closes the slot's fd now (the file will reopen if used again). */
  release(slot: FdSlot): void {
    this.open.delete(slot);
    const fd = slot.fd;
    // Cleared before closing: the number may be reused by the next open at once.
    slot.fd = undefined;
    if (fd === undefined) return;
    try {
      closeSync(fd);
    } catch {
      // Already closed is closed.
    }
  }

  /** How many fds the pool holds now (tests). */
  get size(): number {
    return this.open.size;
  }

  private makeRoom(): void {
    while (this.open.size >= this.max) {
      const oldest = this.open.values().next().value as FdSlot;
      this.release(oldest);
    }
  }
}
