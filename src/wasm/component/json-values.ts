/**
 * Converting between JSON (what the CLI and the admin API speak) and the JavaScript values the
 * call path takes, guided by the WIT type: 64-bit integers arrive as numbers or decimal strings
 * and leave as numbers when they are safe integers, decimal strings otherwise; `list<u8>` is an
 * array of numbers; `option` none is `null`.
 */

import { AirssysError } from '../../shared/errors.js';
import { camelCase } from './canon/layout.js';
import type { FuncType, ValType } from './types.js';

function bad(path: string, expected: string, value: unknown): AirssysError {
  return new AirssysError('invalid-argument', `${path}: expected ${expected}, got ${JSON.stringify(value)}`, {
    blame: 'host',
  });
}

/** Converts one JSON value to the JS value the call path expects for `type`. */
export function fromJson(value: unknown, type: ValType, path: string): unknown {
  switch (type.kind) {
    case 's64':
    case 'u64':
      if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      throw bad(path, `${type.kind} (an integer, or a decimal string beyond 2^53)`, value);
    case 'list':
      if (!Array.isArray(value)) throw bad(path, 'an array', value);
      if (type.element.kind === 'u8')
        return Uint8Array.from(value.map((v, i) => fromJson(v, type.element, `${path}[${i}]`) as number));
      return value.map((v, i) => fromJson(v, type.element, `${path}[${i}]`));
    case 'tuple':
      if (!Array.isArray(value) || value.length !== type.types.length) {
        throw bad(path, `an array of ${type.types.length}`, value);
      }
      return type.types.map((t, i) => fromJson(value[i], t, `${path}[${i}]`));
    case 'record': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw bad(path, 'an object', value);
      const source = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const field of type.fields) {
        const key = camelCase(field.name);
        const raw = key in source ? source[key] : source[field.name];
        out[key] = fromJson(raw, field.type, `${path}.${field.name}`);
      }
      return out;
    }
    case 'variant': {
      const v = value as { tag?: unknown; val?: unknown };
      const c = type.cases.find((x) => x.name === v?.tag);
      if (c === undefined)
        throw bad(path, `{"tag": one of ${type.cases.map((x) => x.name).join('|')}}`, value);
      return c.type === undefined
        ? { tag: c.name }
        : { tag: c.name, val: fromJson(v.val, c.type, `${path}.val`) };
    }
    case 'option':
      if (value === null || value === undefined) return undefined;
      if (type.type.kind === 'option') {
        const v = value as { tag?: unknown; val?: unknown };
        return v.tag === 'none'
          ? { tag: 'none' }
          : { tag: 'some', val: fromJson(v.val, type.type, `${path}.val`) };
      }
      return fromJson(value, type.type, path);
    case 'result': {
      const v = value as { tag?: unknown; val?: unknown };
      if (v?.tag !== 'ok' && v?.tag !== 'err') throw bad(path, '{"tag": "ok"|"err", "val": …}', value);
      const inner = v.tag === 'ok' ? type.ok : type.err;
      return inner === undefined
        ? { tag: v.tag }
        : { tag: v.tag, val: fromJson(v.val, inner, `${path}.val`) };
    }
    default:
      return value;
  }
}

/** Converts the arguments of a call, checking their count. */
export function argsFromJson(args: unknown, type: FuncType, name: string): unknown[] {
  if (!Array.isArray(args)) throw bad(`${name}: --args`, 'a JSON array', args);
  if (args.length !== type.params.length) {
    throw new AirssysError(
      'invalid-argument',
      `${name} takes ${type.params.length} argument(s) (${type.params.map((p) => p.name).join(', ')}), got ${args.length}`,
      { blame: 'host' },
    );
  }
  return type.params.map((p, i) => fromJson(args[i], p.type, `${name}: parameter "${p.name}"`));
}

/** A JSON replacer for call results: bigint → number or decimal string, bytes → array, none → null. */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value === undefined) return null;
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJsonValue(v);
    return out;
  }
  return value;
}
