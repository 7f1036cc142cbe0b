/** Messages between `HttpWorkerPool` (main thread) and its threads (http-worker.ts). */

import type { AirssysErrorJson, Blame } from '../../../shared/errors.js';
import type { CompiledComponent } from '../../engine/compile.js';
import type { Manifest } from '../../manifest/schema.js';
import type { CallbackEvent, CallbacksData } from '../thread-callbacks.js';
import type { RequestData } from './request.js';

export interface HttpWorkerData {
  manifest: Manifest;
  compiled: CompiledComponent;
  reuseInstance: boolean;
  poolSize: number | undefined;
  env: Record<string, string> | undefined;
  /** The guest's callbacks the pool has (they go back as `callback` messages), and its grants. */
  callbacks: CallbacksData;
  /**
   * The guest's stdout and stderr go to the process's (fds 1 and 2), refusals as `denied …`
   * lines on stderr, where `callbacks` does not take them; otherwise nowhere.
   */
  processStdio: boolean;
  /** Int32 slot: the id of the request whose response the main thread cancelled. */
  cancel: SharedArrayBuffer;
}

export type ToWorker = { id: number; request: RequestData };

export type ToMain =
  | { kind: 'ready' }
  | { kind: 'failed'; error: AirssysErrorJson }
  | { kind: 'callback'; event: CallbackEvent }
  | { kind: 'start'; id: number; status: number; headers: [string, string][] }
  | { kind: 'write'; id: number; bytes: Uint8Array }
  | { kind: 'end'; id: number; trailers: [string, string][] | undefined }
  | { kind: 'done'; id: number; ok: true; fuel: number; ms: number }
  | {
      kind: 'done';
      id: number;
      ok: false;
      error: AirssysErrorJson;
      blame: Blame;
      responded: boolean;
      fuel: number;
      ms: number;
    };
