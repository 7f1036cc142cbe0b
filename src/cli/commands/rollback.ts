/** `airssys-wasm rollback <address>`: deploys the version that served before the last deployment. */

import type { Command } from 'commander';
import { adminCall } from '../admin-client.js';
import { EXIT_FAILED, EXIT_OK, printJson, reportError } from '../output.js';
import { type DataDirFlags, withDataDirOptions } from './install.js';

export function registerRollback(program: Command): void {
  withDataDirOptions(
    program
      .command('rollback')
      .description('roll an address back to the version before its last deployment, on the running host')
      .argument('<address>', 'the address')
      .argument('[version]', 'roll back to this installed version (semver or hash) instead'),
  ).action(async (address: string, version: string | undefined, flags: DataDirFlags) => {
    try {
      const outcome = await adminCall(flags.dataDir, 'POST', '/v1/rollback', { address, version });
      if (flags.json) printJson(outcome);
      else process.stdout.write(`${outcome.id}: ${outcome.status} — ${outcome.message}\n`);
      process.exitCode = outcome.status === 'done' ? EXIT_OK : EXIT_FAILED;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });
}
