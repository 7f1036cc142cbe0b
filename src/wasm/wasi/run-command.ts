/**
 * Running a command component — one that exports `wasi:cli/run` — to completion, the process
 * model of `wasmtime run`: a fresh instance, one call of `run`, and an exit status. `run`
 * returning `ok` is status 0 and `err` is 1; `wasi:cli/exit` ends the call with its own status.
 * Anything else (trap, out of fuel, timeout…) is a failure with its error code, not a status.
 */

import { AirssysError } from '../../shared/errors.js';
import type { Component } from '../engine/engine.js';
import type { HostImports } from '../engine/link.js';
import { WasiExit } from './cli.js';
import { wasi02Export } from './exports.js';
import { createWasi } from './index.js';
import type { WasiOptions } from './options.js';

export type CommandOutcome =
  | { ok: true; status: number; fuel: number; ms: number }
  | { ok: false; error: AirssysError; fuel: number; ms: number };

/** The name of the component's `wasi:cli/run` export, or undefined when it is not a command. */
export function commandExport(component: Component): string | undefined {
  return wasi02Export(component, 'wasi:cli/run', 'run');
}

/**
 * Instantiates `component` with WASI (and `hostImports`) and calls its `run` export once.
 * Throws `not-found` when the component is not a command; link failures (an import not granted)
 * throw `capability-denied` as for any instantiation.
 *
 * @example
 * const outcome = runCommand(await engine.load('hello.wasm'), { args: ['hello'], stdout: console.log });
 * process.exitCode = outcome.ok ? outcome.status : 134;
 */
export function runCommand(
  component: Component,
  wasi: WasiOptions,
  hostImports: HostImports = {},
): CommandOutcome {
  const name = commandExport(component);
  if (name === undefined) {
    const exports = component.plan.exports.map((e) => e.name).join(', ') || 'nothing';
    throw new AirssysError(
      'not-found',
      `${component.name} is not a command: it does not export wasi:cli/run (it exports ${exports}); call one of its exports with --call`,
      { blame: 'host', details: { export: 'wasi:cli/run#run' } },
    );
  }
  const session = createWasi(wasi);
  const instance = component.instantiate({ ...session.imports, ...hostImports });
  try {
    const outcome = instance.invoke(name, []);
    if (outcome.ok) {
      const failed = (outcome.value as { tag?: string } | undefined)?.tag === 'err';
      return { ok: true, status: failed ? 1 : 0, fuel: outcome.fuel, ms: outcome.ms };
    }
    if (outcome.error instanceof WasiExit) {
      return { ok: true, status: outcome.error.status, fuel: outcome.fuel, ms: outcome.ms };
    }
    return { ok: false, error: outcome.error, fuel: outcome.fuel, ms: outcome.ms };
  } finally {
    session.endCall();
  }
}
