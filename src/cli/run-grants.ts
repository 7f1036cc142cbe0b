/**
 * What `airssys-wasm run`'s flags grant a command component: preopened directories (`--dir`)
 * and environment variables (`--env`, `--inherit-env`), wasmtime's spelling. Without a
 * manifest the flags are the whole grant; with one, a directory must lie within a folder the
 * manifest grants whole (`/data/**`, or `/data` itself), read-only unless it also grants write:
 * flags narrow a manifest, never widen it.
 */

import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { AirssysError } from '../shared/errors.js';
import type { Manifest } from '../wasm/manifest/schema.js';
import type { Preopen } from '../wasm/wasi/options.js';
import { usage } from './output.js';

/** `--dir HOST[::GUEST]` values as preopens, checked against `manifest` when there is one. */
export function preopensFrom(flags: readonly string[], manifest: Manifest | undefined): Preopen[] {
  return flags.map((flag) => {
    const at = flag.indexOf('::');
    const hostText = at === -1 ? flag : flag.slice(0, at);
    const guest = at === -1 ? flag : flag.slice(at + 2);
    if (hostText === '' || guest === '') throw usage(`--dir ${flag}: expected HOST or HOST::GUEST`);
    const host = realDirectory(hostText, flag);
    if (manifest === undefined) return { host, guest };
    const { read, write } = manifest.permissions.filesystem;
    const writable = write.some((grant) => coversTree(grant, host));
    if (!writable && !read.some((grant) => coversTree(grant, host))) {
      throw new AirssysError(
        'capability-denied',
        `--dir ${flag}: ${manifest.component.name}'s Component.toml does not grant ${host}; add "${host}/**" to [permissions] filesystem read (or write), or run without that --dir`,
        { blame: 'host', details: { grant: 'permissions.filesystem.read', path: host } },
      );
    }
    return { host, guest, readOnly: !writable };
  });
}

/** The host directory of a `--dir`, symlinks resolved, so that the grant check sees the real path. */
function realDirectory(text: string, flag: string): string {
  let real: string;
  try {
    real = realpathSync(path.resolve(text));
  } catch (error) {
    throw new AirssysError(
      'not-found',
      `--dir ${flag}: no such directory ${path.resolve(text)} (${(error as NodeJS.ErrnoException).code})`,
      { blame: 'host', cause: error, details: { path: text } },
    );
  }
  if (!statSync(real).isDirectory()) throw usage(`--dir ${flag}: ${real} is not a directory`);
  return real;
}

/** Whether the grant `pattern` covers `dir` and everything beneath it. */
function coversTree(pattern: string, dir: string): boolean {
  const root = pattern.endsWith('/**') ? pattern.slice(0, -3) || '/' : pattern;
  // Only a literal folder grants a whole tree; `/data/*.txt` grants some files beneath, not all.
  if (/[*?[\]{}]/.test(root)) return false;
  return dir === root || dir.startsWith(root === '/' ? '/' : `${root}/`);
}

/** Collects a repeatable option's values. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `--env` and `--inherit-env`, shared by `run` and `serve` (read them with `environmentFrom`). */
export function withGuestEnvOptions(command: Command): Command {
  return command
    .option(
      '--env <name[=value]>',
      'set a guest environment variable (a bare name copies the host value)',
      collect,
      [],
    )
    .option('--inherit-env', "give the guest this process's whole environment");
}

/**
 * The guest's environment: `--inherit-env` copies `hostEnv` whole, then each `--env NAME=VALUE`
 * sets a variable and each bare `--env NAME` copies the host's value (if it has one).
 */
export function environmentFrom(
  flags: readonly string[],
  inherit: boolean,
  hostEnv: NodeJS.ProcessEnv,
): Record<string, string> {
  const env: Record<string, string> = {};
  if (inherit) for (const [k, v] of Object.entries(hostEnv)) if (v !== undefined) env[k] = v;
  for (const flag of flags) {
    const at = flag.indexOf('=');
    const name = at === -1 ? flag : flag.slice(0, at);
    if (name === '') throw usage(`--env ${flag}: expected NAME=VALUE or NAME`);
    if (at !== -1) env[name] = flag.slice(at + 1);
    else if (hostEnv[name] !== undefined) env[name] = hostEnv[name];
  }
  return env;
}
