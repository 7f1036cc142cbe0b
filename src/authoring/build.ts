/**
 * `airssys-wasm build`: a component folder made by `airssys-wasm new` (or laid out the same way)
 * becomes `component.wasm`, offline, in three phases — bundle (esbuild), componentize
 * (componentize-js), validate (the host's own pipeline) — each reported as it starts. Failures
 * are `AirssysError`s whose `details.phase` says which phase failed.
 */

import { existsSync } from 'node:fs';
import { readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { AirssysError } from '../shared/errors.js';
import { DEFAULT_HOST_POLICY, resolvePolicy } from '../wasm/engine/policy.js';
import { loadManifest } from '../wasm/manifest/parse.js';
import type { Manifest } from '../wasm/manifest/schema.js';
import { bundle } from './bundle.js';
import { componentize } from './componentize.js';
import { corePath } from './paths.js';
import { validate } from './validate.js';

export type BuildPhase = 'bundle' | 'componentize' | 'validate';
export const BUILD_PHASES: readonly BuildPhase[] = ['bundle', 'componentize', 'validate'];

export interface BuildOptions {
  /** The source to bundle, relative to the folder (default `src/component.ts` or `src/component.js`). */
  entry?: string;
  /** Compiled-component cache used by the validate phase (`false`: none). */
  cacheDir?: string | false;
  /** Receives the engine's pipeline lines in the validate phase (cache hit/miss, compile time). */
  log?: (line: string) => void;
  /** Told when each phase starts, with a line saying what it does. */
  onPhase?: (phase: BuildPhase, index: number, description: string) => void;
}

export interface BuildResult {
  name: string;
  version: string;
  /** Absolute path of the component written. */
  wasm: string;
  bytes: number;
  sha256: string;
  entry: string;
  engine: { name: string; version: string };
  memory: {
    /** `[resources] memory` of the manifest. */
    declaredBytes: number;
    /** Linear memory of a fresh instance. */
    instanceBytes: number;
    /** The host's default ceiling; a host must raise it when `declaredBytes` is above. */
    hostDefaultMaxBytes: number;
  };
  phases: { phase: BuildPhase; ms: number }[];
  ms: number;
}

const ENTRIES = ['src/component.ts', 'src/component.js'];

function findEntry(dir: string, entry: string | undefined): string {
  if (entry !== undefined) {
    const file = resolve(dir, entry);
    if (!existsSync(file)) {
      throw new AirssysError('not-found', `--entry ${entry}: no such file in ${dir}`, {
        details: { phase: 'bundle', path: file },
      });
    }
    return file;
  }
  const found = ENTRIES.filter((e) => existsSync(join(dir, e)));
  if (found.length === 1) return join(dir, found[0]);
  if (found.length > 1) {
    throw new AirssysError(
      'invalid-argument',
      `${dir} has both ${found.join(' and ')}; pass --entry <file>`,
      {
        details: { phase: 'bundle' },
      },
    );
  }
  throw new AirssysError(
    'not-found',
    `no ${ENTRIES.join(' or ')} in ${dir}; create one (airssys-wasm new makes a component folder) or pass --entry <file>`,
    { details: { phase: 'bundle' } },
  );
}

/** The WIT file holding the manifest's world: the folder's `wit/*.wit`, else the package's core.wit. */
async function witFor(dir: string): Promise<string> {
  const witDir = join(dir, 'wit');
  const files = existsSync(witDir) ? (await readdir(witDir)).filter((f) => f.endsWith('.wit')) : [];
  if (files.length === 1) return join(witDir, files[0]);
  if (files.length === 0) return corePath();
  throw new AirssysError(
    'invalid-argument',
    `${witDir} holds ${files.length} .wit files; componentize-js reads one: keep the world and what it uses in one file`,
    { details: { phase: 'componentize', files } },
  );
}

/** `airssys:core/component@1.0.0` → `component`. */
function worldName(manifest: Manifest): string {
  const world = manifest.component.world ?? 'airssys:core/component@1.0.0';
  return world.replace(/^.*\//, '').replace(/@.*$/, '');
}

async function writeAtomic(file: string, data: Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

function inPhase<T>(phase: BuildPhase, fn: () => Promise<T>): Promise<T> {
  return fn().catch((error: unknown) => {
    if (error instanceof AirssysError) {
      if (error.details?.phase !== undefined) throw error;
      throw new AirssysError(error.code, `${phase}: ${error.message}`, {
        cause: error,
        blame: error.blame,
        details: { ...error.details, phase },
      });
    }
    throw new AirssysError('internal', `${phase}: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
      details: { phase },
    });
  });
}

/**
 * Builds the component in `dir` and writes the binary the manifest names.
 *
 * @example
 * const result = await buildComponent('greeter', {
 *   onPhase: (phase, i, what) => console.error(`[${i + 1}/3] ${phase}: ${what}`),
 * });
 * console.log(result.wasm, result.bytes);
 */
export async function buildComponent(dir: string, options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const root = resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new AirssysError(
      'not-found',
      `${root} is not a component folder; create one with airssys-wasm new`,
      {
        details: { path: root },
      },
    );
  }
  // Any memory the manifest asks for is accepted here; the result says when a host must raise
  // its ceiling to run it.
  const manifest = await loadManifest(root, resolvePolicy({ maxMemoryBytes: 2 ** 32 }));
  const entry = findEntry(root, options.entry);
  const wit = await witFor(root);
  const phases: { phase: BuildPhase; ms: number }[] = [];
  const timed = async <T>(phase: BuildPhase, description: string, fn: () => Promise<T>): Promise<T> => {
    options.onPhase?.(phase, phases.length, description);
    const t0 = performance.now();
    const value = await inPhase(phase, fn);
    phases.push({ phase, ms: Math.round(performance.now() - t0) });
    return value;
  };

  const bundled = await timed('bundle', `${relative(root, entry)} and its imports, with esbuild`, () =>
    bundle(entry, root),
  );
  const built = await timed(
    'componentize',
    'JavaScript to a WebAssembly component with componentize-js (StarlingMonkey), 10-60 s',
    () =>
      componentize({
        code: bundled.code,
        remap: bundled.remap,
        witFile: wit,
        world: worldName(manifest),
        projectDir: root,
      }),
  );
  const checked = await timed('validate', 'loading it in the airssys engine under Component.toml', async () =>
    validate(built.component, manifest, options.cacheDir ?? false, options.log),
  );
  await writeAtomic(manifest.component.wasm, built.component);
  return {
    name: manifest.component.name,
    version: manifest.component.version,
    wasm: manifest.component.wasm,
    bytes: built.component.byteLength,
    sha256: checked.sha256,
    entry: relative(root, entry),
    engine: built.engine,
    memory: {
      declaredBytes: manifest.resources.memoryBytes,
      instanceBytes: checked.instanceMemoryBytes,
      hostDefaultMaxBytes: DEFAULT_HOST_POLICY.maxMemoryBytes,
    },
    phases,
    ms: Math.round(performance.now() - started),
  };
}
