/**
 * Run-time helpers shared by all generated lift/lower code, and the source text of the
 * per-instance string helpers (they close over the instance's cached memory views).
 */

import { AirssysError } from '../../../shared/errors.js';
import type { StringEncoding } from '../types.js';
import {
  endHostBorrows,
  liftBorrow,
  liftOwn,
  lowerBorrowGuest,
  lowerBorrowGuestHandle,
  lowerBorrowHost,
  lowerOwnGuest,
  lowerOwnHost,
} from './handles.js';

const argErrors = new WeakSet<object>();

/** Whether `e` is an invalid-argument error raised while lowering an export's JS arguments. */
export function isArgError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && argErrors.has(e);
}

export function describe(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
    case 'bigint':
      return `${v}n`;
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(v);
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      if (v === null) return 'null';
      if (Array.isArray(v)) return `an array of length ${v.length}`;
      if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
      return 'an object';
  }
}

function badArg(message: string, value: unknown): AirssysError {
  const e = new AirssysError('invalid-argument', `${message}, got ${describe(value)}`, { blame: 'host' });
  argErrors.add(e);
  return e;
}

function badResult(message: string, value: unknown): AirssysError {
  return new AirssysError('invalid-argument', `${message}, got ${describe(value)}`, { blame: 'host' });
}

function trap(message: string): AirssysError {
  return new AirssysError('trap', message, { blame: 'guest' });
}

const scratch = new ArrayBuffer(8);
const F32 = new Float32Array(scratch);
const I32 = new Int32Array(scratch);
const F64 = new Float64Array(scratch);
const I64 = new BigInt64Array(scratch);

function f32ToI32(x: number): number {
  F32[0] = x;
  return I32[0];
}
function i32ToF32(x: number): number {
  I32[0] = x;
  return F32[0];
}
function f64ToI64(x: number): bigint {
  F64[0] = x;
  return I64[0];
}
function i64ToF64(x: bigint): number {
  I64[0] = x;
  return F64[0];
}

/** Node's `Buffer` (its native `latin1Slice` is the fastest short-ASCII decoder), when present. */
const NodeBuffer = (globalThis as { Buffer?: unknown }).Buffer;

/** What the generated module body receives as `rt`. */
export const runtime = {
  NodeBuffer,
  AirssysError,
  isArgError,
  badArg,
  badResult,
  trap,
  f32ToI32,
  i32ToF32,
  f64ToI64,
  i64ToF64,
  ENC: new TextEncoder(),
  DEC8: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }),
  DEC16: new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true }),
  lowerOwnHost,
  lowerOwnGuest,
  lowerBorrowHost,
  lowerBorrowGuest,
  lowerBorrowGuestHandle,
  liftOwn,
  liftBorrow,
  endHostBorrows,
};

export const RUNTIME_NAMES = Object.keys(runtime);

const MAX_STRING = 0x7fffffff;

/**
 * `refresh()`: re-creates the cached views only when they are missing or detached. Growing a
 * (non-shared) memory detaches its old buffer, which zeroes the views' length, so checking the
 * length avoids the comparatively slow `memory.buffer` getter on every call. (A memory of 0
 * pages just re-reads the buffer each time.) Shared memories are not supported.
 */
export function memorySource(): string {
  return `let u8 = null, dv = null, nb = null, sLen = 0;
  function refresh() {
    if (u8 !== null && u8.length !== 0) return;
    const b = inst.memory.buffer;
    u8 = new Uint8Array(b); dv = new DataView(b); nb = NodeBuffer === undefined ? null : NodeBuffer.from(b);
  }
  function oob(p, n, what) {
    return trap(FN + ': ' + what + ' [' + p + ', ' + (p + n) + ') is outside linear memory (' + u8.length + ' bytes)');
  }
  function misaligned(p, a, what) {
    return trap(FN + ': ' + what + ' pointer ' + p + ' is not aligned to ' + a);
  }`;
}

/** `storeStr(s)` → pointer (length in `sLen`), per the ABI's realloc protocol for the encoding. */
export function storeStringSource(encoding: StringEncoding): string {
  const tooLong = `trap(FN + ': string of ' + n + ' code units is too long for the canonical ABI')`;
  switch (encoding) {
    case 'utf8':
      return `function storeStr(s) {
    const n = s.length;
    let p = realloc(0, 0, 1, n) >>> 0;
    refresh();
    if (p + n > u8.length) throw oob(p, n, 'string');
    let rd = 0, wr = 0;
    if (n <= 64) {
      while (rd < n) { const c = s.charCodeAt(rd); if (c > 0x7f) break; u8[p + rd] = c; rd++; }
      wr = rd;
    } else {
      const r = ENC.encodeInto(s, u8.subarray(p, p + n)); rd = r.read; wr = r.written;
    }
    if (rd === n) { sLen = wr; return p; }
    const worst = n * 3;
    if (worst > ${MAX_STRING}) throw ${tooLong};
    p = realloc(p, n, 1, worst) >>> 0;
    refresh();
    if (p + worst > u8.length) throw oob(p, worst, 'string');
    wr += ENC.encodeInto(s.substring(rd), u8.subarray(p + wr, p + worst)).written;
    if (wr < worst) {
      p = realloc(p, worst, 1, wr) >>> 0;
      refresh();
      if (p + wr > u8.length) throw oob(p, wr, 'string');
    }
    sLen = wr;
    return p;
  }`;
    case 'utf16':
      return `function storeStr(s) {
    const n = s.length, bl = n * 2;
    if (bl > ${MAX_STRING}) throw ${tooLong};
    const p = realloc(0, 0, 2, bl) >>> 0;
    refresh();
    if ((p & 1) !== 0) throw misaligned(p, 2, 'string');
    if (p + bl > u8.length) throw oob(p, bl, 'string');
    for (let i = 0; i < n; i++) { const c = s.charCodeAt(i); u8[p + 2 * i] = c & 0xff; u8[p + 2 * i + 1] = c >>> 8; }
    sLen = n;
    return p;
  }`;
    case 'latin1+utf16':
      return `function storeStr(s) {
    const n = s.length;
    let p = realloc(0, 0, 2, n) >>> 0;
    refresh();
    if ((p & 1) !== 0) throw misaligned(p, 2, 'string');
    if (p + n > u8.length) throw oob(p, n, 'string');
    let i = 0;
    for (; i < n; i++) { const c = s.charCodeAt(i); if (c > 0xff) break; u8[p + i] = c; }
    if (i === n) { sLen = n; return p; }
    const worst = 2 * n;
    if (worst > ${MAX_STRING}) throw ${tooLong};
    p = realloc(p, n, 2, worst) >>> 0;
    refresh();
    if ((p & 1) !== 0) throw misaligned(p, 2, 'string');
    if (p + worst > u8.length) throw oob(p, worst, 'string');
    for (let j = i - 1; j >= 0; j--) { u8[p + 2 * j] = u8[p + j]; u8[p + 2 * j + 1] = 0; }
    for (let j = i; j < n; j++) { const c = s.charCodeAt(j); u8[p + 2 * j] = c & 0xff; u8[p + 2 * j + 1] = c >>> 8; }
    sLen = (n | 0x80000000) >>> 0;
    return p;
  }`;
  }
}

/** `loadStr(ptr, taggedCodeUnits)` → JS string; traps on bad pointers or invalid encodings. */
export function loadStringSource(encoding: StringEncoding): string {
  const decode16 = `function decode16(p, bl) {
    try { return DEC16.decode(u8.subarray(p, p + bl)); }
    catch { throw trap(FN + ': string at ' + p + ' is not valid UTF-16'); }
  }
  function load16(p, n) {
    const bl = n * 2;
    if (p + bl > u8.length) throw oob(p, bl, 'string');
    if (n > 32) return decode16(p, bl);
    let s = '';
    for (let i = 0; i < n; i++) {
      const c = u8[p + 2 * i] | (u8[p + 2 * i + 1] << 8);
      if (c >= 0xd800 && c <= 0xdfff) return decode16(p, bl);
      s += String.fromCharCode(c);
    }
    return s;
  }`;
  switch (encoding) {
    case 'utf8':
      return `function decode8(p, l) {
    try { return DEC8.decode(u8.subarray(p, p + l)); }
    catch { throw trap(FN + ': string at ' + p + ' is not valid UTF-8'); }
  }
  function loadStr(p, l) {
    p >>>= 0; l >>>= 0;
    if (p + l > u8.length) throw oob(p, l, 'string');
    if (l > 32) return decode8(p, l);
    let or = 0;
    for (let i = 0; i < l; i++) or |= u8[p + i];
    if (or > 0x7f) return decode8(p, l);
    if (nb !== null) return nb.latin1Slice(p, p + l);
    let s = '';
    for (let i = 0; i < l; i++) s += String.fromCharCode(u8[p + i]);
    return s;
  }`;
    case 'utf16':
      return `${decode16}
  function loadStr(p, n) {
    p >>>= 0; n >>>= 0;
    if ((p & 1) !== 0) throw misaligned(p, 2, 'string');
    return load16(p, n);
  }`;
    case 'latin1+utf16':
      return `${decode16}
  function loadStr(p, l) {
    p >>>= 0; l >>>= 0;
    if ((p & 1) !== 0) throw misaligned(p, 2, 'string');
    if ((l & 0x80000000) !== 0) return load16(p, (l ^ 0x80000000) >>> 0);
    if (p + l > u8.length) throw oob(p, l, 'string');
    if (nb !== null) return nb.latin1Slice(p, p + l);
    let s = '';
    for (let i = 0; i < l; i += 8192) s += String.fromCharCode.apply(null, u8.subarray(p + i, p + Math.min(l, i + 8192)));
    return s;
  }`;
  }
}
