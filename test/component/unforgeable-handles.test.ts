/**
 * Handles are unforgeable: lowering own<T> / borrow<T> into the guest accepts only a live handle
 * of exactly T, for resources the host implements (imported) and for the guest's own (exported).
 * Anything else is a typed `invalid-argument` the caller can catch; the instance stays usable.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { AirssysError } from '../../src/shared/errors.js';
import type { Resource } from '../../src/wasm/component/canon/index.js';
import { Engine, type HostImports } from '../../src/wasm/index.js';
import { buildComponent } from '../support/build-component.js';
import { manifestWith } from '../support/manifest.js';

const WIT = `package test:h;
interface files {
  resource file { size: func() -> u32; }
  resource dir {}
  open: func(n: u32) -> file;
  open-dir: func() -> dir;
}
interface api {
  use files.{file};
  resource thing { constructor(v: u32); get: func() -> u32; }
  resource other { constructor(); }
  take: func(f: file) -> u32;
  peek: func(f: borrow<file>) -> u32;
  hold: func(f: file);
  release: func();
  fresh: func(n: u32) -> file;
  consume: func(t: thing) -> u32;
}
world w { import files; export api; }`;

const WAT = `(module
  (import "test:h/files" "[method]file.size" (func $size (param i32) (result i32)))
  (import "test:h/files" "[resource-drop]file" (func $dropFile (param i32)))
  (import "test:h/files" "open" (func $open (param i32) (result i32)))
  (import "[export]test:h/api" "[resource-new]thing" (func $newThing (param i32) (result i32)))
  (import "[export]test:h/api" "[resource-rep]thing" (func $repThing (param i32) (result i32)))
  (import "[export]test:h/api" "[resource-drop]thing" (func $dropThing (param i32)))
  (import "[export]test:h/api" "[resource-new]other" (func $newOther (param i32) (result i32)))
  (global $held (mut i32) (i32.const 0))
  (func (export "test:h/api#[constructor]thing") (param i32) (result i32) (call $newThing (local.get 0)))
  (func (export "test:h/api#[method]thing.get") (param i32) (result i32) (local.get 0))
  (func (export "test:h/api#[constructor]other") (result i32) (call $newOther (i32.const 99)))
  (func (export "test:h/api#take") (param i32) (result i32) (local $r i32)
    (local.set $r (call $size (local.get 0))) (call $dropFile (local.get 0)) (local.get $r))
  (func (export "test:h/api#peek") (param i32) (result i32) (local $r i32)
    (local.set $r (call $size (local.get 0))) (call $dropFile (local.get 0)) (local.get $r))
  (func (export "test:h/api#hold") (param i32) (global.set $held (local.get 0)))
  (func (export "test:h/api#release") (call $dropFile (global.get $held)))
  (func (export "test:h/api#fresh") (param i32) (result i32) (call $open (local.get 0)))
  (func (export "test:h/api#consume") (param i32) (result i32) (local $r i32)
    (local.set $r (call $repThing (local.get 0))) (call $dropThing (local.get 0)) (local.get $r)))`;

class File {
  constructor(readonly n: number) {}
}
class Dir {}

let bytes: Uint8Array;
const engine = new Engine({ cacheDir: false });

beforeAll(async () => {
  bytes = await buildComponent(WAT, WIT, 'w');
});

type Open = (n: number) => unknown;

function start(options: { classes?: boolean; open?: Open } = {}) {
  const files: Record<string, unknown> = {
    open: options.open ?? ((n: number) => (options.classes === false ? { n } : new File(n))),
    'open-dir': () => (options.classes === false ? {} : new Dir()),
    '[method]file.size': (f: File) => f.n,
  };
  if (options.classes !== false) Object.assign(files, { file: File, dir: Dir });
  const component = engine.compile(bytes, manifestWith('handles'));
  const instance = component.instantiate({ 'test:h/files': files } as HostImports);
  const fn = (name: string) => instance.exports[`test:h/api#${name}`];
  return {
    instance,
    take: fn('take'),
    peek: fn('peek'),
    hold: fn('hold'),
    release: fn('release'),
    fresh: fn('fresh'),
    consume: fn('consume'),
    get: fn('[method]thing.get'),
    thing: (v: number) => fn('[constructor]thing')(v) as Resource,
    other: () => fn('[constructor]other')() as Resource,
  };
}

function refusal(call: () => unknown): AirssysError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(AirssysError);
    return error as AirssysError;
  }
  throw new Error('expected the call to be refused');
}

function expectRefused(call: () => unknown, message: RegExp): void {
  const error = refusal(call);
  expect(error.code).toBe('invalid-argument');
  expect(error.blame).toBe('host');
  expect(error.message).toMatch(message);
}

describe('host resources (declared classes)', () => {
  it('accepts an instance of the declared class as own and borrow', () => {
    const t = start();
    expect(t.take(new File(5))).toBe(5);
    expect(t.peek(new File(6))).toBe(6);
  });

  it('refuses {}, a number, null, a string, an object of another resource and a guest Resource', () => {
    const t = start();
    const live = /expected a live file resource object/;
    for (const value of [{}, 42, null, undefined, 'file', new Dir(), { n: 3 }, t.thing(1)]) {
      expectRefused(() => t.take(value), live);
      expectRefused(() => t.peek(value), live);
    }
    expect(t.instance.trapped).toBe(false);
    expect(t.take(new File(1))).toBe(1);
  });

  it('refuses a handle the guest dropped, and an own handle the guest still owns', () => {
    const t = start();
    const f = new File(7);
    expect(t.take(f)).toBe(7); // the guest dropped it
    expectRefused(() => t.take(f), /live file/);
    expectRefused(() => t.peek(f), /live file/);

    const g = new File(8);
    t.hold(g);
    expectRefused(() => t.take(g), /the guest does not already own/);
    expect(t.peek(g)).toBe(8); // lending what the guest owns is harmless
    t.release();
    expectRefused(() => t.peek(g), /live file/);
    expect(t.instance.trapped).toBe(false);
  });

  it('refuses an import result that is not of the declared class: typed error, instance discarded', () => {
    const t = start({ open: () => ({}) });
    const error = refusal(() => t.fresh(1));
    expect(error.code).toBe('invalid-argument');
    expect(error.blame).toBe('host');
    expect(error.message).toMatch(/open: result: expected a live file resource object, got an object/);
    expect(t.instance.trapped).toBe(true);
  });

  it('refuses a resource key that is not a class, before any guest code runs', () => {
    const component = engine.compile(bytes, manifestWith('handles'));
    const imports = {
      'test:h/files': { file: () => {}, open: () => {}, 'open-dir': () => {}, '[method]file.size': () => 0 },
    };
    expect(() => component.instantiate(imports)).toThrowError(
      expect.objectContaining({ code: 'invalid-argument', message: expect.stringMatching(/#file/) }),
    );
  });
});

describe('host resources (no class declared)', () => {
  it('accepts only objects the imports handed out as that resource', () => {
    const t = start({ classes: false });
    expectRefused(() => t.take({ n: 1 }), /live file/);
    const minted = t.fresh(3);
    expect(minted).toEqual({ n: 3 });
    expect(t.peek(minted)).toBe(3);
    expect(t.take(minted)).toBe(3);
    expectRefused(() => t.take(minted), /live file/); // dropped by the guest
    for (const value of [{}, 42, null, t.thing(2)]) expectRefused(() => t.take(value), /live file/);
  });
});

describe('guest resources', () => {
  it('accepts a live Resource of the type and instance, and refuses everything else', () => {
    const t = start();
    const r = t.thing(11);
    expect(t.get(r)).toBe(11);
    const elsewhere = start().thing(12);
    const dropped = t.thing(13);
    dropped.drop();
    const moved = t.thing(14);
    expect(t.consume(moved)).toBe(14);
    const values = [{}, 42, null, { rep: 11 }, t.other(), elsewhere, dropped, moved, new File(1)];
    for (const value of values) {
      expectRefused(() => t.consume(value), /expected an owned thing Resource of this instance/);
      expectRefused(() => t.get(value), /expected a live thing Resource of this instance/);
    }
    expect(t.instance.trapped).toBe(false);
    expect(t.consume(r)).toBe(11);
  });
});
