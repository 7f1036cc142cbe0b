// `airssys-wasm serve` against `jco serve` (jco's preview2-shim, the reference JavaScript host)
// and a bare node:http server answering the same bytes, same run: requests/s and p99 latency of
// `GET /hello?name=bench` on the js-http-hello fixture (componentize-js), with autocannon.
// Both wasm hosts give every request a fresh instance (StarlingMonkey's fetch event answers one
// request per instance; jco serve runs with `--isolate-requests instance` for that reason).
// Each round runs the three servers one after the other; the table shows the medians.
//
//   npm run build && node scripts/build-fixtures.mjs js-http-hello && node bench/serve.mjs [--json]
//   BENCH_ROUNDS=3 BENCH_SECONDS=5 BENCH_CONNECTIONS=10 node bench/serve.mjs
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { describeMachine, machineInfo, median } from './support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = join(root, 'bench', '.tmp', 'serve');
mkdirSync(tmp, { recursive: true });
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const PATH = '/hello?name=bench';
const fixture = join(root, 'fixtures', 'build', 'js-http-hello');

function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Spawns a server process and resolves once `ready` shows in its output. */
function startProcess(argv, ready) {
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after 120 s:\n${text}`)), 120_000);
    const look = (d) => {
      text += d.toString();
      const found = ready.exec(text);
      if (found === null) return;
      clearTimeout(timer);
      resolve({
        url: found[1],
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${text}`)));
  });
}

const hosts = {
  'airssys-wasm serve': async () =>
    startProcess(
      [
        join(root, 'dist/cli/airssys-wasm.js'),
        'serve',
        fixture,
        '--listen',
        '127.0.0.1:0',
        '--max-memory',
        '128MiB',
        '--cache-dir',
        join(tmp, 'cache'),
      ],
      /serving \S+ on (http:\/\/\S+)/,
    ),
  'jco serve': async () => {
    const port = await freePort();
    const server = await startProcess(
      [
        join(root, 'node_modules/@bytecodealliance/jco/dist/jco.js'),
        'serve',
        join(fixture, 'component.wasm'),
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--isolate-requests',
        'instance',
        '--jco-dir',
        join(tmp, 'jco'),
      ],
      /Server (listening)/,
    );
    return { ...server, url: `http://127.0.0.1:${port}` };
  },
  'node:http (same body)': async () => {
    const server = createServer((req, res) => {
      const name = new URL(req.url, 'http://x').searchParams.get('name') ?? 'world';
      res.writeHead(200, { 'content-type': 'text/plain', 'x-served-by': 'js-http-hello' });
      res.end(`hello ${name}`);
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${server.address().port}`,
      stop: () => new Promise((r) => server.close(r)),
    };
  },
};

async function measure(url) {
  // A warm-up request: the first one pays for the wasm hosts' lazy set-up.
  const check = await fetch(`${url}${PATH}`);
  const body = await check.text();
  if (check.status !== 200 || body !== 'hello bench') throw new Error(`${url}: ${check.status} ${body}`);
  const result = await autocannon({ url: `${url}${PATH}`, connections: CONNECTIONS, duration: SECONDS });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

const samples = Object.fromEntries(Object.keys(hosts).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, start] of Object.entries(hosts)) {
    const server = await start();
    try {
      samples[name].push(await measure(server.url));
    } finally {
      await server.stop();
    }
  }
}

const rows = Object.entries(samples).map(([name, runs]) => ({
  host: name,
  rps: median(runs.map((r) => r.rps)),
  p50: median(runs.map((r) => r.p50)),
  p99: median(runs.map((r) => r.p99)),
  errors: runs.reduce((n, r) => n + r.errors, 0),
}));

if (process.argv.includes('--json')) {
  console.log(
    JSON.stringify(
      { machine: machineInfo(), rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, rows },
      null,
      2,
    ),
  );
} else {
  console.log(`GET ${PATH} — ${ROUNDS} rounds × ${SECONDS} s, ${CONNECTIONS} connections, medians`);
  console.log(describeMachine(machineInfo()));
  console.log('');
  console.log('| host | req/s | p50 ms | p99 ms | errors |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.host} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} |`);
  }
}
