// Cluster figures (issue #8), over a real nats-server on loopback:
//   1. request/reply latency to a component on another host (a host process, `host --cluster`,
//      running `echo` on one scheduler thread — or, placed by label affinity, on a host with
//      `--threads 0`, which saves the hop to a scheduler thread), from this process as a cluster
//      member — p50/p99 of sequential requests; against a bare NATS request/reply between two
//      processes and a request to `echo` on this host (no network) in the same run;
//   2. messages/s across hosts: publications of 16-byte payloads from this process to a member
//      in another process, batched into frames by the link; against bare NATS publishes of the
//      same payloads between two processes;
//   3. time to recover a lost host's instance: three host processes, `echo` on one of them,
//      `kill -9` of that one, until `echo` answers again (heartbeats every 250 ms, lost after 1 s).
//
//   npm run build && npm run fixtures && node bench/cluster/cluster.mjs [--json]

import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { startHostProcess } from '../../test/support/host-process.mjs';
import { startNats } from '../../test/support/nats-server.mjs';
import { describeMachine, machineInfo, median } from '../support.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, '../..');
const load = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
const { Cluster } = await load('cluster/index.js');
const { ComponentHost } = await load('host/index.js');
const { Deployer } = await load('deploy/index.js');
const { Engine } = await load('index.js');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 300_000);
const asJson = process.argv.includes('--json');
const say = (line) => {
  if (!asJson) console.log(line);
};

const dir = mkdtempSync(join(tmpdir(), 'airssys-cluster-bench-'));
const key = randomBytes(32);
const keyFile = join(dir, 'cluster.key');
writeFileSync(keyFile, `${key.toString('hex')}\n`);
const fixture = (name) => join(root, 'fixtures', 'build', name);
const payload = new Uint8Array(16).fill(7);
const children = [];
const hosts = [];
let nats;
let client;

async function cleanup() {
  for (const c of children) c.kill();
  await client?.cluster.close().catch(() => {});
  await client?.host.close().catch(() => {});
  await Promise.all(hosts.map((h) => h.stop().catch(() => {})));
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function until(check, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function joinClient(id) {
  const dataDir = join(dir, id);
  const cluster = await Cluster.connect({ url: nats.url, hostId: id, key, capacity: 0 });
  const host = await ComponentHost.create({ threads: 0, dataDir, cluster: cluster.link });
  const deployer = new Deployer({ host, engine: new Engine(), dataDir });
  await cluster.start({ host, deployer });
  return { cluster, host, deployer };
}

function servedBy(address) {
  return client.cluster
    .status()
    .hosts.filter((h) => (h.addresses[address]?.instances ?? 0) > 0)
    .map((h) => h.id);
}

function member(mode) {
  const child = fork(join(here, 'member.mjs'), [nats.url, key.toString('hex'), mode], { stdio: 'inherit' });
  children.push(child);
  const next = (field) =>
    new Promise((r) =>
      child.on('message', function on(m) {
        if (m[field]) {
          child.off('message', on);
          r(m);
        }
      }),
    );
  return { child, ready: next('ready'), next };
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

async function latencies(call, n) {
  for (let i = 0; i < 300; i++) await call();
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call();
    out[i] = (performance.now() - t) * 1000;
  }
  return [...out].sort((a, b) => a - b);
}

try {
  nats = await startNats();
  const machine = machineInfo();
  say(`# cluster bench — ${describeMachine(machine)}; nats-server on loopback`);

  // --- 1. request/reply latency -----------------------------------------------------------
  const h1 = await startHostProcess({
    dataDir: join(dir, 'h1'),
    natsUrl: nats.url,
    keyFile,
    hostId: 'h1',
    labels: ['tier=threads'],
  });
  const h0 = await startHostProcess({
    dataDir: join(dir, 'h0'),
    natsUrl: nats.url,
    keyFile,
    hostId: 'h0',
    threads: 0,
    labels: ['tier=inline'],
  });
  hosts.push(h1, h0);
  client = await joinClient('client');
  // The same echo binary under a second name, for the host without scheduler threads.
  const echo0 = join(dir, 'echo0');
  mkdirSync(echo0);
  copyFileSync(join(fixture('echo'), 'component.wasm'), join(echo0, 'component.wasm'));
  writeFileSync(
    join(echo0, 'Component.toml'),
    '[component]\nname = "echo0"\nversion = "0.1.0"\nwasm = "component.wasm"\n\n[resources]\nmemory = "1MiB"\n',
  );
  await h1.api('POST', '/v1/components', { path: fixture('echo') });
  await h1.api('POST', '/v1/components', { path: echo0 });
  await h1.api('PUT', '/v1/cluster/deployments/echo', { instances: 1, affinity: { tier: 'threads' } });
  await h1.api('PUT', '/v1/cluster/deployments/echo0', { instances: 1, affinity: { tier: 'inline' } });
  await until(
    () => servedBy('echo').join() === 'h1' && servedBy('echo0').join() === 'h0',
    15_000,
    'echo on h1, echo0 on h0',
  );

  const local = await ComponentHost.create({ threads: 0 });
  await local.start(await new Engine().load(fixture('echo')), { address: 'echo' });
  const responder = member('nats-echo');
  await responder.ready;
  const nc = await connect({ servers: nats.url });

  const rows = { cross: [], inline: [], local: [], nats: [] };
  for (let r = 0; r < ROUNDS; r++) {
    rows.cross.push(
      await latencies(() => client.host.request('echo', payload, { timeoutMs: 5000 }), REQUESTS),
    );
    rows.inline.push(
      await latencies(() => client.host.request('echo0', payload, { timeoutMs: 5000 }), REQUESTS),
    );
    rows.local.push(await latencies(() => local.request('echo', payload), REQUESTS));
    rows.nats.push(await latencies(() => nc.request('raw.echo', payload, { timeout: 5000 }), REQUESTS));
  }
  await local.close();
  const summary = (runs) => ({
    p50: median(runs.map((s) => pct(s, 50))),
    p99: median(runs.map((s) => pct(s, 99))),
  });
  const latency = {
    cross: summary(rows.cross),
    inline: summary(rows.inline),
    local: summary(rows.local),
    nats: summary(rows.nats),
  };
  say('\n## request/reply latency (µs, medians of rounds; sequential, 16-byte payload)');
  say('| path | p50 | p99 |\n|---|---|---|');
  for (const [name, label] of [
    ['cross', 'airssys: to echo on another host (NATS, one scheduler thread there)'],
    ['inline', 'airssys: to echo on another host run with --threads 0'],
    ['nats', 'bare NATS request/reply between two processes'],
    ['local', 'airssys: to echo on this host (no network)'],
  ])
    say(`| ${label} | ${latency[name].p50.toFixed(0)} | ${latency[name].p99.toFixed(0)} |`);
  say(
    `cross-host / bare NATS p50: ${(latency.cross.p50 / latency.nats.p50).toFixed(2)}× (threads), ${(latency.inline.p50 / latency.nats.p50).toFixed(2)}× (--threads 0)`,
  );

  // --- 2. messages/s across hosts ---------------------------------------------------------
  const sink = member('airssys');
  await sink.ready;
  const natsSink = member('nats');
  await natsSink.ready;
  await until(() => client.cluster.status().hosts.some((h) => h.id === 'sink'), 10_000, 'the sink member');
  const throughput = { airssys: [], nats: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, target, send] of [
      ['airssys', sink, () => client.host.publish('bench.t', payload)],
      ['nats', natsSink, () => nc.publish('raw.bench', payload)],
    ]) {
      target.child.send({ expect: MESSAGES });
      await target.next('armed');
      const done = target.next('done');
      const t = performance.now();
      for (let i = 0; i < MESSAGES; i += 1000) {
        for (let j = 0; j < 1000; j++) send();
        // Let the link cut its frames and the socket drain, as a busy host's event loop does.
        await new Promise((resolve) => setImmediate(resolve));
      }
      await done;
      throughput[name].push(MESSAGES / ((performance.now() - t) / 1000));
    }
  }
  const rate = { airssys: median(throughput.airssys), nats: median(throughput.nats) };
  say(`\n## messages/s across hosts (${MESSAGES} publications of 16 bytes, medians of ${ROUNDS} rounds)`);
  say(
    `| airssys (frames cut per synchronous run, HMAC per frame) | ${Math.round(rate.airssys).toLocaleString('en')} |`,
  );
  say(`| bare NATS publishes | ${Math.round(rate.nats).toLocaleString('en')} |`);
  await nc.close();

  // --- 3. recovery of a lost host's instance ----------------------------------------------
  // Three interchangeable hosts for echo (the affinity goes, h0 leaves).
  await h1.api('DELETE', '/v1/cluster/deployments/echo0');
  await h1.api('PUT', '/v1/cluster/deployments/echo', { instances: 1, affinity: { tier: 'threads' } });
  await h0.stop();
  hosts.splice(hosts.indexOf(h0), 1);
  const addHost = async (id) => {
    hosts.push(
      await startHostProcess({
        dataDir: join(dir, id),
        natsUrl: nats.url,
        keyFile,
        hostId: id,
        labels: ['tier=threads'],
      }),
    );
  };
  for (const id of ['h2', 'h3']) await addHost(id);
  const recoveries = [];
  let spare = 4;
  for (let r = 0; r < ROUNDS; r++) {
    await until(() => client.cluster.status().hosts.length >= 5, 15_000, 'all hosts seen');
    // Settled: one host serves echo, and has for a second (a joining host may be taking it over).
    let since = performance.now();
    await until(
      () => {
        if (servedBy('echo').length !== 1) since = performance.now();
        return performance.now() - since > 1000;
      },
      20_000,
      'echo settled on one host',
    );
    const victimId = servedBy('echo')[0];
    const victim = hosts.find((h) => h.id === victimId);
    const killedAt = performance.now();
    await victim.kill();
    hosts.splice(hosts.indexOf(victim), 1);
    for (;;) {
      const ok = await client.host.request('echo', payload, { timeoutMs: 100 }).then(
        () => true,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    recoveries.push(performance.now() - killedAt);
    // Back to three hosts for the next round.
    await addHost(`h${spare++}`);
  }
  const recovery = median(recoveries);
  say(`\n## recovery after kill -9 of the host running echo (ms from the kill to a reply)`);
  say(
    `rounds: ${recoveries.map((x) => x.toFixed(0)).join(', ')}; median ${recovery.toFixed(0)} ms (detection: 1,000 ms without heartbeat)`,
  );

  if (asJson) console.log(JSON.stringify({ machine, latency, rate, recoveries, recovery }));
} finally {
  await cleanup();
}
