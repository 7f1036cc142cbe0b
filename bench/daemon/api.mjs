// Admin API benchmark (issue #7): `POST /v1/addresses/echo/send` requests per second against a
// running daemon (2 scheduler threads, the example components), from a client in another
// process over keep-alive connections (it shares the machine's 2 cores). Median of ROUNDS rounds.
//
//   npm run build && npm run fixtures && node bench/daemon/api.mjs [--json]

import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(import.meta.url);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

if (process.argv[2] === '--client') {
  // The client: CONCURRENCY loops of sequential requests over keep-alive connections. node:http,
  // not fetch: Node 20's fetch tops out near 1,300 req/s on this machine, below the server.
  const http = await import('node:http');
  const [url, token] = process.argv.slice(3);
  const target = new URL('/v1/addresses/echo/send', url);
  const body = JSON.stringify({ payload: 'x'.repeat(64) });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const one = () =>
    new Promise((resolve, reject) => {
      const request = http.request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode === 200));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  let done = 0;
  let failed = 0;
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        if (await one()) done++;
        else failed++;
      }
    }),
  );
  process.send({ perSecond: done / SECONDS, failed });
  process.exit(0);
}

const root = resolve(dirname(here), '..', '..');
const { startDaemon } = await import(pathToFileURL(join(root, 'dist', 'daemon', 'daemon.js')).href);
const dataDir = mkdtempSync(join(tmpdir(), 'airssys-bench-api-'));
const daemon = await startDaemon({ dataDir, port: 0, threads: 2, examples: join(root, 'fixtures', 'build') });
const rates = [];
let failures = 0;
for (let round = 0; round < ROUNDS; round++) {
  const child = fork(here, ['--client', daemon.url, daemon.token]);
  const result = await new Promise((r) => child.once('message', r));
  rates.push(result.perSecond);
  failures += result.failed;
}
await daemon.close();
rmSync(dataDir, { recursive: true, force: true });
const sorted = [...rates].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
const machine = {
  cpu: cpus()[0]?.model,
  cores: availableParallelism(),
  memGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
};
const line = `admin API POST /v1/addresses/echo/send: ${Math.round(median)} req/s (median of ${ROUNDS}; runs ${rates.map(Math.round).join(' / ')}; ${failures} failed; ${CONCURRENCY} connections)`;
if (process.argv.includes('--json')) console.log(JSON.stringify({ machine, median, rates, failures }));
else
  console.log(
    `${line}\nmachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB, Node ${machine.node}`,
  );
