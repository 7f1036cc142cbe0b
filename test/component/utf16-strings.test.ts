/**
 * `string-encoding=utf16`, end to end through a component built by wit-component: the guest
 * sees UTF-16LE code units (length in code units, 2-byte aligned) both ways, for exports it
 * lifts and for the host import it lowers.
 */

import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeComponent } from '../../src/wasm/component/decode.js';
import { type ComponentInstance, Engine } from '../../src/wasm/index.js';
import { bumpRealloc } from '../support/bump-realloc.js';
import { manifestWith } from '../support/manifest.js';

const WIT = `package test:utf;
interface host { shout: func(s: string) -> string; }
world w {
  import host;
  export units: func(s: string) -> u32;
  export reverse: func(s: string) -> string;
  export relay: func(s: string) -> string;
  export fixed: func() -> string;
}`;

// "hé😀" in UTF-16LE at 256: 4 code units, the last two a surrogate pair.
const WAT = `(module
  (import "test:utf/host" "shout" (func $shout (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 256) "h\\00\\e9\\00\\3d\\d8\\00\\de")
  ${bumpRealloc(1024)}
  (func (export "units") (param i32 i32) (result i32)
    (if (i32.and (local.get 0) (i32.const 1)) (then unreachable))
    (local.get 1))
  (func (export "reverse") (param $p i32) (param $n i32) (result i32)
    (local $out i32) (local $i i32)
    (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 2) (i32.shl (local.get $n) (i32.const 1))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store16
        (i32.add (local.get $out) (i32.shl (i32.sub (i32.sub (local.get $n) (i32.const 1)) (local.get $i)) (i32.const 1)))
        (i32.load16_u (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.store (i32.const 64) (local.get $out))
    (i32.store (i32.const 68) (local.get $n))
    (i32.const 64))
  (func (export "relay") (param i32 i32) (result i32)
    (call $shout (local.get 0) (local.get 1) (i32.const 80))
    (i32.const 80))
  (func (export "fixed") (result i32)
    (i32.store (i32.const 96) (i32.const 256))
    (i32.store (i32.const 100) (i32.const 4))
    (i32.const 96)))`;

const engine = new Engine({ cacheDir: false });
let bytes: Uint8Array;
let instance: ComponentInstance;
const shouted: string[] = [];

beforeAll(async () => {
  const core = await parse(WAT);
  bytes = await componentNew(
    await componentEmbed({ binary: core, witSource: WIT, world: 'w', stringEncoding: 'utf16' }),
  );
  instance = engine.compile(bytes, manifestWith('utf16')).instantiate({
    'test:utf/host': {
      shout: (s: string) => {
        shouted.push(s);
        return `${s.toUpperCase()}!`;
      },
    },
  });
});

describe('utf16 string encoding', () => {
  it('is what the component declares for its lifts and lowers', () => {
    const plan = decodeComponent(bytes);
    expect(plan.exports.map((e) => e.options.stringEncoding)).toEqual(['utf16', 'utf16', 'utf16', 'utf16']);
    expect(plan.lowered.map((l) => l.options.stringEncoding)).toEqual(['utf16']);
  });

  it('lowers a host string as code units: the guest sees its UTF-16 length', () => {
    expect(instance.exports.units('hé😀')).toBe(4);
    expect(instance.exports.units('')).toBe(0);
  });

  it('lifts UTF-16LE from guest memory, surrogate pairs included', () => {
    expect(instance.exports.fixed()).toBe('hé😀');
    expect(instance.exports.reverse('abcé€')).toBe('€écba');
  });

  it('passes utf16 strings to a host import and its result back', () => {
    expect(instance.exports.relay('hé😀')).toBe('HÉ😀!');
    expect(shouted).toEqual(['hé😀']);
  });

  it('traps when the guest hands back ill-formed UTF-16 (a reversed surrogate pair)', async () => {
    const fresh = engine
      .compile(bytes, manifestWith('utf16'))
      .instantiate({ 'test:utf/host': { shout: (s: string) => s } });
    expect(() => fresh.exports.reverse('😀')).toThrowError(
      expect.objectContaining({ code: 'trap', message: expect.stringMatching(/not valid UTF-16/) }),
    );
  });
});
