/**
 * The thread side of `CommandThread`: a command component compiled on the main thread (its
 * core modules are cloned, not recompiled) run with `runCommand`, one run at a time, each a
 * fresh instance. Everything the run sends to a callback — output lines, refusals, egress
 * audit records — goes back as a message while the guest runs, then the outcome. A guest that
 * waits blocks this thread (`Atomics.wait`), which is the point: the main thread does not.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { type AirssysErrorJson, type Blame, toAirssysError } from '../../shared/errors.js';
import type { CompiledComponent } from '../engine/compile.js';
import { Component } from '../engine/engine.js';
import type { Manifest } from '../manifest/schema.js';
import { bytesSource } from './byte-io.js';
import type { WasiLimits, WasiOptions } from './options.js';
import { runCommand } from './run-command.js';
import { type CallbackEvent, type CallbacksData, threadWasi } from './thread-callbacks.js';

export interface CommandWorkerData {
  manifest: Manifest;
  compiled: CompiledComponent;
}

/** One run: the serialisable part of its `WasiOptions`, and which main-side callbacks exist. */
export interface CommandRun {
  id: number;
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  stdin: Uint8Array;
  limits: Partial<WasiLimits> | undefined;
  callbacks: CallbacksData;
}

export type CommandRunOutcome =
  | { ok: true; status: number; fuel: number; ms: number }
  | { ok: false; error: AirssysErrorJson; blame: Blame; fuel: number; ms: number };

export type CommandWorkerMessage =
  | { kind: 'started'; id: number }
  | { kind: 'callback'; id: number; event: CallbackEvent }
  /** `started: false`: it could not start (not a command, an import not granted), as `runCommand` throws. */
  | { kind: 'done'; id: number; started: boolean; outcome: CommandRunOutcome };

const data = workerData as CommandWorkerData;
const port = parentPort!;
const component = new Component(data.manifest, data.compiled);

function send(message: CommandWorkerMessage): void {
  port.postMessage(message);
}

port.on('message', (run: CommandRun) => {
  const { id } = run;
  const wasi: WasiOptions = {
    args: run.args,
    env: run.env,
    stdin: bytesSource(run.stdin),
    limits: run.limits,
    ...threadWasi(run.callbacks, (event) => send({ kind: 'callback', id, event })),
  };
  send({ kind: 'started', id });
  try {
    const outcome = runCommand(component, wasi);
    send({
      kind: 'done',
      id,
      started: true,
      outcome: outcome.ok
        ? outcome
        : {
            ok: false,
            error: outcome.error.toJSON(),
            blame: outcome.error.blame,
            fuel: outcome.fuel,
            ms: outcome.ms,
          },
    });
  } catch (thrown) {
    const error = toAirssysError(thrown);
    send({
      kind: 'done',
      id,
      started: false,
      outcome: { ok: false, error: error.toJSON(), blame: error.blame, fuel: 0, ms: 0 },
    });
  }
});
