/** A growable byte writer with LEB128 encoders, the counterpart of `Reader`. */

const utf8 = new TextEncoder();

export class Writer {
  buf: Uint8Array;
  len = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }

  private grow(need: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.len + need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): this {
    if (this.len >= this.buf.length) this.grow(1);
    this.buf[this.len++] = b;
    return this;
  }

  bytes(data: Uint8Array | readonly number[]): this {
    if (this.len + data.length > this.buf.length) this.grow(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    return this;
  }

  /** Unsigned LEB128 (any non-negative safe integer). */
  u32(v: number): this {
    if (this.len + 10 > this.buf.length) this.grow(10);
    if (v < 0x80) {
      this.buf[this.len++] = v;
      return this;
    }
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v !== 0) b |= 0x80;
      this.buf[this.len++] = b;
    } while (v !== 0);
    return this;
  }

  /** Signed LEB128 of a safe integer (s32 / s33). */
  s32(v: number): this {
    if (this.len + 10 > this.buf.length) this.grow(10);
    for (;;) {
      const b = ((v % 128) + 128) % 128;
      v = Math.floor(v / 128);
      const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
      this.buf[this.len++] = done ? b : b | 0x80;
      if (done) return this;
    }
  }

  /** Signed LEB128 of a 64-bit integer. */
  s64(v: bigint): this {
    v = BigInt.asIntN(64, v);
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  name(s: string): this {
    const raw = utf8.encode(s);
    this.u32(raw.length);
    return this.bytes(raw);
  }

  /** Appends `content` prefixed by its byte length (section or function body framing). */
  sized(content: Writer): this {
    this.u32(content.len);
    return this.bytes(content.view());
  }

  /** The bytes written so far, without copying. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** A fresh copy of the bytes written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
