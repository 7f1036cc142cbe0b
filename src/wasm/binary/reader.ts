/**
 * A bounds-checked byte reader for the WebAssembly binary format. Every malformed input becomes an
 * `AirssysError('invalid-component', '… at byte offset N', { blame: 'guest' })`; offsets are absolute
 * in the buffer given to the constructor, so sub-readers report positions in the original binary.
 */

import { AirssysError } from '../../shared/errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function invalid(message: string, offset: number): AirssysError {
  return new AirssysError('invalid-component', `${message} at byte offset ${offset}`, {
    blame: 'guest',
    details: { offset },
  });
}

export class Reader {
  readonly bytes: Uint8Array;
  pos: number;
  end: number;

  constructor(bytes: Uint8Array, pos = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }

  fail(message: string, at: number = this.pos): never {
    throw invalid(message, at);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  eof(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) this.fail('unexpected end of data');
    return this.bytes[this.pos++];
  }

  /** Unsigned LEB128, at most 5 bytes, value < 2^32. */
  u32(): number {
    const start = this.pos;
    let b = this.u8();
    if (b < 0x80) return b;
    let result = b & 0x7f;
    let mul = 128;
    for (let i = 1; i < 5; i++) {
      b = this.u8();
      if (i === 4 && b > 0x0f) this.fail('integer too large (u32 LEB128)', start);
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    return this.fail('integer representation too long', start);
  }

  /** Signed LEB128 of `bits` ≤ 33 bits, returned as a number. */
  private signed(bits: number): number {
    const start = this.pos;
    const max = Math.ceil(bits / 7);
    const rem = bits - 7 * (max - 1);
    let result = 0;
    let mul = 1;
    let b = 0;
    let i = 0;
    do {
      b = this.u8();
      if (i === max - 1) {
        const top = (b & 0x7f) >> (rem - 1);
        if (b & 0x80 || (top !== 0 && top !== 0x7f >> (rem - 1))) {
          this.fail(`integer too large (s${bits} LEB128)`, start);
        }
      }
      result += (b & 0x7f) * mul;
      mul *= 128;
      i++;
    } while (b & 0x80);
    if (b & 0x40) result -= mul;
    return result;
  }

  s32(): number {
    const b = this.bytes[this.pos];
    if (this.pos < this.end && b < 0x40) {
      this.pos++;
      return b;
    }
    return this.signed(32);
  }

  /** Signed 33-bit LEB128 (block types, heap types). */
  s33(): number {
    return this.signed(33);
  }

  /** Signed 64-bit LEB128 as a bigint. */
  s64(): bigint {
    const start = this.pos;
    let result = 0n;
    let shift = 0n;
    let b = 0;
    let i = 0;
    do {
      b = this.u8();
      if (i === 9) {
        const top = b & 0x7f;
        if (b & 0x80 || (top !== 0 && top !== 0x7f)) this.fail('integer too large (s64 LEB128)', start);
      }
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      i++;
    } while (b & 0x80);
    if (b & 0x40 && shift < 64n) result -= 1n << shift;
    return BigInt.asIntN(64, result);
  }

  /** Unsigned 64-bit LEB128 as a number (may lose precision above 2^53; used for limits only). */
  u64(): number {
    const start = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      if (i === 9 && b > 0x01) this.fail('integer too large (u64 LEB128)', start);
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    return this.fail('integer representation too long', start);
  }

  /** Skips a LEB128 of at most `maxBytes` bytes. */
  skipLeb(maxBytes: number): void {
    const start = this.pos;
    for (let i = 0; i < maxBytes; i++) {
      if (this.u8() < 0x80) return;
    }
    this.fail('integer representation too long', start);
  }

  skip(n: number): void {
    if (n > this.end - this.pos) this.fail(`unexpected end of data (need ${n} bytes)`);
    this.pos += n;
  }

  take(n: number): Uint8Array {
    const start = this.pos;
    this.skip(n);
    return this.bytes.subarray(start, start + n);
  }

  /** A vector length, sanity-checked against the bytes left (each element takes ≥ `minSize` bytes). */
  count(minSize = 1): number {
    const at = this.pos;
    const n = this.u32();
    if (n * minSize > this.end - this.pos) this.fail(`vector length ${n} exceeds the remaining data`, at);
    return n;
  }

  name(): string {
    const at = this.pos;
    const len = this.u32();
    const raw = this.take(len);
    try {
      return utf8.decode(raw);
    } catch {
      return this.fail('malformed UTF-8 name', at);
    }
  }

  /** Reads a vector of elements. */
  vec<T>(read: (r: Reader) => T, minSize = 1): T[] {
    const n = this.count(minSize);
    const out: T[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = read(this);
    return out;
  }
}
