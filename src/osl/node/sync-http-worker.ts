/**
 * The bridge thread of `sync-http-bridge.ts`: performs each exchange through a sandbox built
 * from the grants the request carries — audit → egress policy → quota → NodeNetwork, as for any
 * other outbound request — and answers over the reply port, then sets the request's cell and
 * wakes its caller. The audit records of each exchange go back with its answer.
 *
 * Redirects are not followed (`redirect: 'manual'`): a `wasi:http` client sees the 3xx and
 * decides, as with wasmtime; each request it then makes is judged again.
 */

import { type MessagePort, parentPort } from 'node:worker_threads';
import { toAirssysError } from '../../shared/errors.js';
import { type AuditRecord, recordInto } from '../audit/audit-log.js';
import { type Capabilities, compileCapabilities } from '../policy/grants.js';
import { createSandbox } from '../sandbox/sandbox.js';
import type { BridgeMessage, BridgeReply, SyncHttpOutcome, SyncHttpRequest } from './sync-http-bridge.js';

/** Grants seen recently, compiled: a component sends many requests with the same grants. */
const compiled = new Map<string, Capabilities>();
const MAX_COMPILED = 64;

function capabilitiesOf(request: SyncHttpRequest): Capabilities {
  const key = JSON.stringify([request.grants, request.policy ?? {}]);
  let caps = compiled.get(key);
  if (caps === undefined) {
    caps = compileCapabilities(request.grants, request.policy);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, caps);
  }
  return caps;
}

async function perform(request: SyncHttpRequest): Promise<SyncHttpOutcome> {
  const audit: AuditRecord[] = [];
  try {
    const sandbox = createSandbox({
      component: request.component,
      version: request.version,
      grants: capabilitiesOf(request),
      policy: { ...request.policy, maxResponseBytes: request.maxResponseBytes },
      audit: recordInto((record) => audit.push(record)),
    });
    const res = await sandbox.net.fetch(request.url, {
      method: request.method,
      headers: { ...request.headers },
      body: request.body,
      redirect: 'manual',
      maxResponseBytes: request.maxResponseBytes,
      timeoutMs: request.timeoutMs,
      connectTimeoutMs: request.connectTimeoutMs,
      firstByteTimeoutMs: request.firstByteTimeoutMs,
    });
    return {
      ok: true,
      status: res.status,
      headers: res.headers,
      body: res.body,
      remoteAddress: res.remoteAddress,
      audit,
    };
  } catch (error) {
    const failure = toAirssysError(error);
    return { ok: false, error: failure.toJSON(), audit };
  }
}

let replies: MessagePort | undefined;

parentPort?.on('message', (message: BridgeMessage) => {
  if (message.kind === 'port') {
    replies = message.port;
    return;
  }
  const { id, cell, request } = message;
  void perform(request).then((outcome) => {
    const reply: BridgeReply = { id, outcome };
    replies?.postMessage(reply);
    // Note: after the post, so that a caller woken by the cell finds the reply on the port.
    Atomics.store(cell, 0, 1);
    Atomics.notify(cell, 0);
  });
});
