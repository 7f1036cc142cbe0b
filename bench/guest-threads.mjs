// What a trivial job costs on each path a daemon can run it: in-thread (`runCommand`, which
// blocks the caller while the guest waits), on JSPI (`runCommandAsync`, Node.js 24+) and on a
// thread of its own (`CommandThread`, the path without JSPI). The job is fixtures' c-wc counting
// a 14-byte stdin; each figure is the median of RUNS runs after a warm-up (the thread started),
// but the first run of a new thread (its start included: median of 10 new threads). Then the
// same job through a daemon's admin API (`POST /v1/addresses/wc/run`, one scheduler thread), and
// a request to wat-http-hello through its HTTP listener, on the line's default path and with the
// thread path forced (AIRSSYS_GUEST_THREADS=1).
//
//   npm run build && npm run fixtures && node bench/guest-threads.mjs [--json]
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon } from '../dist/daemon/daemon.js';
import { hasJspi } from '../dist/shared/node-runtime.js';
import { Engine } from '../dist/wasm/engine/engine.js';
import { parseManifest } from '../dist/wasm/manifest/index.js';
import { bytesSource } from '../dist/wasm/wasi/byte-io.js';
import { CommandThread } from '../dist/wasm/wasi/command-thread.js';
import { runCommand, runCommandAsync } from '../dist/wasm/wasi/run-command.js';
import { describeMachine, formatNs, machineInfo, median } from './support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const WASM = join(root, 'fixtures', 'build', 'c-wc', 'component.wasm');
const MANIFEST = `[component]
name = "wc"
version = "0.1.0"
wasm = "component.wasm"
world = "wasi:cli/command@0.2.0"

[resources]
memory = "1MiB"
timeout-ms = 5000
`;
const HELLO = join(root, 'fixtures', 'build', 'wat-http-hello', 'component.wasm');
const HELLO_MANIFEST = `[component]
name = "hello"
version = "0.1.0"
wasm = "component.wasm"
world = "wasi:http/proxy@0.2.0"

[resources]
memory = "1MiB"

[http]
routes = ["/hello"]
`;
const STDIN = new TextEncoder().encode('one two\nthree\n');

/** Median wall time of `RUNS` calls of `job` (after 5 unmeasured ones), in ns. */
async function time(job) {
  for (let i = 0; i < 5; i++) await job();
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    await job();
    samples.push(Number(process.hrtime.bigint() - started));
  }
  return median(samples);
}

function check(outcome) {
  if (!outcome.ok || outcome.status !== 0) throw new Error(`the job failed: ${JSON.stringify(outcome)}`);
}

async function library() {
  const component = new Engine().compile(
    readFileSync(WASM),
    parseManifest(MANIFEST, { baseDir: dirname(WASM) }),
  );
  const wasi = () => ({ args: ['wc'], stdin: bytesSource(STDIN), stdout: () => {} });
  const results = { 'in-thread (runCommand)': await time(() => check(runCommand(component, wasi()))) };
  if (hasJspi()) {
    results['JSPI (runCommandAsync)'] = await time(async () =>
      check(await runCommandAsync(component, wasi())),
    );
  }
  const thread = new CommandThread(component);
  results['own thread (CommandThread)'] = await time(async () =>
    check(await thread.run({ args: ['wc'], stdin: STDIN, stdout: () => {} })),
  );
  await thread.close();
  // The first run of a new thread: the thread's start (modules, the component rebuilt) included.
  const cold = [];
  for (let i = 0; i < 10; i++) {
    const fresh = new CommandThread(component);
    const started = process.hrtime.bigint();
    check(await fresh.run({ args: ['wc'], stdin: STDIN, stdout: () => {} }));
    cold.push(Number(process.hrtime.bigint() - started));
    await fresh.close();
  }
  results['own thread, first run (thread start)'] = median(cold);
  return results;
}

/** A daemon with one scheduler thread, c-wc as a job and wat-http-hello at /hello. */
async function withDaemon(force, measure) {
  if (force) process.env.AIRSSYS_GUEST_THREADS = '1';
  const base = mkdtempSync(join(tmpdir(), 'bench-guest-threads-'));
  const daemon = await startDaemon({
    dataDir: join(base, 'data'),
    port: 0,
    threads: 1,
    httpListen: { bind: '127.0.0.1', port: 0 },
  });
  try {
    const install = async (name, wasm, manifest) => {
      const dir = join(base, name);
      mkdirSync(dir);
      copyFileSync(wasm, join(dir, 'component.wasm'));
      writeFileSync(join(dir, 'Component.toml'), manifest);
      await daemon.deployer.install(dir);
      await daemon.deployer.deploy(name);
    };
    await install('wc', WASM, MANIFEST);
    await install('hello', HELLO, HELLO_MANIFEST);
    return await measure(daemon);
  } finally {
    await daemon.close();
    delete process.env.AIRSSYS_GUEST_THREADS;
    rmSync(base, { recursive: true, force: true });
  }
}

const job = (daemon) =>
  time(async () => {
    const response = await fetch(`${daemon.url}/v1/addresses/wc/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${daemon.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ stdin: 'one two\nthree\n' }),
    });
    const body = await response.json();
    if (body.ok !== true || body.status !== 0) throw new Error(`the job failed: ${JSON.stringify(body)}`);
  });

const request = (daemon) =>
  time(async () => {
    const response = await fetch(`${daemon.http.url}/hello`);
    if ((await response.text()) !== 'hello world') throw new Error(`the request failed: ${response.status}`);
  });

const machine = machineInfo();
const lib = await library();
const own = hasJspi() ? 'own thread (forced)' : 'own thread (no JSPI)';
const daemon = {};
for (const force of hasJspi() ? [false, true] : [false]) {
  const path = force || !hasJspi() ? own : 'JSPI';
  await withDaemon(force, async (d) => {
    daemon[`daemon job, ${path}`] = await job(d);
    daemon[`daemon HTTP request, ${path}`] = await request(d);
  });
}
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ machine, runs: RUNS, library: lib, daemon }));
} else {
  console.log(`${describeMachine(machine)}; median of ${RUNS} runs of c-wc on 14 bytes`);
  for (const [name, ns] of Object.entries({ ...lib, ...daemon }))
    console.log(`  ${name.padEnd(42)} ${formatNs(ns)}`);
}
