// A second cluster member in its own process for bench/cluster/cluster.mjs: it counts what
// arrives and tells the parent (IPC) once it has `expected` messages.
//   mode "airssys": a cluster member (threads 0) counting host-API deliveries on `bench.>`
//   mode "nats":    a bare NATS subscriber counting messages on `raw.bench` (the transport floor)
//   mode "nats-echo": a bare NATS responder on `raw.echo` (request/reply floor)

import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../dist');
const load = (path) => import(pathToFileURL(join(dist, path)).href);
const [url, keyHex, mode] = process.argv.slice(2);

let count = 0;
let expected = Number.POSITIVE_INFINITY;
const arrived = () => {
  count++;
  if (count === expected) process.send({ done: true, count });
};
process.on('message', (m) => {
  if (m.expect !== undefined) {
    count = 0;
    expected = m.expect;
    process.send({ armed: true });
  }
  if (m.stop) process.exit(0);
});

if (mode === 'airssys') {
  const { Cluster } = await load('cluster/index.js');
  const { ComponentHost } = await load('host/index.js');
  const { Deployer } = await load('deploy/index.js');
  const { Engine } = await load('index.js');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dataDir = mkdtempSync(join(tmpdir(), 'airssys-bench-member-'));
  const cluster = await Cluster.connect({
    url,
    hostId: 'sink',
    key: Buffer.from(keyHex, 'hex'),
    capacity: 0,
  });
  const host = await ComponentHost.create({ threads: 0, dataDir, cluster: cluster.link });
  await cluster.start({ host, deployer: new Deployer({ host, engine: new Engine(), dataDir }) });
  host.subscribe('bench.>', arrived);
} else {
  const { connect } = await import('@nats-io/transport-node');
  const nc = await connect({ servers: url });
  if (mode === 'nats') nc.subscribe('raw.bench', { callback: arrived });
  else nc.subscribe('raw.echo', { callback: (_e, msg) => msg.respond(msg.data) });
  await nc.flush();
}
process.send({ ready: true });
