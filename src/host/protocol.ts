/**
 * The control protocol between the host (main thread) and its scheduler threads. Data between
 * nodes travels on their own channels (`NodeMessage` in node.ts); this is only for starting,
 * stopping and observing.
 */

import type { MessagePort } from 'node:worker_threads';
import type { HostPolicy } from '../osl/policy/host-policy.js';
import type { CompiledComponent } from '../wasm/engine/compile.js';
import type { Manifest } from '../wasm/manifest/schema.js';
import type { ActorStats } from './actor-stats.js';
import type { AddressEntry, LogEntry } from './node.js';
import type { Span } from './trace.js';

export interface WorkerData {
  readonly index: number;
  readonly depths: readonly SharedArrayBuffer[];
  /** One Int32 per node, bumped by the node while its thread is responsive. */
  readonly heartbeat: SharedArrayBuffer;
  readonly storePath: string | undefined;
  /** `<dataDir>/audit.db`, where the thread records its components' capability decisions. */
  readonly auditPath: string | undefined;
  readonly policy: HostPolicy | undefined;
  /** The host exports spans: the thread reports them as events. */
  readonly tracing: boolean;
  readonly maxMessageBytes: number;
  /** The host is in a cluster: messages for other hosts and publications go through node 0. */
  readonly clustered: boolean;
}

export type ControlRequest =
  | { readonly op: 'peer'; readonly node: number; readonly port: MessagePort }
  | {
      readonly op: 'start';
      readonly address: string;
      readonly version: string;
      readonly manifest: Manifest;
      readonly compiled: CompiledComponent;
      readonly count: number;
      readonly shadow: boolean;
    }
  | {
      readonly op: 'stop';
      readonly address: string;
      readonly version: string;
      /** First keys of the groups to stop (absent: every instance of the version). */
      readonly only?: readonly number[];
    }
  | { readonly op: 'address'; readonly address: string; readonly entry: AddressEntry | null }
  | { readonly op: 'stats'; readonly address: string; readonly version: string }
  | { readonly op: 'forget-node'; readonly node: number }
  | { readonly op: 'shutdown' };

export type ControlReply =
  | { readonly id: number; readonly ok: true; readonly value?: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

export type WorkerEvent =
  | { readonly event: 'log'; readonly entry: LogEntry }
  | { readonly event: 'span'; readonly span: Span }
  | { readonly event: 'failed'; readonly address: string; readonly reason: string; readonly version: string };

export interface SerializedError {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export type { ActorStats };
