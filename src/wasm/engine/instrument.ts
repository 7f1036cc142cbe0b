/**
 * Rewrites a core WebAssembly module so the host can meter and contain it:
 *
 * 1. **Fuel metering** (exact, deterministic; see `fuel-costs.ts`). The module gets its own
 *    mutable i64 global, the fuel counter, appended after its globals and exported as
 *    `airssys:fuel-counter`, and two imports from module `airssys:instrument`: the functions
 *    `out-of-fuel` (`[] -> [i64]`) and `grow-failed` (`[] -> []`). Note: the counter is the module's own
 *    rather than one imported global shared by all modules because V8 reaches an imported
 *    mutable global through an extra indirection that cost ~6 ns per call and doubled the time
 *    of call-heavy code; the host balances the modules' counters (see engine/runtime.ts).
 *    Every function keeps its counter in a fresh i64 local: loaded from the
 *    global at entry, written back before every call / `memory.grow` / `return` and at exit, and
 *    reloaded after every call. Each basic block is charged its cost when entered; the counter is
 *    checked (`< 0`) at function entry and at every loop header, where the function writes the
 *    counter back and calls `out-of-fuel`, which returns the fuel it grants (added to the local
 *    counter) or throws. Exhaustion is thus detected at the next function entry or loop header.
 * 2. **memory.grow hook**: `grow-failed` is called whenever `memory.grow` returns -1.
 * 3. **Fuel entry wrappers**: each exported function `N` gets a companion export `airssys:fuel/N`
 *    of type `[i32 fuel, ...params] -> results` that sets the module's fuel counter and calls it.
 *    Note: the fuel is an i32 because V8 calls a JS→wasm function with an f64 parameter through a
 *    slower path (~8 ns more per call, measured); the host hands out fuel in slices below 2^31.
 * 4. **Memory clamp**: each defined memory's maximum becomes `min(declared, memoryMaxPages)`.
 * 5. **Memory from the host** (`importMemory`): a module's one defined memory becomes the import
 *    `airssys:instrument` `memory` with the same (clamped) limits, so the host can hand a new
 *    instance a memory recycled from a disposed one (see `memory-pool.ts`). Note: V8 spends
 *    almost all of a wizer-snapshotted guest's instantiation (StarlingMonkey: ~20 of ~25 ms)
 *    faulting in the fresh pages its data segments land on; a recycled memory's pages are
 *    already mapped, and zeroing them is ~0.4 ms for 10 MiB.
 * 6. Modules that already import `airssys:instrument`, or export a name starting with
 *    `airssys:fuel` (where the wrappers and the counter live), are rejected.
 *
 * The `name` custom section is dropped (function indices change); other custom sections are kept.
 */

import { AirssysError } from '../../shared/errors.js';
import {
  type Immediates,
  KEY_MEMORY_COPY,
  KEY_MEMORY_FILL,
  KEY_MEMORY_INIT,
  KEY_TABLE_COPY,
  KEY_TABLE_FILL,
  KEY_TABLE_INIT,
  OP_BLOCK,
  OP_BR,
  OP_BR_IF,
  OP_BR_TABLE,
  OP_CALL,
  OP_CALL_INDIRECT,
  OP_CALL_REF,
  OP_ELSE,
  OP_END,
  OP_GLOBAL_GET,
  OP_GLOBAL_SET,
  OP_I32_CONST,
  OP_I32_EQ,
  OP_I64_ADD,
  OP_I64_CONST,
  OP_I64_EXTEND_I32_U,
  OP_I64_LT_S,
  OP_I64_SHR_U,
  OP_I64_SUB,
  OP_IF,
  OP_LOCAL_GET,
  OP_LOCAL_SET,
  OP_LOCAL_TEE,
  OP_LOOP,
  OP_MEMORY_GROW,
  OP_REF_FUNC,
  OP_RETURN,
  OP_RETURN_CALL,
  OP_RETURN_CALL_INDIRECT,
  OP_RETURN_CALL_REF,
  OP_UNREACHABLE,
  readInstruction,
  skipValType,
} from '../binary/instructions.js';
import {
  type FuncType,
  readFuncType,
  readLimits,
  readSections,
  SECTION_CODE,
  SECTION_CUSTOM,
  SECTION_DATA,
  SECTION_ELEMENT,
  SECTION_EXPORT,
  SECTION_FUNCTION,
  SECTION_GLOBAL,
  SECTION_IMPORT,
  SECTION_MEMORY,
  SECTION_RANK,
  SECTION_START,
  SECTION_TABLE,
  SECTION_TYPE,
  type Section,
} from '../binary/module-info.js';
import { Reader } from '../binary/reader.js';
import { Writer } from '../binary/writer.js';
import { BULK_COST_SHIFT, instructionCost } from './fuel-costs.js';

/** Changes whenever the rewriting changes, so cached instrumented modules are invalidated. */
export const INSTRUMENT_VERSION = 'airssys-instrument-7';

export const INSTRUMENT_MODULE = 'airssys:instrument';
/** Export name of the module's own fuel counter, a `(mut i64)` global. */
export const FUEL_COUNTER_EXPORT = 'airssys:fuel-counter';
/** Guest exports may not start with this: wrappers and the counter are named under it. */
const RESERVED_EXPORT_PREFIX = 'airssys:fuel';
export const OUT_OF_FUEL = 'out-of-fuel';
export const GROW_FAILED = 'grow-failed';
export const FUEL_EXPORT_PREFIX = 'airssys:fuel/';
/** The import a module's memory becomes with `importMemory`. */
export const MEMORY_IMPORT = 'memory';

/** Largest number of 64 KiB pages a 32-bit memory can have. */
const MAX_PAGES = 65536;

export interface InstrumentOptions {
  /** Largest size, in 64 KiB pages, any defined memory may reach. */
  memoryMaxPages: number;
  /**
   * Exported functions the host only ever calls through their fuel wrapper: for these the
   * wrapper takes the export's own name instead of being exported beside it. Note: every export
   * costs V8 ~1 µs at instantiation, so not doubling them matters for warm instantiation.
   */
  entries?: ReadonlySet<string>;
  /**
   * Turn the module's memory into the import `airssys:instrument` `memory` when it defines
   * exactly one unshared memory and imports none (other modules keep theirs).
   */
  importMemory?: boolean;
}

/** The limits, in pages, of the memory a module imports as `airssys:instrument` `memory`. */
export interface MemoryShape {
  initial: number;
  maximum: number;
}

export interface InstrumentResult {
  bytes: Uint8Array;
  /** Names of the module's exported functions (each also exported as `airssys:fuel/<name>`). */
  exports: string[];
  /** Set when the module's memory became an import (`importMemory`). */
  memory?: MemoryShape;
}

const I64 = 0x7e;
const I32 = 0x7f;

function invalid(message: string, details?: Record<string, unknown>): AirssysError {
  return new AirssysError('invalid-component', message, { blame: 'guest', details });
}

function typeKey(t: FuncType): string {
  return `${t.params.join(',')}>${t.results.join(',')}`;
}

/** Per-module rewriting context. */
class Ctx {
  types: FuncType[] = [];
  newTypes: FuncType[] = [];
  typeIndex = new Map<string, number>();
  funcImports = 0;
  globalImports = 0;
  /** Type index of every function (imports first). */
  funcTypes: number[] = [];
  outOfFuel = 0;
  growFailed = 0;
  fuelGlobal = 0;
  /** Internal `[i64 counter] -> [i64 counter]` function that asks the host for more fuel. */
  refillFunc = 0;

  remapFunc(i: number): number {
    return i >= this.funcImports ? i + 2 : i;
  }

  remapGlobal(i: number): number {
    return i;
  }

  typeFor(t: FuncType): number {
    const key = typeKey(t);
    let idx = this.typeIndex.get(key);
    if (idx === undefined) {
      idx = this.types.length + this.newTypes.length;
      this.newTypes.push(t);
      this.typeIndex.set(key, idx);
    }
    return idx;
  }
}

function writeFuncType(w: Writer, t: FuncType): void {
  w.byte(0x60).u32(t.params.length).bytes(t.params).u32(t.results.length).bytes(t.results);
}

/** Copies a constant expression, renumbering `global.get` and `ref.func`. */
function rewriteConstExpr(r: Reader, w: Writer, ctx: Ctx, imm: Immediates): void {
  for (;;) {
    const start = r.pos;
    const key = readInstruction(r, imm);
    if (key === OP_GLOBAL_GET) w.byte(OP_GLOBAL_GET).u32(ctx.remapGlobal(imm.a));
    else if (key === OP_REF_FUNC) w.byte(OP_REF_FUNC).u32(ctx.remapFunc(imm.a));
    else w.bytes(r.bytes.subarray(start, r.pos));
    if (key === OP_END) return;
  }
}

// Reusable decode buffers for function bodies.
let starts = new Int32Array(1024);
let ends = new Int32Array(1024);
let keys = new Int32Array(1024);
let immA = new Float64Array(1024);
let charge = new Float64Array(1024);
let blockStart = new Uint8Array(1024);

function ensureCapacity(n: number): void {
  if (n < starts.length) return;
  let cap = starts.length * 2;
  while (cap <= n) cap *= 2;
  const grow = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
    const b = make(cap);
    b.set(a);
    return b;
  };
  starts = grow(starts, (c) => new Int32Array(c));
  ends = grow(ends, (c) => new Int32Array(c));
  keys = grow(keys, (c) => new Int32Array(c));
  immA = grow(immA, (c) => new Float64Array(c));
  charge = new Float64Array(cap);
  blockStart = new Uint8Array(cap);
}

function isTerminator(key: number): boolean {
  switch (key) {
    case OP_UNREACHABLE:
    case OP_BLOCK:
    case OP_LOOP:
    case OP_IF:
    case OP_ELSE:
    case OP_END:
    case OP_BR:
    case OP_BR_IF:
    case OP_BR_TABLE:
    case OP_RETURN:
    case OP_CALL:
    case OP_CALL_INDIRECT:
    case OP_RETURN_CALL:
    case OP_RETURN_CALL_INDIRECT:
    case OP_CALL_REF:
    case OP_RETURN_CALL_REF:
      return true;
    default:
      return false;
  }
}

/** Rewrites one function body (`locals expr`, without its size prefix) into `out`. */
function rewriteBody(r: Reader, out: Writer, ctx: Ctx, type: FuncType, imm: Immediates): void {
  const bytes = r.bytes;
  // Locals.
  const localsStart = r.pos;
  const groups = r.count(2);
  let nLocals = 0;
  for (let g = 0; g < groups; g++) {
    nLocals += r.u32();
    skipValType(r);
  }
  const localsEnd = r.pos;
  if (nLocals > 50_000) r.fail(`function declares ${nLocals} locals`, localsStart);

  // Pass 1: decode every instruction.
  let n = 0;
  let depth = 0;
  let needsScratch = false;
  for (;;) {
    ensureCapacity(n);
    const start = r.pos;
    const key = readInstruction(r, imm);
    starts[n] = start;
    ends[n] = r.pos;
    keys[n] = key;
    immA[n] = imm.a;
    n++;
    if (key === OP_BLOCK || key === OP_LOOP || key === OP_IF) depth++;
    else if (key === OP_END) {
      if (depth === 0) break;
      depth--;
    } else if (
      key === OP_MEMORY_GROW ||
      key === KEY_MEMORY_COPY ||
      key === KEY_MEMORY_FILL ||
      key === KEY_MEMORY_INIT ||
      key === KEY_TABLE_COPY ||
      key === KEY_TABLE_FILL ||
      key === KEY_TABLE_INIT
    ) {
      needsScratch = true;
    }
  }
  if (r.pos !== r.end) r.fail('function body continues after its final end');

  // Pass 2: basic blocks and their costs.
  let acc = 0;
  let bs = 0;
  for (let i = 0; i < n; i++) {
    blockStart[i] = 0;
    charge[i] = 0;
  }
  blockStart[0] = 1;
  for (let i = 0; i < n; i++) {
    acc += instructionCost(keys[i]);
    if (isTerminator(keys[i])) {
      charge[bs] = acc;
      acc = 0;
      bs = i + 1;
      if (bs < n) blockStart[bs] = 1;
    }
  }

  // Locals: original groups + counter (i64) [+ scratch (i32)].
  const nParams = type.params.length;
  const ctr = nParams + nLocals;
  const tmp = ctr + 1;
  out.u32(groups + (needsScratch ? 2 : 1));
  out.bytes(bytes.subarray(localsStart + lebLength(bytes, localsStart), localsEnd));
  out.u32(1).byte(I64);
  if (needsScratch) out.u32(1).byte(I32);

  const g = ctx.fuelGlobal;
  const writeBack = () => {
    out.byte(OP_LOCAL_GET).u32(ctr).byte(OP_GLOBAL_SET).u32(g);
  };
  const reload = () => {
    out.byte(OP_GLOBAL_GET).u32(g).byte(OP_LOCAL_SET).u32(ctr);
  };
  // The module's refill helper writes the counter back, calls `out-of-fuel` and returns the
  // counter plus the grant. Note: calling a JS import directly from a function's cold path made
  // V8 set every call of that function up for it (~7 ns a call); an internal call costs ~1 ns.
  const refill = () => {
    out.byte(OP_LOCAL_GET).u32(ctr).byte(OP_CALL).u32(ctx.refillFunc).byte(OP_LOCAL_SET).u32(ctr);
  };
  // Expects the counter on the stack.
  const check = () => {
    out.byte(OP_I64_CONST).byte(0).byte(OP_I64_LT_S).byte(OP_IF).byte(0x40);
    refill();
    out.byte(OP_END);
  };

  // Prologue: load, charge the entry block, check.
  out.byte(OP_GLOBAL_GET).u32(g);
  if (charge[0] !== 0) out.byte(OP_I64_CONST).s32(charge[0]).byte(OP_I64_SUB);
  out.byte(OP_LOCAL_TEE).u32(ctr);
  check();
  // Wrap the body in a block with the function's results so every exit passes the write-back.
  out.byte(OP_BLOCK);
  if (type.results.length === 0) out.byte(0x40);
  else if (type.results.length === 1) out.byte(type.results[0]);
  else out.s32(ctx.typeFor({ params: [], results: type.results }));

  // Control frames while emitting: `cum` counts labels inserted around enclosing loops (for
  // renumbering branch depths), `loopCost` is the header cost of a restructured loop (or -1).
  const cum: number[] = [0];
  const loopCost: number[] = [-1];
  let restructured = false;

  const last = n - 1;
  for (let i = 0; i < last; i++) {
    if (blockStart[i] && i > 0) {
      const c = charge[i];
      if (keys[i - 1] === OP_LOOP) {
        out.byte(OP_LOCAL_GET).u32(ctr);
        if (c !== 0) out.byte(OP_I64_CONST).s32(c).byte(OP_I64_SUB).byte(OP_LOCAL_TEE).u32(ctr);
        if (loopCost[loopCost.length - 1] >= 0) {
          // Restructured loop: leave it for the slow path, outside the hot loop.
          out.byte(OP_I64_CONST).byte(0).byte(OP_I64_LT_S).byte(OP_BR_IF).byte(1);
        } else check();
      } else if (c !== 0) {
        out
          .byte(OP_LOCAL_GET)
          .u32(ctr)
          .byte(OP_I64_CONST)
          .s32(c)
          .byte(OP_I64_SUB)
          .byte(OP_LOCAL_SET)
          .u32(ctr);
      }
    }
    const key = keys[i];
    if (key === OP_BLOCK || key === OP_IF) {
      cum.push(cum[cum.length - 1]);
      loopCost.push(-1);
    } else if (key === OP_LOOP) {
      const bt = immA[i];
      if (bt >= ctx.types.length) r.fail(`block type index ${bt} out of range`, starts[i]);
      if (bt < 0 || ctx.types[bt].params.length === 0) {
        // Loop without parameters: the out-of-fuel call goes outside the hot loop.
        //   block $exit bt; loop $retry; block $slow; loop bt … end; br $exit; end;
        //   <write back; call out-of-fuel; reload; give back the header charge>; br $retry;
        //   end; unreachable; end
        out.byte(OP_BLOCK).bytes(bytes.subarray(starts[i] + 1, ends[i]));
        out.byte(OP_LOOP).byte(0x40).byte(OP_BLOCK).byte(0x40);
        out.bytes(bytes.subarray(starts[i], ends[i]));
        cum.push(cum[cum.length - 1] + 3);
        loopCost.push(charge[i + 1]);
        restructured = true;
        continue;
      }
      cum.push(cum[cum.length - 1]);
      loopCost.push(-1);
    } else if (key === OP_END) {
      const k = loopCost.pop()!;
      cum.pop();
      if (k >= 0) {
        out.byte(OP_END).byte(OP_BR).byte(2).byte(OP_END);
        refill();
        if (k !== 0) {
          out
            .byte(OP_LOCAL_GET)
            .u32(ctr)
            .byte(OP_I64_CONST)
            .s32(k)
            .byte(OP_I64_ADD)
            .byte(OP_LOCAL_SET)
            .u32(ctr);
        }
        out.byte(OP_BR).byte(0).byte(OP_END).byte(OP_UNREACHABLE).byte(OP_END);
        continue;
      }
    } else if (restructured && (key === OP_BR || key === OP_BR_IF || key === OP_BR_TABLE)) {
      const top = cum.length - 1;
      const remap = (d: number) => {
        if (d > top) r.fail(`branch depth ${d} out of range`, starts[i]);
        return d + cum[top] - cum[top - d];
      };
      if (key === OP_BR_TABLE) {
        const br = new Reader(bytes, starts[i] + 1, ends[i]);
        const m = br.u32();
        out.byte(OP_BR_TABLE).u32(m);
        for (let t = 0; t <= m; t++) out.u32(remap(br.u32()));
      } else {
        out.byte(key).u32(remap(immA[i]));
      }
      continue;
    }
    switch (key) {
      case OP_CALL:
        writeBack();
        out.byte(OP_CALL).u32(ctx.remapFunc(immA[i]));
        reload();
        break;
      case OP_CALL_INDIRECT:
      case OP_CALL_REF:
        writeBack();
        out.bytes(bytes.subarray(starts[i], ends[i]));
        reload();
        break;
      case OP_RETURN_CALL:
        writeBack();
        out.byte(OP_RETURN_CALL).u32(ctx.remapFunc(immA[i]));
        break;
      case OP_RETURN_CALL_INDIRECT:
      case OP_RETURN_CALL_REF:
      case OP_RETURN:
        writeBack();
        out.bytes(bytes.subarray(starts[i], ends[i]));
        break;
      case OP_GLOBAL_GET:
      case OP_GLOBAL_SET:
        out.byte(key).u32(ctx.remapGlobal(immA[i]));
        break;
      case OP_REF_FUNC:
        out.byte(OP_REF_FUNC).u32(ctx.remapFunc(immA[i]));
        break;
      case OP_MEMORY_GROW:
        writeBack();
        out.bytes(bytes.subarray(starts[i], ends[i]));
        out.byte(OP_LOCAL_TEE).u32(tmp).byte(OP_I32_CONST).byte(0x7f).byte(OP_I32_EQ).byte(OP_IF).byte(0x40);
        out.byte(OP_CALL).u32(ctx.growFailed);
        reload();
        out.byte(OP_END).byte(OP_LOCAL_GET).u32(tmp);
        break;
      case KEY_MEMORY_COPY:
      case KEY_MEMORY_FILL:
      case KEY_MEMORY_INIT:
      case KEY_TABLE_COPY:
      case KEY_TABLE_FILL:
      case KEY_TABLE_INIT:
        // Length operand is on top of the stack: charge floor(n / 64) before the operation.
        out.byte(OP_LOCAL_TEE).u32(tmp).byte(OP_LOCAL_GET).u32(ctr).byte(OP_LOCAL_GET).u32(tmp);
        out.byte(OP_I64_EXTEND_I32_U).byte(OP_I64_CONST).s32(BULK_COST_SHIFT).byte(OP_I64_SHR_U);
        out.byte(OP_I64_SUB).byte(OP_LOCAL_SET).u32(ctr);
        out.bytes(bytes.subarray(starts[i], ends[i]));
        break;
      default:
        out.bytes(bytes.subarray(starts[i], ends[i]));
    }
  }
  // Close the wrapper block, write back, end the function.
  out.byte(OP_END);
  writeBack();
  out.byte(OP_END);
}

/** Byte length of the LEB128 at `pos`. */
function lebLength(bytes: Uint8Array, pos: number): number {
  let i = 0;
  while (bytes[pos + i] & 0x80) i++;
  return i + 1;
}

/** Instruments a core module; see the module documentation. */
export function instrument(bytes: Uint8Array, options: InstrumentOptions): InstrumentResult {
  const maxPages = options.memoryMaxPages;
  if (!Number.isInteger(maxPages) || maxPages < 0 || maxPages > MAX_PAGES) {
    throw new AirssysError('invalid-argument', `memoryMaxPages must be an integer in 0..${MAX_PAGES}`, {
      details: { memoryMaxPages: maxPages },
    });
  }
  const sections = readSections(bytes);
  const ctx = new Ctx();
  const imm: Immediates = { a: 0, b: 0 };
  const byId = new Map<number, Section>();
  for (const s of sections) if (s.id !== SECTION_CUSTOM) byId.set(s.id, s);

  // Types.
  const typeSec = byId.get(SECTION_TYPE);
  if (typeSec) {
    const r = new Reader(bytes, typeSec.start, typeSec.end);
    const n = r.count();
    for (let i = 0; i < n; i++) {
      const t = readFuncType(r);
      ctx.types.push(t);
      const k = typeKey(t);
      if (!ctx.typeIndex.has(k)) ctx.typeIndex.set(k, i);
    }
    if (!r.eof()) r.fail('type section has trailing bytes');
  }
  const checkType = (r: Reader, at: number, idx: number) => {
    if (idx >= ctx.types.length) r.fail(`type index ${idx} out of range`, at);
    return idx;
  };

  // Imports.
  const importSec = byId.get(SECTION_IMPORT);
  let importCount = 0;
  let importBodyStart = 0;
  let memoryImports = 0;
  if (importSec) {
    const r = new Reader(bytes, importSec.start, importSec.end);
    importCount = r.count(3);
    importBodyStart = r.pos;
    for (let i = 0; i < importCount; i++) {
      const at = r.pos;
      const module = r.name();
      r.name();
      if (module === INSTRUMENT_MODULE) {
        throw invalid(
          `module imports from "${INSTRUMENT_MODULE}" at byte offset ${at}: a guest must not supply its own fuel plumbing`,
        );
      }
      const kindAt = r.pos;
      const kind = r.u8();
      if (kind === 0x00) {
        const tAt = r.pos;
        ctx.funcTypes.push(checkType(r, tAt, r.u32()));
        ctx.funcImports++;
      } else if (kind === 0x01) {
        skipValType(r);
        readLimits(r);
      } else if (kind === 0x02) {
        if (readLimits(r).memory64) r.fail('memory64 is not supported', kindAt);
        memoryImports++;
      } else if (kind === 0x03) {
        skipValType(r);
        r.u8();
        ctx.globalImports++;
      } else if (kind === 0x04) {
        r.u8();
        r.u32();
      } else r.fail(`unknown import kind 0x${kind.toString(16)}`, kindAt);
    }
    if (!r.eof()) r.fail('import section has trailing bytes');
  }
  ctx.outOfFuel = ctx.funcImports;
  ctx.growFailed = ctx.funcImports + 1;
  const globalSec = byId.get(SECTION_GLOBAL);
  const definedGlobals = globalSec ? new Reader(bytes, globalSec.start, globalSec.end).count(3) : 0;
  ctx.fuelGlobal = ctx.globalImports + definedGlobals;
  const voidType = ctx.typeFor({ params: [], results: [] });
  const grantType = ctx.typeFor({ params: [], results: [I64] });
  const refillType = ctx.typeFor({ params: [I64], results: [I64] });

  // Functions.
  const funcSec = byId.get(SECTION_FUNCTION);
  let definedCount = 0;
  if (funcSec) {
    const r = new Reader(bytes, funcSec.start, funcSec.end);
    definedCount = r.count();
    for (let i = 0; i < definedCount; i++) {
      const at = r.pos;
      ctx.funcTypes.push(checkType(r, at, r.u32()));
    }
    if (!r.eof()) r.fail('function section has trailing bytes');
  }

  // Exports: collect functions and plan wrappers.
  const exportSec = byId.get(SECTION_EXPORT);
  const exportNames: string[] = [];
  const wrapperFor = new Map<number, number>(); // original func index -> wrapper (new index)
  const wrapperOrder: number[] = [];
  const wrapperTypes: number[] = [];
  const newExports: Array<[string, number]> = [];
  const exportWriter = new Writer();
  {
    const r = exportSec ? new Reader(bytes, exportSec.start, exportSec.end) : undefined;
    const n = r ? r.count(3) : 0;
    const body = new Writer();
    const firstWrapper = ctx.funcImports + 2 + definedCount;
    for (let i = 0; i < n && r; i++) {
      const name = r.name();
      if (name.startsWith(RESERVED_EXPORT_PREFIX)) {
        throw invalid(`export name "${name}" uses the reserved prefix "${RESERVED_EXPORT_PREFIX}"`);
      }
      const kindAt = r.pos;
      const kind = r.u8();
      const idxAt = r.pos;
      const idx = r.u32();
      body.name(name).byte(kind);
      if (kind === 0x00) {
        if (idx >= ctx.funcTypes.length) r.fail(`function index ${idx} out of range`, idxAt);
        exportNames.push(name);
        let w = wrapperFor.get(idx);
        if (w === undefined) {
          w = firstWrapper + wrapperOrder.length;
          wrapperFor.set(idx, w);
          wrapperOrder.push(idx);
          const ft = ctx.types[ctx.funcTypes[idx]];
          wrapperTypes.push(ctx.typeFor({ params: [I32, ...ft.params], results: ft.results }));
        }
        if (options.entries?.has(name)) {
          body.u32(w);
        } else {
          body.u32(ctx.remapFunc(idx));
          newExports.push([FUEL_EXPORT_PREFIX + name, w]);
        }
      } else if (kind === 0x03) body.u32(ctx.remapGlobal(idx));
      else if (kind <= 0x04) body.u32(idx);
      else r.fail(`unknown export kind 0x${kind.toString(16)}`, kindAt);
    }
    if (r && !r.eof()) r.fail('export section has trailing bytes');
    ctx.refillFunc = firstWrapper + wrapperOrder.length;
    exportWriter.u32(n + newExports.length + 1).bytes(body.view());
    for (const [name, idx] of newExports) exportWriter.name(name).byte(0x00).u32(idx);
    exportWriter.name(FUEL_COUNTER_EXPORT).byte(0x03).u32(ctx.fuelGlobal);
  }

  // Section builders, keyed by id. Each returns the section content (undefined: drop it).
  const build = new Map<number, () => Writer | undefined>();
  const memorySec = byId.get(SECTION_MEMORY);
  const memory =
    options.importMemory && memoryImports === 0 && memorySec
      ? movableMemory(bytes, memorySec, maxPages)
      : undefined;

  build.set(SECTION_IMPORT, () => {
    const w = new Writer();
    w.u32(importCount + (memory === undefined ? 2 : 3));
    if (importSec) w.bytes(bytes.subarray(importBodyStart, importSec.end));
    w.name(INSTRUMENT_MODULE).name(OUT_OF_FUEL).byte(0x00).u32(grantType);
    w.name(INSTRUMENT_MODULE).name(GROW_FAILED).byte(0x00).u32(voidType);
    // Memory indices: the module imported none, so its only memory keeps index 0.
    if (memory !== undefined) {
      w.name(INSTRUMENT_MODULE)
        .name(MEMORY_IMPORT)
        .byte(0x02)
        .byte(0x01)
        .u32(memory.initial)
        .u32(memory.maximum);
    }
    return w;
  });

  build.set(SECTION_FUNCTION, () => {
    const w = new Writer();
    w.u32(definedCount + wrapperOrder.length + 1);
    for (let i = 0; i < definedCount; i++) w.u32(ctx.funcTypes[ctx.funcImports + i]);
    for (const t of wrapperTypes) w.u32(t);
    w.u32(refillType);
    return w;
  });

  build.set(SECTION_MEMORY, () => {
    if (memory !== undefined) return undefined;
    const s = byId.get(SECTION_MEMORY)!;
    const r = new Reader(bytes, s.start, s.end);
    const n = r.count();
    const w = new Writer().u32(n);
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      const lim = readLimits(r);
      if (lim.memory64) r.fail('memory64 is not supported', at);
      if (lim.min > maxPages) {
        throw new AirssysError(
          'out-of-memory',
          `memory ${i} asks for ${lim.min} pages (${lim.min * 64} KiB) initially but the manifest allows ${maxPages} pages (${maxPages * 64} KiB)`,
          { blame: 'guest', details: { memory: i, pages: lim.min, maxPages } },
        );
      }
      const max = Math.min(lim.max ?? MAX_PAGES, maxPages);
      w.byte(lim.shared ? 0x03 : 0x01)
        .u32(lim.min)
        .u32(max);
    }
    if (!r.eof()) r.fail('memory section has trailing bytes');
    return w;
  });

  build.set(SECTION_TABLE, () => {
    const s = byId.get(SECTION_TABLE)!;
    const r = new Reader(bytes, s.start, s.end);
    const n = r.count();
    for (let i = 0; i < n; i++) {
      if (r.bytes[r.pos] === 0x40) r.fail('tables with initializer expressions are not supported');
      skipValType(r);
      readLimits(r);
    }
    if (!r.eof()) r.fail('table section has trailing bytes');
    return new Writer().bytes(bytes.subarray(s.start, s.end));
  });

  build.set(SECTION_GLOBAL, () => {
    const w = new Writer().u32(definedGlobals + 1);
    if (globalSec) {
      const r = new Reader(bytes, globalSec.start, globalSec.end);
      r.count(3);
      for (let i = 0; i < definedGlobals; i++) {
        const p = r.pos;
        skipValType(r);
        r.u8();
        w.bytes(bytes.subarray(p, r.pos));
        rewriteConstExpr(r, w, ctx, imm);
      }
      if (!r.eof()) r.fail('global section has trailing bytes');
    }
    // The module's own fuel counter: (mut i64) starting at 0, exported for the host.
    w.byte(I64).byte(0x01).byte(OP_I64_CONST).byte(0x00).byte(OP_END);
    return w;
  });

  build.set(SECTION_EXPORT, () => exportWriter);

  build.set(SECTION_START, () => {
    const s = byId.get(SECTION_START)!;
    const r = new Reader(bytes, s.start, s.end);
    const at = r.pos;
    const idx = r.u32();
    if (idx >= ctx.funcTypes.length) r.fail(`start function index ${idx} out of range`, at);
    return new Writer().u32(ctx.remapFunc(idx));
  });

  build.set(SECTION_ELEMENT, () => {
    const s = byId.get(SECTION_ELEMENT)!;
    const r = new Reader(bytes, s.start, s.end);
    const n = r.count();
    const w = new Writer().u32(n);
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      const flags = r.u32();
      if (flags > 7) r.fail(`unknown element segment flags ${flags}`, at);
      w.u32(flags);
      if (flags === 2 || flags === 6) w.u32(r.u32()); // table index
      if ((flags & 1) === 0) rewriteConstExpr(r, w, ctx, imm); // active: offset
      if (flags & 3) {
        // elemkind (flags 1-3) or reftype (flags 5-7)
        const p = r.pos;
        if (flags & 4) skipValType(r);
        else r.u8();
        w.bytes(bytes.subarray(p, r.pos));
      }
      const m = r.count();
      w.u32(m);
      for (let j = 0; j < m; j++) {
        if (flags & 4) rewriteConstExpr(r, w, ctx, imm);
        else {
          const fAt = r.pos;
          const f = r.u32();
          if (f >= ctx.funcTypes.length) r.fail(`function index ${f} out of range`, fAt);
          w.u32(ctx.remapFunc(f));
        }
      }
    }
    if (!r.eof()) r.fail('element section has trailing bytes');
    return w;
  });

  build.set(SECTION_DATA, () => {
    const s = byId.get(SECTION_DATA)!;
    const r = new Reader(bytes, s.start, s.end);
    const n = r.count();
    const w = new Writer().u32(n);
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      const flags = r.u32();
      if (flags > 2) r.fail(`unknown data segment flags ${flags}`, at);
      w.u32(flags);
      if (flags === 2) w.u32(r.u32());
      if (flags !== 1) rewriteConstExpr(r, w, ctx, imm);
      const p = r.pos;
      r.skip(r.u32());
      w.bytes(bytes.subarray(p, r.pos));
    }
    if (!r.eof()) r.fail('data section has trailing bytes');
    return w;
  });

  build.set(SECTION_CODE, () => {
    const s = byId.get(SECTION_CODE);
    const w = new Writer(s ? (s.end - s.start) * 2 + 64 : 64);
    const body = new Writer(4096);
    let n = 0;
    if (s) {
      const r = new Reader(bytes, s.start, s.end);
      n = r.count(2);
      if (n !== definedCount)
        r.fail(`code section has ${n} bodies but ${definedCount} functions are declared`, s.start);
      w.u32(n + wrapperOrder.length + 1);
      for (let i = 0; i < n; i++) {
        const size = r.u32();
        if (size > r.remaining) r.fail(`function body size ${size} exceeds the section`);
        const fr = new Reader(bytes, r.pos, r.pos + size);
        body.len = 0;
        rewriteBody(fr, body, ctx, ctx.types[ctx.funcTypes[ctx.funcImports + i]], imm);
        w.sized(body);
        r.pos += size;
      }
      if (!r.eof()) r.fail('code section has trailing bytes');
    } else {
      if (definedCount !== 0) throw invalid('function section without code section');
      w.u32(wrapperOrder.length + 1);
    }
    for (const f of wrapperOrder) {
      const ft = ctx.types[ctx.funcTypes[f]];
      body.len = 0;
      body.u32(0);
      body.byte(OP_LOCAL_GET).u32(0);
      body.byte(OP_I64_EXTEND_I32_U);
      body.byte(OP_GLOBAL_SET).u32(ctx.fuelGlobal);
      for (let p = 0; p < ft.params.length; p++) body.byte(OP_LOCAL_GET).u32(p + 1);
      body.byte(OP_CALL).u32(ctx.remapFunc(f)).byte(OP_END);
      w.sized(body);
    }
    // The refill helper: (counter) → global = counter; counter + out-of-fuel().
    body.len = 0;
    body.u32(0);
    body.byte(OP_LOCAL_GET).u32(0).byte(OP_GLOBAL_SET).u32(ctx.fuelGlobal);
    body.byte(OP_CALL).u32(ctx.outOfFuel).byte(OP_LOCAL_GET).u32(0).byte(OP_I64_ADD).byte(OP_END);
    w.sized(body);
    return w;
  });

  if (!byId.get(SECTION_CODE) && definedCount !== 0) throw invalid('function section without code section');

  // Build in order. Code must be built before types (it may add block types), so build contents
  // first, then emit.
  const contents = new Map<number, Writer | undefined>();
  const order = [
    SECTION_IMPORT,
    SECTION_FUNCTION,
    SECTION_TABLE,
    SECTION_MEMORY,
    SECTION_GLOBAL,
    SECTION_EXPORT,
    SECTION_START,
    SECTION_ELEMENT,
    SECTION_CODE,
    SECTION_DATA,
  ];
  for (const id of order) {
    const always =
      id === SECTION_IMPORT ||
      id === SECTION_FUNCTION ||
      id === SECTION_GLOBAL ||
      id === SECTION_CODE ||
      id === SECTION_EXPORT;
    if (byId.has(id) || always) contents.set(id, build.get(id)!());
  }
  {
    const w = new Writer();
    w.u32(ctx.types.length + ctx.newTypes.length);
    if (typeSec) {
      const r = new Reader(bytes, typeSec.start, typeSec.end);
      r.u32();
      w.bytes(bytes.subarray(r.pos, typeSec.end));
    }
    for (const t of ctx.newTypes) writeFuncType(w, t);
    contents.set(SECTION_TYPE, w);
  }

  // Emit: original order, custom sections kept in place (except `name`), new sections inserted
  // where the order requires.
  const out = new Writer(bytes.length * 2 + 256);
  out.bytes(bytes.subarray(0, 8));
  const emitted = new Set<number>();
  const emit = (id: number) => {
    emitted.add(id);
    const c = contents.get(id);
    if (c === undefined) return;
    out.byte(id).sized(c);
  };
  const emitPending = (rank: number) => {
    for (const id of [...contents.keys()].sort((a, b) => SECTION_RANK[a] - SECTION_RANK[b])) {
      if (!emitted.has(id) && SECTION_RANK[id] < rank) emit(id);
    }
  };
  for (const s of sections) {
    if (s.id === SECTION_CUSTOM) {
      const r = new Reader(bytes, s.start, s.end);
      if (r.name() === 'name') continue;
      out.bytes(bytes.subarray(s.headerStart, s.end));
      continue;
    }
    emitPending(SECTION_RANK[s.id]);
    if (contents.has(s.id)) emit(s.id);
    else out.bytes(bytes.subarray(s.headerStart, s.end));
  }
  emitPending(Number.POSITIVE_INFINITY);
  return { bytes: out.finish(), exports: exportNames, ...(memory && { memory }) };
}

/** The clamped limits of a memory section's one memory, if it has one and it is not shared. */
function movableMemory(bytes: Uint8Array, section: Section, maxPages: number): MemoryShape | undefined {
  const r = new Reader(bytes, section.start, section.end);
  if (r.count() !== 1) return undefined;
  const lim = readLimits(r);
  // Out of range or 64-bit: left to the memory section builder, which refuses it.
  if (lim.shared || lim.memory64 || lim.min > maxPages) return undefined;
  return { initial: lim.min, maximum: Math.min(lim.max ?? MAX_PAGES, maxPages) };
}

/** The memory an instrumented module imports as `airssys:instrument` `memory`, if it does. */
export function importedMemory(bytes: Uint8Array): MemoryShape | undefined {
  const section = readSections(bytes).find((s) => s.id === SECTION_IMPORT);
  if (section === undefined) return undefined;
  const r = new Reader(bytes, section.start, section.end);
  const n = r.count(3);
  for (let i = 0; i < n; i++) {
    const module = r.name();
    const name = r.name();
    const kind = r.u8();
    if (kind === 0x00) r.u32();
    else if (kind === 0x01) {
      skipValType(r);
      readLimits(r);
    } else if (kind === 0x02) {
      const lim = readLimits(r);
      if (module === INSTRUMENT_MODULE && name === MEMORY_IMPORT) {
        return { initial: lim.min, maximum: lim.max ?? MAX_PAGES };
      }
    } else if (kind === 0x03) {
      skipValType(r);
      r.u8();
    } else {
      r.u8();
      r.u32();
    }
  }
  return undefined;
}
