/**
 * Decoding of every instruction's immediates, so a function body (or constant expression) can be
 * walked one instruction at a time. Supported: MVP, sign-extension, non-trapping float-to-int,
 * bulk memory, reference types, multi-value block types, SIMD (incl. relaxed SIMD opcodes), tail
 * calls and `call_ref`. Rejected (as `invalid-component`): threads/atomics (0xFE), exception
 * handling, GC and typed-reference instructions, and any unknown opcode.
 *
 * `readInstruction` returns an opcode *key*: the byte for single-byte opcodes, and
 * `prefix << 16 | sub` for prefixed ones (e.g. `memory.fill` = 0xfc000b). Immediates the rewriter
 * needs are left in `imm.a` (first index / block type / label) and `imm.b` (second index).
 */

import type { Reader } from './reader.js';

export interface Immediates {
  a: number;
  b: number;
}

// Single-byte opcodes the rewriter cares about.
export const OP_UNREACHABLE = 0x00;
export const OP_NOP = 0x01;
export const OP_BLOCK = 0x02;
export const OP_LOOP = 0x03;
export const OP_IF = 0x04;
export const OP_ELSE = 0x05;
export const OP_END = 0x0b;
export const OP_BR = 0x0c;
export const OP_BR_IF = 0x0d;
export const OP_BR_TABLE = 0x0e;
export const OP_RETURN = 0x0f;
export const OP_CALL = 0x10;
export const OP_CALL_INDIRECT = 0x11;
export const OP_RETURN_CALL = 0x12;
export const OP_RETURN_CALL_INDIRECT = 0x13;
export const OP_CALL_REF = 0x14;
export const OP_RETURN_CALL_REF = 0x15;
export const OP_DROP = 0x1a;
export const OP_LOCAL_GET = 0x20;
export const OP_LOCAL_SET = 0x21;
export const OP_LOCAL_TEE = 0x22;
export const OP_GLOBAL_GET = 0x23;
export const OP_GLOBAL_SET = 0x24;
export const OP_MEMORY_GROW = 0x40;
export const OP_I32_CONST = 0x41;
export const OP_I64_CONST = 0x42;
export const OP_I32_EQ = 0x46;
export const OP_I64_LT_S = 0x53;
export const OP_I64_ADD = 0x7c;
export const OP_I64_SUB = 0x7d;
export const OP_I64_SHR_U = 0x88;
export const OP_I64_EXTEND_I32_U = 0xad;
export const OP_REF_FUNC = 0xd2;

export const PREFIX_FC = 0xfc;
export const PREFIX_FD = 0xfd;
export const PREFIX_FE = 0xfe;

export const KEY_I64_TRUNC_SAT_F64_S = 0xfc0006;
export const KEY_MEMORY_INIT = 0xfc0008;
export const KEY_MEMORY_COPY = 0xfc000a;
export const KEY_MEMORY_FILL = 0xfc000b;
export const KEY_TABLE_INIT = 0xfc000c;
export const KEY_TABLE_COPY = 0xfc000e;
export const KEY_TABLE_FILL = 0xfc0011;

// Immediate kinds of single-byte opcodes.
const K_NONE = 0;
const K_IDX = 1; // one u32 index
const K_BLOCK = 2; // block type (s33)
const K_BR_TABLE = 3;
const K_IDX2 = 4; // two u32 indices
const K_MEMARG = 5;
const K_I32 = 6;
const K_I64 = 7;
const K_F32 = 8;
const K_F64 = 9;
const K_SELECT_T = 10;
const K_HEAP = 11; // heap type (s33)
const K_PREFIX = 12;
const K_INVALID = 255;

const KIND = new Uint8Array(256).fill(K_INVALID);
(() => {
  const set = (from: number, to: number, kind: number) => {
    for (let op = from; op <= to; op++) KIND[op] = kind;
  };
  set(0x00, 0x01, K_NONE); // unreachable, nop
  set(0x02, 0x04, K_BLOCK); // block, loop, if
  KIND[0x05] = K_NONE; // else
  KIND[0x0b] = K_NONE; // end
  KIND[0x0c] = K_IDX; // br
  KIND[0x0d] = K_IDX; // br_if
  KIND[0x0e] = K_BR_TABLE;
  KIND[0x0f] = K_NONE; // return
  KIND[0x10] = K_IDX; // call
  KIND[0x11] = K_IDX2; // call_indirect typeidx tableidx
  KIND[0x12] = K_IDX; // return_call
  KIND[0x13] = K_IDX2; // return_call_indirect
  KIND[0x14] = K_IDX; // call_ref typeidx
  KIND[0x15] = K_IDX; // return_call_ref typeidx
  set(0x1a, 0x1b, K_NONE); // drop, select
  KIND[0x1c] = K_SELECT_T;
  set(0x20, 0x26, K_IDX); // local.*, global.*, table.get/set
  set(0x28, 0x3e, K_MEMARG); // loads and stores
  set(0x3f, 0x40, K_IDX); // memory.size, memory.grow (memidx)
  KIND[0x41] = K_I32;
  KIND[0x42] = K_I64;
  KIND[0x43] = K_F32;
  KIND[0x44] = K_F64;
  set(0x45, 0xc4, K_NONE); // numeric + sign-extension
  KIND[0xd0] = K_HEAP; // ref.null
  KIND[0xd1] = K_NONE; // ref.is_null
  KIND[0xd2] = K_IDX; // ref.func
  KIND[0xfc] = K_PREFIX;
  KIND[0xfd] = K_PREFIX;
  KIND[0xfe] = K_PREFIX;
})();

function opName(op: number): string {
  return `0x${op.toString(16).padStart(2, '0')}`;
}

/** Skips one value type (number, vector or reference type, incl. typed `(ref null? ht)`). */
export function skipValType(r: Reader): void {
  const at = r.pos;
  const t = r.u8();
  if ((t >= 0x7b && t <= 0x7f) || t === 0x70 || t === 0x6f) return;
  if (t === 0x63 || t === 0x64) {
    r.s33();
    return;
  }
  r.fail(`unsupported value type 0x${t.toString(16)}`, at);
}

function readMemarg(r: Reader, imm: Immediates): void {
  const align = r.u32();
  imm.a = align;
  imm.b = 0;
  if (align & 0x40) imm.b = r.u32(); // multi-memory: explicit memory index
  r.skipLeb(10); // offset (u32, or u64 for memory64)
}

function readPrefixed(r: Reader, prefix: number, at: number, imm: Immediates): number {
  const sub = r.u32();
  if (prefix === PREFIX_FE) {
    r.fail(`unsupported instruction 0xfe ${sub} (threads/atomics are not supported)`, at);
  }
  if (prefix === PREFIX_FC) {
    if (sub <= 7) return 0xfc0000 | sub; // trunc_sat
    switch (sub) {
      case 8: // memory.init dataidx memidx
      case 10: // memory.copy memidx memidx
      case 12: // table.init elemidx tableidx
      case 14: // table.copy tableidx tableidx
        imm.a = r.u32();
        imm.b = r.u32();
        return 0xfc0000 | sub;
      case 9: // data.drop
      case 11: // memory.fill
      case 13: // elem.drop
      case 15: // table.grow
      case 16: // table.size
      case 17: // table.fill
        imm.a = r.u32();
        return 0xfc0000 | sub;
      default:
        return r.fail(`unknown opcode 0xfc ${sub}`, at);
    }
  }
  // 0xFD: SIMD
  if (sub <= 11 || sub === 92 || sub === 93) {
    readMemarg(r, imm); // v128.load*, v128.store, load32/64_zero
  } else if (sub === 12 || sub === 13) {
    r.skip(16); // v128.const, i8x16.shuffle
  } else if (sub >= 21 && sub <= 34) {
    imm.a = r.u8(); // extract/replace lane
  } else if (sub >= 84 && sub <= 91) {
    readMemarg(r, imm); // load/store lane
    r.u8();
  } else if (sub > 0x113) {
    r.fail(`unknown opcode 0xfd ${sub}`, at);
  }
  return 0xfd0000 | sub;
}

/**
 * Reads one instruction at `r.pos`, advancing past its immediates, and returns its opcode key.
 * Fills `imm.a`/`imm.b` with the indices the rewriter may renumber.
 */
export function readInstruction(r: Reader, imm: Immediates): number {
  const at = r.pos;
  const op = r.u8();
  switch (KIND[op]) {
    case K_NONE:
      return op;
    case K_IDX:
      imm.a = r.u32();
      return op;
    case K_BLOCK:
      imm.a = r.s33();
      return op;
    case K_BR_TABLE: {
      const n = r.count();
      for (let i = 0; i < n; i++) r.u32();
      imm.a = r.u32();
      return op;
    }
    case K_IDX2:
      imm.a = r.u32();
      imm.b = r.u32();
      return op;
    case K_MEMARG:
      readMemarg(r, imm);
      return op;
    case K_I32:
      imm.a = r.s32();
      return op;
    case K_I64:
      r.skipLeb(10);
      return op;
    case K_F32:
      r.skip(4);
      return op;
    case K_F64:
      r.skip(8);
      return op;
    case K_SELECT_T: {
      const n = r.count();
      for (let i = 0; i < n; i++) skipValType(r);
      return op;
    }
    case K_HEAP:
      imm.a = r.s33();
      return op;
    case K_PREFIX:
      return readPrefixed(r, op, at, imm);
    default:
      return r.fail(`unknown or unsupported opcode ${opName(op)}`, at);
  }
}

/** Human-readable form of an opcode key, for error messages. */
export function keyName(key: number): string {
  if (key < 0x100) return opName(key);
  return `${opName(key >>> 16)} ${key & 0xffff}`;
}
