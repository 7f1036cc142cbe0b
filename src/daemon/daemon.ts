/**
 * The host daemon: one process that keeps a `ComponentHost` running on a data directory, restores
 * what served before it stopped, deploys new versions on request, and serves the admin API and
 * the dashboard. Stopping it (SIGINT/SIGTERM or `close()`) stops the components in supervision
 * order — each gets its `shutdown` — and closes storage; the next start brings them back.
 */

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Cluster, readClusterKey } from '../cluster/cluster.js';
import { Deployer } from '../deploy/deployer.js';
import type { RegistryOptions } from '../deploy/registry.js';
import { ComponentHost } from '../host/host.js';
import { recordInto } from '../osl/audit/audit-log.js';
import type { HostPolicy } from '../osl/policy/host-policy.js';
import { AirssysError } from '../shared/errors.js';
import { Engine } from '../wasm/engine/engine.js';
import { resolvePolicy } from '../wasm/engine/policy.js';
import { buildApi } from './api.js';
import { EventHub } from './event-hub.js';
import { type HttpGateway, startHttpGateway } from './http-gateway.js';
import { daemonLogger, type LogLevel, logEvent } from './log.js';
import { type OperatorOptions, Operators } from './operators.js';
import { loadOrCreateToken } from './token.js';

export interface DaemonOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. Anything else needs `allowRemote`: the API has no TLS of its own. */
  bind?: string;
  allowRemote?: boolean;
  /** Scheduler threads (default: one per core). */
  threads?: number;
  /**
   * A folder of built component folders: each is installed, and deployed unless its address
   * already serves (first start). The example components use this.
   */
  examples?: string;
  /** Trusted keys and the trust a version needs to be installed and deployed. */
  trust?: RegistryOptions;
  /** Security mode, host-wide deny rules and quotas for components' file, network and process access. */
  security?: HostPolicy;
  /** Components that run in learn mode (nothing granted, every refusal recorded). */
  learn?: readonly string[];
  /** JSON log file (default `<dataDir>/host.log`). */
  logFile?: string;
  logLevel?: LogLevel;
  /** Record a span per traced message in the JSON log (`event: "span"`). */
  trace?: boolean;
  /** Largest `[resources] memory` a component may declare (default 4 MiB; JS components need more). */
  maxMemoryBytes?: number;
  /** Operators besides `admin`, each with a token and roles (see operators.ts). */
  operators?: OperatorOptions['operators'];
  roles?: OperatorOptions['roles'];
  /** Joins a cluster over NATS (see docs/cluster.md). */
  cluster?: DaemonClusterOptions;
  /** Serves the `[http] routes` of deployed wasi:http components here (port 0: a free one). */
  httpListen?: { bind: string; port: number };
}

export interface DaemonClusterOptions {
  /** `nats://host:port` of the cluster's NATS server (JetStream enabled). */
  url: string;
  /** File holding the cluster key (hex or text, >= 32 bytes), the same on every host. */
  keyFile: string;
  /** This host's id (default: the `host-id` file in the data directory, created at first start). */
  hostId?: string;
  name?: string;
  /** Instances this host accepts from cluster deployments (default 1024; 0 = none). */
  capacity?: number;
  labels?: Record<string, string>;
  heartbeatMs?: number;
  lostAfterMs?: number;
}

export interface Daemon {
  readonly url: string;
  readonly token: string;
  readonly host: ComponentHost;
  readonly deployer: Deployer;
  readonly events: EventHub;
  readonly cluster?: Cluster;
  /** The HTTP listener for wasi:http components, when `httpListen` is set. */
  readonly http?: HttpGateway;
  close(): Promise<void>;
}

export const DAEMON_VERSION = '0.1.0';
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const bind = options.bind ?? '127.0.0.1';
  if (!LOOPBACK.has(bind) && !options.allowRemote) {
    throw new AirssysError(
      'invalid-argument',
      `refusing to serve the admin API on ${bind}: it has no TLS of its own; bind to 127.0.0.1 and put a TLS proxy in front, or pass --allow-remote`,
      { details: { field: 'bind' } },
    );
  }
  const dataDir = resolve(options.dataDir);
  const policy =
    options.maxMemoryBytes === undefined ? undefined : { maxMemoryBytes: options.maxMemoryBytes };
  mkdirSync(dataDir, { recursive: true });
  const token = loadOrCreateToken(dataDir);
  const events = new EventHub();
  const log = daemonLogger(options.logFile ?? join(dataDir, 'host.log'), options.logLevel);
  const logger = log.logger;
  events.watch((event) => logEvent(logger, event));
  const cluster =
    options.cluster === undefined
      ? undefined
      : await Cluster.connect({
          url: options.cluster.url,
          key: readClusterKey(options.cluster.keyFile),
          hostId: options.cluster.hostId ?? loadOrCreateHostId(dataDir),
          name: options.cluster.name,
          capacity: options.cluster.capacity,
          labels: options.cluster.labels,
          heartbeatMs: options.cluster.heartbeatMs,
          lostAfterMs: options.cluster.lostAfterMs,
          log: (level, message) =>
            events.emit({ type: 'log', address: 'host', level, message, at: Date.now() }),
        });
  const host = await ComponentHost.create({
    cluster: cluster?.link,
    threads: options.threads,
    dataDir,
    osl: { policy: options.security },
    onSpan: options.trace ? (span) => logger.info({ event: 'span', ...span }, span.name) : undefined,
    learn: options.learn,
    log: (entry) => events.emit({ type: 'log', ...entry }),
    onFailed: (address, reason) => events.emit({ type: 'failed', address, reason, at: Date.now() }),
  });
  const deployer: Deployer = new Deployer({
    host,
    engine: new Engine({ cacheDir: join(dataDir, 'cache'), policy }),
    dataDir,
    registry: { ...options.trust, policy: resolvePolicy(policy) },
    onCommand: (id, command, error) =>
      events.emit({
        type: 'deployment',
        id,
        address: deployer.deployments.get(id)?.address ?? '',
        op: command.op,
        detail: 'version' in command ? command.version.slice(0, 12) : '',
        error,
        at: Date.now(),
      }),
  });
  deployer.lifecycle.on((event) => events.emit({ type: 'lifecycle', ...event }));
  let api: FastifyInstance | undefined;
  let http: HttpGateway | undefined;
  const startedAt = Date.now();
  try {
    const recovered = await deployer.recover();
    for (const r of recovered) {
      events.emit({
        type: 'log',
        address: r.address,
        level: 'info',
        message: `restored ${r.semver}`,
        at: Date.now(),
      });
    }
    if (options.examples !== undefined) await installExamples(deployer, host, options.examples);
    const operators = new Operators(
      dataDir,
      token,
      { operators: options.operators, roles: options.roles },
      recordInto((r) => host.recordDecision(r)),
    );
    if (options.httpListen !== undefined)
      http = await startHttpGateway({ host, events, ...options.httpListen });
    api = await buildApi({
      host,
      deployer,
      events,
      http,
      operators,
      info: () => ({
        version: DAEMON_VERSION,
        threads: host.threads,
        dataDir,
        startedAt,
        uptimeMs: Date.now() - startedAt,
      }),
      cluster,
    });
    await api.listen({ port: options.port, host: bind });
    await cluster?.start({ host, deployer, admin: apiUrl(api, bind) });
  } catch (error) {
    await cluster?.close().catch(() => {});
    await http?.close();
    await api?.close();
    await host.close();
    deployer.close();
    logger.error({ event: 'start-failed' }, (error as Error).message);
    await log.close();
    throw error;
  }
  const url = apiUrl(api, bind);
  // Where the CLI finds this host (with the token beside it).
  const pointer = join(dataDir, 'daemon.json');
  writeFileSync(pointer, `${JSON.stringify({ url, pid: process.pid })}\n`);
  logger.info(
    { event: 'started', url, http: http?.url, threads: host.threads, addresses: host.addresses().length },
    'host started',
  );
  let closing: Promise<void> | undefined;
  return {
    url,
    token,
    host,
    deployer,
    events,
    cluster,
    http,
    close() {
      closing ??= (async () => {
        rmSync(pointer, { force: true });
        // Leaving first: the others move this host's share while it still answers.
        await cluster?.close();
        await http?.close();
        await api!.close();
        await host.close();
        deployer.close();
        logger.info({ event: 'stopped' }, 'host stopped');
        await log.close();
      })();
      return closing;
    },
  };
}

function apiUrl(api: FastifyInstance, bind: string): string {
  const address = api.server.address() as { port: number };
  const shownHost = bind.includes(':') ? `[${bind}]` : bind;
  return `http://${shownHost}:${address.port}`;
}

/** This host's cluster id: kept in `<dataDir>/host-id`, so a restart rejoins as the same host. */
function loadOrCreateHostId(dataDir: string): string {
  const file = join(dataDir, 'host-id');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const id = `host-${randomBytes(4).toString('hex')}`;
  writeFileSync(file, `${id}\n`);
  return id;
}

/** Installs every component folder under `dir`; deploys those whose address serves nothing yet. */
async function installExamples(deployer: Deployer, host: ComponentHost, dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!entry.isDirectory()) continue;
    const folder = join(dir, entry.name);
    let manifest: string;
    try {
      manifest = await readFile(join(folder, 'Component.toml'), 'utf8');
    } catch {
      continue; // not a component folder (a core-module plugin, say)
    }
    // Components of the worlds the host runs (its own, wasi:http/proxy, wasi:cli/command); the
    // others are engine examples.
    if (!/^world\s*=\s*"(?:airssys:core\/|wasi:http\/proxy@|wasi:cli\/command@)/m.test(manifest)) continue;
    const record = await deployer.install(folder);
    if (!host.addresses().includes(record.name) && !deployer.deployments.isStopped(record.name)) {
      await deployer.deploy(record.name, { version: record.version });
    }
  }
}
