/**
 * `airssys-wasm job <address> [--env NAME=VALUE]... [--stdin FILE] [-- ARGS...]`: runs a deployed
 * `wasi:cli/command` component once on the running host (a fresh instance, the manifest's
 * limits) and exits with its exit status. The guest's stdout and stderr lines go to the host's
 * log (`airssys-wasm logs`); a run that traps or runs out of fuel or time exits 134 with the
 * error code, as `airssys-wasm run` does.
 */

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { adminCall } from '../admin-client.js';
import { printJson, reportError, usage } from '../output.js';
import { collect } from '../run-grants.js';
import { type DataDirFlags, withDataDirOptions } from './install.js';
import { EXIT_GUEST_FAILED } from './run.js';

interface JobFlags extends DataDirFlags {
  env: string[];
  stdin?: string;
  timeoutMs: string;
}

export function registerJob(program: Command): void {
  withDataDirOptions(
    program
      .command('job')
      .description('run a deployed wasi:cli/command component once on the running host; exit with its status')
      .argument('<address>', 'the component address')
      .argument('[args...]', 'arguments for the guest (after --)')
      .option('--env <name=value>', 'an environment variable for the guest (repeatable)', collect, [])
      .option('--stdin <file>', "bytes the guest reads from stdin ('-': this process's stdin)")
      .option('--timeout-ms <ms>', 'how long to wait for the run to end', '60000'),
  ).action(async (address: string, args: string[], flags: JobFlags) => {
    try {
      const env: Record<string, string> = {};
      for (const pair of flags.env) {
        const at = pair.indexOf('=');
        if (at <= 0) throw usage(`--env ${pair}: expected NAME=VALUE`);
        env[pair.slice(0, at)] = pair.slice(at + 1);
      }
      const stdin =
        flags.stdin === undefined ? undefined : readFileSync(flags.stdin === '-' ? 0 : flags.stdin, 'utf8');
      const reply = await adminCall(
        flags.dataDir,
        'POST',
        `/v1/addresses/${encodeURIComponent(address)}/run`,
        {
          args,
          env,
          ...(stdin === undefined ? {} : { stdin }),
          timeoutMs: Number(flags.timeoutMs),
        },
      );
      if (flags.json) printJson(reply);
      if (reply.ok !== true) {
        const { code, message } = reply.error as { code: string; message: string };
        if (!flags.json) process.stderr.write(`error [${code}]: ${message}\n`);
        process.exitCode = EXIT_GUEST_FAILED;
        return;
      }
      if (!flags.json)
        process.stderr.write(
          `${address} exited with status ${reply.status} (${Number(reply.ms).toFixed(1)} ms); its output is in the host's log\n`,
        );
      process.exitCode = reply.status as number;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });
}
