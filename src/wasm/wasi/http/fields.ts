/**
 * `wasi:http/types` `fields`: the headers and trailers of a request or response, as a list of
 * (name, value) pairs in the order they were added. Names compare case-insensitively and keep
 * the case they were given; values are bytes (the WIT's `list<u8>`), passed to Node as latin1
 * strings, which is how Node itself reads header bytes.
 *
 * Threat model: the guest builds the response's headers, and Node writes them to the client.
 * A name or value with CR, LF or NUL would let the guest split the response or smuggle a second
 * one into a kept-alive connection, so every name must be an RFC 9110 token and every value free
 * of control bytes other than tab (`invalid-syntax`). Hop-by-hop headers (`connection`,
 * `transfer-encoding`…) describe the connection the host owns, not the message: the guest may
 * not set them (`forbidden`, wasmtime's list). Fields the host hands out (a request's headers, a
 * response's `headers()`) are `immutable`, as the WIT says.
 */

import { err, OK_EMPTY, ok, type Result } from '../values.js';

export type HeaderError = { tag: 'invalid-syntax' } | { tag: 'forbidden' } | { tag: 'immutable' };

const INVALID_SYNTAX: Result<never, HeaderError> = Object.freeze(err({ tag: 'invalid-syntax' } as const));
const FORBIDDEN: Result<never, HeaderError> = Object.freeze(err({ tag: 'forbidden' } as const));
const IMMUTABLE: Result<never, HeaderError> = Object.freeze(err({ tag: 'immutable' } as const));

/** What a guest may not set: they are about the connection, which is the host's (wasmtime's list). */
export const FORBIDDEN_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'http2-settings',
]);

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function validName(name: string): boolean {
  return TOKEN.test(name);
}

/** RFC 9110 field-value bytes: tab, visible ASCII, space and obs-text; no CR, LF, NUL or DEL. */
export function validValue(value: Uint8Array): boolean {
  for (const b of value) if ((b < 0x20 && b !== 0x09) || b === 0x7f) return false;
  return true;
}

type Entry = [name: string, value: Uint8Array];

/** The host object behind a `fields` (`headers`, `trailers`) handle. */
export class Fields {
  /** Use `empty`, `received` or `fromList`; public only so that the engine can check `instanceof`. */
  constructor(
    /** Shared with the other views of the same fields (`outgoing-response.headers`). */
    private readonly list: Entry[],
    readonly mutable: boolean,
  ) {}

  /** `[constructor]fields`: empty and mutable. */
  static empty(): Fields {
    return new Fields([], true);
  }

  /** Fields the host built from the wire (a request's headers): immutable. */
  static received(entries: Iterable<readonly [string, Uint8Array]>): Fields {
    return new Fields(
      [...entries].map(([n, v]) => [n, v]),
      false,
    );
  }

  /** `from-list`: mutable fields, or why one entry is refused. */
  static fromList(entries: readonly (readonly [string, Uint8Array])[]): Result<Fields, HeaderError> {
    const list: Entry[] = [];
    for (const [name, value] of entries) {
      const refused = check(name, value);
      if (refused !== undefined) return refused;
      list.push([name, value.slice()]);
    }
    return ok(new Fields(list, true));
  }

  /** The same fields, immutable: what `headers()` of a response returns. */
  immutableView(): Fields {
    return new Fields(this.list, false);
  }

  get(name: string): Uint8Array[] {
    const key = name.toLowerCase();
    return this.list.filter(([n]) => n.toLowerCase() === key).map(([, v]) => v.slice());
  }

  has(name: string): boolean {
    const key = name.toLowerCase();
    return this.list.some(([n]) => n.toLowerCase() === key);
  }

  set(name: string, values: readonly Uint8Array[]): Result<undefined, HeaderError> {
    if (!this.mutable) return IMMUTABLE;
    const refused = check(name, ...values);
    if (refused !== undefined) return refused;
    this.remove(name);
    for (const value of values) this.list.push([name, value.slice()]);
    return OK_EMPTY;
  }

  delete(name: string): Result<undefined, HeaderError> {
    if (!this.mutable) return IMMUTABLE;
    if (!validName(name)) return INVALID_SYNTAX;
    if (FORBIDDEN_HEADERS.has(name.toLowerCase())) return FORBIDDEN;
    this.remove(name);
    return OK_EMPTY;
  }

  append(name: string, value: Uint8Array): Result<undefined, HeaderError> {
    if (!this.mutable) return IMMUTABLE;
    const refused = check(name, value);
    if (refused !== undefined) return refused;
    this.list.push([name, value.slice()]);
    return OK_EMPTY;
  }

  entries(): [string, Uint8Array][] {
    return this.list.map(([n, v]) => [n, v.slice()]);
  }

  /** `clone`: a deep, mutable copy, whatever this one is. */
  clone(): Fields {
    return new Fields(this.entries(), true);
  }

  /** The value of `name` as a number when it is one well-formed decimal (`content-length`). */
  decimal(name: string): number | undefined {
    const values = this.get(name);
    if (values.length !== 1) return undefined;
    const text = Buffer.from(values[0]).toString('latin1').trim();
    return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
  }

  /** For Node's `writeHead` / `addTrailers`: names as given, values as latin1, repeated names kept. */
  toNode(): [string, string][] {
    return this.list.map(([n, v]) => [n, Buffer.from(v).toString('latin1')]);
  }

  private remove(name: string): void {
    const key = name.toLowerCase();
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (this.list[i][0].toLowerCase() === key) this.list.splice(i, 1);
    }
  }
}

function check(name: string, ...values: Uint8Array[]): Result<never, HeaderError> | undefined {
  if (!validName(name) || !values.every(validValue)) return INVALID_SYNTAX;
  if (FORBIDDEN_HEADERS.has(name.toLowerCase())) return FORBIDDEN;
  return undefined;
}
