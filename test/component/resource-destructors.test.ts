/**
 * Guest-defined resources with a destructor (`(type (resource (rep i32) (dtor …)))`), end to end
 * through wit-component's output: the dtor reaches the handle table through the shim/fixup
 * modules, and runs exactly once whoever drops the last own handle.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { Resource } from '../../src/wasm/component/canon/index.js';
import { Engine } from '../../src/wasm/index.js';
import { buildComponent } from '../support/build-component.js';
import { manifestWith } from '../support/manifest.js';

const WIT = `package test:res;
interface log { dropped: func(rep: u32); }
interface api {
  resource thing { constructor(v: u32); get: func() -> u32; }
  drops: func() -> u32;
  make-and-drop: func(v: u32);
  consume: func(t: thing) -> u32;
}
world res { import log; export api; }`;

// The dtor counts in a global (read back through `drops`) and reports the rep to the host.
const WAT = `(module
  (import "test:res/log" "dropped" (func $dropped (param i32)))
  (import "[export]test:res/api" "[resource-new]thing" (func $new (param i32) (result i32)))
  (import "[export]test:res/api" "[resource-rep]thing" (func $rep (param i32) (result i32)))
  (import "[export]test:res/api" "[resource-drop]thing" (func $drop (param i32)))
  (global $dtors (mut i32) (i32.const 0))
  (func (export "test:res/api#[constructor]thing") (param i32) (result i32) (call $new (local.get 0)))
  (func (export "test:res/api#[method]thing.get") (param i32) (result i32) (local.get 0))
  (func (export "test:res/api#drops") (result i32) (global.get $dtors))
  (func (export "test:res/api#make-and-drop") (param i32) (call $drop (call $new (local.get 0))))
  (func (export "test:res/api#consume") (param i32) (result i32) (local $r i32)
    (local.set $r (call $rep (local.get 0))) (call $drop (local.get 0)) (local.get $r))
  (func (export "test:res/api#[dtor]thing") (param i32)
    (global.set $dtors (i32.add (global.get $dtors) (i32.const 1)))
    (call $dropped (local.get 0))))`;

const API = 'test:res/api';
let bytes: Uint8Array;
const engine = new Engine({ cacheDir: false });

beforeAll(async () => {
  bytes = await buildComponent(WAT, WIT, 'res');
});

function start(onDropped: (rep: number) => void = () => {}) {
  const dropped: number[] = [];
  const instance = engine.compile(bytes, manifestWith('destructors')).instantiate({
    'test:res/log': {
      dropped: (rep: number) => {
        dropped.push(rep);
        onDropped(rep);
      },
    },
  });
  const fn = (name: string) => instance.exports[`${API}#${name}`];
  return {
    instance,
    dropped,
    make: (v: number) => fn('[constructor]thing')(v) as Resource,
    get: fn('[method]thing.get'),
    drops: () => fn('drops')() as number,
    makeAndDrop: fn('make-and-drop'),
    consume: fn('consume'),
  };
}

describe('guest resource destructors', () => {
  it('runs the dtor once when the host drops an owned handle it got from an export', () => {
    const t = start();
    const r = t.make(7);
    expect(r).toBeInstanceOf(Resource);
    expect(t.get(r)).toBe(7);
    expect(t.drops()).toBe(0);
    r.drop();
    expect(t.drops()).toBe(1);
    expect(t.dropped).toEqual([7]);
    expect(() => r.drop()).toThrowError(expect.objectContaining({ code: 'invalid-argument' }));
    expect(t.drops()).toBe(1);
    expect(t.instance.trapped).toBe(false);
  });

  it('runs the dtor once when the guest drops the handle with resource.drop', () => {
    const t = start();
    t.makeAndDrop(3);
    expect(t.drops()).toBe(1);
    expect(t.dropped).toEqual([3]);
  });

  it('runs the dtor once for a handle the host moved back into the guest', () => {
    const t = start();
    const r = t.make(9);
    expect(t.consume(r)).toBe(9);
    expect(t.dropped).toEqual([9]);
    expect(() => r.drop()).toThrowError(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => t.consume(r)).toThrowError(expect.objectContaining({ code: 'invalid-argument' }));
    expect(t.drops()).toBe(1);
  });

  it('refuses to run a dtor from inside a host import (re-entry) and keeps the handle owned', () => {
    let inner: Resource | undefined;
    let refused: unknown;
    const t = start(() => {
      if (inner === undefined) return;
      try {
        inner.drop();
      } catch (error) {
        refused = error;
      }
    });
    inner = t.make(1);
    t.make(2).drop();
    expect(refused).toMatchObject({ code: 'trap', blame: 'host' });
    expect((refused as Error).message).toMatch(/re-entered/);
    expect(inner.owned).toBe(true);
    expect(t.instance.trapped).toBe(false);
    inner.drop();
    expect(t.dropped).toEqual([2, 1]);
  });

  it('a dtor that traps poisons the instance and reports the trap', async () => {
    const trapping = await buildComponent(
      WAT.replace('(global.set $dtors', 'unreachable (global.set $dtors'),
      WIT,
      'res',
    );
    const instance = engine
      .compile(trapping, manifestWith('trapping-dtor'))
      .instantiate({ 'test:res/log': { dropped: () => {} } });
    const r = instance.exports[`${API}#[constructor]thing`](1) as Resource;
    expect(() => r.drop()).toThrowError(expect.objectContaining({ code: 'trap', blame: 'guest' }));
    expect(instance.trapped).toBe(true);
  });
});
