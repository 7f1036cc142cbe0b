import { expect, test } from 'vitest';
import { alignment, flattenFuncType, size } from '../../src/wasm/component/canon/index.js';
import { camelCase, flattenType } from '../../src/wasm/component/canon/layout.js';
import type { ValType } from '../../src/wasm/component/types.js';

const u8: ValType = { kind: 'u8' };
const u64: ValType = { kind: 'u64' };
const f32: ValType = { kind: 'f32' };
const f64: ValType = { kind: 'f64' };
const str: ValType = { kind: 'string' };

test('sizes and alignments', () => {
  expect([size(str), alignment(str)]).toEqual([8, 4]);
  expect([size({ kind: 'list', element: u64 }), alignment({ kind: 'list', element: u64 })]).toEqual([8, 4]);
  expect(
    size({
      kind: 'record',
      fields: [
        { name: 'a', type: u8 },
        { name: 'b', type: u64 },
        { name: 'c', type: u8 },
      ],
    }),
  ).toBe(24);
  expect(size({ kind: 'option', type: u8 })).toBe(2);
  expect([
    size({ kind: 'result', ok: u64, err: undefined }),
    alignment({ kind: 'result', ok: u64, err: undefined }),
  ]).toEqual([16, 8]);
  const flags = (n: number): ValType => ({
    kind: 'flags',
    names: Array.from({ length: n }, (_, i) => `f${i}`),
  });
  expect([1, 8, 9, 16, 17, 32, 33, 65].map((n) => [size(flags(n)), alignment(flags(n))])).toEqual([
    [1, 1],
    [1, 1],
    [2, 2],
    [2, 2],
    [4, 4],
    [4, 4],
    [8, 4],
    [12, 4],
  ]);
  const cases = (n: number): ValType => ({
    kind: 'enum',
    names: Array.from({ length: n }, (_, i) => `c${i}`),
  });
  expect([size(cases(256)), size(cases(257)), size(cases(65537))]).toEqual([1, 2, 4]);
});

test('joined variant flattening', () => {
  const v: ValType = {
    kind: 'variant',
    cases: [
      { name: 'a', type: f32 },
      { name: 'b', type: { kind: 'u32' } },
      { name: 'c', type: { kind: 'tuple', types: [f64, f32] } },
      { name: 'd', type: undefined },
    ],
  };
  expect(flattenType(v)).toEqual(['i32', 'i64', 'f32']);
  expect(flattenType({ kind: 'flags', names: Array.from({ length: 33 }, (_, i) => `f${i}`) })).toEqual([
    'i32',
    'i32',
  ]);
});

test('flattenFuncType', () => {
  const many = Array.from({ length: 17 }, (_, i) => ({ name: `p${i}`, type: u8 }));
  expect(flattenFuncType({ params: many, result: str }, 'lift')).toEqual({
    params: ['i32'],
    results: ['i32'],
  });
  expect(flattenFuncType({ params: many, result: str }, 'lower')).toEqual({
    params: ['i32', 'i32'],
    results: [],
  });
  expect(flattenFuncType({ params: [{ name: 'x', type: u64 }], result: f32 }, 'lower')).toEqual({
    params: ['i64'],
    results: ['f32'],
  });
});

test('camelCase', () => {
  expect(['a', 'max-size', 'get-URL', 'HTTP-request', '%type'].map(camelCase)).toEqual([
    'a',
    'maxSize',
    'getURL',
    'httpRequest',
    'type',
  ]);
});
