/**
 * Canonical ABI layout: despecialisation, alignment, size and flattening of resolved value
 * types, exactly as `design/mvp/CanonicalABI.md` defines them.
 */

import type { Case, FuncType, ValType } from '../types.js';

export type CoreType = 'i32' | 'i64' | 'f32' | 'f64';

export const MAX_FLAT_PARAMS = 16;
export const MAX_FLAT_RESULTS = 1;

/** Cases of a variant-like type (`variant`, `enum`, `option`, `result`) after despecialisation. */
export function variantCases(t: ValType): readonly Case[] {
  switch (t.kind) {
    case 'variant':
      return t.cases;
    case 'enum':
      return t.names.map((name) => ({ name, type: undefined }));
    case 'option':
      return [
        { name: 'none', type: undefined },
        { name: 'some', type: t.type },
      ];
    case 'result':
      return [
        { name: 'ok', type: t.ok },
        { name: 'error', type: t.err },
      ];
    default:
      throw new Error(`not a variant-like type: ${t.kind}`);
  }
}

/** Field types of a record-like type (`record`, `tuple`). */
export function recordTypes(t: ValType): readonly ValType[] {
  if (t.kind === 'record') return t.fields.map((f) => f.type);
  if (t.kind === 'tuple') return t.types;
  throw new Error(`not a record-like type: ${t.kind}`);
}

export function isVariantLike(t: ValType): boolean {
  return t.kind === 'variant' || t.kind === 'enum' || t.kind === 'option' || t.kind === 'result';
}

/** Size in bytes of the discriminant of a variant with `n` cases (1, 2 or 4). */
export function discriminantSize(n: number): number {
  if (n <= 0) throw new Error('variant without cases');
  if (n <= 0x100) return 1;
  if (n <= 0x10000) return 2;
  return 4;
}

export function alignTo(ptr: number, alignment: number): number {
  return Math.ceil(ptr / alignment) * alignment;
}

export function numI32Flags(n: number): number {
  return Math.ceil(n / 32);
}

export function alignment(t: ValType): number {
  switch (t.kind) {
    case 'bool':
    case 's8':
    case 'u8':
      return 1;
    case 's16':
    case 'u16':
      return 2;
    case 's32':
    case 'u32':
    case 'f32':
    case 'char':
    case 'string':
    case 'list':
    case 'own':
    case 'borrow':
      return 4;
    case 's64':
    case 'u64':
    case 'f64':
      return 8;
    case 'record':
    case 'tuple':
      return recordTypes(t).reduce((a, f) => Math.max(a, alignment(f)), 1);
    case 'variant':
    case 'enum':
    case 'option':
    case 'result': {
      const cases = variantCases(t);
      return Math.max(discriminantSize(cases.length), maxCaseAlignment(cases));
    }
    case 'flags':
      return t.names.length <= 8 ? 1 : t.names.length <= 16 ? 2 : 4;
  }
}

export function maxCaseAlignment(cases: readonly Case[]): number {
  let a = 1;
  for (const c of cases) if (c.type !== undefined) a = Math.max(a, alignment(c.type));
  return a;
}

export function size(t: ValType): number {
  switch (t.kind) {
    case 'bool':
    case 's8':
    case 'u8':
      return 1;
    case 's16':
    case 'u16':
      return 2;
    case 's32':
    case 'u32':
    case 'f32':
    case 'char':
    case 'own':
    case 'borrow':
      return 4;
    case 's64':
    case 'u64':
    case 'f64':
      return 8;
    case 'string':
    case 'list':
      return 8;
    case 'record':
    case 'tuple':
      return recordLayout(recordTypes(t)).size;
    case 'variant':
    case 'enum':
    case 'option':
    case 'result':
      return variantLayout(variantCases(t)).size;
    case 'flags': {
      const n = t.names.length;
      if (n === 0) return 0;
      if (n <= 8) return 1;
      if (n <= 16) return 2;
      return 4 * numI32Flags(n);
    }
  }
}

/** Field offsets, size and alignment of a record (or tuple, or parameter list) in memory. */
export function recordLayout(types: readonly ValType[]): { offsets: number[]; size: number; align: number } {
  let s = 0;
  let align = 1;
  const offsets: number[] = [];
  for (const t of types) {
    const a = alignment(t);
    align = Math.max(align, a);
    s = alignTo(s, a);
    offsets.push(s);
    s += size(t);
  }
  return { offsets, size: alignTo(s, align), align };
}

/** Discriminant size, payload offset, size and alignment of a variant in memory. */
export function variantLayout(cases: readonly Case[]): {
  discSize: number;
  payloadOffset: number;
  size: number;
  align: number;
} {
  const discSize = discriminantSize(cases.length);
  const caseAlign = maxCaseAlignment(cases);
  const payloadOffset = alignTo(discSize, caseAlign);
  let cs = 0;
  for (const c of cases) if (c.type !== undefined) cs = Math.max(cs, size(c.type));
  const align = Math.max(discSize, caseAlign);
  return { discSize, payloadOffset, size: alignTo(payloadOffset + cs, align), align };
}

export function join(a: CoreType, b: CoreType): CoreType {
  if (a === b) return a;
  if ((a === 'i32' && b === 'f32') || (a === 'f32' && b === 'i32')) return 'i32';
  return 'i64';
}

export function flattenType(t: ValType): CoreType[] {
  switch (t.kind) {
    case 'bool':
    case 's8':
    case 'u8':
    case 's16':
    case 'u16':
    case 's32':
    case 'u32':
    case 'char':
    case 'own':
    case 'borrow':
      return ['i32'];
    case 's64':
    case 'u64':
      return ['i64'];
    case 'f32':
      return ['f32'];
    case 'f64':
      return ['f64'];
    case 'string':
    case 'list':
      return ['i32', 'i32'];
    case 'record':
    case 'tuple':
      return recordTypes(t).flatMap(flattenType);
    case 'variant':
    case 'enum':
    case 'option':
    case 'result':
      return flattenVariant(variantCases(t));
    case 'flags':
      return new Array<CoreType>(numI32Flags(t.names.length)).fill('i32');
  }
}

/** Joined flattening: the discriminant `i32`, then the per-position join of every case's payload. */
export function flattenVariant(cases: readonly Case[]): CoreType[] {
  const flat: CoreType[] = [];
  for (const c of cases) {
    if (c.type === undefined) continue;
    flattenType(c.type).forEach((ft, i) => {
      flat[i] = i < flat.length ? join(flat[i], ft) : ft;
    });
  }
  return ['i32', ...flat];
}

export function flattenTypes(ts: readonly ValType[]): CoreType[] {
  return ts.flatMap(flattenType);
}

export function flattenFuncType(
  type: FuncType,
  context: 'lift' | 'lower',
): { params: CoreType[]; results: CoreType[] } {
  let params = flattenTypes(type.params.map((p) => p.type));
  if (params.length > MAX_FLAT_PARAMS) params = ['i32'];
  let results = type.result === undefined ? [] : flattenType(type.result);
  if (results.length > MAX_FLAT_RESULTS) {
    if (context === 'lift') results = ['i32'];
    else {
      params = [...params, 'i32'];
      results = [];
    }
  }
  return { params, results };
}

/** WIT kebab-case name → lowerCamelCase JS property name (`max-size` → `maxSize`, `get-URL` → `getURL`). */
export function camelCase(name: string): string {
  const clean = name.startsWith('%') ? name.slice(1) : name;
  const parts = clean.split('-');
  return parts
    .map((p, i) => (i === 0 ? p.toLowerCase() : p.length === 0 ? '' : p[0].toUpperCase() + p.slice(1)))
    .join('');
}

/** Whether values of this type live (partly) in linear memory when passed (strings, lists). */
export function usesMemory(t: ValType): boolean {
  switch (t.kind) {
    case 'string':
    case 'list':
      return true;
    case 'record':
    case 'tuple':
      return recordTypes(t).some(usesMemory);
    case 'variant':
    case 'enum':
    case 'option':
    case 'result':
      return variantCases(t).some((c) => c.type !== undefined && usesMemory(c.type));
    default:
      return false;
  }
}

export function containsKind(t: ValType, kind: ValType['kind']): boolean {
  return containsType(t, (x) => x.kind === kind);
}

/** Whether `t` or a type nested in it satisfies `test`. */
export function containsType(t: ValType, test: (t: ValType) => boolean): boolean {
  if (test(t)) return true;
  switch (t.kind) {
    case 'list':
      return containsType(t.element, test);
    case 'record':
    case 'tuple':
      return recordTypes(t).some((f) => containsType(f, test));
    case 'variant':
    case 'enum':
    case 'option':
    case 'result':
      return variantCases(t).some((c) => c.type !== undefined && containsType(c.type, test));
    default:
      return false;
  }
}
