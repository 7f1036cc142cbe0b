// `airssys-wasm run` against `jco run` (jco's preview2-shim, the reference JavaScript host) and
// `node -e 0`, whole processes, same run: the cold start of a C command, and the cost of one WASI
// call made from C (clock_gettime → monotonic-clock now; a 4 KiB write(2) → a stream write),
// taken as (time with N calls − time with none) / N so that start-up cancels out. Output goes to
// /dev/null for both hosts.
//
//   npm run build && npm run fixtures && node bench/wasi-run.mjs [--json]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentNew } from '@bytecodealliance/jco-transpile/wasm-tools';
import { describeMachine, formatNs, machineInfo, median } from './support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = join(root, 'bench', '.tmp', 'wasi-run');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
mkdirSync(tmp, { recursive: true });

const LOOP = `
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static char block[4096];
int main(int argc, char **argv) {
  long n = argc > 2 ? atol(argv[2]) : 0;
  struct timespec ts;
  if (argc > 1 && strcmp(argv[1], "clock") == 0)
    for (long i = 0; i < n; i++) clock_gettime(CLOCK_MONOTONIC, &ts);
  else
    for (long i = 0; i < n; i++) write(1, block, sizeof block);
  return 0;
}`;

function buildLoop() {
  writeFileSync(join(tmp, 'loop.c'), LOOP);
  execFileSync('clang', [
    '--target=wasm32-wasi',
    '--sysroot=/usr',
    '-O2',
    '-o',
    join(tmp, 'loop.core.wasm'),
    join(tmp, 'loop.c'),
  ]);
  const adapter = readFileSync(
    join(root, 'node_modules/@bytecodealliance/jco/lib/wasi_snapshot_preview1.command.wasm'),
  );
  return componentNew(readFileSync(join(tmp, 'loop.core.wasm')), [['wasi_snapshot_preview1', adapter]]);
}

const CLI = join(root, 'dist', 'cli', 'airssys-wasm.js');
const JCO = join(root, 'node_modules/@bytecodealliance/jco/dist/jco.js');
const hosts = {
  'airssys-wasm run': (file, args) => [CLI, 'run', '--cache-dir', join(tmp, 'cache'), file, '--', ...args],
  'jco run': (file, args) => [JCO, 'run', '--jco-dir', join(tmp, 'jco'), file, ...args],
};

/** Wall time of one whole process, in ns; stdout to /dev/null, stdin empty. */
function timeProcess(argv) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  const ns = Number(process.hrtime.bigint() - t);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ns;
}

// The loop runs with a manifest: a bare .wasm's default fuel (50 M) would stop 5 M calls.
const loopDir = join(tmp, 'loop');
mkdirSync(loopDir, { recursive: true });
writeFileSync(join(loopDir, 'loop.wasm'), await buildLoop());
writeFileSync(
  join(loopDir, 'Component.toml'),
  '[component]\nname = "loop"\nversion = "0.0.0"\nwasm = "loop.wasm"\n[resources]\nmemory = "4MiB"\nfuel = 100_000_000_000\ntimeout-ms = 120_000\n',
);
const loopFor = { 'airssys-wasm run': loopDir, 'jco run': join(loopDir, 'loop.wasm') };
const wc = join(root, 'fixtures', 'build', 'c-wc', 'component.wasm');
const results = [];
const record = (figure, ns, extra = {}) => results.push({ figure, ns, ...extra });

// Cold start: warm each host's cache once, then alternate rounds.
for (const make of Object.values(hosts)) timeProcess(make(wc, []));
const cold = Object.fromEntries(Object.keys(hosts).map((h) => [h, []]));
const bare = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, make] of Object.entries(hosts)) cold[name].push(timeProcess(make(wc, [])));
  bare.push(timeProcess(['-e', '0']));
}
const ours = median(cold['airssys-wasm run']);
const theirs = median(cold['jco run']);
record('cold start, C wc on empty stdin: airssys-wasm run', ours, {
  vsJco: ours / theirs,
  vsNode: ours / median(bare),
});
record('cold start, C wc on empty stdin: jco run', theirs);
record('cold start: node -e 0', median(bare));

// Per call: the slope between 0 and N calls.
// N per host, so that the N calls take about a second on each (jco's clock costs ~50× ours).
const CALLS = {
  clock: { 'airssys-wasm run': 5_000_000, 'jco run': 200_000 },
  write: { 'airssys-wasm run': 50_000, 'jco run': 50_000 },
};
for (const mode of ['clock', 'write']) {
  const per = {};
  for (const [name, make] of Object.entries(hosts)) {
    const n = CALLS[mode][name];
    const slopes = [];
    for (let r = 0; r < Math.max(3, ROUNDS - 2); r++) {
      const none = timeProcess(make(loopFor[name], [mode, '0']));
      const many = timeProcess(make(loopFor[name], [mode, String(n)]));
      slopes.push((many - none) / n);
    }
    per[name] = median(slopes);
  }
  const what = mode === 'clock' ? 'clock_gettime (monotonic-clock now)' : 'write(1, 4 KiB) (a stream write)';
  record(`${what}: airssys-wasm`, per['airssys-wasm run'], {
    vsJco: per['airssys-wasm run'] / per['jco run'],
  });
  record(`${what}: jco preview2-shim`, per['jco run']);
}

const machine = machineInfo();
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ machine, rounds: ROUNDS, results }, null, 2));
} else {
  console.log(`${describeMachine(machine)}; median of ${ROUNDS} rounds`);
  for (const r of results) {
    const extra = Object.entries(r)
      .filter(([k]) => k !== 'figure' && k !== 'ns')
      .map(([k, v]) => `${k} ${v.toFixed(2)}×`)
      .join(', ');
    console.log(`${r.figure.padEnd(60)} ${formatNs(r.ns).padStart(12)}  ${extra}`);
  }
}
