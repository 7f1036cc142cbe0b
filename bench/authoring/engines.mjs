// Which JavaScript engine `airssys-wasm build` uses (issue #7): the same trivial component for the
// world airssys:core/component — handle-message increments a storage counter through
// host-services and replies with the request's payload — built with componentize-js
// (StarlingMonkey; 0.19.3 and 0.22.0, both installed by @bytecodealliance/jco) and with
// componentize-qjs (QuickJS, synchronous runtime, WASI stubbed; default and opt-size runtimes).
//
// For each build: size and build time; then, through this package's engine: whether it loads,
// compile time, instantiate time, linear memory of a fresh instance, handle-message per call
// (direct call, and a request through ComponentHost), fuel per call, linear memory after many
// calls, and resident memory per instance. Builds our engine cannot load are measured through
// jco's transpiled glue in a child process started with --experimental-wasm-extended-const, as a
// reference for what they would cost.
//
//   npm run build && node bench/authoring/engines.mjs [--json] [--reuse]
//
// --reuse keeps the builds in bench/.tmp/authoring/ from an earlier run (build times are then
// those of that run). Re-runs itself with --expose-gc (resident memory needs a forced GC).

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine, machineInfo, median, withExposedGc } from '../support.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const dist = join(root, 'dist');
const work = join(root, 'bench', '.tmp', 'authoring');
const LC = 'airssys:core/component-lifecycle@1.0.0';
const HS = 'airssys:core/host-services@1.0.0';

// ---------------------------------------------------------------------------------------------
// child mode: a build measured through jco transpile (needs the extended-const flag for QuickJS)

if (process.argv[2] === '--jco-child') {
  const [file, calls] = [process.argv[3], Number(process.argv[4])];
  const { transpileBytes } = await import('@bytecodealliance/jco-transpile');
  const out = join(dirname(file), `jco-${Math.random().toString(36).slice(2)}`);
  const { files } = await transpileBytes(await readFile(file), {
    name: 'component',
    instantiation: { tag: 'async' },
  });
  await mkdir(out, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(dirname(join(out, name)), { recursive: true });
    await writeFile(join(out, name), bytes);
  }
  await writeFile(join(out, 'package.json'), '{"type":"module"}');
  const { instantiate } = await import(pathToFileURL(join(out, 'component.js')).href);
  const modules = new Map();
  const getCoreModule = (name) => {
    if (!modules.has(name)) modules.set(name, new WebAssembly.Module(files[name]));
    return modules.get(name);
  };
  // jco's host-side glue: s64 and u64 are bigint, option<T> none is undefined.
  const counter = { n: 0n };
  const services = { storageIncrement: (_ns, _key, delta) => (counter.n += BigInt(delta)) };
  const host = new Proxy(services, { get: (t, k) => t[k] ?? (() => undefined) });
  // Compile every core module first: instantiation is what is timed.
  for (const name of Object.keys(files)) if (name.endsWith('.wasm')) getCoreModule(name);
  let memories = [];
  const instantiateOnce = () =>
    instantiate(getCoreModule, { [HS.replace(/@.*/, '')]: host }, (m, i) => {
      const inst = new WebAssembly.Instance(m, i);
      for (const v of Object.values(inst.exports)) if (v instanceof WebAssembly.Memory) memories.push(v);
      return inst;
    });
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await instantiateOnce();
    times.push(performance.now() - t0);
  }
  const instantiateMs = median(times);
  memories = [];
  const instance = await instantiateOnce();
  const lc = instance.componentLifecycle;
  lc.init([]);
  const message = {
    kind: 'request',
    sender: 'host',
    target: 'bench',
    topic: undefined,
    correlationId: 1n,
    codec: 0x55,
    payload: new TextEncoder().encode('ping'),
  };
  const perCall = [];
  for (let round = 0; round < 6; round++) {
    const t = performance.now();
    for (let i = 0; i < calls; i++) lc.handleMessage(message);
    if (round > 0) perCall.push(((performance.now() - t) / calls) * 1000);
  }
  const memoryBytes = memories.reduce((s, m) => s + m.buffer.byteLength, 0);
  await rm(out, { recursive: true, force: true });
  process.stdout.write(
    JSON.stringify({ instantiateMs, perCallUs: median(perCall), memoryBytes, calls: calls * 6 }),
  );
  process.exit(0);
}

withExposedGc(import.meta.url);

const asJson = process.argv.includes('--json');
const reuse = process.argv.includes('--reuse');
const say = (line) => process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------
// the component, once per binding convention

const WIT = await readFile(join(root, 'wit', 'core', 'core.wit'), 'utf8');

// componentize-js: named imports, s64 as bigint.
const SOURCE_SM = `import { storageIncrement } from '${HS}';
export const componentLifecycle = {
  init(config) {},
  handleMessage(message) {
    storageIncrement('bench', 'count', 1n);
    return { tag: 'reply', val: { codec: 0x55, payload: message.payload } };
  },
  health() { return 'healthy'; },
  shutdown() {},
};
`;

// componentize-qjs: the interface as a default import, s64 as number.
const SOURCE_QJS = `import hs from '${HS}';
export const componentLifecycle = {
  init(config) {},
  handleMessage(message) {
    hs.storageIncrement('bench', 'count', 1);
    return { tag: 'reply', val: { codec: 0x55, payload: message.payload } };
  },
  health() { return 'healthy'; },
  shutdown() {},
};
`;

const MANIFEST = (name) => `[component]
name = "${name}"
version = "0.1.0"
wasm = "component.wasm"
world = "airssys:core/component@1.0.0"

[resources]
memory = "1GiB"
fuel = 1_000_000_000
timeout-ms = 10000

[permissions]
storage = { namespaces = ["bench"] }
`;

const require = createRequire(import.meta.url);
const version = (pkg) => {
  const file = join(root, 'node_modules', ...pkg.split('/'), 'package.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : undefined;
};

const { componentize: componentizeJs } = await import(
  pathToFileURL(join(dist, 'authoring', 'componentize.js')).href
);

/** A componentize-js (StarlingMonkey) build from the named package. */
function starlingMonkey(name, pkg) {
  return {
    name,
    label: `componentize-js ${version(pkg)} (StarlingMonkey)`,
    installed: version(pkg) !== undefined,
    async build(dir) {
      await writeFile(join(dir, 'core.wit'), WIT);
      const r = await componentizeJs({
        code: SOURCE_SM,
        witFile: join(dir, 'core.wit'),
        world: 'component',
        projectDir: root,
        package: pkg,
      });
      return r.component;
    },
  };
}

const VARIANTS = [
  starlingMonkey('sm-0-19-3', '@bytecodealliance/componentize-js-0-19-3'),
  starlingMonkey('sm-0-22', '@bytecodealliance/componentize-js'),
  ...[
    ['qjs-sync', 'sync runtime', { sync: true }],
    ['qjs-sync-opt-size', 'sync opt-size runtime', { sync: true, optSize: true }],
  ].map(([name, what, options]) => ({
    name,
    label: `componentize-qjs ${version('componentize-qjs')} (QuickJS, ${what}, WASI stubbed)`,
    installed: version('componentize-qjs') !== undefined,
    async build(dir) {
      await writeFile(join(dir, 'core.wit'), WIT);
      const { componentize } = require('componentize-qjs');
      const { component } = await componentize({
        witPath: join(dir, 'core.wit'),
        jsSource: SOURCE_QJS,
        world: 'component',
        stubWasi: true,
        ...options,
      });
      return new Uint8Array(component);
    },
  })),
];

// ---------------------------------------------------------------------------------------------
// measuring

const { Engine, ComponentHost, parseManifest, resolvePolicy } = await import(
  pathToFileURL(join(dist, 'index.js')).href
);
const policy = { maxMemoryBytes: 2 ** 30 };

function coreModules(buf, out = []) {
  // Core modules nested anywhere in a component (section 1 = core module, 4 = component).
  let pos = 8;
  while (pos < buf.length) {
    const id = buf[pos];
    let size = 0;
    let shift = 0;
    let p = pos + 1;
    for (;;) {
      const b = buf[p++];
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    const body = buf.subarray(p, p + size);
    if (id === 1) out.push(body);
    if (id === 4) coreModules(body, out);
    pos = p + size;
  }
  return out;
}

/** Which core modules V8 (as started, without flags) refuses, and why. */
function v8Refusals(bytes) {
  const refused = [];
  for (const m of coreModules(bytes)) {
    try {
      new WebAssembly.Module(m);
    } catch (e) {
      refused.push(
        `${(m.length / 1024).toFixed(0)} KiB module: ${e.message.replace(/^WebAssembly\.Module\(\): /, '')}`,
      );
    }
  }
  return refused;
}

function hostImports(component, counter) {
  const services = {
    'storage-increment': (_ns, _key, delta) => ({ tag: 'ok', val: (counter.n += delta) }),
  };
  const imports = {};
  for (const imp of component.plan.imports) {
    if (imp.kind !== 'instance') continue;
    imports[imp.name] = Object.fromEntries(
      Object.keys(imp.funcs).map((f) => [f, services[f] ?? (() => ({ tag: 'ok' }))]),
    );
  }
  return imports;
}

const rss = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().rss;
};

async function throughOurEngine(bytes, name) {
  const manifest = parseManifest(MANIFEST(name), { baseDir: work, policy: resolvePolicy(policy) });
  const engine = new Engine({ policy, cacheDir: false });
  let t = performance.now();
  let component;
  try {
    component = engine.compile(bytes, manifest);
  } catch (e) {
    return { loads: false, error: `${e.code}: ${e.message}` };
  }
  const compileMs = performance.now() - t;
  const counter = { n: 0n };
  const imports = hostImports(component, counter);
  const instantiateMs = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    component.instantiate(imports);
    instantiateMs.push(performance.now() - t);
  }
  const instance = component.instantiate(imports);
  const freshMemory = instance.memoryBytes;
  instance.call(`${LC}#init`, [[]]);
  const message = {
    kind: 'request',
    sender: 'host',
    target: name,
    topic: undefined,
    correlationId: 1n,
    codec: 0x55,
    payload: new TextEncoder().encode('ping'),
  };
  const handle = instance.resolve(`${LC}#handle-message`);
  const CALLS = 2000;
  const perCall = [];
  for (let round = 0; round < 6; round++) {
    t = performance.now();
    for (let i = 0; i < CALLS; i++) handle(message);
    if (round > 0) perCall.push(((performance.now() - t) / CALLS) * 1000); // round 0 warms up
  }
  const fuel = instance.invoke(`${LC}#handle-message`, [message]).fuel;
  const memoryAfter = instance.memoryBytes;
  const calls = CALLS * 6 + 1;

  // Resident memory per instance: eight more instances, each initialised and called once.
  const before = rss();
  const kept = [];
  for (let i = 0; i < 8; i++) {
    const extra = component.instantiate(imports);
    extra.call(`${LC}#init`, [[]]);
    extra.call(`${LC}#handle-message`, [message]);
    kept.push(extra);
  }
  const rssPerInstance = (rss() - before) / kept.length;

  // A request through the actor host (threads: 0): mailbox, lifecycle, storage, reply.
  const host = await ComponentHost.create({ threads: 0 });
  let requestUs;
  try {
    await host.start(component, { address: name });
    for (let i = 0; i < 200; i++) await host.request(name, 'ping');
    const times = [];
    for (let i = 0; i < 500; i++) {
      const s = performance.now();
      await host.request(name, 'ping');
      times.push((performance.now() - s) * 1000);
    }
    requestUs = median(times);
  } finally {
    await host.close();
  }
  return {
    loads: true,
    compileMs,
    instantiateMs: median(instantiateMs),
    freshMemoryBytes: freshMemory,
    perCallUs: median(perCall),
    requestUs,
    fuelPerCall: fuel,
    memoryAfterBytes: memoryAfter,
    callsForMemory: calls,
    rssPerInstanceBytes: rssPerInstance,
  };
}

function throughJco(file) {
  const r = spawnSync(
    process.execPath,
    ['--experimental-wasm-extended-const', fileURLToPath(import.meta.url), '--jco-child', file, '2000'],
    { encoding: 'utf8', cwd: root, maxBuffer: 1 << 20 },
  );
  if (r.status !== 0) return { error: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ') };
  return JSON.parse(r.stdout);
}

// ---------------------------------------------------------------------------------------------

await mkdir(work, { recursive: true });
const results = [];
for (const variant of VARIANTS) {
  if (!variant.installed) {
    say(`${variant.name}: not installed, skipped`);
    continue;
  }
  const dir = join(work, variant.name);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'component.wasm');
  let bytes;
  let buildMs;
  if (reuse && existsSync(file) && existsSync(join(dir, 'build-ms'))) {
    bytes = new Uint8Array(await readFile(file));
    buildMs = Number(await readFile(join(dir, 'build-ms'), 'utf8'));
  } else {
    say(`${variant.name}: building…`);
    const t = performance.now();
    bytes = await variant.build(dir);
    buildMs = performance.now() - t;
    await writeFile(file, bytes);
    await writeFile(join(dir, 'build-ms'), String(Math.round(buildMs)));
  }
  say(
    `${variant.name}: ${(bytes.length / 1024 / 1024).toFixed(2)} MiB in ${(buildMs / 1000).toFixed(1)} s; measuring…`,
  );
  const refusals = v8Refusals(bytes);
  const ours = await throughOurEngine(bytes, variant.name);
  const jco = throughJco(file);
  results.push({
    variant: variant.name,
    label: variant.label,
    bytes: bytes.length,
    buildMs,
    v8Refusals: refusals,
    ours,
    jco,
  });
}

// ---------------------------------------------------------------------------------------------
// report

const machine = describeMachine(machineInfo());
if (asJson) {
  process.stdout.write(`${JSON.stringify({ machine, date: new Date().toISOString(), results }, null, 2)}\n`);
} else {
  const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const us = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(1)} µs`);
  const ms = (x) => (x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(1)} ms`);
  const lines = [
    `Machine: ${machine}`,
    '',
    `| figure | ${results.map((r) => r.variant).join(' | ')} |`,
    `|---|${results.map(() => '---:').join('|')}|`,
  ];
  const shown = (v) => (v === undefined || v === false || v === null ? '—' : v);
  const row = (name, f) => lines.push(`| ${name} | ${results.map((r) => shown(f(r))).join(' | ')} |`);
  row('component size', (r) => mib(r.bytes));
  row('build time', (r) => ms(r.buildMs));
  row('core modules V8 (no flags) refuses', (r) => String(r.v8Refusals.length));
  row('loads in airssys-wasm', (r) => (r.ours.loads ? 'yes' : 'no'));
  row('compile (validate, instrument, compile; no cache)', (r) => r.ours.loads && ms(r.ours.compileMs));
  row('instantiate', (r) => (r.ours.loads ? ms(r.ours.instantiateMs) : undefined));
  row('linear memory, fresh instance', (r) => r.ours.loads && mib(r.ours.freshMemoryBytes));
  row('handle-message, direct call', (r) => r.ours.loads && us(r.ours.perCallUs));
  row('request through ComponentHost (threads: 0)', (r) => r.ours.loads && us(r.ours.requestUs));
  row('fuel per handle-message', (r) => r.ours.loads && String(r.ours.fuelPerCall));
  row('linear memory after 12,001 calls', (r) => r.ours.loads && mib(r.ours.memoryAfterBytes));
  row('resident memory per instance (RSS)', (r) => r.ours.loads && mib(r.ours.rssPerInstanceBytes));
  row('jco glue + V8 flag: instantiate', (r) => r.jco && !r.jco.error && ms(r.jco.instantiateMs));
  row('jco glue + V8 flag: handle-message', (r) => r.jco && !r.jco.error && us(r.jco.perCallUs));
  row(
    'jco glue + V8 flag: linear memory after 12,000 calls',
    (r) => r.jco && !r.jco.error && mib(r.jco.memoryBytes),
  );
  lines.push('');
  for (const r of results) {
    lines.push(`${r.variant}: ${r.label}`);
    if (!r.ours.loads) lines.push(`  airssys-wasm: ${r.ours.error}`);
    for (const why of r.v8Refusals) lines.push(`  V8 without --experimental-wasm-extended-const: ${why}`);
    if (r.jco?.error) lines.push(`  jco reference failed: ${r.jco.error}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
