/** `airssys-wasm deploy <name>`: deploys an installed version on the running host, and waits for the outcome. */

import type { Command } from 'commander';
import { AirssysError } from '../../shared/errors.js';
import { adminCall, watchEvents } from '../admin-client.js';
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
    const address = flags.address ?? name;
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
      // Progress on stderr while the host works (stdout stays the one result line or document).
      const progress = flags.json ? undefined : watchEvents(flags.dataDir, (e) => showProgress(e, address));
      await progress?.ready;
      const outcome = await adminCall(flags.dataDir, 'POST', '/v1/deployments', {
        name,
        version,
        address: flags.address,
        strategy,
        acceptPermissions: flags.acceptPermissions === true,
      }).finally(() => progress?.stop());
      if (flags.json) printJson(outcome);
      else process.stdout.write(`${outcome.id}: ${outcome.status} — ${outcome.message}\n`);
      process.exitCode = outcome.status === 'done' ? EXIT_OK : EXIT_FAILED;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });
}

/** One stderr line per deployment step and lifecycle transition of the address being deployed. */
function showProgress(event: Record<string, unknown>, address: string): void {
  const at = new Date(event.at as number).toISOString().slice(11, 23);
  if (event.type === 'deployment' && event.address === address) {
    const error = event.error ? ` — failed: ${event.error}` : '';
    process.stderr.write(`${at}  ${event.op} ${event.detail ?? ''}${error}\n`);
  } else if (event.type === 'lifecycle' && String(event.key).startsWith(`${address}@`)) {
    process.stderr.write(`${at}  ${event.key}: ${event.from} → ${event.to}\n`);
  }
}
