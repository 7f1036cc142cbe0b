// Component actor benchmarks (issue #4): messages between real components (the C `stage`
// fixture relaying a 64-byte payload), latency, spawn, memory per actor, 10,000 actors, and
// storage through a component. Medians of ROUNDS rounds.
//
//   npm run build && npm run fixtures && node bench/host/host.mjs [--json]
//
// Re-runs itself with --expose-gc (memory figures need a forced GC).

import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine, machineInfo, median, withExposedGc } from '../support.mjs';

withExposedGc(import.meta.url);

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const dist = resolve(here, process.env.HOST_DIST ?? '../../dist');
const { ComponentHost } = await import(pathToFileURL(join(dist, 'host', 'index.js')).href);
const { Engine, parseManifest } = await import(pathToFileURL(join(dist, 'index.js')).href);
const { ActorSystem } = await import(pathToFileURL(join(dist, 'rt', 'index.js')).href);

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const asJson = process.argv.includes('--json');
const only = process.argv.filter((a) => !a.startsWith('--')).slice(2);
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const gc = () => {
  globalThis.gc();
  globalThis.gc();
};
const settle = () => new Promise((r) => setTimeout(r, 20));
const engine = new Engine();
const fixtureDir = (name) => join(root, 'fixtures', 'build', name);
const temps = [];
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'airssys-bench-host-'));
  temps.push(d);
  return d;
};

/** The `stage` component under another name and config (the binary is compiled once, cached). */
const stageBytes = await readFile(join(fixtureDir('stage'), 'component.wasm'));
function stage(name, config = {}) {
  const text = [
    '[component]',
    `name = "${name}"`,
    'version = "0.1.0"',
    'wasm = "component.wasm"',
    '[resources]',
    'memory = "1MiB"',
    'mailbox = 4096',
    '[permissions]',
    'messaging = { send = [">"] }',
    '[config]',
    ...Object.entries(config).map(([k, v]) => `${k} = "${v}"`),
  ].join('\n');
  return engine.compile(stageBytes, parseManifest(text, { baseDir: fixtureDir('stage') }));
}

// What the instrumented module imports besides the component's own imports (echo has none).
const RAW_IMPORTS = { 'airssys:instrument': { 'out-of-fuel': () => 0n, 'grow-failed': () => {} } };

function hopsPayload(hops) {
  const p = new Uint8Array(64);
  p.set([72, 79, 80, 83]); // "HOPS"
  new DataView(p.buffer).setUint32(4, hops, true);
  return p;
}

const results = {};
const record = (name, value, unit, note) => {
  results[name] = { value, unit, note };
  if (!asJson)
    console.log(`${name.padEnd(58)} ${String(value).padStart(12)} ${unit}${note ? `  (${note})` : ''}`);
};
const want = (name) => only.length === 0 || only.some((o) => name.includes(o));

// ---------------------------------------------------------------------------------------------
// throughput: rings of two stages relaying HOPS messages; `inflight` messages per ring at once

async function ringThroughput({ threads, rings, crossThread, inflight, hops }) {
  const host = await ComponentHost.create({ threads, dataDir: threads > 0 ? dataDir() : undefined });
  try {
    // Placement is round-robin over threads in start order; order the starts so each ring sits
    // on one thread (or, crossThread, spans two).
    const names = [];
    for (let r = 0; r < rings; r++) names.push([`ring${r}-a`, `ring${r}-b`]);
    const order = crossThread ? names.flat() : [...names.map((n) => n[0]), ...names.map((n) => n[1])];
    for (const name of order) {
      const r = name.slice(4, name.indexOf('-'));
      const peer = name.endsWith('-a') ? `ring${r}-b` : `ring${r}-a`;
      await host.start(stage(name, { next: peer }));
    }
    let done = 0;
    let resolveAll;
    const all = new Promise((r) => {
      resolveAll = r;
    });
    const total = rings * inflight;
    const unsubscribe = host.subscribe('bench.done', () => {
      if (++done === total) resolveAll();
    });
    await settle();
    const started = performance.now();
    for (let r = 0; r < rings; r++)
      for (let i = 0; i < inflight; i++) host.send(`ring${r}-a`, hopsPayload(hops));
    await all;
    const ms = performance.now() - started;
    unsubscribe();
    return (total * hops) / (ms / 1000);
  } finally {
    await host.close();
  }
}

if (want('messages/s')) {
  const hops = 1_600_000; // per round, split over the rings' in-flight messages
  const cases = [
    ['component→component messages/s, same thread (threads: 0)', { threads: 0, rings: 1, inflight: 16 }],
    [
      'component→component messages/s, 2 threads, rings within a thread',
      { threads: 2, rings: 2, inflight: 16 },
    ],
    [
      'component→component messages/s, 2 threads, rings across threads',
      { threads: 2, rings: 2, inflight: 128, crossThread: true },
    ],
  ];
  for (const [name, opts] of cases) {
    const rates = [];
    for (let i = 0; i < ROUNDS; i++)
      rates.push(await ringThroughput({ ...opts, hops: Math.round(hops / (opts.rings * opts.inflight)) }));
    record(name, Math.round(median(rates)), 'msg/s', `64-byte payload, median of ${ROUNDS}`);
  }
  // Baseline in the same run: the same ring of plain JS rt actors (no WebAssembly at all).
  const rates = [];
  for (let i = 0; i < ROUNDS; i++) {
    const system = new ActorSystem();
    let resolveDone;
    const doneP = new Promise((r) => {
      resolveDone = r;
    });
    let remaining = 16;
    const peers = {};
    const behavior = (peer) => ({
      handle(msg) {
        if (msg.h === 0) {
          if (--remaining === 0) resolveDone();
          return;
        }
        peers[peer].tell({ h: msg.h - 1, payload: msg.payload.slice() });
      },
    });
    peers.a = system.spawn(behavior('b'), { mailbox: { capacity: 4096 } });
    peers.b = system.spawn(behavior('a'), { mailbox: { capacity: 4096 } });
    const per = Math.round(1_600_000 / 16);
    const t = performance.now();
    for (let k = 0; k < 16; k++) peers.a.tell({ h: per, payload: new Uint8Array(64) });
    await doneP;
    rates.push((16 * per) / ((performance.now() - t) / 1000));
    await system.shutdown();
  }
  record(
    'baseline: plain JS rt actors, same ring, messages/s',
    Math.round(median(rates)),
    'msg/s',
    'no WebAssembly',
  );
}

// ---------------------------------------------------------------------------------------------
// latency: one message at a time through host → a → b → host (b publishes at h = 0)

async function latency({ threads, samples }) {
  const host = await ComponentHost.create({ threads, dataDir: threads > 0 ? dataDir() : undefined });
  try {
    await host.start(stage('lat-a', { next: 'lat-b' })); // thread 1
    await host.start(stage('lat-b', { next: 'lat-a' })); // thread 2
    let resolveOne;
    host.subscribe('bench.done', () => resolveOne(performance.now()));
    await settle();
    const payload1 = hopsPayload(1);
    const payload0 = hopsPayload(0);
    const trip = async (payload) => {
      const t0 = performance.now();
      const t1 = await new Promise((r) => {
        resolveOne = r;
        host.send('lat-a', payload);
      });
      return (t1 - t0) * 1000;
    };
    for (let i = 0; i < 2000; i++) await trip(payload1); // warm up
    const one = [];
    const zero = [];
    for (let i = 0; i < samples; i++) {
      one.push(await trip(payload1));
      zero.push(await trip(payload0));
    }
    return { one, zero };
  } finally {
    await host.close();
  }
}

if (want('latency')) {
  for (const threads of [0, 2]) {
    const { one, zero } = await latency({ threads, samples: threads === 0 ? 20_000 : 3000 });
    const label = threads === 0 ? 'same thread' : 'across threads';
    record(`round trip host→a→b→host p50, ${label}`, +pct(one, 50).toFixed(1), 'µs');
    record(`round trip host→a→b→host p99, ${label}`, +pct(one, 99).toFixed(1), 'µs');
    record(`round trip host→a→host p50, ${label}`, +pct(zero, 50).toFixed(1), 'µs');
    record(
      `one component→component hop p50 (difference of the two), ${label}`,
      +(pct(one, 50) - pct(zero, 50)).toFixed(1),
      'µs',
    );
    record(
      `one component→component hop p99 (difference of the two), ${label}`,
      +(pct(one, 99) - pct(zero, 99)).toFixed(1),
      'µs',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// spawn, memory per actor, 10,000 actors (threads: 0: one process, one thread)

if (want('spawn')) {
  const echo = await engine.load(fixtureDir('echo'));
  const per = [];
  for (let round = 0; round < ROUNDS; round++) {
    const host = await ComponentHost.create({ threads: 0 });
    const n = 1000;
    const t = performance.now();
    for (let i = 0; i < n; i++) await host.start(echo, { address: `echo-${i}` });
    per.push(((performance.now() - t) * 1000) / n);
    await host.close();
  }
  record(
    'spawn a component actor (compiled echo, host.start)',
    +median(per).toFixed(1),
    'µs',
    'median of rounds of 1,000',
  );
  // The same run, the parts: our instantiation, raw V8 instantiation of the same instrumented
  // module, and a bare 1-page memory (what V8 alone costs per linear memory).
  const mod = echo.compiled.modules[0];
  const parts = { ours: [], raw: [], memory: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, make] of [
      ['ours', () => echo.instantiate({})],
      ['raw', () => new WebAssembly.Instance(mod, RAW_IMPORTS)],
      ['memory', () => new WebAssembly.Memory({ initial: 1, maximum: 16 })],
    ]) {
      gc();
      const keep = [];
      const t = performance.now();
      for (let i = 0; i < 1000; i++) keep.push(make());
      parts[name].push(performance.now() - t);
    }
  }
  record('  of which: instantiate the component (engine)', +median(parts.ours).toFixed(1), 'µs');
  record('  raw V8: new WebAssembly.Instance, same instrumented module', +median(parts.raw).toFixed(1), 'µs');
  record('  raw V8: new WebAssembly.Memory, 1 page', +median(parts.memory).toFixed(1), 'µs');

  gc();
  const host = await ComponentHost.create({ threads: 0 });
  await settle();
  gc();
  const before = process.memoryUsage();
  const n = 2000;
  for (let i = 0; i < n; i++) await host.start(echo, { address: `idle-${i}` });
  await settle();
  gc();
  const after = process.memoryUsage();
  const heap = (after.heapUsed - before.heapUsed) / n;
  const external = (after.external + after.arrayBuffers - before.external - before.arrayBuffers) / n;
  const rss = (after.rss - before.rss) / n;
  record('memory per idle component actor: JS heap', Math.round(heap / 1024), 'KiB');
  record(
    'memory per idle component actor: RSS growth (incl. linear memory)',
    Math.round(rss / 1024),
    'KiB',
    `${n} echo actors, 1-page memory`,
  );
  record('  (linear memory + array buffers, counted by V8)', Math.round(external / 1024), 'KiB');
  await host.close();
}

if (want('10k')) {
  const echo = await engine.load(fixtureDir('echo'));
  const host = await ComponentHost.create({ threads: 0 });
  const t = performance.now();
  for (let i = 0; i < 10_000; i++) await host.start(echo, { address: `many-${i}` });
  const ms = performance.now() - t;
  const reply = await host.request('many-9999', 'still there');
  record(
    '10,000 component actors spawned, one thread',
    Math.round(ms),
    'ms',
    new TextDecoder().decode(reply.payload),
  );
  await host.close();
  gc();
  const mod = echo.compiled.modules[0];
  const keep = [];
  const t2 = performance.now();
  for (let i = 0; i < 10_000; i++) keep.push(new WebAssembly.Instance(mod, RAW_IMPORTS));
  record(
    '  raw V8: 10,000 new WebAssembly.Instance of the same module',
    Math.round(performance.now() - t2),
    'ms',
  );
}

// ---------------------------------------------------------------------------------------------
// storage through a component: counter `inc` = storage-increment per message, group commit

if (want('storage')) {
  const counter = await engine.load(fixtureDir('counter'));
  const rates = [];
  for (let round = 0; round < ROUNDS; round++) {
    const host = await ComponentHost.create({ threads: 0, dataDir: dataDir() });
    await host.start(counter);
    const n = 20_000;
    const t = performance.now();
    const batch = [];
    for (let i = 0; i < n; i++) {
      batch.push(host.request('counter', 'inc'));
      if (batch.length === 512) await Promise.all(batch.splice(0));
    }
    await Promise.all(batch);
    rates.push(((performance.now() - t) * 1000) / n);
    const final = new TextDecoder().decode((await host.request('counter', 'get')).payload);
    if (final !== String(n)) throw new Error(`counter ended at ${final}, expected ${n}`);
    await host.close();
  }
  record(
    'host request → counter inc (SQLite increment, durable at reply)',
    +median(rates).toFixed(2),
    'µs/request',
    'batches of 512 in flight',
  );
}

for (const d of temps) rmSync(d, { recursive: true, force: true });
const machine = machineInfo();
if (asJson) console.log(JSON.stringify({ machine, results }, null, 2));
else console.log(`\nmachine: ${describeMachine(machine)}`);
