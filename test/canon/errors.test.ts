import { describe, expect, test, vi } from 'vitest';
import { AirssysError } from '../../src/shared/errors.js';
import { compileLift, compileLower } from '../../src/wasm/component/canon/index.js';
import type { FuncType, ValType } from '../../src/wasm/component/types.js';
import { identity, instantiate, passThrough, REALLOC_WAT, shape, T, TestInstance } from './helpers.js';

const expectError = (fn: () => unknown, code: string, blame: string, message?: RegExp) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AirssysError);
    const err = e as AirssysError;
    expect({ code: err.code, blame: err.blame }).toEqual({ code, blame });
    if (message) expect(err.message).toMatch(message);
    return err;
  }
  throw new Error('expected an error');
};

describe('invalid JS arguments → invalid-argument, instance still usable', () => {
  const cases: [ValType, unknown][] = [
    [T.u32, -1],
    [T.u32, 2 ** 32],
    [T.u32, 1.5],
    [T.u32, '1'],
    [T.u32, 1n],
    [T.s8, 128],
    [T.u8, Number.NaN],
    [T.s32, 2 ** 31],
    [T.u64, -1n],
    [T.u64, 2n ** 64n],
    [T.s64, 2 ** 60],
    [T.bool, 1],
    [T.f64, '1'],
    [T.char, 'ab'],
    [T.char, '\ud800'],
    [T.char, ''],
    [T.string, 5],
    [T.string, 'lone \udc00 surrogate'],
    [{ kind: 'list', element: T.u8 }, [256]],
    [{ kind: 'list', element: T.u32 }, 'abc'],
    [{ kind: 'record', fields: [{ name: 'a-b', type: T.u8 }] }, {}],
    [{ kind: 'record', fields: [{ name: 'a', type: T.u8 }] }, null],
    [{ kind: 'tuple', types: [T.u8, T.u8] }, [1]],
    [{ kind: 'enum', names: ['a', 'b'] }, 'c'],
    [{ kind: 'variant', cases: [{ name: 'a', type: T.u8 }] }, { tag: 'b' }],
    [
      { kind: 'variant', cases: [{ name: 'a', type: T.u8 }] },
      { tag: 'a', val: -1 },
    ],
    [{ kind: 'result', ok: T.u8, err: undefined }, { tag: 'error' }],
    [{ kind: 'option', type: T.u8 }, 'x'],
    [{ kind: 'flags', names: ['a'] }, { a: 1 }],
  ];
  test.each(cases)('%j given %s', (type, value) => {
    const { f, inst } = identity(type);
    const err = expectError(() => f(value), 'invalid-argument', 'host', /^f: parameter "x".*: expected /);
    expect(err).toBeDefined();
    expect(inst.state).toBe(0);
    expect(inst.failures).toEqual([]);
  });

  test('a bad later argument after a string was already copied in', () => {
    const type: FuncType = {
      params: [
        { name: 'name', type: T.string },
        { name: 'count', type: T.u32 },
      ],
      result: T.string,
    };
    const { f, inst } = passThrough(type, (s: string, n: number) => s.repeat(n));
    expectError(() => f('ab', -3), 'invalid-argument', 'host', /parameter "count": expected a u32/);
    expect(inst.state).toBe(0);
    expect(f('ab', 3)).toBe('ababab');
  });

  test('host import returning a bad value is reported (blame host) and poisons the instance', () => {
    const { f, inst } = passThrough({ params: [], result: T.u8 }, () => 300);
    expectError(() => f(), 'invalid-argument', 'host', /^g: result: expected a u8/);
    expect(inst.state).toBe(2);
  });
});

describe('invalid guest data → trap', () => {
  const returning = (result: ValType, body: string, data = '') => {
    const type: FuncType = { params: [], result };
    const exports = instantiate(`(module (memory (export "memory") 1) ${data} ${REALLOC_WAT}
      (func (export "f") (result i32) ${body}))`);
    const inst = new TestInstance();
    inst.memory = exports.memory;
    const f = compileLift(type, { shape: shape(), fuelParam: false, name: 'f' })(
      exports.f,
      inst,
      exports.cabi_realloc,
      undefined,
    );
    return { f, inst };
  };

  test('bool: any non-zero is true (as the ABI says), no trap', () => {
    expect(returning(T.bool, '(i32.const 2)').f()).toBe(true);
  });
  test.each([
    ['char above 0x10FFFF', T.char, '(i32.const 0x110000)', /invalid char/],
    ['surrogate char', T.char, '(i32.const 0xd800)', /invalid char/],
    [
      'discriminant out of range',
      { kind: 'enum', names: ['a', 'b'] } as ValType,
      '(i32.const 2)',
      /discriminant/,
    ],
    ['string out of bounds', T.string, '(i32.const 16)', /outside linear memory/],
    ['misaligned return pointer', T.string, '(i32.const 2)', /not aligned/],
    ['return pointer out of bounds', T.string, '(i32.const 65532)', /outside linear memory/],
    ['list pointer misaligned', { kind: 'list', element: T.u32 } as ValType, '(i32.const 32)', /not aligned/],
    ['invalid UTF-8', T.string, '(i32.const 48)', /not valid UTF-8/],
    ['option discriminant', { kind: 'option', type: T.u8 } as ValType, '(i32.const 64)', /discriminant/],
  ])('%s', (_name, type, body, message) => {
    // 16: {ptr 65530, len 100}; 32: {ptr 2, len 1}; 48: {ptr 80, len 2} → bytes ff fe; 64: disc 7
    const data = `(data (i32.const 16) "\\fa\\ff\\00\\00\\64\\00\\00\\00")
      (data (i32.const 32) "\\02\\00\\00\\00\\01\\00\\00\\00")
      (data (i32.const 48) "\\50\\00\\00\\00\\02\\00\\00\\00")
      (data (i32.const 64) "\\07")
      (data (i32.const 80) "\\ff\\fe")`;
    const { f, inst } = returning(type, body, data);
    expectError(() => f(), 'trap', 'guest', message);
    expect(inst.state).toBe(2);
    expectError(() => f(), 'trap', 'guest', /poisoned/);
  });

  test('a trap in the core function poisons the instance', () => {
    const { f, inst } = returning(T.u32, 'unreachable');
    expect(() => f()).toThrow();
    expect(inst.state).toBe(2);
  });

  test('guest passing an invalid char to an import traps', () => {
    const type: FuncType = { params: [{ name: 'c', type: T.char }], result: undefined };
    const host = vi.fn();
    const inst = new TestInstance();
    const g = compileLower(type, { shape: shape(), name: 'g' })(host, inst, undefined);
    expectError(() => g(0xdfff), 'trap', 'guest', /^g: invalid char/);
    expect(host).not.toHaveBeenCalled();
  });
});

describe('call protocol', () => {
  test('re-entry from a host import is refused', () => {
    let f: (...a: unknown[]) => unknown = () => 0;
    const pt = passThrough({ params: [{ name: 'x', type: T.u32 }], result: T.u32 }, (x: number) =>
      x === 0 ? (f(1) as number) : x,
    );
    f = pt.f;
    expectError(() => f(0), 'trap', 'host', /re-entered/);
  });

  test('post-return is called with the core results, after lifting', () => {
    const post = vi.fn();
    const { f, exports } = identity(T.string, { postReturn: post });
    expect(f('hi')).toBe('hi');
    expect(post).toHaveBeenCalledTimes(1);
    expect(post.mock.calls[0]).toEqual([256]);
    void exports;
    const post2 = vi.fn();
    const u = identity(T.u32, { postReturn: post2 });
    u.f(4294967295);
    expect(post2.mock.calls[0]).toEqual([-1]);
  });

  test('fuel is passed as the first core argument when fuelParam is set', () => {
    const exports = instantiate(
      `(module (func (export "f") (param i64 i32) (result i64) (i64.add (local.get 0) (i64.extend_i32_u (local.get 1)))))`,
    );
    const inst = new TestInstance();
    inst.fuel = 40 as never;
    const core = (fuel: number, x: number) => exports.f(BigInt(fuel), x);
    const f = compileLift(
      { params: [{ name: 'x', type: T.u32 }], result: T.u64 },
      {
        shape: shape(),
        fuelParam: true,
        name: 'f',
      },
    )(core, inst, undefined, undefined);
    expect(f(2)).toBe(42n);
  });

  test('signatures needing memory/realloc without those options are invalid-component', () => {
    const noMem = {
      stringEncoding: 'utf8' as const,
      hasMemory: false,
      hasRealloc: false,
      hasPostReturn: false,
    };
    expectError(
      () =>
        compileLift(
          { params: [{ name: 's', type: T.string }], result: undefined },
          { shape: noMem, fuelParam: false, name: 'f' },
        ),
      'invalid-component',
      'guest',
    );
    expectError(
      () =>
        compileLower({ params: [], result: T.string }, { shape: { ...noMem, hasMemory: true }, name: 'g' }),
      'invalid-component',
      'guest',
    );
  });
});
