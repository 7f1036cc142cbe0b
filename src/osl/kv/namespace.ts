/**
 * One component's namespace: the rules of the key-value store, written once for every backend.
 * Arguments are checked before anything is touched; each write runs inside one backend write
 * (the gate), where its quota check, its change and the usage update happen together — so a
 * refused write changes nothing, and two connections cannot both take the last free byte.
 */

import { addChecked, checkDelta, decodeCounter, encodeCounter } from './counter.js';
import {
  bytesEqual,
  checkListLimit,
  checkOptionalBytes,
  checkQuota,
  checkValue,
  encodeCursor,
  encodeKey,
  encodePrefix,
  type KeyRef,
  type KvNamespace,
  type ListOptions,
  type ListPage,
  type NamespaceLimits,
  type Usage,
} from './store.js';
import type { KvTable } from './table.js';

/** How a namespace reaches its store's turn: writes join the turn or commit at once. */
export interface WriteGate {
  write<T>(fn: () => T): T;
  read<T>(fn: () => T): T;
}

/** Above every UTF-8 key: 0xFF never occurs in UTF-8. */
const PAST_ALL_KEYS = Buffer.from([0xff]);

export class TableNamespace implements KvNamespace {
  constructor(
    readonly name: string,
    private readonly limits: NamespaceLimits,
    private readonly table: KvTable,
    private readonly gate: WriteGate,
  ) {}

  get(key: string): Uint8Array | undefined {
    const k = encodeKey(key, this.limits);
    return this.gate.read(() => this.table.get(this.name, k));
  }

  set(key: string, value: Uint8Array): void {
    const k = encodeKey(key, this.limits);
    checkValue(value, this.limits);
    this.gate.write(() => this.put(k, value));
  }

  delete(key: string): boolean {
    const k = encodeKey(key, this.limits);
    return this.gate.write(() => this.remove(k));
  }

  listPrefix(prefix: string, options: ListOptions = {}): ListPage {
    const start = encodePrefix(prefix);
    const cursor = encodeCursor(options.cursor);
    const limit = checkListLimit(options.limit);
    const end = start.length === 0 ? PAST_ALL_KEYS : upperBound(start);
    const resume = cursor !== undefined && Buffer.compare(cursor, start) >= 0;
    const keys = this.gate.read(() =>
      this.table.list(this.name, resume ? cursor : start, resume, end, limit + 1),
    );
    if (keys.length <= limit) return { keys };
    keys.length = limit;
    return { keys, next: keys[limit - 1] };
  }

  increment(key: string, delta: bigint): bigint {
    const k = encodeKey(key, this.limits);
    checkDelta(delta);
    return this.gate.write(() => {
      const current = this.table.get(this.name, k);
      const next = addChecked(key, decodeCounter(key, current), delta);
      this.replace(k, encodeCounter(next), current?.length);
      return next;
    });
  }

  compareAndSet(key: string, expected: Uint8Array | undefined, value: Uint8Array | undefined): boolean {
    const k = encodeKey(key, this.limits);
    checkOptionalBytes(expected, 'expected value');
    if (value !== undefined) checkValue(value, this.limits);
    else checkOptionalBytes(value, 'value');
    return this.gate.write(() => {
      const current = this.table.get(this.name, k);
      const matches =
        expected === undefined
          ? current === undefined
          : current !== undefined && bytesEqual(current, expected);
      if (!matches) return false;
      if (value === undefined) this.remove(k);
      else this.replace(k, value, current?.length);
      return true;
    });
  }

  usage(): Usage {
    const { bytes, keys } = this.gate.read(() => this.table.usage(this.name));
    return { bytes, keys };
  }

  private put(k: KeyRef, value: Uint8Array): void {
    this.replace(k, value, this.table.valueSize(this.name, k));
  }

  /** Inside a write: the quota check, the change and the usage update; `old` is the current value's size. */
  private replace(k: KeyRef, value: Uint8Array, old: number | undefined): void {
    const before = this.table.usage(this.name);
    const after: Usage =
      old === undefined
        ? { bytes: before.bytes + k.bytes.length + value.length, keys: before.keys + 1 }
        : { bytes: before.bytes - old + value.length, keys: before.keys };
    checkQuota(this.name, this.limits, before, after);
    this.table.put(this.name, k, value);
    this.table.setUsage(this.name, after);
  }

  private remove(k: KeyRef): boolean {
    const old = this.table.valueSize(this.name, k);
    if (old === undefined) return false;
    const before = this.table.usage(this.name);
    this.table.remove(this.name, k);
    this.table.setUsage(this.name, { bytes: before.bytes - k.bytes.length - old, keys: before.keys - 1 });
    return true;
  }
}

/** The first byte string after every string that starts with `prefix`. */
function upperBound(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  // Note: the last byte of UTF-8 text is at most 0xBF, so it can always be incremented.
  end[end.length - 1]++;
  return end;
}
