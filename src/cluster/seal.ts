/**
 * Sealed JSON for the cluster's control messages (heartbeats): `JSON bytes ‖ HMAC-SHA256`
 * under the cluster key. A heartbeat decides where traffic goes, so one forged by anyone on
 * the NATS bus without the key must be refused like a forged message frame.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import { AirssysError } from '../shared/errors.js';

const MAC_BYTES = 32;
const utf8 = new TextEncoder();
const text = new TextDecoder();

export function sealJson(key: Uint8Array, value: unknown): Uint8Array {
  const body = utf8.encode(JSON.stringify(value));
  const out = new Uint8Array(body.byteLength + MAC_BYTES);
  out.set(body);
  out.set(createHmac('sha256', key).update(body).digest(), body.byteLength);
  return out;
}

/** The sealed value; `messaging-error` (reason `bad-mac` or `malformed`) when it does not verify. */
export function openJson<T>(key: Uint8Array, sealed: Uint8Array): T {
  if (sealed.byteLength < MAC_BYTES) throw refused('malformed');
  const body = sealed.subarray(0, sealed.byteLength - MAC_BYTES);
  const mac = createHmac('sha256', key).update(body).digest();
  if (!timingSafeEqual(mac, sealed.subarray(sealed.byteLength - MAC_BYTES))) throw refused('bad-mac');
  try {
    return JSON.parse(text.decode(body)) as T;
  } catch {
    throw refused('malformed');
  }
}

function refused(reason: 'bad-mac' | 'malformed'): AirssysError {
  return new AirssysError('messaging-error', `cluster control message refused (${reason})`, {
    details: { reason },
  });
}
