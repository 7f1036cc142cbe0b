/**
 * `airssys-wasm start <name> [version]` (deploy an installed version to an address that serves
 * nothing yet, stop-start) and `airssys-wasm stop <address>` (its instances get `shutdown`), on
 * the running host.
 */

import type { Command } from 'commander';
import { adminCall } from '../admin-client.js';
import { EXIT_FAILED, EXIT_OK, printJson, reportError } from '../output.js';
import { type DataDirFlags, withDataDirOptions } from './install.js';

export function registerStart(program: Command): void {
  withDataDirOptions(
    program
      .command('start')
      .description('start an installed component on the running host')
      .argument('<name>', 'component name')
      .argument('[version]', 'semver or hash (default: the latest installed)')
      .option('--address <address>', 'address (default: the component name)'),
  ).action(async (name: string, version: string | undefined, flags: DataDirFlags & { address?: string }) => {
    try {
      const outcome = await adminCall(flags.dataDir, 'POST', '/v1/deployments', {
        name,
        version,
        address: flags.address,
        strategy: { kind: 'stop-start' },
      });
      if (flags.json) printJson(outcome);
      else process.stdout.write(`${outcome.id}: ${outcome.status} — ${outcome.message}\n`);
      process.exitCode = outcome.status === 'done' ? EXIT_OK : EXIT_FAILED;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });
}

export function registerStop(program: Command): void {
  withDataDirOptions(
    program
      .command('stop')
      .description('stop an address on the running host (its instances get their shutdown call)')
      .argument('<address>', 'the address'),
  ).action(async (address: string, flags: DataDirFlags) => {
    try {
      await adminCall(flags.dataDir, 'DELETE', `/v1/addresses/${encodeURIComponent(address)}`);
      if (flags.json) printJson({ ok: true });
      else process.stdout.write(`stopped ${address}\n`);
      process.exitCode = EXIT_OK;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });
}
