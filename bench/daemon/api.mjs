// Admin API benchmark (issue #7): `POST /v1/addresses/echo/send` requests per second against a
// running daemon (2 scheduler threads, the example components), from autocannon in another
// process over keep-alive, pipelined connections (it shares the machine's 2 cores). Median of
// ROUNDS rounds.
//
//   npm run build && npm run fixtures && node bench/daemon/api.mjs [--json]

import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine, machineInfo, median } from '../support.mjs';

const here = fileURLToPath(import.meta.url);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const PIPELINING = Number(process.env.BENCH_PIPELINING ?? 8);

if (process.argv[2] === '--client') {
  // The client: autocannon (a well-kept HTTP load generator) in its own process, keep-alive
  // connections with PIPELINING requests in flight on each. Node 20's fetch tops out near 1,300
  // req/s here and a node:http loop near 5,000: both measure the client, not the server.
  const { default: autocannon } = await import('autocannon');
  const [url, token] = process.argv.slice(3);
  const result = await autocannon({
    url: new URL('/v1/addresses/echo/send', url).href,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ payload: 'x'.repeat(64) }),
    connections: CONCURRENCY,
    pipelining: PIPELINING,
    duration: SECONDS,
  });
  process.send({
    perSecond: result.requests.average,
    failed: result.errors + result.timeouts + result.non2xx,
    p50: result.latency.p50,
    p99: result.latency.p99,
  });
  process.exit(0);
}

const root = resolve(dirname(here), '..', '..');
const { startDaemon } = await import(pathToFileURL(join(root, 'dist', 'daemon', 'daemon.js')).href);
const dataDir = mkdtempSync(join(tmpdir(), 'airssys-bench-api-'));
const daemon = await startDaemon({ dataDir, port: 0, threads: 2, examples: join(root, 'fixtures', 'build') });
// The floor on this machine, same client, same run: a bare node:http server that reads the body
// and answers the same JSON (no auth, no routing, no host).
const http = await import('node:http');
const bare = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
});
await new Promise((r) => bare.listen(0, '127.0.0.1', r));
const bareUrl = `http://127.0.0.1:${bare.address().port}`;

const rates = [];
const bareRates = [];
const latencies = [];
let failures = 0;
const measure = async (url) => {
  const child = fork(here, ['--client', url, daemon.token]);
  return new Promise((r) => child.once('message', r));
};
for (let round = 0; round < ROUNDS; round++) {
  const result = await measure(daemon.url);
  rates.push(result.perSecond);
  latencies.push(`${result.p50}/${result.p99}`);
  failures += result.failed;
  bareRates.push((await measure(bareUrl)).perSecond);
}
bare.close();
await daemon.close();
rmSync(dataDir, { recursive: true, force: true });
const rateMedian = median(rates);
const bareMedian = median(bareRates);
const machine = machineInfo();
const line = `admin API POST /v1/addresses/echo/send: ${Math.round(rateMedian)} req/s (median of ${ROUNDS}; runs ${rates.map(Math.round).join(' / ')}; ${failures} failed; ${CONCURRENCY} connections × ${PIPELINING} pipelined; latency p50/p99 ms ${latencies.join(' · ')})`;
const floor = `bare node:http, same client: ${Math.round(bareMedian)} req/s (runs ${bareRates.map(Math.round).join(' / ')}); ours is ${(rateMedian / bareMedian).toFixed(2)}× of it`;
if (process.argv.includes('--json'))
  console.log(JSON.stringify({ machine, median: rateMedian, rates, bareMedian, bareRates, failures }));
else console.log(`${line}\n${floor}\nmachine: ${describeMachine(machine)}`);
