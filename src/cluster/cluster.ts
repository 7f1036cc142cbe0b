/**
 * A host's membership of a cluster: the composition of the NATS connection, the message link,
 * the heartbeats, the shared deployments and the agent that runs this host's share. The single
 * host needs none of this; `airssys-wasm host --cluster nats://…` (or `Cluster.connect`) adds it.
 *
 * @example
 * const cluster = await Cluster.connect({ url: 'nats://127.0.0.1:4222', hostId: 'a', key });
 * const host = await ComponentHost.create({ threads: 2, dataDir, cluster: cluster.link });
 * const deployer = new Deployer({ host, engine, dataDir });
 * await cluster.start({ host, deployer });
 * await cluster.deploy({ component: 'counter', instances: 3 }); // placed across the hosts
 */

import { readFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Deployer } from '../deploy/deployer.js';
import type { ComponentHost } from '../host/host.js';
import { describeDiff, permissionDiff } from '../host/permissions.js';
import { AirssysError, toAirssysError } from '../shared/errors.js';
import { parseManifest } from '../wasm/manifest/parse.js';
import { type AddressProgress, ClusterAgent } from './agent.js';
import {
  type ClusterDeployment,
  ClusterDeployments,
  ROLLOUT_KINDS,
  type RolloutKind,
} from './cluster-deployments.js';
import { MIN_CLUSTER_KEY_BYTES } from './frame.js';
import { type AddressReport, Membership } from './membership.js';
import { type LinkStats, NatsClusterLink } from './nats-link.js';
import { StateReplicator } from './state-replication.js';
import { within } from './within.js';

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** What the host accepts as an address; also a valid key of the JetStream bucket. */
const ADDRESS = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/;

export interface ClusterOptions {
  /** NATS server(s), e.g. `nats://127.0.0.1:4222` (credentials in the URL if the server wants them). */
  readonly url: string;
  /** Cluster name: hosts with the same name and key form one cluster (default `default`). */
  readonly name?: string;
  /** This host's id in the cluster: lower-case letters, digits, `-`. */
  readonly hostId: string;
  /** The cluster key (>= 32 bytes), shared by every host: authenticates messages and heartbeats. */
  readonly key: Uint8Array;
  /** Instances this host accepts from cluster deployments (default 1024; 0: runs none, a client). */
  readonly capacity?: number;
  readonly labels?: Readonly<Record<string, string>>;
  /** This host's admin API URL, shown to the others. */
  readonly admin?: string;
  /** Milliseconds between heartbeats (default 250). */
  readonly heartbeatMs?: number;
  /** A host not heard from for this long is lost (default 1000 ms). */
  readonly lostAfterMs?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface ClusterDeployRequest {
  readonly component: string;
  /** Semver of an installed version (default: the latest installed on this host). */
  readonly version?: string;
  /** Address (default: the component name). */
  readonly address?: string;
  readonly instances?: number;
  readonly spread?: 'spread' | 'pack';
  readonly affinity?: Readonly<Record<string, string>>;
  readonly maxPerHost?: number;
  readonly rollout?: RolloutKind;
  /** Canary: how long the first host serves the new version before the others follow (ms). */
  readonly bakeMs?: number;
  /** `replicated`: the component's storage follows it from host to host (one instance only). */
  readonly state?: 'per-host' | 'replicated';
  /** Required when the version asks for permissions the cluster's current one does not have. */
  readonly acceptPermissions?: boolean;
}

export interface ClusterHostStatus {
  readonly id: string;
  readonly self: boolean;
  readonly capacity: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly admin?: string;
  /** Milliseconds since its last heartbeat arrived (0 for this host). */
  readonly lastSeenMs: number;
  readonly addresses: Readonly<Record<string, AddressReport>>;
}

export interface ClusterStatus {
  readonly name: string;
  readonly self: string;
  readonly hosts: ClusterHostStatus[];
  readonly deployments: (Omit<ClusterDeployment, 'manifestText' | 'signature'> & {
    /** Placement: host id → instances. */
    readonly placement: Record<string, number>;
    readonly unplaced: number;
  })[];
  /** This host's progress on each deployment. */
  readonly progress: AddressProgress[];
  readonly link: LinkStats;
  /** Storage changes of replicated components this host shipped since it started. */
  readonly stateShipped: number;
}

/** Reads a cluster key file: hex (64+ digits) or raw text, at least 32 bytes either way. */
export function readClusterKey(file: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new AirssysError('not-found', `cluster key ${file}: ${toAirssysError(error).message}`, {
      details: { path: file },
    });
  }
  const key = /^([0-9a-f]{2}){32,}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'utf8');
  if (key.byteLength < MIN_CLUSTER_KEY_BYTES) {
    throw new AirssysError(
      'invalid-argument',
      `cluster key ${file} has ${key.byteLength} bytes; it needs at least ${MIN_CLUSTER_KEY_BYTES} (make one with \`airssys-wasm cluster keygen ${file}\`)`,
      { details: { field: 'cluster-key' } },
    );
  }
  return new Uint8Array(key);
}

/** The URL as it may be shown: credentials in it (`nats://user:secret@…`) are not. */
function withoutCredentials(url: string): string {
  return url.replace(/\/\/[^/@]*@/g, '//…@');
}

/** Refuses a malformed deployment request before anything is looked up or stored. */
function checkRequest(request: ClusterDeployRequest): void {
  const fail = (field: string, expected: string, value: unknown): never => {
    throw new AirssysError(
      'invalid-argument',
      `${field}: expected ${expected}, got ${JSON.stringify(value)}`,
      {
        details: { field },
      },
    );
  };
  if (request.address !== undefined && !ADDRESS.test(request.address)) {
    fail('address', 'lower-case segments separated by dots ([a-z][a-z0-9-]*)', request.address);
  }
  const whole = (field: string, value: number | undefined, min: number) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= min))
      fail(field, `a whole number >= ${min}`, value);
  };
  whole('instances', request.instances, 1);
  whole('maxPerHost', request.maxPerHost, 1);
  whole('bakeMs', request.bakeMs, 0);
  if (request.spread !== undefined && request.spread !== 'spread' && request.spread !== 'pack') {
    fail('spread', 'spread or pack', request.spread);
  }
  if (request.rollout !== undefined && !ROLLOUT_KINDS.includes(request.rollout)) {
    fail('rollout', ROLLOUT_KINDS.join(', '), request.rollout);
  }
  if (request.state !== undefined && request.state !== 'per-host' && request.state !== 'replicated') {
    fail('state', 'per-host or replicated', request.state);
  }
  const labels = Object.entries(request.affinity ?? {});
  if (labels.some(([, v]) => typeof v !== 'string'))
    fail('affinity', 'label → value strings', request.affinity);
}

export class Cluster {
  readonly link: NatsClusterLink;
  readonly name: string;
  readonly hostId: string;
  private readonly prefix: string;
  private membership: Membership | undefined;
  private deployments: ClusterDeployments | undefined;
  private agent: ClusterAgent | undefined;
  private host: ComponentHost | undefined;
  private deployer: Deployer | undefined;
  /** Addresses other hosts serve, as last told to the host: address → host numbers. */
  private readonly remote = new Map<string, string>();
  private tick: ReturnType<typeof setInterval> | undefined;
  private replicator: StateReplicator | undefined;
  private admin: string | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly options: ClusterOptions,
  ) {
    this.name = options.name ?? 'default';
    this.hostId = options.hostId;
    this.prefix = `airssys.${this.name}`;
    this.link = new NatsClusterLink({
      nc,
      prefix: this.prefix,
      hostId: options.hostId,
      key: options.key,
      log: (level, message) => options.log?.(level, message),
    });
  }

  /** Connects to NATS; the host is created next with `link`, then `start` joins the cluster. */
  static async connect(options: ClusterOptions): Promise<Cluster> {
    for (const [field, value] of [
      ['hostId', options.hostId],
      ['name', options.name ?? 'default'],
    ] as const) {
      if (!NAME.test(value)) {
        throw new AirssysError(
          'invalid-argument',
          `cluster ${field} "${value}": expected lower-case letters, digits and '-' (it becomes part of NATS subjects)`,
          { details: { field } },
        );
      }
    }
    if (options.key.byteLength < MIN_CLUSTER_KEY_BYTES) {
      throw new AirssysError(
        'invalid-argument',
        `the cluster key needs at least ${MIN_CLUSTER_KEY_BYTES} bytes`,
        {
          details: { field: 'key' },
        },
      );
    }
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: options.url,
        name: `airssys-${options.hostId}`,
        // A host never needs its own publications back: it delivered them locally already.
        noEcho: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      });
    } catch (error) {
      throw new AirssysError(
        'messaging-error',
        `cannot reach the cluster's NATS server at ${withoutCredentials(options.url)}: ${toAirssysError(error).message}; start nats-server (with -js) or fix --cluster`,
        { cause: error },
      );
    }
    return new Cluster(nc, options);
  }

  /** Joins: heartbeats, the shared deployments, and this host's share of them. */
  async start(parts: { host: ComponentHost; deployer: Deployer; admin?: string }): Promise<void> {
    this.host = parts.host;
    this.admin = parts.admin ?? this.options.admin;
    this.deployer = parts.deployer;
    const log = (level: 'info' | 'warn' | 'error', message: string) => this.options.log?.(level, message);
    try {
      this.deployments = await ClusterDeployments.open(this.nc, this.name);
    } catch (error) {
      await this.nc.close();
      throw error;
    }
    this.membership = new Membership({
      nc: this.nc,
      prefix: this.prefix,
      key: this.options.key,
      heartbeatMs: this.options.heartbeatMs ?? 250,
      lostAfterMs: this.options.lostAfterMs ?? 1000,
      describe: () => ({
        id: this.hostId,
        capacity: this.options.capacity ?? 1024,
        labels: this.options.labels ?? {},
        ...(this.admin === undefined ? {} : { admin: this.admin }),
        addresses: this.agent?.report() ?? {},
      }),
      onChange: () => this.changed(),
      log,
    });
    if (parts.host.storeFile !== undefined) {
      this.replicator = await StateReplicator.open(this.nc, this.name, parts.host.storeFile, log);
      this.replicator.start();
    }
    this.agent = new ClusterAgent({
      state: this.replicator,
      hostId: this.hostId,
      host: parts.host,
      deployer: parts.deployer,
      deployments: this.deployments,
      hosts: () => this.membership!.hosts(),
      announce: () => {
        this.membership!.beat();
        this.syncDirectory();
      },
      log,
    });
    this.membership.start();
    await this.deployments.watch(() => this.agent?.kick());
    // Retries what could not be done yet (an artifact not there, a rolling step waiting).
    this.tick = setInterval(() => this.agent?.kick(), 1000);
    this.tick.unref();
  }

  /** Declares (or changes) a cluster deployment of a version installed on this host. */
  async deploy(request: ClusterDeployRequest): Promise<ClusterDeployment> {
    const { deployments, deployer } = this.started();
    checkRequest(request);
    const record =
      request.version === undefined
        ? deployer.registry.latest(request.component)
        : deployer.registry.get(request.component, request.version);
    deployer.registry.checkTrust(record);
    const address = request.address ?? record.name;
    const before = await deployments.fetch(address);
    if (before !== undefined && request.acceptPermissions !== true) {
      const parse = (text: string) =>
        parseManifest(text, { baseDir: deployer.registry.dataDir, policy: deployer.registry.policy });
      const diff = permissionDiff(
        parse(before.manifestText).permissions,
        parse(record.manifestText).permissions,
      );
      if (diff.widens) {
        throw new AirssysError(
          'capability-denied',
          `${record.name} ${record.version} asks for permissions ${before.version} (deployed at ${address}) does not have: ${describeDiff(diff).join('; ')}. Review them, then deploy again accepting them (--accept-permissions)`,
          { details: { reason: 'permissions-not-accepted', added: diff.added } },
        );
      }
    }
    // A new version keeps the placement settings it does not change (an empty affinity clears it).
    const affinity = request.affinity ?? before?.affinity;
    const maxPerHost = request.maxPerHost ?? before?.maxPerHost;
    const bakeMs = request.bakeMs ?? before?.bakeMs;
    const state = request.state ?? before?.state ?? 'per-host';
    const deployment: ClusterDeployment = {
      address,
      component: record.name,
      version: record.version,
      hash: record.hash,
      manifestText: record.manifestText,
      ...(record.signature === undefined ? {} : { signature: record.signature }),
      instances: request.instances ?? before?.instances ?? 1,
      spread: request.spread ?? before?.spread ?? 'spread',
      ...(affinity === undefined || Object.keys(affinity).length === 0 ? {} : { affinity }),
      ...(maxPerHost === undefined ? {} : { maxPerHost }),
      rollout: request.rollout ?? before?.rollout ?? 'rolling',
      ...(bakeMs === undefined ? {} : { bakeMs }),
      state,
      updatedAt: Date.now(),
    };
    if (state === 'replicated' && deployment.instances !== 1) {
      throw new AirssysError(
        'invalid-argument',
        `state: replicated needs instances = 1 (one writer); ${address} asks for ${deployment.instances}`,
        { details: { field: 'state' } },
      );
    }
    await deployments.put(deployment, deployer.registry.binary(record));
    return deployment;
  }

  async undeploy(address: string): Promise<void> {
    checkRequest({ component: address, address });
    await this.started().deployments.remove(address);
  }

  status(): ClusterStatus {
    const { membership, agent, deployments } = this.started();
    const placement = agent.currentPlacement();
    const now = performance.now();
    return {
      name: this.name,
      self: this.hostId,
      hosts: membership.hosts().map((hb) => {
        const peer = membership.peer(hb.id);
        return {
          id: hb.id,
          self: hb.id === this.hostId,
          capacity: hb.capacity,
          labels: hb.labels,
          ...(hb.admin === undefined ? {} : { admin: hb.admin }),
          lastSeenMs: peer === undefined ? 0 : Math.round(now - peer.seenAt),
          addresses: hb.addresses,
        };
      }),
      deployments: deployments.list().map(({ manifestText: _m, signature: _s, ...d }) => ({
        ...d,
        placement: Object.fromEntries(placement.assignments.get(d.address) ?? []),
        unplaced: placement.unplaced.get(d.address) ?? 0,
      })),
      progress: agent.status(),
      link: { ...this.link.stats },
      stateShipped: this.replicator?.shipped ?? 0,
    };
  }

  /** Leaves the cluster: a last heartbeat says so, so the others move this host's work at once. */
  async close(): Promise<void> {
    clearInterval(this.tick);
    this.agent?.close();
    await this.agent?.idle();
    this.deployments?.close();
    await this.replicator?.close();
    await this.membership?.stop();
    await this.link.close();
    if (!(await within(this.nc.drain(), 2000))) await this.nc.close();
  }

  private changed(): void {
    this.syncDirectory();
    this.agent?.kick();
  }

  /** Tells the host which other hosts serve which addresses (from their heartbeats). */
  private syncDirectory(): void {
    const host = this.host;
    if (host === undefined || this.membership === undefined) return;
    const serving = new Map<string, number[]>();
    for (const hb of this.membership.hosts()) {
      if (hb.id === this.hostId) continue;
      for (const [address, report] of Object.entries(hb.addresses)) {
        if (report.instances === 0) continue;
        let list = serving.get(address);
        if (list === undefined) {
          list = [];
          serving.set(address, list);
        }
        list.push(this.link.numberOf(hb.id));
      }
    }
    const changes: [string, number[]][] = [];
    for (const [address, hosts] of serving) {
      hosts.sort((a, b) => a - b);
      const key = hosts.join(',');
      if (this.remote.get(address) !== key) changes.push([address, hosts]);
    }
    for (const address of this.remote.keys()) if (!serving.has(address)) changes.push([address, []]);
    for (const [address, hosts] of changes) {
      if (hosts.length === 0) this.remote.delete(address);
      else this.remote.set(address, hosts.join(','));
      host.setRemoteAddress(address, hosts).catch((error) => {
        this.options.log?.('error', `cluster: routing to ${address}: ${toAirssysError(error).message}`);
      });
    }
  }

  private started(): {
    membership: Membership;
    agent: ClusterAgent;
    deployments: ClusterDeployments;
    deployer: Deployer;
  } {
    if (this.membership === undefined || this.agent === undefined || this.deployments === undefined) {
      throw new AirssysError('not-found', 'this host has not joined the cluster yet (Cluster.start)');
    }
    return {
      membership: this.membership,
      agent: this.agent,
      deployments: this.deployments,
      deployer: this.deployer!,
    };
  }
}
