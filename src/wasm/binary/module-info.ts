/**
 * Cheap structural inspection of a core WebAssembly module, run before anything is compiled:
 * section framing, counts, limits of memories, the largest function type and the largest local
 * declaration. Function bodies are not decoded beyond their local declarations.
 */

import { AirssysError } from '../../shared/errors.js';
import type { BinaryCaps } from '../engine/policy.js';
import { skipValType } from './instructions.js';
import { Reader } from './reader.js';

export const SECTION_CUSTOM = 0;
export const SECTION_TYPE = 1;
export const SECTION_IMPORT = 2;
export const SECTION_FUNCTION = 3;
export const SECTION_TABLE = 4;
export const SECTION_MEMORY = 5;
export const SECTION_GLOBAL = 6;
export const SECTION_EXPORT = 7;
export const SECTION_START = 8;
export const SECTION_ELEMENT = 9;
export const SECTION_CODE = 10;
export const SECTION_DATA = 11;
export const SECTION_DATACOUNT = 12;
export const SECTION_TAG = 13;

/** Position of each known section id in the mandated order (custom sections excluded). */
export const SECTION_RANK: Readonly<Record<number, number>> = {
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  5: 5,
  13: 6,
  6: 7,
  7: 8,
  8: 9,
  9: 10,
  12: 11,
  10: 12,
  11: 13,
};

export interface Section {
  id: number;
  /** Offset of the section id byte. */
  headerStart: number;
  /** Content range. */
  start: number;
  end: number;
}

/** Splits a core module into sections, checking the header, framing and order. */
export function readSections(bytes: Uint8Array): Section[] {
  const r = new Reader(bytes);
  if (bytes.length < 8) r.fail('not a WebAssembly module: too short', 0);
  if (bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    r.fail('not a WebAssembly module: bad magic', 0);
  }
  if (bytes[4] !== 0x01 || bytes[5] !== 0x00 || bytes[6] !== 0x00 || bytes[7] !== 0x00) {
    r.fail(
      bytes[6] === 0x01 ? 'a component where a core module was expected' : 'unsupported WebAssembly version',
      4,
    );
  }
  r.pos = 8;
  const sections: Section[] = [];
  let lastRank = 0;
  while (!r.eof()) {
    const headerStart = r.pos;
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    if (size > r.remaining) r.fail(`section ${id} size ${size} exceeds the remaining data`, headerStart);
    if (id !== SECTION_CUSTOM) {
      const rank = SECTION_RANK[id];
      if (rank === undefined) r.fail(`unknown section id ${id}`, headerStart);
      if (rank <= lastRank) r.fail(`section ${id} is duplicated or out of order`, headerStart);
      lastRank = rank;
    }
    r.pos = start + size;
    sections.push({ id, headerStart, start, end: start + size });
  }
  return sections;
}

export interface Limits {
  min: number;
  max: number | undefined;
  shared: boolean;
  memory64: boolean;
}

export function readLimits(r: Reader): Limits {
  const at = r.pos;
  const flags = r.u8();
  if (flags > 0x07) r.fail(`unsupported limits flags 0x${flags.toString(16)}`, at);
  const memory64 = (flags & 0x04) !== 0;
  const min = memory64 ? r.u64() : r.u32();
  const max = flags & 0x01 ? (memory64 ? r.u64() : r.u32()) : undefined;
  return { min, max, shared: (flags & 0x02) !== 0, memory64 };
}

export interface FuncType {
  params: number[];
  results: number[];
}

/** Reads one function type (`0x60 params results`); other (GC) type forms are rejected. */
export function readFuncType(r: Reader): FuncType {
  const at = r.pos;
  const form = r.u8();
  if (form !== 0x60) r.fail(`unsupported type form 0x${form.toString(16)} (only function types)`, at);
  const readTypes = (): number[] => {
    const n = r.count();
    const out: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const p = r.pos;
      skipValType(r);
      if (r.pos !== p + 1) r.fail('typed function references are not supported', p);
      out[i] = r.bytes[p];
    }
    return out;
  };
  const params = readTypes();
  const results = readTypes();
  return { params, results };
}

export interface MemoryInfo extends Limits {
  imported: boolean;
}

export interface CoreModuleInfo {
  byteLength: number;
  types: number;
  imports: {
    total: number;
    functions: number;
    tables: number;
    memories: number;
    globals: number;
    tags: number;
  };
  functions: { imported: number; defined: number; total: number };
  tables: number;
  globals: number;
  exports: number;
  /** Most locals (params excluded) declared by one function. */
  maxLocals: number;
  /** Most parameters of one function type. */
  maxParams: number;
  /** Most results of one function type. */
  maxResults: number;
  memories: MemoryInfo[];
  hasStart: boolean;
  /** Every import, in order: `(module, name)`. */
  importNames: { module: string; name: string }[];
}

/** Inspects a core module without decoding function bodies. */
export function inspectCoreModule(bytes: Uint8Array): CoreModuleInfo {
  const sections = readSections(bytes);
  const info: CoreModuleInfo = {
    byteLength: bytes.length,
    types: 0,
    imports: { total: 0, functions: 0, tables: 0, memories: 0, globals: 0, tags: 0 },
    functions: { imported: 0, defined: 0, total: 0 },
    tables: 0,
    globals: 0,
    exports: 0,
    maxLocals: 0,
    maxParams: 0,
    maxResults: 0,
    memories: [],
    hasStart: false,
    importNames: [],
  };
  let declaredFunctions = 0;
  for (const s of sections) {
    const r = new Reader(bytes, s.start, s.end);
    switch (s.id) {
      case SECTION_TYPE: {
        const n = r.count();
        info.types = n;
        for (let i = 0; i < n; i++) {
          const t = readFuncType(r);
          if (t.params.length > info.maxParams) info.maxParams = t.params.length;
          if (t.results.length > info.maxResults) info.maxResults = t.results.length;
        }
        break;
      }
      case SECTION_IMPORT: {
        const n = r.count(3);
        info.imports.total = n;
        for (let i = 0; i < n; i++) {
          const module = r.name();
          info.importNames.push({ module, name: r.name() });
          const at = r.pos;
          const kind = r.u8();
          switch (kind) {
            case 0x00:
              r.u32();
              info.imports.functions++;
              break;
            case 0x01:
              skipValType(r);
              readLimits(r);
              info.imports.tables++;
              break;
            case 0x02:
              info.memories.push({ ...readLimits(r), imported: true });
              info.imports.memories++;
              break;
            case 0x03:
              skipValType(r);
              r.u8();
              info.imports.globals++;
              break;
            case 0x04:
              r.u8();
              r.u32();
              info.imports.tags++;
              break;
            default:
              r.fail(`unknown import kind 0x${kind.toString(16)}`, at);
          }
        }
        break;
      }
      case SECTION_FUNCTION:
        declaredFunctions = r.count();
        break;
      case SECTION_TABLE:
        info.tables = r.count();
        break;
      case SECTION_MEMORY: {
        const n = r.count();
        for (let i = 0; i < n; i++) info.memories.push({ ...readLimits(r), imported: false });
        break;
      }
      case SECTION_GLOBAL:
        info.globals = r.count();
        break;
      case SECTION_EXPORT:
        info.exports = r.count();
        break;
      case SECTION_START:
        info.hasStart = true;
        break;
      case SECTION_CODE: {
        const n = r.count();
        if (n !== declaredFunctions) {
          r.fail(
            `code section has ${n} bodies but the function section declares ${declaredFunctions}`,
            s.start,
          );
        }
        for (let i = 0; i < n; i++) {
          const size = r.u32();
          const bodyEnd = r.pos + size;
          if (size > r.remaining) r.fail(`function body size ${size} exceeds the section`);
          const b = new Reader(bytes, r.pos, bodyEnd);
          const groups = b.count();
          let locals = 0;
          for (let g = 0; g < groups; g++) {
            locals += b.u32();
            skipValType(b);
          }
          if (locals > info.maxLocals) info.maxLocals = locals;
          r.pos = bodyEnd;
        }
        break;
      }
      default:
        break;
    }
  }
  info.functions = {
    imported: info.imports.functions,
    defined: declaredFunctions,
    total: info.imports.functions + declaredFunctions,
  };
  return info;
}

function exceeded(cap: keyof BinaryCaps, limit: number, actual: number, what: string): AirssysError {
  return new AirssysError(
    'invalid-component',
    `core module exceeds ${cap}: ${what} ${actual} is over the limit of ${limit}`,
    { blame: 'guest', details: { cap, limit, actual } },
  );
}

/** Throws `invalid-component` naming the first cap the module exceeds. */
export function checkCoreModuleLimits(info: CoreModuleInfo, caps: BinaryCaps): void {
  const checks: Array<[keyof BinaryCaps, number, string]> = [
    ['maxBinaryBytes', info.byteLength, 'size in bytes'],
    ['maxFunctions', info.functions.total, 'functions'],
    ['maxImports', info.imports.total, 'imports'],
    ['maxExports', info.exports, 'exports'],
    ['maxLocals', info.maxLocals, 'locals of one function'],
    ['maxParams', info.maxParams, 'parameters of one function type'],
  ];
  for (const [cap, actual, what] of checks) {
    const limit = caps[cap];
    if (actual > limit) throw exceeded(cap, limit, actual, what);
  }
}
