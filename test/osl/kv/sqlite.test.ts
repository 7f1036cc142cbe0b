/**
 * The SQLite key-value store: the shared contract, then what only a real database file can
 * show — durability across a reopen and a hard kill, and several connections (threads,
 * processes) sharing one file, its data and its quota accounting.
 */

import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SqliteKeyValueStore } from '../../../src/osl/kv/sqlite-store.js';
import { bundleModule } from '../../support/bundle.js';
import { tempDir } from '../../support/temp.js';
import { runKvContract } from './contract.js';

const dir = tempDir('kv-sqlite');
let files = 0;
const freshPath = () => join(dir, `kv-${++files}.db`);
const b = (text: string) => new TextEncoder().encode(text);
let built: Promise<string> | undefined;
const bundle = () => (built ??= bundleModule('osl/kv/sqlite-store.ts', tempDir('kv-bundle')));

// Note: the contract checks semantics, not durability; `normal` spares it an fsync per write.
runKvContract('SqliteKeyValueStore', {
  open: () => new SqliteKeyValueStore({ path: freshPath(), synchronous: 'normal' }),
});

describe('SqliteKeyValueStore — durability', () => {
  it('storage — committed writes survive closing and reopening; an open turn does not', () => {
    const path = freshPath();
    const first = new SqliteKeyValueStore({ path });
    const ns = first.namespace('app');
    ns.set('a', b('1'));
    first.beginTurn();
    ns.increment('n', 41n);
    ns.set('é', new Uint8Array(100));
    first.endTurn();
    first.beginTurn();
    ns.set('uncommitted', b('x'));
    ns.delete('a');
    first.close();

    const second = new SqliteKeyValueStore({ path });
    const again = second.namespace('app');
    expect(again.get('a')).toEqual(b('1'));
    expect(again.increment('n', 1n)).toBe(42n);
    expect(again.get('uncommitted')).toBeUndefined();
    expect(again.listPrefix('').keys).toEqual(['a', 'n', 'é']);
    expect(again.usage()).toEqual({ bytes: 2 + 9 + 102, keys: 3 });
    second.close();
  });

  it('storage — committed writes survive a SIGKILL; the turn in flight leaves nothing', async () => {
    const url = await bundle();
    const path = freshPath();
    const script = `
      const { SqliteKeyValueStore } = await import(process.env.KV_BUNDLE);
      const store = new SqliteKeyValueStore({ path: process.env.KV_PATH });
      const ns = store.namespace('app', { quotaBytes: 64 * 1024 * 1024 });
      ns.set('autocommit', new Uint8Array([1]));
      store.beginTurn();
      for (let i = 0; i < 100; i++) ns.set('turn/' + i, new Uint8Array(100).fill(i));
      ns.increment('count', 100n);
      store.endTurn();
      // More than SQLite's page cache holds: uncommitted pages spill into the WAL file.
      store.beginTurn();
      for (let i = 0; i < 4000; i++) ns.set('partial/' + i, new Uint8Array(1024).fill(7));
      ns.delete('autocommit');
      ns.increment('count', 1n);
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, KV_BUNDLE: url, KV_PATH: path },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child.on('exit', () => reject(new Error(`child exited early: ${stderr}`)));
    });
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(1024 * 1024);
    process.kill(child.pid!, 'SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const store = new SqliteKeyValueStore({ path });
    const ns = store.namespace('app', { quotaBytes: 64 * 1024 * 1024 });
    expect(ns.get('autocommit')).toEqual(new Uint8Array([1]));
    expect(ns.get('turn/99')).toEqual(new Uint8Array(100).fill(99));
    expect(ns.increment('count', 0n)).toBe(100n);
    expect(ns.listPrefix('partial/').keys).toEqual([]);
    expect(ns.listPrefix('', { limit: 1000 }).keys).toHaveLength(102);
    const turnBytes = Array.from({ length: 100 }, (_, i) => `turn/${i}`.length + 100).reduce((x, y) => x + y);
    expect(ns.usage()).toEqual({
      bytes: 'autocommit'.length + 1 + turnBytes + 'count'.length + 8,
      keys: 102,
    });
    store.close();
  });
});

describe('SqliteKeyValueStore — several connections on one file', () => {
  it('storage — two connections see each other’s commits and share the quota', () => {
    const path = freshPath();
    const one = new SqliteKeyValueStore({ path });
    const two = new SqliteKeyValueStore({ path });
    const a = one.namespace('app', { quotaBytes: 100 });
    const a2 = two.namespace('app', { quotaBytes: 100 });
    a.set('x', new Uint8Array(59)); // 60
    expect(a2.get('x')).toEqual(new Uint8Array(59));
    expect(a2.usage()).toEqual({ bytes: 60, keys: 1 });
    expect(() => a2.set('y', new Uint8Array(50))).toThrow(
      expect.objectContaining({ code: 'quota-exceeded' }),
    );
    a2.set('y', new Uint8Array(39)); // 100
    expect(a.usage()).toEqual({ bytes: 100, keys: 2 });
    expect(() => a.increment('z', 1n)).toThrow(expect.objectContaining({ code: 'quota-exceeded' }));
    expect(a2.delete('x')).toBe(true);
    a.set('z', new Uint8Array(50));
    expect(a2.usage()).toEqual({ bytes: 91, keys: 2 });
    expect(a2.listPrefix('').keys).toEqual(['y', 'z']);
    one.close();
    two.close();
  });

  it('storage — a reader does not wait for another connection’s open turn; a writer waits, then fails clearly', () => {
    const path = freshPath();
    const one = new SqliteKeyValueStore({ path });
    const two = new SqliteKeyValueStore({ path, busyTimeoutMs: 50 });
    const a = one.namespace('app');
    const a2 = two.namespace('app');
    a.set('k', b('old'));
    one.beginTurn();
    a.set('k', b('new'));
    expect(a2.get('k')).toEqual(b('old'));
    const started = Date.now();
    let error: { code?: string; message?: string } = {};
    try {
      a2.set('other', b('1'));
    } catch (e) {
      error = e as typeof error;
    }
    expect(error.code).toBe('storage-error');
    expect(error.message).toMatch(/busyTimeoutMs/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    one.endTurn();
    expect(a2.get('k')).toEqual(b('new'));
    a2.set('other', b('1'));
    expect(a.get('other')).toEqual(b('1'));
    one.close();
    two.close();
  });

  it('storage — a turn reads one snapshot until its first write, and writes on the latest commit', () => {
    const path = freshPath();
    const one = new SqliteKeyValueStore({ path });
    const two = new SqliteKeyValueStore({ path, busyTimeoutMs: 50 });
    const a = one.namespace('app');
    const a2 = two.namespace('app');
    a.set('k', b('old'));
    one.beginTurn();
    expect(a.get('k')).toEqual(b('old'));
    a2.set('k', b('new')); // a reader's snapshot does not block a writer
    a2.increment('n', 1n);
    expect(a.get('k')).toEqual(b('old'));
    expect(a.increment('n', 1n)).toBe(2n);
    expect(a.get('k')).toEqual(b('new'));
    one.endTurn();
    expect(a2.increment('n', 0n)).toBe(2n);
    one.close();
    two.close();
  });

  it('storage — worker threads incrementing one counter through their own connections lose nothing', async () => {
    const url = await bundle();
    const path = freshPath();
    new SqliteKeyValueStore({ path }).close(); // the schema exists before the race starts
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.bundle).then(({ SqliteKeyValueStore }) => {
        const store = new SqliteKeyValueStore({ path: workerData.path });
        const ns = store.namespace('shared');
        for (let t = 0; t < 20; t++) {
          store.beginTurn();
          for (let i = 0; i < 10; i++) ns.increment('hits', 1n);
          ns.set('worker-' + workerData.id + '/' + t, new Uint8Array(4));
          store.endTurn();
          ns.increment('hits', 1n);
        }
        store.close();
        parentPort.postMessage('done');
      });
    `;
    const run = (id: number) =>
      new Promise<void>((resolve, reject) => {
        const worker = new Worker(code, { eval: true, workerData: { bundle: url, path, id } });
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
    await Promise.all([run(1), run(2), run(3)]);
    const store = new SqliteKeyValueStore({ path });
    const ns = store.namespace('shared');
    expect(ns.increment('hits', 0n)).toBe(3n * 20n * 11n);
    const keys = ns.listPrefix('worker-', { limit: 1000 }).keys;
    expect(keys).toHaveLength(60);
    const bytes = keys.reduce((sum, k) => sum + k.length + 4, 'hits'.length + 8);
    expect(ns.usage()).toEqual({ bytes, keys: 61 });
    store.close();
  });
});
