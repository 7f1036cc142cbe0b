/**
 * A command component run on a thread of its own: the synchronous bridge for Node.js lines
 * without JSPI. On the thread the guest runs with `runCommand`, so a wait (a sleep, `poll`, a
 * blocking read, an outgoing HTTP request through the sync bridge) blocks that thread with
 * `Atomics.wait`, never the caller's; the caller's callbacks (output lines, refusals, audit
 * records) are fed from the thread's messages, in the order the guest made them. The outcome is
 * the one `runCommand` gives for the same component and input: same status, output and fuel.
 *
 * - One worker per `CommandThread`, started at the first run and kept for the next ones (each
 *   run is still a fresh instance); runs queue, one at a time.
 * - Hard stop: a run that outlives `timeout-ms` plus a grace of 250 ms (`stopAfterMs`) — a host
 *   call that blocks past the deadline, say — has its thread terminated (V8 stops even a tight
 *   loop) and answers `timeout`, blamed on the guest; its fuel is then unknown and reported
 *   as 0. A thread that dies answers `internal`. Either way the next run gets a new thread.
 * - Cost (bench/guest-threads.mjs): a thread of ~20 MB once started, ~90 ms for its first run
 *   (loading its modules, rebuilding the component), then ~0.2–0.3 ms more per run than
 *   in-thread (the messages, an instance on the other thread), plus a message per output line.
 */

import { Worker } from 'node:worker_threads';
import { AirssysError, errorFromJSON } from '../../shared/errors.js';
import type { Component } from '../engine/engine.js';
import type { CommandRun, CommandWorkerData, CommandWorkerMessage } from './command-thread-worker.js';
import type { WasiLimits } from './options.js';
import type { CommandOutcome } from './run-command.js';
import { callbacksData, deliver, type GuestCallbacks } from './thread-callbacks.js';

/** One run: what `runCommand`'s `WasiOptions` would carry, as data plus main-side callbacks. */
export interface CommandThreadRun extends GuestCallbacks {
  args?: readonly string[];
  env?: Readonly<Record<string, string>>;
  /** Bytes the guest reads from stdin (none by default: at its end at once). */
  stdin?: Uint8Array;
  limits?: Partial<WasiLimits>;
}

export interface CommandThreadOptions {
  /**
   * How long a run may take on the thread before the thread is terminated: the hard stop
   * (default the manifest's `timeout-ms` + 250 ms, a grace for the guest's own deadline to act).
   */
  stopAfterMs?: number;
}

const GRACE_MS = 250;
/** How long a thread may take to start a run (load its modules, rebuild the component). */
const STARTUP_MS = 10_000;

interface Pending {
  id: number;
  run: CommandThreadRun;
  worker: Worker;
  timer: NodeJS.Timeout | undefined;
  started: number;
  resolve(outcome: CommandOutcome): void;
  reject(error: AirssysError): void;
}

export class CommandThread {
  private worker: Worker | undefined;
  private pending: Pending | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private closed = false;
  private readonly stopAfterMs: number;

  constructor(
    private readonly component: Component,
    options: CommandThreadOptions = {},
  ) {
    this.stopAfterMs = options.stopAfterMs ?? component.manifest.resources.timeoutMs + GRACE_MS;
  }

  /**
   * Runs the command once on the thread. Resolves with its outcome (`timeout` and `internal`
   * included); rejects as `runCommand` throws when it cannot start (not a command, an import
   * not granted) or after `close()`.
   *
   * @example
   * const thread = new CommandThread(component);
   * const outcome = await thread.run({ args: ['hello'], stdout: console.log });
   * await thread.close();
   */
  run(run: CommandThreadRun): Promise<CommandOutcome> {
    const next = this.tail.then(() => this.start(run));
    this.tail = next.catch(() => {});
    return next;
  }

  /** Stops the thread; a run still going answers `internal`, queued ones reject. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }

  private start(run: CommandThreadRun): Promise<CommandOutcome> {
    if (this.closed) {
      return Promise.reject(
        new AirssysError('internal', `the command thread of ${this.component.name} is closed`),
      );
    }
    const worker = this.worker ?? this.spawn();
    worker.ref(); // an idle thread does not keep the process alive; a running one does
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const pending: Pending = {
        id,
        run,
        worker,
        timer: undefined,
        started: performance.now(),
        resolve,
        reject,
      };
      this.pending = pending;
      pending.timer = setTimeout(
        () => this.stop(pending, new AirssysError('internal', `the command thread did not start the run`)),
        STARTUP_MS,
      );
      const message: CommandRun = {
        id,
        args: run.args ?? [],
        env: run.env ?? {},
        // A copy, moved: a view's whole buffer (a decoded message's, say) would be cloned.
        stdin: run.stdin === undefined ? new Uint8Array(0) : run.stdin.slice(),
        limits: run.limits,
        callbacks: callbacksData(run),
      };
      worker.postMessage(message, [message.stdin.buffer as ArrayBuffer]);
    });
  }

  private spawn(): Worker {
    const data: CommandWorkerData = { manifest: this.component.manifest, compiled: this.component.compiled };
    const worker = new Worker(new URL('./command-thread-worker.js', import.meta.url), { workerData: data });
    this.worker = worker;
    worker.on('message', (message: CommandWorkerMessage) => this.onMessage(worker, message));
    // Note: the exit follows; without a listener an 'error' event would throw on this thread.
    worker.on('error', () => {});
    worker.once('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      const pending = this.pending;
      if (pending?.worker === worker) {
        const why = this.closed ? 'was closed' : 'stopped (a crash); the next run gets a new one';
        this.settle(pending, failed(new AirssysError('internal', `the command thread ${why}`), pending));
      }
    });
    return worker;
  }

  private onMessage(worker: Worker, message: CommandWorkerMessage): void {
    const pending = this.pending;
    if (pending === undefined || pending.worker !== worker || pending.id !== message.id) return;
    const { run } = pending;
    switch (message.kind) {
      case 'started': {
        const { timeoutMs } = this.component.manifest.resources;
        clearTimeout(pending.timer);
        pending.timer = setTimeout(() => {
          const error = new AirssysError(
            'timeout',
            `${this.component.name} ran past its timeout-ms (${timeoutMs} ms) and did not stop; its thread was terminated`,
            { blame: 'guest', details: { timeoutMs, stoppedAfterMs: this.stopAfterMs } },
          );
          this.stop(pending, error);
        }, this.stopAfterMs);
        return;
      }
      case 'callback':
        deliver(run, message.event);
        return;
      case 'done': {
        const { outcome } = message;
        if (outcome.ok) this.settle(pending, outcome);
        else {
          const error = errorFromJSON(outcome.error, outcome.blame);
          if (!message.started) this.settle(pending, error);
          else this.settle(pending, { ok: false, error, fuel: outcome.fuel, ms: outcome.ms });
        }
      }
    }
  }

  /** Ends a run that does not end by itself: its thread goes, the next run starts another. */
  private stop(pending: Pending, error: AirssysError): void {
    this.settle(pending, failed(error, pending));
    if (this.worker === pending.worker) this.worker = undefined;
    void pending.worker.terminate();
  }

  private settle(pending: Pending, result: CommandOutcome | AirssysError): void {
    if (this.pending !== pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.worker.unref();
    if (result instanceof AirssysError) pending.reject(result);
    else pending.resolve(result);
  }
}

function failed(error: AirssysError, pending: Pending): CommandOutcome {
  return { ok: false, error, fuel: 0, ms: performance.now() - pending.started };
}
