/**
 * `airssys-wasm run <dir|manifest> --call <export> [--args <json>] [--json]` (SPEC §8): load the
 * component under its manifest's limits and permissions, invoke one export, print the outcome
 * with the fuel it consumed and its wall time. Exit 0 when the call succeeded, 1 otherwise.
 */

import type { Command } from 'commander';
import { toAirssysError } from '../../shared/errors.js';
import { argsFromJson } from '../../wasm/component/json-values.js';
import { type EngineFlags, engineFrom, withEngineOptions } from '../engine-options.js';
import { EXIT_FAILED, EXIT_OK, exitCodeFor, printJson, usage } from '../output.js';

interface RunFlags extends EngineFlags {
  call: string;
  args?: string;
  json?: boolean;
}

export function registerRun(program: Command): void {
  withEngineOptions(
    program
      .command('run')
      .description('load a component and invoke one export under its manifest limits')
      .argument('<component>', 'component folder or its Component.toml')
      .requiredOption('--call <export>', 'export to call: `add`, or `iface#func` / `iface.func`')
      .option('--args <json>', 'arguments as a JSON array', '[]')
      .option('--json', 'print one JSON document: {ok, result|error, fuel, ms}'),
  ).action(async (path: string, flags: RunFlags) => {
    process.exitCode = await run(path, flags);
  });
}

async function run(path: string, flags: RunFlags): Promise<number> {
  const started = performance.now();
  try {
    let rawArgs: unknown;
    try {
      rawArgs = JSON.parse(flags.args ?? '[]');
    } catch (error) {
      throw usage(`--args is not valid JSON: ${(error as Error).message}`);
    }
    const component = await engineFrom(flags).load(path);
    const args = argsFromJson(rawArgs, component.exportType(flags.call), flags.call);
    const outcome = component.instantiate({}).invoke(flags.call, args);
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
