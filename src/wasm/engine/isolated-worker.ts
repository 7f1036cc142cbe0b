/**
 * The thread side of `IsolatedInstance`: receives an already compiled component (core modules
 * are cloned between threads, not recompiled), instantiates it, and runs calls one at a time.
 */

import { parentPort, workerData } from 'node:worker_threads';
import type { AirssysError } from '../../shared/errors.js';
import type { CompiledComponent } from './compile.js';
import { ComponentInstance } from './instance.js';
import { instantiateComponent, specialise } from './instantiate.js';
import type { HostImports } from './link.js';

export interface IsolatedWorkerData {
  compiled: CompiledComponent;
  component: string;
  fuel: number;
  timeoutMs: number;
  /** A module whose default export is the `HostImports` to link against, if any. */
  importsModule: string | undefined;
}

export type IsolatedRequest = { id: number; name: string; args: unknown[] };
export type IsolatedReply =
  | { id: number; ok: true; value: unknown; fuel: number; ms: number }
  | { id: number; ok: false; error: ReturnType<AirssysError['toJSON']>; fuel: number; ms: number };

const data = workerData as IsolatedWorkerData;
const port = parentPort!;

const imports: HostImports =
  data.importsModule === undefined ? {} : ((await import(data.importsModule)).default as HostImports);
const bound = instantiateComponent(data.compiled, specialise(data.compiled), {
  component: data.component,
  imports,
  fuel: data.fuel,
  timeoutMs: data.timeoutMs,
});
const instance = new ComponentInstance(data.component, bound);

port.on('message', (request: IsolatedRequest) => {
  const outcome = instance.invoke(request.name, request.args);
  const reply: IsolatedReply = outcome.ok
    ? { id: request.id, ok: true, value: outcome.value, fuel: outcome.fuel, ms: outcome.ms }
    : { id: request.id, ok: false, error: outcome.error.toJSON(), fuel: outcome.fuel, ms: outcome.ms };
  port.postMessage(reply);
});
port.postMessage({ ready: true });
