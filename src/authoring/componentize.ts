/**
 * Build phase 2, `componentize`: the bundled module becomes a WebAssembly component with
 * componentize-js (StarlingMonkey: SpiderMonkey compiled to wasm, the module pre-initialised with
 * Wizer). The engine was chosen by measurement (bench/authoring/engines.mjs, docs/authoring.md):
 * componentize-qjs builds components our engine cannot load (nested components lowering each
 * other's functions, and extended-const, which Node 20 accepts only behind a V8 flag).
 *
 * componentize-js runs in a child process: Wizer writes to the process's stdout (which must carry
 * only the `--json` document), and componentize-js needs a module-resolution hook (below) that
 * should not leak into the caller's process.
 */

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AirssysError } from '../shared/errors.js';
import { findPackage, type InstalledPackage } from './paths.js';

/**
 * componentize-js releases, most preferred first. With 0.19.3's generated bindings a message costs
 * 8-17× less time and an eighth of the fuel of 0.22's, and the heap grows a fifth as fast
 * (bench/authoring/engines.mjs). npm installs 0.19.3 under this alias name as a dependency of
 * @bytecodealliance/jco.
 */
export const COMPONENTIZE_JS_PACKAGES = [
  '@bytecodealliance/componentize-js-0-19-3',
  '@bytecodealliance/componentize-js',
] as const;

/** Everything the component may not use: the result imports no WASI, only the airssys WIT. */
const DISABLED_FEATURES = ['stdio', 'random', 'clocks', 'http', 'fetch-event'];

export function findComponentizeJs(
  projectDir: string,
  names: readonly string[] = COMPONENTIZE_JS_PACKAGES,
): InstalledPackage {
  for (const name of names) {
    const pkg = findPackage(name, [projectDir]);
    if (pkg !== undefined) return pkg;
  }
  throw new AirssysError(
    'not-found',
    'componentize-js is not installed; install it next to airssys-wasm (npm install @bytecodealliance/componentize-js@0.19.3) and build again',
    { blame: 'host', details: { phase: 'componentize', package: '@bytecodealliance/componentize-js' } },
  );
}

// Runs in the child (`node --input-type=module -e`). componentize-js imports
// @bytecodealliance/preview2-shim without declaring it; npm nests that package under jco (or
// jco-transpile), where Node's resolver does not look from componentize-js: retry from there.
const CHILD = `
import { register } from 'node:module';
import { readFile, writeFile } from 'node:fs/promises';
const job = JSON.parse(process.env.AIRSSYS_COMPONENTIZE_JOB);
const hook = \`const parents = \${JSON.stringify(job.shimParents)};
export async function resolve(spec, ctx, next) {
  try { return await next(spec, ctx); } catch (error) {
    if (spec !== '@bytecodealliance/preview2-shim' && !spec.startsWith('@bytecodealliance/preview2-shim/')) throw error;
    for (const parentURL of parents) { try { return await next(spec, { ...ctx, parentURL }); } catch {} }
    throw error;
  }
}\`;
register('data:text/javascript,' + encodeURIComponent(hook));
try {
  const { componentize } = await import(job.module);
  const { component } = await componentize({
    sourcePath: job.source,
    witWorld: await readFile(job.wit, 'utf8'),
    worldName: job.world,
    disableFeatures: job.disableFeatures,
  });
  await writeFile(job.out, component);
} catch (error) {
  await writeFile(job.error, String(error && error.stack ? error.message : error));
  process.exitCode = 1;
}
`;

export interface ComponentizeInput {
  /** The bundled ES module. */
  code: string;
  /** A WIT file holding the world. */
  witFile: string;
  /** The world's name inside that file (`component`). */
  world: string;
  projectDir: string;
  /** Rewrites bundle positions in error text to the author's files. */
  remap?: (text: string) => string;
  /** Use this componentize-js package instead of the preferred one (benchmarks compare them). */
  package?: string;
}

export interface ComponentizeOutput {
  component: Uint8Array;
  engine: { name: string; version: string };
}

export async function componentize(input: ComponentizeInput): Promise<ComponentizeOutput> {
  const pkg = findComponentizeJs(input.projectDir, input.package ? [input.package] : undefined);
  // <node_modules>/@bytecodealliance/<componentize-js>
  const nodeModules = dirname(dirname(pkg.dir));
  const shimParents = ['jco', 'jco-transpile', 'componentize-js'].map(
    (p) => pathToFileURL(join(nodeModules, '@bytecodealliance', p, 'package.json')).href,
  );
  const work = await mkdtemp(join(tmpdir(), 'airssys-build-'));
  try {
    const job = {
      module: pathToFileURL(pkg.entry).href,
      source: join(work, 'component.js'),
      wit: input.witFile,
      world: input.world,
      out: join(work, 'component.wasm'),
      error: join(work, 'error.txt'),
      disableFeatures: DISABLED_FEATURES,
      shimParents,
    };
    await writeFile(job.source, input.code);
    const { code, output } = await run(work, job);
    if (code !== 0) {
      const reported = await readFile(job.error, 'utf8').catch(() => '');
      const text = reported || output || `componentize-js exited with code ${code}`;
      throw componentizeError(input.remap ? input.remap(text) : text);
    }
    return {
      component: new Uint8Array(await readFile(job.out)),
      engine: { name: '@bytecodealliance/componentize-js', version: pkg.version },
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function run(cwd: string, job: object): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      cwd,
      env: { ...process.env, AIRSSYS_COMPONENTIZE_JOB: JSON.stringify(job) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-16_384);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: output.trim() }));
  });
}

/** Wizer's report of an exception at module top level, trimmed to what the author needs. */
function componentizeError(text: string): AirssysError {
  const trimmed = text
    .split('\n')
    // Node's own frames, and Wizer's backtrace of wasm function numbers, say nothing to an author.
    .filter(
      (l) =>
        !/^\s+at .*node:internal|^Node\.js v|^\s+\d+: 0x[0-9a-f]+ - |^\s+0: error while executing/.test(l),
    )
    .join('\n')
    .trim()
    .slice(0, 4000);
  return new AirssysError(
    'invalid-component',
    `componentize-js could not build the component: ${trimmed}\n(code at module top level runs at build time and may not call host services; fix the source and run airssys-wasm build again)`,
    { blame: 'guest', details: { phase: 'componentize' } },
  );
}
