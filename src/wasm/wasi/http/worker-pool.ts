/**
 * `serve --threads N`: N worker threads, each with its own `IncomingHandler` (and pool of fresh
 * instances) over the same compiled component, fed by the main thread's HTTP server. The
 * server has read the body whole before it dispatches (server.ts), so a request is one message
 * to a thread; the response comes back as messages while the guest writes it.
 *
 * - One request at a time per thread; more wait here, first come first served (the server's
 *   `maxConcurrent` bounds them all).
 * - A guest failure is an outcome, as on one thread: the server answers 500. A thread that does
 *   not answer within its watchdog (2 × `timeout-ms` + 5 s: the fuel meter should have stopped
 *   the guest long before) is terminated and replaced; so is one that exits. Its request fails.
 * - The guest's output goes to the process's stdio (`processStdio`, as `serve` does) or, line
 *   by line, to the pool's `stdout` / `stderr` callbacks, with refusals to `onDenied` and egress
 *   decisions to `http.onAudit` (as the daemon's HTTP actor does): the thread sends them as
 *   messages while the guest runs, in the order it made them.
 * - Back-pressure: a running guest cannot see the main thread's socket, so when a write here
 *   fails (client gone, over `maxBufferedBytes` unread) the request is marked cancelled in
 *   memory shared with the thread, and the guest's next write fails as it would in-thread.
 */

import { Worker } from 'node:worker_threads';
import { AirssysError, errorFromJSON } from '../../../shared/errors.js';
import type { Component } from '../../engine/engine.js';
import { callbacksData, deliver, type GuestCallbacks } from '../thread-callbacks.js';
import type { HandleOutcome } from './incoming-handler.js';
import type { RequestData } from './request.js';
import type { ResponseTarget } from './response.js';
import type { HttpWorkerData, ToMain, ToWorker } from './worker-protocol.js';

/** The guest's callbacks (`stdout`, `stderr`, `onDenied`, `http`, `sockets`) run here, fed from the threads. */
export interface HttpWorkerPoolOptions extends GuestCallbacks {
  /** Worker threads (at least 1). */
  threads: number;
  reuseInstance?: boolean;
  /** Fresh instances each thread keeps ready (`IncomingHandlerOptions.poolSize`). */
  poolSize?: number;
  /** The guest's environment (`get-environment`). */
  env?: Record<string, string>;
  /**
   * The guest's stdout and stderr to the process's, refusals as `denied …` on stderr, where no
   * callback takes them; otherwise discarded.
   */
  processStdio?: boolean;
}

interface Job {
  id: number;
  request: RequestData;
  target: ResponseTarget;
  resolve(outcome: HandleOutcome): void;
  started: boolean;
  /** A write or the end failed on this side: the response is incomplete whatever the guest thinks. */
  failure: Error | undefined;
}

interface Thread {
  worker: Worker;
  cancel: Int32Array;
  job: Job | undefined;
  watchdog: NodeJS.Timeout | undefined;
}

export class HttpWorkerPool {
  private readonly threads = new Set<Thread>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Threads starting (a replacement, say): requests wait for them rather than fail. */
  private spawning = 0;
  private readonly watchdogMs: number;

  private constructor(
    private readonly component: Component,
    private readonly options: HttpWorkerPoolOptions,
  ) {
    this.watchdogMs = 2 * component.manifest.resources.timeoutMs + 5000;
  }

  /**
   * Starts the threads; resolves once every one has its handler prepared (rejects with the
   * first failure, e.g. a component that does not link, after stopping the others).
   *
   * @example
   * const pool = await HttpWorkerPool.start(component, { threads: 2 });
   * const server = await serveHttp(pool, { host: '127.0.0.1', port: 8080 });
   */
  static async start(component: Component, options: HttpWorkerPoolOptions): Promise<HttpWorkerPool> {
    if (!Number.isInteger(options.threads) || options.threads < 1) {
      throw new AirssysError(
        'invalid-argument',
        `threads must be a whole number of at least 1, got ${options.threads}`,
      );
    }
    const pool = new HttpWorkerPool(component, options);
    try {
      await Promise.all(Array.from({ length: options.threads }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** Runs the guest for `request` on the next free thread; never rejects. */
  handle(request: RequestData, target: ResponseTarget): Promise<HandleOutcome> {
    return new Promise((resolve) => {
      if (this.closed || (this.threads.size === 0 && this.spawning === 0)) {
        resolve(failed(new AirssysError('internal', 'no HTTP thread is running', { blame: 'host' }), false));
        return;
      }
      this.queue.push({ id: this.nextId++, request, target, resolve, started: false, failure: undefined });
      this.pump();
    });
  }

  /** Stops every thread; requests still waiting or running fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.resolve(failed(stopped(), false));
    await Promise.all([...this.threads].map((thread) => thread.worker.terminate()));
  }

  private spawn(): Promise<void> {
    const cancel = new SharedArrayBuffer(4);
    const data: HttpWorkerData = {
      manifest: this.component.manifest,
      compiled: this.component.compiled,
      reuseInstance: this.options.reuseInstance === true,
      poolSize: this.options.poolSize,
      env: this.options.env,
      callbacks: callbacksData(this.options),
      processStdio: this.options.processStdio === true,
      cancel,
    };
    const worker = new Worker(new URL('./http-worker.js', import.meta.url), { workerData: data });
    const thread: Thread = { worker, cancel: new Int32Array(cancel), job: undefined, watchdog: undefined };
    this.spawning++;
    let ready = false;
    const started = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: ToMain) => {
        if (message.kind === 'ready') {
          ready = true;
          this.spawning--;
          this.threads.add(thread);
          resolve();
          this.pump();
        } else if (message.kind === 'callback') {
          deliver(this.options, message.event);
        } else if (message.kind === 'failed') {
          reject(errorFromJSON(message.error, 'guest'));
        } else this.onMessage(thread, message);
      });
      worker.once('error', (error) => {
        if (!ready) reject(new AirssysError('internal', `an HTTP thread failed to start: ${error.message}`));
      });
      worker.once('exit', () => {
        clearTimeout(thread.watchdog);
        this.threads.delete(thread);
        if (!ready) {
          this.spawning--; // a 'failed' message or an 'error' event comes first, with the cause
          reject(new AirssysError('internal', 'an HTTP thread exited while starting'));
          return;
        }
        const job = thread.job;
        thread.job = undefined;
        job?.resolve(
          failed(
            new AirssysError(
              'internal',
              'the HTTP thread running this request stopped (watchdog or crash); it was replaced',
              {
                blame: 'host',
              },
            ),
            job.started,
          ),
        );
        if (this.closed) return;
        // A replacement, so the server keeps its threads; if that fails, the others go on.
        this.spawn().catch(() => this.failIfNone());
      });
    });
    return started;
  }

  private failIfNone(): void {
    if (this.threads.size > 0 || this.spawning > 0) return;
    for (const job of this.queue.splice(0)) job.resolve(failed(stopped(), false));
  }

  private pump(): void {
    for (const thread of this.threads) {
      if (this.queue.length === 0) return;
      if (thread.job !== undefined) continue;
      const job = this.queue.shift()!;
      thread.job = job;
      thread.watchdog = setTimeout(() => void thread.worker.terminate(), this.watchdogMs);
      const message: ToWorker = { id: job.id, request: job.request };
      thread.worker.postMessage(message);
    }
  }

  private onMessage(
    thread: Thread,
    message: Exclude<ToMain, { kind: 'ready' | 'failed' | 'callback' }>,
  ): void {
    const job = thread.job;
    if (job === undefined || job.id !== message.id) return;
    if (message.kind !== 'done') {
      if (job.failure !== undefined) return;
      try {
        if (message.kind === 'start') {
          job.started = true;
          job.target.start(message.status, message.headers);
        } else if (message.kind === 'write') job.target.write(message.bytes);
        else job.target.end(message.trailers);
      } catch (error) {
        job.failure = error as Error;
        Atomics.store(thread.cancel, 0, job.id);
      }
      return;
    }
    clearTimeout(thread.watchdog);
    thread.job = undefined;
    let outcome: HandleOutcome;
    if (!message.ok) {
      const error = errorFromJSON(message.error, message.blame);
      outcome = { ok: false, error, responded: message.responded, fuel: message.fuel, ms: message.ms };
    } else if (job.failure !== undefined) {
      const error = new AirssysError('internal', `the response could not be sent: ${job.failure.message}`, {
        blame: 'host',
      });
      outcome = { ok: false, error, responded: job.started, fuel: message.fuel, ms: message.ms };
    } else outcome = { ok: true, fuel: message.fuel, ms: message.ms };
    job.resolve(outcome);
    this.pump();
  }
}

function failed(error: AirssysError, responded: boolean): HandleOutcome {
  return { ok: false, error, responded, fuel: 0, ms: 0 };
}

function stopped(): AirssysError {
  return new AirssysError('internal', 'the server is stopping', { blame: 'host' });
}
