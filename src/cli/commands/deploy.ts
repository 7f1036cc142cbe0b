/** `airssys-wasm deploy <name>`: deploys an installed version on the running host, and waits for the outcome. */

import type { Command } from 'commander';
import { AirssysError } from '../../shared/errors.js';
import { adminCall } from '../admin-client.js';
import { EXIT_FAILED, EXIT_OK, printJson, reportError } from '../output.js';
import { type DataDirFlags, withDataDirOptions } from './install.js';

interface DeployFlags extends DataDirFlags {
  strategy: string;
  steps?: string;
  stepMs?: string;
  address?: string;
  acceptPermissions?: boolean;
}

export function registerDeploy(program: Command): void {
  withDataDirOptions(
    program
      .command('deploy')
      .description('deploy an installed version to the running host (blue-green unless told otherwise)')
      .argument('<name>', 'component name')
      .argument('[version]', 'semver or hash of an installed version (default: the latest)')
      .option('--strategy <kind>', 'stop-start | blue-green | canary | shadow', 'blue-green')
      .option('--steps <percents>', 'canary weights, e.g. 1,10,50,100')
      .option('--step-ms <ms>', 'canary: time at each step before promotion')
      .option('--address <address>', 'address (default: the component name)')
      .option('--accept-permissions', 'accept permissions the new version adds to those of the running one'),
  ).action(async (name: string, version: string | undefined, flags: DeployFlags) => {
    try {
      if (!['stop-start', 'blue-green', 'canary', 'shadow'].includes(flags.strategy)) {
        throw new AirssysError(
          'invalid-argument',
          `--strategy: stop-start, blue-green, canary or shadow, not ${flags.strategy}`,
        );
      }
      const strategy: Record<string, unknown> = { kind: flags.strategy };
      if (flags.steps !== undefined) strategy.steps = flags.steps.split(',').map(Number);
      if (flags.stepMs !== undefined) strategy.stepMs = Number(flags.stepMs);
      const outcome = await adminCall(flags.dataDir, 'POST', '/v1/deployments', {
        name,
        version,
        address: flags.address,
        strategy,
        acceptPermissions: flags.acceptPermissions === true,
      });
      if (flags.json) printJson(outcome);
      else process.stdout.write(`${outcome.id}: ${outcome.status} — ${outcome.message}\n`);
      process.exitCode = outcome.status === 'done' ? EXIT_OK : EXIT_FAILED;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });
}
