// `airssys-wasm new` and `airssys-wasm build`, driven through the built command the way an author
// uses them. Tests marked "(slow: componentize-js)" need a real build, ~20-60 s each: the JS and
// TS scaffolds are built once, concurrently, in beforeAll, and the tests share the results.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ComponentHost } from '../../src/host/index.js';
import { Engine } from '../../src/wasm/engine/engine.js';
import { resolvePolicy } from '../../src/wasm/engine/policy.js';
import { loadManifest } from '../../src/wasm/manifest/parse.js';
import { ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

const CLI = join(ROOT, 'dist', 'cli', 'airssys-wasm.js');
const work = tempDir('authoring');
const cacheDir = tempDir('authoring-cache');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  json: () => any;
}

function cli(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: options.cwd ?? work, timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ status, stdout, stderr, json: () => JSON.parse(stdout) });
      },
    );
  });
}

const BUILD_TIMEOUT_MS = 300_000;
const build = (dir: string, ...more: string[]) =>
  cli(['build', dir, '--json', '--cache-dir', cacheDir, ...more], { timeoutMs: BUILD_TIMEOUT_MS });

/** `airssys-wasm new`, then a symlink standing in for `npm install airssys-wasm`. */
async function scaffold(name: string, lang: 'js' | 'ts'): Promise<string> {
  const r = await cli(['new', name, '--lang', lang, '--json']);
  expect(r.status, r.stderr).toBe(0);
  const dir = r.json().dir as string;
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'airssys-wasm'), 'dir');
  return dir;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const MEMORY = 128 * 1024 * 1024;

describe('airssys-wasm new', () => {
  it('creates a JavaScript component folder: manifest, source, kit, WIT, test', async () => {
    const r = await cli(['new', 'hello-js', '--lang', 'js', '--json']);
    expect(r.status).toBe(0);
    const doc = r.json();
    expect(doc).toMatchObject({ ok: true, name: 'hello-js', lang: 'js', dir: join(work, 'hello-js') });
    expect(doc.files).toEqual([
      'Component.toml',
      'src/component.js',
      'src/airssys.js',
      'src/airssys.d.ts',
      'wit/core.wit',
      'test.mjs',
      'package.json',
      'README.md',
      '.gitignore',
    ]);
    for (const f of doc.files) expect(existsSync(join(doc.dir, f)), f).toBe(true);
    const read = (f: string) => readFileSync(join(doc.dir, f), 'utf8');
    expect(read('wit/core.wit')).toBe(readFileSync(join(ROOT, 'wit', 'core', 'core.wit'), 'utf8'));
    expect(read('src/airssys.js')).toBe(readFileSync(join(ROOT, 'kit', 'js', 'airssys.js'), 'utf8'));
    expect(read('src/component.js')).toMatch(/export const componentLifecycle = defineComponent\(/);
    for (const fn of ['init(', 'handleMessage(', 'health(', 'shutdown('])
      expect(read('src/component.js')).toContain(fn);
  });

  it('writes a manifest the host accepts once its memory ceiling allows the JS engine', async () => {
    const dir = join(work, 'hello-js');
    const manifest = await loadManifest(dir, resolvePolicy({ maxMemoryBytes: MEMORY }));
    expect(manifest.component).toMatchObject({
      name: 'hello-js',
      version: '0.1.0',
      wasm: join(dir, 'component.wasm'),
      world: 'airssys:core/component@1.0.0',
    });
    expect(manifest.resources.memoryBytes).toBe(MEMORY);
    expect(manifest.permissions.storage.namespaces).toEqual(['hello-js']);
    expect(manifest.permissions.messaging).toEqual({ send: [], subscribe: [] });
    expect(manifest.config).toEqual({ greeting: 'Hello' });
    // Under the default policy (4 MiB) it is refused, naming the field: the comments say why.
    await expect(loadManifest(dir)).rejects.toMatchObject({ code: 'invalid-manifest' });
    expect(readFileSync(join(dir, 'Component.toml'), 'utf8')).toMatch(/maxMemoryBytes/);
  });

  it('creates a TypeScript component folder with a tsconfig for type checks', async () => {
    const r = await cli(['new', 'hello-ts', '--lang', 'ts', '--dir', 'nested/hello-ts']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/created nested\/hello-ts\/ \(TypeScript component "hello-ts"\)/);
    const dir = join(work, 'nested', 'hello-ts');
    expect(readFileSync(join(dir, 'src', 'component.ts'), 'utf8')).toMatch(
      /handleMessage\(message: Message\): Response/,
    );
    expect(existsSync(join(dir, 'tsconfig.json'))).toBe(true);
    expect(existsSync(join(dir, 'src', 'component.js'))).toBe(false);
  });

  it('refuses a folder that already exists (exit 2) and leaves it alone', async () => {
    mkdirSync(join(work, 'taken'));
    writeFileSync(join(work, 'taken', 'mine.txt'), 'keep');
    const r = await cli(['new', 'taken', '--json']);
    expect(r.status).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(r.json().error.message).toMatch(/already exists/);
    expect(readFileSync(join(work, 'taken', 'mine.txt'), 'utf8')).toBe('keep');
    expect(existsSync(join(work, 'taken', 'Component.toml'))).toBe(false);
  });

  it('refuses names the manifest would refuse, and unknown languages (exit 2)', async () => {
    for (const bad of ['Hello', '1st', 'snake_case', 'dots.no', `a${'b'.repeat(64)}`]) {
      const r = await cli(['new', bad, '--json']);
      expect(r.status, bad).toBe(2);
      expect(r.json().error).toMatchObject({ code: 'invalid-argument', details: { field: 'name' } });
      expect(existsSync(join(work, bad))).toBe(false);
    }
    const lang = await cli(['new', 'fine', '--lang', 'python']);
    expect(lang.status).toBe(2);
    expect(lang.stderr).toMatch(/error \[invalid-argument\]: --lang must be one of js, ts/);
  });
});

describe('airssys-wasm build: failures', () => {
  it('reports a syntax error as invalid-component with file:line:column, before componentizing', async () => {
    const dir = await scaffold('broken', 'js');
    writeFileSync(
      join(dir, 'src', 'component.js'),
      'export const componentLifecycle = {\n  init() { return 1 +; },\n};\n',
    );
    const r = await build(dir);
    expect(r.status).toBe(1);
    const { error } = r.json();
    expect(error.code).toBe('invalid-component');
    expect(error.details.phase).toBe('bundle');
    expect(error.message).toMatch(/src\/component\.js:2:\d+: /);
    expect(error.details.errors[0]).toMatchObject({ file: 'src/component.js', line: 2 });
    expect(r.stderr).toMatch(/\[1\/3\] bundle/);
    expect(r.stderr).not.toMatch(/componentize:/);
    expect(existsSync(join(dir, 'component.wasm'))).toBe(false);
  });

  it('reports a TypeScript syntax error the same way, without --json on stderr', async () => {
    const dir = await scaffold('broken-ts', 'ts');
    writeFileSync(join(dir, 'src', 'component.ts'), 'const x: = 1;\nexport const componentLifecycle = {};\n');
    const r = await cli(['build', dir, '--no-cache']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /error \[invalid-component\]: the source does not compile: src\/component\.ts:1:\d+: /,
    );
  });

  it('says what to export when the source has no componentLifecycle', async () => {
    const dir = await scaffold('no-export', 'js');
    writeFileSync(join(dir, 'src', 'component.js'), 'export const lifecycle = {};\n');
    const { error } = (await build(dir)).json();
    expect(error).toMatchObject({ code: 'invalid-component', details: { phase: 'bundle' } });
    expect(error.message).toMatch(/export const componentLifecycle = defineComponent/);
  });

  it('says not-found for a missing folder, manifest or source', async () => {
    expect((await build(join(work, 'nowhere'))).json().error.code).toBe('not-found');
    const empty = join(work, 'empty');
    mkdirSync(empty);
    const noManifest = await build(empty);
    expect(noManifest.status).toBe(1);
    expect(noManifest.json().error.code).toBe('not-found');
    const dir = await scaffold('no-source', 'js');
    const entry = await build(dir, '--entry', 'missing.js');
    expect(entry.json().error).toMatchObject({ code: 'not-found', details: { phase: 'bundle' } });
    rmSync(join(dir, 'src', 'component.js'));
    const noSource = await build(dir);
    expect(noSource.json().error.code).toBe('not-found');
    expect(noSource.json().error.message).toMatch(/no src\/component\.ts or src\/component\.js/);
  });
});

describe('airssys-wasm build: the scaffolds', () => {
  const built: Record<'js' | 'ts', { dir: string; run: Run }> = {} as never;
  let topLevelCall: Run;

  beforeAll(async () => {
    const [js, ts, bad] = await Promise.all([
      scaffold('greeter-js', 'js'),
      scaffold('greeter-ts', 'ts'),
      scaffold('top-level', 'js'),
    ]);
    // Module top level runs inside Wizer at build time, where there is no host to call.
    writeFileSync(
      join(bad, 'src', 'component.js'),
      "import { defineComponent, storage } from './airssys.js';\n\nconst seen = storage('top-level').get('seen');\nexport const componentLifecycle = defineComponent({ handleMessage() {} });\n",
    );
    const [jsRun, tsRun, badRun] = await Promise.all([build(js), build(ts), build(bad)]);
    built.js = { dir: js, run: jsRun };
    built.ts = { dir: ts, run: tsRun };
    topLevelCall = badRun;
  }, 2 * BUILD_TIMEOUT_MS);

  it('reports a host call at module top level as invalid-component in the componentize phase (slow: componentize-js)', () => {
    expect(topLevelCall.status).toBe(1);
    const { error } = topLevelCall.json();
    expect(error).toMatchObject({ code: 'invalid-component', details: { phase: 'componentize' } });
    expect(error.message).toMatch(/storage-get/);
    expect(error.message).toMatch(/module top level runs at build time and may not call host services/);
    expect(error.message).not.toMatch(/wasm function/);
  });

  for (const lang of ['js', 'ts'] as const) {
    it(`builds the ${lang} scaffold: --json result and a progress line per phase (slow: componentize-js)`, () => {
      const { dir, run } = built[lang];
      expect(run.status, run.stderr).toBe(0);
      const doc = run.json();
      expect(doc).toMatchObject({
        ok: true,
        name: `greeter-${lang}`,
        version: '0.1.0',
        wasm: join(dir, 'component.wasm'),
        entry: `src/component.${lang}`,
        engine: { name: '@bytecodealliance/componentize-js' },
        memory: { declaredBytes: MEMORY, hostDefaultMaxBytes: 4 * 1024 * 1024 },
      });
      expect(doc.bytes).toBeGreaterThan(1_000_000);
      expect(doc.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(doc.memory.instanceBytes).toBeGreaterThan(0);
      expect(doc.memory.instanceBytes).toBeLessThanOrEqual(MEMORY);
      expect(doc.phases.map((p: { phase: string }) => p.phase)).toEqual([
        'bundle',
        'componentize',
        'validate',
      ]);
      expect(readFileSync(doc.wasm).byteLength).toBe(doc.bytes);
      const progress = run.stderr.split('\n').filter((l) => /^\[\d\/3\]/.test(l));
      expect(progress.map((l) => l.slice(0, 18))).toEqual([
        '[1/3] bundle: src/',
        '[2/3] componentize',
        '[3/3] validate: lo',
      ]);
    });

    it(`runs the built ${lang} component as an actor: init, handle-message, storage through host-services (slow: componentize-js)`, async () => {
      const { dir, run } = built[lang];
      expect(run.status, run.stderr).toBe(0);
      // The build's validate phase compiled it into this cache: loading is a cache hit.
      const component = await new Engine({ policy: { maxMemoryBytes: MEMORY }, cacheDir }).load(dir);
      const logs: { address: string; level: string; message: string }[] = [];
      const host = await ComponentHost.create({ threads: 0, log: (e) => logs.push(e) });
      try {
        const address = await host.start(component);
        expect(text((await host.request(address, 'Ada')).payload)).toBe('Hello, Ada! (#1)');
        expect(text((await host.request(address, 'Ada')).payload)).toBe('Hello, Ada! (#2)');
        // A new instance keeps counting: the count lives in storage, not in the instance.
        await host.stop(address);
        await host.start(component);
        expect(text((await host.request(address, 'Ada')).payload)).toBe('Hello, Ada! (#3)');
        await expect(host.request(address, 'x'.repeat(101))).rejects.toMatchObject({
          code: 'invalid-argument',
        });
        expect(logs).toContainEqual(
          expect.objectContaining({ address, level: 'info', message: 'ready (greeting: Hello)' }),
        );
        expect(logs).toContainEqual(expect.objectContaining({ message: 'greeting Ada (#2)' }));
      } finally {
        await host.close();
      }
    });
  }

  it("runs the scaffold's own test.mjs with plain node (slow: componentize-js)", async () => {
    const { dir, run } = built.ts;
    expect(run.status, run.stderr).toBe(0);
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(process.execPath, ['test.mjs'], { cwd: dir, timeout: 120_000 }, (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
          out: stdout + stderr,
        }),
      );
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/ok: greeter-ts \(ts\) answered 4 requests as an actor/);
    expect(r.out).not.toMatch(/\[1\/3\] bundle/); // component.wasm was fresh: no rebuild
  });
});
