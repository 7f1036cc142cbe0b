/**
 * Each host's share of the cluster's work. The agent computes the placement (placement.ts) from
 * the deployments every host sees and the hosts its heartbeats say are alive, then converges
 * this host to its share through the local deployer: start, resize, switch version (blue-green
 * on this host), stop. Every host runs the same computation, so there is no leader to elect
 * and nothing to fail over but the work itself: when a host is lost, the placement moves its
 * instances and the hosts that receive them start them.
 *
 * Two rules keep traffic flowing while hosts move:
 * - make before break: a host stops an address it no longer has a share of only once another
 *   live host reports serving it;
 * - rolling: a host switches to a new version only once every host before it in the address's
 *   rollout order reports the new version, so at most one host is switching at a time; a canary
 *   waits for the first host only, and for it to have served the new version for `bakeMs`.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Deployer } from '../deploy/deployer.js';
import type { ComponentHost } from '../host/host.js';
import { AirssysError, toAirssysError } from '../shared/errors.js';
import { parseManifest } from '../wasm/manifest/parse.js';
import type { ClusterDeployment, ClusterDeployments } from './cluster-deployments.js';
import type { AddressReport, Heartbeat } from './membership.js';
import { type Placement, place, rolloutOrder } from './placement.js';
import type { StateReplicator } from './state-replication.js';

/** Where this host stands with one cluster deployment. */
export interface AddressProgress {
  readonly address: string;
  /** Instances placed on this host. */
  readonly want: number;
  readonly phase: 'serving' | 'waiting' | 'switching' | 'idle' | 'failed';
  readonly detail?: string;
}

export interface AgentOptions {
  readonly hostId: string;
  readonly host: ComponentHost;
  readonly deployer: Deployer;
  readonly deployments: ClusterDeployments;
  /** The live hosts' last heartbeats, this host's included. */
  readonly hosts: () => Heartbeat[];
  /** Sends a heartbeat now, so the others see a change without waiting for the next beat. */
  readonly announce: () => void;
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Ships and loads the storage of `state: replicated` deployments (absent: host without a store file). */
  readonly state?: StateReplicator;
}

export class ClusterAgent {
  private placement: Placement = { assignments: new Map(), unplaced: new Map() };
  private readonly progress = new Map<string, AddressProgress>();
  /**
   * Addresses this host ran for the cluster, to stop once their deployment is gone — kept in
   * `<dataDir>/cluster-addresses.json`, since a host that was down when an address was
   * undeployed brings it back from its own deployment records at restart.
   */
  private readonly managed: Set<string>;
  private readonly managedFile: string;
  /** When this host first saw each `host/address/version` reported (canary bake times). */
  private readonly firstSeen = new Map<string, number>();
  private readonly replicating = new Set<string>();
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(private readonly options: AgentOptions) {
    this.managedFile = join(options.deployer.registry.dataDir, 'cluster-addresses.json');
    this.managed = new Set(existsSync(this.managedFile) ? readManaged(this.managedFile, options.log) : []);
  }

  /** Reconciles soon; calls during a reconcile coalesce into one more pass. */
  kick(): void {
    if (this.closed) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves once no reconcile is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  close(): void {
    this.closed = true;
  }

  currentPlacement(): Placement {
    return this.placement;
  }

  status(): AddressProgress[] {
    return [...this.progress.values()];
  }

  /** What this host serves, for its heartbeat: versions taking traffic and their instances. */
  report(): Record<string, AddressReport> {
    const out: Record<string, AddressReport> = {};
    const { host } = this.options;
    for (const address of host.addresses()) {
      const live = host.routing(address).filter((v) => v.weight > 0);
      out[address] = {
        versions: live.map((v) => v.semver),
        instances: live.reduce((n, v) => n + v.instances, 0),
      };
    }
    return out;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      await this.reconcile();
    } while (this.again && !this.closed);
  }

  private async reconcile(): Promise<void> {
    // Before the first full read of the deployments, "absent" would mean "not read yet".
    if (!this.options.deployments.loaded) return;
    const hosts = this.options.hosts();
    const deployments = this.options.deployments.list();
    try {
      this.placement = place(deployments, hosts);
    } catch (error) {
      this.options.log('error', `cluster: cannot place the deployments: ${toAirssysError(error).message}`);
      return;
    }
    const before = [...this.managed].join();
    for (const deployment of deployments) this.managed.add(deployment.address);
    for (const deployment of deployments) {
      const want = this.placement.assignments.get(deployment.address)?.get(this.options.hostId) ?? 0;
      try {
        await this.converge(deployment, want, hosts);
      } catch (error) {
        const message = toAirssysError(error).message;
        this.setProgress(deployment.address, want, 'failed', message);
        this.options.log('error', `cluster: ${deployment.address}: ${message}`);
      }
    }
    for (const address of [...this.managed]) {
      if (deployments.some((d) => d.address === address)) continue;
      this.managed.delete(address);
      this.progress.delete(address);
      if (this.options.host.addresses().includes(address)) {
        await this.options.deployer.stop(address).catch((error) => {
          this.options.log('error', `cluster: stopping ${address}: ${toAirssysError(error).message}`);
        });
        this.options.announce();
      }
    }
    if ([...this.managed].join() !== before) {
      writeFileSync(this.managedFile, `${JSON.stringify([...this.managed])}\n`);
    }
  }

  private async converge(d: ClusterDeployment, want: number, hosts: readonly Heartbeat[]): Promise<void> {
    const { host, deployer, hostId } = this.options;
    const running = host.addresses().includes(d.address) ? host.routing(d.address) : [];
    const serving = running.find((v) => v.weight > 0) ?? running[0];
    if (want === 0) {
      if (serving === undefined) {
        this.setProgress(d.address, 0, 'idle');
        return;
      }
      const takenOver = hosts.some((h) => h.id !== hostId && h.addresses[d.address]?.instances > 0);
      if (!takenOver) {
        this.setProgress(
          d.address,
          0,
          'waiting',
          'keeps serving until another host reports it serves this address',
        );
        return;
      }
      await deployer.stop(d.address);
      this.setProgress(d.address, 0, 'idle');
      this.options.announce();
      return;
    }
    if (running.length > 1) {
      this.setProgress(d.address, want, 'switching', 'a version switch is in progress on this host');
      return;
    }
    await this.ensureInstalled(d);
    if (d.state === 'replicated') await this.replicated(d, serving === undefined);
    if (serving === undefined) {
      const outcome = await deployer.deploy(d.component, {
        version: d.version,
        address: d.address,
        instances: want,
        acceptPermissions: true,
      });
      this.settled(d, want, outcome.status, outcome.message);
      return;
    }
    if (serving.semver === d.version) {
      if (serving.instances !== want) await host.resize(d.address, serving.version, want);
      this.setProgress(d.address, want, 'serving');
      if (serving.instances !== want) this.options.announce();
      return;
    }
    const waitsFor = this.gate(d, hosts);
    if (waitsFor !== undefined) {
      this.setProgress(d.address, want, 'waiting', `${d.rollout}: ${waitsFor}`);
      return;
    }
    this.setProgress(d.address, want, 'switching', `${serving.semver} → ${d.version}`);
    const outcome = await deployer.deploy(d.component, {
      version: d.version,
      address: d.address,
      instances: want,
      strategy: { kind: 'blue-green' },
      // The operator accepted the permissions when deploying to the cluster (see cluster.ts).
      acceptPermissions: true,
    });
    this.settled(d, want, outcome.status, outcome.message);
  }

  /** Why this host may not switch `d` yet (undefined: it may). */
  private gate(d: ClusterDeployment, hosts: readonly Heartbeat[]): string | undefined {
    if (d.rollout === 'blue-green') return undefined;
    const assigned = [...(this.placement.assignments.get(d.address)?.keys() ?? [])];
    const order = rolloutOrder(d.address, assigned);
    const at = order.indexOf(this.options.hostId);
    const before = d.rollout === 'canary' ? order.slice(0, Math.min(at, 1)) : order.slice(0, at);
    const behind = before.filter((id) => {
      const report = hosts.find((h) => h.id === id)?.addresses[d.address];
      return !(report?.versions.length === 1 && report.versions[0] === d.version);
    });
    if (behind.length > 0) return `waits for ${behind.join(', ')} to switch first`;
    if (d.rollout !== 'canary' || before.length === 0) return undefined;
    const key = `${before[0]}/${d.address}/${d.version}`;
    const seen = this.firstSeen.get(key) ?? Date.now();
    this.firstSeen.set(key, seen);
    const left = seen + (d.bakeMs ?? 10_000) - Date.now();
    return left > 0
      ? `the canary ${before[0]} serves ${d.version}; ${Math.ceil(left)} ms of bake time left`
      : undefined;
  }

  private settled(d: ClusterDeployment, want: number, status: 'done' | 'failed', message: string): void {
    if (status === 'done') this.setProgress(d.address, want, 'serving');
    else {
      this.setProgress(d.address, want, 'failed', message);
      this.options.log('error', `cluster: ${d.address} ${d.version} failed on this host: ${message}`);
    }
    this.options.announce();
  }

  /**
   * A replicated component about to start here first gets the state the cluster holds for it;
   * from then on its writes are shipped.
   */
  private async replicated(d: ClusterDeployment, starting: boolean): Promise<void> {
    const state = this.options.state;
    if (state === undefined) {
      throw new AirssysError(
        'storage-error',
        `${d.address} has replicated state, and this host keeps its storage in memory; give it a data directory`,
      );
    }
    if (starting) {
      const manifest = parseManifest(d.manifestText, {
        baseDir: this.options.deployer.registry.dataDir,
        policy: this.options.deployer.registry.policy,
      });
      const entries = await state.load(d.component);
      this.options.host.replaceStorage(d.component, manifest.permissions.storage.namespaces, entries);
      this.options.log(
        'info',
        `cluster: ${d.address}: loaded ${entries.length} replicated keys before starting`,
      );
    }
    if (!this.replicating.has(d.component)) {
      state.replicate(d.component);
      this.replicating.add(d.component);
    }
  }

  private async ensureInstalled(d: ClusterDeployment): Promise<void> {
    const { deployer } = this.options;
    if (deployer.registry.list({ name: d.component }).some((r) => r.version === d.version)) return;
    const bytes = await this.options.deployments.binary(d.hash);
    deployer.installBytes({
      bytes,
      manifestText: d.manifestText,
      signature: d.signature,
      source: { kind: 'cluster', location: `artifact ${d.hash}` },
    });
  }

  private setProgress(address: string, want: number, phase: AddressProgress['phase'], detail?: string): void {
    this.progress.set(address, { address, want, phase, ...(detail === undefined ? {} : { detail }) });
  }
}

function readManaged(file: string, log: AgentOptions['log']): string[] {
  try {
    const list = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(list) ? list.filter((a): a is string => typeof a === 'string') : [];
  } catch (error) {
    log(
      'warn',
      `cluster: ${file} is unreadable (${toAirssysError(error).message}); addresses undeployed while this host was down keep running here until stopped`,
    );
    return [];
  }
}
