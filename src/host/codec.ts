/**
 * Payload codecs. A message's payload is bytes tagged with a multicodec code, so a receiver
 * knows how to read it without guessing. The host encodes and decodes the five codecs it knows
 * for the embedding application's convenience; components see only the code and the bytes.
 *
 * Each codec comes from a well-kept library (cbor-x, @msgpack/msgpack, borsh); JSON and raw are
 * Node's own.
 */

import { decode as msgpackDecode, encode as msgpackEncode } from '@msgpack/msgpack';
import {
  type Schema as BorshSchema,
  deserialize as borshDeserialize,
  serialize as borshSerialize,
} from 'borsh';
import { Decoder as CborDecoder, Encoder as CborEncoder } from 'cbor-x';
import { AirssysError } from '../shared/errors.js';

/**
 * Multicodec codes (https://github.com/multiformats/multicodec, table.csv). Borsh has no entry
 * in the table, so it takes a code from the table's private-use range (0x300000–0x3fffff).
 */
export const CODECS = Object.freeze({
  raw: 0x55,
  json: 0x0200,
  cbor: 0x51,
  msgpack: 0x0201,
  borsh: 0x300001,
});

export type CodecName = keyof typeof CODECS;

export type { BorshSchema };

const NAMES = new Map<number, CodecName>(
  Object.entries(CODECS).map(([name, code]) => [code, name as CodecName]),
);

// Plain CBOR: no cbor-x record/structure extensions, so any CBOR reader can decode what we send.
const cborEncoder = new CborEncoder({ useRecords: false, mapsAsObjects: true });
const cborDecoder = new CborDecoder({ useRecords: false, mapsAsObjects: true });
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** The name of a known code, or `undefined` for codes the host carries as opaque bytes. */
export function codecName(code: number): CodecName | undefined {
  return NAMES.get(code);
}

/** The code of a codec given by name or code; throws `invalid-argument` for unknown names. */
export function codecCode(codec: CodecName | number): number {
  if (typeof codec === 'number') {
    if (Number.isInteger(codec) && codec >= 0 && codec <= 0xffff_ffff) return codec;
  } else if (Object.hasOwn(CODECS, codec)) {
    return CODECS[codec];
  }
  throw new AirssysError(
    'invalid-argument',
    `codec: expected one of ${Object.keys(CODECS).join(', ')} or a multicodec code (u32), got ${JSON.stringify(codec)}`,
    { details: { field: 'codec' } },
  );
}

/**
 * Encodes `value` with a codec. `raw` takes bytes (a Uint8Array) or a string (sent as UTF-8);
 * `borsh` needs the value's borsh `schema`. Throws `invalid-argument` when the value does not fit.
 */
export function encodePayload(codec: CodecName, value: unknown, schema?: BorshSchema): Uint8Array {
  codecCode(codec); // untyped callers: an unknown name is an invalid-argument, not a silent fall-through
  try {
    switch (codec) {
      case 'raw':
        if (value instanceof Uint8Array) return value;
        if (typeof value === 'string') return utf8.encode(value);
        throw new TypeError(`raw payloads are a Uint8Array or a string, got ${typeof value}`);
      case 'json': {
        const text = JSON.stringify(value);
        if (text === undefined) throw new TypeError(`${typeof value} has no JSON form`);
        return utf8.encode(text);
      }
      case 'cbor':
        return cborEncoder.encode(value);
      case 'msgpack':
        return msgpackEncode(value);
      case 'borsh':
        if (schema === undefined) throw new TypeError('borsh needs a schema (options.schema)');
        return borshSerialize(schema, value);
    }
  } catch (error) {
    throw new AirssysError(
      'invalid-argument',
      `cannot encode the payload as ${codec}: ${(error as Error).message}`,
      {
        cause: error,
        details: { codec },
      },
    );
  }
}

/**
 * Decodes a payload by its code. Raw payloads (and unknown codes) come back as the bytes.
 * Throws `messaging-error` when the bytes are not valid for their codec.
 */
export function decodePayload(code: number, bytes: Uint8Array, schema?: BorshSchema): unknown {
  const name = NAMES.get(code);
  try {
    switch (name) {
      case 'json':
        return JSON.parse(utf8Strict.decode(bytes));
      case 'cbor':
        return cborDecoder.decode(bytes);
      case 'msgpack':
        return msgpackDecode(bytes);
      case 'borsh':
        if (schema === undefined) throw new TypeError('borsh needs a schema to decode');
        return borshDeserialize(schema, bytes);
      default:
        return bytes;
    }
  } catch (error) {
    throw new AirssysError(
      'messaging-error',
      `payload is not valid ${name} (${bytes.byteLength} bytes): ${(error as Error).message}`,
      { cause: error, details: { codec: code } },
    );
  }
}
