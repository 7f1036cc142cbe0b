import { expect, test } from 'vitest';
import { compileLift, compileLower, flattenFuncType } from '../../src/wasm/component/canon/index.js';
import type { FuncType, ValType } from '../../src/wasm/component/types.js';
import { instantiate, REALLOC_WAT, shape, T, TestInstance } from './helpers.js';

const person: ValType = {
  kind: 'record',
  fields: [
    { name: 'name', type: T.string },
    { name: 'age', type: T.u8 },
  ],
};

test('a guest export calls host imports taking string/record and returning string/list', () => {
  const greetType: FuncType = { params: [{ name: 'who', type: person }], result: T.string };
  const splitType: FuncType = {
    params: [{ name: 's', type: T.string }],
    result: { kind: 'list', element: T.string },
  };
  expect(flattenFuncType(greetType, 'lower')).toEqual({ params: ['i32', 'i32', 'i32', 'i32'], results: [] });
  expect(flattenFuncType(splitType, 'lift')).toEqual({ params: ['i32', 'i32'], results: ['i32'] });

  const inst = new TestInstance();
  let exports: any;
  const realloc = (a: number, b: number, c: number, d: number) => exports.cabi_realloc(a, b, c, d);
  const seen: unknown[] = [];
  const greet = compileLower(greetType, { shape: shape(), name: 'greet' })(
    (p: { name: string; age: number }) => {
      seen.push(p);
      return `hello ${p.name} (${p.age})`;
    },
    inst,
    realloc,
  );
  const split = compileLower(splitType, { shape: shape(), name: 'split' })(
    (s: string) => s.split(' '),
    inst,
    realloc,
  );
  // run(name: string) -> list<string>: greet({name, age: 42}) then split the greeting.
  exports = instantiate(
    `(module
      (import "host" "greet" (func $greet (param i32 i32 i32 i32)))
      (import "host" "split" (func $split (param i32 i32 i32)))
      (memory (export "memory") 1)
      ${REALLOC_WAT}
      (func (export "run") (param $p i32) (param $n i32) (result i32)
        (call $greet (local.get $p) (local.get $n) (i32.const 42) (i32.const 512))
        (call $split (i32.load (i32.const 512)) (i32.load (i32.const 516)) (i32.const 520))
        (i32.const 520)))`,
    { host: { greet, split } },
  );
  inst.memory = exports.memory;
  const run = compileLift(
    { params: [{ name: 'name', type: T.string }], result: { kind: 'list', element: T.string } },
    { shape: shape(), fuelParam: false, name: 'run' },
  )(exports.run, inst, realloc, undefined);
  expect(run('Zoë')).toEqual(['hello', 'Zoë', '(42)']);
  expect(seen).toEqual([{ name: 'Zoë', age: 42 }]);
});

test('layout seen from wasm: record fields at ABI offsets, data-segment string lifted', () => {
  // record { a: u8, b: u64, c: u16 } → offsets 0, 8, 16; size 24, align 8
  const rec: ValType = {
    kind: 'record',
    fields: [
      { name: 'a', type: T.u8 },
      { name: 'b', type: T.u64 },
      { name: 'c', type: T.u16 },
    ],
  };
  const exports = instantiate(`(module (memory (export "memory") 1)
    (data (i32.const 100) "wasm!")
    (data (i32.const 200) "\\07\\00\\00\\00\\00\\00\\00\\00\\09\\00\\00\\00\\00\\00\\00\\01\\34\\12")
    (data (i32.const 240) "\\64\\00\\00\\00\\05\\00\\00\\00")
    (func (export "rec") (result i32) (i32.const 200))
    (func (export "str") (result i32) (i32.const 240)))`);
  const inst = new TestInstance();
  inst.memory = exports.memory;
  const lift = (name: string, result: ValType) =>
    compileLift({ params: [], result }, { shape: shape(), fuelParam: false, name })(
      exports[name],
      inst,
      undefined,
      undefined,
    );
  expect(lift('rec', rec)()).toEqual({ a: 7, b: 0x0100000000000009n, c: 0x1234 });
  expect(lift('str', T.string)()).toBe('wasm!');
});

test('lendBytes: a host import gets its list<u8> as a view of guest memory, else as its own copy', () => {
  const writeType: FuncType = {
    params: [{ name: 'bytes', type: { kind: 'list', element: T.u8 } }],
    result: undefined,
  };
  const inst = new TestInstance();
  const got: Uint8Array[] = [];
  const host = (bytes: Uint8Array) => {
    got.push(bytes);
  };
  const copied = compileLower(writeType, { shape: shape(), name: 'copied' })(host, inst, undefined);
  const lent = compileLower(writeType, { shape: shape(), name: 'lent', lendBytes: true })(
    host,
    inst,
    undefined,
  );
  const exports = instantiate(
    `(module
      (import "host" "copied" (func $copied (param i32 i32)))
      (import "host" "lent" (func $lent (param i32 i32)))
      (memory (export "memory") 1)
      (data (i32.const 100) "abcd")
      (func (export "run")
        (call $copied (i32.const 100) (i32.const 4))
        (call $lent (i32.const 100) (i32.const 4))))`,
    { host: { copied, lent } },
  );
  inst.memory = exports.memory;
  exports.run();
  const memory = exports.memory as WebAssembly.Memory;
  expect(got.map((b) => Buffer.from(b).toString())).toEqual(['abcd', 'abcd']);
  expect(got[0].buffer).not.toBe(memory.buffer);
  expect(got[1].buffer).toBe(memory.buffer);
  expect(got[1].byteOffset).toBe(100);
  // A host function that may suspend cannot be lent memory the guest may change meanwhile.
  expect(() =>
    compileLower(writeType, { shape: shape(), name: 'both', lendBytes: true, suspending: true }),
  ).toThrow(/cannot be lent guest memory/);
});
