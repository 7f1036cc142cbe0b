/**
 * The counter encoding of `increment`: a signed 64-bit integer in 8 bytes, little-endian — the
 * layout of an `s64` in WebAssembly memory, so a guest can read a counter with `get` and decode
 * it with one load. Overflow is an error, never a wrap-around: a counter that silently jumps
 * from the largest value to the most negative one corrupts whatever it counts.
 */

import { AirssysError } from '../../shared/errors.js';

export const COUNTER_BYTES = 8;
const MAX = (1n << 63n) - 1n;
const MIN = -(1n << 63n);

export function checkDelta(delta: unknown): bigint {
  if (typeof delta !== 'bigint') {
    throw new AirssysError(
      'invalid-argument',
      `storage increment delta must be a bigint (e.g. 1n), got ${typeof delta}`,
      { blame: 'guest', details: { type: typeof delta } },
    );
  }
  if (delta > MAX || delta < MIN) {
    throw new AirssysError(
      'invalid-argument',
      `storage increment delta ${delta} does not fit a signed 64-bit integer`,
      {
        blame: 'guest',
        details: { delta: delta.toString() },
      },
    );
  }
  return delta;
}

/** The current count of `stored`: 0 when absent; an error when the value is not a counter. */
export function decodeCounter(key: string, stored: Uint8Array | undefined): bigint {
  if (stored === undefined) return 0n;
  if (stored.length !== COUNTER_BYTES) {
    throw new AirssysError(
      'invalid-argument',
      `storage key ${JSON.stringify(key)} holds a ${stored.length}-byte value, not an ${COUNTER_BYTES}-byte counter: increment another key, or delete this one first`,
      { blame: 'guest', details: { key, valueBytes: stored.length } },
    );
  }
  return new DataView(stored.buffer, stored.byteOffset, COUNTER_BYTES).getBigInt64(0, true);
}

export function addChecked(key: string, current: bigint, delta: bigint): bigint {
  const next = current + delta;
  if (next > MAX || next < MIN) {
    throw new AirssysError(
      'invalid-argument',
      `storage counter ${JSON.stringify(key)} would overflow a signed 64-bit integer (${current} + ${delta}): reset it or use a smaller delta`,
      { blame: 'guest', details: { key, current: current.toString(), delta: delta.toString() } },
    );
  }
  return next;
}

export function encodeCounter(value: bigint): Uint8Array {
  const bytes = new Uint8Array(COUNTER_BYTES);
  new DataView(bytes.buffer).setBigInt64(0, value, true);
  return bytes;
}
