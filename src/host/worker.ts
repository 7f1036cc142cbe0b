/**
 * A scheduler thread: one node running many component actors. Compiled modules arrive from the
 * host already compiled (a `WebAssembly.Module` crosses threads without recompiling), and the
 * generated lift/lower code is built once per component per thread.
 */

import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { SqliteAuditLog } from '../osl/audit/sqlite-audit-log.js';
import { SqliteKeyValueStore } from '../osl/kv/sqlite-store.js';
import { toAirssysError } from '../shared/errors.js';
import { Component } from '../wasm/engine/engine.js';
import { HostNode, type NodeMessage } from './node.js';
import type { ControlReply, ControlRequest, WorkerData, WorkerEvent } from './protocol.js';

const data = workerData as WorkerData;
const port = parentPort!;
const peers = new Map<number, MessagePort>();
const beat = new Int32Array(data.heartbeat);
const store = data.storePath === undefined ? undefined : new SqliteKeyValueStore({ path: data.storePath });
const audit = data.auditPath === undefined ? undefined : new SqliteAuditLog({ path: data.auditPath });
const node = new HostNode({
  index: data.index,
  depths: data.depths.map((b) => new Int32Array(b)),
  store,
  maxMessageBytes: data.maxMessageBytes,
  post: (to, message) => peers.get(to)?.postMessage(message),
  log: (entry) => emit({ event: 'log', entry }),
  onFailed: (address, reason, version) => emit({ event: 'failed', address, reason, version }),
  audit: audit === undefined ? undefined : (record) => audit.record(record),
  osl: { policy: data.policy },
  onSpan: data.tracing ? (span) => emit({ event: 'span', span }) : undefined,
  clustered: data.clustered,
});
const components = new Map<string, Component>();

function emit(event: WorkerEvent): void {
  port.postMessage(event);
}

// The heartbeat the host's watchdog reads: it stops moving only when this thread is stuck.
setInterval(() => Atomics.add(beat, data.index, 1), 20);

async function handle(request: ControlRequest): Promise<unknown> {
  switch (request.op) {
    case 'peer':
      peers.set(request.node, request.port);
      request.port.on('message', (message: NodeMessage) => node.receive(message));
      return;
    case 'start': {
      const key = `${request.compiled.hash}/${request.manifest.source.digest}`;
      let component = components.get(key);
      if (component === undefined) {
        component = new Component(request.manifest, request.compiled);
        components.set(key, component);
      }
      return node.startMembers(request.address, request.version, component, request.count, request.shadow);
    }
    case 'stop':
      return node.stopMembers(request.address, request.version, request.only);
    case 'address':
      node.setAddress(request.address, request.entry);
      return;
    case 'forget-node':
      node.receive({ t: 'forget-node', node: request.node });
      return;
    case 'stats':
      return node.versionStats(request.address, request.version);
    case 'shutdown':
      await node.shutdown();
      store?.close();
      audit?.close();
      for (const p of peers.values()) p.close();
      process.exit(0);
  }
}

port.on('message', async (message: { id: number; request: ControlRequest }) => {
  let reply: ControlReply;
  try {
    reply = { id: message.id, ok: true, value: await handle(message.request) };
  } catch (error) {
    const e = toAirssysError(error);
    reply = { id: message.id, ok: false, error: { code: e.code, message: e.message, details: e.details } };
  }
  port.postMessage(reply);
});
