import { expect, test } from 'vitest';
import {
  compileLift,
  compileLower,
  Resource,
  resourceDrop,
  resourceNew,
} from '../../src/wasm/component/canon/index.js';
import type { FuncType, ResourceType } from '../../src/wasm/component/types.js';
import { instantiate, shape, T, TestInstance } from './helpers.js';

const thing: ResourceType = { id: 0, name: 'thing', origin: 'guest' };

test('a borrow the guest lends to a host import goes dead when the import returns', () => {
  const inst = new TestInstance([thing]);
  const borrow = { kind: 'borrow', resource: thing } as const;
  const seen: { value: Resource; during: boolean }[] = [];
  const inspect = compileLower(
    { params: [{ name: 't', type: borrow }], result: undefined },
    { shape: shape(), name: 'inspect' },
  )(
    (t: Resource) => {
      seen.push({ value: t, during: t.borrowed });
    },
    inst,
    undefined,
  );
  const exports = instantiate(
    `(module
       (import "canon" "new" (func $new (param i32) (result i32)))
       (import "canon" "drop" (func $drop (param i32)))
       (import "host" "inspect" (func $inspect (param i32)))
       (func (export "lend") (param i32) (local $h i32)
         (local.set $h (call $new (local.get 0)))
         (call $inspect (local.get $h))
         (call $drop (local.get $h)))
       (func (export "peek") (param i32) (result i32) (local.get 0)))`,
    {
      canon: {
        new: (rep: number) => resourceNew(inst, thing.id, rep),
        drop: (h: number) => resourceDrop(inst, thing.id, h),
      },
      host: { inspect },
    },
  );
  const lift = (name: string, type: FuncType) =>
    compileLift(type, { shape: shape(), fuelParam: false, name })(exports[name], inst, undefined, undefined);
  const lend = lift('lend', { params: [{ name: 'rep', type: T.u32 }], result: undefined });
  const peek = lift('peek', { params: [{ name: 't', type: borrow }], result: T.u32 });

  lend(42);
  expect(seen).toHaveLength(1);
  const [{ value, during }] = seen;
  expect(value).toBeInstanceOf(Resource);
  expect(value.rep).toBe(42);
  expect(during).toBe(true);
  expect(value.borrowed).toBe(false);
  // The guest dropped (and may have reused) rep 42: the host cannot hand it back as a borrow.
  expect(() => peek(value)).toThrowError(
    expect.objectContaining({ code: 'invalid-argument', message: expect.stringMatching(/live thing/) }),
  );
  expect(() => value.drop()).toThrowError(expect.objectContaining({ code: 'invalid-argument' }));
  expect(inst.state).toBe(0);
  expect(inst.handles.lentToHost).toHaveLength(0);
});
