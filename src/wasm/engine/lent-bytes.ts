/**
 * Host functions that may be lent the guest's memory: their `list<u8>` arguments arrive as views
 * of it instead of copies (canon `LowerOptions.lendBytes`). Why: copying into a new buffer of a
 * few KiB costs 2–4 µs on a small VM — most of a stream write — and a writer that hands the
 * bytes straight to `writeSync` or a decoder never needs its own copy.
 *
 * A marked function must be done with those bytes when it returns: it may not keep the view,
 * queue it, or read it after a wait that lets the guest run again. Copy what is kept.
 */

import type { HostFunction } from './link.js';

const LENDS: unique symbol = Symbol('airssys:takes-lent-bytes');

type Markable = HostFunction & { [LENDS]?: true };

/** Marks `fn` as one that keeps none of its byte-list arguments (see above); returns it. */
export function takesLentBytes<F extends HostFunction>(fn: F): F {
  (fn as Markable)[LENDS] = true;
  return fn;
}

export function mayLendBytes(fn: HostFunction): boolean {
  return (fn as Markable)[LENDS] === true;
}
