/**
 * Canonical ABI call paths, generated once per function signature.
 *
 * `compileLift` produces the host → guest path of an export, `compileLower` the guest → host
 * path of an import. Both return source-generated factories (via `new Function`): the code is
 * straight-line JS specialised on the function type (one statement sequence per field and case,
 * no interpretation of types at call time), and the factory binds it to one instance.
 *
 * JS value mapping
 * - bool ↔ boolean (strict: only `true`/`false` are accepted; any non-zero guest byte lifts to `true`)
 * - s8, u8, s16, u16, s32, u32, f32, f64 ↔ number (u32 non-negative; integers must be exact and in range)
 * - s64, u64 ↔ bigint (a safe-integer number is accepted as input)
 * - char ↔ string of exactly one Unicode scalar value (lone surrogates rejected)
 * - string ↔ string (must be well-formed UTF-16 on input: lone surrogates are rejected)
 * - list<u8> ↔ Uint8Array (input: any array-like of u8 numbers; a Uint8Array is copied in one go)
 * - list<T> ↔ Array (input: any array-like)
 * - record ↔ plain object keyed by the WIT field names in lowerCamelCase (`max-size` → `maxSize`)
 * - tuple ↔ Array of exactly the tuple's length
 * - variant ↔ `{ tag: '<case name as in WIT>', val }`; `val` is absent for cases without payload
 * - enum ↔ the case name string
 * - option<T> ↔ `T | undefined` (null accepted as none) when T is not itself an option;
 *   option<option<U>> ↔ `{ tag: 'some', val } | { tag: 'none' }` (undefined/null accepted as none)
 * - result<T, E> ↔ `{ tag: 'ok', val } | { tag: 'err', val }` (`val` absent without payload; never thrown)
 * - flags ↔ object of booleans keyed by lowerCamelCase names (missing keys are `false` on input)
 * - own<T>/borrow<T> of a host resource ↔ the host's own JS object, only a live one of exactly
 *   T on input (see `host-resources.ts`); of a guest resource ↔ a `Resource` handle object
 */

import { AirssysError } from '../../../shared/errors.js';
import type { CanonOptionsShape, FuncType, ValType } from '../types.js';
import { FlatIter, Gen } from './codegen.js';
import { borrowsByRep, type HandleTables } from './handles.js';
import {
  alignment,
  containsType,
  flattenFuncType,
  flattenType,
  flattenTypes,
  MAX_FLAT_PARAMS,
  MAX_FLAT_RESULTS,
  recordLayout,
  size,
  usesMemory,
} from './layout.js';
import { loadStringSource, memorySource, RUNTIME_NAMES, runtime, storeStringSource } from './runtime.js';

export {
  createHandleTables,
  HandleTables,
  Resource,
  resourceDrop,
  resourceNew,
  resourceRep,
} from './handles.js';
export type { CoreType } from './layout.js';
export { alignment, flattenFuncType, size };

/**
 * The part of a `WebAssembly.Memory` the generated code uses. (Structurally a subset of
 * `WebAssembly.Memory`; spelled out because the project's `lib` settings carry no WebAssembly typings.)
 */
export interface CanonMemory {
  readonly buffer: ArrayBuffer;
}

/** Per component-instance state the generated code reads; one object per instance, fields mutated by the engine. */
export interface CanonInstance {
  memory: CanonMemory | undefined;
  /** 0 idle, 1 inside a call (re-entry forbidden), 2 poisoned (trapped: never reused). */
  state: number;
  /** The fuel handed to the core call as its first argument (the engine sets it per invocation). */
  fuel: number;
  /** Called by generated code when state !== 0 at entry: throws the right error. */
  cannotEnter(): never;
  /** Called with anything thrown while the guest ran; returns the error to throw and poisons the instance when it must. */
  fail(error: unknown, exportName: string): Error;
  handles: HandleTables;
}

export interface LiftOptions {
  shape: CanonOptionsShape;
  fuelParam: boolean;
  name: string;
  /**
   * The lifted side of a fused adapter: called by guest code already running inside a call, so
   * no entry guard and no fuel of its own; whatever it throws unwinds to the export being run.
   */
  fused?: boolean;
  /**
   * The component instance the lifted function belongs to (decoder numbering), to pass a
   * borrow of a guest resource it implements as the rep and any other as a borrow handle.
   * Unset: the component itself implements every guest resource.
   */
  componentInstance?: number;
  /**
   * JSPI: `core` is `WebAssembly.promising(export)`, so the generated function is `async` and
   * awaits it; the guest may suspend inside (in a `suspending` import) without blocking the
   * thread. Not for fused halves, which run inside a call already.
   */
  async?: boolean;
}

export interface LowerOptions {
  shape: CanonOptionsShape;
  name: string;
  /**
   * JSPI: `host` may return a promise (a wait); the generated function then returns a promise
   * of the lowered result, for the engine to wrap in `WebAssembly.Suspending`. A plain value is
   * lowered at once, so a call that does not wait does not suspend.
   */
  suspending?: boolean;
  /**
   * `host` keeps none of its `list<u8>` arguments past its return (it writes them out, or
   * copies what it keeps): they are passed as views of the guest's memory, not copies — a new
   * buffer of a few KiB costs microseconds, the view nothing. Not with `suspending`: the guest's
   * memory may change while the call is suspended.
   */
  lendBytes?: boolean;
}

// biome-ignore lint/complexity/noBannedTypes: core wasm functions are untyped
type CoreFunction = Function;

export type LiftFactory = (
  core: CoreFunction,
  inst: CanonInstance,
  realloc: CoreFunction | undefined,
  postReturn: CoreFunction | undefined,
) => (...args: unknown[]) => unknown;

export type LowerFactory = (
  host: (...args: any[]) => unknown,
  inst: CanonInstance,
  realloc: CoreFunction | undefined,
) => (...coreArgs: any[]) => unknown;

function invalid(name: string, message: string): AirssysError {
  return new AirssysError('invalid-component', `${name}: ${message}`, { blame: 'guest' });
}

function checkShape(
  name: string,
  kind: string,
  shape: CanonOptionsShape,
  needMemory: boolean,
  needRealloc: boolean,
): void {
  if (needMemory && !shape.hasMemory) {
    throw invalid(
      name,
      `canon ${kind} needs a memory option for this signature (strings, lists or many values)`,
    );
  }
  if (needRealloc && !shape.hasRealloc) {
    throw invalid(
      name,
      `canon ${kind} needs a realloc option for this signature (strings or lists passed in)`,
    );
  }
  const enc = shape.stringEncoding as string;
  if (enc !== 'utf8' && enc !== 'utf16' && enc !== 'latin1+utf16') {
    throw invalid(name, `string encoding "${enc}" is not supported`);
  }
}

/** Whether lowering `t` into component instance `callee` lends it borrow handles it must drop. */
function lendsHandles(t: ValType, callee: number | undefined): boolean {
  return containsType(t, (x) => x.kind === 'borrow' && !borrowsByRep(x.resource, callee));
}

function hasGuestBorrow(t: ValType): boolean {
  return containsType(t, (x) => x.kind === 'borrow' && x.resource.origin === 'guest');
}

function identifier(name: string, prefix: string): string {
  return `${prefix}_${name.replace(/[^A-Za-z0-9_$]/g, '_')}`;
}

function build(g: Gen, needMemory: boolean, factoryParams: string, inner: string): string {
  const helpers: string[] = [];
  if (needMemory || g.usesStoreStr || g.usesLoadStr) helpers.push(memorySource());
  if (g.usesStoreStr) helpers.push(storeStringSource(g.encoding));
  if (g.usesLoadStr) helpers.push(loadStringSource(g.encoding));
  return `'use strict';
const { ${RUNTIME_NAMES.join(', ')} } = rt;
const FN = ${JSON.stringify(g.fname)};
${g.consts.join('\n')}
return function (${factoryParams}) {
  const hs = inst.handles;
  ${helpers.join('\n  ')}
  ${inner}
};`;
}

function instantiateSource<T>(name: string, source: string, refs: unknown[]): T {
  try {
    return new Function('rt', 'refs', source)(runtime, refs) as T;
  } catch (error) {
    throw new AirssysError(
      'internal',
      `${name}: generated canonical ABI code does not compile: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
}

/** Generated source of the last compile, for debugging (`CANON_DEBUG=1` prints it). */
let debug = typeof process !== 'undefined' && process.env?.CANON_DEBUG === '1';
export function setCanonDebug(on: boolean): void {
  debug = on;
}

/** The flattened shape of a function type that both directions specialise on. */
function signature(type: FuncType) {
  const paramTypes = type.params.map((p) => p.type);
  const flatParams = flattenTypes(paramTypes);
  const result = type.result;
  const flatResults = result === undefined ? [] : flattenType(result);
  return {
    paramTypes,
    flatParams,
    result,
    flatResults,
    paramsInMemory: flatParams.length > MAX_FLAT_PARAMS,
    resultInMemory: flatResults.length > MAX_FLAT_RESULTS,
  };
}

/** Source-generated once per (type, options); returns a factory the engine calls per instance. */
export function compileLift(type: FuncType, options: LiftOptions): LiftFactory {
  const { shape, fuelParam, name } = options;
  const g = new Gen(name, shape.stringEncoding, options.componentInstance);
  const { paramTypes, result, flatResults, paramsInMemory, resultInMemory } = signature(type);
  const needRealloc = paramTypes.some(usesMemory) || paramsInMemory;
  const needMemory = needRealloc || resultInMemory || (result !== undefined && usesMemory(result));
  checkShape(name, 'lift', shape, needMemory, needRealloc);

  const args = type.params.map((_, i) => `a${i}`);
  // Lowering the JS arguments.
  let flat: string[];
  if (!paramsInMemory) {
    flat = type.params.flatMap((p, i) =>
      g.lowerFlat(p.type, args[i], 'arg', `parameter "${p.name}"`).map((f) => f.expr),
    );
  } else {
    const layout = recordLayout(paramTypes);
    g.emit(`const pp = realloc(0, 0, ${layout.align}, ${layout.size}) >>> 0;`);
    g.emit('refresh();');
    if (layout.align > 1)
      g.emit(`if ((pp & ${layout.align - 1}) !== 0) throw misaligned(pp, ${layout.align}, 'parameters');`);
    g.emit(`if (pp + ${layout.size} > u8.length) throw oob(pp, ${layout.size}, 'parameters');`);
    type.params.forEach((p, i) => {
      const off = layout.offsets[i];
      g.store(p.type, args[i], off === 0 ? 'pp' : `pp + ${off}`, 'arg', `parameter "${p.name}"`);
    });
    flat = ['pp'];
  }
  g.emit('entered = true;');
  const callArgs = (fuelParam ? ['inst.fuel', ...flat] : flat).join(', ');
  const awaitCore = options.async ? 'await ' : '';
  g.emit(`${flatResults.length > 0 ? 'const r = ' : ''}${awaitCore}core(${callArgs});`);
  // Lifting the result.
  let value = 'undefined';
  if (result !== undefined) {
    if (!resultInMemory) {
      if (usesMemory(result)) g.emit('refresh();');
      value = g.liftFlat(result, new FlatIter([{ expr: 'r', type: flatResults[0] }]));
    } else {
      const a = alignment(result);
      const s = size(result);
      g.emit('refresh();');
      g.emit('const rp = r >>> 0;');
      if (a > 1) g.emit(`if ((rp & ${a - 1}) !== 0) throw misaligned(rp, ${a}, 'result');`);
      g.emit(`if (rp + ${s} > u8.length) throw oob(rp, ${s}, 'result');`);
      value = g.load(result, 'rp');
    }
    g.emit(`const res = ${value};`);
    value = 'res';
  }
  const borrows = paramTypes.some((t) => lendsHandles(t, options.componentInstance));
  const notDropped = g.trap('borrow handles lent to the guest were not dropped before it returned');
  if (borrows && options.fused) {
    // The borrows of the export call being run stay counted: only this call's must be gone.
    g.emit(`hs.lent.length = l0;`);
    g.emit(`if (hs.borrows !== b0) ${notDropped}`);
  } else if (borrows) {
    g.emit('hs.lent.length = 0;');
    g.emit(`if (hs.borrows !== 0) { hs.borrows = 0; ${notDropped} }`);
  }
  if (shape.hasPostReturn) {
    g.emit(`if (postReturn !== undefined) postReturn(${flatResults.length > 0 ? 'r' : ''});`);
  }
  if (!options.fused) g.emit('inst.state = 0;');
  g.emit(`return ${value};`);

  const fn = identifier(name, 'lift');
  if (options.fused) {
    const inner = `return function ${fn}(${args.join(', ')}) {
    ${borrows ? 'const b0 = hs.borrows, l0 = hs.lent.length;' : ''}
    let entered = false;
    ${g.body.join('\n    ')}
  };`;
    const source = build(g, needMemory, 'core, inst, realloc, postReturn', inner);
    if (debug) console.log(source);
    return instantiateSource<LiftFactory>(name, source, g.refs);
  }
  if (options.async && options.fused) throw invalid(name, 'a fused adapter half cannot be async');
  const inner = `return ${options.async ? 'async ' : ''}function ${fn}(${args.join(', ')}) {
    if (inst.state !== 0) inst.cannotEnter();
    inst.state = 1;
    let entered = false;
    try {
      ${g.body.join('\n      ')}
    } catch (e) {
      if (!entered && isArgError(e)) { ${borrows ? 'hs.releaseLent(); ' : ''}inst.state = 0; throw e; }
      throw inst.fail(e, FN);
    }
  };`;
  const source = build(g, needMemory, 'core, inst, realloc, postReturn', inner);
  if (debug) console.log(source);
  return instantiateSource<LiftFactory>(name, source, g.refs);
}

/** Source-generated once per (type, options): the core function a guest imports, calling `host`. */
export function compileLower(type: FuncType, options: LowerOptions): LowerFactory {
  const { shape, name } = options;
  const g = new Gen(name, shape.stringEncoding);
  if (options.lendBytes === true && options.suspending === true)
    throw invalid(name, 'a host function that may suspend cannot be lent guest memory');
  g.lendBytes = options.lendBytes === true;
  const { paramTypes, flatParams, result, paramsInMemory, resultInMemory } = signature(type);
  const needRealloc = result !== undefined && usesMemory(result);
  const needMemory = needRealloc || paramsInMemory || resultInMemory || paramTypes.some(usesMemory);
  checkShape(name, 'lower', shape, needMemory, needRealloc);
  if (shape.hasPostReturn) throw invalid(name, 'canon lower does not take a post-return option');

  const core = flattenFuncType(type, 'lower');
  const cargs = core.params.map((_, i) => `c${i}`);
  // Borrows of guest resources lent to the host die when the host function returns.
  const guestBorrows = paramTypes.some(hasGuestBorrow);
  if (guestBorrows) g.emit('const lb = hs.lentToHost.length;');
  if (needMemory) g.emit('refresh();');
  let values: string[];
  if (!paramsInMemory) {
    const it = new FlatIter(flatParams.map((t, i) => ({ expr: cargs[i], type: t })));
    values = type.params.map((p) => {
      const x = g.v('p');
      g.emit(`const ${x} = ${g.liftFlat(p.type, it)};`);
      return x;
    });
  } else {
    const layout = recordLayout(paramTypes);
    g.emit('const pp = c0 >>> 0;');
    if (layout.align > 1)
      g.emit(`if ((pp & ${layout.align - 1}) !== 0) throw misaligned(pp, ${layout.align}, 'parameters');`);
    g.emit(`if (pp + ${layout.size} > u8.length) throw oob(pp, ${layout.size}, 'parameters');`);
    values = type.params.map((p, i) => {
      const x = g.v('p');
      const off = layout.offsets[i];
      g.emit(`const ${x} = ${g.load(p.type, off === 0 ? 'pp' : `pp + ${off}`)};`);
      return x;
    });
  }
  const call = `host(${values.join(', ')})`;
  const suspending = options.suspending === true;
  // Borrows lent to the host end when it returns: a host function that may wait takes none.
  if (suspending && guestBorrows)
    throw invalid(name, 'a host function that may suspend cannot take guest borrows');
  const callAt = g.body.length;
  if (suspending) g.emit(`const r = ${call};`);
  else if (!guestBorrows) g.emit(result === undefined ? `${call};` : `const r = ${call};`);
  else if (result === undefined) g.emit(`try { ${call}; } finally { endHostBorrows(hs, lb); }`);
  else g.emit(`let r; try { r = ${call}; } finally { endHostBorrows(hs, lb); }`);
  if (result !== undefined) {
    if (!resultInMemory) {
      const parts = g.lowerFlat(result, 'r', 'result', 'result');
      g.emit(parts.length === 0 ? 'return;' : `return ${parts[0].expr};`);
    } else {
      const a = alignment(result);
      const s = size(result);
      const out = cargs[cargs.length - 1];
      g.emit(`const op = ${out} >>> 0;`);
      g.emit('refresh();');
      if (a > 1) g.emit(`if ((op & ${a - 1}) !== 0) throw misaligned(op, ${a}, 'result');`);
      g.emit(`if (op + ${s} > u8.length) throw oob(op, ${s}, 'result');`);
      g.store(result, 'r', 'op', 'result', 'result');
    }
  }
  const fn = identifier(name, 'lower');
  let body = g.body;
  if (suspending) {
    // What follows the host call runs now for a value, or once its promise settles.
    const after = body.slice(callAt + 1);
    body = [
      ...body.slice(0, callAt + 1),
      `const after = (r) => {\n      ${after.join('\n      ')}\n    };`,
      "if (r !== null && typeof r === 'object' && typeof r.then === 'function') return r.then(after);",
      'return after(r);',
    ];
  }
  const inner = `return function ${fn}(${cargs.join(', ')}) {
    ${body.join('\n    ')}
  };`;
  const source = build(g, needMemory, 'host, inst, realloc', inner);
  if (debug) console.log(source);
  return instantiateSource<LowerFactory>(name, source, g.refs);
}
