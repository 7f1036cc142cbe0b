/** `airssys-wasm logs`: the running host's recent events — component logs, lifecycle, deployments. */

import type { Command } from 'commander';
import { adminCall } from '../admin-client.js';
import { EXIT_OK, printJson, reportError } from '../output.js';
import { type DataDirFlags, withDataDirOptions } from './install.js';

export function registerLogs(program: Command): void {
  withDataDirOptions(
    program
      .command('logs')
      .description("print the running host's recent events (component logs, lifecycle, deployments)")
      .option('--limit <n>', 'how many, newest last', '100'),
  ).action(async (flags: DataDirFlags & { limit: string }) => {
    try {
      const doc = await adminCall(flags.dataDir, 'GET', `/v1/logs?limit=${Number(flags.limit)}`);
      if (flags.json) printJson(doc);
      else {
        for (const e of doc.events as Record<string, unknown>[]) {
          const at = new Date(e.at as number).toISOString();
          const { type, at: _at, ...rest } = e;
          process.stdout.write(`${at} ${type} ${JSON.stringify(rest)}\n`);
        }
      }
      process.exitCode = EXIT_OK;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });
}
