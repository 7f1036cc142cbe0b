import { describe, expect, test, vi } from 'vitest';
import { AirssysError } from '../../src/shared/errors.js';
import {
  compileLift,
  compileLower,
  Resource,
  resourceDrop,
  resourceNew,
  resourceRep,
} from '../../src/wasm/component/canon/index.js';
import type { FuncType, ResourceType, ValType } from '../../src/wasm/component/types.js';
import { identity, instantiate, shape, T, TestInstance } from './helpers.js';

const file: ResourceType = { id: 0, name: 'file', origin: 'host' };
const thing: ResourceType = { id: 1, name: 'thing', origin: 'guest' };

/** The host's objects behind `file` handles, declared to the handle table as the embedder would. */
class File {
  constructor(readonly fd: number) {}
}

describe('host resources', () => {
  test('own<file> passed in and out is the same JS object; the table ends empty', () => {
    const own: ValType = { kind: 'own', resource: file };
    const { f, inst } = identity(own, { resources: [file] });
    inst.handles.host.declare(file.id, File);
    const obj = new File(3);
    expect(f(obj)).toBe(obj);
    expect(inst.handles.entries.filter((e) => e !== undefined)).toEqual([]);
    expect(() => f(42)).toThrow(/expected a live file resource object/);
    expect(inst.state).toBe(0);
  });

  const borrowModule = (drop: boolean) => {
    const inst = new TestInstance([file]);
    inst.handles.host.declare(file.id, File);
    const type: FuncType = {
      params: [{ name: 'f', type: { kind: 'borrow', resource: file } }],
      result: T.u32,
    };
    const host = (o: { fd: number }) => o.fd;
    const g = compileLower(type, { shape: shape(), name: 'size' })(host, inst, undefined);
    const exports = instantiate(
      `(module (import "host" "g" (func $g (param i32) (result i32)))
         (import "host" "drop" (func $drop (param i32)))
         (func (export "f") (param i32) (result i32) (local $r i32)
           (local.set $r (call $g (local.get 0)))
           ${drop ? '(call $drop (local.get 0))' : ''}
           (local.get $r)))`,
      { host: { g, drop: (h: number) => resourceDrop(inst, file.id, h) } },
    );
    const f = compileLift(type, { shape: shape(), fuelParam: false, name: 'f' })(
      exports.f,
      inst,
      undefined,
      undefined,
    );
    return { f, inst };
  };

  test('borrow<file> lent for the call and dropped by the guest', () => {
    const { f, inst } = borrowModule(true);
    expect(f(new File(7))).toBe(7);
    expect(f(new File(8))).toBe(8);
    expect(inst.handles.borrows).toBe(0);
  });

  test('a borrow the guest does not drop traps at return', () => {
    const { f, inst } = borrowModule(false);
    expect(() => f(new File(7))).toThrow(/not dropped/);
    expect(inst.state).toBe(2);
  });

  test('guest dropping an owned host resource calls onHostDrop', () => {
    const inst = new TestInstance([file]);
    const dropped = vi.fn();
    inst.handles.onHostDrop = dropped;
    const h = inst.handles.insert(file.id, { fd: 1 }, true);
    resourceDrop(inst, file.id, h);
    expect(dropped).toHaveBeenCalledWith(file, { fd: 1 });
    expect(() => resourceDrop(inst, file.id, h)).toThrow(AirssysError);
  });
});

describe('guest resources', () => {
  const setup = () => {
    const inst = new TestInstance([thing]);
    const dtor = vi.fn();
    inst.handles.setDestructor(thing.id, dtor);
    const exports = instantiate(
      `(module
         (import "canon" "new" (func $new (param i32) (result i32)))
         (import "canon" "rep" (func $rep (param i32) (result i32)))
         (import "canon" "drop" (func $drop (param i32)))
         (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
         (func (export "consume") (param i32) (result i32) (local $r i32)
           (local.set $r (call $rep (local.get 0))) (call $drop (local.get 0)) (local.get $r))
         (func (export "peek") (param i32) (result i32) (local.get 0)))`,
      {
        canon: {
          new: (rep: number) => resourceNew(inst, thing.id, rep),
          rep: (h: number) => resourceRep(inst, thing.id, h),
          drop: (h: number) => resourceDrop(inst, thing.id, h),
        },
      },
    );
    const own: ValType = { kind: 'own', resource: thing };
    const borrow: ValType = { kind: 'borrow', resource: thing };
    const lift = (name: string, type: FuncType) =>
      compileLift(type, { shape: shape(), fuelParam: false, name })(
        exports[name],
        inst,
        undefined,
        undefined,
      );
    return {
      inst,
      dtor,
      make: lift('make', { params: [{ name: 'rep', type: T.u32 }], result: own }),
      consume: lift('consume', { params: [{ name: 't', type: own }], result: T.u32 }),
      peek: lift('peek', { params: [{ name: 't', type: borrow }], result: T.u32 }),
    };
  };

  test('own handles come out as Resource objects and go back in (ownership moves)', () => {
    const { make, consume, peek, dtor, inst } = setup();
    const r = make(1234) as Resource;
    expect(r).toBeInstanceOf(Resource);
    expect(r.rep).toBe(1234);
    expect(r.owned).toBe(true);
    expect(peek(r)).toBe(1234); // a borrow of a guest resource is its rep
    expect(consume(r)).toBe(1234);
    expect(dtor).toHaveBeenCalledWith(1234);
    expect(r.owned).toBe(false);
    expect(() => consume(r)).toThrow(/expected an owned thing Resource/);
    expect(inst.state).toBe(0);
    const r2 = make(5) as Resource;
    r2.drop();
    expect(dtor).toHaveBeenLastCalledWith(5);
    expect(() => r2.drop()).toThrow(AirssysError);
  });

  test('resource.rep with a wrong or stale handle traps', () => {
    const { inst } = setup();
    expect(() => resourceRep(inst, thing.id, 0)).toThrow(/not in the handle table/);
    const h = resourceNew(inst, thing.id, 9);
    expect(() => resourceRep(inst, 99, h)).toThrow(/expected a resource #99/);
  });
});
