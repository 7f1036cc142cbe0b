/**
 * `wasi:http/outgoing-handler@0.2`: the guest's outgoing requests, sent through the host's
 * egress policy. `handle` checks what the guest filled in, then hands the request to the osl
 * bridge thread (osl/node/sync-http-bridge.ts), which judges it against the grants of
 * `WasiOptions.http` — the same policy, on the resolved address, as every other outbound
 * request of the host — and performs it. The guest waits with `wasi:io/poll` on the
 * future's pollable, bounded by its call's deadline; `handle` itself never blocks.
 *
 * A refusal answers `HTTP-request-denied` (the guest sees a failed request, the host goes on)
 * and is reported through `onDenied` and `http.onAudit`, as filesystem refusals are.
 */

import { sendSync } from '../../../osl/node/sync-http-bridge.js';
import { compileCapabilities } from '../../../osl/policy/grants.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../../../osl/policy/host-policy.js';
import type { CallBudget } from '../../engine/call-budget.js';
import { DEFAULT_WASI_LIMITS, egressPolicyOf, type WasiOptions } from '../options.js';
import { budgeted, err, type Result, self } from '../values.js';
import { FutureIncomingResponse } from './incoming-response.js';
import { OutgoingRequest, RequestOptions } from './outgoing.js';
import { methodName } from './request.js';
import type { ErrorCode } from './response.js';
import type { HttpInterface } from './types-interface.js';

/** A request's time limit when its call has no deadline (a direct call, a test). */
const UNBOUNDED_TIMEOUT_MS = 30_000;
const HANDLE = 'wasi:http/outgoing-handler#handle';

/** The operation name refusals are reported under (`onDenied`). */
export const OUTGOING_OPERATION = 'wasi.http.outgoing-handler.handle';

function fail(tag: string, val?: unknown): Result<never, ErrorCode> {
  return err(val === undefined ? { tag } : { tag, val });
}

/** Nanoseconds (the WIT's `duration`) as whole milliseconds, at least 1. */
function millis(ns: bigint | undefined): number | undefined {
  if (ns === undefined) return undefined;
  const ms = Number(ns / 1_000_000n);
  return Math.max(1, Math.min(ms, 2 ** 31 - 1));
}

/**
 * The host function of `wasi:http/outgoing-handler@0.2` for one component's WASI options.
 * The grants are compiled now, so a malformed pattern fails at link time (`invalid-argument`).
 *
 * @example
 * const imports = {
 *   'wasi:http/types@0.2': httpTypesInterface(64 * 1024),
 *   'wasi:http/outgoing-handler@0.2': outgoingHandlerInterface({ http: { network: { outbound: ['api.example.com:443'] } } }),
 * };
 */
export function outgoingHandlerInterface(wasi: WasiOptions = {}): HttpInterface {
  const http = wasi.http ?? {};
  const grants = {
    network: { outbound: http.network?.outbound ?? [], addresses: http.network?.addresses ?? [] },
  };
  const policy = egressPolicyOf(http);
  compileCapabilities(grants, policy);
  const maxRead = wasi.limits?.maxReadBytes ?? DEFAULT_WASI_LIMITS.maxReadBytes;
  const maxResponseBytes = http.maxResponseBodyBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const component = http.component ?? 'guest';
  const version = http.version ?? '0.0.0';
  const onDenied = wasi.onDenied;

  const handle = (budget: CallBudget) => (value: unknown, opts: unknown) => {
    const request = self(value, OutgoingRequest, HANDLE);
    const options = opts === undefined ? undefined : self(opts, RequestOptions, HANDLE);
    const scheme = request.scheme ?? { tag: 'HTTPS' };
    if (scheme.tag === 'other') return fail('HTTP-protocol-error');
    if (request.authority === undefined || request.authority === '') return fail('HTTP-request-URI-invalid');
    const path = request.pathWithQuery ?? '/';
    if (!path.startsWith('/')) return fail('HTTP-request-URI-invalid');
    const url = `${scheme.tag === 'HTTP' ? 'http' : 'https'}://${request.authority}${path}`;
    const headers: Record<string, string> = {};
    for (const [name, bytes] of request.fields.entries()) {
      const key = name.toLowerCase();
      const text = Buffer.from(bytes).toString('latin1');
      headers[key] = headers[key] === undefined ? text : `${headers[key]}, ${text}`;
    }
    const deadline = budget.deadline();
    const left = Number.isFinite(deadline) ? Math.ceil(deadline - performance.now()) : UNBOUNDED_TIMEOUT_MS;
    // The call's time is up already: let the guest's next wait end it.
    const timeoutMs = Math.max(1, left);
    const future = new FutureIncomingResponse(maxRead, (outcome) => {
      for (const record of outcome.audit) {
        http.onAudit?.(record);
        if (record.decision === 'deny') onDenied?.(OUTGOING_OPERATION, record.subject, record.reason);
      }
    });
    const send = () =>
      future.sent(
        sendSync({
          component,
          version,
          grants,
          policy,
          url,
          method: methodName(request.method),
          headers,
          body: request.bodyBuffer?.bytes(),
          maxResponseBytes,
          timeoutMs,
          connectTimeoutMs: millis(options?.connectTimeout),
          firstByteTimeoutMs: millis(options?.firstByteTimeout),
        }),
      );
    // A body still being written goes out when the guest finishes it.
    if (request.bodyBuffer === undefined) send();
    else request.bodyBuffer.whenFinished(send);
    return { tag: 'ok', val: future };
  };
  return budgeted((budget) => ({ handle: handle(budget) }));
}
