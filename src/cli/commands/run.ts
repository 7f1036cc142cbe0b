/**
 * `airssys-wasm run <component> [--dir HOST[::GUEST]]... [--env K[=V]]... [--inherit-env]
 *   [--allow-outbound HOST[:PORT]]... [--allow-listen ADDRESS[:PORT]]... [-- ARGS...]`
 * runs a command component (one that exports `wasi:cli/run`) like `wasmtime run`: the guest's
 * stdout and stderr are the process's, its exit status is the command's. A bare `.wasm` gets
 * the host's default limits and nothing but what the flags grant; with a `Component.toml` the
 * manifest's limits and grants apply and `--dir`, `--allow-outbound` and `--allow-listen` may
 * only narrow them. `wasi:sockets` is linked as wasmtime links it: every connect, lookup and
 * bind is refused unless those grants allow it.
 *
 * `--call <export> [--args <json>] [--json]` calls one export of a library-style component
 * instead and prints its result (SPEC §8).
 */

import { basename } from 'node:path';
import { isatty } from 'node:tty';
import type { Command } from 'commander';
import { toAirssysError } from '../../shared/errors.js';
import { argsFromJson } from '../../wasm/component/json-values.js';
import type { Component } from '../../wasm/engine/engine.js';
import { fdSink, fdSource } from '../../wasm/wasi/fd-io.js';
import { type CommandOutcome, runCommand } from '../../wasm/wasi/run-command.js';
import { type EngineFlags, engineFrom, withEngineOptions } from '../engine-options.js';
import { EXIT_FAILED, EXIT_OK, exitCodeFor, printJson, usage } from '../output.js';
import {
  collect,
  environmentFrom,
  httpFrom,
  preopensFrom,
  printDenied,
  socketsFrom,
  withGuestEnvOptions,
  withListenOption,
  withOutboundOption,
} from '../run-grants.js';

interface RunFlags extends EngineFlags {
  call?: string;
  args?: string;
  json?: boolean;
  dir: string[];
  env: string[];
  inheritEnv?: boolean;
  allowOutbound: string[];
  allowListen: string[];
  argv0?: string;
}

/**
 * Exit status when the guest fails at run time (trap, out of fuel, timeout…), as `wasmtime run`
 * exits after a trap: 128 + SIGABRT. A status the guest chose is passed on as it is.
 */
export const EXIT_GUEST_FAILED = 134;

export function registerRun(program: Command): void {
  withEngineOptions(
    withGuestEnvOptions(
      withListenOption(
        withOutboundOption(
          program
            .command('run')
            .description(
              'run a command component (wasi:cli/run), or call one export of a component with --call',
            )
            .argument('<component>', 'a .wasm file, a component folder or its Component.toml')
            .argument('[args...]', 'arguments for the guest (put them after -- when they start with -)')
            .option(
              '--dir <host[::guest]>',
              'give the guest a host directory, at guest path (default: the same path)',
              collect,
              [],
            )

            .option(
              '--argv0 <name>',
              'the program name the guest sees as argv[0] (default: the .wasm file name)',
            )
            .option(
              '--call <export>',
              'call this export instead of wasi:cli/run: `add`, or `iface#func` / `iface.func`',
            )
            .option('--args <json>', 'with --call: arguments as a JSON array', '[]')
            .option('--json', 'with --call: print one JSON document: {ok, result|error, fuel, ms}'),
        ),
      ),
    ),
  ).action(async (path: string, args: string[], flags: RunFlags) => {
    process.exitCode =
      flags.call === undefined
        ? await runToExit(path, args, flags)
        : await callExport(path, flags.call, flags);
  });
}

async function runToExit(path: string, args: string[], flags: RunFlags): Promise<number> {
  try {
    if (flags.json) throw usage('--json goes with --call; a command prints what the component prints');
    const component = await engineFrom(flags).load(path);
    const manifest = path.toLowerCase().endsWith('.wasm') ? undefined : component.manifest;
    // The process's own stdio, raw, as wasmtime gives it: byte-exact output, piped stdin.
    const stdin = fdSource(0);
    let outcome: CommandOutcome;
    try {
      outcome = runCommand(component, {
        // argv[0] is the binary's file name only, as wasmtime passes it: the host's paths stay the host's.
        args: [flags.argv0 ?? basename(component.manifest.component.wasm), ...args],
        env: environmentFrom(flags.env, flags.inheritEnv === true, process.env),
        preopens: preopensFrom(flags.dir, manifest),
        http: httpFrom(flags.allowOutbound, manifest),
        sockets: socketsFrom(flags.allowOutbound, flags.allowListen, manifest),
        onDenied: printDenied,
        stdin,
        stdoutBytes: fdSink(1),
        stderrBytes: fdSink(2),
        terminals: { stdin: isatty(0), stdout: isatty(1), stderr: isatty(2) },
      });
    } finally {
      stdin.close();
    }
    if (outcome.ok) return outcome.status;
    process.stderr.write(`error [${outcome.error.code}]: ${outcome.error.message}\n`);
    return EXIT_GUEST_FAILED;
  } catch (error) {
    const failure = toAirssysError(error);
    process.stderr.write(`error [${failure.code}]: ${failure.message}\n`);
    return Math.max(EXIT_FAILED, exitCodeFor(failure.code));
  }
}

async function callExport(path: string, name: string, flags: RunFlags): Promise<number> {
  const started = performance.now();
  try {
    let rawArgs: unknown;
    try {
      rawArgs = JSON.parse(flags.args ?? '[]');
    } catch (error) {
      throw usage(`--args is not valid JSON: ${(error as Error).message}`);
    }
    const component: Component = await engineFrom(flags).load(path);
    const args = argsFromJson(rawArgs, component.exportType(name), name);
    const outcome = component.instantiate({}).invoke(name, args);
    const ms = Number(outcome.ms.toFixed(3));
    if (outcome.ok) {
      if (flags.json) printJson({ ok: true, result: outcome.value, fuel: outcome.fuel, ms });
      else printJson(outcome.value);
      return EXIT_OK;
    }
    if (flags.json) printJson({ ok: false, error: outcome.error.toJSON(), fuel: outcome.fuel, ms });
    else process.stderr.write(`error [${outcome.error.code}]: ${outcome.error.message}\n`);
    return EXIT_FAILED;
  } catch (error) {
    const failure = toAirssysError(error);
    const ms = Number((performance.now() - started).toFixed(3));
    if (flags.json) printJson({ ok: false, error: failure.toJSON(), fuel: 0, ms });
    else process.stderr.write(`error [${failure.code}]: ${failure.message}\n`);
    return Math.max(EXIT_FAILED, exitCodeFor(failure.code));
  }
}
