/**
 * Why an outgoing request failed, as the `wasi:http/types.error-code` the guest is told —
 * mapped from the osl error the bridge thread reports (its `code` and the `errno` / `phase` /
 * `quota` in its details), the way wasmtime's default client maps its own failures: a policy
 * refusal is `HTTP-request-denied`, a name that does not resolve `DNS-error`, nothing listening
 * `connection-refused`, a connect that takes too long `connection-timeout`, a malformed
 * response `HTTP-protocol-error`, anything unexpected `internal-error` with its message.
 */

import type { ErrorCode } from './response.js';

/** An osl `AirssysError` as plain data (`toJSON()`), as it crosses threads. */
export interface FailureData {
  readonly code: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA']);
const TERMINATED = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** The `error-code` for a failed exchange. */
export function errorCodeOf(failure: FailureData): ErrorCode {
  const details = failure.details ?? {};
  const errno = typeof details.errno === 'string' ? details.errno : undefined;
  switch (failure.code) {
    case 'capability-denied':
      // The one refusal that is not the policy's: a response body over the host's cap.
      if (details.quota === 'response') {
        const actual = details.actual;
        return {
          tag: 'HTTP-response-body-size',
          val: typeof actual === 'number' ? BigInt(actual) : undefined,
        };
      }
      return { tag: 'HTTP-request-denied' };
    case 'invalid-argument':
      // Refused by the policy before it could be judged (a URL or a header it will not read).
      return /\bURL\b/.test(failure.message)
        ? { tag: 'HTTP-request-URI-invalid' }
        : { tag: 'HTTP-request-denied' };
    case 'quota-exceeded':
      return { tag: 'connection-limit-reached' };
    case 'timeout':
      if (details.phase === 'connect' || errno === 'ETIMEDOUT') return { tag: 'connection-timeout' };
      if (details.phase === 'first-byte') return { tag: 'connection-read-timeout' };
      return { tag: 'HTTP-response-timeout' };
    case 'not-found':
      if (errno === 'ECONNREFUSED') return { tag: 'connection-refused' };
      if (errno === 'EHOSTUNREACH') return { tag: 'destination-unavailable' };
      if (errno === 'ENETUNREACH') return { tag: 'destination-IP-unroutable' };
      // DNS failures, and a name with no addresses at all.
      return { tag: 'DNS-error', val: { rcode: errno ?? 'no addresses', infoCode: undefined } };
  }
  if (errno !== undefined) {
    if (DNS.has(errno)) return { tag: 'DNS-error', val: { rcode: errno, infoCode: undefined } };
    if (errno === 'ECONNREFUSED') return { tag: 'connection-refused' };
    if (TERMINATED.has(errno)) return { tag: 'connection-terminated' };
    if (errno.startsWith('HPE_')) return { tag: 'HTTP-protocol-error' };
    if (/CERT|UNABLE_TO_VERIFY|SELF_SIGNED|ERR_TLS_CERT/.test(errno)) return { tag: 'TLS-certificate-error' };
    if (errno.startsWith('ERR_SSL') || errno.startsWith('ERR_TLS') || errno === 'EPROTO')
      return { tag: 'TLS-protocol-error' };
  }
  return { tag: 'internal-error', val: failure.message };
}
