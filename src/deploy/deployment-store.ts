/**
 * Deployments as data: each deployment's desired state, what the reconciler remembered for its
 * strategy, its history and its end, kept in `deployments.json` in the host's data directory (or
 * in memory). The file is replaced atomically (written beside, fsynced, renamed) after every
 * batch of commands, so a host killed at any moment finds either the previous state or the new
 * one, never half of one.
 */

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AirssysError } from '../shared/errors.js';
import type { Desired } from './strategies/types.js';

export interface DeploymentRecord {
  readonly id: string;
  readonly address: string;
  readonly desired: Desired;
  readonly fromSemver: string | undefined;
  readonly toSemver: string;
  status: 'running' | 'done' | 'failed';
  /** The strategy's memory (`Observed` fields the reconciler keeps between calls). */
  memory: {
    stepIndex?: number;
    stepStartedAt?: number;
    error?: string;
    aborted?: string;
    snapshot?: 'taken' | 'restored';
    /** The weights of the last `route` applied: recovery finishes a deployment forward once the new version had 100 %. */
    routed?: Record<string, number>;
  };
  history: { at: number; op: string; detail: string; error?: string }[];
  message?: string;
  rolledBack?: boolean;
  updatedAt: number;
}

/** Histories are cut to their last entries: a canary waiting for minutes polls often. */
const MAX_HISTORY = 200;

export class DeploymentStore {
  private readonly records = new Map<string, DeploymentRecord>();
  private readonly file: string | undefined;
  private counter = 0;
  /** Addresses an operator stopped: a restart must not bring them back. */
  private readonly stopped = new Set<string>();

  /** `dataDir` undefined: in memory only. */
  constructor(dataDir?: string) {
    this.file = dataDir === undefined ? undefined : join(dataDir, 'deployments.json');
    if (this.file === undefined) return;
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new AirssysError('storage-error', `cannot read ${this.file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    try {
      const doc = JSON.parse(text) as {
        counter: number;
        deployments: DeploymentRecord[];
        stopped?: string[];
      };
      this.counter = doc.counter;
      for (const address of doc.stopped ?? []) this.stopped.add(address);
      for (const record of doc.deployments) this.records.set(record.id, record);
    } catch (error) {
      throw new AirssysError(
        'storage-error',
        `${this.file} is not a valid deployments file (${(error as Error).message}); restore it from a backup or move it away`,
        { cause: error },
      );
    }
  }

  nextId(address: string): string {
    this.counter++;
    return `${address}-${this.counter}`;
  }

  get(id: string): DeploymentRecord | undefined {
    return this.records.get(id);
  }

  /** Deployments, newest first; of one address when given. */
  list(address?: string): DeploymentRecord[] {
    return [...this.records.values()].filter((r) => address === undefined || r.address === address).reverse();
  }

  /** Deployments that were still running when the host stopped. */
  unfinished(): DeploymentRecord[] {
    return this.list().filter((r) => r.status === 'running');
  }

  /** Records that an address was stopped on purpose (or, `false`, deployed again). */
  markStopped(address: string, stopped: boolean): void {
    if (stopped === this.stopped.has(address)) return;
    if (stopped) this.stopped.add(address);
    else this.stopped.delete(address);
    this.flush();
  }

  isStopped(address: string): boolean {
    return this.stopped.has(address);
  }

  save(record: DeploymentRecord): void {
    if (record.history.length > MAX_HISTORY) record.history.splice(0, record.history.length - MAX_HISTORY);
    // JSON round trip: what is stored is a snapshot, not a live object the reconciler mutates.
    this.records.set(record.id, JSON.parse(JSON.stringify(record)));
    this.flush();
  }

  private flush(): void {
    if (this.file === undefined) return;
    const text = JSON.stringify({
      counter: this.counter,
      deployments: [...this.records.values()],
      stopped: [...this.stopped],
    });
    const tmp = `${this.file}.tmp`;
    try {
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file);
    } catch (error) {
      throw new AirssysError('storage-error', `cannot write ${this.file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}
