/**
 * What `airssys-wasm run`'s and `serve`'s flags grant a component: preopened directories
 * (`--dir`), environment variables (`--env`, `--inherit-env`), wasmtime's spelling, and
 * outbound HTTP (`--allow-outbound HOST[:PORT]`, the manifest's pattern syntax; the same
 * patterns grant `wasi:sockets` connects and lookups) and listeners (`--allow-listen
 * ADDRESS[:PORT]`, `run` only). Without a
 * manifest the flags are the whole grant; with one, a directory must lie within a folder the
 * manifest grants whole (`/data/**`, or `/data` itself), read-only unless it also grants write,
 * and an outbound pattern within the manifest's `network.outbound`: flags narrow a manifest,
 * never widen it.
 */

import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { listenGrantsOf, networkGrantsOf } from '../host/permissions.js';
import { compileHostPattern, type HostPattern } from '../osl/policy/host-pattern.js';
import { parseIp } from '../osl/policy/ip.js';
import { AirssysError } from '../shared/errors.js';
import type { Manifest } from '../wasm/manifest/schema.js';
import type { DeniedCallback, Preopen, WasiHttpOptions, WasiSocketsOptions } from '../wasm/wasi/options.js';
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

/** `--allow-outbound`, shared by `run` and `serve` (read it with `httpFrom` and `socketsFrom`). */
export function withOutboundOption(command: Command): Command {
  return command.option(
    '--allow-outbound <host[:port]>',
    'let the guest send HTTP requests to HOST (any port unless :PORT; *.domain for subdomains), open TCP connections and send UDP datagrams to it and look its name up (wasi:sockets); with a Component.toml, only within its network.outbound',
    collect,
    [],
  );
}

/** `--allow-listen` (read it with `socketsFrom`). */
export function withListenOption(command: Command): Command {
  return command.option(
    '--allow-listen <address[:port]>',
    'let the guest bind and listen on a local IP address (wasi:sockets: TCP listeners, UDP on a chosen port or open to any sender; any port unless :PORT, port 0 included); with a Component.toml, only within its network.inbound',
    collect,
    [],
  );
}

/**
 * The `wasi:sockets` grants of a run (linked always, as wasmtime links them; without grants
 * every lookup, connect, datagram and bind is refused): connects, datagrams and lookups on the same patterns as
 * `httpFrom`, and listeners on the `--allow-listen` addresses. With a manifest, its
 * `network.inbound` IP patterns are the listen grants, or the flags when given, each of which
 * those must cover.
 */
export function socketsFrom(
  outboundFlags: readonly string[],
  listenFlags: readonly string[],
  manifest: Manifest | undefined,
): WasiSocketsOptions {
  const http = httpFrom(outboundFlags, manifest);
  for (const flag of listenFlags) listenPatternOf(flag, '--allow-listen');
  let listen: readonly string[] = listenFlags;
  if (manifest !== undefined) {
    // As the daemon reads them: the IP patterns only (an inbound host name grants no listener).
    const granted = listenGrantsOf(manifest.permissions.network.inbound);
    for (const flag of listenFlags) {
      if (!granted.some((grant) => covers(patternOf(grant), listenPatternOf(flag, '--allow-listen')))) {
        throw usage(
          `--allow-listen ${flag}: ${manifest.component.name}'s Component.toml does not grant it; network.inbound is ${JSON.stringify(manifest.permissions.network.inbound)} (a flag may only narrow it)`,
        );
      }
    }
    if (listenFlags.length === 0) listen = granted;
  }
  return {
    network: { ...http.network, listen: listen.map((p) => listenPatternOf(p, 'network.inbound').source) },
    component: http.component,
    version: http.version,
  };
}

/** An `address[:port]` listen grant compiled (no port is any port); a malformed one is a usage error. */
function listenPatternOf(text: string, what: string): HostPattern {
  const pattern = patternOf(text, what);
  if (parseIp(pattern.host) === undefined) {
    throw usage(`${what} ${text}: a listener needs an IP address (127.0.0.1, [::1], 0.0.0.0), not a name`);
  }
  return pattern;
}

/**
 * The `wasi:http/outgoing-handler` grants of a run: a bare `.wasm` gets exactly the
 * `--allow-outbound` patterns (none: no network); with a manifest, its `network.outbound`, or
 * the flags when given, each of which the manifest must cover (a usage error otherwise).
 */
export function httpFrom(flags: readonly string[], manifest: Manifest | undefined): WasiHttpOptions {
  for (const flag of flags) patternOf(flag);
  let outbound: readonly string[] = flags;
  if (manifest !== undefined) {
    const granted = manifest.permissions.network.outbound;
    for (const flag of flags) {
      if (!granted.some((grant) => covers(patternOf(grant), patternOf(flag)))) {
        throw usage(
          `--allow-outbound ${flag}: ${manifest.component.name}'s Component.toml does not grant it; network.outbound is ${JSON.stringify(granted)} (a flag may only narrow it)`,
        );
      }
    }
    if (flags.length === 0) outbound = granted;
  }
  return {
    network: networkGrantsOf(outbound),
    component: manifest?.component.name,
    version: manifest?.component.version,
  };
}

/** Prints a refusal the way `run` and `serve` report them: one `denied` line on stderr. */
export const printDenied: DeniedCallback = (operation, subject, reason) => {
  process.stderr.write(`denied ${operation} ${subject}: ${reason}\n`);
};

/** A manifest-syntax pattern compiled (no port is any port); a malformed one is a usage error. */
function patternOf(text: string, flag = '--allow-outbound'): HostPattern {
  try {
    return compileHostPattern(/:(\*|\d+)$/.test(text) && !text.endsWith(']') ? text : `${text}:*`);
  } catch (error) {
    throw usage(`${flag} ${text}: ${(error as Error).message}; expected HOST[:PORT]`);
  }
}

/** Whether everything `inner` allows, `outer` allows too. */
function covers(outer: HostPattern, inner: HostPattern): boolean {
  if (
    outer.ports !== undefined &&
    (inner.ports === undefined || !inner.ports.every((p) => outer.ports?.includes(p)))
  )
    return false;
  if (!outer.wildcard) return !inner.wildcard && inner.host === outer.host;
  return inner.host.endsWith(`.${outer.host}`) || (inner.wildcard && inner.host === outer.host);
}
