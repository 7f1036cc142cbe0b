/**
 * Turns when the backend fails: a commit that fails, and a transaction the backend ends on its
 * own (SQLite does on disk full or an I/O error). Both are hard to provoke on a real disk, so a
 * memory backend is made to fail on cue.
 */

import { describe, expect, it } from 'vitest';
import { MemoryTable } from '../../../src/osl/kv/memory-store.js';
import type { KeyRef } from '../../../src/osl/kv/store.js';
import { TableStore } from '../../../src/osl/kv/table-store.js';

const b = (text: string) => new TextEncoder().encode(text);

class FailingTable extends MemoryTable {
  failCommit = false;
  /** The next put ends the transaction, as SQLite does on SQLITE_FULL. */
  loseTransaction = false;

  override commit(): void {
    if (this.failCommit) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
    super.commit();
  }

  override put(ns: string, key: KeyRef, value: Uint8Array): void {
    if (this.loseTransaction) {
      this.loseTransaction = false;
      super.rollback();
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    }
    super.put(ns, key, value);
  }
}

function open() {
  const table = new FailingTable();
  const store = new TableStore(table);
  return { table, store, ns: store.namespace('app') };
}

describe('turns — when the backend fails', () => {
  it('storage — a failed commit at endTurn throws storage-error and rolls the turn back', () => {
    const { table, store, ns } = open();
    ns.set('kept', b('1'));
    store.beginTurn();
    ns.set('a', b('1'));
    ns.delete('kept');
    table.failCommit = true;
    expect(() => store.endTurn()).toThrow(expect.objectContaining({ code: 'storage-error' }));
    table.failCommit = false;
    expect(ns.get('a')).toBeUndefined();
    expect(ns.get('kept')).toEqual(b('1'));
    expect(ns.usage()).toEqual({ bytes: 5, keys: 1 });
    store.beginTurn(); // the store is usable again
    ns.set('b', b('1'));
    store.endTurn();
    expect(ns.get('b')).toEqual(b('1'));
  });

  it('storage — a failed autocommit write throws storage-error and writes nothing', () => {
    const { table, ns } = open();
    table.failCommit = true;
    expect(() => ns.set('a', b('1'))).toThrow(expect.objectContaining({ code: 'storage-error' }));
    table.failCommit = false;
    expect(ns.get('a')).toBeUndefined();
    expect(ns.usage()).toEqual({ bytes: 0, keys: 0 });
  });

  it('storage — a turn whose transaction the backend ended fails on every later call, then recovers', () => {
    const { table, store, ns } = open();
    store.beginTurn();
    ns.set('a', b('1'));
    table.loseTransaction = true;
    expect(() => ns.set('b', b('1'))).toThrow(expect.objectContaining({ code: 'storage-error' }));
    expect(() => ns.get('a')).toThrow(/rolled back by the backend/);
    expect(() => ns.set('c', b('1'))).toThrow(/abort the turn and retry/);
    expect(() => store.endTurn()).toThrow(expect.objectContaining({ code: 'storage-error' }));
    expect(ns.get('a')).toBeUndefined();
    store.beginTurn();
    ns.set('d', b('1'));
    store.abortTurn();
    ns.set('e', b('1'));
    expect(ns.listPrefix('').keys).toEqual(['e']);
  });
});
