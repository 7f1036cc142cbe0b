// Replicated state (state-replication.ts): writes of a replicated component's live namespaces
// reach the cluster's bucket through the SQLite changelog, nothing else does, and a host that
// loads them gets the last value of every key.

import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateReplicator } from '../../src/cluster/state-replication.js';
import { SqliteKeyValueStore } from '../../src/osl/kv/sqlite-store.js';
import { type NatsServer, startNats } from '../support/nats-server.mjs';
import { tempDir } from '../support/temp.js';

const utf8 = new TextEncoder();
let nats: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url });
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

function write(
  store: SqliteKeyValueStore,
  ns: string,
  work: (n: ReturnType<SqliteKeyValueStore['namespace']>) => void,
) {
  store.beginTurn();
  work(store.namespace(ns));
  store.endTurn();
}

describe('cluster — replicated state', () => {
  it('ships the live namespaces of replicated components only, and loads the last value of each key', async () => {
    const path = join(tempDir('state'), 'kv.db');
    const store = new SqliteKeyValueStore({ path });
    const logs: string[] = [];
    const replicator = await StateReplicator.open(nc, 'state-a', path, (_level, m) => logs.push(m));
    try {
      replicator.replicate('ledger');
      write(store, 'ledger.counter', (ns) => {
        ns.set('n', utf8.encode('1'));
        ns.set('gone', utf8.encode('x'));
      });
      write(store, 'ledger.counter', (ns) => {
        ns.set('n', utf8.encode('2'));
        ns.delete('gone');
      });
      write(store, 'ledger.-snap1.counter', (ns) => ns.set('n', utf8.encode('snapshot'))); // a snapshot: not shipped
      write(store, 'other.counter', (ns) => ns.set('n', utf8.encode('not replicated')));
      await replicator.ship();
      expect(replicator.shipped).toBe(4); // two sets, one update, one delete
      const loaded = await replicator.load('ledger');
      expect(loaded.map((e) => [e.namespace, e.key, new TextDecoder().decode(e.value)])).toEqual([
        ['counter', 'n', '2'],
      ]);
      expect(await replicator.load('other')).toEqual([]);
      expect(logs).toEqual([]);
    } finally {
      await replicator.close();
      store.close();
    }
  });

  it('keeps changes on disk while NATS is unreachable and ships them once it answers', async () => {
    const server = await startNats();
    const conn = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const path = join(tempDir('state-outage'), 'kv.db');
    const store = new SqliteKeyValueStore({ path });
    const replicator = await StateReplicator.open(conn, 'state-b', path, () => {});
    try {
      replicator.replicate('ledger');
      const { port, dir } = server;
      await server.stop({ keepData: true });
      write(store, 'ledger.counter', (ns) => ns.set('n', utf8.encode('kept')));
      await replicator.ship(); // fails: no server
      expect(replicator.shipped).toBe(0);
      const again = await startNats({ port, dir });
      try {
        const end = Date.now() + 10_000;
        while (replicator.shipped === 0 && Date.now() < end) {
          await replicator.ship();
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(replicator.shipped).toBe(1);
        expect((await replicator.load('ledger')).length).toBe(1);
      } finally {
        await replicator.close();
        await conn.close();
        await again.stop();
      }
    } finally {
      store.close();
    }
  }, 30_000);
});
