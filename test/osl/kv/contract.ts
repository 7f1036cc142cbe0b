/**
 * The KeyValueStore contract, run against every backend (Hono's `runTest({ newRouter })`):
 * `runKvContract('Name', { open })`, where `open()` returns a fresh, empty store.
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyValueStore, KvNamespace } from '../../../src/osl/kv/store.js';

export interface KvFixture {
  open(): KeyValueStore;
}

const b = (text: string) => new TextEncoder().encode(text);
const utf8 = (text: string) => Buffer.from(text, 'utf8');
const byUtf8 = (x: string, y: string) => Buffer.compare(utf8(x), utf8(y));
const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

/** The code of the error `fn` throws (fails the test if it does not throw). */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code ?? `not an AirssysError: ${String(error)}`;
  }
  throw new Error('expected an error, nothing was thrown');
}

/** Every page of a listing, following the cursors. */
function listAll(ns: KvNamespace, prefix: string, limit: number): string[] {
  const keys: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = ns.listPrefix(prefix, { cursor, limit });
    keys.push(...page.keys);
    if (page.next === undefined) return keys;
    expect(page.keys).toHaveLength(limit);
    expect(page.next).toBe(page.keys[page.keys.length - 1]);
    cursor = page.next;
  }
}

/**
 * Any well-formed text without NUL, code point by code point. Note: `fc.string({ unit: 'binary' })`
 * takes ~1 s to build under Vitest; this is equivalent for our purpose and instant.
 */
const anyText = fc
  .array(
    fc
      .integer({ min: 1, max: 0x10ffff })
      .filter((c) => c < 0xd800 || c > 0xdfff)
      .map((c) => String.fromCodePoint(c)),
    { maxLength: 8 },
  )
  .map((chars) => chars.join(''));

/** Key fragments a guest might use to reach outside its namespace, or into SQL, paths and patterns. */
export const HOSTILE_KEYS = [
  '../x',
  '../../b/k',
  '/etc/passwd',
  'b/k',
  'other-ns/key',
  'b',
  'b\u0001k',
  '%00',
  '%',
  '_',
  '*',
  '\\',
  "'; DROP TABLE kv; --",
  "' OR '1'='1",
  '") OR 1=1 --',
  'k\u200bey',
  '\uFEFF',
  '\uFFFF',
  '\u{10FFFF}',
  '😀',
  'é',
  'e\u0301',
];

export function runKvContract(name: string, fixture: KvFixture): void {
  describe(`${name} — KeyValueStore contract`, () => {
    const opened: KeyValueStore[] = [];
    const open = () => {
      const store = fixture.open();
      opened.push(store);
      return store;
    };
    afterEach(() => {
      for (const store of opened.splice(0)) store.close();
    });

    it('kv — sets, gets, overwrites and deletes a key', () => {
      const ns = open().namespace('app');
      expect(ns.name).toBe('app');
      expect(ns.get('k')).toBeUndefined();
      ns.set('k', b('one'));
      expect(ns.get('k')).toEqual(b('one'));
      ns.set('k', b('two'));
      expect(ns.get('k')).toEqual(b('two'));
      ns.set('empty', new Uint8Array(0));
      expect(ns.get('empty')).toEqual(new Uint8Array(0));
      expect(ns.delete('k')).toBe(true);
      expect(ns.delete('k')).toBe(false);
      expect(ns.get('k')).toBeUndefined();
    });

    it('kv — keeps its own copy of a value (later changes to the caller’s bytes do not leak in)', () => {
      const ns = open().namespace('app');
      const value = b('abc');
      ns.set('k', value);
      value[0] = 0;
      const read = ns.get('k')!;
      read[1] = 0;
      expect(ns.get('k')).toEqual(b('abc'));
    });

    it('kv — accepts a Buffer and a view into a larger buffer as values', () => {
      const ns = open().namespace('app');
      ns.set('buf', Buffer.from('hello'));
      ns.set('view', new Uint8Array(b('xxhelloxx').buffer, 2, 5));
      expect(ns.get('buf')).toEqual(b('hello'));
      expect(ns.get('view')).toEqual(b('hello'));
    });

    it('kv — lists a prefix in UTF-8 byte order, page by page, with exclusive cursors', () => {
      const ns = open().namespace('app');
      // UTF-16 order would put 😀 (D83D) before U+E000; UTF-8 byte order puts it after (F0 > EE).
      const keys = ['p/z', 'p/😀', 'p/\uE000', 'p/é', 'p/a', 'p/\u{10FFFF}', 'p/ab', 'p/\uFFFD', 'q', 'o'];
      for (const key of keys) ns.set(key, b(key));
      const expected = ['p/a', 'p/ab', 'p/z', 'p/é', 'p/\uE000', 'p/\uFFFD', 'p/😀', 'p/\u{10FFFF}'];
      expect(ns.listPrefix('p/')).toEqual({ keys: expected });
      for (const limit of [1, 2, 3, 7, 8, 9]) expect(listAll(ns, 'p/', limit)).toEqual(expected);
      expect(ns.listPrefix('p/', { limit: 3 })).toEqual({ keys: expected.slice(0, 3), next: 'p/z' });
      expect(ns.listPrefix('p/', { cursor: 'p/z', limit: 3 })).toEqual({
        keys: ['p/é', 'p/\uE000', 'p/\uFFFD'],
        next: 'p/\uFFFD',
      });
      // A cursor need not be a stored key; one before the prefix starts at the prefix.
      expect(ns.listPrefix('p/', { cursor: 'p/b' }).keys[0]).toBe('p/z');
      expect(ns.listPrefix('p/', { cursor: 'a' }).keys).toEqual(expected);
      expect(ns.listPrefix('p/', { cursor: 'z' }).keys).toEqual([]);
      expect(ns.listPrefix('').keys).toEqual([...keys].sort(byUtf8));
      expect(ns.listPrefix('p/é').keys).toEqual(['p/é']);
      expect(ns.listPrefix('nothing')).toEqual({ keys: [] });
    });

    it('kv — treats a prefix as bytes, not a pattern (% and _ match themselves)', () => {
      const ns = open().namespace('app');
      for (const key of ['%', '%a', '_', '_b', 'a', 'ab', 'a%']) ns.set(key, b('v'));
      expect(ns.listPrefix('%').keys).toEqual(['%', '%a']);
      expect(ns.listPrefix('_').keys).toEqual(['_', '_b']);
      expect(ns.listPrefix('a%').keys).toEqual(['a%']);
    });

    it('kv — lists 100 keys per page by default and refuses a limit outside 1..1000', () => {
      const store = open();
      const ns = store.namespace('app');
      store.beginTurn();
      for (let i = 0; i < 150; i++) ns.set(`k${String(i).padStart(3, '0')}`, b('v'));
      store.endTurn();
      const first = ns.listPrefix('k');
      expect(first.keys).toHaveLength(100);
      expect(first.next).toBe('k099');
      expect(ns.listPrefix('k', { cursor: first.next }).keys).toHaveLength(50);
      expect(ns.listPrefix('k', { limit: 1000 }).keys).toHaveLength(150);
      for (const limit of [0, -1, 1001, 1.5, Number.NaN, '10' as unknown as number]) {
        expect(codeOf(() => ns.listPrefix('k', { limit }))).toBe('invalid-argument');
      }
    });

    it('kv — increments a counter: missing counts as 0, negative deltas, 8 bytes little-endian', () => {
      const ns = open().namespace('app');
      expect(ns.increment('c', 5n)).toBe(5n);
      expect(ns.increment('c', -7n)).toBe(-2n);
      expect(ns.get('c')).toEqual(new Uint8Array([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
      expect(ns.increment('c', 0n)).toBe(-2n);
      ns.set('n', new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
      expect(ns.increment('n', 1n)).toBe(2n);
    });

    it('kv — refuses an increment that overflows 64 bits, and changes nothing', () => {
      const ns = open().namespace('app');
      ns.increment('max', I64_MAX);
      expect(codeOf(() => ns.increment('max', 1n))).toBe('invalid-argument');
      expect(ns.increment('max', 0n)).toBe(I64_MAX);
      ns.increment('min', I64_MIN);
      expect(codeOf(() => ns.increment('min', -1n))).toBe('invalid-argument');
      expect(ns.increment('min', 0n)).toBe(I64_MIN);
      expect(codeOf(() => ns.increment('x', I64_MAX + 1n))).toBe('invalid-argument');
      expect(codeOf(() => ns.increment('x', 1 as unknown as bigint))).toBe('invalid-argument');
      expect(ns.get('x')).toBeUndefined();
    });

    it('kv — refuses to increment a value that is not an 8-byte counter', () => {
      const ns = open().namespace('app');
      ns.set('text', b('hello'));
      ns.set('nine', new Uint8Array(9));
      expect(codeOf(() => ns.increment('text', 1n))).toBe('invalid-argument');
      expect(codeOf(() => ns.increment('nine', 1n))).toBe('invalid-argument');
      expect(ns.get('text')).toEqual(b('hello'));
    });

    it('kv — compare-and-set: absent/present × expected absent/matching/different, and delete', () => {
      const ns = open().namespace('app');
      // absent, expected absent → writes
      expect(ns.compareAndSet('k', undefined, b('1'))).toBe(true);
      expect(ns.get('k')).toEqual(b('1'));
      // present, expected absent → refused
      expect(ns.compareAndSet('k', undefined, b('2'))).toBe(false);
      // present, expected different → refused (also a prefix of the stored value)
      expect(ns.compareAndSet('k', b('x'), b('2'))).toBe(false);
      expect(ns.compareAndSet('k', b(''), b('2'))).toBe(false);
      expect(ns.get('k')).toEqual(b('1'));
      // present, expected matching → writes
      expect(ns.compareAndSet('k', b('1'), b('2'))).toBe(true);
      expect(ns.get('k')).toEqual(b('2'));
      // absent, expected present → refused
      expect(ns.compareAndSet('missing', b('2'), b('3'))).toBe(false);
      expect(ns.get('missing')).toBeUndefined();
      // matching, value undefined → deletes
      expect(ns.compareAndSet('k', b('2'), undefined)).toBe(true);
      expect(ns.get('k')).toBeUndefined();
      expect(ns.usage()).toEqual({ bytes: 0, keys: 0 });
      // absent, expected absent, value undefined → true, nothing to do
      expect(ns.compareAndSet('k', undefined, undefined)).toBe(true);
      expect(codeOf(() => ns.compareAndSet('k', 'x' as unknown as Uint8Array, undefined))).toBe(
        'invalid-argument',
      );
      expect(codeOf(() => ns.compareAndSet('k', undefined, 'x' as unknown as Uint8Array))).toBe(
        'invalid-argument',
      );
    });

    it('kv — counts usage as key bytes + value bytes, and frees it on overwrite and delete', () => {
      const ns = open().namespace('app');
      ns.set('é', new Uint8Array(10)); // 2 + 10
      ns.set('ab', new Uint8Array(3)); // 2 + 3
      expect(ns.usage()).toEqual({ bytes: 17, keys: 2 });
      ns.set('é', new Uint8Array(1));
      expect(ns.usage()).toEqual({ bytes: 8, keys: 2 });
      ns.increment('n', 1n); // 1 + 8
      expect(ns.usage()).toEqual({ bytes: 17, keys: 3 });
      ns.delete('é');
      ns.delete('ab');
      ns.delete('n');
      expect(ns.usage()).toEqual({ bytes: 0, keys: 0 });
    });

    it('kv — refuses a write over the byte quota and changes nothing; deleting frees quota', () => {
      const ns = open().namespace('app', { quotaBytes: 100 });
      ns.set('k', new Uint8Array(90)); // 91
      expect(codeOf(() => ns.set('j', new Uint8Array(9)))).toBe('quota-exceeded'); // 101
      expect(codeOf(() => ns.set('k', new Uint8Array(100)))).toBe('quota-exceeded');
      expect(codeOf(() => ns.increment('counter', 1n))).toBe('quota-exceeded');
      expect(codeOf(() => ns.compareAndSet('j', undefined, new Uint8Array(9)))).toBe('quota-exceeded');
      expect(ns.get('j')).toBeUndefined();
      expect(ns.get('k')).toEqual(new Uint8Array(90));
      expect(ns.usage()).toEqual({ bytes: 91, keys: 1 });
      ns.set('j', new Uint8Array(8)); // exactly 100
      expect(ns.usage()).toEqual({ bytes: 100, keys: 2 });
      ns.set('k', new Uint8Array(10)); // shrinking frees 80
      ns.set('j', new Uint8Array(80));
      ns.delete('k');
      ns.set('m', new Uint8Array(18));
      expect(ns.usage()).toEqual({ bytes: 100, keys: 2 });
    });

    it('kv — refuses a key over the key count, but allows overwriting at the limit', () => {
      const ns = open().namespace('app', { maxKeys: 2 });
      ns.set('a', b('1'));
      ns.set('b', b('1'));
      expect(codeOf(() => ns.set('c', b('1')))).toBe('quota-exceeded');
      ns.set('a', b('2'));
      expect(ns.listPrefix('').keys).toEqual(['a', 'b']);
      ns.delete('b');
      ns.set('c', b('1'));
      expect(ns.usage().keys).toBe(2);
    });

    it('kv — enforces key and value size limits in bytes', () => {
      const ns = open().namespace('app', { maxKeyBytes: 8, maxValueBytes: 4, quotaBytes: 1000 });
      ns.set('éééé', b('1234')); // 8 bytes of key, 4 of value
      expect(codeOf(() => ns.set('éééé1', b('1')))).toBe('invalid-argument');
      expect(codeOf(() => ns.set('k', b('12345')))).toBe('invalid-argument');
      expect(codeOf(() => ns.get('123456789'))).toBe('invalid-argument');
      expect(codeOf(() => ns.set('', b('1')))).toBe('invalid-argument');
      const big = open().namespace('app');
      big.set('x'.repeat(1024), new Uint8Array(1000));
      expect(codeOf(() => big.set('x'.repeat(1025), b('1')))).toBe('invalid-argument');
      expect(codeOf(() => big.set('v', new Uint8Array(1024 * 1024 + 1)))).toBe('invalid-argument');
    });

    it('kv — refuses keys with NUL or lone surrogates, and non-string keys', () => {
      const ns = open().namespace('app');
      for (const key of ['a\u0000b', '\u0000', 'a\uD800', '\uDC00b', 1, undefined, null, {}]) {
        expect(codeOf(() => ns.set(key as string, b('v')))).toBe('invalid-argument');
        expect(codeOf(() => ns.get(key as string))).toBe('invalid-argument');
      }
      expect(codeOf(() => ns.listPrefix('a\u0000'))).toBe('invalid-argument');
      expect(codeOf(() => ns.listPrefix('a', { cursor: '\uD800' }))).toBe('invalid-argument');
      expect(ns.listPrefix('').keys).toEqual([]);
    });

    it('kv — refuses values that are not a Uint8Array', () => {
      const ns = open().namespace('app');
      const wrong = [
        'text',
        42,
        null,
        undefined,
        [1, 2],
        new ArrayBuffer(2),
        new Uint16Array(2),
        { length: 1 },
      ];
      for (const value of wrong) {
        const error = (() => {
          try {
            ns.set('k', value as Uint8Array);
          } catch (e) {
            return e as { code: string; message: string };
          }
        })();
        expect(error?.code).toBe('invalid-argument');
        expect(error?.message).toMatch(/Uint8Array/);
      }
      expect(ns.get('k')).toBeUndefined();
    });

    it('kv — refuses invalid namespace names and limits', () => {
      const store = open();
      for (const name of ['', 'A', '1a', '-a', 'a/b', '../x', 'a b', 'é', 'a'.repeat(65), 'a\u0000', 7]) {
        expect(codeOf(() => store.namespace(name as string))).toBe('invalid-argument');
      }
      for (const name of ['a', 'a-b_c.d9', 'a'.repeat(64)]) expect(store.namespace(name).name).toBe(name);
      for (const quotaBytes of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(codeOf(() => store.namespace('a', { quotaBytes }))).toBe('invalid-argument');
      }
    });

    it('kv — keeps namespaces apart whatever the key (hostile keys)', () => {
      const store = open();
      const a = store.namespace('a');
      const other = store.namespace('b');
      other.set('k', b('secret'));
      for (const key of HOSTILE_KEYS) a.set(key, b(`a:${key}`));
      for (const key of HOSTILE_KEYS) expect(a.get(key)).toEqual(b(`a:${key}`));
      expect(a.listPrefix('').keys).toEqual([...HOSTILE_KEYS].sort(byUtf8));
      expect(other.listPrefix('').keys).toEqual(['k']);
      expect(other.get('k')).toEqual(b('secret'));
      expect(other.usage()).toEqual({ bytes: 7, keys: 1 });
      for (const key of HOSTILE_KEYS) expect(a.delete(key)).toBe(true);
      expect(a.usage()).toEqual({ bytes: 0, keys: 0 });
      expect(other.get('k')).toEqual(b('secret'));
    });

    it('kv — property: any key written in one namespace is invisible from another', () => {
      const store = open();
      const a = store.namespace('a');
      const other = store.namespace('b');
      const key = fc
        .array(fc.oneof(fc.constantFrom(...HOSTILE_KEYS), anyText), {
          minLength: 1,
          maxLength: 4,
        })
        .map((parts) => parts.join(''))
        .filter((k) => k.length > 0 && !/\p{Cs}|\0/u.test(k) && utf8(k).length <= 1024);
      fc.assert(
        fc.property(key, fc.uint8Array({ maxLength: 16 }), (k, value) => {
          a.set(k, value);
          expect(a.get(k)).toEqual(value);
          expect(a.listPrefix(k).keys[0]).toBe(k);
          expect(other.get(k)).toBeUndefined();
          expect(other.listPrefix('').keys).toEqual([]);
          expect(other.listPrefix(k).keys).toEqual([]);
          expect(a.delete(k)).toBe(true);
          expect(a.usage()).toEqual({ bytes: 0, keys: 0 });
        }),
        { numRuns: 200 },
      );
    });

    it('kv — property: behaves like a sorted map under random operations', () => {
      const store = open();
      const alphabet = ['a', 'b', 'é', '\uE000', '😀', '/', '%'];
      const key = fc
        .array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 3 })
        .map((cs) => cs.join(''));
      const op = fc.oneof(
        fc.record({ kind: fc.constant('set' as const), key, value: fc.uint8Array({ maxLength: 4 }) }),
        fc.record({ kind: fc.constant('delete' as const), key }),
        fc.record({ kind: fc.constant('increment' as const), key, delta: fc.bigInt(-5n, 5n) }),
        fc.record({ kind: fc.constant('list' as const), key, limit: fc.integer({ min: 1, max: 4 }) }),
      );
      let run = 0;
      fc.assert(
        fc.property(fc.array(op, { maxLength: 30 }), fc.boolean(), (ops, inTurn) => {
          const ns = store.namespace(`model-${run++}`);
          const model = new Map<string, Uint8Array>();
          if (inTurn) store.beginTurn();
          try {
            for (const o of ops) {
              if (o.kind === 'set') {
                ns.set(o.key, o.value);
                model.set(o.key, o.value);
              } else if (o.kind === 'delete') {
                expect(ns.delete(o.key)).toBe(model.delete(o.key));
              } else if (o.kind === 'increment') {
                const current = model.get(o.key);
                if (current !== undefined && current.length !== 8) {
                  expect(codeOf(() => ns.increment(o.key, o.delta))).toBe('invalid-argument');
                } else {
                  const before = current ? Buffer.from(current).readBigInt64LE() : 0n;
                  expect(ns.increment(o.key, o.delta)).toBe(before + o.delta);
                  const next = Buffer.alloc(8);
                  next.writeBigInt64LE(before + o.delta);
                  model.set(o.key, new Uint8Array(next));
                }
              } else {
                const expected = [...model.keys()].filter((k) => k.startsWith(o.key)).sort(byUtf8);
                expect(listAll(ns, o.key, o.limit)).toEqual(expected);
              }
            }
            if (inTurn) store.endTurn();
          } finally {
            store.abortTurn();
          }
          for (const [k, v] of model) expect(ns.get(k)).toEqual(v);
          expect(ns.listPrefix('', { limit: 1000 }).keys).toEqual([...model.keys()].sort(byUtf8));
          const bytes = [...model].reduce((sum, [k, v]) => sum + utf8(k).length + v.length, 0);
          expect(ns.usage()).toEqual({ bytes, keys: model.size });
        }),
        { numRuns: 60 },
      );
    });

    it('kv — a turn commits its writes together at endTurn, and reads inside it see them', () => {
      const store = open();
      const ns = store.namespace('app');
      ns.set('before', b('1'));
      store.beginTurn();
      ns.set('a', b('1'));
      ns.increment('n', 2n);
      ns.delete('before');
      expect(ns.get('a')).toEqual(b('1'));
      expect(ns.get('before')).toBeUndefined();
      expect(ns.listPrefix('').keys).toEqual(['a', 'n']);
      expect(ns.usage()).toEqual({ bytes: 11, keys: 2 });
      store.endTurn();
      expect(ns.listPrefix('').keys).toEqual(['a', 'n']);
      expect(ns.increment('n', 0n)).toBe(2n);
    });

    it('kv — abortTurn rolls back every write of the turn, and only those', () => {
      const store = open();
      const ns = store.namespace('app');
      const other = store.namespace('other');
      ns.set('keep', b('1'));
      ns.increment('n', 1n);
      const usage = ns.usage();
      store.beginTurn();
      ns.set('keep', b('changed'));
      ns.set('new', b('1'));
      ns.delete('keep');
      ns.increment('n', 10n);
      ns.compareAndSet('cas', undefined, b('x'));
      other.set('x', b('1'));
      store.abortTurn();
      expect(ns.get('keep')).toEqual(b('1'));
      expect(ns.get('new')).toBeUndefined();
      expect(ns.get('cas')).toBeUndefined();
      expect(ns.increment('n', 0n)).toBe(1n);
      expect(ns.usage()).toEqual(usage);
      expect(other.usage()).toEqual({ bytes: 0, keys: 0 });
      store.abortTurn(); // outside a turn: nothing to do
    });

    it('kv — a refused write inside a turn leaves the turn’s other writes in place', () => {
      const store = open();
      const ns = store.namespace('app', { quotaBytes: 20 });
      store.beginTurn();
      ns.set('a', new Uint8Array(10));
      expect(codeOf(() => ns.set('b', new Uint8Array(10)))).toBe('quota-exceeded');
      expect(codeOf(() => ns.set('c', 'x' as unknown as Uint8Array))).toBe('invalid-argument');
      ns.set('c', new Uint8Array(5));
      store.endTurn();
      expect(ns.listPrefix('').keys).toEqual(['a', 'c']);
      expect(ns.usage()).toEqual({ bytes: 17, keys: 2 });
    });

    it('kv — a read-only or empty turn commits nothing and costs nothing', () => {
      const store = open();
      const ns = store.namespace('app');
      store.beginTurn();
      store.endTurn();
      store.beginTurn();
      expect(ns.get('x')).toBeUndefined();
      store.endTurn();
      ns.set('x', b('1'));
      expect(ns.get('x')).toEqual(b('1'));
    });

    it('kv — refuses nested turns and an endTurn without a turn', () => {
      const store = open();
      expect(codeOf(() => store.endTurn())).toBe('internal');
      store.beginTurn();
      expect(codeOf(() => store.beginTurn())).toBe('internal');
      store.endTurn();
    });

    it('kv — close rolls back an open turn and makes further calls fail', () => {
      const store = fixture.open();
      const ns = store.namespace('app');
      store.beginTurn();
      ns.set('k', b('1'));
      store.close();
      store.close();
      expect(codeOf(() => ns.get('k'))).toBe('storage-error');
      expect(codeOf(() => store.namespace('app'))).toBe('storage-error');
    });

    it('kv — every error message says what to do', () => {
      const ns = open().namespace('app', { quotaBytes: 10, maxKeys: 1 });
      const messages: string[] = [];
      const collect = (fn: () => unknown) => {
        try {
          fn();
        } catch (error) {
          messages.push((error as Error).message);
        }
      };
      collect(() => ns.set('k', new Uint8Array(20)));
      ns.set('k', b('1'));
      collect(() => ns.set('j', b('1')));
      collect(() => ns.set('', b('1')));
      collect(() => ns.set('a\u0000', b('1')));
      collect(() => ns.set('k', 'v' as unknown as Uint8Array));
      collect(() => ns.increment('k', 1n));
      collect(() => ns.listPrefix('', { limit: 5000 }));
      expect(messages).toHaveLength(7);
      for (const message of messages)
        expect(message).toMatch(/: (use|delete|shorten|encode|page|increment|split)/);
    });
  });
}
