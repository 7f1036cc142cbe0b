/**
 * The cluster wire format: a batch of envelopes one host sends another over NATS, in one binary
 * frame authenticated with HMAC-SHA256 under the cluster key.
 *
 * Threat model: anyone who can publish on the NATS bus could otherwise inject messages into a
 * host, stamp any sender on them, or alter them in flight. The MAC covers every byte of the frame
 * and is checked before a single field is read, so without the cluster key nobody can forge,
 * alter, truncate or splice a frame, and the parser only ever sees bytes a key holder wrote (it is
 * still written to refuse garbage without throwing anything else, looping or over-allocating).
 * Not handled here: replay of a genuine frame (the receiver refuses a `boot`+`seq` it has seen)
 * and confidentiality (frames are not encrypted; use TLS to NATS).
 *
 * Note: hand-written rather than CBOR or msgpack (both are dependencies) because this is the hot
 * path between hosts: one pass straight into one reused buffer with no intermediate object per
 * message, and the two types envelopes carry that generic codecs handle poorly are native here
 * (64-bit bigint correlation ids, payload bytes copied with one `set`).
 *
 * Layout, little-endian; `str` is a u32 byte length then UTF-8:
 *
 *   frame: 'AWF1' | host str | boot str | seq u64 | at f64 | count u32 | count × item | HMAC (32)
 *   item:  kind u8 | flags u8 | codec u32 | sender str | target str
 *          | topic str? | correlationId u64? | replyTo (node i32, key i32)? | chain (u32 n, n × str)?
 *          | trace str? | payload (u32 length, bytes)
 *
 * `flags` says which optional fields follow (1 topic, 2 correlationId, 4 replyTo, 8 chain,
 * 16 trace); the HMAC is over everything before it.
 */

import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type Envelope, ERROR_CODEC, type MessageKind } from '../host/envelope.js';
import { AirssysError, ERROR_CODES, type ErrorCode } from '../shared/errors.js';

/**
 * Who sent a frame: the host id, a random id of that host process's boot, a sequence number that
 * increases by one per frame sent by that boot (to any receiver), and the send time (ms since
 * epoch).
 */
export interface FrameHeader {
  readonly host: string;
  readonly boot: string;
  readonly seq: number;
  readonly at: number;
}

export interface Frame extends FrameHeader {
  readonly items: Envelope[];
}

/** The least a cluster key may have: HMAC-SHA256's output size, so the key is not the weak link. */
export const MIN_CLUSTER_KEY_BYTES = 32;

const MAGIC = [0x41, 0x57, 0x46, 0x31]; // 'AWF1'
const MAC_BYTES = 32;
const KINDS: readonly MessageKind[] = ['send', 'request', 'reply', 'publish'];
const HAS_TOPIC = 1;
const HAS_CORRELATION = 2;
const HAS_REPLY_TO = 4;
const HAS_CHAIN = 8;
const HAS_TRACE = 16;
const KNOWN_FLAGS = HAS_TOPIC | HAS_CORRELATION | HAS_REPLY_TO | HAS_CHAIN | HAS_TRACE;
/** kind, flags, codec, and the sender, target and payload lengths: the least an item takes. */
const MIN_ITEM_BYTES = 18;
const MAX_U64 = 0xffff_ffff_ffff_ffffn;
const TWO_32 = 0x1_0000_0000;
/** A buffer grown past this by one big frame is dropped after it, not kept for the process's life. */
const RETAIN_MAX_BYTES = 4 * 1024 * 1024;
/** Strings up to this many UTF-16 units (or bytes) take the short paths: ASCII in JS, the decoder's cache. */
const SHORT_STRING = 64;
/** Slots of a decoder's string cache (a power of two). */
const CACHE_SLOTS = 64;

const utf8 = new TextEncoder();
// Note: `ignoreBOM` keeps a leading U+FEFF that is part of the string; `fatal` refuses bad UTF-8.
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const KNOWN_CODES = new Set<string>(ERROR_CODES);

/**
 * Encodes envelopes into one frame authenticated with HMAC-SHA256 under `key` (the cluster key,
 * at least `MIN_CLUSTER_KEY_BYTES`). `invalid-argument` for a field the format cannot carry.
 *
 * @example
 * const frame = encodeFrame(key, { host: 'h1', boot, seq: 1, at: Date.now() }, [env]);
 * nc.publish(subject, frame);
 */
export function encodeFrame(key: Uint8Array, header: FrameHeader, items: readonly Envelope[]): Uint8Array {
  checkKey(key);
  const sink = scratchItems;
  sink.length = 0;
  for (const env of items) writeItem(sink, env);
  const frame = seal(key, header, sink, items.length);
  sink.release();
  return frame;
}

/**
 * Decodes and authenticates a frame; throws `messaging-error` with `details.reason` `bad-mac`
 * when the MAC does not verify (tampered, or another cluster's key) and `malformed` for any
 * truncated or garbled input. The MAC is verified before anything else is read, and every length
 * is checked against the bytes left before it is used. Payloads are copied out, so the envelopes
 * do not keep `bytes` alive.
 *
 * @example
 * const { host, boot, seq, items } = decodeFrame(key, msg.data);
 */
export function decodeFrame(key: Uint8Array, bytes: Uint8Array): Frame {
  checkKey(key);
  if (bytes.byteLength < MAGIC.length + MAC_BYTES) {
    throw malformed(`${bytes.byteLength} bytes is too short for a frame`);
  }
  const end = bytes.byteLength - MAC_BYTES;
  const mac = createHmac('sha256', key).update(bytes.subarray(0, end)).digest();
  if (!timingSafeEqual(mac, bytes.subarray(end))) {
    throw new AirssysError(
      'messaging-error',
      'cluster frame refused: its MAC does not verify, so it was altered in transit or sealed with ' +
        'another cluster key; check that every host of the cluster has the same key',
      { details: { reason: 'bad-mac' } },
    );
  }
  try {
    return new Reader(bytes, end).frame();
  } catch (error) {
    // Note: the reader checks every bound itself; this only guarantees the contract that nothing
    // but a messaging-error leaves, should a check be missing.
    if (error instanceof AirssysError) throw error;
    throw malformed(error instanceof Error ? error.message : String(error), error);
  }
}

/**
 * An incremental builder so a sender can append envelopes as they come and cut a frame when it
 * is big enough. Reusable: `finish` resets it.
 *
 * @example
 * const writer = new FrameWriter(key);
 * writer.append(env);
 * if (writer.byteLength >= 64 * 1024) nc.publish(subject, writer.finish(header));
 */
export class FrameWriter {
  private readonly key: Uint8Array;
  private readonly items = new Sink(16 * 1024);
  private appended = 0;

  constructor(key: Uint8Array) {
    checkKey(key);
    this.key = key;
  }

  /** Adds `env` to the frame; `invalid-argument`, leaving the writer as it was, for a field out of range. */
  append(env: Envelope): void {
    writeItem(this.items, env);
    this.appended++;
  }

  get count(): number {
    return this.appended;
  }

  /**
   * Bytes the appended items take; the sealed frame adds the header (32 bytes besides the host and
   * boot ids) and the 32-byte MAC.
   */
  get byteLength(): number {
    return this.items.length;
  }

  /** Seals the appended items into a frame and resets the writer. */
  finish(header: FrameHeader): Uint8Array {
    const frame = seal(this.key, header, this.items, this.appended);
    this.items.length = 0;
    this.items.release();
    this.appended = 0;
    return frame;
  }
}

/** A growable byte buffer written front to back. */
class Sink {
  bytes: Uint8Array;
  view: DataView;
  length = 0;
  private readonly initial: number;

  constructor(capacity: number) {
    this.initial = capacity;
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Makes room for `n` more bytes; `u8` and `u32` do not check, their caller reserves. */
  reserve(n: number): void {
    if (this.length + n > this.bytes.length) this.grow(this.length + n);
  }

  /** Drops a buffer one big frame grew, once its bytes have been copied out. */
  release(): void {
    if (this.bytes.length > RETAIN_MAX_BYTES) {
      this.bytes = new Uint8Array(this.initial);
      this.view = new DataView(this.bytes.buffer);
    }
  }

  u8(value: number): void {
    this.bytes[this.length++] = value;
  }

  u32(value: number): void {
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }

  /** `value` as a u32 byte length and UTF-8 (a lone surrogate becomes U+FFFD, as with TextEncoder). */
  string(value: string): void {
    const units = value.length;
    this.reserve(4 + units * 3); // a UTF-16 unit takes at most 3 bytes of UTF-8
    const bytes = this.bytes;
    const start = this.length + 4;
    let p = start;
    let i = 0;
    if (units <= SHORT_STRING) {
      for (; i < units; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        bytes[p++] = c;
      }
    }
    if (i < units) p = start + utf8.encodeInto(value, bytes.subarray(start)).written;
    this.view.setUint32(start - 4, p - start, true);
    this.length = p;
  }

  private grow(needed: number): void {
    let capacity = this.bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    const bytes = new Uint8Array(capacity);
    bytes.set(this.bytes.subarray(0, this.length));
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer);
  }
}

const scratchItems = new Sink(64 * 1024);
const scratchHeader = new Sink(256);

function writeItem(sink: Sink, env: Envelope): void {
  // Everything that can be refused is checked before the first byte is written, so a refused
  // envelope leaves the sink as it was.
  const kind = KINDS.indexOf(env.kind);
  if (kind < 0) throw invalid(`kind '${String(env.kind)}' is not one of ${KINDS.join(', ')}`);
  if (env.codec >>> 0 !== env.codec) throw invalid(`codec ${env.codec} is not a u32`);
  const correlationId = env.correlationId;
  if (correlationId !== undefined && (correlationId < 0n || correlationId > MAX_U64)) {
    throw invalid(`correlationId ${correlationId} is outside the u64 range`);
  }
  const replyTo = env.replyTo;
  if (replyTo !== undefined && ((replyTo.node | 0) !== replyTo.node || (replyTo.key | 0) !== replyTo.key)) {
    throw invalid(`replyTo ${replyTo.node}/${replyTo.key} is not a pair of int32`);
  }
  const flags =
    (env.topic === undefined ? 0 : HAS_TOPIC) |
    (correlationId === undefined ? 0 : HAS_CORRELATION) |
    (replyTo === undefined ? 0 : HAS_REPLY_TO) |
    (env.chain === undefined ? 0 : HAS_CHAIN) |
    (env.trace === undefined ? 0 : HAS_TRACE);

  sink.reserve(6);
  sink.u8(kind);
  sink.u8(flags);
  sink.u32(env.codec);
  sink.string(env.sender);
  sink.string(env.target);
  if (env.topic !== undefined) sink.string(env.topic);
  if (correlationId !== undefined) {
    sink.reserve(8);
    sink.view.setBigUint64(sink.length, correlationId, true);
    sink.length += 8;
  }
  if (replyTo !== undefined) {
    sink.reserve(8);
    sink.view.setInt32(sink.length, replyTo.node, true);
    sink.view.setInt32(sink.length + 4, replyTo.key, true);
    sink.length += 8;
  }
  if (env.chain !== undefined) {
    sink.reserve(4);
    sink.u32(env.chain.length);
    for (const address of env.chain) sink.string(address);
  }
  if (env.trace !== undefined) sink.string(env.trace);
  const payload = env.payload;
  sink.reserve(4 + payload.byteLength);
  sink.u32(payload.byteLength);
  sink.bytes.set(payload, sink.length);
  sink.length += payload.byteLength;
}

/** The frame: header, the `count` items written to `items`, and the MAC over both. */
function seal(key: Uint8Array, header: FrameHeader, items: Sink, count: number): Uint8Array {
  if (!Number.isSafeInteger(header.seq) || header.seq < 0) {
    throw invalid(`seq ${header.seq} is not a non-negative safe integer`);
  }
  if (!Number.isFinite(header.at)) throw invalid(`at ${header.at} is not a finite time`);
  const head = scratchHeader;
  head.length = 0;
  head.reserve(MAGIC.length);
  for (const byte of MAGIC) head.u8(byte);
  head.string(header.host);
  head.string(header.boot);
  head.reserve(20);
  head.u32(header.seq % TWO_32);
  head.u32(Math.floor(header.seq / TWO_32));
  head.view.setFloat64(head.length, header.at, true);
  head.length += 8;
  head.u32(count);

  const bodyLength = head.length + items.length;
  // Note: uninitialised memory (no zero fill, a third of the encoding time for small items) is
  // safe only because every byte is written just below: header, items, MAC.
  const frame = new Uint8Array(
    Buffer.allocUnsafeSlow(bodyLength + MAC_BYTES).buffer,
    0,
    bodyLength + MAC_BYTES,
  );
  frame.set(head.bytes.subarray(0, head.length));
  frame.set(items.bytes.subarray(0, items.length), head.length);
  frame.set(createHmac('sha256', key).update(frame.subarray(0, bodyLength)).digest(), bodyLength);
  head.release();
  return frame;
}

/** Reads an authenticated frame; every length is checked against the bytes left before use. */
class Reader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly end: number;
  private pos = 0;
  /** The string cache: per slot, a string decoded from `cachedSize` bytes at `cachedAt`. */
  private readonly cachedText: (string | undefined)[] = new Array(CACHE_SLOTS);
  private readonly cachedAt = new Uint32Array(CACHE_SLOTS);
  private readonly cachedSize = new Uint32Array(CACHE_SLOTS);

  constructor(bytes: Uint8Array, end: number) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = end;
  }

  frame(): Frame {
    this.need(MAGIC.length, 'magic');
    for (let i = 0; i < MAGIC.length; i++) {
      if (this.bytes[i] !== MAGIC[i])
        throw malformed('it does not start with AWF1 (another format or version)');
    }
    this.pos = MAGIC.length;
    const host = this.string('host');
    const boot = this.string('boot');
    this.need(20, 'seq, at and count');
    const low = this.u32();
    const high = this.u32();
    if (high >= 0x20_0000) throw malformed('seq is past 2^53');
    const seq = high * TWO_32 + low;
    const at = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    if (!Number.isFinite(at)) throw malformed('at is not a finite time');
    const count = this.u32();
    this.need(count * MIN_ITEM_BYTES, `${count} items`);
    const items: Envelope[] = [];
    for (let i = 0; i < count; i++) items.push(this.item());
    if (this.pos !== this.end) throw malformed(`${this.end - this.pos} bytes follow the last item`);
    return { host, boot, seq, at, items };
  }

  private item(): Envelope {
    this.need(6, 'item');
    const kind = KINDS[this.bytes[this.pos]!];
    const flags = this.bytes[this.pos + 1]!;
    if (kind === undefined) throw malformed(`item kind ${this.bytes[this.pos]} is unknown`);
    if ((flags & ~KNOWN_FLAGS) !== 0) throw malformed(`item flags ${flags} are unknown`);
    this.pos += 2;
    const codec = this.u32();
    const sender = this.string('sender');
    const target = this.string('target');
    const topic = flags & HAS_TOPIC ? this.string('topic') : undefined;
    let correlationId: bigint | undefined;
    if (flags & HAS_CORRELATION) {
      this.need(8, 'correlationId');
      correlationId = this.view.getBigUint64(this.pos, true);
      this.pos += 8;
    }
    let replyTo: { node: number; key: number } | undefined;
    if (flags & HAS_REPLY_TO) {
      this.need(8, 'replyTo');
      replyTo = { node: this.view.getInt32(this.pos, true), key: this.view.getInt32(this.pos + 4, true) };
      this.pos += 8;
    }
    let chain: string[] | undefined;
    if (flags & HAS_CHAIN) {
      this.need(4, 'chain length');
      const n = this.u32();
      this.need(n * 4, `chain of ${n}`);
      chain = [];
      for (let i = 0; i < n; i++) chain.push(this.string('chain'));
    }
    const trace = flags & HAS_TRACE ? this.string('trace') : undefined;
    this.need(4, 'payload length');
    const size = this.u32();
    this.need(size, 'payload');
    const payload = this.bytes.slice(this.pos, this.pos + size);
    this.pos += size;

    const env: { -readonly [K in keyof Envelope]: Envelope[K] } = {
      kind,
      sender,
      target,
      topic,
      correlationId,
      codec,
      payload,
    };
    if (replyTo !== undefined) env.replyTo = replyTo;
    if (chain !== undefined) env.chain = chain;
    if (trace !== undefined) env.trace = trace;
    if (kind === 'reply' && codec === ERROR_CODEC) env.error = errorOf(payload);
    return env;
  }

  /** Refuses a field of `size` bytes that would run past the items (before anything is allocated). */
  private need(size: number, what: string): void {
    if (size > this.end - this.pos) {
      throw malformed(
        `${what} needs ${size} bytes at byte ${this.pos}, but only ${this.end - this.pos} are left`,
      );
    }
  }

  /** The caller has checked the 4 bytes are there. */
  private u32(): number {
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  private string(what: string): string {
    this.need(4, `${what} length`);
    const size = this.u32();
    this.need(size, what);
    const bytes = this.bytes;
    const start = this.pos;
    this.pos += size;
    if (size === 0) return '';
    if (size > SHORT_STRING) return strict.decode(bytes.subarray(start, start + size));
    // Addresses repeat across a batch: a string seen before in this frame costs a byte compare
    // and no allocation. The slot is picked by length and a few bytes, a clash only costs a miss.
    const slot =
      (size + bytes[start]! * 7 + bytes[start + (size >> 1)]! * 3 + bytes[start + size - 1]!) &
      (CACHE_SLOTS - 1);
    const cached = this.cachedText[slot];
    if (cached !== undefined && this.cachedSize[slot] === size) {
      const from = this.cachedAt[slot]!;
      let i = 0;
      while (i < size && bytes[from + i] === bytes[start + i]) i++;
      if (i === size) return cached;
    }
    const text = strict.decode(bytes.subarray(start, start + size));
    this.cachedText[slot] = text;
    this.cachedAt[slot] = start;
    this.cachedSize[slot] = size;
    return text;
  }
}

/** The `error` of an error-codec reply, read from its JSON payload. */
function errorOf(payload: Uint8Array): { code: ErrorCode; message: string } {
  try {
    const body = JSON.parse(strict.decode(payload)) as { code?: unknown; message?: unknown } | null;
    if (typeof body?.code === 'string' && typeof body.message === 'string') {
      // Note: a code outside the host's list (forwarded by a component) becomes `internal` with
      // its message kept, as `guestError` does for a local reply.
      const code = KNOWN_CODES.has(body.code) ? (body.code as ErrorCode) : 'internal';
      return { code, message: body.message };
    }
  } catch {
    // Not JSON: the malformed-reply error below.
  }
  return { code: 'internal', message: 'malformed error reply' };
}

function checkKey(key: Uint8Array): void {
  if (key.byteLength < MIN_CLUSTER_KEY_BYTES) {
    throw new AirssysError(
      'invalid-argument',
      `the cluster key is ${key.byteLength} bytes; it must be at least ${MIN_CLUSTER_KEY_BYTES} random bytes`,
      { details: { field: 'key', size: key.byteLength, min: MIN_CLUSTER_KEY_BYTES } },
    );
  }
}

function malformed(why: string, cause?: unknown): AirssysError {
  return new AirssysError(
    'messaging-error',
    `cluster frame refused as malformed: ${why}; the sending host runs an incompatible version or is faulty`,
    { cause, details: { reason: 'malformed' } },
  );
}

function invalid(why: string): AirssysError {
  return new AirssysError('invalid-argument', `cannot frame this message: ${why}`);
}
