/**
 * `airssys-wasm host`: the daemon. Serves the admin API and dashboard until SIGINT/SIGTERM, then
 * stops the components in order and closes storage. Settings come from flags, or from a TOML
 * file (`--config`) with the same names (`data-dir`, `port`, `bind`, `threads`, `allow-remote`,
 * `examples`, `trusted-keys`, `require-trust`, `security-mode`, `deny-paths`, `deny-hosts`, `learn`,
 * and the cluster's `cluster`, `cluster-key`, `cluster-name`, `host-id`, `capacity`, `labels`);
 * flags win (lists add up).
 */

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseToml } from 'smol-toml';
import { type DaemonOptions, startDaemon } from '../../daemon/daemon.js';
import { LOG_LEVELS } from '../../daemon/log.js';
import { loadTrustOptions } from '../../deploy/signing.js';
import { SECURITY_MODES } from '../../osl/policy/host-policy.js';
import { AirssysError } from '../../shared/errors.js';
import { policyFrom } from '../engine-options.js';
import { listenAddress } from '../listen-address.js';
import { printJson, reportError } from '../output.js';

interface HostFlags {
  dataDir?: string;
  port?: string;
  bind?: string;
  threads?: string;
  allowRemote?: boolean;
  examples?: string;
  trustedKey: string[];
  requireTrust?: string;
  securityMode?: string;
  learn: string[];
  logFile?: string;
  logLevel?: string;
  trace?: boolean;
  maxMemory?: string;
  httpListen?: string;
  cluster?: string;
  clusterKey?: string;
  clusterName?: string;
  hostId?: string;
  capacity?: string;
  label: string[];
  config?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function stringList(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new AirssysError('invalid-argument', `${field}: expected a list of strings`);
  return value;
}

const CONFIG_KEYS = [
  'data-dir',
  'port',
  'bind',
  'threads',
  'allow-remote',
  'examples',
  'trusted-keys',
  'require-trust',
  'security-mode',
  'deny-paths',
  'deny-hosts',
  'learn',
  'log-file',
  'log-level',
  'trace',
  'max-memory',
  'http-listen',
  'operators',
  'roles',
  'cluster',
  'cluster-key',
  'cluster-name',
  'host-id',
  'capacity',
  'labels',
];

/** `zone=a` pairs (flags) and a `[labels]` table (config) into one label map; flags win. */
function labelsOf(flags: readonly string[], file: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  if (file !== undefined) {
    if (typeof file !== 'object' || file === null || !Object.values(file).every((v) => typeof v === 'string'))
      throw new AirssysError('invalid-argument', 'labels: expected a table of name = "value"');
    Object.assign(labels, file);
  }
  for (const pair of flags) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new AirssysError('invalid-argument', `--label ${pair}: expected name=value`);
    labels[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return labels;
}

function clusterOptions(flags: HostFlags, file: Record<string, unknown>, config: string | undefined) {
  const url = flags.cluster ?? (file.cluster as string | undefined);
  const keyFile =
    flags.clusterKey ??
    (typeof file['cluster-key'] === 'string' ? resolve(dirname(config!), file['cluster-key']) : undefined);
  if (url === undefined) return undefined;
  if (keyFile === undefined) {
    throw new AirssysError(
      'invalid-argument',
      '--cluster needs --cluster-key <file>, the key every host of the cluster shares (make one with `airssys-wasm cluster keygen <file>`)',
      { details: { field: 'cluster-key' } },
    );
  }
  const capacity = flags.capacity ?? file.capacity;
  return {
    url,
    keyFile,
    name: flags.clusterName ?? (file['cluster-name'] as string | undefined),
    hostId: flags.hostId ?? (file['host-id'] as string | undefined),
    capacity: capacity === undefined ? undefined : wholeNumber(capacity, 'capacity', 1_000_000),
    labels: labelsOf(flags.label, file.labels),
  };
}

function wholeNumber(value: unknown, field: string, max: number): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
    throw new AirssysError(
      'invalid-argument',
      `${field}: expected a whole number 0..${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function readConfig(file: string): Record<string, unknown> {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new AirssysError('invalid-argument', `${file}: ${(error as Error).message}`, { cause: error });
  }
  for (const key of Object.keys(doc)) {
    if (!CONFIG_KEYS.includes(key)) {
      throw new AirssysError(
        'invalid-argument',
        `${file}: unknown setting "${key}" (known: ${CONFIG_KEYS.join(', ')})`,
      );
    }
  }
  return doc;
}

/** A setting that must be one of a few names (undefined when not set). */
function oneOf<T extends string>(field: string, allowed: readonly T[], value: unknown): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T))
    throw new AirssysError(
      'invalid-argument',
      `${field}: ${allowed.join(', ')}, not ${JSON.stringify(value)}`,
    );
  return value as T;
}

function httpListenOf(value: unknown): DaemonOptions['httpListen'] {
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw new AirssysError('invalid-argument', 'http-listen: expected "HOST:PORT"');
  const { host, port } = listenAddress(value, '--http-listen');
  return { bind: host, port };
}

export function registerHost(program: Command): void {
  program
    .command('host')
    .description('run the host daemon: components, admin API and dashboard, until stopped')
    .option(
      '--data-dir <dir>',
      'where installed versions, deployments, storage and the admin token live',
      '.airssys',
    )
    .option('--port <n>', 'admin API port; 0 picks a free one and prints it')
    .option('--bind <address>', 'admin API address (default 127.0.0.1)')
    .option('--threads <n>', 'scheduler threads (default: one per core; 0 = this thread)')
    .option('--allow-remote', 'serve the admin API on a non-loopback address without TLS')
    .option('--examples <dir>', 'install (and on first start deploy) every component folder in <dir>')
    .option(
      '--trusted-key <pem-file>',
      'ed25519 public key signatures are checked against (repeatable)',
      collect,
      [],
    )
    .option('--require-trust <level>', 'lowest trust a version needs: development | unknown | trusted')
    .option(
      '--security-mode <mode>',
      `file, network and process access: ${SECURITY_MODES.join(' | ')} (default strict)`,
    )
    .option(
      '--learn <component>',
      'run this component with nothing granted and record what it tries (repeatable)',
      collect,
      [],
    )
    .option('--log-file <file>', 'JSON log (one line per event, pino) — default <data-dir>/host.log')
    .option('--log-level <level>', `${LOG_LEVELS.join(' | ')} (default info)`)
    .option('--trace', 'record a span per traced message (W3C traceparent) in the JSON log')
    .option(
      '--max-memory <size>',
      'largest [resources] memory a component may declare (default 4MiB; JS components need 128MiB)',
    )
    .option(
      '--http-listen <host:port>',
      'serve the [http] routes of deployed wasi:http components on this address (port 0: any free one)',
    )
    .option(
      '--cluster <url>',
      'join the cluster whose NATS server (with JetStream) is at <url>, e.g. nats://10.0.0.5:4222',
    )
    .option('--cluster-key <file>', 'the key every host of the cluster shares (hex, >= 32 bytes)')
    .option('--cluster-name <name>', 'cluster name when one NATS server serves several (default "default")')
    .option('--host-id <id>', "this host's id in the cluster (default: kept in <data-dir>/host-id)")
    .option('--capacity <n>', 'instances this host accepts from cluster deployments (default 1024; 0 = none)')
    .option(
      '--label <name=value>',
      'a label placement affinity can ask for, e.g. zone=a (repeatable)',
      collect,
      [],
    )
    .option('--config <file>', 'TOML file with the same settings')
    .option('--json', 'print one JSON line with the URL once started')
    .action(async (flags: HostFlags) => {
      try {
        const file = flags.config === undefined ? {} : readConfig(flags.config);
        const options: DaemonOptions = {
          dataDir: flags.dataDir ?? (file['data-dir'] as string | undefined) ?? '.airssys',
          port: wholeNumber(flags.port ?? file.port ?? 0, 'port', 65535),
          bind: flags.bind ?? (file.bind as string | undefined),
          allowRemote: flags.allowRemote ?? (file['allow-remote'] as boolean | undefined),
          threads:
            flags.threads === undefined && file.threads === undefined
              ? undefined
              : wholeNumber(flags.threads ?? file.threads, 'threads', 256),
          examples: flags.examples ?? (file.examples as string | undefined),
          trust: loadTrustOptions({
            // Key files named in the config file are relative to it.
            trustedKeyFiles: [
              ...stringList(file['trusted-keys'], 'trusted-keys').map((f) =>
                resolve(dirname(flags.config!), f),
              ),
              ...flags.trustedKey,
            ],
            requireTrust: flags.requireTrust ?? file['require-trust'],
          }),
          security: {
            securityMode: oneOf('security-mode', SECURITY_MODES, flags.securityMode ?? file['security-mode']),
            // Host-wide deny rules: no manifest can grant these paths and hosts.
            deny: {
              filesystem: stringList(file['deny-paths'], 'deny-paths'),
              network: stringList(file['deny-hosts'], 'deny-hosts'),
            },
          },
          learn: [...stringList(file.learn, 'learn'), ...flags.learn],
          logFile: flags.logFile ?? (file['log-file'] as string | undefined),
          logLevel: oneOf('log-level', LOG_LEVELS, flags.logLevel ?? file['log-level']),
          trace: flags.trace ?? (file.trace as boolean | undefined),
          maxMemoryBytes: policyFrom((flags.maxMemory ?? file['max-memory']) as string | undefined)
            ?.maxMemoryBytes,
          // TOML only: [operators.alice] roles = ["viewer"]; [roles] deployer = ["deployment.*"]
          operators: file.operators as DaemonOptions['operators'],
          roles: file.roles as DaemonOptions['roles'],
          cluster: clusterOptions(flags, file, flags.config),
          httpListen: httpListenOf(flags.httpListen ?? file['http-listen']),
        };
        const daemon = await startDaemon(options);
        const dashboard = `${daemon.url}/#token=${daemon.token}`;
        const cluster =
          daemon.cluster === undefined
            ? undefined
            : { name: daemon.cluster.name, hostId: daemon.cluster.hostId };
        const http = daemon.http?.url;
        if (flags.json)
          printJson({
            ok: true,
            url: daemon.url,
            dashboard,
            http,
            addresses: daemon.host.addresses(),
            cluster,
          });
        else {
          process.stdout.write(
            `airssys-wasm host: serving ${daemon.host.addresses().length} component(s) on ${daemon.host.threads} thread(s)\n` +
              `  dashboard  ${dashboard}\n  admin API  ${daemon.url}/v1 (bearer token in ${options.dataDir}/admin-token)\n` +
              (http === undefined ? '' : `  http       ${http} ([http] routes of wasi:http components)\n`) +
              (cluster === undefined
                ? ''
                : `  cluster    ${cluster.name}, this host is ${cluster.hostId}\n`) +
              '  stop with Ctrl-C\n',
          );
        }
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        if (!flags.json)
          process.stdout.write('stopping: components get their shutdown call, storage is closed\n');
        await daemon.close();
      } catch (error) {
        process.exitCode = reportError(error, flags.json === true);
      }
    });
}
