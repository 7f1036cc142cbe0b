// Dashboard first paint with 1,000 installed versions (issue #7): a daemon (the example components
// plus 1,000 copies of `echo` under other names, each installed through `Deployer.install`), then
// headless Chromium loads the dashboard ROUNDS times, each in a fresh context (no cache, no
// sessionStorage), after one warm-up load. Measured by the page, from navigation start: first
// contentful paint, and "ready" — when the first frame showing every row of the installed-components
// table and every address card has been laid out and painted. Also when the API responses ended
// (the daemon's share) and the page's main-thread CPU time (steadier than wall time on a busy
// machine). Medians of ROUNDS. Target: ready ≤ 1 s.
//
//   npm run build && npm run fixtures && node bench/daemon/first-paint.mjs [--json]

import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine, machineInfo } from '../support.mjs';

const CHROMIUM = '/usr/bin/chromium';
const COPIES = Number(process.env.BENCH_COPIES ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TARGET_MS = 1000;
const json = process.argv.includes('--json');
const loadAtStart = loadavg()[0];

if (!existsSync(CHROMIUM)) {
  console.error(
    `first-paint: ${CHROMIUM} is missing: run \`bash .ci/install-system-deps.sh\` (as root or with sudo)`,
  );
  process.exit(1);
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const examples = join(root, 'fixtures', 'build');
const { startDaemon } = await import(pathToFileURL(join(root, 'dist', 'daemon', 'daemon.js')).href);
const { chromium } = await import('playwright-core');

// 1,000 component folders: echo's binary under another name each.
const work = mkdtempSync(join(tmpdir(), 'airssys-bench-paint-'));
const manifest = readFileSync(join(examples, 'echo', 'Component.toml'), 'utf8');
const folders = [];
for (let i = 0; i < COPIES; i++) {
  const name = `echo-${String(i).padStart(4, '0')}`;
  const folder = join(work, 'components', name);
  mkdirSync(folder, { recursive: true });
  copyFileSync(join(examples, 'echo', 'component.wasm'), join(folder, 'component.wasm'));
  writeFileSync(join(folder, 'Component.toml'), manifest.replace(/^name = "echo"$/m, `name = "${name}"`));
  folders.push(folder);
}

let daemon;
let browser;
let rows;
let addresses;
let installMs;
let chromiumVersion;
let warmUp;
const runs = [];
try {
  daemon = await startDaemon({ dataDir: join(work, 'data'), port: 0, threads: 0, examples });
  const started = performance.now();
  for (const folder of folders) await daemon.deployer.install(folder);
  installMs = performance.now() - started;
  rows = daemon.deployer.registry.list().length;
  addresses = daemon.host.addresses().length;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
  chromiumVersion = browser.version();
  warmUp = await load();
  for (let i = 0; i < ROUNDS; i++) runs.push(await load());
} finally {
  await browser?.close();
  await daemon?.close();
  rmSync(work, { recursive: true, force: true });
}

/** One load in a fresh context: times in ms since navigation start, measured by the page. */
async function load() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.goto(`${daemon.url}/#token=${daemon.token}`, { waitUntil: 'commit' });
  // Note: animation-frame callbacks run before that frame's style, layout and paint; a task queued
  // from the first frame that has every row runs once that frame's main-thread work is done.
  const ready = await page.evaluate(
    ([rows, cards]) =>
      new Promise((resolve, reject) => {
        setTimeout(() => reject(new Error(`the dashboard did not show ${rows} rows in 30 s`)), 30_000);
        const check = () => {
          const done =
            document.querySelectorAll('#components tbody tr').length === rows &&
            document.querySelectorAll('#addresses article.card').length === cards;
          if (done) setTimeout(() => resolve(performance.now()));
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      }),
    [rows, addresses],
  );
  const { metrics } = await cdp.send('Performance.getMetrics');
  const figures = await page.evaluate((ready) => {
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    const [nav] = performance.getEntriesByType('navigation');
    const response = (path) =>
      performance.getEntriesByType('resource').find((r) => new URL(r.name).pathname === path)?.responseEnd;
    return {
      ready,
      fcp: paint?.startTime,
      domContentLoaded: nav?.domContentLoadedEventEnd,
      status: response('/v1/status'),
      components: response('/v1/components'),
    };
  }, ready);
  // CPU time of the page's main thread so far: what the page costs, whatever else the machine runs.
  figures.mainThreadCpu = metrics.find((m) => m.name === 'ThreadTime').value * 1000;
  await context.close();
  return figures;
}

const median = (key) => {
  const sorted = runs.map((r) => r[key]).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const medians = Object.fromEntries(Object.keys(runs[0]).map((key) => [key, median(key)]));
const machine = {
  ...machineInfo(),
  chromium: chromiumVersion,
  loadAverage: loadAtStart,
};
const ok = medians.ready <= TARGET_MS;

if (json) {
  console.log(
    JSON.stringify({ machine, rows, addresses, installMs, targetMs: TARGET_MS, ok, medians, runs, warmUp }),
  );
} else {
  const ms = (n) => (n === undefined ? '—' : `${Math.round(n)} ms`);
  const line = (label, text) => `  ${label.padEnd(38)}${text}`;
  console.log(
    [
      `dashboard first paint, ${rows} installed versions, ${addresses} addresses (median of ${ROUNDS} loads, fresh context each)`,
      line(
        'ready (full table + address cards)',
        `${ms(medians.ready)}  ${ok ? '≤' : '>'} target ${TARGET_MS} ms  (runs ${runs.map((r) => Math.round(r.ready)).join(' / ')})`,
      ),
      line('first contentful paint', ms(medians.fcp)),
      line('DOMContentLoaded', ms(medians.domContentLoaded)),
      line('/v1/status response end', ms(medians.status)),
      line('/v1/components response end', ms(medians.components)),
      line('page main-thread CPU until ready', ms(medians.mainThreadCpu)),
      line('warm-up load (not counted)', `ready ${ms(warmUp.ready)}, fcp ${ms(warmUp.fcp)}`),
      line('setup', `${COPIES} installs through Deployer.install in ${(installMs / 1000).toFixed(1)} s`),
      `machine: ${describeMachine(machine)}, Chromium ${machine.chromium}, load average ${loadAtStart.toFixed(1)} at the start`,
    ].join('\n'),
  );
}
if (!ok) process.exitCode = 1;
