/**
 * Replicated state for cluster deployments declared with `state: 'replicated'` (one instance):
 * every committed write to the component's live namespaces is shipped to a JetStream key-value
 * bucket (`airssys-<cluster>-state`), and when the instance starts on another host — a failover
 * or a move — the host first loads the component's namespaces from the bucket.
 *
 * Why a changelog and not a JetStream `KeyValueStore` backend: a component's storage calls are
 * synchronous (they return inside its handler, and a turn's writes commit together, fsynced,
 * before any reply leaves), while JetStream is reached asynchronously; Node 20 cannot suspend a
 * guest on a promise. So the host's SQLite store stays the store of record, and SQLite triggers
 * copy each write of a replicated component into `kv_changes` inside the same transaction — on
 * whichever scheduler thread made it. The host's main thread ships that table every
 * `SHIP_MS` and deletes what JetStream acknowledged.
 *
 * What can be lost: writes committed on a host in the last moments before it dies, not yet
 * shipped (at most `SHIP_MS` plus a JetStream round trip; the failover test measures it). While
 * the NATS server is unreachable, changes wait in `kv_changes` on disk.
 */

import type { KV } from '@nats-io/kv';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import Database from 'better-sqlite3';
import { AirssysError, toAirssysError } from '../shared/errors.js';
import { within } from './within.js';

/** How often the changelog is shipped (ms). */
export const SHIP_MS = 20;
const BATCH = 1000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS kv_replicated (component TEXT PRIMARY KEY) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS kv_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ns TEXT NOT NULL,
    key BLOB NOT NULL,
    value BLOB
  );
`;

/** A live namespace of a replicated component: `<component>.<namespace>`, not a snapshot (`.-`). */
const REPLICATED = (row: 'new' | 'old') =>
  `EXISTS (SELECT 1 FROM kv_replicated r WHERE substr(${row}.ns, 1, length(r.component) + 1) = r.component || '.'
     AND substr(${row}.ns, length(r.component) + 2, 1) <> '-')`;

const TRIGGERS = `
  CREATE TRIGGER IF NOT EXISTS kv_replicate_insert AFTER INSERT ON kv WHEN ${REPLICATED('new')}
  BEGIN INSERT INTO kv_changes (ns, key, value) VALUES (new.ns, new.key, new.value); END;
  CREATE TRIGGER IF NOT EXISTS kv_replicate_update AFTER UPDATE ON kv WHEN ${REPLICATED('new')}
  BEGIN INSERT INTO kv_changes (ns, key, value) VALUES (new.ns, new.key, new.value); END;
  CREATE TRIGGER IF NOT EXISTS kv_replicate_delete AFTER DELETE ON kv WHEN ${REPLICATED('old')}
  BEGIN INSERT INTO kv_changes (ns, key, value) VALUES (old.ns, old.key, NULL); END;
`;

const utf8 = new TextDecoder();
const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');

/** The bucket key of one stored key: each part base64url, so any namespace or key is a valid token. */
function bucketKey(component: string, namespace: string, key: Uint8Array): string {
  return `c${b64(component)}.n${b64(namespace)}.k${b64(key)}`;
}

export interface ReplicatedEntry {
  readonly namespace: string;
  readonly key: string;
  readonly value: Uint8Array;
}

export class StateReplicator {
  private timer: ReturnType<typeof setInterval> | undefined;
  private shipping = false;
  /** Changes shipped since the start (for status and tests). */
  shipped = 0;

  private constructor(
    private readonly db: Database.Database,
    private readonly bucket: KV,
    private readonly log: (level: 'warn' | 'error', message: string) => void,
  ) {}

  /** Opens the bucket and installs the changelog triggers in the host's store (`<dataDir>/kv.db`). */
  static async open(
    nc: NatsConnection,
    cluster: string,
    storePath: string,
    log: (level: 'warn' | 'error', message: string) => void,
  ): Promise<StateReplicator> {
    const bucket = await new Kvm(nc).create(`airssys-${cluster}-state`, { history: 1 });
    const db = new Database(storePath);
    try {
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
      db.exec(TRIGGERS);
    } catch (error) {
      db.close();
      throw new AirssysError(
        'storage-error',
        `${storePath}: cannot set up state replication: ${toAirssysError(error).message}`,
        {
          cause: error,
        },
      );
    }
    return new StateReplicator(db, bucket, log);
  }

  start(): void {
    this.timer = setInterval(() => void this.ship(), SHIP_MS);
    this.timer.unref();
  }

  /** From now on, the component's committed writes are shipped. */
  replicate(component: string): void {
    this.db.prepare('INSERT OR IGNORE INTO kv_replicated (component) VALUES (?)').run(component);
  }

  /** The component's replicated entries, as the cluster last received them. */
  async load(component: string): Promise<ReplicatedEntry[]> {
    const entries: ReplicatedEntry[] = [];
    const keys: string[] = [];
    for await (const key of await this.bucket.keys(`c${b64(component)}.>`)) keys.push(key);
    for (const key of keys) {
      const entry = await this.bucket.get(key);
      if (entry === null || entry.operation !== 'PUT') continue;
      const [, ns, k] = key.split('.');
      entries.push({
        namespace: utf8.decode(Buffer.from(ns.slice(1), 'base64url')),
        key: utf8.decode(Buffer.from(k.slice(1), 'base64url')),
        value: entry.value,
      });
    }
    return entries;
  }

  /** Ships every change recorded so far (also what the timer does). */
  async ship(): Promise<void> {
    if (this.shipping) return;
    this.shipping = true;
    try {
      for (;;) {
        const rows = this.db
          .prepare('SELECT seq, ns, key, value FROM kv_changes ORDER BY seq LIMIT ?')
          .all(BATCH) as { seq: number; ns: string; key: Buffer; value: Buffer | null }[];
        if (rows.length === 0) return;
        // Publishes leave in order on one connection, so the last write of a key wins.
        await Promise.all(
          rows.map((row) => {
            const at = row.ns.indexOf('.');
            const key = bucketKey(row.ns.slice(0, at), row.ns.slice(at + 1), row.key);
            return row.value === null ? this.bucket.delete(key) : this.bucket.put(key, row.value);
          }),
        );
        this.db.prepare('DELETE FROM kv_changes WHERE seq <= ?').run(rows[rows.length - 1].seq);
        this.shipped += rows.length;
      }
    } catch (error) {
      // Kept in kv_changes: shipped on a later tick, once NATS answers again.
      this.log('warn', `cluster: state not shipped yet: ${toAirssysError(error).message}`);
    } finally {
      this.shipping = false;
    }
  }

  /** Ships what it can in 2 s; the rest stays in `kv_changes` for the next start. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await within(this.ship(), 2000);
    this.db.close();
  }
}
