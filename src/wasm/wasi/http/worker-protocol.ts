/** Messages between `HttpWorkerPool` (main thread) and its threads (http-worker.ts). */

import type { AuditRecord } from '../../../osl/audit/audit-log.js';
import type { AirssysError, Blame } from '../../../shared/errors.js';
import type { CompiledComponent } from '../../engine/compile.js';
import type { Manifest } from '../../manifest/schema.js';
import type { WasiHttpOptions, WasiSocketsOptions } from '../options.js';
import type { RequestData } from './request.js';

export interface HttpWorkerData {
  manifest: Manifest;
  compiled: CompiledComponent;
  reuseInstance: boolean;
  poolSize: number | undefined;
  env: Record<string, string> | undefined;
  /** Without `onAudit`: a function does not cross threads (see `forward.audit`). */
  http: Omit<WasiHttpOptions, 'onAudit'> | undefined;
  sockets: Omit<WasiSocketsOptions, 'onAudit'> | undefined;
  /** The guest's stdout and stderr go to the process's (fds 1 and 2), refusals as `denied …` lines on stderr; otherwise nowhere. */
  processStdio: boolean;
  /**
   * Which of the guest's reports go back to the main thread as messages (`line`, `denied`,
   * `audit`): those the pool has a callback for. They take precedence over `processStdio`.
   */
  forward: { stdout: boolean; stderr: boolean; denied: boolean; audit: boolean; socketAudit: boolean };
  /** Int32 slot: the id of the request whose response the main thread cancelled. */
  cancel: SharedArrayBuffer;
}

type ErrorJson = ReturnType<AirssysError['toJSON']>;

export type ToWorker = { id: number; request: RequestData };

export type ToMain =
  | { kind: 'ready' }
  | { kind: 'failed'; error: ErrorJson }
  | { kind: 'line'; stream: 'stdout' | 'stderr'; line: string }
  | { kind: 'denied'; operation: string; subject: string; reason: string }
  | { kind: 'audit'; of: 'http' | 'sockets'; record: AuditRecord }
  | { kind: 'start'; id: number; status: number; headers: [string, string][] }
  | { kind: 'write'; id: number; bytes: Uint8Array }
  | { kind: 'end'; id: number; trailers: [string, string][] | undefined }
  | { kind: 'done'; id: number; ok: true; fuel: number; ms: number }
  | {
      kind: 'done';
      id: number;
      ok: false;
      error: ErrorJson;
      blame: Blame;
      responded: boolean;
      fuel: number;
      ms: number;
    };
