// Key-value store benchmarks (osl/kv): SqliteKeyValueStore on a file in WAL mode, 16-byte keys
// and 64-byte values, 10,000 keys present. Targets: get ≤ 5 µs; set ≤ 20 µs amortised with group
// commit (turns). Autocommit and `synchronous = NORMAL` figures are given for scale, as are raw
// better-sqlite3 statements (what our rules, quota accounting and turns cost on top).
//
//   npx tsc -p tsconfig.build.json --outDir /tmp/kv-build
//   ln -sfn "$PWD/node_modules" /tmp/kv-build/node_modules   # better-sqlite3 must resolve from there
//   KV_DIST=/tmp/kv-build node bench/kv/kv.mjs [--json]
//
// KV_DIST defaults to ../../dist (the built package). Each figure is the median of ROUNDS rounds;
// a turn figure is the whole turn (beginTurn, the writes, endTurn with its commit) divided by
// its writes.

import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from '../support.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, process.env.KV_DIST ?? '../../dist');
const { SqliteKeyValueStore } = await import(pathToFileURL(join(dist, 'osl', 'kv', 'sqlite-store.js')).href);
const Database = createRequire(join(dist, 'osl', 'kv', 'sqlite-store.js'))('better-sqlite3');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const KEYS = 10_000;

const dir = mkdtempSync(join(tmpdir(), 'airssys-kv-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const key = (i) => `key-${String(i % 1e12).padStart(12, '0')}`; // 16 bytes
const value = new Uint8Array(64).fill(7);

/** Runs `body(round)` ROUNDS times after one warm-up; returns the median ns per operation. */
function measure(ops, body) {
  body(-1);
  const per = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    body(r);
    per.push(Number(process.hrtime.bigint() - t) / ops);
  }
  return median(per);
}

function open(synchronous) {
  const store = new SqliteKeyValueStore({ path: join(dir, `kv-${synchronous}.db`), synchronous });
  const ns = store.namespace('bench', { quotaBytes: 1 << 30, maxKeys: 10_000_000 });
  store.beginTurn();
  for (let i = 0; i < KEYS; i++) ns.set(key(i), value);
  store.endTurn();
  return { store, ns };
}

function turns(store, ns, size, count, write) {
  let next = 0;
  return measure(size * count, () => {
    for (let t = 0; t < count; t++) {
      store.beginTurn();
      for (let i = 0; i < size; i++) write(ns, next++);
      store.endTurn();
    }
  });
}

const results = [];
const report = (figure, ns, target) => results.push({ figure, ns, target });

for (const synchronous of ['full', 'normal']) {
  const { store, ns } = open(synchronous);
  const tag = `synchronous=${synchronous.toUpperCase()}`;
  if (synchronous === 'full') {
    let g = 0;
    report(
      'get (existing key), outside a turn',
      measure(50_000, () => {
        for (let i = 0; i < 50_000; i++) ns.get(key(g++ % KEYS));
      }),
      '≤ 5 µs',
    );
    report(
      'get inside a turn (100 gets per turn)',
      turns(store, ns, 100, 500, (n, i) => n.get(key(i % KEYS))),
      '≤ 5 µs',
    );
    report(
      'get (missing key)',
      measure(50_000, () => {
        for (let i = 0; i < 50_000; i++) ns.get(`nokey-${i}`);
      }),
    );
  }
  const autoOps = synchronous === 'full' ? 100 : 2000;
  let a = 0;
  report(
    `set, autocommit, ${tag}`,
    measure(autoOps, () => {
      for (let i = 0; i < autoOps; i++) ns.set(key(KEYS + (a++ % KEYS)), value);
    }),
  );
  const set = (n, i) => n.set(key(2 * KEYS + (i % KEYS)), value);
  report(`set in turns of 100, ${tag}`, turns(store, ns, 100, 20, set), '≤ 20 µs');
  report(`set in turns of 1000, ${tag}`, turns(store, ns, 1000, 5, set), '≤ 20 µs');
  const inc = (n, i) => n.increment(`ctr-${String(i % 100).padStart(12, '0')}`, 1n);
  report(`increment in turns of 100, ${tag}`, turns(store, ns, 100, 20, inc));
  report(`increment in turns of 1000, ${tag}`, turns(store, ns, 1000, 5, inc));
  if (synchronous === 'full') {
    report(
      'usage()',
      measure(50_000, () => {
        for (let i = 0; i < 50_000; i++) ns.usage();
      }),
    );
    report(
      'listPrefix, page of 100',
      measure(500, () => {
        for (let i = 0; i < 500; i++) ns.listPrefix('key-0000000', { limit: 100 });
      }),
    );
  }
  store.close();
}

// For scale: the same work with bare prepared statements, no validation, quota or turns.
{
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE kv (ns TEXT, key BLOB, value BLOB, PRIMARY KEY (ns, key)) WITHOUT ROWID');
  const put = db.prepare(
    'INSERT INTO kv VALUES (?, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value',
  );
  const get = db.prepare('SELECT value FROM kv WHERE ns = ? AND key = ?').pluck();
  const keys = Array.from({ length: KEYS }, (_, i) => Buffer.from(key(i)));
  db.transaction(() => {
    for (const k of keys) put.run('bench', k, value);
  })();
  let g = 0;
  report(
    'raw better-sqlite3: SELECT by (ns, key)',
    measure(50_000, () => {
      for (let i = 0; i < 50_000; i++) get.get('bench', keys[g++ % KEYS]);
    }),
  );
  const read = db.transaction((n) => {
    for (let i = 0; i < n; i++) get.get('bench', keys[g++ % KEYS]);
  });
  report(
    'raw better-sqlite3: SELECT, 100 per read transaction',
    measure(50_000, () => {
      for (let t = 0; t < 500; t++) read(100);
    }),
  );
  let p = 0;
  const batch = db.transaction((n) => {
    for (let i = 0; i < n; i++) put.run('bench', keys[p++ % KEYS], value);
  });
  report(
    'raw better-sqlite3: upsert, 100 per transaction, FULL',
    measure(2000, () => {
      for (let t = 0; t < 20; t++) batch(100);
    }),
  );
  db.close();
}

const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(2)} µs`);
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(results, null, 2));
} else {
  for (const r of results) console.log(`${r.figure.padEnd(48)} ${fmt(r.ns).padStart(10)}  ${r.target ?? ''}`);
}
