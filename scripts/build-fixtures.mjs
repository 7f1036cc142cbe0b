#!/usr/bin/env node
// Builds the test/benchmark fixtures: fixtures/src/<name>/ -> fixtures/build/<name>/, and the
// example components: examples/<folder>/ -> examples/build/<name>/ (see examples/README.md).
//
//   node scripts/build-fixtures.mjs [--force] [--list] [name ...]
//
// Each fixture is rebuilt only when the sha256 of its inputs (every file in its source folder,
// the recipe below, the versions of the tools it uses) differs from the one stored in
// fixtures/build/<name>/.source-hash, or when an output is missing. Outputs are written to a
// temporary file and renamed, so a concurrent reader never sees half a file.
//
// Besides its binary (component.wasm, or plugin.wasm for extism-add) and the copied
// Component.toml, every fixture gets build-info.json (size, build time, imports, core memories)
// and world.wit (the WIT decoded back from the binary).
//
// System tools: clang + wasm-ld (+ wasi-libc) for the C fixtures: see .ci/install-system-deps.sh.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'fixtures', 'src');
const BUILD = join(ROOT, 'fixtures', 'build');
const EXAMPLES = join(ROOT, 'examples');
const NODE_MODULES = join(ROOT, 'node_modules');
const ADAPTER = join(NODE_MODULES, '@bytecodealliance', 'jco', 'lib', 'wasi_snapshot_preview1.reactor.wasm');
const COMMAND_ADAPTER = join(
  NODE_MODULES,
  '@bytecodealliance',
  'jco',
  'lib',
  'wasi_snapshot_preview1.command.wasm',
);
// Bump when the hashing or output layout changes: every fixture rebuilds.
const LAYOUT_VERSION = '1';

class BuildError extends Error {}

// ---------------------------------------------------------------------------------------------
// tools

let wasmToolsPromise;
function wasmTools() {
  wasmToolsPromise ??= import('@bytecodealliance/jco-transpile/wasm-tools');
  return wasmToolsPromise;
}

const versionCache = new Map();
async function pkgVersion(name) {
  if (!versionCache.has(name)) {
    const file = join(NODE_MODULES, ...name.split('/'), 'package.json');
    let v = 'missing';
    try {
      v = JSON.parse(await readFile(file, 'utf8')).version;
    } catch {}
    versionCache.set(name, v);
  }
  return versionCache.get(name);
}

let clangVersion;
function clang() {
  if (clangVersion === undefined) {
    try {
      clangVersion = execFileSync('clang', ['--version'], { encoding: 'utf8' }).split('\n')[0];
    } catch {
      clangVersion = null;
    }
  }
  if (!clangVersion) {
    throw new BuildError('clang not found: run `sudo .ci/install-system-deps.sh` (clang, lld, wasi-libc)');
  }
  return clangVersion;
}

function runClang(args) {
  try {
    execFileSync('clang', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (e) {
    const out = `${e.stderr ?? ''}${e.stdout ?? ''}`.trim() || e.message;
    throw new BuildError(`clang ${args.join(' ')} failed:\n${out}`);
  }
}

async function tmpDir() {
  return mkdtemp(join(tmpdir(), 'airssys-fixture-'));
}

async function watToCore(file) {
  const { parse } = await wasmTools();
  try {
    return await parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new BuildError(`${relative(ROOT, file)}: ${errText(e)}`);
  }
}

async function coreToComponent(core, witFile, world, adapters) {
  return witToComponent(core, await readFile(witFile, 'utf8'), relative(ROOT, witFile), world, adapters);
}

// `witName` only names the source in errors.
async function witToComponent(core, witSource, witName, world, adapters) {
  const { componentEmbed, componentNew } = await wasmTools();
  let embedded;
  try {
    embedded = await componentEmbed({ binary: core, witSource, world });
  } catch (e) {
    throw new BuildError(`embedding ${witName} (world ${world}): ${errText(e)}`);
  }
  try {
    return await componentNew(embedded, adapters);
  } catch (e) {
    throw new BuildError(`component new (world ${world}): ${errText(e)}`);
  }
}

function errText(e) {
  return String(e?.payload ?? e?.message ?? e);
}

// componentize-js 0.22's bindings import @bytecodealliance/preview2-shim without declaring it;
// npm nests that package under jco, where Node's resolver does not look from componentize-js.
// Retry such imports as if they came from jco.
let hookInstalled = false;
function installPreview2ShimResolver() {
  if (hookInstalled) return;
  hookInstalled = true;
  const from = pathToFileURL(join(NODE_MODULES, '@bytecodealliance', 'jco', 'package.json')).href;
  const hook = `export async function resolve(spec, ctx, next) {
  try { return await next(spec, ctx); } catch (e) {
    if (spec === '@bytecodealliance/preview2-shim' || spec.startsWith('@bytecodealliance/preview2-shim/')) {
      return next(spec, { ...ctx, parentURL: ${JSON.stringify(from)} });
    }
    throw e;
  }
}`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}

// ---------------------------------------------------------------------------------------------
// fixtures: each `build(dir)` returns { 'file name': bytes }; `fingerprint()` lists tool versions

const JCO_TRANSPILE = async () => [`jco-transpile ${await pkgVersion('@bytecodealliance/jco-transpile')}`];

function watComponent(name, world) {
  return {
    name,
    kind: 'component',
    fingerprint: JCO_TRANSPILE,
    async build(dir) {
      const core = await watToCore(join(dir, 'component.wat'));
      return { 'component.wasm': await coreToComponent(core, join(dir, 'component.wit'), world) };
    },
  };
}

// Components written in C with the kit in kit/c/ (airssys.h + airssys.c) for the host's own world
// airssys:core/component@1.0.0. The kit and the WIT are inputs of every such fixture, so editing
// either rebuilds them. Memory stays small: 64 KiB initially (grown on demand up to the
// manifest's limit) with a 16 KiB stack placed first, so an overflow traps.
const KIT = join(ROOT, 'kit', 'c');
const CORE_WIT = join(ROOT, 'wit', 'core', 'core.wit');
const KIT_INPUTS = [join(KIT, 'airssys.h'), join(KIT, 'airssys.c'), CORE_WIT];
const EXT_WIT = join(ROOT, 'wit', 'ext');
const EXT_KIT = [join(KIT, 'airssys_ext.h'), join(KIT, 'airssys_ext.c')];

// The WIT to embed for a C component that also calls extension interfaces: core.wit as the root
// package, each wit/ext/<name>.wit as a nested package block, and the fixture's own world in a
// nested package `airssys:fixtures`: `world` (component, or migratable-component) plus an import
// of every interface the ext packages define. Returns { source, world } (the fully qualified
// world to select). Only the interfaces the core module calls end up imported by the component.
async function extWit(name, world, ext) {
  const blocks = [];
  const imports = [];
  for (const e of ext) {
    const file = join(EXT_WIT, `${e}.wit`);
    const text = await readFile(file, 'utf8');
    const pkg = /^package\s+([^;\s]+)\s*;/m.exec(text);
    if (!pkg) throw new BuildError(`${relative(ROOT, file)}: no \`package …;\` line`);
    const [id, version] = pkg[1].split('@');
    for (const m of text.matchAll(/^interface\s+([\w-]+)/gm)) {
      imports.push(`import ${id}/${m[1]}${version ? `@${version}` : ''};`);
    }
    blocks.push(
      `${text.slice(0, pkg.index)}package ${pkg[1]} {\n${text.slice(pkg.index + pkg[0].length)}}\n`,
    );
  }
  const own = `package airssys:fixtures {\n  world ${name} {\n    include airssys:core/${world}@1.0.0;\n${imports
    .map((i) => `    ${i}\n`)
    .join('')}  }\n}\n`;
  return {
    source: [await readFile(CORE_WIT, 'utf8'), ...blocks, own].join('\n'),
    world: `airssys:fixtures/${name}`,
  };
}

// A C program built with wasi-libc, made a component with the jco preview1 adapter: a reactor
// exporting the world in component.wit beside the source (named after the fixture), or with
// `{ command: true }` a program with `main`, exporting wasi:cli/run (no WIT of its own).
/**
 * A componentize-js component of a WASI world (`world.wit` beside `index.js`, world named as
 * the fixture). componentize-js takes one WIT text (its splicer runs in wasm without file
 * access), so the world and the WASI packages go in as nested `package … { }` blocks, at 0.2.10:
 * the release StarlingMonkey imports and exports, which its own copies must merge with: jco's
 * 0.2.12 text renamed, with the `network-error-code` gate lifted (StarlingMonkey has it).
 */
function jsWasiComponent(name) {
  return {
    name,
    kind: 'component',
    fingerprint: async () => [
      `componentize-js ${await pkgVersion('@bytecodealliance/componentize-js')}`,
      `jco ${await pkgVersion('@bytecodealliance/jco')} (WASI WIT)`,
    ],
    async build(dir) {
      installPreview2ShimResolver();
      const { componentize } = await import('@bytecodealliance/componentize-js');
      try {
        const builtin = join(NODE_MODULES, '@bytecodealliance/jco/lib/wit/builtin');
        let witWorld = await readFile(join(dir, 'world.wit'), 'utf8');
        for (const pkg of await readdir(join(builtin, '0.2.12'))) {
          const text = (await readFile(join(builtin, '0.2.12', pkg, 'package.wit'), 'utf8')).replaceAll(
            '@unstable(feature = network-error-code)',
            '',
          );
          const header = /^package ([^;]+);/m.exec(text);
          if (header === null) throw new BuildError(`${pkg}/package.wit has no package line`);
          const body = text.replace(header[0], '').replaceAll('@0.2.12', '@0.2.10');
          witWorld += `\npackage ${header[1].replace('@0.2.12', '@0.2.10')} {\n${body}\n}\n`;
        }
        const { component } = await componentize({
          sourcePath: join(dir, 'index.js'),
          witWorld,
          worldName: name,
        });
        return { 'component.wasm': component };
      } catch (e) {
        throw new BuildError(`componentize-js: ${errText(e)}`);
      }
    },
  };
}

function wasiCComponent(name, source, flags = [], { command = false } = {}) {
  const adapterFile = command ? COMMAND_ADAPTER : ADAPTER;
  return {
    name,
    kind: 'component',
    fingerprint: async () => [
      clang(),
      ...(await JCO_TRANSPILE()),
      `adapter ${existsSync(adapterFile) ? sha256(await readFile(adapterFile)) : 'missing'}`,
    ],
    async build(dir) {
      clang();
      if (!existsSync('/usr/lib/wasm32-wasi/libc.a')) {
        throw new BuildError('wasi-libc not found (/usr/lib/wasm32-wasi): run .ci/install-system-deps.sh');
      }
      if (!existsSync(adapterFile)) {
        throw new BuildError(
          `WASI adapter not found at ${relative(ROOT, adapterFile)} (ships with @bytecodealliance/jco)`,
        );
      }
      const tmp = await tmpDir();
      try {
        const out = join(tmp, 'core.wasm');
        runClang([
          '--target=wasm32-wasi',
          '--sysroot=/usr',
          '-O2',
          ...flags,
          ...(command ? [] : ['-mexec-model=reactor']),
          '-o',
          out,
          join(dir, source),
        ]);
        const core = await readFile(out);
        const adapters = [['wasi_snapshot_preview1', await readFile(adapterFile)]];
        if (command) {
          const { componentNew } = await wasmTools();
          return { 'component.wasm': await componentNew(core, adapters) };
        }
        return { 'component.wasm': await coreToComponent(core, join(dir, 'component.wit'), name, adapters) };
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}

// `ext`: names of wit/ext/*.wit packages the component calls (with kit/c/airssys_ext.h); the kit's
// ext bindings are compiled in and the WIT is composed by extWit.
function cComponent(name, world = 'component', { ext = [] } = {}) {
  const inputs = ext.length
    ? [...KIT_INPUTS, ...EXT_KIT, ...ext.map((e) => join(EXT_WIT, `${e}.wit`))]
    : KIT_INPUTS;
  return {
    name,
    kind: 'component',
    fingerprint: async () => [
      clang(),
      ...(await JCO_TRANSPILE()),
      ...(await Promise.all(
        inputs.map(async (f) => `input ${relative(ROOT, f)} ${sha256(await readFile(f))}`),
      )),
      `ext ${ext.join(',')}`,
    ],
    async build(dir) {
      clang();
      const tmp = await tmpDir();
      try {
        const out = join(tmp, 'core.wasm');
        runClang([
          '--target=wasm32',
          '-nostdlib',
          '-ffreestanding',
          '-O2',
          '-mbulk-memory',
          '-Wall',
          '-Werror',
          '-I',
          KIT,
          '-Wl,--no-entry',
          '-Wl,--stack-first',
          '-Wl,-z,stack-size=16384',
          '-Wl,--initial-memory=65536',
          ...(world === 'migratable-component' ? ['-DAIRSSYS_MIGRATABLE'] : []),
          '-o',
          out,
          join(dir, 'component.c'),
          join(KIT, 'airssys.c'),
          ...(ext.length ? [join(KIT, 'airssys_ext.c')] : []),
        ]);
        const core = await readFile(out);
        if (!ext.length) return { 'component.wasm': await coreToComponent(core, CORE_WIT, world) };
        const wit = await extWit(name, world, ext);
        return {
          'component.wasm': await witToComponent(
            core,
            wit.source,
            `core.wit + ext ${ext.join(', ')}`,
            wit.world,
          ),
        };
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}

// An example: built like a fixture, from examples/<folder>/ into examples/build/<name>/, where
// `airssys-wasm host --examples examples/build` installs and starts it.
function example(folder, fixture) {
  return { ...fixture, src: join(EXAMPLES, folder), out: join(EXAMPLES, 'build', fixture.name) };
}

const FIXTURES = [
  watComponent('basic', 'basic'),
  watComponent('greeter', 'greeter'),
  watComponent('hostile', 'hostile'),
  watComponent('bad-world', 'bad-world'),
  watComponent('wat-http-hello', 'airssys:fixtures/hello'),
  {
    name: 'kernel',
    kind: 'component',
    fingerprint: async () => [clang(), ...(await JCO_TRANSPILE())],
    async build(dir) {
      clang();
      const tmp = await tmpDir();
      try {
        const out = join(tmp, 'kernel.wasm');
        runClang([
          '--target=wasm32',
          '-nostdlib',
          '-O2',
          '-mbulk-memory',
          '-Wl,--no-entry',
          '-Wl,--export-dynamic',
          '-o',
          out,
          join(dir, 'kernel.c'),
        ]);
        const core = await readFile(out);
        return { 'component.wasm': await coreToComponent(core, join(dir, 'component.wit'), 'kernel') };
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  },
  // C with wasi-libc (reactor) and the jco preview1 adapter: libc's I/O lands on WASI 0.2.
  wasiCComponent('c-wasi', 'greet.c'),
  // stdio, clocks, randomness, the environment, fopen and exit, for src/wasm/wasi/.
  wasiCComponent('c-wasi-io', 'io.c', ['-Wall', '-Werror']),
  // A command (main, wasi:cli/run) as any C toolchain builds one: `airssys-wasm run` runs it.
  wasiCComponent('c-wc', 'wc.c', ['-Wall', '-Werror'], { command: true }),
  {
    name: 'js',
    kind: 'component',
    fingerprint: async () => [`componentize-js ${await pkgVersion('@bytecodealliance/componentize-js')}`],
    async build(dir) {
      installPreview2ShimResolver();
      const { componentize } = await import('@bytecodealliance/componentize-js');
      try {
        const { component } = await componentize({
          sourcePath: join(dir, 'index.js'),
          // witWorld (the text), not witPath: the splicer runs in wasm without file access
          witWorld: await readFile(join(dir, 'component.wit'), 'utf8'),
          worldName: 'js-fixture',
          disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
        });
        return { 'component.wasm': component };
      } catch (e) {
        throw new BuildError(`componentize-js: ${errText(e)}`);
      }
    },
  },
  // A wasi:http incoming handler (world.wit: the wasi:http/proxy world) from a `fetch` event
  // listener, for `airssys-wasm serve`: componentize-js with its 'http' and 'fetch-event' features.
  jsWasiComponent('js-http-hello'),
  // A wasi:cli/run command in JavaScript, for `airssys-wasm run` (world.wit exports wasi:cli/run).
  jsWasiComponent('js-cli-hello'),
  cComponent('counter'),
  cComponent('stage'),
  cComponent('echo'),
  cComponent('requester'),
  cComponent('subscriber'),
  cComponent('flooder'),
  cComponent('runaway'),
  cComponent('counter-v2', 'migratable-component'),
  cComponent('ext-gateway', 'component', { ext: ['filesystem', 'network', 'process'] }),
  example('kv-counter', cComponent('kv-counter')),
  example('pipeline/ingest', cComponent('pipeline-ingest')),
  example('pipeline/enrich', cComponent('pipeline-enrich')),
  example('pipeline/store', cComponent('pipeline-store')),
  example('http-fetch', cComponent('http-fetch', 'component', { ext: ['network'] })),
  {
    name: 'extism-add',
    kind: 'core',
    fingerprint: JCO_TRANSPILE,
    async build(dir) {
      const core = await watToCore(join(dir, 'plugin.wat'));
      if (!WebAssembly.validate(core)) throw new BuildError('plugin.wasm does not validate');
      return { 'plugin.wasm': core };
    },
  },
];

// ---------------------------------------------------------------------------------------------
// inspection: core memories declared inside a component (or a core module), imports

function readLeb(buf, pos) {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if ((b & 0x80) === 0) return [result, pos];
  }
}

// Returns [{ module, initialPages, maxPages }] for every memory defined (not imported) by a core
// module, walking nested core modules and components.
function coreMemories(buf, path = 'core') {
  const found = [];
  const layer = buf[6];
  let pos = 8;
  let moduleIndex = 0;
  let componentIndex = 0;
  while (pos < buf.length) {
    const id = buf[pos];
    const [size, start] = readLeb(buf, pos + 1);
    const end = start + Number(size);
    const body = buf.subarray(start, end);
    if (layer === 1) {
      if (id === 1) found.push(...coreMemories(body, `${path}/module${moduleIndex++}`));
      if (id === 4) found.push(...coreMemories(body, `${path}/component${componentIndex++}`));
    } else if (id === 5) {
      let [count, p] = readLeb(body, 0);
      for (let i = 0; i < Number(count); i++) {
        const flags = body[p++];
        let min;
        let max = null;
        [min, p] = readLeb(body, p);
        if (flags & 1) [max, p] = readLeb(body, p);
        found.push({ module: path, initialPages: Number(min), maxPages: max === null ? null : Number(max) });
      }
    }
    pos = end;
  }
  return found;
}

function componentImports(wat) {
  // top-level `(import "name" (instance|func|type ...` lines of the printed component
  const names = [];
  for (const line of wat.split('\n')) {
    const m = /^ {2}\(import "([^"]+)" \((\w+)/.exec(line);
    if (m) names.push(`${m[1]} (${m[2]})`);
  }
  return names;
}

async function inspect(fixture, files) {
  const info = { fixture: fixture.name };
  if (fixture.kind === 'component') {
    const bytes = files['component.wasm'];
    const { componentWit, print } = await wasmTools();
    info.world = await componentWit(bytes);
    info.imports = componentImports(await print(bytes));
    info.coreMemories = coreMemories(bytes);
  } else {
    const mod = new WebAssembly.Module(files['plugin.wasm']);
    info.imports = WebAssembly.Module.imports(mod).map((i) => `${i.module}#${i.name} (${i.kind})`);
    info.exports = WebAssembly.Module.exports(mod).map((e) => `${e.name} (${e.kind})`);
    info.coreMemories = coreMemories(files['plugin.wasm']);
  }
  return info;
}

// ---------------------------------------------------------------------------------------------
// driver

function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

async function listFiles(dir, prefix = '') {
  const out = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(join(dir, entry.name), rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

async function sourceHash(fixture, dir) {
  const h = createHash('sha256');
  h.update(`layout ${LAYOUT_VERSION}\nnode-abi ${process.versions.modules}\n`);
  h.update(`recipe ${fixture.build.toString()}\n`);
  for (const line of await fixture.fingerprint()) h.update(`tool ${line}\n`);
  for (const rel of await listFiles(dir)) {
    h.update(`file ${rel} ${sha256(await readFile(join(dir, rel)))}\n`);
  }
  return h.digest('hex');
}

async function writeAtomic(file, data) {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

function outputNames(fixture) {
  return fixture.kind === 'component' ? ['component.wasm', 'Component.toml'] : ['plugin.wasm'];
}

function fmtSize(n) {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

async function buildOne(fixture, force) {
  const dir = fixture.src ?? join(SRC, fixture.name);
  const out = fixture.out ?? join(BUILD, fixture.name);
  if (!existsSync(dir)) throw new BuildError(`missing source folder ${relative(ROOT, dir)}`);
  if (fixture.kind === 'component' && !existsSync(join(dir, 'Component.toml'))) {
    throw new BuildError(`missing ${relative(ROOT, join(dir, 'Component.toml'))}`);
  }
  const hash = await sourceHash(fixture, dir);
  const hashFile = join(out, '.source-hash');
  const main = join(out, outputNames(fixture)[0]);
  if (
    !force &&
    existsSync(hashFile) &&
    (await readFile(hashFile, 'utf8')).trim() === hash &&
    outputNames(fixture).every((f) => existsSync(join(out, f)))
  ) {
    return { cached: true, size: (await stat(main)).size };
  }
  const t0 = performance.now();
  const files = await fixture.build(dir);
  const buildMs = Math.round(performance.now() - t0);
  if (fixture.kind === 'component') files['Component.toml'] = await readFile(join(dir, 'Component.toml'));
  const info = await inspect(fixture, files);
  info.buildMs = buildMs;
  info.size = files[outputNames(fixture)[0]].byteLength;
  await mkdir(out, { recursive: true });
  await rm(hashFile, { force: true });
  for (const [name, data] of Object.entries(files)) await writeAtomic(join(out, name), data);
  if (info.world) await writeAtomic(join(out, 'world.wit'), info.world);
  await writeAtomic(join(out, 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
  await writeAtomic(hashFile, `${hash}\n`);
  return { cached: false, size: info.size, buildMs };
}

async function main() {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  if (args.includes('--help') || args.includes('-h')) {
    console.log('usage: node scripts/build-fixtures.mjs [--force] [--list] [fixture ...]');
    return 0;
  }
  if (args.includes('--list')) {
    for (const f of FIXTURES) console.log(f.name);
    return 0;
  }
  const names = args.filter((a) => !a.startsWith('-'));
  const unknown = names.filter((n) => !FIXTURES.some((f) => f.name === n));
  if (unknown.length) {
    console.error(`build-fixtures: unknown fixture(s): ${unknown.join(', ')} (try --list)`);
    return 2;
  }
  const selected = names.length ? FIXTURES.filter((f) => names.includes(f.name)) : FIXTURES;
  const failures = [];
  const t0 = performance.now();
  for (const fixture of selected) {
    const start = performance.now();
    const label = fixture.name.padEnd(15);
    try {
      const r = await buildOne(fixture, force);
      const ms = Math.round(performance.now() - start);
      console.log(
        `${label} ${r.cached ? 'cached' : 'built '} ${fmtSize(r.size).padStart(10)} ${String(ms).padStart(6)} ms`,
      );
    } catch (e) {
      const ms = Math.round(performance.now() - start);
      const msg = e instanceof BuildError ? e.message : (e?.stack ?? String(e));
      console.log(`${label} FAILED            ${String(ms).padStart(6)} ms`);
      failures.push({ name: fixture.name, msg });
    }
  }
  const total = Math.round(performance.now() - t0);
  if (failures.length) {
    for (const f of failures) console.error(`\nbuild-fixtures: ${f.name} failed:\n${f.msg}`);
    console.error(
      `\nbuild-fixtures: ${failures.length} of ${selected.length} fixture(s) failed (${total} ms)`,
    );
    return 1;
  }
  console.log(`ready in ${relative(ROOT, BUILD)}/ and ${relative(ROOT, EXAMPLES)}/build/ (${total} ms)`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(`build-fixtures: internal error: ${e?.stack ?? e}`);
    process.exitCode = 1;
  },
);
