/**
 * `airssys-wasm status [address]`: the deployments a host recorded in its data directory
 * (`deployments.json`), newest first, read without a running host.
 */

import type { Command } from 'commander';
import { type DeploymentRecord, DeploymentStore } from '../../deploy/deployment-store.js';
import { EXIT_OK, printJson, reportError } from '../output.js';
import {
  type DataDirFlags,
  existingDataDir,
  formatTable,
  formatTime,
  withDataDirOptions,
} from './install.js';

export function registerStatus(program: Command): void {
  withDataDirOptions(
    program
      .command('status')
      .description("show the deployments recorded in a host's data directory, newest first")
      .argument('[address]', 'only the deployments of this address')
      .addHelpText(
        'after',
        `
Reads deployments.json as the host last wrote it; a running deployment shows the state
of its last step. With --json: {"ok":true,"deployments":[{id,address,from,to,strategy,
status,message,rolledBack,startedAt,updatedAt}]}.`,
      ),
  ).action((address: string | undefined, flags: DataDirFlags) => {
    try {
      const deployments = new DeploymentStore(existingDataDir(flags.dataDir)).list(address).map(summary);
      if (flags.json) printJson({ ok: true, deployments });
      else process.stdout.write(table(deployments, address));
      process.exitCode = EXIT_OK;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });
}

interface Summary {
  id: string;
  address: string;
  from: string | null;
  to: string;
  strategy: string;
  status: DeploymentRecord['status'];
  message: string | null;
  rolledBack: boolean;
  startedAt: string;
  updatedAt: string;
}

function summary(record: DeploymentRecord): Summary {
  return {
    id: record.id,
    address: record.address,
    from: record.fromSemver ?? null,
    to: record.toSemver,
    strategy: record.desired.strategy.kind,
    status: record.status,
    message: record.message ?? null,
    rolledBack: record.rolledBack ?? false,
    startedAt: new Date(record.desired.startedAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
  };
}

function table(deployments: Summary[], address: string | undefined): string {
  if (deployments.length === 0) {
    return address === undefined ? 'no deployments recorded\n' : `${address}: no deployments recorded\n`;
  }
  const header = ['ID', 'ADDRESS', 'VERSIONS', 'STRATEGY', 'STATUS', 'UPDATED', 'MESSAGE'];
  const rows = deployments.map((d) => [
    d.id,
    d.address,
    `${d.from ?? '(none)'} → ${d.to}`,
    d.strategy,
    d.rolledBack ? `${d.status} (rolled back)` : d.status,
    formatTime(Date.parse(d.updatedAt)),
    d.message ?? '',
  ]);
  return formatTable(header, rows);
}
