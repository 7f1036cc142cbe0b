/**
 * What the cluster should run, shared by every host: one record per address in a JetStream
 * key-value bucket (`airssys-<cluster>-deployments`) and the component binaries in a JetStream
 * object store (`airssys-<cluster>-artifacts`, one object per binary sha256). Any host may write
 * a deployment; every host watches the bucket and places its share (agent.ts).
 *
 * A binary fetched from the object store is checked against its sha256 and installed into the
 * host's own registry, where the host's trust policy judges its signature like any install.
 */

import { createHash } from 'node:crypto';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { type ObjectStore, Objm } from '@nats-io/obj';
import { AirssysError, toAirssysError } from '../shared/errors.js';
import type { PlacementRequest } from './placement.js';

export type RolloutKind = 'rolling' | 'blue-green' | 'canary';

export const ROLLOUT_KINDS: readonly RolloutKind[] = ['rolling', 'blue-green', 'canary'];

export interface ClusterDeployment extends PlacementRequest {
  /** Component name and semver of the version to run. */
  readonly component: string;
  readonly version: string;
  /** sha256 of the binary (hex): the object's name in the artifact store. */
  readonly hash: string;
  readonly manifestText: string;
  readonly signature?: string;
  /**
   * How hosts move to a new version; each host switches with a local blue-green (start, probe,
   * migrate, switch, drain). `rolling` (default): one host after the other, the next once the
   * previous reports the new version. `blue-green`: every host at once. `canary`: the first host
   * in the rollout order switches alone; the others follow (all at once) after it has served
   * the new version for `bakeMs`; if its switch fails, the others never move.
   */
  readonly rollout: RolloutKind;
  /**
   * `per-host` (default): each host keeps the component's storage in its own store, so an
   * instance restarted elsewhere starts with that host's. `replicated` (one instance only): the
   * component's writes are shipped to the cluster and loaded where it starts next
   * (state-replication.ts).
   */
  readonly state?: 'per-host' | 'replicated';
  /** Canary only: milliseconds the first host serves the new version before the others follow (default 10,000). */
  readonly bakeMs?: number;
  readonly updatedAt: number;
}

export class ClusterDeployments {
  private readonly current = new Map<string, ClusterDeployment>();
  private stopped = false;
  /** True once the records stored before `watch` was called have all been read. */
  loaded = false;

  private constructor(
    private readonly kv: KV,
    private readonly artifacts: ObjectStore,
  ) {}

  /** Opens (creating when absent) the cluster's bucket and object store. Needs JetStream on the server. */
  static async open(nc: NatsConnection, cluster: string): Promise<ClusterDeployments> {
    try {
      const kv = await new Kvm(nc).create(`airssys-${cluster}-deployments`, { history: 5 });
      const artifacts = await new Objm(nc).create(`airssys-${cluster}-artifacts`);
      return new ClusterDeployments(kv, artifacts);
    } catch (error) {
      throw new AirssysError(
        'messaging-error',
        `cluster ${cluster}: cannot open the shared deployment store (${toAirssysError(error).message}); the NATS server must run with JetStream (nats-server -js)`,
        { cause: error },
      );
    }
  }

  /** Follows the bucket; `onChange` runs after every change (and once the initial records are in). */
  async watch(onChange: () => void): Promise<void> {
    const entries = await this.kv.watch();
    let initial = true;
    void (async () => {
      for await (const entry of entries) {
        if (this.stopped) break;
        if (entry.operation === 'PUT') this.current.set(entry.key, entry.json<ClusterDeployment>());
        else this.current.delete(entry.key);
        if (!initial || entry.delta === 0) {
          initial = false;
          this.loaded = true;
          onChange();
        }
      }
    })();
    // An empty bucket has no first entry to end the initial replay.
    if ((await this.kv.status()).values === 0) {
      this.loaded = true;
      onChange();
    }
    this.stopIterator = () => entries.stop();
  }

  list(): ClusterDeployment[] {
    return [...this.current.values()].sort((a, b) => (a.address < b.address ? -1 : 1));
  }

  /** The stored record, read from the bucket (not the watched copy, which may lag a write just made). */
  async fetch(address: string): Promise<ClusterDeployment | undefined> {
    const entry = await this.kv.get(address);
    return entry?.operation === 'PUT' ? entry.json<ClusterDeployment>() : undefined;
  }

  /** Stores the binary (once per hash) and the deployment record. */
  async put(deployment: ClusterDeployment, binary: Uint8Array): Promise<void> {
    if ((await this.artifacts.info(deployment.hash)) === null) {
      await this.artifacts.putBlob({ name: deployment.hash }, binary);
    }
    await this.kv.put(deployment.address, JSON.stringify(deployment));
  }

  async remove(address: string): Promise<void> {
    if ((await this.fetch(address)) === undefined) {
      throw new AirssysError('not-found', `the cluster has no deployment at ${address}`, {
        details: { address },
      });
    }
    await this.kv.delete(address);
  }

  /** The binary with sha256 `hash`; `not-found` when absent, `invalid-component` when it does not hash right. */
  async binary(hash: string): Promise<Uint8Array> {
    const bytes = await this.artifacts.getBlob(hash);
    if (bytes === null) {
      throw new AirssysError('not-found', `the cluster's artifact store has no binary ${hash}`, {
        details: { hash },
      });
    }
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== hash) {
      throw new AirssysError('invalid-component', `artifact ${hash} hashes to ${actual}: refusing it`, {
        details: { hash, actual },
      });
    }
    return bytes;
  }

  close(): void {
    this.stopped = true;
    this.stopIterator?.();
  }

  private stopIterator: (() => void) | undefined;
}
