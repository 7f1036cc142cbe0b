/**
 * `airssys-wasm uninstall <name> <version-or-hash>`: removes one version from the registry of a
 * host's data directory (its binary too when no other version shares it), without a host.
 *
 * Note: a version the recorded deployments say is serving (or is half of a running deployment)
 * is refused unless `--force`: a host restarted on this data directory recovers its addresses
 * from those versions, and would find one missing.
 */

import type { Command } from 'commander';
import { DeploymentStore } from '../../deploy/deployment-store.js';
import { ComponentRegistry, type VersionRecord } from '../../deploy/registry.js';
import { versionIdOf } from '../../host/host.js';
import { AirssysError } from '../../shared/errors.js';
import { EXIT_OK, printJson, reportError } from '../output.js';
import { type DataDirFlags, existingDataDir, shortHash, withDataDirOptions } from './install.js';

export function registerUninstall(program: Command): void {
  withDataDirOptions(
    program
      .command('uninstall')
      .description("remove one installed version from a host's data directory")
      .argument('<name>', 'component name')
      .argument('<version-or-hash>', 'a version such as 0.1.0, or 8+ hex characters of its sha256')
      .option('--force', 'remove it even when a recorded deployment still serves it'),
  ).action((name: string, versionOrHash: string, flags: DataDirFlags & { force?: boolean }) => {
    try {
      const dataDir = existingDataDir(flags.dataDir);
      const registry = ComponentRegistry.open(dataDir);
      let removed: VersionRecord;
      try {
        const record = registry.get(name, versionOrHash);
        const address = flags.force ? undefined : servedAt(dataDir, record);
        if (address !== undefined) {
          throw new AirssysError(
            'invalid-argument',
            `${record.name}@${record.version} is the version deployed at ${address} (per deployments.json): deploy another version first, or pass --force`,
            { details: { reason: 'in-use', name: record.name, version: record.version, address } },
          );
        }
        removed = registry.remove(record.name, record.version);
      } finally {
        registry.close();
      }
      if (flags.json) {
        printJson({ ok: true, name: removed.name, version: removed.version, sha256: removed.hash });
      } else {
        process.stdout.write(
          `removed ${removed.name}@${removed.version} (sha256 ${shortHash(removed.hash)})\n`,
        );
      }
      process.exitCode = EXIT_OK;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });
}

/** The address whose recorded deployments still need `record`, if any (as `Deployer.recover` reads them). */
function servedAt(dataDir: string, record: VersionRecord): string | undefined {
  const id = versionIdOf(record.hash, record.manifestDigest);
  const needed = new Map<string, string[]>();
  // Oldest first, so the last word on an address is its newest deployment.
  for (const d of new DeploymentStore(dataDir).list().reverse()) {
    const { fromVersion, toVersion } = d.desired;
    const versions =
      d.status === 'running' ? [fromVersion, toVersion] : [d.status === 'done' ? toVersion : fromVersion];
    needed.set(
      d.address,
      versions.filter((v) => v !== undefined),
    );
  }
  for (const [address, versions] of needed) if (versions.includes(id)) return address;
  return undefined;
}
