/**
 * The reconciler: applies a deployment's commands to a running host until its strategy says it
 * is done or failed. All decisions are the strategy's (`plan`, pure); this file only observes
 * the host, carries out commands, remembers what the strategy asked it to remember, and stores
 * the deployment after every batch so a restart finds it where it was.
 *
 * One deployment per address at a time: a second `deploy` of an address that is being deployed
 * is refused at once, so concurrent deploys resolve to one winner.
 */

import type { ComponentHost } from '../host/host.js';
import { versionId } from '../host/host.js';
import { AirssysError } from '../shared/errors.js';
import type { Component } from '../wasm/engine/engine.js';
import type { DeploymentRecord, DeploymentStore } from './deployment-store.js';
import { plan } from './strategies/index.js';
import type { Command, Desired, Observed, StrategySpec, VersionObservation } from './strategies/types.js';

export interface DeployRequest {
  address: string;
  /** The new version, compiled. */
  component: Component;
  strategy: StrategySpec;
  /** Instances of the new version (default: as many as the serving version has, or 1). */
  instances?: number;
}

export interface DeploymentOutcome {
  readonly id: string;
  readonly status: 'done' | 'failed';
  /** The strategy's summary (done) or reason (failed). */
  readonly message: string;
  /** Failed deployments: whether the previous version serves as before. */
  readonly rolledBack: boolean;
  readonly record: DeploymentRecord;
}

export interface ReconcilerOptions {
  store: DeploymentStore;
  /** Longest sleep between observations while the strategy waits (default 20 ms). */
  pollMs?: number;
  /** The clock strategies see (default `Date.now`). */
  clock?: () => number;
  /** Each applied command, for logs and event streams. */
  onCommand?: (deployment: string, command: Command, error?: string) => void;
}

/** What the strategies asked the reconciler to remember, beside the host's own state. */
interface Memory {
  healthy: Record<string, boolean>;
  migrated: Record<string, boolean>;
}

export class Reconciler {
  private readonly active = new Map<string, string>();
  private readonly store: DeploymentStore;
  private readonly pollMs: number;
  private readonly clock: () => number;

  constructor(
    private readonly host: ComponentHost,
    private readonly options: ReconcilerOptions,
  ) {
    this.store = options.store;
    this.pollMs = options.pollMs ?? 20;
    this.clock = options.clock ?? Date.now;
  }

  /** Runs a deployment to its end. Resolves with the outcome; a failed deployment is an outcome, not an error. */
  async deploy(request: DeployRequest): Promise<DeploymentOutcome> {
    const { address, component } = request;
    const running = this.active.get(address);
    if (running !== undefined) {
      throw new AirssysError(
        'invalid-argument',
        `a deployment of ${address} is in progress (${running}); wait for it to end, then deploy again`,
        { details: { address, deployment: running } },
      );
    }
    const id = this.store.nextId(address);
    this.active.set(address, id);
    try {
      const serving = this.host.addresses().includes(address) ? await this.host.versions(address) : [];
      const from = serving.find((v) => v.weight > 0) ?? serving[0];
      const toVersion = versionId(component);
      if (from?.version === toVersion) {
        throw new AirssysError(
          'invalid-argument',
          `${address} already serves this version (${toVersion.slice(0, 12)})`,
        );
      }
      const desired: Desired = {
        address,
        fromVersion: from?.version,
        toVersion,
        instances: request.instances ?? from?.instances ?? 1,
        strategy: request.strategy,
        startedAt: this.clock(),
      };
      // Validates the strategy before anything changes (throws invalid-argument).
      plan(desired, { now: desired.startedAt, versions: [] });
      const components: Record<string, Component> = { [toVersion]: component };
      if (from !== undefined) components[from.version] = this.host.componentOf(address, from.version);
      const record: DeploymentRecord = {
        id,
        address,
        desired,
        fromSemver: from?.semver,
        toSemver: component.manifest.component.version,
        status: 'running',
        memory: {},
        history: [],
        updatedAt: this.clock(),
      };
      this.store.save(record);
      return await this.run(record, components);
    } finally {
      this.active.delete(address);
    }
  }

  private async run(
    record: DeploymentRecord,
    components: Record<string, Component>,
  ): Promise<DeploymentOutcome> {
    const { desired } = record;
    const memory: Memory = { healthy: {}, migrated: {} };
    if (desired.fromVersion !== undefined) memory.migrated[desired.fromVersion] = true;
    for (;;) {
      const observed = await this.observe(record, memory);
      const batch = plan(desired, observed);
      let error: string | undefined;
      for (const command of batch) {
        try {
          const end = await this.apply(record, command, components, memory);
          record.history.push({ at: this.clock(), op: command.op, detail: describe(command) });
          this.options.onCommand?.(record.id, command);
          if (end !== undefined) return end;
        } catch (failure) {
          error = failure instanceof Error ? failure.message : String(failure);
          record.history.push({ at: this.clock(), op: command.op, detail: describe(command), error });
          this.options.onCommand?.(record.id, command, error);
          break;
        }
      }
      record.memory.error = error;
      record.updatedAt = this.clock();
      this.store.save(record);
    }
  }

  private async observe(record: DeploymentRecord, memory: Memory): Promise<Observed> {
    const { address } = record.desired;
    const versions: VersionObservation[] = [];
    if (this.host.addresses().includes(address)) {
      for (const v of await this.host.versions(address)) {
        const stats = { handled: 0, errors: 0, crashes: 0 };
        for (const s of v.stats) {
          // The strategies count a crash as a handled message that failed.
          stats.handled += s.handled + s.crashes;
          stats.errors += s.errors;
          stats.crashes += s.crashes;
        }
        versions.push({
          version: v.version,
          running: true,
          healthy: memory.healthy[v.version],
          migrated: memory.migrated[v.version],
          weight: v.weight,
          shadow: v.shadow,
          inflight: this.host.inflight(address, v.version),
          stats,
        });
      }
    }
    const { stepIndex, stepStartedAt, error, aborted, snapshot } = record.memory;
    return { now: this.clock(), versions, stepIndex, stepStartedAt, error, aborted, snapshot };
  }

  /** Applies one command; returns the outcome when the command ends the deployment. */
  private async apply(
    record: DeploymentRecord,
    command: Command,
    components: Record<string, Component>,
    memory: Memory,
  ): Promise<DeploymentOutcome | undefined> {
    const { address, fromVersion } = record.desired;
    const component = (version: string): Component => {
      const found = components[version];
      if (found === undefined)
        throw new AirssysError('not-found', `version ${version} is not known to this deployment`);
      return found;
    };
    // The storage of the version the deployment started from: what a rollback must give back.
    const baseline = component(fromVersion ?? record.desired.toVersion);
    switch (command.op) {
      case 'start':
        delete memory.healthy[command.version];
        delete memory.migrated[command.version];
        await this.host.startVersion(address, component(command.version), command.instances, {
          shadow: record.desired.strategy.kind === 'shadow' && command.version === record.desired.toVersion,
        });
        return;
      case 'migrate': {
        if (record.memory.snapshot === undefined) {
          this.host.snapshotStorage(baseline, record.id);
          record.memory.snapshot = 'taken';
          this.store.save(record);
        }
        const from = component(command.fromVersion).manifest.component.version;
        await this.host.migrate(address, command.version, from);
        memory.migrated[command.version] = true;
        return;
      }
      case 'probe':
        try {
          memory.healthy[command.version] =
            (await this.host.health(address, { version: command.version })) === 'healthy';
        } catch {
          memory.healthy[command.version] = false;
        }
        return;
      case 'route': {
        const weights: Record<string, number> = {};
        for (const v of await this.host.versions(address))
          weights[v.version] = command.weights[v.version] ?? 0;
        await this.host.setWeights(address, weights, command.shadow);
        record.memory.routed = weights;
        this.store.save(record);
        return;
      }
      case 'drain':
        await this.host.drain(address, command.version);
        return;
      case 'stop':
        await this.host.stopVersion(address, command.version);
        return;
      case 'restore':
        this.host.restoreStorage(baseline, record.id);
        record.memory.snapshot = 'restored';
        return;
      case 'step':
        record.memory.stepIndex = command.index;
        record.memory.stepStartedAt = this.clock();
        return;
      case 'abort':
        record.memory.aborted = command.reason;
        return;
      case 'wait': {
        const ms = Math.max(0, Math.min(this.pollMs, command.untilMs - this.clock()));
        await new Promise((resolve) => setTimeout(resolve, ms));
        return;
      }
      case 'done':
      case 'failed': {
        if (record.memory.snapshot !== undefined) this.host.dropSnapshot(baseline, record.id);
        record.status = command.op;
        record.message = command.op === 'done' ? command.summary : command.reason;
        record.rolledBack = command.op === 'failed' ? command.rolledBack : false;
        record.updatedAt = this.clock();
        this.store.save(record);
        return {
          id: record.id,
          status: command.op,
          message: record.message,
          rolledBack: record.rolledBack,
          record,
        };
      }
    }
  }
}

function describe(command: Command): string {
  switch (command.op) {
    case 'route':
      return Object.entries(command.weights)
        .map(([v, w]) => `${v.slice(0, 12)}=${w}%`)
        .join(' ');
    case 'start':
    case 'probe':
    case 'drain':
    case 'stop':
      return command.version.slice(0, 12);
    case 'migrate':
      return `${command.version.slice(0, 12)} from ${command.fromVersion.slice(0, 12)}`;
    case 'step':
      return `step ${command.index}`;
    case 'wait':
      return command.why;
    case 'restore':
    case 'abort':
    case 'failed':
      return command.reason;
    case 'done':
      return command.summary;
  }
}
