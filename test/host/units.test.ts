import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODECS, codecCode, codecName, decodePayload, encodePayload } from '../../src/host/codec.js';
import { Deadlines } from '../../src/host/deadlines.js';
import { patternCovers } from '../../src/host/host-services.js';
import { topicMatches } from '../../src/rt/index.js';

describe('codecs', () => {
  it('round-trips values through json, cbor and msgpack', () => {
    const value = { a: 1, b: 'two', c: [true, null, 3.5], d: { e: 'f' } };
    for (const codec of ['json', 'cbor', 'msgpack'] as const) {
      expect(decodePayload(CODECS[codec], encodePayload(codec, value))).toEqual(value);
    }
  });

  it('round-trips borsh with its schema, and refuses borsh without one', () => {
    const schema = { struct: { id: 'u64', name: 'string' } } as const;
    const bytes = encodePayload('borsh', { id: 5n, name: 'x' }, schema);
    expect(decodePayload(CODECS.borsh, bytes, schema)).toEqual({ id: 5n, name: 'x' });
    expect(() => encodePayload('borsh', { id: 5n })).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
  });

  it('carries raw bytes and strings, and unknown codes as bytes', () => {
    expect(encodePayload('raw', 'hé')).toEqual(new TextEncoder().encode('hé'));
    const bytes = new Uint8Array([1, 2, 3]);
    expect(decodePayload(0x12345, bytes)).toBe(bytes);
    expect(() => encodePayload('raw', 5)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });

  it('reports malformed payloads as messaging-error, never a crash', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.constantFrom(CODECS.json, CODECS.cbor, CODECS.msgpack),
        (bytes, code) => {
          try {
            decodePayload(code, bytes);
          } catch (error) {
            expect(error).toMatchObject({ code: 'messaging-error' });
          }
        },
      ),
    );
    expect(() => decodePayload(CODECS.json, new Uint8Array([0xff]))).toThrow(
      expect.objectContaining({ code: 'messaging-error' }),
    );
  });

  it('names codes and refuses unknown codec names', () => {
    expect(codecName(0x51)).toBe('cbor');
    expect(codecName(1)).toBeUndefined();
    expect(codecCode('msgpack')).toBe(0x0201);
    expect(() => codecCode('yaml' as never)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => encodePayload('yaml' as never, 1)).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
  });
});

describe('deadlines', () => {
  it('fires items in deadline order, however they were added', async () => {
    const fired: number[] = [];
    const deadlines = new Deadlines<number>((n) => fired.push(n));
    const now = performance.now();
    for (const ms of [30, 5, 20, 10, 25, 15]) deadlines.add(now + ms, ms);
    await new Promise((r) => setTimeout(r, 60));
    expect(fired).toEqual([5, 10, 15, 20, 25, 30]);
    expect(deadlines.size).toBe(0);
  });

  it('clear drops everything', async () => {
    const fired: number[] = [];
    const deadlines = new Deadlines<number>((n) => fired.push(n));
    deadlines.add(performance.now() + 5, 1);
    deadlines.clear();
    await new Promise((r) => setTimeout(r, 20));
    expect(fired).toEqual([]);
  });
});

describe('subscription grants', () => {
  it('a granted pattern covers narrower patterns only', () => {
    expect(patternCovers('events.>', 'events.orders')).toBe(true);
    expect(patternCovers('events.>', 'events.*.created')).toBe(true);
    expect(patternCovers('events.*', 'events.orders')).toBe(true);
    expect(patternCovers('events.*', 'events.>')).toBe(false);
    expect(patternCovers('events.orders', 'events.*')).toBe(false);
    expect(patternCovers('events.>', 'events')).toBe(false);
    expect(patternCovers('>', 'anything.at.all')).toBe(true);
  });

  it('agrees with topic matching: whatever the requested pattern matches, the grant matches', () => {
    const seg = fc.constantFrom('a', 'b', 'c');
    const pattern = fc
      .tuple(fc.array(fc.constantFrom('a', 'b', '*'), { minLength: 1, maxLength: 3 }), fc.boolean())
      .map(([s, rest]) => [...s, ...(rest ? ['>'] : [])].join('.'));
    fc.assert(
      fc.property(
        pattern,
        pattern,
        fc.array(seg, { minLength: 1, maxLength: 5 }),
        (granted, requested, topic) => {
          const t = topic.join('.');
          if (patternCovers(granted, requested) && topicMatches(requested, t)) {
            expect(topicMatches(granted, t)).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
