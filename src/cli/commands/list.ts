/**
 * `airssys-wasm list [name]`: the components installed in a host's data directory, each with
 * its versions newest first, read straight from the registry (no host needed).
 */

import type { Command } from 'commander';
import { ComponentRegistry, type VersionRecord } from '../../deploy/registry.js';
import { EXIT_OK, printJson, reportError } from '../output.js';
import {
  type DataDirFlags,
  existingDataDir,
  formatTable,
  formatTime,
  shortHash,
  versionJson,
  withDataDirOptions,
} from './install.js';

export function registerList(program: Command): void {
  withDataDirOptions(
    program
      .command('list')
      .description("list the components and versions installed in a host's data directory")
      .argument('[name]', 'only this component')
      .addHelpText(
        'after',
        `
Versions are listed newest (highest semver) first within each component.
With --json: {"ok":true,"versions":[{name,version,sha256,installedAt,source,signed}]}.`,
      ),
  ).action((name: string | undefined, flags: DataDirFlags) => {
    try {
      const registry = ComponentRegistry.open(existingDataDir(flags.dataDir));
      let versions: VersionRecord[];
      try {
        versions = newestFirst(registry.list(name === undefined ? {} : { name }));
      } finally {
        registry.close();
      }
      if (flags.json) printJson({ ok: true, versions: versions.map(versionJson) });
      else process.stdout.write(table(versions, name, registry.dataDir));
      process.exitCode = EXIT_OK;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });
}

/** The registry lists by name, then semver oldest first; show each component's newest first. */
function newestFirst(records: VersionRecord[]): VersionRecord[] {
  const byName = new Map<string, VersionRecord[]>();
  for (const record of records) {
    const group = byName.get(record.name);
    if (group === undefined) byName.set(record.name, [record]);
    else group.push(record);
  }
  return [...byName.values()].flatMap((group) => group.reverse());
}

function table(versions: VersionRecord[], name: string | undefined, dataDir: string): string {
  if (versions.length === 0) {
    return name === undefined
      ? `no components installed in ${dataDir}\n`
      : `${name}: no version installed in ${dataDir}\n`;
  }
  const header = ['NAME', 'VERSION', 'SHA256', 'INSTALLED', 'SOURCE'];
  const rows = versions.map((v) => [
    v.name,
    v.version,
    shortHash(v.hash),
    formatTime(v.installedAt),
    `${v.source.kind} ${v.source.location}`,
  ]);
  return formatTable(header, rows);
}
