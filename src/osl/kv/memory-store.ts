/**
 * The key-value store in memory, for tests: the same rules as SQLite (they live in
 * namespace.ts), nothing survives the process. A write keeps an undo log, so rolling back a
 * turn restores every entry and usage record it touched.
 */

import { AirssysError } from '../../shared/errors.js';
import type { KeyRef, Usage } from './store.js';
import type { KvTable } from './table.js';
import { TableStore } from './table-store.js';

type Undo = { ns: string; key: string; value: Uint8Array | undefined } | { ns: string; usage: Usage };

/** The in-memory backend itself, exported for tests that need to make a backend fail. */
export class MemoryTable implements KvTable {
  /** Namespace → key text → value; separate maps, so no key can spell its way into another namespace. */
  private readonly data = new Map<string, Map<string, Uint8Array>>();
  private readonly usages = new Map<string, Usage>();
  private undo: Undo[] | undefined;

  begin(): void {
    this.undo = [];
  }

  commit(): void {
    this.undo = undefined;
  }

  rollback(): void {
    const undo = this.undo ?? [];
    this.undo = undefined;
    for (let i = undo.length - 1; i >= 0; i--) {
      const step = undo[i];
      if ('usage' in step) this.usages.set(step.ns, step.usage);
      else if (step.value === undefined) this.entries(step.ns).delete(step.key);
      else this.entries(step.ns).set(step.key, step.value);
    }
  }

  inWrite(): boolean {
    return this.undo !== undefined;
  }

  beginRead(): void {}

  endRead(): void {}

  get(ns: string, key: KeyRef): Uint8Array | undefined {
    const value = this.data.get(ns)?.get(key.text);
    return value === undefined ? undefined : new Uint8Array(value);
  }

  valueSize(ns: string, key: KeyRef): number | undefined {
    return this.data.get(ns)?.get(key.text)?.length;
  }

  put(ns: string, key: KeyRef, value: Uint8Array): void {
    const entries = this.entries(ns);
    this.journal().push({ ns, key: key.text, value: entries.get(key.text) });
    entries.set(key.text, new Uint8Array(value));
  }

  remove(ns: string, key: KeyRef): void {
    const entries = this.entries(ns);
    this.journal().push({ ns, key: key.text, value: entries.get(key.text) });
    entries.delete(key.text);
  }

  usage(ns: string): Usage {
    return this.usages.get(ns) ?? { bytes: 0, keys: 0 };
  }

  setUsage(ns: string, usage: Usage): void {
    this.journal().push({ ns, usage: this.usage(ns) });
    this.usages.set(ns, { ...usage });
  }

  list(ns: string, start: Buffer, after: boolean, end: Buffer, limit: number): string[] {
    const matches: { text: string; bytes: Buffer }[] = [];
    for (const text of this.data.get(ns)?.keys() ?? []) {
      const bytes = Buffer.from(text, 'utf8');
      const from = Buffer.compare(bytes, start);
      if ((after ? from > 0 : from >= 0) && Buffer.compare(bytes, end) < 0) matches.push({ text, bytes });
    }
    matches.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    return matches.slice(0, limit).map((m) => m.text);
  }

  failure(error: unknown): AirssysError {
    return new AirssysError('storage-error', `in-memory key-value store failed: ${String(error)}`, {
      cause: error,
    });
  }

  close(): void {
    this.data.clear();
    this.usages.clear();
  }

  private entries(ns: string): Map<string, Uint8Array> {
    let entries = this.data.get(ns);
    if (!entries) this.data.set(ns, (entries = new Map()));
    return entries;
  }

  private journal(): Undo[] {
    if (!this.undo)
      throw new AirssysError('internal', 'in-memory key-value store: a write outside a transaction');
    return this.undo;
  }
}

/**
 * @example
 * const store = new MemoryKeyValueStore();
 * store.namespace('counter').increment('hits', 1n); // 1n
 */
export class MemoryKeyValueStore extends TableStore {
  constructor() {
    super(new MemoryTable());
  }
}
