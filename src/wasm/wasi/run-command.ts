/**
 * Running a command component — one that exports `wasi:cli/run` — to completion, the process
 * model of `wasmtime run`: a fresh instance, one call of `run`, and an exit status. `run`
 * returning `ok` is status 0 and `err` is 1; `wasi:cli/exit` ends the call with its own status.
 * Anything else (trap, out of fuel, timeout…) is a failure with its error code, not a status.
 * A command may send HTTP requests (`wasi:http/outgoing-handler`, as `wasmtime run -S http`)
 * where `wasi.http` grants.
 */

import { AirssysError } from '../../shared/errors.js';
import type { Component } from '../engine/engine.js';
import type { InvocationOutcome } from '../engine/instance.js';
import type { HostImports } from '../engine/link.js';
import { WasiExit } from './cli.js';
import { wasi02Export } from './exports.js';
import { outgoingHandlerInterface } from './http/outgoing-handler.js';
import { httpTypesInterface } from './http/types-interface.js';
import { createWasi } from './index.js';
import { DEFAULT_WASI_LIMITS, type WasiOptions } from './options.js';

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
  const { name, session, instance } = prepare(component, wasi, hostImports, false);
  try {
    return commandOutcome(instance.invoke(name, []));
  } finally {
    session.endCall();
  }
}

/**
 * `runCommand` on JSPI (Node.js 24+, `unsupported-runtime` elsewhere): a guest that waits (a
 * sleep, `poll`, a blocking read) is suspended instead of blocking the thread, so the thread
 * serves other work meanwhile. Same outcome as `runCommand` for the same component and input.
 */
export async function runCommandAsync(
  component: Component,
  wasi: WasiOptions,
  hostImports: HostImports = {},
): Promise<CommandOutcome> {
  const { name, session, instance } = prepare(component, wasi, hostImports, true);
  try {
    return commandOutcome(await instance.invokeAsync(name, []));
  } finally {
    session.endCall();
  }
}

function prepare(component: Component, wasi: WasiOptions, hostImports: HostImports, jspi: boolean) {
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
  const http: HostImports = {
    'wasi:http/types@0.2': httpTypesInterface(
      wasi.limits?.maxWriteBytes ?? DEFAULT_WASI_LIMITS.maxWriteBytes,
    ),
    'wasi:http/outgoing-handler@0.2': outgoingHandlerInterface(wasi),
  };
  const instance = component.instantiate({ ...session.imports, ...http, ...hostImports }, { jspi });
  return { name, session, instance };
}

function commandOutcome(outcome: InvocationOutcome): CommandOutcome {
  if (outcome.ok) {
    const failed = (outcome.value as { tag?: string } | undefined)?.tag === 'err';
    return { ok: true, status: failed ? 1 : 0, fuel: outcome.fuel, ms: outcome.ms };
  }
  if (outcome.error instanceof WasiExit) {
    return { ok: true, status: outcome.error.status, fuel: outcome.fuel, ms: outcome.ms };
  }
  return { ok: false, error: outcome.error, fuel: outcome.fuel, ms: outcome.ms };
}
