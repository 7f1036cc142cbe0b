// Deployment benchmarks (issue #6): the blue-green switch under a steady 10,000 msg/s stream,
// rollback, and installing an already-compiled version. Medians of ROUNDS rounds.
//
//   npm run build && npm run fixtures && node bench/deploy/deploy.mjs [--json]

import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine, machineInfo, median } from '../support.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const dist = resolve(here, process.env.HOST_DIST ?? '../../dist');
const { ComponentHost } = await import(pathToFileURL(join(dist, 'host', 'index.js')).href);
const { Engine, parseManifest } = await import(pathToFileURL(join(dist, 'index.js')).href);
const { ComponentRegistry } = await import(pathToFileURL(join(dist, 'deploy', 'index.js')).href);

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const asJson = process.argv.includes('--json');
const temps = [];
const tmp = (what) => {
  const d = mkdtempSync(join(tmpdir(), `airssys-bench-${what}-`));
  temps.push(d);
  return d;
};
const results = {};
const record = (name, value, unit, note) => {
  results[name] = { value, unit, note };
  if (!asJson)
    console.log(`${name.padEnd(66)} ${String(value).padStart(10)} ${unit}${note ? `  (${note})` : ''}`);
};

const stageDir = join(root, 'fixtures', 'build', 'stage');
const stageBytes = await readFile(join(stageDir, 'component.wasm'));
const cacheDir = tmp('cache');
const engine = new Engine({ cacheDir });
/** The `stage` sink as component `pipe`; `tag` only makes a distinct version. */
const sink = (tag) =>
  engine.compile(
    stageBytes,
    parseManifest(
      [
        '[component]',
        'name = "pipe"',
        'version = "1.0.0"',
        'wasm = "component.wasm"',
        '[resources]',
        'memory = "1MiB"',
        'mailbox = 8192',
        '[permissions]',
        'storage = { namespaces = ["stage"] }',
        '[config]',
        'sink = "yes"',
        `tag = "${tag}"`,
      ].join('\n'),
      { baseDir: stageDir },
    ),
  );

/** 10 messages every millisecond: 10,000 msg/s while it runs. */
function stream(host) {
  let sent = 0;
  let refused = 0;
  let running = true;
  const timer = setInterval(() => {
    if (!running) return;
    for (let i = 0; i < 10; i++) {
      try {
        host.send('pipe', `m${sent}`);
        sent++;
      } catch {
        refused++;
      }
    }
  }, 1);
  return {
    stop() {
      running = false;
      clearInterval(timer);
      return { sent, refused };
    },
  };
}

async function countStored(host, expected) {
  // Storage is written by the scheduler threads; the main thread's store reads the same file.
  const ns = host.storage.namespace('pipe.stage');
  const started = performance.now();
  let keys = [];
  while (performance.now() - started < 5000) {
    keys = [];
    let cursor;
    do {
      const page = ns.listPrefix('m/', { cursor, limit: 1000 });
      keys.push(...page.keys);
      cursor = page.next;
    } while (cursor !== undefined);
    if (keys.length >= expected) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const payloads = keys.map((k) => new TextDecoder().decode(ns.get(k)));
  return { stored: payloads.length, distinct: new Set(payloads).size };
}

const switchMs = [];
const rollbackMs = [];
let lost = 0;
let duplicated = 0;
let refusedTotal = 0;
let sentTotal = 0;
for (let round = 0; round < ROUNDS; round++) {
  const host = await ComponentHost.create({ threads: THREADS, dataDir: tmp('deploy') });
  const blue = sink('blue');
  const green = sink('green');
  await host.start(blue);
  const traffic = stream(host);
  await new Promise((r) => setTimeout(r, 100));
  const greenVersion = await host.startVersion('pipe', green);
  const blueVersion = (await host.versions('pipe'))[0].version;
  if ((await host.health('pipe', { version: greenVersion })) !== 'healthy')
    throw new Error('green unhealthy');
  // "green healthy" → "all traffic on green": one atomic routing change acknowledged by every thread.
  let t = performance.now();
  await host.setWeights('pipe', { [greenVersion]: 100, [blueVersion]: 0 });
  switchMs.push(performance.now() - t);
  await new Promise((r) => setTimeout(r, 100));
  // Rollback while blue is retained (drained but running): the same switch, back.
  t = performance.now();
  await host.setWeights('pipe', { [blueVersion]: 100, [greenVersion]: 0 });
  rollbackMs.push(performance.now() - t);
  await new Promise((r) => setTimeout(r, 100));
  const { sent, refused } = traffic.stop();
  refusedTotal += refused;
  sentTotal += sent;
  const { stored, distinct } = await countStored(host, sent);
  lost += sent - distinct;
  duplicated += stored - distinct;
  await host.close();
}
record(
  `blue-green switch under 10,000 msg/s (${THREADS} threads)`,
  +median(switchMs).toFixed(2),
  'ms',
  `median of ${ROUNDS}`,
);
record('rollback to the previous version (retained, running)', +median(rollbackMs).toFixed(2), 'ms');
record(
  'messages lost / duplicated across all switches',
  `${lost} / ${duplicated}`,
  '',
  `${sentTotal} sent, ${refusedTotal} refused at send`,
);

// Rollback when the previous version was already stopped: start it again, then switch.
{
  const times = [];
  for (let round = 0; round < ROUNDS; round++) {
    const host = await ComponentHost.create({ threads: THREADS, dataDir: tmp('rollback') });
    const blue = sink('blue');
    await host.start(blue);
    const greenVersion = await host.startVersion('pipe', sink('green'));
    const blueVersion = (await host.versions('pipe'))[0].version;
    await host.setWeights('pipe', { [greenVersion]: 100, [blueVersion]: 0 });
    await host.stopVersion('pipe', blueVersion);
    const t = performance.now();
    await host.startVersion('pipe', blue);
    await host.setWeights('pipe', { [blueVersion]: 100, [greenVersion]: 0 });
    times.push(performance.now() - t);
    await host.close();
  }
  record('rollback to a stopped previous version (start + switch)', +median(times).toFixed(2), 'ms');
}

// Install of an already-compiled version: registry (idempotent) + engine load from the cache.
{
  const registry = ComponentRegistry.open(tmp('registry'));
  const dir = join(root, 'fixtures', 'build', 'counter');
  await registry.installFolder(dir);
  await engine.load(dir); // compile once: the cache holds it now
  const times = [];
  for (let round = 0; round < ROUNDS * 4; round++) {
    const fresh = new Engine({ cacheDir });
    const t = performance.now();
    await registry.installFolder(dir);
    await fresh.load(dir);
    times.push(performance.now() - t);
  }
  registry.close();
  record('install of an already-compiled version (registry + cache hit)', +median(times).toFixed(2), 'ms');
}

for (const d of temps) rmSync(d, { recursive: true, force: true });
const machine = machineInfo();
if (asJson) console.log(JSON.stringify({ machine, results }, null, 2));
else console.log(`\nmachine: ${describeMachine(machine)}`);
