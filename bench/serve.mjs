// `airssys-wasm serve` against `jco serve` (jco's preview2-shim, the reference JavaScript host)
// and a bare node:http server answering the same bytes, same run: requests/s and p50/p99 latency
// with autocannon, for two handlers:
//
// - js-http-hello (componentize-js / StarlingMonkey), `GET /hello?name=bench`: every request
//   needs a fresh instance (StarlingMonkey's fetch event answers one request per instance; jco
//   serve runs with `--isolate-requests instance` for that reason). airssys-wasm serve on the
//   server's thread and with `--threads 2`.
// - wat-http-hello (a WAT handler, no JavaScript engine inside), `GET /`: the host's own cost per
//   request, with a fresh instance per request and with `--reuse-instance`.
//
// Each round runs every server one after the other; the tables show the medians.
//
//   npm run build && npm run fixtures && node bench/serve.mjs [--json]
//   BENCH_ROUNDS=3 BENCH_SECONDS=5 BENCH_CONNECTIONS=10 BENCH_ONLY=wat node bench/serve.mjs
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
const ONLY = process.env.BENCH_ONLY;
const js = join(root, 'fixtures', 'build', 'js-http-hello');
const wat = join(root, 'fixtures', 'build', 'wat-http-hello');

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

function airssys(fixture, ...flags) {
  return () =>
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
        ...flags,
      ],
      /serving \S+ on (http:\/\/\S+)/,
    );
}

async function jcoServe(fixture) {
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
}

/** A node:http server in this process answering what the guest answers. */
function bare(answer) {
  return async () => {
    const server = createServer((req, res) => {
      const [headers, body] = answer(req);
      res.writeHead(200, headers);
      res.end(body);
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${server.address().port}`,
      stop: () =>
        new Promise((r) => {
          server.close(r);
          // autocannon's keep-alive connections would hold the close (and the process) open.
          server.closeAllConnections();
        }),
    };
  };
}

const scenarios = [
  {
    name: 'js',
    title: 'js-http-hello (StarlingMonkey), GET /hello?name=bench, a fresh instance per request',
    path: '/hello?name=bench',
    expect: 'hello bench',
    hosts: {
      'airssys-wasm serve': airssys(js),
      'airssys-wasm serve --threads 2': airssys(js, '--threads', '2'),
      'jco serve --isolate-requests instance': () => jcoServe(js),
      'node:http, same body': bare((req) => [
        { 'content-type': 'text/plain', 'x-served-by': 'js-http-hello' },
        `hello ${new URL(req.url, 'http://x').searchParams.get('name') ?? 'world'}`,
      ]),
    },
  },
  {
    name: 'wat',
    title: 'wat-http-hello (WAT), GET /',
    path: '/',
    expect: 'hello world',
    hosts: {
      'airssys-wasm serve (fresh instance per request)': airssys(wat),
      'airssys-wasm serve --reuse-instance': airssys(wat, '--reuse-instance'),
      'airssys-wasm serve --reuse-instance --threads 2': airssys(wat, '--reuse-instance', '--threads', '2'),
      'node:http, same body': bare(() => [{}, 'hello world']),
    },
  },
].filter((s) => ONLY === undefined || s.name === ONLY);

async function measure(url, scenario) {
  // A warm-up request: the first one pays for the wasm hosts' lazy set-up.
  const check = await fetch(`${url}${scenario.path}`);
  const body = await check.text();
  if (check.status !== 200 || body !== scenario.expect) throw new Error(`${url}: ${check.status} ${body}`);
  const result = await autocannon({
    url: `${url}${scenario.path}`,
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

const results = [];
for (const scenario of scenarios) {
  const samples = Object.fromEntries(Object.keys(scenario.hosts).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, start] of Object.entries(scenario.hosts)) {
      const server = await start();
      try {
        samples[name].push(await measure(server.url, scenario));
      } finally {
        await server.stop();
      }
    }
  }
  const rows = Object.entries(samples).map(([name, runs]) => ({
    host: name,
    rps: median(runs.map((r) => r.rps)),
    runs: runs.map((r) => Math.round(r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  }));
  results.push({ scenario: scenario.name, title: scenario.title, rows });
}

if (process.argv.includes('--json')) {
  console.log(
    JSON.stringify(
      { machine: machineInfo(), rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, results },
      null,
      2,
    ),
  );
} else {
  console.log(`${ROUNDS} rounds × ${SECONDS} s, ${CONNECTIONS} connections, medians`);
  console.log(describeMachine(machineInfo()));
  for (const { title, rows } of results) {
    const base = rows.at(-1).rps;
    console.log('');
    console.log(title);
    console.log('');
    console.log('| host | req/s | rounds | ÷ node:http | p50 ms | p99 ms | errors |');
    console.log('|---|---:|---|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(
        `| ${r.host} | ${r.rps.toFixed(0)} | ${r.runs.join(' / ')} | ${(r.rps / base).toFixed(3)} | ${r.p50} | ${r.p99} | ${r.errors} |`,
      );
    }
  }
}
