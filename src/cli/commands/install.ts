/**
 * `airssys-wasm install <component>`: stores a component folder in the registry of a host's data
 * directory, without a running host. Installing the same version again is a no-op; the same
 * version with other bytes is refused (versions are immutable: bump the version). A folder's
 * `Component.sig` is checked against `--trusted-key`s, and `--require-trust` says which trust
 * levels are accepted (docs/signing.md).
 *
 * Also home to what the data-directory commands (`install`, `list`, `status`, `uninstall`) share:
 * the `--data-dir` option and the way they print hashes and times.
 */

import { statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { installFromArchive, isArchive } from '../../deploy/install-archive.js';
import { ComponentRegistry, type VersionRecord } from '../../deploy/registry.js';
import { loadTrustOptions, TRUST_LEVELS } from '../../deploy/signing.js';
import { AirssysError } from '../../shared/errors.js';
import { resolvePolicy } from '../../wasm/engine/policy.js';
import { MANIFEST_FILE_NAME } from '../../wasm/manifest/schema.js';
import { policyFrom } from '../engine-options.js';
import { EXIT_OK, printJson, reportError, usage } from '../output.js';

/** Where a host keeps its registry and deployments unless told otherwise. */
export const DEFAULT_DATA_DIR = './.airssys';

export interface DataDirFlags {
  dataDir: string;
  json?: boolean;
}

/** Adds `--data-dir` and `--json`, the options every data-directory command takes. */
export function withDataDirOptions(command: Command): Command {
  return command
    .option(
      '--data-dir <dir>',
      "the host's data directory (registry.db, blobs/, deployments.json)",
      DEFAULT_DATA_DIR,
    )
    .option('--json', 'print one JSON document');
}

/**
 * The data directory, which must exist: reading commands never create one, so a mistyped
 * `--data-dir` is reported instead of showing an empty registry.
 */
export function existingDataDir(dir: string): string {
  const full = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(full).isDirectory();
  } catch {}
  if (!isDir) {
    throw new AirssysError(
      'not-found',
      `no data directory at ${full}: install a component first (airssys-wasm install <dir> --data-dir ${dir}) or pass the host's --data-dir`,
      { details: { path: full } },
    );
  }
  return full;
}

export const shortHash = (hash: string): string => hash.slice(0, 12);

/** `2025-06-01 14:03:22Z`: UTC, so the same data directory reads the same everywhere. */
export const formatTime = (ms: number): string =>
  `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;

/** Columns padded to their widest cell, two spaces apart, the header first. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

/** A version as the CLI prints it in JSON: the full hash, the time as ISO 8601. */
export function versionJson(record: VersionRecord) {
  return {
    name: record.name,
    version: record.version,
    sha256: record.hash,
    installedAt: new Date(record.installedAt).toISOString(),
    source: record.source,
    signed: record.signature !== undefined,
    trust: record.trust,
  };
}

interface InstallFlags extends DataDirFlags {
  trustedKey: string[];
  requireTrust?: string;
  development?: boolean;
  maxMemory?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerInstall(program: Command): void {
  withDataDirOptions(
    program
      .command('install')
      .description("install a component into the registry of a host's data directory (no host needed)")
      .argument('<component>', 'component folder, its Component.toml, or a .tar/.tar.gz/.tgz of the folder')
      .option(
        '--trusted-key <pem-file>',
        'ed25519 public key a signature must verify against (repeatable)',
        collect,
        [],
      )
      .option('--require-trust <level>', `lowest trust level accepted: ${TRUST_LEVELS.join(' | ')}`)
      .option('--development', 'install as a development build (trust level development)')
      .option(
        '--max-memory <size>',
        'largest [resources] memory accepted (default 4MiB; JS components need 128MiB)',
      )
      .addHelpText(
        'after',
        `
Installing the same name, version and bytes again is a no-op ("already installed").
The same name and version with a different binary or Component.toml is refused
(exit 2, invalid-argument): versions are immutable, bump [component] version.

A folder's Component.sig (airssys-wasm keys sign) is checked against the --trusted-key
files; the version is recorded as trusted when it verifies, unknown when unsigned (or no
key is given), development with --development. A signature that does not verify is
always refused (exit 1, signature-invalid), and so is a level below --require-trust.

Example:
  airssys-wasm install fixtures/build/counter --data-dir ./.airssys
  airssys-wasm install ./counter --trusted-key keys/airssys.pub --require-trust trusted`,
      ),
  ).action(async (component: string, flags: InstallFlags) => {
    try {
      const trust = loadTrustOptions({ trustedKeyFiles: flags.trustedKey, requireTrust: flags.requireTrust });
      if (flags.development && isArchive(component)) {
        throw usage('--development applies to a component folder: unpack the archive and install the folder');
      }
      const registry = ComponentRegistry.open(flags.dataDir, {
        ...trust,
        policy: resolvePolicy(policyFrom(flags.maxMemory)),
      });
      let record: VersionRecord;
      try {
        record = isArchive(component)
          ? await installFromArchive(registry, component)
          : await registry.installFolder(componentFolder(component), { development: flags.development });
      } finally {
        registry.close();
      }
      if (flags.json) {
        printJson({ ok: true, created: record.created, ...versionJson(record) });
      } else {
        const at = `${record.name}@${record.version}`;
        process.stdout.write(
          record.created
            ? `installed ${at} (sha256 ${shortHash(record.hash)}) in ${registry.dataDir}, trust ${record.trust}\n`
            : `${at} already installed (sha256 ${shortHash(record.hash)}) in ${registry.dataDir}, trust ${record.trust}\n`,
        );
      }
      process.exitCode = EXIT_OK;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });
}

/** The folder of `<component>`: a folder as is, or the folder of a `Component.toml` path. */
export function componentFolder(component: string): string {
  const full = resolve(component);
  let isFile = false;
  try {
    isFile = statSync(full).isFile();
  } catch {
    // A missing path is reported by installFolder, with the registry's own wording.
  }
  if (!isFile) return full;
  if (basename(full) !== MANIFEST_FILE_NAME) {
    throw usage(
      `${full} is not a ${MANIFEST_FILE_NAME}: pass a component folder or its ${MANIFEST_FILE_NAME}`,
    );
  }
  return dirname(full);
}
