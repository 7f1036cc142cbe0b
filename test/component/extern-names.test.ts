/**
 * Import and export names in all three encodings the binary format has had (Binary.md,
 * `nameattributes`): 0x00 (today's), 0x01 (what wit-component wrote for `ns:pkg/iface` names
 * before October 2023, a plain name with no suffix) and 0x02 (a name followed by attributes).
 */

import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AirssysError } from '../../src/shared/errors.js';
import { decodeComponent } from '../../src/wasm/component/decode.js';
import { Engine } from '../../src/wasm/index.js';
import { buildComponent } from '../support/build-component.js';
import { manifestWith } from '../support/manifest.js';

const WIT = `package test:names;
interface host { twice: func(x: u32) -> u32; }
interface api { quad: func(x: u32) -> u32; }
world names {
  import host;
  export api;
  export add: func(a: u32, b: u32) -> u32;
}`;

const WAT = `(module
  (import "test:names/host" "twice" (func $twice (param i32) (result i32)))
  (func (export "test:names/api#quad") (param i32) (result i32)
    (call $twice (call $twice (local.get 0))))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`;

function leb(bytes: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  let b: number;
  do {
    b = bytes[pos++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [value, pos];
}

/**
 * Rewrites the top-level import and export names the way wit-component did before
 * WebAssembly/component-model#263: tag 0x01 for interface names (`ns:pkg/iface`), 0x00 for the
 * rest. Same length, so the tag bytes are patched in place.
 */
function toLegacyNames(binary: Uint8Array): { bytes: Uint8Array; patched: string[] } {
  const bytes = binary.slice();
  const patched: string[] = [];
  const name = (pos: number): [string, number] => {
    const [len, start] = leb(bytes, pos);
    return [new TextDecoder().decode(bytes.subarray(start, start + len)), start + len];
  };
  const externName = (pos: number): number => {
    expect(bytes[pos]).toBe(0x00);
    const [text, next] = name(pos + 1);
    if (text.includes(':')) {
      bytes[pos] = 0x01;
      patched.push(text);
    }
    return next;
  };
  const externType = (pos: number): number => {
    const tag = bytes[pos++];
    if (tag === 0x00) pos++; // core module: 0x11 then the type index
    if (tag === 0x03) {
      const bound = bytes[pos++];
      return bound === 0x00 ? leb(bytes, pos)[1] : pos;
    }
    return leb(bytes, pos)[1];
  };
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, body] = leb(bytes, pos + 1);
    if (id === 10 || id === 11) {
      let [count, p] = leb(bytes, body);
      while (count-- > 0) {
        p = externName(p);
        if (id === 10) p = externType(p);
        else {
          if (bytes[p++] === 0x00) p++; // sort (a core sort has a second byte)
          p = leb(bytes, p)[1];
          if (bytes[p++] === 0x01) p = externType(p);
        }
      }
      expect(p).toBe(body + size);
    }
    pos = body + size;
  }
  return { bytes, patched };
}

function decodeError(bytes: Uint8Array): AirssysError {
  try {
    decodeComponent(bytes);
  } catch (error) {
    return error as AirssysError;
  }
  throw new Error('expected decodeComponent to throw');
}

const engine = new Engine({ cacheDir: false });

describe('import and export names', () => {
  let current: Uint8Array;
  beforeAll(async () => {
    current = await buildComponent(WAT, WIT, 'names');
  });

  it('decodes and runs a component with the legacy 0x01 interface names (no version suffix)', () => {
    const { bytes, patched } = toLegacyNames(current);
    expect(patched).toEqual(['test:names/host', 'test:names/api']);
    const plan = decodeComponent(bytes);
    expect(plan.imports.map((i) => i.name)).toEqual(['test:names/host']);
    expect(plan.exports.map((e) => e.name)).toEqual(['add', 'test:names/api#quad']);
    const instance = engine
      .compile(bytes, manifestWith('legacy-names'))
      .instantiate({ 'test:names/host': { twice: (x: number) => 2 * x } });
    expect(instance.exports['test:names/api#quad'](5)).toBe(20);
    expect(instance.exports.add(2, 3)).toBe(5);
  });

  it('reads the 0x02 form: the name, then a versionsuffix / implements / external-id attribute list', async () => {
    const bytes = await parse(`(component
      (import "test:names/host@0.2" (versionsuffix ".1") (instance $h
        (export "twice" (versionsuffix ".9") (func (param "x" u32) (result u32)))))
      (import "primary" (implements "test:names/host") (instance))
      (import "ext" (external-id "https://example.com/ext") (func))
      (alias export $h "twice" (func $twice))
      (instance (export "test:names/inline@1" (versionsuffix ".2.3") (func $twice)))
      (type $t u32)
      (export "test:names/t@0.3" (versionsuffix ".4") (type $t)))`);
    const plan = decodeComponent(bytes);
    expect(plan.imports.map((i) => i.name)).toEqual(['test:names/host@0.2', 'primary', 'ext']);
    expect(plan.imports[0]).toMatchObject({ kind: 'instance', funcs: { twice: expect.any(Object) } });
  });

  it('rejects an unknown name form, an unknown attribute and a repeated attribute', async () => {
    const bytes = await parse(`(component (import "a:b/c@0.2" (versionsuffix ".1") (instance)))`);
    // import section: 0x0a size count, then the name: 0x02 len "a:b/c@0.2" attrs
    const at = bytes.indexOf(0x0a, 8) + 3;
    expect(bytes[at]).toBe(0x02);

    const badTag = bytes.slice();
    badTag[at] = 0x03;
    expect(decodeError(badTag).message).toMatch(/unknown import\/export name form 0x3/);

    const attrs = at + 2 + 'a:b/c@0.2'.length;
    expect(bytes[attrs]).toBe(1); // one attribute
    const badAttr = bytes.slice();
    badAttr[attrs + 1] = 0x07;
    expect(decodeError(badAttr).message).toMatch(/unknown import\/export name attribute 0x7/);

    // Two versionsuffix attributes: the section grows by the repeated attribute's 4 bytes.
    const attribute = bytes.subarray(attrs + 1, attrs + 5);
    const twice = new Uint8Array([
      ...bytes.subarray(0, attrs),
      2,
      ...attribute,
      ...attribute,
      ...bytes.subarray(attrs + 5),
    ]);
    twice[at - 2] += 4;
    const error = decodeError(twice);
    expect(error.code).toBe('invalid-component');
    expect(error.message).toMatch(/more than one versionsuffix attribute/);
  });
});
