// Engine benchmarks (issue #2): every figure is measured in the same run as its baselines —
// raw V8 WebAssembly on the same core module, the same component through plain `jco transpile`
// glue, and an equivalent @extism/extism plugin. Medians of ROUNDS rounds; ratios from medians.
//
//   npm run bench            (builds dist/ and fixtures first)
//   node bench/engine.mjs --json > bench/.tmp/engine.json
//
// Uses the built package (dist/), the same code the CLI runs.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transpile } from '@bytecodealliance/jco';
import createPlugin from '@extism/extism';
import { Engine } from '../dist/index.js';
import { median } from './support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'fixtures', 'build');
const tmp = join(root, 'bench', '.tmp');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const asJson = process.argv.includes('--json');

/**
 * ns per operation: median over rounds of a timed loop of `n` calls. Each figure gets its own
 * compiled loop (`new Function`) so V8's feedback for one callee does not make the call site
 * polymorphic for the next: otherwise whichever figure runs first looks fastest.
 */
function timeSync(fn, n) {
  const run = new Function(
    'fn',
    'n',
    'rounds',
    `for (let i = 0; i < Math.min(n, 20000); i++) fn(i);
     const per = [];
     for (let r = 0; r < rounds; r++) {
       const t = process.hrtime.bigint();
       for (let i = 0; i < n; i++) fn(i);
       per.push(Number(process.hrtime.bigint() - t) / n);
     }
     return per;`,
  );
  return median(run(fn, n, ROUNDS));
}

/**
 * Times `a` and `b` in alternating rounds, each with its own compiled loop, so both see the
 * same machine state; returns both medians and the median of the per-round ratios b/a.
 */
function pair(a, b, n) {
  const loop = () =>
    new Function(
      'fn',
      'n',
      `const t = process.hrtime.bigint();
       for (let i = 0; i < n; i++) fn(i);
       return Number(process.hrtime.bigint() - t) / n;`,
    );
  const runA = loop();
  const runB = loop();
  runA(a, Math.min(n, 20_000));
  runB(b, Math.min(n, 20_000));
  const as = [];
  const bs = [];
  const ratios = [];
  for (let r = 0; r < ROUNDS * 2; r++) {
    const x = runA(a, n);
    const y = runB(b, n);
    as.push(x);
    bs.push(y);
    ratios.push(y / x);
  }
  return { a: median(as), b: median(bs), ratio: median(ratios) };
}

async function timeAsync(fn, n) {
  for (let i = 0; i < Math.min(n, 2_000); i++) await fn(i);
  const per = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn(i);
    per.push(Number(process.hrtime.bigint() - t) / n);
  }
  return median(per);
}

const results = [];
function record(figure, ns, extra = {}) {
  results.push({ figure, ns, ...extra });
}

// ---------------------------------------------------------------------------------------------
const engine = new Engine({ cacheDir: join(tmp, 'cache') });
const basic = await engine.load(join(fixtures, 'basic'));
const kernel = await engine.load(join(fixtures, 'kernel'));
const hostile = await engine.load(join(fixtures, 'hostile'));
const hostileBytes = readFileSync(join(fixtures, 'hostile', 'component.wasm'));
const basicBytes = readFileSync(join(fixtures, 'basic', 'component.wasm'));
const kernelBytes = readFileSync(join(fixtures, 'kernel', 'component.wasm'));

/** The uninstrumented core module of a single-module component, compiled by V8 as is. */
function rawCore(component, bytes) {
  const { module } = component.plan.instances[component.plan.exports[0].core.instance];
  const { offset, length } = component.plan.modules[module];
  return new WebAssembly.Module(bytes.subarray(offset, offset + length));
}

// ---- add(u32, u32) ----------------------------------------------------------------------------
const rawBasic = new WebAssembly.Instance(rawCore(basic, basicBytes), {});
const rawAdd = rawBasic.exports.add;
const inst = basic.instantiate({});
const add = inst.exports.add;

mkdirSync(tmp, { recursive: true });
const jcoDir = join(tmp, 'jco-basic');
const { files } = await transpile(basicBytes, { name: 'basic', noTypescript: true });
for (const [name, data] of Object.entries(files)) {
  mkdirSync(dirname(join(jcoDir, name)), { recursive: true });
  writeFileSync(join(jcoDir, name), data);
}
writeFileSync(join(jcoDir, 'package.json'), '{"type":"module"}');
const jco = await import(pathToFileURL(join(jcoDir, 'basic.js')).href);

const extismBytes = readFileSync(join(fixtures, 'extism-add', 'plugin.wasm'));
const plugin = await createPlugin({ wasm: [{ data: extismBytes }] }, { useWasi: false, runInWorker: false });
const addInput = new Uint8Array(8);
new DataView(addInput.buffer).setUint32(0, 40, true);
new DataView(addInput.buffer).setUint32(4, 2, true);

const addPair = pair(
  (i) => rawAdd(i, 1),
  (i) => add(i, 1),
  2_000_000,
);
// TurboFan inlines a leaf wasm function this small into the JS caller; a function that touches
// any global (as every metered function must) is called, not inlined. This baseline shows it.
const wabt = await (await import('wabt')).default();
const globalAdd = new WebAssembly.Instance(
  new WebAssembly.Module(
    wabt
      .parseWat(
        'g.wat',
        `(module (global $g (mut i32) (i32.const 0))
          (func (export "add") (param i32 i32) (result i32)
            global.get $g i32.const 1 i32.add global.set $g local.get 0 local.get 1 i32.add))`,
      )
      .toBinary({}).buffer,
  ),
  {},
).exports.add;
const calledPair = pair(
  (i) => globalAdd(i, 1),
  (i) => add(i, 1),
  2_000_000,
);
const rawAddNs = addPair.a;
const oursAddNs = addPair.b;
const jcoAddNs = timeSync((i) => jco.add(i, 1), 200_000);
let extismCalls = 0;
const extismAddNs = await timeAsync(async () => {
  // Extism 1.0.3 fails after ~16k calls on one in-process plugin without reset().
  if (++extismCalls % 10_000 === 0) await plugin.reset();
  return plugin.call('add', addInput);
}, 5_000);
record('add: raw V8 core call', rawAddNs);
record('add: raw V8, same add also bumping a global (called, not inlined)', calledPair.a);
record('add: airssys-wasm (fuel on)', oursAddNs, { vsRaw: addPair.ratio, vsCalledRaw: calledPair.ratio });
record('add: jco 1.35 transpile glue', jcoAddNs, { oursFaster: jcoAddNs / oursAddNs });
record('add: @extism/extism 1.0.3 (in-process)', extismAddNs, { oursFaster: extismAddNs / oursAddNs });

// ---- echo(string of 22 chars) ----------------------------------------------------------------
const text = 'hello from the host!!!';
const echo = inst.exports.echo;
const encoder = new TextEncoder();
const oursEchoNs = timeSync(() => echo(text), 500_000);
const jcoEchoNs = timeSync(() => jco.echo(text), 100_000);
const textBytes = encoder.encode(text);
const extismEchoNs = await timeAsync(async () => {
  if (++extismCalls % 10_000 === 0) await plugin.reset();
  return plugin.call('echo', textBytes);
}, 5_000);
const encodeNs = timeSync(() => encoder.encode(text), 500_000);
record('echo(22 chars): airssys-wasm', oursEchoNs);
record('echo(22 chars): jco 1.35 transpile glue', jcoEchoNs, { oursFaster: jcoEchoNs / oursEchoNs });
record('echo(22 chars): @extism/extism 1.0.3', extismEchoNs, { oursFaster: extismEchoNs / oursEchoNs });
record('TextEncoder.encode(22 chars) alone', encodeNs);

// ---- warm instantiation ----------------------------------------------------------------------
// Raw: `new WebAssembly.Instance` of the component's own (uninstrumented) core module, compiled.
for (const [name, component, bytes] of [
  ['kernel (3 exports)', kernel, kernelBytes],
  ['hostile (7 exports)', hostile, hostileBytes],
  ['basic (24 exports)', basic, basicBytes],
]) {
  const rawModule = rawCore(component, bytes);
  const p = pair(
    () => new WebAssembly.Instance(rawModule, {}),
    () => component.instantiate({}),
    2_000,
  );
  record(`instantiate ${name}: raw V8`, p.a);
  record(`instantiate ${name}: airssys-wasm`, p.b, { vsRaw: p.ratio });
}

// ---- fuel metering overhead on CPU-bound kernels (C, clang -O2) -------------------------------
const rawKernel = new WebAssembly.Instance(rawCore(kernel, kernelBytes), {});
const kernelInst = kernel.instantiate({});
kernelInst.setBudget(Number.MAX_SAFE_INTEGER, 60_000);
for (const [label, name, args, n] of [
  ['sieve(1e6), tight array loop', 'sieve', [1_000_000], 5],
  ['mandel(64x64, 256), float loop', 'mandel', [64, 64, 256], 20],
  ['fib(25), recursive calls', 'fib', [25], 20],
]) {
  const raw = rawKernel.exports[name];
  const ours = kernelInst.exports[name];
  const p = pair(
    () => raw(...args),
    () => ours(...args),
    n,
  );
  record(`${label}: raw V8 (uninstrumented)`, p.a);
  record(`${label}: airssys-wasm (fuel on)`, p.b, { overhead: p.ratio - 1 });
}

// ---- cold start of `run` on a cached component (whole process) --------------------------------
const cli = join(root, 'dist', 'cli', 'airssys-wasm.js');
const runArgs = [
  cli,
  'run',
  join(fixtures, 'basic'),
  '--call',
  'add',
  '--args',
  '[1,2]',
  '--json',
  '--cache-dir',
  join(tmp, 'cache'),
];
spawnSync(process.execPath, runArgs); // warm the cache
const cold = [];
for (let i = 0; i < 15; i++) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, runArgs, { encoding: 'utf8' });
  cold.push(Number(process.hrtime.bigint() - t));
  if (r.status !== 0) throw new Error(`run failed: ${r.stdout}${r.stderr}`);
}
const nodeOnly = [];
for (let i = 0; i < 15; i++) {
  const t = process.hrtime.bigint();
  spawnSync(process.execPath, ['-e', '0']);
  nodeOnly.push(Number(process.hrtime.bigint() - t));
}
record('cold start: airssys-wasm run (cached component, whole process)', median(cold));
record('cold start: node -e 0 (for scale)', median(nodeOnly));

// ---------------------------------------------------------------------------------------------
const machine = {
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  rounds: ROUNDS,
};
if (asJson) {
  process.stdout.write(`${JSON.stringify({ machine, results }, null, 2)}\n`);
} else {
  console.log(
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}; median of ${ROUNDS} rounds`,
  );
  for (const r of results) {
    const fmt =
      r.ns >= 1e6
        ? `${(r.ns / 1e6).toFixed(2)} ms`
        : r.ns >= 1e3
          ? `${(r.ns / 1e3).toFixed(2)} µs`
          : `${r.ns.toFixed(1)} ns`;
    const extra = Object.entries(r)
      .filter(([k]) => k !== 'figure' && k !== 'ns')
      .map(([k, v]) => `${k} ${typeof v === 'number' ? v.toFixed(2) : v}`)
      .join(', ');
    console.log(`${r.figure.padEnd(66)} ${fmt.padStart(12)}  ${extra}`);
  }
}
