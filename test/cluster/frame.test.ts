import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeFrame,
  type FrameHeader,
  FrameWriter,
  MIN_CLUSTER_KEY_BYTES,
} from '../../src/cluster/frame.js';
import { type Envelope, ERROR_CODEC, errorReply } from '../../src/host/envelope.js';
import { AirssysError, ERROR_CODES } from '../../src/shared/errors.js';

const key = randomBytes(32);
const otherKey = randomBytes(32);
const MAX_U64 = 0xffff_ffff_ffff_ffffn;
const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const utf8 = new TextEncoder();

const header: FrameHeader = { host: 'host-a', boot: 'b00t>host-b', seq: 7, at: 1_700_000_000_000 };

const env = (fields: Partial<Envelope> = {}): Envelope => ({
  kind: 'send',
  sender: 'app/a',
  target: 'app/b',
  topic: undefined,
  correlationId: undefined,
  codec: 0x55,
  payload: new Uint8Array([1, 2, 3]),
  ...fields,
});

/** Whole code points (astral ones included, no lone surrogates), or plain ASCII. */
const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }));

/** Any envelope, `version`/`probe` included; error-codec replies carry a well-formed error body. */
const envelopes: fc.Arbitrary<Envelope> = fc
  .tuple(
    fc.record(
      {
        kind: fc.constantFrom('send', 'request', 'reply', 'publish'),
        sender: text,
        target: text,
        topic: fc.option(text, { nil: undefined }),
        correlationId: fc.option(
          fc.oneof(fc.bigInt({ min: 0n, max: MAX_U64 }), fc.constantFrom(0n, MAX_U64, 2n ** 63n)),
          { nil: undefined },
        ),
        codec: fc.oneof(fc.nat({ max: 0xffff_ffff }), fc.constantFrom(0, 0xffff_ffff, ERROR_CODEC)),
        payload: fc.oneof(fc.uint8Array({ maxLength: 48 }), fc.constant(new Uint8Array(0))),
        replyTo: fc.record(
          {
            node: fc.oneof(fc.integer(INT32), fc.constantFrom(-1, INT32.min, INT32.max)),
            key: fc.integer(INT32),
          },
          { noNullPrototype: true },
        ),
        chain: fc.array(text, { maxLength: 4 }),
        trace: text,
        version: text,
        probe: fc.constantFrom('health' as const, 'migrate' as const),
      },
      {
        requiredKeys: ['kind', 'sender', 'target', 'topic', 'correlationId', 'codec', 'payload'],
        noNullPrototype: true,
      },
    ),
    fc.record({ code: fc.constantFrom(...ERROR_CODES), message: text }, { noNullPrototype: true }),
  )
  .map(([e, error]) =>
    e.kind === 'reply' && e.codec === ERROR_CODEC
      ? { ...e, payload: utf8.encode(JSON.stringify(error)), error }
      : e,
  );

const headers: fc.Arbitrary<FrameHeader> = fc.record(
  {
    host: text,
    boot: text,
    seq: fc.oneof(fc.maxSafeNat(), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER)),
    at: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(Date.now())),
  },
  { noNullPrototype: true },
);

/** What a receiver should get: the envelope without its host-local fields. */
function carried(e: Envelope): Envelope {
  const { version: _version, probe: _probe, ...rest } = e;
  return rest;
}

/** The `details.reason` of the messaging-error `fn` throws; fails on success or any other error. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AirssysError);
    expect(error).toMatchObject({ code: 'messaging-error' });
    return (error as AirssysError).details?.reason as string;
  }
  throw new Error('expected a messaging-error');
}

/** `body` sealed with a correct MAC under `key`, as a key holder (or a buggy sender) would. */
function resealed(frame: Uint8Array, patch: (body: DataView) => void): Uint8Array {
  const out = frame.slice();
  const end = out.length - 32;
  patch(new DataView(out.buffer, out.byteOffset, end));
  out.set(createHmac('sha256', key).update(out.subarray(0, end)).digest(), end);
  return out;
}

describe('cluster frame — round trip', () => {
  it('carries every field combination, minus the host-local version and probe', () => {
    fc.assert(
      fc.property(headers, fc.array(envelopes, { maxLength: 8 }), (h, items) => {
        const decoded = decodeFrame(key, encodeFrame(key, h, items));
        expect(decoded).toStrictEqual({ ...h, items: items.map(carried) });
      }),
      { numRuns: 300 },
    );
  });

  it('builds the same frame incrementally with a FrameWriter', () => {
    fc.assert(
      fc.property(headers, fc.array(envelopes, { maxLength: 8 }), (h, items) => {
        const writer = new FrameWriter(key);
        for (const e of items) writer.append(e);
        expect(writer.count).toBe(items.length);
        const frame = writer.finish(h);
        expect(frame).toEqual(encodeFrame(key, h, items));
        expect(decodeFrame(key, frame).items).toStrictEqual(items.map(carried));
      }),
    );
  });

  it('keeps the extremes of each field: empty payload, max u64 id, replyTo node -1, a leading BOM', () => {
    const items = [
      env({ payload: new Uint8Array(0), correlationId: MAX_U64, replyTo: { node: -1, key: 0 } }),
      env({ sender: '\uFEFFbom', target: '', topic: '', chain: [], trace: '' }),
      env({ kind: 'publish', topic: 'prices/€/🚀', correlationId: 0n, chain: ['a', 'ü'.repeat(200)] }),
    ];
    expect(decodeFrame(key, encodeFrame(key, header, items)).items).toStrictEqual(items);
  });

  it('carries frames larger than the writer first reserves', () => {
    const bigPayload = new Uint8Array(randomBytes(5 * 1024 * 1024));
    const big = env({ payload: bigPayload, sender: 'é'.repeat(5000) });
    const many = Array.from({ length: 50 }, (_, i) =>
      env({ payload: new Uint8Array(randomBytes(100)), topic: `t${i}` }),
    );
    const decoded = decodeFrame(key, encodeFrame(key, header, [...many, big])).items;
    expect(decoded.slice(0, -1)).toStrictEqual(many);
    // Note: compared as a Buffer, as a deep equal of 5 MiB element by element takes minutes.
    const last = decoded.at(-1)!;
    expect(Buffer.compare(last.payload, bigPayload)).toBe(0);
    expect({ ...last, payload: undefined }).toStrictEqual({ ...big, payload: undefined });
    // The scratch buffer shrinks back afterwards and still works.
    expect(decodeFrame(key, encodeFrame(key, header, many)).items).toStrictEqual(many);
  });

  it('decodes repeated and look-alike addresses each as itself', () => {
    // Same length, first, middle and last byte: one slot of the decoder's string cache.
    const alike = Array.from(
      { length: 40 },
      (_, i) => `a${String(i).padStart(3, '0')}Z${String(99 - i).padStart(3, '0')}b`,
    );
    const items = alike.flatMap((sender, i) => [
      env({ sender, target: alike[0]!, topic: alike[i % 3] }),
      env({ sender: alike[i >> 1]!, target: sender, chain: [sender, 'é', sender] }),
    ]);
    expect(decodeFrame(key, encodeFrame(key, header, items)).items).toStrictEqual(items);
  });

  it('round-trips the header, an empty batch included', () => {
    fc.assert(
      fc.property(headers, (h) => {
        expect(decodeFrame(key, encodeFrame(key, h, []))).toStrictEqual({ ...h, items: [] });
      }),
    );
  });

  it('copies payloads out, so changing the received bytes does not change a decoded envelope', () => {
    const frame = encodeFrame(key, header, [env({ payload: new Uint8Array([9, 9, 9]) })]);
    const [decoded] = decodeFrame(key, frame).items;
    frame.fill(0);
    expect(decoded.payload).toEqual(new Uint8Array([9, 9, 9]));
  });
});

describe('cluster frame — error replies', () => {
  const request = env({ kind: 'request', correlationId: 42n, replyTo: { node: 3, key: 8 } });
  const decodeOne = (e: Envelope) => decodeFrame(key, encodeFrame(key, header, [e])).items[0];

  it('derives error from the payload of an error-codec reply', () => {
    const reply = errorReply(request, 'app/b', new AirssysError('not-found', 'no actor app/c'));
    expect(decodeOne(reply).error).toEqual({ code: 'not-found', message: 'no actor app/c' });
    expect(decodeOne(reply)).toStrictEqual(reply);
  });

  it('reports an error-codec reply whose payload is not a {code, message} object as malformed', () => {
    for (const body of [
      'not json',
      '{"code":5,"message":"x"}',
      '{"code":"timeout"}',
      'null',
      '[]',
      '"x"',
      '',
    ]) {
      const reply = env({ kind: 'reply', codec: ERROR_CODEC, payload: utf8.encode(body) });
      expect(decodeOne(reply).error, body).toEqual({ code: 'internal', message: 'malformed error reply' });
    }
    const invalidUtf8 = env({ kind: 'reply', codec: ERROR_CODEC, payload: new Uint8Array([0xff, 0xfe]) });
    expect(decodeOne(invalidUtf8).error).toEqual({ code: 'internal', message: 'malformed error reply' });
  });

  it('turns an error code outside the host list into internal, keeping the message', () => {
    const reply = env({
      kind: 'reply',
      codec: ERROR_CODEC,
      payload: utf8.encode('{"code":"nope","message":"m"}'),
    });
    expect(decodeOne(reply).error).toEqual({ code: 'internal', message: 'm' });
  });

  it('derives no error for other kinds or codecs, whatever error the sender set', () => {
    const body = utf8.encode('{"code":"timeout","message":"late"}');
    const error = { code: 'timeout', message: 'late' } as const;
    expect(decodeOne(env({ kind: 'send', codec: ERROR_CODEC, payload: body }))).not.toHaveProperty('error');
    expect(decodeOne(env({ kind: 'reply', codec: 0x0200, payload: body, error }))).not.toHaveProperty(
      'error',
    );
  });
});

describe('cluster frame — authentication', () => {
  const frame = encodeFrame(key, header, [
    env({ topic: 't', correlationId: 5n, replyTo: { node: -1, key: 2 }, chain: ['x'], trace: 'tp' }),
    env({ kind: 'reply', codec: ERROR_CODEC, payload: utf8.encode('{"code":"trap","message":"m"}') }),
  ]);

  it('refuses a frame with any single byte changed as bad-mac', () => {
    for (let i = 0; i < frame.length; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const tampered = frame.slice();
        tampered[i] ^= flip;
        expect(
          refusal(() => decodeFrame(key, tampered)),
          `byte ${i} ^ ${flip}`,
        ).toBe('bad-mac');
      }
    }
  });

  it("refuses a frame sealed with another cluster's key as bad-mac", () => {
    expect(refusal(() => decodeFrame(otherKey, frame))).toBe('bad-mac');
    expect(refusal(() => decodeFrame(key, encodeFrame(otherKey, header, [env()])))).toBe('bad-mac');
  });

  it('refuses a frame with bytes appended as bad-mac', () => {
    const longer = new Uint8Array(frame.length + 1);
    longer.set(frame);
    expect(refusal(() => decodeFrame(key, longer))).toBe('bad-mac');
  });

  it('refuses a frame cut at every length as a messaging-error, never anything else', () => {
    for (let n = 0; n < frame.length; n++) {
      expect(['bad-mac', 'malformed'], `cut at ${n}`).toContain(
        refusal(() => decodeFrame(key, frame.subarray(0, n))),
      );
    }
    expect(refusal(() => decodeFrame(key, new Uint8Array(0)))).toBe('malformed');
  });

  it('refuses random bytes as a messaging-error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(['bad-mac', 'malformed']).toContain(refusal(() => decodeFrame(key, bytes)));
      }),
    );
  });
});

describe('cluster frame — garbage under a valid MAC', () => {
  // One item: sender 'a', target 'b', chain ['c'], payload [1, 2, 3], so every offset is known.
  const frame = encodeFrame(key, { ...header, host: 'h', boot: 'b' }, [
    env({ sender: 'a', target: 'b', chain: ['c'] }),
  ]);
  const hostLength = 4;
  const count = 4 + 5 + 5 + 16;
  const chainCount = count + 4 + 6 + 5 + 5;
  const payloadLength = frame.length - 32 - 3 - 4;

  it('decodes the untouched frame (so the offsets below are the right ones)', () => {
    const untouched = resealed(frame, () => {});
    expect(decodeFrame(key, untouched).items).toHaveLength(1);
    const view = new DataView(untouched.buffer);
    expect([view.getUint32(hostLength, true), view.getUint32(count, true)]).toEqual([1, 1]);
    expect([view.getUint32(chainCount, true), view.getUint32(payloadLength, true)]).toEqual([1, 3]);
  });

  it('refuses a length field larger than the bytes left as malformed, before allocating', () => {
    for (const [field, offset] of Object.entries({ hostLength, count, chainCount, payloadLength })) {
      for (const huge of [0xffff_ffff, 0x4000_0000]) {
        const forged = resealed(frame, (body) => body.setUint32(offset, huge, true));
        const before = process.memoryUsage().arrayBuffers;
        let error: unknown;
        try {
          decodeFrame(key, forged);
        } catch (e) {
          error = e;
        }
        expect(process.memoryUsage().arrayBuffers - before, field).toBeLessThan(64 * 1024 * 1024);
        expect(error, field).toMatchObject({ code: 'messaging-error', details: { reason: 'malformed' } });
        // The bound check refused it, not a failed allocation or a read past the end.
        expect((error as Error).message, field).toMatch(/needs \d+ bytes at byte \d+, but only \d+ are left/);
        expect((error as Error).cause, field).toBeUndefined();
      }
    }
  });

  it('refuses an unknown kind, unknown flags, a wrong magic and trailing bytes as malformed', () => {
    const item = count + 4;
    const patches: Record<string, (body: DataView) => void> = {
      kind: (b) => b.setUint8(item, 4),
      flags: (b) => b.setUint8(item + 1, 0x20),
      magic: (b) => b.setUint8(3, 0x32),
      trailing: (b) => b.setUint32(payloadLength, 2, true),
      short: (b) => b.setUint32(payloadLength, 4, true),
    };
    for (const [what, patch] of Object.entries(patches)) {
      expect(
        refusal(() => decodeFrame(key, resealed(frame, patch))),
        what,
      ).toBe('malformed');
    }
  });

  it('refuses a frame garbled by a key holder as malformed or decodes it, never throwing anything else', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: frame.length - 33 }), fc.nat({ max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (edits) => {
          const garbled = resealed(frame, (body) => {
            for (const [at, value] of edits) body.setUint8(at, value);
          });
          try {
            decodeFrame(key, garbled);
          } catch {
            expect(refusal(() => decodeFrame(key, garbled))).toBe('malformed');
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('cluster frame — FrameWriter', () => {
  it('starts afresh after finish, and the frames it returned stay intact', () => {
    const writer = new FrameWriter(key);
    const first = [env({ sender: 'one' }), env({ sender: 'two', payload: new Uint8Array(100) })];
    for (const e of first) writer.append(e);
    expect(writer.byteLength).toBeGreaterThan(100);
    const frame1 = writer.finish({ ...header, seq: 1 });
    expect([writer.count, writer.byteLength]).toEqual([0, 0]);

    writer.append(env({ sender: 'three' }));
    const frame2 = writer.finish({ ...header, seq: 2 });
    expect(decodeFrame(key, frame2)).toMatchObject({ seq: 2, items: [{ sender: 'three' }] });
    expect(decodeFrame(key, frame1)).toMatchObject({ seq: 1, items: [{ sender: 'one' }, { sender: 'two' }] });
    expect(decodeFrame(key, writer.finish({ ...header, seq: 3 }))).toMatchObject({ seq: 3, items: [] });
  });

  it('refuses an envelope with a field out of range and stays as it was', () => {
    const writer = new FrameWriter(key);
    writer.append(env({ sender: 'kept' }));
    const [count, size] = [writer.count, writer.byteLength];
    const bad: Partial<Envelope>[] = [
      { codec: -1 },
      { codec: 2 ** 32 },
      { codec: 1.5 },
      { correlationId: MAX_U64 + 1n },
      { correlationId: -1n },
      { replyTo: { node: 2 ** 31, key: 0 } },
      { replyTo: { node: 0, key: 0.5 } },
      { kind: 'shout' as never },
    ];
    for (const fields of bad) {
      expect(() => writer.append(env({ sender: 'bad', ...fields }))).toThrow(
        expect.objectContaining({ code: 'invalid-argument' }),
      );
      expect([writer.count, writer.byteLength]).toEqual([count, size]);
    }
    expect(decodeFrame(key, writer.finish(header)).items).toStrictEqual([env({ sender: 'kept' })]);
  });

  it('refuses a header whose seq or time cannot be carried', () => {
    for (const h of [{ seq: -1 }, { seq: 2 ** 53 }, { seq: 1.5 }, { at: Number.NaN }, { at: Infinity }]) {
      expect(() => encodeFrame(key, { ...header, ...h }, [])).toThrow(
        expect.objectContaining({ code: 'invalid-argument' }),
      );
    }
  });
});

describe('cluster frame — key', () => {
  it(`refuses a cluster key shorter than ${MIN_CLUSTER_KEY_BYTES} bytes everywhere`, () => {
    const short = randomBytes(MIN_CLUSTER_KEY_BYTES - 1);
    const frame = encodeFrame(key, header, [env()]);
    for (const use of [
      () => encodeFrame(short, header, [env()]),
      () => decodeFrame(short, frame),
      () => new FrameWriter(short),
      () => decodeFrame(new Uint8Array(0), frame),
    ]) {
      expect(use).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    }
    const exact = randomBytes(MIN_CLUSTER_KEY_BYTES);
    expect(decodeFrame(exact, encodeFrame(exact, header, [env()])).items).toHaveLength(1);
  });
});
