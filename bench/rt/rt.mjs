// Actor runtime benchmarks (issue #3): the six figures, each the median of ROUNDS rounds.
//
//   npx tsc -p tsconfig.build.json --outDir /tmp/rt-dist && RT_DIST=/tmp/rt-dist node bench/rt/rt.mjs [--json]
//   node bench/rt/rt.mjs            (against ../../dist after `npm run build`)
//
// Re-runs itself with --expose-gc when needed (memory figures need a forced GC).

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machineInfo, median, withExposedGc } from '../support.mjs';

withExposedGc(import.meta.url);

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, process.env.RT_DIST ?? '../../dist');
const { ActorSystem } = await import(pathToFileURL(join(dist, 'rt', 'index.js')).href);

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const asJson = process.argv.includes('--json');
const now = () => performance.now();
const gc = () => {
  globalThis.gc();
  globalThis.gc();
};
const settle = () => new Promise((r) => setImmediate(r));

/** ns per spawn: N idle actors spawned in a tight loop and kept alive (stopped afterwards, untimed). */
async function spawnNs(n) {
  const system = new ActorSystem();
  const behavior = { handle() {} };
  const refs = new Array(n);
  const t = now();
  for (let i = 0; i < n; i++) refs[i] = system.spawn(behavior);
  const ns = ((now() - t) * 1e6) / n;
  for (const r of refs) system.stop(r);
  return ns;
}

/**
 * tell → handled, one actor. Each message is told only after the previous one was handled: the
 * handler calls `signal`, which tells the next message, so N messages take N × (tell + scheduling
 * + dequeue + handle). `busy` signals synchronously (the runtime is already draining, the usual
 * case under load); `idle` signals through queueMicrotask, so every tell finds the scheduler idle
 * and pays for waking it (one queueMicrotask) plus the signal's own microtask hop.
 */
function latencyNs(mode, n = 200_000) {
  return new Promise((done) => {
    const system = new ActorSystem();
    let left = n;
    let t = 0;
    let ref;
    const next = () => ref.tell(left);
    ref = system.spawn({
      handle() {
        if (--left === 0) {
          done(((now() - t) * 1e6) / n);
          return;
        }
        if (mode === 'busy') next();
        else queueMicrotask(next);
      },
    });
    t = now();
    next();
  });
}

/**
 * msgs/s through the broker, 1 publisher actor → 1 subscriber actor. Credit-based flow control,
 * as a real producer into a bounded mailbox needs: the publisher publishes BATCH messages per
 * credit, the subscriber returns a credit every BATCH messages, two credits in flight (so at most
 * 2 × BATCH messages wait and the default 1024-message mailbox never fills).
 */
function brokerRate(n = 2_000_000, BATCH = 256) {
  return new Promise((done) => {
    const system = new ActorSystem();
    let received = 0;
    let sent = 0;
    let t = 0;
    let pub;
    const sub = system.spawn({
      handle() {
        if (++received === n) done(n / ((now() - t) / 1000));
        else if (received % BATCH === 0) pub.tell(0);
      },
    });
    system.broker.subscribe('bench.orders.created', sub);
    pub = system.spawn({
      handle() {
        const end = Math.min(n, sent + BATCH);
        while (sent < end) system.broker.publish('bench.orders.created', sent++);
      },
    });
    t = now();
    pub.tell(0);
    pub.tell(0);
  });
}

/** msgs/s with 1,000 actors: 500 pairs bouncing one message each until N messages are handled. */
function pingPongRate(actors = 1000, n = 5_000_000) {
  return new Promise((done) => {
    const system = new ActorSystem();
    let handled = 0;
    let t = 0;
    const behavior = {
      handle(msg, ctx) {
        if (++handled === n) done(n / ((now() - t) / 1000));
        if (handled < n) ctx.state.peer.tell(msg, ctx.self);
      },
    };
    const refs = [];
    for (let i = 0; i < actors; i++) refs.push(system.spawn(behavior));
    // Each actor's peer is set through its state: init runs per actor, so wire it after spawn.
    for (let i = 0; i < actors; i += 2) {
      refs[i].target.state = { peer: refs[i + 1] };
      refs[i + 1].target.state = { peer: refs[i] };
    }
    t = now();
    for (let i = 0; i < actors; i += 2) refs[i].tell(i);
  });
}

/** Bytes of heap per idle actor: heap delta after GC for N idle actors (refs kept alive). */
function bytesPerIdleActor(n = 100_000) {
  const system = new ActorSystem();
  const behavior = { handle() {} };
  const refs = new Array(n);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) refs[i] = system.spawn(behavior);
  gc();
  const after = process.memoryUsage().heapUsed;
  for (const r of refs) system.stop(r);
  return (after - before) / n;
}

/** 1 M actors spawned and stopped (100k live at a time): ms, and heap after GC minus baseline. */
async function spawnStopMillion(n = 1_000_000, batch = 100_000) {
  const system = new ActorSystem();
  const behavior = { handle() {}, postStop() {} };
  gc();
  const before = process.memoryUsage().heapUsed;
  const refs = new Array(batch);
  const t = now();
  for (let done = 0; done < n; done += batch) {
    for (let i = 0; i < batch; i++) refs[i] = system.spawn(behavior);
    for (let i = 0; i < batch; i++) system.stop(refs[i]);
  }
  const ms = now() - t;
  refs.fill(undefined);
  await settle();
  gc();
  const leak = process.memoryUsage().heapUsed - before;
  return { ms, leakBytes: leak };
}

const rows = [];
async function figure(name, unit, target, ok, run) {
  const values = [];
  for (let r = 0; r < ROUNDS; r++) {
    values.push(await run());
    await settle();
  }
  const value = median(values);
  rows.push({ figure: name, value, unit, target, pass: ok(value), rounds: values });
}

await spawnNs(20_000); // warm-up: let V8 optimize the spawn and message paths first
await latencyNs('busy', 50_000);
await latencyNs('idle', 50_000);
// Note: spawn cost depends on how many actors stay alive: past the young generation (~16 MiB)
// V8 copies every retained actor into old space, and that GC work dominates. Both are shown.
await figure(
  'spawn an actor (10k kept alive)',
  'ns',
  '≤ 300 ns',
  (v) => v <= 300,
  () => spawnNs(10_000),
);
await figure(
  'spawn an actor (100k kept alive, incl. GC promotion)',
  'ns',
  '≤ 300 ns',
  (v) => v <= 300,
  () => spawnNs(100_000),
);
await figure(
  'tell → handled, one actor (runtime busy)',
  'ns',
  '≤ 300 ns',
  (v) => v <= 300,
  () => latencyNs('busy'),
);
await figure(
  'tell → handled, one actor (from idle, incl. 2 microtask hops)',
  'ns',
  '(info)',
  () => true,
  () => latencyNs('idle'),
);
await figure(
  'broker 1 publisher → 1 subscriber',
  'msgs/s',
  '≥ 6 M/s',
  (v) => v >= 6e6,
  () => brokerRate(),
);
await figure(
  '1,000 actors ping-ponging',
  'msgs/s',
  '≥ 5 M/s',
  (v) => v >= 5e6,
  () => pingPongRate(),
);
await figure(
  'memory per idle actor (100k)',
  'bytes',
  '≤ 1 KiB',
  (v) => v <= 1024,
  () => bytesPerIdleActor(),
);
const million = [];
await figure(
  '1 M actors spawned and stopped',
  'ms',
  '< 2 s',
  (v) => v < 2000,
  async () => {
    const r = await spawnStopMillion();
    million.push(r.leakBytes);
    return r.ms;
  },
);
const leak = median(million);
rows.push({
  figure: '  heap after 1 M spawned+stopped, vs baseline',
  value: leak,
  unit: 'bytes',
  target: 'near 0',
  pass: leak < 2 * 1024 * 1024,
  rounds: million,
});

const machine = machineInfo();
if (asJson) {
  console.log(JSON.stringify({ machine, rounds: ROUNDS, figures: rows }, null, 2));
} else {
  const fmt = (r) =>
    r.unit === 'msgs/s'
      ? `${(r.value / 1e6).toFixed(2)} M/s`
      : r.unit === 'bytes'
        ? `${Math.round(r.value)} B`
        : `${r.value.toFixed(r.unit === 'ms' ? 0 : 1)} ${r.unit}`;
  console.log(
    `rt benchmarks — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, median of ${ROUNDS}`,
  );
  console.log('| figure | result | target | ok |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.figure} | ${fmt(r)} | ${r.target} | ${r.pass ? 'yes' : 'NO'} |`);
}
