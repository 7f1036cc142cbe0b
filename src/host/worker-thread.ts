/**
 * The main thread's handle on one scheduler thread: control requests with replies matched by id,
 * and the thread's unsolicited events (component logs, failures). When the thread dies, every
 * pending request is rejected rather than left waiting.
 */

import { Worker } from 'node:worker_threads';
import { AirssysError, type ErrorCode } from '../shared/errors.js';
import type { ControlReply, ControlRequest, WorkerData, WorkerEvent } from './protocol.js';

export class WorkerThread {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  readonly worker: Worker;
  lastBeat = 0;
  lastBeatAt = performance.now();

  constructor(data: WorkerData, onEvent: (event: WorkerEvent) => void) {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: data });
    this.worker.on('message', (message: ControlReply | WorkerEvent) => {
      if ('event' in message) {
        onEvent(message);
        return;
      }
      const waiter = this.pending.get(message.id);
      if (waiter === undefined) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.value);
      else {
        const { code, message: text, details } = message.error;
        waiter.reject(new AirssysError(code as ErrorCode, text, { details }));
      }
    });
    this.worker.on('error', (error) => this.failAll(error));
    this.worker.on('exit', () => this.failAll(new AirssysError('internal', 'scheduler thread exited')));
  }

  call<T = unknown>(request: ControlRequest, transfer: Transferable[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, request }, transfer as never);
    });
  }

  private failAll(error: unknown): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
