/**
 * Turns (group commit) over any `KvTable`: the one state machine both backends share.
 *
 * A turn starts its backend write lazily, at its first write, so a read-only turn never takes
 * the write lock; from then on the turn's writes go into one transaction committed at
 * `endTurn()` — a thousand `set`s pay for one commit (one fsync), not a thousand. Outside a turn
 * each write is its own transaction.
 *
 * Reads of a turn before its first write share one read snapshot (cheaper than one per read on
 * SQLite). At the first write the snapshot is dropped and the write lock taken, so the writes
 * build on the latest commit, not on the snapshot. Note: a turn is therefore not isolated —
 * read-modify-write across connections must use `increment` or `compareAndSet`, which read
 * inside the write.
 */

import { AirssysError, isAirssysError } from '../../shared/errors.js';
import { TableNamespace, type WriteGate } from './namespace.js';
import {
  checkNamespaceName,
  type KeyValueStore,
  type KvNamespace,
  type NamespaceLimits,
  resolveLimits,
} from './store.js';
import type { KvTable } from './table.js';

export class TableStore implements KeyValueStore {
  private inTurn = false;
  /** Whether the backend write of the current turn has begun. */
  private writing = false;
  /** Whether the current turn holds a read snapshot (only before its first write). */
  private reading = false;
  /** Set when the backend lost the turn's transaction; every call of the turn fails with it. */
  private lost: AirssysError | undefined;
  private closed = false;
  private readonly gate: WriteGate;

  constructor(private readonly table: KvTable) {
    this.gate = { write: (fn) => this.write(fn), read: (fn) => this.read(fn) };
  }

  namespace(name: string, limits?: Partial<NamespaceLimits>): KvNamespace {
    this.checkOpen();
    return new TableNamespace(checkNamespaceName(name), resolveLimits(limits), this.table, this.gate);
  }

  beginTurn(): void {
    this.checkOpen();
    if (this.inTurn) {
      throw new AirssysError(
        'internal',
        'a storage turn is already open: call endTurn() or abortTurn() first',
      );
    }
    this.inTurn = true;
  }

  endTurn(): void {
    if (!this.inTurn) throw new AirssysError('internal', 'no storage turn is open: call beginTurn() first');
    this.inTurn = false;
    this.endRead();
    const lost = this.lost;
    this.lost = undefined;
    if (!this.writing) {
      if (lost) throw lost;
      return;
    }
    this.writing = false;
    if (lost) {
      this.rollbackQuietly();
      throw lost;
    }
    this.commitOrRollback();
  }

  abortTurn(): void {
    if (!this.inTurn) return;
    this.inTurn = false;
    this.lost = undefined;
    this.endRead();
    if (this.writing) {
      this.writing = false;
      this.rollbackQuietly();
    }
  }

  close(): void {
    if (this.closed) return;
    this.abortTurn();
    this.closed = true;
    this.table.close();
  }

  private write<T>(fn: () => T): T {
    this.checkOpen();
    if (!this.inTurn) {
      this.begin();
      let result: T;
      try {
        result = fn();
      } catch (error) {
        this.rollbackQuietly();
        throw this.wrap(error);
      }
      this.commitOrRollback();
      return result;
    }
    if (this.lost) throw this.lost;
    if (!this.writing) {
      this.endRead();
      this.begin();
      this.writing = true;
    }
    try {
      return fn();
    } catch (error) {
      // A refused write (quota, bad argument) changed nothing and the turn goes on; a backend
      // failure may have ended the transaction under us, and then the whole turn is gone.
      if (!this.table.inWrite()) {
        this.writing = false;
        this.lost = new AirssysError(
          'storage-error',
          `the storage turn was rolled back by the backend (${(error as Error).message}): its writes are lost; abort the turn and retry the message`,
          { cause: error },
        );
        throw this.lost;
      }
      throw this.wrap(error);
    }
  }

  private read<T>(fn: () => T): T {
    this.checkOpen();
    if (this.inTurn && this.lost) throw this.lost;
    try {
      if (this.inTurn && !this.writing && !this.reading) {
        this.table.beginRead();
        this.reading = true;
      }
      return fn();
    } catch (error) {
      throw this.wrap(error);
    }
  }

  private begin(): void {
    try {
      this.table.begin();
    } catch (error) {
      throw this.wrap(error);
    }
  }

  private commitOrRollback(): void {
    try {
      this.table.commit();
    } catch (error) {
      this.rollbackQuietly();
      throw this.wrap(error);
    }
  }

  private endRead(): void {
    if (!this.reading) return;
    this.reading = false;
    try {
      this.table.endRead();
    } catch {
      // Note: ending a read-only transaction cannot lose data; a failure here shows up, if it
      // matters, on the next statement.
    }
  }

  private rollbackQuietly(): void {
    try {
      if (this.table.inWrite()) this.table.rollback();
    } catch {
      // Note: a failed rollback leaves nothing to undo for us — SQLite rolls the journal back
      // itself on the next access — and the caller's original error matters more.
    }
  }

  private wrap(error: unknown): AirssysError {
    return isAirssysError(error) ? error : this.table.failure(error);
  }

  private checkOpen(): void {
    if (this.closed) {
      throw new AirssysError('storage-error', 'the key-value store is closed: open a new one', {
        blame: 'host',
      });
    }
  }
}
