/**
 * Source generator: straight-line JS specialised on one function type. Four emitters mirror the
 * canonical ABI's `lower_flat`, `store`, `lift_flat` and `load`; each appends statements to the
 * body being built and returns expressions (always side-effect free: they only read `const`s
 * declared before them) naming the produced values.
 */

import type { ResourceType, StringEncoding, ValType } from '../types.js';
import { borrowsByRep } from './handles.js';
import {
  alignment,
  type CoreType,
  camelCase,
  flattenVariant,
  recordLayout,
  recordTypes,
  size,
  variantCases,
  variantLayout,
} from './layout.js';

export interface FlatValue {
  expr: string;
  type: CoreType;
}

/** Hands out flat core values in order; with `coerce`, reinterprets joined variant slots. */
export class FlatIter {
  private i = 0;
  constructor(
    private readonly values: readonly FlatValue[],
    private readonly coerce = false,
  ) {}

  next(want: CoreType): string {
    const v = this.values[this.i++];
    if (v === undefined) throw new Error('flat value iterator exhausted');
    if (v.type === want) return v.expr;
    if (!this.coerce) throw new Error(`flat type mismatch: have ${v.type}, want ${want}`);
    return coerceLift(v.expr, v.type, want);
  }
}

function coerceLift(x: string, have: CoreType, want: CoreType): string {
  if (have === 'i32' && want === 'f32') return `i32ToF32(${x})`;
  if (have === 'i64' && want === 'i32') return `Number(BigInt.asIntN(32, ${x}))`;
  if (have === 'i64' && want === 'f32') return `i32ToF32(Number(BigInt.asIntN(32, ${x})))`;
  if (have === 'i64' && want === 'f64') return `i64ToF64(${x})`;
  throw new Error(`cannot coerce ${have} to ${want}`);
}

function coerceLower(x: string, have: CoreType, want: CoreType): string {
  if (have === want) return x;
  if (have === 'f32' && want === 'i32') return `f32ToI32(${x})`;
  if (have === 'i32' && want === 'i64') return `BigInt(${x} >>> 0)`;
  if (have === 'f32' && want === 'i64') return `BigInt(f32ToI32(${x}) >>> 0)`;
  if (have === 'f64' && want === 'i64') return `f64ToI64(${x})`;
  throw new Error(`cannot coerce ${have} to ${want}`);
}

function zero(t: CoreType): string {
  return t === 'i64' ? '0n' : '0';
}

const lit = (s: string): string => JSON.stringify(s);

interface JsCases {
  /** Condition selecting case i (`'true'` for an unconditional last case). */
  conds: string[];
  payload: string;
  expected: string;
}

/** Per integer kind: the expression that wraps a number into range (equal iff in range), and what is expected. */
const INT_CHECKS: Record<'u8' | 's8' | 'u16' | 's16' | 'u32' | 's32', [(x: string) => string, string]> = {
  u8: [(x) => `(${x} & 0xff)`, 'a u8 (integer 0..255)'],
  s8: [(x) => `((${x} << 24) >> 24)`, 'an s8 (integer -128..127)'],
  u16: [(x) => `(${x} & 0xffff)`, 'a u16 (integer 0..65535)'],
  s16: [(x) => `((${x} << 16) >> 16)`, 'an s16 (integer -32768..32767)'],
  u32: [(x) => `(${x} >>> 0)`, 'a u32 (integer 0..4294967295)'],
  s32: [(x) => `(${x} | 0)`, 'an s32 (integer -2147483648..2147483647)'],
};

export class Gen {
  private n = 0;
  readonly body: string[] = [];
  readonly consts: string[] = [];
  readonly refs: unknown[] = [];
  usesStoreStr = false;
  usesLoadStr = false;
  /**
   * `list<u8>` read from guest memory as a view of it instead of a copy: only for a host
   * function that is done with its arguments when it returns (`LowerOptions.lendBytes`).
   */
  lendBytes = false;

  constructor(
    readonly fname: string,
    readonly encoding: StringEncoding,
    /** The component instance values are lowered into (see `LiftOptions.componentInstance`). */
    readonly callee?: number,
  ) {}

  v(prefix: string): string {
    return `${prefix}${this.n++}`;
  }

  emit(line: string): void {
    this.body.push(line);
  }

  k(value: string): string {
    const name = `K${this.consts.length}`;
    this.consts.push(`const ${name} = ${JSON.stringify(value)};`);
    return name;
  }

  ref(value: unknown): string {
    const i = this.refs.indexOf(value);
    if (i >= 0) return `refs[${i}]`;
    this.refs.push(value);
    return `refs[${this.refs.length - 1}]`;
  }

  /** `throw` statement for a bad host value (argument of an export, or result of an import). */
  bad(role: 'arg' | 'result', path: string, expected: string, value: string): string {
    const fn = role === 'arg' ? 'badArg' : 'badResult';
    return `throw ${fn}(${this.k(`${this.fname}: ${path}: expected ${expected}`)}, ${value});`;
  }

  trap(message: string): string {
    return `throw trap(${this.k(`${this.fname}: ${message}`)});`;
  }

  // ---- JS value → core values ---------------------------------------------------------------

  /** Validation of a scalar; returns the core expression. */
  private scalar(t: ValType, src: string, role: 'arg' | 'result', path: string): FlatValue {
    const bad = (expected: string) => this.bad(role, path, expected, src);
    switch (t.kind) {
      case 'bool':
        this.emit(`if (typeof ${src} !== 'boolean') ${bad('a boolean')}`);
        return { expr: `(${src} ? 1 : 0)`, type: 'i32' };
      case 'u8':
      case 's8':
      case 'u16':
      case 's16':
      case 'u32':
      case 's32': {
        const [wrap, expected] = INT_CHECKS[t.kind];
        this.emit(`if (typeof ${src} !== 'number' || ${wrap(src)} !== ${src}) ${bad(expected)}`);
        return { expr: src, type: 'i32' };
      }
      case 's64':
      case 'u64': {
        const x = this.v('b');
        const fn = t.kind === 's64' ? 'asIntN' : 'asUintN';
        const range = t.kind === 's64' ? 'an s64 (bigint -2^63..2^63-1' : 'a u64 (bigint 0..2^64-1';
        const numOk =
          t.kind === 's64' ? `Number.isSafeInteger(${src})` : `Number.isSafeInteger(${src}) && ${src} >= 0`;
        this.emit(`let ${x};`);
        this.emit(
          `if (typeof ${src} === 'bigint') { if (BigInt.${fn}(64, ${src}) !== ${src}) ${bad(`${range})`)} ${x} = ${src}; }`,
        );
        this.emit(
          `else if (typeof ${src} === 'number' && ${numOk}) ${x} = BigInt(${src}); else ${bad(`${range}, or a safe integer)`)}`,
        );
        return { expr: x, type: 'i64' };
      }
      case 'f32':
      case 'f64':
        this.emit(`if (typeof ${src} !== 'number') ${bad('a number')}`);
        return { expr: src, type: t.kind };
      case 'char': {
        const c = this.v('c');
        this.emit(`if (typeof ${src} !== 'string') ${bad('a char (string of one code point)')}`);
        this.emit(`const ${c} = ${src}.codePointAt(0);`);
        this.emit(
          `if (${c} === undefined || ${src}.length !== (${c} > 0xffff ? 2 : 1) || (${c} >= 0xd800 && ${c} <= 0xdfff)) ${bad('a char (string of one Unicode scalar value)')}`,
        );
        return { expr: c, type: 'i32' };
      }
      case 'own':
      case 'borrow': {
        const rt = t.resource;
        const h = this.v('h');
        const fn =
          t.kind === 'own'
            ? rt.origin === 'host'
              ? 'lowerOwnHost'
              : 'lowerOwnGuest'
            : rt.origin === 'host'
              ? 'lowerBorrowHost'
              : borrowsByRep(rt, this.callee)
                ? 'lowerBorrowGuest'
                : 'lowerBorrowGuestHandle';
        const expected =
          rt.origin === 'host'
            ? t.kind === 'own' && role === 'arg'
              ? `a live ${rt.name} resource object the guest does not already own`
              : `a live ${rt.name} resource object`
            : t.kind === 'own'
              ? `an owned ${rt.name} Resource of this instance`
              : `a live ${rt.name} Resource of this instance`;
        const minting = fn === 'lowerOwnHost' ? `, ${role === 'result'}` : '';
        this.emit(`const ${h} = ${fn}(hs, ${rt.id}, ${src}${minting});`);
        this.emit(`if (${h} < 0) ${bad(expected)}`);
        return { expr: h, type: 'i32' };
      }
      default:
        throw new Error(`not a scalar: ${t.kind}`);
    }
  }

  private objectCheck(src: string, role: 'arg' | 'result', path: string, expected: string): void {
    this.emit(`if (${src} === null || typeof ${src} !== 'object') ${this.bad(role, path, expected, src)}`);
  }

  private jsCases(t: ValType, src: string, role: 'arg' | 'result', path: string): JsCases {
    switch (t.kind) {
      case 'variant': {
        const tags = t.cases.map((c) => `'${c.name}'`).join(' | ');
        const expected = `{ tag: ${tags}, val? }`;
        this.objectCheck(src, role, path, expected);
        const tg = this.v('tg');
        this.emit(`const ${tg} = ${src}.tag;`);
        return { conds: t.cases.map((c) => `${tg} === ${lit(c.name)}`), payload: `${src}.val`, expected };
      }
      case 'enum':
        return {
          conds: t.names.map((n) => `${src} === ${lit(n)}`),
          payload: src,
          expected: `one of ${t.names.map((n) => `'${n}'`).join(', ')}`,
        };
      case 'option':
        if (t.type.kind !== 'option') {
          return { conds: [`${src} === undefined || ${src} === null`, 'true'], payload: src, expected: '' };
        } else {
          const tg = this.v('tg');
          this.emit(
            `const ${tg} = ${src} === undefined || ${src} === null ? 'none' : typeof ${src} === 'object' ? ${src}.tag : undefined;`,
          );
          return {
            conds: [`${tg} === 'none'`, `${tg} === 'some'`],
            payload: `${src}.val`,
            expected: `{ tag: 'some', val } or { tag: 'none' } or undefined`,
          };
        }
      case 'result': {
        const expected = `{ tag: 'ok' | 'err', val? }`;
        this.objectCheck(src, role, path, expected);
        const tg = this.v('tg');
        this.emit(`const ${tg} = ${src}.tag;`);
        return { conds: [`${tg} === 'ok'`, `${tg} === 'err'`], payload: `${src}.val`, expected };
      }
      default:
        throw new Error(`not variant-like: ${t.kind}`);
    }
  }

  private casePath(t: ValType, path: string, name: string): string {
    if (t.kind === 'option') return `${path} (some)`;
    if (t.kind === 'result') return `${path} (${name === 'ok' ? 'ok' : 'err'})`;
    return `${path} case "${name}"`;
  }

  /** Emits a per-case dispatch: `body(i)` runs inside the branch of case i with the payload in a const. */
  private dispatch(
    t: ValType,
    src: string,
    role: 'arg' | 'result',
    path: string,
    body: (i: number, payload: string | undefined) => void,
  ): void {
    const cases = variantCases(t);
    const js = this.jsCases(t, src, role, path);
    cases.forEach((c, i) => {
      const cond = js.conds[i];
      this.emit(i === 0 ? `if (${cond}) {` : cond === 'true' ? '} else {' : `} else if (${cond}) {`);
      let payload: string | undefined;
      if (c.type !== undefined) {
        payload = this.v('pv');
        this.emit(`const ${payload} = ${js.payload};`);
      }
      body(i, payload);
    });
    if (js.conds[js.conds.length - 1] !== 'true') {
      this.emit(`} else ${this.bad(role, path, js.expected, src)}`);
    } else {
      this.emit('}');
    }
  }

  lowerFlat(t: ValType, src: string, role: 'arg' | 'result', path: string): FlatValue[] {
    switch (t.kind) {
      case 'string':
      case 'list': {
        const [p, n] = this.storeRange(t, src, role, path);
        return [
          { expr: p, type: 'i32' },
          { expr: n, type: 'i32' },
        ];
      }
      case 'record':
      case 'tuple':
        return this.fields(t, src, role, path).flatMap(({ type, value, path: fp }) =>
          this.lowerFlat(type, value, role, fp),
        );
      case 'variant':
      case 'enum':
      case 'option':
      case 'result': {
        const cases = variantCases(t);
        const flat = flattenVariant(cases);
        const d = this.v('d');
        const slots = flat.slice(1).map(() => this.v('x'));
        this.emit(`let ${[`${d} = 0`, ...slots.map((x, j) => `${x} = ${zero(flat[j + 1])}`)].join(', ')};`);
        this.dispatch(t, src, role, path, (i, payload) => {
          if (i !== 0) this.emit(`${d} = ${i};`);
          const c = cases[i];
          if (c.type === undefined || payload === undefined) return;
          const parts = this.lowerFlat(c.type, payload, role, this.casePath(t, path, c.name));
          parts.forEach((part, j) => {
            this.emit(`${slots[j]} = ${coerceLower(part.expr, part.type, flat[j + 1])};`);
          });
        });
        return [{ expr: d, type: 'i32' }, ...slots.map((x, j) => ({ expr: x, type: flat[j + 1] }))];
      }
      case 'flags': {
        const words = this.flagWords(t.names, src, role, path);
        return words.map((w) => ({ expr: w, type: 'i32' as const }));
      }
      default:
        return [this.scalar(t, src, role, path)];
    }
  }

  private fields(
    t: ValType,
    src: string,
    role: 'arg' | 'result',
    path: string,
  ): { type: ValType; value: string; path: string }[] {
    if (t.kind === 'record') {
      this.objectCheck(src, role, path, `a record { ${t.fields.map((f) => camelCase(f.name)).join(', ')} }`);
      return t.fields.map((f) => {
        const value = this.v('f');
        const key = camelCase(f.name);
        this.emit(`const ${value} = ${src}[${lit(key)}];`);
        return { type: f.type, value, path: `${path} field "${key}"` };
      });
    }
    const types = recordTypes(t);
    this.emit(
      `if (!Array.isArray(${src}) || ${src}.length !== ${types.length}) ${this.bad(role, path, `a tuple (array of ${types.length})`, src)}`,
    );
    return types.map((type, i) => {
      const value = this.v('f');
      this.emit(`const ${value} = ${src}[${i}];`);
      return { type, value, path: `${path}[${i}]` };
    });
  }

  private flagWords(names: readonly string[], src: string, role: 'arg' | 'result', path: string): string[] {
    this.objectCheck(src, role, path, 'a flags object of booleans');
    const words = Array.from({ length: Math.ceil(names.length / 32) }, () => this.v('w'));
    const b = this.v('fb');
    this.emit(`let ${b}, ${words.map((w) => `${w} = 0`).join(', ')};`);
    names.forEach((name, i) => {
      const key = camelCase(name);
      const w = words[i >> 5];
      this.emit(
        `if ((${b} = ${src}[${lit(key)}]) === true) ${w} |= ${1 << (i & 31)}; else if (${b} !== false && ${b} !== undefined) ${this.bad(role, `${path} flag "${key}"`, 'a boolean', b)}`,
      );
    });
    return words;
  }

  /** Copies a string or list into guest memory via realloc; returns [ptr, length] expressions. */
  private storeRange(t: ValType, src: string, role: 'arg' | 'result', path: string): [string, string] {
    if (t.kind === 'string') {
      this.usesStoreStr = true;
      this.emit(
        `if (typeof ${src} !== 'string' || !${src}.isWellFormed()) ${this.bad(role, path, 'a string (well-formed UTF-16)', src)}`,
      );
      const p = this.v('sp');
      const n = this.v('sn');
      this.emit(`const ${p} = storeStr(${src}), ${n} = sLen;`);
      return [p, n];
    }
    if (t.kind !== 'list') throw new Error('storeRange of a non-list');
    const el = t.element;
    const esize = size(el);
    const ealign = alignment(el);
    const p = this.v('lp');
    const n = this.v('ln');
    const expected = el.kind === 'u8' ? 'a Uint8Array or array of u8' : 'an array';
    this.emit(
      `if (${src} === null || typeof ${src} !== 'object' || typeof ${src}.length !== 'number') ${this.bad(role, path, expected, src)}`,
    );
    this.emit(`const ${n} = ${src}.length;`);
    this.emit(
      `if (${n} * ${esize} > 0xffffffff) ${this.trap(`${path}: list too long for the canonical ABI`)}`,
    );
    this.emit(`const ${p} = realloc(0, 0, ${ealign}, ${n} * ${esize}) >>> 0;`);
    this.emit('refresh();');
    if (ealign > 1) this.emit(`if ((${p} & ${ealign - 1}) !== 0) throw misaligned(${p}, ${ealign}, 'list');`);
    this.emit(`if (${p} + ${n} * ${esize} > u8.length) throw oob(${p}, ${n} * ${esize}, 'list');`);
    const i = this.v('i');
    const e = this.v('e');
    const epath = `${path} element`;
    if (el.kind === 'u8') {
      this.emit(`if (${src} instanceof Uint8Array) u8.set(${src}, ${p});`);
      this.emit(`else for (let ${i} = 0; ${i} < ${n}; ${i}++) {`);
      this.emit(`const ${e} = ${src}[${i}];`);
      this.emit(
        `if (typeof ${e} !== 'number' || (${e} & 0xff) !== ${e}) ${this.bad(role, epath, 'a u8 (integer 0..255)', e)}`,
      );
      this.emit(`u8[${p} + ${i}] = ${e};`);
      this.emit('}');
    } else {
      this.emit(`for (let ${i} = 0; ${i} < ${n}; ${i}++) {`);
      this.emit(`const ${e} = ${src}[${i}];`);
      const q = this.v('q');
      this.emit(`const ${q} = ${p} + ${i} * ${esize};`);
      this.store(el, e, q, role, epath);
      this.emit('}');
    }
    return [p, n];
  }

  /** Validates `src` and writes it at `ptr` (an additive expression over consts). */
  store(t: ValType, src: string, ptr: string, role: 'arg' | 'result', path: string): void {
    switch (t.kind) {
      case 'string':
      case 'list': {
        const [p, n] = this.storeRange(t, src, role, path);
        this.emit(`dv.setUint32(${ptr}, ${p}, true); dv.setUint32(${ptr} + 4, ${n}, true);`);
        return;
      }
      case 'record':
      case 'tuple': {
        const { offsets } = recordLayout(recordTypes(t));
        this.fields(t, src, role, path).forEach(({ type, value, path: fp }, i) => {
          this.store(type, value, offsets[i] === 0 ? ptr : `${ptr} + ${offsets[i]}`, role, fp);
        });
        return;
      }
      case 'variant':
      case 'enum':
      case 'option':
      case 'result': {
        const cases = variantCases(t);
        const { discSize, payloadOffset } = variantLayout(cases);
        this.dispatch(t, src, role, path, (i, payload) => {
          this.emit(
            `${discSize === 1 ? `u8[${ptr}] = ${i}` : `dv.setUint${discSize * 8}(${ptr}, ${i}, true)`};`,
          );
          const c = cases[i];
          if (c.type === undefined || payload === undefined) return;
          this.store(c.type, payload, `${ptr} + ${payloadOffset}`, role, this.casePath(t, path, c.name));
        });
        return;
      }
      case 'flags': {
        const words = this.flagWords(t.names, src, role, path);
        const n = t.names.length;
        if (n === 0) return;
        if (n <= 8) this.emit(`u8[${ptr}] = ${words[0]};`);
        else if (n <= 16) this.emit(`dv.setUint16(${ptr}, ${words[0]}, true);`);
        else {
          words.forEach((w, i) => {
            this.emit(`dv.setInt32(${ptr}${i ? ` + ${4 * i}` : ''}, ${w}, true);`);
          });
        }
        return;
      }
      default: {
        const { expr } = this.scalar(t, src, role, path);
        switch (t.kind) {
          case 'bool':
          case 'u8':
          case 's8':
            this.emit(`u8[${ptr}] = ${expr};`);
            return;
          case 'u16':
          case 's16':
            this.emit(`dv.setUint16(${ptr}, ${expr}, true);`);
            return;
          case 'u32':
          case 's32':
          case 'char':
          case 'own':
          case 'borrow':
            this.emit(`dv.setUint32(${ptr}, ${expr}, true);`);
            return;
          case 's64':
          case 'u64':
            this.emit(`dv.setBigInt64(${ptr}, ${expr}, true);`);
            return;
          case 'f32':
            this.emit(`dv.setFloat32(${ptr}, ${expr}, true);`);
            return;
          case 'f64':
            this.emit(`dv.setFloat64(${ptr}, ${expr}, true);`);
            return;
        }
      }
    }
  }

  // ---- core values → JS value ---------------------------------------------------------------

  private resourceLift(t: ValType & { resource: ResourceType }, handle: string): string {
    const fn = t.kind === 'own' ? 'liftOwn' : 'liftBorrow';
    const x = this.v('r');
    this.emit(`const ${x} = ${fn}(hs, ${this.ref(t.resource)}, ${handle}, FN);`);
    return x;
  }

  private liftChar(i32: string): string {
    const c = this.v('c');
    this.emit(`const ${c} = ${i32} >>> 0;`);
    this.emit(
      `if (${c} >= 0x110000 || (${c} >= 0xd800 && ${c} <= 0xdfff)) throw trap(FN + ': invalid char ' + ${c});`,
    );
    return `String.fromCodePoint(${c})`;
  }

  /** JS value for case i of a variant-like type, given the payload expression. */
  private make(t: ValType, i: number, payload: string | undefined): string {
    switch (t.kind) {
      case 'enum':
        return lit(t.names[i]);
      case 'option':
        if (t.type.kind !== 'option') return i === 0 ? 'undefined' : (payload as string);
        return i === 0 ? `{ tag: 'none' }` : `{ tag: 'some', val: ${payload} }`;
      case 'result': {
        const tag = i === 0 ? `'ok'` : `'err'`;
        return payload === undefined ? `{ tag: ${tag} }` : `{ tag: ${tag}, val: ${payload} }`;
      }
      case 'variant': {
        const tag = lit(t.cases[i].name);
        return payload === undefined ? `{ tag: ${tag} }` : `{ tag: ${tag}, val: ${payload} }`;
      }
      default:
        throw new Error('not variant-like');
    }
  }

  private caseSwitch(t: ValType, disc: string, body: (i: number) => string | undefined): string {
    const cases = variantCases(t);
    const r = this.v('vr');
    this.emit(`let ${r};`);
    this.emit(`switch (${disc}) {`);
    cases.forEach((_c, i) => {
      this.emit(`case ${i}: {`);
      const payload = body(i);
      this.emit(`${r} = ${this.make(t, i, payload)};`);
      this.emit('break; }');
    });
    this.emit(
      `default: throw trap(FN + ': invalid discriminant ' + (${disc} >>> 0) + ' (${cases.length} cases)');`,
    );
    this.emit('}');
    return r;
  }

  private flagsObject(names: readonly string[], words: string[]): string {
    return `{ ${names.map((n, i) => `${lit(camelCase(n))}: (${words[i >> 5]} & ${1 << (i & 31)}) !== 0`).join(', ')} }`;
  }

  liftFlat(t: ValType, it: FlatIter): string {
    switch (t.kind) {
      case 'bool':
        return `(${it.next('i32')} !== 0)`;
      case 'u8':
        return `(${it.next('i32')} & 0xff)`;
      case 's8':
        return `((${it.next('i32')} << 24) >> 24)`;
      case 'u16':
        return `(${it.next('i32')} & 0xffff)`;
      case 's16':
        return `((${it.next('i32')} << 16) >> 16)`;
      case 'u32':
        return `(${it.next('i32')} >>> 0)`;
      case 's32':
        return `(${it.next('i32')} | 0)`;
      case 's64':
        return it.next('i64');
      case 'u64':
        return `BigInt.asUintN(64, ${it.next('i64')})`;
      case 'f32':
        return it.next('f32');
      case 'f64':
        return it.next('f64');
      case 'char':
        return this.liftChar(it.next('i32'));
      case 'own':
      case 'borrow':
        return this.resourceLift(t, it.next('i32'));
      case 'string':
      case 'list': {
        const p = it.next('i32');
        const n = it.next('i32');
        return this.loadRange(t, p, n);
      }
      case 'record':
      case 'tuple': {
        const values = recordTypes(t).map((ft) => {
          const x = this.v('l');
          this.emit(`const ${x} = ${this.liftFlat(ft, it)};`);
          return x;
        });
        return this.makeRecord(t, values);
      }
      case 'variant':
      case 'enum':
      case 'option':
      case 'result': {
        const cases = variantCases(t);
        const flat = flattenVariant(cases);
        const d = it.next('i32');
        const slots = flat.slice(1).map((ft) => ({ expr: it.next(ft), type: ft }));
        return this.caseSwitch(t, d, (i) => {
          const c = cases[i];
          if (c.type === undefined) return undefined;
          const sub = new FlatIter(slots, true);
          const x = this.v('l');
          this.emit(`const ${x} = ${this.liftFlat(c.type, sub)};`);
          return x;
        });
      }
      case 'flags': {
        const words = Array.from({ length: Math.ceil(t.names.length / 32) }, () => it.next('i32'));
        return this.flagsObject(t.names, words);
      }
    }
  }

  private makeRecord(t: ValType, values: string[]): string {
    if (t.kind === 'tuple') return `[${values.join(', ')}]`;
    if (t.kind !== 'record') throw new Error('not a record');
    return `{ ${t.fields.map((f, i) => `${lit(camelCase(f.name))}: ${values[i]}`).join(', ')} }`;
  }

  /** Reads a string or list whose (ptr, length) are core i32 expressions. */
  private loadRange(t: ValType, ptrExpr: string, lenExpr: string): string {
    if (t.kind === 'string') {
      this.usesLoadStr = true;
      const x = this.v('s');
      this.emit(`const ${x} = loadStr(${ptrExpr}, ${lenExpr});`);
      return x;
    }
    if (t.kind !== 'list') throw new Error('loadRange of a non-list');
    const el = t.element;
    const esize = size(el);
    const ealign = alignment(el);
    const p = this.v('lp');
    const n = this.v('ln');
    this.emit(`const ${p} = ${ptrExpr} >>> 0, ${n} = ${lenExpr} >>> 0;`);
    if (ealign > 1) this.emit(`if ((${p} & ${ealign - 1}) !== 0) throw misaligned(${p}, ${ealign}, 'list');`);
    this.emit(`if (${p} + ${n} * ${esize} > u8.length) throw oob(${p}, ${n} * ${esize}, 'list');`);
    const a = this.v('a');
    if (el.kind === 'u8') {
      this.emit(`const ${a} = u8.${this.lendBytes ? 'subarray' : 'slice'}(${p}, ${p} + ${n});`);
      return a;
    }
    const i = this.v('i');
    this.emit(`const ${a} = [];`);
    this.emit(`for (let ${i} = 0; ${i} < ${n}; ${i}++) {`);
    const q = this.v('q');
    this.emit(`const ${q} = ${p} + ${i} * ${esize};`);
    const x = this.v('l');
    this.emit(`const ${x} = ${this.load(el, q)};`);
    this.emit(`${a}.push(${x});`);
    this.emit('}');
    return a;
  }

  /** Reads a value of type t at `ptr` (already checked in bounds and aligned). */
  load(t: ValType, ptr: string): string {
    switch (t.kind) {
      case 'bool':
        return `(u8[${ptr}] !== 0)`;
      case 'u8':
        return `u8[${ptr}]`;
      case 's8':
        return `((u8[${ptr}] << 24) >> 24)`;
      case 'u16':
        return `dv.getUint16(${ptr}, true)`;
      case 's16':
        return `dv.getInt16(${ptr}, true)`;
      case 'u32':
        return `dv.getUint32(${ptr}, true)`;
      case 's32':
        return `dv.getInt32(${ptr}, true)`;
      case 's64':
        return `dv.getBigInt64(${ptr}, true)`;
      case 'u64':
        return `dv.getBigUint64(${ptr}, true)`;
      case 'f32':
        return `dv.getFloat32(${ptr}, true)`;
      case 'f64':
        return `dv.getFloat64(${ptr}, true)`;
      case 'char':
        return this.liftChar(`dv.getUint32(${ptr}, true)`);
      case 'own':
      case 'borrow':
        return this.resourceLift(t, `dv.getUint32(${ptr}, true)`);
      case 'string':
      case 'list':
        return this.loadRange(t, `dv.getUint32(${ptr}, true)`, `dv.getUint32(${ptr} + 4, true)`);
      case 'record':
      case 'tuple': {
        const types = recordTypes(t);
        const { offsets } = recordLayout(types);
        const values = types.map((ft, i) => {
          const x = this.v('l');
          this.emit(`const ${x} = ${this.load(ft, offsets[i] === 0 ? ptr : `${ptr} + ${offsets[i]}`)};`);
          return x;
        });
        return this.makeRecord(t, values);
      }
      case 'variant':
      case 'enum':
      case 'option':
      case 'result': {
        const cases = variantCases(t);
        const { discSize, payloadOffset } = variantLayout(cases);
        const d = this.v('d');
        this.emit(
          `const ${d} = ${discSize === 1 ? `u8[${ptr}]` : `dv.getUint${discSize * 8}(${ptr}, true)`};`,
        );
        return this.caseSwitch(t, d, (i) => {
          const c = cases[i];
          if (c.type === undefined) return undefined;
          const x = this.v('l');
          this.emit(`const ${x} = ${this.load(c.type, `${ptr} + ${payloadOffset}`)};`);
          return x;
        });
      }
      case 'flags': {
        const n = t.names.length;
        if (n === 0) return '{}';
        const words =
          n <= 8
            ? [`u8[${ptr}]`]
            : n <= 16
              ? [`dv.getUint16(${ptr}, true)`]
              : Array.from({ length: Math.ceil(n / 32) }, (_, i) => {
                  const w = this.v('w');
                  this.emit(`const ${w} = dv.getInt32(${ptr}${i ? ` + ${4 * i}` : ''}, true);`);
                  return w;
                });
        if (n <= 16) {
          const w = this.v('w');
          this.emit(`const ${w} = ${words[0]};`);
          return this.flagsObject(t.names, [w]);
        }
        return this.flagsObject(t.names, words);
      }
    }
  }
}
