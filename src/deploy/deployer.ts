/**
 * The platform API over a running host: install versions into the registry, deploy them to an
 * address with a strategy, roll back, report status — and, after a restart, bring back what was
 * serving. This is what the host daemon and the CLI call.
 *
 * Recovery rule after a restart (including `kill -9` in the middle of a deployment): a
 * deployment whose switch to the new version was applied (the new version had 100 % of the
 * traffic) is finished forward; any other unfinished deployment is rolled back — the old
 * version serves and the storage snapshot taken before `migrate` is restored. Either way the
 * host comes back with one version per address and a consistent store, never half of a deploy.
 */

import { join } from 'node:path';
import { type ComponentHost, versionIdOf } from '../host/host.js';
import { describeDiff, permissionDiff } from '../host/permissions.js';
import { AirssysError } from '../shared/errors.js';
import type { Component, Engine } from '../wasm/engine/engine.js';
import { checkWorld } from '../wasm/engine/world.js';
import { parseManifest } from '../wasm/manifest/parse.js';
import type { Manifest } from '../wasm/manifest/schema.js';
import { type DeploymentRecord, DeploymentStore } from './deployment-store.js';
import { installFromArchive, isArchive } from './install-archive.js';
import { installFromUrl } from './install-url.js';
import { Lifecycle, type LifecycleState, legalPath } from './lifecycle.js';
import { type DeploymentOutcome, Reconciler, type ReconcilerOptions } from './reconciler.js';
import {
  ComponentRegistry,
  type InstallRequest,
  type RegistryOptions,
  type VersionRecord,
} from './registry.js';
import type { Command, StrategySpec } from './strategies/types.js';

export interface DeployerOptions {
  host: ComponentHost;
  engine: Engine;
  /** The host's data directory: registry, deployments, and the store the host uses. */
  dataDir: string;
  /** Longest sleep between observations while a strategy waits (default 20 ms). */
  pollMs?: number;
  onCommand?: ReconcilerOptions['onCommand'];
  /** Trusted keys and the trust a version needs (see docs/signing.md). */
  registry?: RegistryOptions;
}

export interface DeployOptions {
  /** Semver or content hash of an installed version (default: the latest installed). */
  version?: string;
  strategy?: StrategySpec;
  /** Address (default: the component name). */
  address?: string;
  instances?: number;
  /**
   * Required when the new version asks for permissions the running one does not have: the
   * operator has seen the diff (`capability-denied` with `details.added` otherwise).
   */
  acceptPermissions?: boolean;
}

export interface AddressStatus {
  readonly address: string;
  readonly versions: { version: string; semver: string; weight: number; instances: number }[];
}

export class Deployer {
  readonly registry: ComponentRegistry;
  readonly deployments: DeploymentStore;
  /**
   * States of each version at its address (`counter@0.2.0`), every transition an event stored in
   * the registry: installed → starting → running → updating → … → stopped, or failed.
   */
  readonly lifecycle: Lifecycle;
  private readonly host: ComponentHost;
  private readonly engine: Engine;
  private readonly reconciler: Reconciler;

  constructor(options: DeployerOptions) {
    this.host = options.host;
    this.engine = options.engine;
    this.registry = ComponentRegistry.open(options.dataDir, {
      ...options.registry,
      check: (bytes, manifest) => {
        checkWorld(this.engine.compile(bytes, manifest));
        checkRoutes(manifest, this.registry);
      },
    });
    this.deployments = new DeploymentStore(options.dataDir);
    this.lifecycle = new Lifecycle({ persist: (event) => this.registry.recordEvent(event) });
    this.reconciler = new Reconciler(options.host, {
      store: this.deployments,
      pollMs: options.pollMs,
      onCommand: (id, command, error) => {
        this.track(id, command, error);
        options.onCommand?.(id, command, error);
      },
    });
  }

  /**
   * Installs a component folder (Component.toml + binary), a packaged archive of one
   * (`.tar`, `.tar.gz`, `.tgz`), or a component served at an http(s) URL whose binary must hash
   * to the pinned sha256. Idempotent for the same bytes.
   */
  async install(source: string | { url: string; sha256: string }): Promise<VersionRecord> {
    const record =
      typeof source !== 'string'
        ? await installFromUrl(this.registry, source.url, source.sha256)
        : isArchive(source)
          ? await installFromArchive(this.registry, source)
          : await this.registry.installFolder(source);
    return this.recordInstall(record);
  }

  /** Installs a version given as bytes (a cluster peer's artifact); idempotent like `install`. */
  installBytes(request: InstallRequest): VersionRecord {
    return this.recordInstall(this.registry.install(request));
  }

  private recordInstall(record: VersionRecord): VersionRecord {
    if (record.created)
      this.moveTo(
        `${record.name}@${record.version}`,
        'installed',
        `installed from ${record.source.location}`,
      );
    return record;
  }

  /** Records the lifecycle steps a deployment command means for the version it touches. */
  private track(id: string, command: Command, error: string | undefined): void {
    const record = this.deployments.get(id);
    if (record === undefined || !('version' in command)) return;
    const { desired } = record;
    const semver = command.version === desired.toVersion ? record.toSemver : record.fromSemver;
    const key = `${desired.address}@${semver}`;
    const why = `deployment ${id}`;
    if (error !== undefined) {
      if (command.op === 'start' || command.op === 'migrate') this.moveTo(key, 'failed', `${why}: ${error}`);
      return;
    }
    switch (command.op) {
      case 'start':
        this.moveTo(key, 'starting', why);
        this.moveTo(key, 'running', why);
        return;
      case 'migrate':
        this.moveTo(key, 'updating', `${why}: migrate from ${record.fromSemver}`);
        this.moveTo(key, 'running', `${why}: migrated`);
        return;
      case 'drain':
        this.moveTo(key, 'stopping', `${why}: drained`);
        return;
      case 'stop':
        this.moveTo(key, 'stopped', why);
        return;
    }
  }

  /** Moves a version's state along the shortest legal path; a state it cannot reach is left as is. */
  private moveTo(key: string, to: LifecycleState, reason: string): void {
    const path = legalPath(this.lifecycle.state(key), to);
    for (const state of path ?? []) this.lifecycle.transition(key, state, reason);
  }

  /**
   * Deploys an installed version to its address with a strategy (default `blue-green`; the first
   * deploy of an address simply starts it). Resolves with the outcome; a failed deployment that
   * rolled back is an outcome, not an error.
   */
  async deploy(name: string, options: DeployOptions = {}): Promise<DeploymentOutcome> {
    const record =
      options.version === undefined ? this.registry.latest(name) : this.registry.get(name, options.version);
    // Judged with today's keys and policy: a key withdrawn since the install refuses the version.
    this.registry.checkTrust(record);
    const component = this.compile(record);
    const address = options.address ?? name;
    const first = !this.host.addresses().includes(address);
    if (!first && options.acceptPermissions !== true) await this.checkPermissions(address, record, component);
    this.deployments.markStopped(address, false);
    return this.reconciler.deploy({
      address,
      component,
      strategy: options.strategy ?? (first ? { kind: 'stop-start' } : { kind: 'blue-green' }),
      instances: options.instances,
    });
  }

  /**
   * Deploys the version that served before the last successful deployment of `address` (or the
   * given one), with `blue-green` unless told otherwise.
   */
  async rollback(
    address: string,
    options: { version?: string; strategy?: StrategySpec } = {},
  ): Promise<DeploymentOutcome> {
    const last = this.deployments.list(address).find((d) => d.status === 'done');
    const name = last === undefined ? address : this.nameOf(last);
    let version = options.version;
    if (version === undefined) {
      if (last?.fromSemver === undefined) {
        throw new AirssysError(
          'not-found',
          `${address} has no previous version to roll back to; name one with --version`,
        );
      }
      version = last.fromSemver;
    }
    return this.deploy(name, { version, address, strategy: options.strategy ?? { kind: 'blue-green' } });
  }

  /** Stops an address (each instance gets `shutdown`); it stays stopped across restarts until deployed again. */
  async stop(address: string): Promise<void> {
    await this.host.stop(address);
    this.deployments.markStopped(address, true);
  }

  async status(): Promise<{ addresses: AddressStatus[]; deployments: DeploymentRecord[] }> {
    const addresses: AddressStatus[] = [];
    for (const address of this.host.addresses()) {
      const versions = (await this.host.versions(address)).map((v) => ({
        version: v.version,
        semver: v.semver,
        weight: v.weight,
        instances: v.instances,
      }));
      addresses.push({ address, versions });
    }
    return { addresses, deployments: this.deployments.list() };
  }

  /**
   * After a restart: settles deployments that were running (forward when their switch was
   * applied, back otherwise, restoring storage), then starts the version that last served at
   * every address. Returns what it started.
   */
  async recover(): Promise<{ address: string; semver: string; settled?: 'forward' | 'back' }[]> {
    const serving = new Map<
      string,
      { record: DeploymentRecord; version: string; settled?: 'forward' | 'back' }
    >();
    // Oldest first, so the last word on an address is its newest deployment.
    for (const record of [...this.deployments.list()].reverse()) {
      const { desired } = record;
      if (record.status === 'running') {
        const forward = record.memory.routed?.[desired.toVersion] === 100;
        if (forward) {
          if (record.memory.snapshot === 'taken')
            this.host.dropSnapshot(this.componentFor(record, desired.toVersion), record.id);
          this.finish(
            record,
            'done',
            'finished at recovery: the switch to the new version had been applied',
            false,
          );
        } else {
          if (record.memory.snapshot === 'taken' && desired.fromVersion !== undefined) {
            const old = this.componentFor(record, desired.fromVersion);
            this.host.restoreStorage(old, record.id);
            this.host.dropSnapshot(old, record.id);
          }
          this.finish(record, 'failed', 'interrupted by a host restart before the switch; rolled back', true);
        }
        const version = forward ? desired.toVersion : desired.fromVersion;
        if (version === undefined) serving.delete(desired.address);
        else serving.set(desired.address, { record, version, settled: forward ? 'forward' : 'back' });
        continue;
      }
      const version = record.status === 'done' ? desired.toVersion : desired.fromVersion;
      if (version === undefined) serving.delete(desired.address);
      else serving.set(desired.address, { record, version });
    }
    const started: { address: string; semver: string; settled?: 'forward' | 'back' }[] = [];
    for (const [address, { record, version, settled }] of serving) {
      if (this.host.addresses().includes(address) || this.deployments.isStopped(address)) continue;
      const component = this.componentFor(record, version);
      await this.host.start(component, { address, instances: record.desired.instances });
      started.push({ address, semver: component.manifest.component.version, settled });
    }
    return started;
  }

  close(): void {
    this.registry.close();
  }

  private finish(
    record: DeploymentRecord,
    status: 'done' | 'failed',
    message: string,
    rolledBack: boolean,
  ): void {
    record.status = status;
    record.message = message;
    record.rolledBack = rolledBack;
    record.updatedAt = Date.now();
    record.history.push({ at: record.updatedAt, op: status, detail: message });
    this.deployments.save(record);
  }

  /** Refuses a version that may do more than the versions serving `address` now, unless accepted. */
  private async checkPermissions(
    address: string,
    record: VersionRecord,
    component: Component,
  ): Promise<void> {
    const ids = new Set((await this.host.versions(address)).map((v) => v.version));
    for (const running of this.registry.list({ name: record.name })) {
      if (!ids.has(versionIdOf(running.hash, running.manifestDigest))) continue;
      const before = parseManifest(running.manifestText, {
        baseDir: join(this.registry.dataDir, 'blobs'),
        policy: this.registry.policy,
      });
      const diff = permissionDiff(before.permissions, component.manifest.permissions);
      if (!diff.widens) continue;
      throw new AirssysError(
        'capability-denied',
        `${record.name} ${record.version} asks for permissions ${running.version} (running at ${address}) does not have: ${describeDiff(diff).join('; ')}. Review them, then deploy again accepting them (--accept-permissions)`,
        {
          details: {
            reason: 'permissions-not-accepted',
            from: running.version,
            to: record.version,
            added: diff.added,
            removed: diff.removed,
            quota: diff.quota,
          },
        },
      );
    }
  }

  private nameOf(record: DeploymentRecord): string {
    return this.installed(record, record.desired.toVersion).name;
  }

  /** The installed version a deployment refers to by its version id (binary hash + manifest digest). */
  private installed(record: DeploymentRecord, version: string): VersionRecord {
    const found = this.registry.list().find((r) => versionIdOf(r.hash, r.manifestDigest) === version);
    if (found === undefined) {
      throw new AirssysError(
        'not-found',
        `version ${version.slice(0, 12)} of ${record.address} is no longer installed; reinstall it to recover the address`,
      );
    }
    return found;
  }

  private componentFor(record: DeploymentRecord, version: string): Component {
    return this.compile(this.installed(record, version));
  }

  private compile(record: VersionRecord): Component {
    // The host's policy, as at install: a manifest above the default ceiling that the host
    // admits (`--max-memory`) must deploy too.
    const manifest = parseManifest(record.manifestText, {
      baseDir: join(this.registry.dataDir, 'blobs'),
      policy: this.registry.policy,
    });
    return this.engine.compile(this.registry.binary(record), manifest);
  }
}

/**
 * Refuses a version whose `[http] routes` another component already claims (its latest
 * version): two components on one route would leave the choice to install order. Versions of
 * the same component may keep their routes; a longer route inside another's prefix is no
 * conflict (the longest match wins).
 */
function checkRoutes(manifest: Manifest, registry: ComponentRegistry): void {
  const mine = manifest.http.routes;
  if (mine.length === 0) return;
  for (const other of registry.components()) {
    if (other.name === manifest.component.name) continue;
    const record = registry.get(other.name, other.latest);
    const theirs = parseManifest(record.manifestText, { baseDir: registry.dataDir, policy: registry.policy })
      .http.routes;
    const taken = mine.find((route) => theirs.includes(route));
    if (taken !== undefined) {
      throw new AirssysError(
        'invalid-manifest',
        `http.routes: "${taken}" is already the route of ${other.name}@${other.latest}: choose another route, or remove that component first`,
        { blame: 'guest', details: { field: 'http.routes', route: taken, component: other.name } },
      );
    }
  }
}
