/**
 * An instance that runs on its own thread, so a call can be stopped by force. In-process calls
 * are bounded by fuel and by the wall clock the fuel meter checks between slices; that covers
 * all guest code, but not a host import that blocks. An `IsolatedInstance` adds a hard stop:
 * when a call outlives `timeoutMs` plus a grace period, the thread is terminated (V8 interrupts
 * even a tight wasm loop), the call answers `timeout`, and the instance is gone — the host
 * process never notices. The cost is a thread hop per call (~20–50 µs), which is why it is an
 * option and not the default call path.
 */

import { Worker } from 'node:worker_threads';
import { AirssysError, errorFromJSON } from '../../shared/errors.js';
import type { Component } from './engine.js';
import type { InvocationOutcome } from './instance.js';
import type { IsolatedReply, IsolatedRequest, IsolatedWorkerData } from './isolated-worker.js';

export interface IsolatedOptions {
  /** Module path (absolute or file URL) whose default export is the host imports. */
  importsModule?: string;
  /** Extra time after `timeout-ms` before the thread is terminated (default 50 ms). */
  graceMs?: number;
}

export class IsolatedInstance {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (o: InvocationOutcome) => void; timer: NodeJS.Timeout; started: number }
  >();
  private dead: AirssysError | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly component: Component,
    private readonly graceMs: number,
  ) {
    worker.on('message', (reply: IsolatedReply) => this.settle(reply));
    worker.on('error', (error) =>
      this.kill(
        new AirssysError('internal', `isolated instance thread failed: ${error.message}`, { cause: error }),
      ),
    );
    worker.on('exit', () =>
      this.kill(this.dead ?? new AirssysError('internal', 'isolated instance thread exited')),
    );
  }

  static async create(component: Component, options: IsolatedOptions = {}): Promise<IsolatedInstance> {
    const data: IsolatedWorkerData = {
      compiled: component.compiled,
      component: component.name,
      fuel: component.manifest.resources.fuel,
      timeoutMs: component.manifest.resources.timeoutMs,
      importsModule: options.importsModule,
    };
    const worker = new Worker(new URL('./isolated-worker.js', import.meta.url), { workerData: data });
    await new Promise<void>((resolve, reject) => {
      const onMessage = () => {
        worker.off('error', onError);
        resolve();
      };
      const onError = (error: Error) => {
        worker.off('message', onMessage);
        reject(
          error instanceof AirssysError
            ? error
            : new AirssysError('internal', error.message, { cause: error }),
        );
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
    });
    return new IsolatedInstance(worker, component, options.graceMs ?? 50);
  }

  /** Calls an export on the instance's thread; a call that outlives its budget ends the thread. */
  invoke(name: string, args: readonly unknown[] = []): Promise<InvocationOutcome> {
    if (this.dead !== undefined) {
      return Promise.resolve({ ok: false, error: this.dead, fuel: 0, ms: 0 });
    }
    const id = this.nextId++;
    const limit = this.component.manifest.resources.timeoutMs + this.graceMs;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.kill(
          new AirssysError(
            'timeout',
            `${this.component.name}: export "${name}" did not return within ${limit} ms; its thread was terminated`,
            { blame: 'guest', details: { timeoutMs: this.component.manifest.resources.timeoutMs } },
          ),
        );
      }, limit);
      this.pending.set(id, { resolve, timer, started: performance.now() });
      this.worker.postMessage({ id, name, args: [...args] } satisfies IsolatedRequest);
    });
  }

  get alive(): boolean {
    return this.dead === undefined;
  }

  async close(): Promise<void> {
    this.kill(new AirssysError('not-found', `${this.component.name}: isolated instance was closed`));
  }

  private settle(reply: IsolatedReply): void {
    const call = this.pending.get(reply.id);
    if (call === undefined) return;
    clearTimeout(call.timer);
    this.pending.delete(reply.id);
    call.resolve(
      reply.ok
        ? { ok: true, value: reply.value, fuel: reply.fuel, ms: reply.ms }
        : {
            ok: false,
            error: errorFromJSON(reply.error, 'guest'),
            fuel: reply.fuel,
            ms: reply.ms,
          },
    );
  }

  private kill(reason: AirssysError): void {
    if (this.dead === undefined) {
      this.dead = reason;
      void this.worker.terminate();
    }
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer);
      call.resolve({ ok: false, error: reason, fuel: 0, ms: performance.now() - call.started });
      this.pending.delete(id);
    }
  }
}
