import { describe, expect, test } from 'vitest';
import type { FuncType, ValType } from '../../src/wasm/component/types.js';
import { identity, passThrough, T } from './helpers.js';

const rt = (t: ValType, values: unknown[], expected?: unknown[]) => {
  const { f, inst } = identity(t);
  values.forEach((v, i) => {
    expect(f(v)).toEqual(expected ? expected[i] : v);
  });
  expect(inst.state).toBe(0);
};

describe('primitives round-trip', () => {
  test('bool', () => rt(T.bool, [true, false]));
  test('s8/u8', () => {
    rt(T.s8, [0, -1, -128, 127]);
    rt(T.u8, [0, 1, 255]);
  });
  test('s16/u16', () => {
    rt(T.s16, [0, -1, -32768, 32767]);
    rt(T.u16, [0, 65535]);
  });
  test('s32/u32', () => {
    rt(T.s32, [0, -1, -(2 ** 31), 2 ** 31 - 1]);
    rt(T.u32, [0, 1, 2 ** 31, 2 ** 32 - 1]);
  });
  test('s64/u64 (bigint, safe numbers accepted)', () => {
    rt(T.s64, [0n, -1n, -(2n ** 63n), 2n ** 63n - 1n, -5], [0n, -1n, -(2n ** 63n), 2n ** 63n - 1n, -5n]);
    rt(T.u64, [0n, 2n ** 64n - 1n, 2n ** 63n, 7], [0n, 2n ** 64n - 1n, 2n ** 63n, 7n]);
  });
  test('f32/f64', () => {
    rt(T.f32, [0, 1.5, -2.25, Number.POSITIVE_INFINITY, Number.NaN, 3.4028234663852886e38]);
    rt(T.f32, [0.1], [Math.fround(0.1)]);
    rt(T.f64, [0, 0.1, -1e300, Number.NEGATIVE_INFINITY, Number.NaN, Number.MIN_VALUE]);
  });
  test('char', () => rt(T.char, ['a', '\0', 'é', '€', '😀', '\u{10ffff}', '\ud7ff', '\ue000']));
});

describe('strings', () => {
  const samples = [
    '',
    'a',
    'hello world, 22 chars!',
    'héllo',
    '日本語テキスト',
    '😀 emoji 🎉',
    'x'.repeat(10_240),
  ];
  samples.push(`${'é'.repeat(5000)}😀${'a'.repeat(100)}`, `${'a'.repeat(100)}ü`);
  for (const encoding of ['utf8', 'utf16', 'latin1+utf16'] as const) {
    test(encoding, () => {
      const { f } = identity(T.string, { encoding });
      for (const s of [...samples, 'Latin-1 ÿ only', `${'ÿ'.repeat(40)}Ā`]) expect(f(s)).toBe(s);
    });
  }
  test('memory growth during a call refreshes the cached views', () => {
    const { f, exports } = identity(T.string);
    const pages = exports.memory.buffer.byteLength;
    const big = `${'abc'.repeat(100_000)}é`;
    expect(f(big)).toBe(big);
    expect(exports.memory.buffer.byteLength).toBeGreaterThan(pages);
    expect(f('after grow')).toBe('after grow');
  });
  test('utf8 realloc protocol: ASCII fits the first allocation, non-ASCII grows then shrinks', () => {
    const { f, exports } = identity(T.string);
    const base = exports.realloc_calls.value;
    f('abc');
    // one realloc to copy the arg in (export), one for the import's result
    expect(exports.realloc_calls.value - base).toBe(2);
    const before = exports.realloc_calls.value;
    f('é');
    // arg: initial, grow to worst case, shrink; result: same three
    expect(exports.realloc_calls.value - before).toBe(6);
  });
});

describe('lists', () => {
  test('list<u8> ↔ Uint8Array, any array-like accepted', () => {
    const { f } = identity({ kind: 'list', element: T.u8 });
    expect(f(new Uint8Array([1, 2, 255]))).toEqual(new Uint8Array([1, 2, 255]));
    expect(f([0, 9])).toEqual(new Uint8Array([0, 9]));
    expect(f(new Uint8Array(0))).toEqual(new Uint8Array(0));
    const big = new Uint8Array(20_000).map((_, i) => i & 0xff);
    expect(f(big)).toEqual(big);
  });
  test('list<string>', () =>
    rt({ kind: 'list', element: T.string }, [[], ['a', '', 'ü😀', 'long '.repeat(30)]]));
  test('list<record>', () => {
    const rec: ValType = {
      kind: 'record',
      fields: [
        { name: 'id', type: T.u8 },
        { name: 'big-value', type: T.u64 },
        { name: 'name', type: T.string },
      ],
    };
    rt({ kind: 'list', element: rec }, [
      [
        { id: 1, bigValue: 2n, name: 'x' },
        { id: 255, bigValue: 2n ** 64n - 1n, name: 'ÿ' },
      ],
    ]);
  });
  test('list<f64> and nested lists', () => {
    rt({ kind: 'list', element: T.f64 }, [[1.5, -2, 0]]);
    rt({ kind: 'list', element: { kind: 'list', element: T.s16 } }, [[[1, -2], [], [32767]]]);
  });
});

describe('records and tuples', () => {
  test('record with camelCase keys and mixed alignment', () => {
    rt(
      {
        kind: 'record',
        fields: [
          { name: 'a', type: T.u8 },
          { name: 'max-size', type: T.u64 },
          { name: 'c', type: T.f32 },
          { name: 'get-URL', type: T.char },
        ],
      },
      [{ a: 7, maxSize: 123n, c: 1.5, getURL: 'z' }],
    );
  });
  test('tuple', () => rt({ kind: 'tuple', types: [T.u8, T.string, T.f64] }, [[1, 'two', 3.5]]));
  test('empty record', () => rt({ kind: 'record', fields: [] }, [{}]));
});

describe('variants', () => {
  const v: ValType = {
    kind: 'variant',
    cases: [
      { name: 'none', type: undefined },
      { name: 'int', type: T.u32 },
      { name: 'big', type: T.s64 },
      { name: 'float', type: T.f32 },
      { name: 'double', type: T.f64 },
      { name: 'text', type: T.string },
      { name: 'pair', type: { kind: 'tuple', types: [T.f32, T.u8] } },
    ],
  };
  test('joined flattening (i32/i64/f32/f64 payloads)', () => {
    rt(v, [
      { tag: 'none' },
      { tag: 'int', val: 4294967295 },
      { tag: 'big', val: -(2n ** 63n) },
      { tag: 'float', val: -1.5 },
      { tag: 'double', val: 1e-300 },
      { tag: 'text', val: 'hé' },
      { tag: 'pair', val: [2.5, 200] },
    ]);
  });
  test('as a flat single-result (payload-less) and in a record', () => {
    rt(
      {
        kind: 'variant',
        cases: [
          { name: 'a', type: undefined },
          { name: 'b-c', type: undefined },
        ],
      },
      [{ tag: 'b-c' }],
    );
    rt(
      {
        kind: 'record',
        fields: [
          { name: 'v', type: v },
          { name: 'w', type: v },
        ],
      },
      [{ v: { tag: 'float', val: 3.5 }, w: { tag: 'big', val: 5n } }],
    );
  });
  test('variant with 300 cases (u16 discriminant)', () => {
    const cases = Array.from({ length: 300 }, (_, i) => ({
      name: `c${i}`,
      type: i === 299 ? T.u8 : undefined,
    }));
    rt({ kind: 'variant', cases }, [{ tag: 'c0' }, { tag: 'c299', val: 9 }, { tag: 'c256' }]);
  });
  test('enum', () => rt({ kind: 'enum', names: ['red', 'green', 'light-blue'] }, ['red', 'light-blue']));
  test('option', () => {
    rt({ kind: 'option', type: T.u32 }, [undefined, 5, 0, null], [undefined, 5, 0, undefined]);
    rt({ kind: 'option', type: T.string }, [undefined, '', 'x']);
  });
  test('nested option', () => {
    const t: ValType = { kind: 'option', type: { kind: 'option', type: T.u8 } };
    rt(
      t,
      [{ tag: 'none' }, { tag: 'some', val: undefined }, { tag: 'some', val: 3 }, undefined],
      [{ tag: 'none' }, { tag: 'some', val: undefined }, { tag: 'some', val: 3 }, { tag: 'none' }],
    );
  });
  test('result with and without payloads', () => {
    rt({ kind: 'result', ok: T.u32, err: T.string }, [
      { tag: 'ok', val: 1 },
      { tag: 'err', val: 'bad' },
    ]);
    rt({ kind: 'result', ok: undefined, err: undefined }, [{ tag: 'ok' }, { tag: 'err' }]);
    rt({ kind: 'result', ok: undefined, err: T.f64 }, [{ tag: 'ok' }, { tag: 'err', val: 2.5 }]);
  });
});

describe('flags', () => {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `flag-${i}`);
  const obj = (n: number, set: number[]) =>
    Object.fromEntries(names(n).map((_name, i) => [`flag${i}`, set.includes(i)]));
  test.each([1, 8, 9, 16, 17, 32, 33])('%i names', (n) => {
    const t: ValType = { kind: 'flags', names: names(n) };
    rt(t, [
      obj(n, []),
      obj(n, [0]),
      obj(n, [n - 1]),
      obj(
        n,
        names(n).map((_, i) => i),
      ),
    ]);
    // in a record too (memory layout)
    rt({ kind: 'tuple', types: [t, t] }, [[obj(n, [0, n - 1]), obj(n, [])]]);
  });
  test('missing keys are false', () => {
    const { f } = identity({ kind: 'flags', names: ['read', 'write-all'] });
    expect(f({ writeAll: true })).toEqual({ read: false, writeAll: true });
  });
});

describe('many parameters', () => {
  test('>16 flat params go through memory both ways', () => {
    const params = Array.from({ length: 20 }, (_, i) => ({
      name: `p${i}`,
      type: i % 3 === 0 ? T.u64 : T.u32,
    }));
    const type: FuncType = { params, result: { kind: 'tuple', types: params.map((p) => p.type) } };
    const { f } = passThrough(type, (...args: unknown[]) => args);
    const args = params.map((p, i) => (p.type === T.u64 ? BigInt(i) * 10n ** 15n : i * 1000));
    expect(f(...args)).toEqual(args);
  });
  test('>16 params including strings', () => {
    const params = Array.from({ length: 9 }, (_, i) => ({ name: `s${i}`, type: T.string }));
    const type: FuncType = { params, result: T.string };
    const { f } = passThrough(type, (...args: string[]) => args.join('|'));
    expect(f('a', 'b', 'c', 'd', 'é', 'f', 'g', 'h', '😀')).toBe('a|b|c|d|é|f|g|h|😀');
  });
  test('no params, no result', () => {
    let called = 0;
    const { f } = passThrough({ params: [], result: undefined }, () => {
      called++;
    });
    expect(f()).toBeUndefined();
    expect(called).toBe(1);
  });
});
