/**
 * The component host: starts components as supervised actors on a pool of scheduler threads and
 * is the embedding application's way to talk to them (`send`, `request`, `publish`,
 * `subscribe`). The main thread keeps the control plane: placement, the address directory, the
 * watchdog; the scheduler threads run the components.
 *
 * @example
 * const engine = new Engine();
 * const host = await ComponentHost.create({ threads: 2, dataDir: './data' });
 * await host.start(await engine.load('components/counter'));
 * const reply = await host.request('counter', 'inc'); // { codec: 0x55, payload, value }
 * await host.close();
 */

import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { AuditLog, AuditQuery, AuditRecord } from '../osl/audit/audit-log.js';
import { MemoryAuditLog } from '../osl/audit/memory-audit-log.js';
import { SqliteAuditLog } from '../osl/audit/sqlite-audit-log.js';
import { MemoryKeyValueStore } from '../osl/kv/memory-store.js';
import { SqliteKeyValueStore } from '../osl/kv/sqlite-store.js';
import type { KeyValueStore } from '../osl/kv/store.js';
import { AirssysError } from '../shared/errors.js';
import { Component } from '../wasm/engine/engine.js';
import type { ActorStats } from './actor-stats.js';
import type { ClusterLink } from './cluster-link.js';
import { type BorshSchema, type CodecName, codecCode, decodePayload, encodePayload } from './codec.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type Envelope } from './envelope.js';
import {
  type AddressEntry,
  HostNode,
  type LogEntry,
  type Member,
  type NodeMessage,
  type NodeOsl,
  REMOTE_NODE,
} from './node.js';
import { withoutPermissions } from './permissions.js';
import type { WorkerData, WorkerEvent } from './protocol.js';
import { dropSnapshot, replaceLive, restoreStorage, snapshotStorage } from './storage-snapshot.js';
import { newTraceparent, parseTraceparent, type Span } from './trace.js';
import { WorkerThread } from './worker-thread.js';

export interface ComponentHostOptions {
  /** Scheduler threads; 0 runs components in the caller's thread. Default: one per core. */
  threads?: number;
  /** Folder for the host's data (the key-value store `kv.db`). Without it, storage is in memory. */
  dataDir?: string;
  /** Largest payload a message may carry, in bytes (default 1 MiB). */
  maxMessageBytes?: number;
  /** Component instances one thread may run (default 16,384). */
  maxInstancesPerThread?: number;
  /**
   * A scheduler thread whose heartbeat stops for this long is terminated and its components
   * restarted on a fresh thread (default 5000 ms; a component's own `timeout-ms` normally stops
   * a runaway long before).
   */
  stallMs?: number;
  /** Receives the components' `log` calls and the host's own warnings. */
  log?: (entry: LogEntry) => void;
  /** Called when a component's supervisor gave up on it (restart intensity exceeded). */
  onFailed?: (address: string, reason: string, version: string) => void;
  /**
   * Where capability decisions are recorded. Default: `<dataDir>/audit.db` (each scheduler
   * thread writes its own decisions there), or memory without a data directory.
   */
  audit?: AuditLog;
  /**
   * Files, network and processes for components that import `airssys:ext-*`: the host policy
   * (security mode, host-wide deny rules, quotas). `ports` and `resolver` replace the real ones
   * and are honoured only with `threads: 0` (functions do not cross threads).
   */
  osl?: NodeOsl;
  /**
   * Learn mode: these components (or all, with `true`) run with nothing granted, whatever their
   * manifest asks; every refusal is recorded, and `suggestPermissions` turns the records into
   * the least-privilege `[permissions]` that would have allowed what they tried.
   */
  learn?: boolean | readonly string[];
  /**
   * The span exporter: one span per traced message a component handles (see trace.ts). With it,
   * host API calls without a `traceparent` start a new trace; without it, traceparents are still
   * carried from message to message but no span is recorded.
   */
  onSpan?: (span: Span) => void;
  /**
   * Joins the host to a cluster: messages to addresses this host does not run go to the hosts
   * that do (`setRemoteAddress`), and other hosts' messages arrive here.
   */
  cluster?: ClusterLink;
}

export interface StartOptions {
  /** Address (default: the manifest's component name). */
  address?: string;
  /** Instances behind the address (default 1); spread over the scheduler threads. */
  instances?: number;
}

export interface SendOptions {
  /** Codec to encode the value with (default `raw`: a Uint8Array or string). */
  codec?: CodecName;
  /** W3C trace context of the caller's span; the message and everything it causes join that trace. */
  traceparent?: string;
  /** Schema for `borsh`. */
  schema?: BorshSchema;
}

export interface RequestOptions extends SendOptions {
  /** Milliseconds before the request fails with `timeout` (default 5000). */
  timeoutMs?: number;
}

/** A message as the embedding application receives it, with the payload decoded by its codec. */
export interface ReceivedMessage<T = unknown> {
  readonly sender: string;
  readonly topic: string | undefined;
  readonly codec: number;
  readonly payload: Uint8Array;
  /** The payload decoded by its codec (raw and unknown codecs: the bytes). */
  readonly value: T;
}

const ADDRESS = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/;
const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

interface VersionPlacement {
  readonly component: Component;
  count: number;
  members: Member[];
  /** The members as they were started: one group per thread per start, stopped as a whole. */
  groups: Member[][];
  /** Percent of the address's traffic. */
  weight: number;
  /** Percent of the address's traffic mirrored to it (shadow versions only). */
  shadow: number;
  /** Started as a shadow: its effects are discarded and it never takes real traffic. */
  readonly isShadow: boolean;
}

interface Placement {
  /** By version (content hash), in start order. */
  readonly versions: Map<string, VersionPlacement>;
}

export interface VersionStatus {
  /** `versionId`: the binary's content hash and the manifest's digest. */
  readonly version: string;
  /** The manifest's semver. */
  readonly semver: string;
  readonly weight: number;
  /** Percent of the traffic mirrored to it (a shadow version). */
  readonly shadow: number;
  readonly instances: number;
  readonly stats: ActorStats[];
}

export class ComponentHost {
  /** Node 0: the host API; with zero threads also the components. */
  private readonly node: HostNode;
  private readonly workers: (WorkerThread | undefined)[] = [];
  private readonly placements = new Map<string, Placement>();
  /** Addresses other hosts of the cluster serve: address → their host numbers. */
  private readonly remote = new Map<string, readonly number[]>();
  private readonly store: KeyValueStore | undefined;
  private readonly storePath: string | undefined;
  private readonly auditLog: AuditLog;
  private readonly auditPath: string | undefined;
  private readonly depthBuffers: SharedArrayBuffer[];
  private readonly depths: Int32Array[];
  private readonly heartbeat: SharedArrayBuffer;
  private readonly ports = new Map<number, MessagePort>();
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private nextThread = 0;
  private closed = false;

  private constructor(
    readonly threads: number,
    private readonly options: ComponentHostOptions,
  ) {
    const perThread = (options.maxInstancesPerThread ?? 16_384) + 1;
    this.depthBuffers = Array.from({ length: threads + 1 }, () => new SharedArrayBuffer(perThread * 4));
    this.depths = this.depthBuffers.map((b) => new Int32Array(b));
    this.heartbeat = new SharedArrayBuffer((threads + 1) * 4);
    if (options.dataDir !== undefined) {
      mkdirSync(options.dataDir, { recursive: true });
      this.storePath = join(options.dataDir, 'kv.db');
      this.store = new SqliteKeyValueStore({ path: this.storePath });
      if (options.audit === undefined) this.auditPath = join(options.dataDir, 'audit.db');
    } else if (threads === 0) {
      this.store = new MemoryKeyValueStore();
    }
    this.auditLog =
      options.audit ??
      (this.auditPath === undefined ? new MemoryAuditLog() : new SqliteAuditLog({ path: this.auditPath }));

    this.node = new HostNode({
      index: 0,
      depths: this.depthBuffers.map((b) => new Int32Array(b)),
      store: threads === 0 ? this.store : undefined,
      maxMessageBytes: this.maxMessageBytes,
      post: (to, message) => this.ports.get(to)?.postMessage(message),
      log: options.log,
      onFailed: options.onFailed,
      audit: (record) => this.auditLog.record(record),
      osl: options.osl,
      onSpan: options.onSpan,
      toCluster: options.cluster === undefined ? undefined : (host, env) => options.cluster!.send(host, env),
    });
    options.cluster?.attach((host, env) => this.node.fromCluster(host, env));
  }

  /** Starts a host and its scheduler threads. */
  static async create(options: ComponentHostOptions = {}): Promise<ComponentHost> {
    const threads = options.threads ?? availableParallelism();
    if (!(Number.isInteger(threads) && threads >= 0 && threads <= 256)) {
      throw new AirssysError('invalid-argument', `threads: expected a whole number 0..256, got ${threads}`, {
        details: { field: 'threads' },
      });
    }
    if (threads > 0 && options.dataDir === undefined) {
      // Threads cannot share an in-memory store; one SQLite file is shared through WAL.
      throw new AirssysError(
        'invalid-argument',
        'scheduler threads share storage through a SQLite file: give the host a dataDir, or use threads: 0',
        { details: { field: 'dataDir' } },
      );
    }
    if (threads > 0 && options.audit !== undefined) {
      // Scheduler threads cannot call a log object living on this thread.
      throw new AirssysError(
        'invalid-argument',
        'a custom audit log works with threads: 0 only; with scheduler threads the host writes <dataDir>/audit.db',
        { details: { field: 'audit' } },
      );
    }
    const host = new ComponentHost(threads, options);
    for (let i = 1; i <= threads; i++) host.spawnThread(i);
    await host.connectThreads();
    if (threads > 0) host.startWatchdog();
    return host;
  }

  get maxMessageBytes(): number {
    return this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  // -------------------------------------------------------------------------------------------
  // components

  /**
   * Starts a component behind an address and routes all its traffic there; resolves once every
   * instance ran its `init`.
   */
  async start(component: Component, options: StartOptions = {}): Promise<string> {
    const address = options.address ?? component.name;
    if (this.placements.has(address)) {
      throw new AirssysError(
        'invalid-argument',
        `address "${address}" is taken; stop it first or pick another`,
        {
          details: { field: 'address' },
        },
      );
    }
    const version = await this.startVersion(address, component, options.instances);
    await this.setWeights(address, { [version]: 100 });
    return address;
  }

  /**
   * Starts a version of a component behind an address without giving it traffic (weight 0):
   * the first step of a deployment. The version is the component's content hash. Probes and
   * `migrate` reach it by version; `setWeights` gives it traffic. Returns its `versionId`.
   */
  async startVersion(
    address: string,
    component: Component,
    instances = 1,
    options: { shadow?: boolean } = {},
  ): Promise<string> {
    this.checkOpen();
    if (!ADDRESS.test(address) || address === 'host') {
      throw new AirssysError(
        'invalid-argument',
        `address "${address}": expected lower-case segments separated by dots ([a-z][a-z0-9-]*), not "host"`,
        { details: { field: 'address' } },
      );
    }
    if (!(Number.isInteger(instances) && instances >= 1 && instances <= 1024)) {
      throw new AirssysError(
        'invalid-argument',
        `instances: expected a whole number 1..1024, got ${instances}`,
        {
          details: { field: 'instances' },
        },
      );
    }
    const version = versionId(component);
    if (this.learns(component.name))
      component = new Component(withoutPermissions(component.manifest), component.compiled);
    let placement = this.placements.get(address);
    if (placement?.versions.has(version)) {
      throw new AirssysError('invalid-argument', `${address} already runs version ${version.slice(0, 12)}`, {
        details: { field: 'version' },
      });
    }
    // Reserve the version before the await, so a concurrent start of the same version fails.
    if (placement === undefined) {
      placement = { versions: new Map() };
      this.placements.set(address, placement);
    }
    const shadow = options.shadow ?? false;
    const entry: VersionPlacement = {
      component,
      count: instances,
      members: [],
      groups: [],
      weight: 0,
      shadow: 0,
      isShadow: shadow,
    };
    placement.versions.set(version, entry);
    try {
      entry.groups = await this.place(address, version, component, instances, shadow);
      entry.members = entry.groups.flat();
    } catch (error) {
      placement.versions.delete(version);
      if (placement.versions.size === 0) this.placements.delete(address);
      throw error;
    }
    await this.publishAddress(address);
    return version;
  }

  /**
   * Sets the share of traffic (percent, summing to 100) each version of an address receives.
   * Every thread switches at once for the messages it sends next; messages already queued
   * stay with the version that has them.
   */
  async setWeights(
    address: string,
    weights: Record<string, number>,
    shadow: Record<string, number> = {},
  ): Promise<void> {
    const placement = this.placement(address);
    for (const [version, share] of Object.entries(shadow)) {
      const entry = placement.versions.get(version);
      if (entry === undefined) throw new AirssysError('not-found', `${address} runs no version ${version}`);
      if (!(Number.isInteger(share) && share >= 0 && share <= 100)) {
        throw new AirssysError(
          'invalid-argument',
          `shadow share of ${version}: expected a whole percent 0..100`,
        );
      }
      if (share > 0 && !entry.isShadow) {
        throw new AirssysError(
          'invalid-argument',
          `${address}@${version.slice(0, 12)} was not started as a shadow; only a shadow instance's effects are discarded`,
        );
      }
    }
    let total = 0;
    for (const [version, weight] of Object.entries(weights)) {
      if (!placement.versions.has(version)) {
        throw new AirssysError('not-found', `${address} runs no version ${version}`, {
          details: { version },
        });
      }
      if (!(Number.isInteger(weight) && weight >= 0 && weight <= 100)) {
        throw new AirssysError(
          'invalid-argument',
          `weight of ${version}: expected a whole percent 0..100, got ${weight}`,
        );
      }
      total += weight;
    }
    if (total !== 100 && total !== 0) {
      throw new AirssysError(
        'invalid-argument',
        `weights of ${address} must sum to 100 (or 0 to pause its traffic), got ${total}`,
        { details: { weights } },
      );
    }
    for (const [version, entry] of placement.versions) {
      if (entry.isShadow && (weights[version] ?? 0) > 0) {
        throw new AirssysError(
          'invalid-argument',
          'a shadow version takes no real traffic; start it normally to route to it',
        );
      }
    }
    for (const [version, entry] of placement.versions) {
      entry.weight = weights[version] ?? 0;
      entry.shadow = shadow[version] ?? 0;
    }
    await this.publishAddress(address);
  }

  /**
   * Resolves once no message is queued for or being handled by a version (its mailboxes are
   * empty, across threads); rejects with `timeout` after `timeoutMs`.
   */
  async drain(address: string, version: string, timeoutMs = 5000): Promise<void> {
    const started = performance.now();
    while (this.inflight(address, version) > 0) {
      if (performance.now() - started > timeoutMs) {
        throw new AirssysError(
          'timeout',
          `${address}@${version.slice(0, 12)} still had messages after ${timeoutMs} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /**
   * Changes how many instances of a running version serve an address. Growing starts new
   * instances and routes to them once they ran `init`; shrinking takes instances out of the
   * routes first, lets their mailboxes drain (up to `drainMs`), then stops them — so no message
   * already accepted is dropped. Instances are stopped in groups as they were started; when a
   * group is larger than what must go, it is replaced by a smaller one.
   */
  async resize(address: string, version: string, count: number, drainMs = 5000): Promise<void> {
    this.checkOpen();
    if (!(Number.isInteger(count) && count >= 1 && count <= 1024)) {
      throw new AirssysError('invalid-argument', `instances: expected a whole number 1..1024, got ${count}`, {
        details: { field: 'instances' },
      });
    }
    const entry = this.versionOf(address, version);
    const keep = [...entry.groups];
    const removed: Member[][] = [];
    while (keep.flat().length > count) removed.push(keep.pop()!);
    const missing = count - keep.flat().length;
    if (missing > 0)
      keep.push(...(await this.place(address, version, entry.component, missing, entry.isShadow)));
    entry.groups = keep;
    entry.members = keep.flat();
    entry.count = count;
    await this.publishAddress(address);
    if (removed.length === 0) return;
    const gone = removed.flat();
    const until = performance.now() + drainMs;
    while (gone.some((m) => Atomics.load(this.depths[m.node], m.key) > 0) && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 2));
    }
    for (const group of removed) await this.stopGroup(address, version, group);
  }

  /** Messages queued for, or being handled by, one version of an address (all threads). */
  inflight(address: string, version: string): number {
    let n = 0;
    for (const m of this.versionOf(address, version).members) n += Atomics.load(this.depths[m.node], m.key);
    return n;
  }

  /** The component running as `version` behind `address`. */
  componentOf(address: string, version: string): Component {
    return this.versionOf(address, version).component;
  }

  /** Stops one version of an address; it must have no traffic (weight 0) unless it is the last. */
  async stopVersion(address: string, version: string): Promise<void> {
    const placement = this.placement(address);
    const entry = this.versionOf(address, version);
    if (entry.weight > 0 && placement.versions.size > 1) {
      throw new AirssysError(
        'invalid-argument',
        `${address}@${version.slice(0, 12)} still takes ${entry.weight}% of the traffic; move it with setWeights first`,
      );
    }
    placement.versions.delete(version);
    if (placement.versions.size === 0) this.placements.delete(address);
    await this.publishAddress(address);
    await this.stopMembers(address, version, entry.members);
  }

  /** Stops a component: every version's instances get `shutdown`, then the address is gone. */
  async stop(address: string): Promise<void> {
    const placement = this.placement(address);
    this.placements.delete(address);
    await this.publishAddress(address);
    for (const [version, entry] of placement.versions)
      await this.stopMembers(address, version, entry.members);
  }

  /** Addresses of the running components. */
  addresses(): string[] {
    return [...this.placements.keys()];
  }

  /** The versions behind an address with their weights and instance counters. */
  async versions(address: string): Promise<VersionStatus[]> {
    const out: VersionStatus[] = [];
    for (const v of this.routing(address)) out.push({ ...v, stats: await this.stats(address, v.version) });
    return out;
  }

  /** The versions behind an address with their weights and instance counts, without counters (no thread round trip). */
  routing(address: string): Omit<VersionStatus, 'stats'>[] {
    return [...this.placement(address).versions].map(([version, entry]) => ({
      version,
      semver: entry.component.manifest.component.version,
      weight: entry.weight,
      shadow: entry.shadow,
      instances: entry.count,
    }));
  }

  /** Counters of each instance behind an address (one version, or all). */
  async stats(address: string, version?: string): Promise<ActorStats[]> {
    const placement = this.placement(address);
    const versions = version === undefined ? [...placement.versions.keys()] : [version];
    const parts: ActorStats[][] = [];
    for (const v of versions) {
      const entry = this.versionOf(address, v);
      if (this.threads === 0) parts.push(this.node.versionStats(address, v));
      else {
        const threads = [...new Set(entry.members.map((m) => m.node))];
        for (const t of threads) {
          parts.push(await this.workers[t]!.call<ActorStats[]>({ op: 'stats', address, version: v }));
        }
      }
    }
    return parts.flat();
  }

  /**
   * Runs the `migrate(from-version)` export of one instance of `version` (in turn with its
   * messages). A component without the `migration` export has nothing to migrate: that is a
   * success. A returned error or a trap rejects.
   */
  async migrate(address: string, version: string, fromVersion: string, timeoutMs = 10_000): Promise<void> {
    this.versionOf(address, version);
    await this.node.hostRequest(
      address,
      0x55,
      new TextEncoder().encode(fromVersion),
      timeoutMs,
      'migrate',
      version,
    );
  }

  /**
   * Copies a component's storage namespaces aside as snapshot `id` (one storage turn), so a
   * deployment can give a rolled-back version the state it expects.
   */
  snapshotStorage(component: Component, id: string): number {
    return snapshotStorage(
      this.requireStore(),
      component.name,
      component.manifest.permissions.storage.namespaces,
      id,
    );
  }

  /** Puts snapshot `id` back as the component's storage; writes made since are discarded. */
  restoreStorage(component: Component, id: string): number {
    return restoreStorage(
      this.requireStore(),
      component.name,
      component.manifest.permissions.storage.namespaces,
      id,
    );
  }

  /**
   * Replaces a component's storage with entries kept elsewhere (a cluster's replicated state),
   * before it starts on this host; namespaces not in `namespaces` are ignored.
   */
  replaceStorage(
    component: string,
    namespaces: readonly string[],
    entries: readonly { namespace: string; key: string; value: Uint8Array }[],
  ): number {
    return replaceLive(this.requireStore(), component, namespaces, entries);
  }

  /** The SQLite file of the host's store (`<dataDir>/kv.db`); undefined with an in-memory store. */
  get storeFile(): string | undefined {
    return this.storePath;
  }

  dropSnapshot(component: Component, id: string): void {
    dropSnapshot(this.requireStore(), component.name, component.manifest.permissions.storage.namespaces, id);
  }

  private requireStore(): KeyValueStore {
    if (this.store === undefined) throw new AirssysError('storage-error', 'this host has no storage');
    return this.store;
  }

  /** The store of the main thread (zero threads), for inspection and tests. */
  get storage(): KeyValueStore | undefined {
    return this.store;
  }

  // -------------------------------------------------------------------------------------------
  // messaging

  /** Fire-and-forget; throws `not-found`, `mailbox-full` or `messaging-error` (too large). */
  send(target: string, value: unknown, options: SendOptions = {}): void {
    this.checkOpen();
    const codec = options.codec ?? 'raw';
    this.node.hostSend(
      target,
      codecCode(codec),
      encodePayload(codec, value, options.schema),
      this.traceOf(options),
    );
  }

  /** The traceparent a host API message carries: the caller's, a new trace when exporting, or none. */
  private traceOf(options: SendOptions): string | undefined {
    if (options.traceparent !== undefined && parseTraceparent(options.traceparent) !== undefined)
      return options.traceparent;
    return this.options.onSpan === undefined ? undefined : newTraceparent();
  }

  /**
   * Sends a request and resolves with the reply, its payload decoded by its codec as `value`
   * (typed `T` at your word); rejects with the error the component reported, or `timeout`.
   */
  async request<T = unknown>(
    target: string,
    value: unknown,
    options: RequestOptions = {},
  ): Promise<ReceivedMessage<T>> {
    this.checkOpen();
    const codec = options.codec ?? 'raw';
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!(typeof timeoutMs === 'number' && timeoutMs > 0 && Number.isFinite(timeoutMs))) {
      throw new AirssysError('invalid-argument', `timeoutMs: expected a positive number, got ${timeoutMs}`, {
        details: { field: 'timeoutMs' },
      });
    }
    const reply = await this.node.hostRequest(
      target,
      codecCode(codec),
      encodePayload(codec, value, options.schema),
      timeoutMs,
      undefined,
      undefined,
      this.traceOf(options),
    );
    return received(reply, options.schema) as ReceivedMessage<T>;
  }

  /**
   * Asks one instance behind `address` for its `health()` (in turn with its messages): `healthy`,
   * `degraded` or `unhealthy`; rejects with `timeout` when it does not answer in time.
   */
  async health(
    address: string,
    options: { version?: string; timeoutMs?: number } = {},
  ): Promise<'healthy' | 'degraded' | 'unhealthy'> {
    this.checkOpen();
    const reply = await this.node.hostRequest(
      address,
      0x55,
      new Uint8Array(0),
      options.timeoutMs ?? 1000,
      'health',
      options.version,
    );
    return new TextDecoder().decode(reply.payload) as 'healthy' | 'degraded' | 'unhealthy';
  }

  publish(topic: string, value: unknown, options: SendOptions = {}): void {
    this.checkOpen();
    const codec = options.codec ?? 'raw';
    this.node.hostPublish(
      topic,
      codecCode(codec),
      encodePayload(codec, value, options.schema),
      this.traceOf(options),
    );
  }

  /** Calls `callback` for each publication matching `pattern`; returns the unsubscribe function. */
  subscribe(
    pattern: string,
    callback: (message: ReceivedMessage) => void,
    options: { schema?: BorshSchema } = {},
  ) {
    this.checkOpen();
    return this.node.hostSubscribe(pattern, (env) => callback(received(env, options.schema)));
  }

  /**
   * Capability decisions of the components, newest first: files, network and processes
   * (every operation), messaging and storage (each instance's first decision per subject).
   */
  audit(query: AuditQuery = {}): AuditRecord[] {
    return this.auditLog.query(query);
  }

  /** Records a decision taken outside the components (e.g. the daemon's operator checks). */
  recordDecision(record: AuditRecord): void {
    this.auditLog.record(record);
  }

  /** True when `component` runs in learn mode (see `ComponentHostOptions.learn`). */
  learns(component: string): boolean {
    const learn = this.options.learn;
    return learn === true || (Array.isArray(learn) && learn.includes(component));
  }

  /** Stops every component (newest first), the threads, and closes storage. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    for (const address of [...this.placements.keys()].reverse()) await this.stop(address);
    await this.node.shutdown();
    await Promise.all(
      this.workers.map(async (w) => {
        if (w === undefined) return;
        const exited = new Promise((resolve) => w.worker.once('exit', resolve));
        await w.call({ op: 'shutdown' }).catch(() => {});
        await exited;
      }),
    );
    for (const port of this.ports.values()) port.close();
    this.store?.close();
    if (this.options.audit === undefined) this.auditLog.close();
  }

  // -------------------------------------------------------------------------------------------
  // threads

  private spawnThread(index: number): void {
    const data: WorkerData = {
      index,
      depths: this.depthBuffers,
      heartbeat: this.heartbeat,
      storePath: this.storePath,
      auditPath: this.auditPath,
      policy: this.options.osl?.policy,
      tracing: this.options.onSpan !== undefined,
      maxMessageBytes: this.maxMessageBytes,
      clustered: this.options.cluster !== undefined,
    };
    this.workers[index] = new WorkerThread(data, (event) => this.onWorkerEvent(event));
  }

  /** Gives every pair of nodes its own channel, so data never hops through the main thread. */
  private async connectThreads(only?: number): Promise<void> {
    const calls: Promise<unknown>[] = [];
    for (let a = 0; a <= this.threads; a++) {
      for (let b = a + 1; b <= this.threads; b++) {
        if (only !== undefined && a !== only && b !== only) continue;
        const { port1, port2 } = new MessageChannel();
        calls.push(this.givePort(a, b, port1), this.givePort(b, a, port2));
      }
    }
    await Promise.all(calls);
  }

  private givePort(at: number, peer: number, port: MessagePort): Promise<unknown> {
    if (at === 0) {
      this.ports.get(peer)?.close();
      this.ports.set(peer, port);
      port.on('message', (message: NodeMessage) => this.node.receive(message));
      port.unref();
      return Promise.resolve();
    }
    return this.workers[at]!.call({ op: 'peer', node: peer, port }, [port]);
  }

  private async place(
    address: string,
    version: string,
    component: Component,
    count: number,
    shadow: boolean,
  ): Promise<Member[][]> {
    if (this.threads === 0) {
      return [
        this.node.startMembers(address, version, component, count, shadow).map((key) => ({ node: 0, key })),
      ];
    }
    const perThread = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      const t = (this.nextThread++ % this.threads) + 1;
      perThread.set(t, (perThread.get(t) ?? 0) + 1);
    }
    const started = await Promise.allSettled(
      [...perThread].map(async ([t, n]) => {
        const keys = await this.workers[t]!.call<number[]>({
          op: 'start',
          address,
          version,
          manifest: component.manifest,
          compiled: component.compiled,
          count: n,
          shadow,
        });
        return keys.map((key) => ({ node: t, key }));
      }),
    );
    const failed = started.find((s) => s.status === 'rejected');
    if (failed !== undefined) {
      // All or nothing: stop the instances that did start.
      await Promise.all(
        [...perThread.keys()].map((t) => this.workers[t]!.call({ op: 'stop', address, version })),
      );
      throw (failed as PromiseRejectedResult).reason;
    }
    return started.map((s) => (s as PromiseFulfilledResult<Member[]>).value);
  }

  private async stopGroup(address: string, version: string, group: readonly Member[]): Promise<void> {
    const { node, key } = group[0];
    if (node === 0) await this.node.stopMembers(address, version, [key]);
    else await this.workers[node]?.call({ op: 'stop', address, version, only: [key] });
  }

  private async stopMembers(address: string, version: string, members: readonly Member[]): Promise<void> {
    if (this.threads === 0) {
      await this.node.stopMembers(address, version);
      return;
    }
    const threads = [...new Set(members.map((m) => m.node))];
    await Promise.all(threads.map((t) => this.workers[t]?.call({ op: 'stop', address, version })));
  }

  /**
   * Tells the host which other hosts of the cluster serve `address` (their numbers from the
   * cluster link; empty: none). An address this host runs itself is always served here.
   */
  async setRemoteAddress(address: string, hosts: readonly number[]): Promise<void> {
    const before = this.remote.get(address);
    if (hosts.length === 0) this.remote.delete(address);
    else this.remote.set(address, hosts);
    if (this.placements.has(address) || sameHosts(before, hosts)) return;
    await this.publishAddress(address);
  }

  /** The directory entry of an address as it stands, or null once it has no versions. */
  private entryOf(address: string): AddressEntry | null {
    const placement = this.placements.get(address);
    if (placement === undefined) return this.remoteEntry(address);
    const routes = [...placement.versions].map(([version, v]) => ({
      version,
      members: v.members,
      capacity: v.component.manifest.resources.mailbox,
      weight: v.weight,
      shadow: v.shadow,
    }));
    return { routes };
  }

  /** One route over the other hosts that serve `address`; each applies its own version weights. */
  private remoteEntry(address: string): AddressEntry | null {
    const hosts = this.remote.get(address);
    if (hosts === undefined) return null;
    const members = hosts.map((key) => ({ node: REMOTE_NODE, key }));
    return { routes: [{ version: 'remote', members, capacity: Number.MAX_SAFE_INTEGER, weight: 100 }] };
  }

  /** Sends an address's entry to every node and waits until each has it. */
  private async publishAddress(address: string): Promise<void> {
    const entry = this.entryOf(address);
    this.node.setAddress(address, entry);
    await Promise.all(
      this.workers.map((w) => (w === undefined ? undefined : w.call({ op: 'address', address, entry }))),
    );
  }

  private placement(address: string): Placement {
    const placement = this.placements.get(address);
    if (placement === undefined) {
      throw new AirssysError('not-found', `no component at address "${address}"`, { details: { address } });
    }
    return placement;
  }

  private versionOf(address: string, version: string): VersionPlacement {
    const entry = this.placement(address).versions.get(version);
    if (entry === undefined) {
      throw new AirssysError('not-found', `${address} runs no version ${version}`, {
        details: { address, version },
      });
    }
    return entry;
  }

  private onWorkerEvent(event: WorkerEvent): void {
    if (event.event === 'log') this.options.log?.(event.entry);
    else if (event.event === 'span') this.options.onSpan?.(event.span);
    else this.options.onFailed?.(event.address, event.reason, event.version);
  }

  private startWatchdog(): void {
    const beats = new Int32Array(this.heartbeat);
    const stallMs = this.options.stallMs ?? 5000;
    this.watchdog = setInterval(
      () => {
        const now = performance.now();
        for (let t = 1; t <= this.threads; t++) {
          const w = this.workers[t];
          if (w === undefined) continue;
          const beat = Atomics.load(beats, t);
          if (beat !== w.lastBeat) {
            w.lastBeat = beat;
            w.lastBeatAt = now;
          } else if (now - w.lastBeatAt > stallMs) {
            void this.replaceThread(t);
          }
        }
      },
      Math.max(10, Math.min(250, stallMs / 4)),
    );
    this.watchdog.unref();
  }

  /**
   * Terminates a stuck thread and restarts its components on a fresh one. Messages that were
   * queued on it are lost with it; requests waiting for them end with `timeout`.
   */
  private async replaceThread(t: number): Promise<void> {
    const old = this.workers[t];
    if (old === undefined || this.closed) return;
    this.workers[t] = undefined;
    this.options.log?.({
      address: 'host',
      level: 'error',
      message: `scheduler thread ${t} stopped answering; restarting its components on a new thread`,
      at: Date.now(),
    });
    await old.worker.terminate();
    new Int32Array(this.depthBuffers[t]).fill(0);
    this.node.receive({ t: 'forget-node', node: t });
    await Promise.all(
      this.workers.map((w) => (w === undefined ? undefined : w.call({ op: 'forget-node', node: t }))),
    );
    this.spawnThread(t);
    await this.connectThreads(t);
    // The new thread needs the whole directory before its components start sending.
    for (const address of this.placements.keys()) {
      await this.workers[t]!.call({ op: 'address', address, entry: this.entryOf(address) });
    }
    for (const [address, placement] of this.placements) {
      for (const [version, entry] of placement.versions) {
        const lost = entry.members.filter((m) => m.node === t).length;
        if (lost === 0) continue;
        const keys = await this.workers[t]!.call<number[]>({
          op: 'start',
          address,
          version,
          manifest: entry.component.manifest,
          compiled: entry.component.compiled,
          count: lost,
          shadow: entry.isShadow,
        });
        entry.groups = [
          ...entry.groups.filter((g) => g[0].node !== t),
          keys.map((key) => ({ node: t, key })),
        ];
        entry.members = entry.groups.flat();
      }
      await this.publishAddress(address);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new AirssysError('not-found', 'this host is closed');
  }
}

function sameHosts(a: readonly number[] | undefined, b: readonly number[]): boolean {
  if (a === undefined) return b.length === 0;
  return a.length === b.length && a.every((host, i) => host === b[i]);
}

/**
 * The id of a component version behind an address: its binary's content hash plus its
 * manifest's digest, since the same binary under a new manifest (config, limits) is a new version.
 */
export function versionId(component: Component): string {
  return versionIdOf(component.compiled.hash, component.manifest.source.digest);
}

/** `versionId` from the two digests, for callers that hold a registry record, not a compiled component. */
export function versionIdOf(binarySha256: string, manifestSha256: string): string {
  return `${binarySha256.slice(0, 32)}-${manifestSha256.slice(0, 8)}`;
}

function received(env: Envelope, schema: BorshSchema | undefined): ReceivedMessage {
  return {
    sender: env.sender,
    topic: env.topic,
    codec: env.codec,
    payload: env.payload,
    value: decodePayload(env.codec, env.payload, schema),
  };
}
