/**
 * The engine: the one object an embedder needs to turn `Component.toml` + binary into running
 * instances. `load` runs the whole compile pipeline once (or takes it from the cache);
 * `Component.instantiate` is cheap and may be called many times.
 *
 * @example
 * const engine = new Engine({ cacheDir: '.airssys-cache' });
 * const component = await engine.load('examples/counter');
 * const instance = component.instantiate({ 'test:basic/host': { log: console.log } });
 * instance.exports.add(1, 2);
 */

import { readFile } from 'node:fs/promises';
import { AirssysError } from '../../shared/errors.js';
import { requireJspi } from '../../shared/node-runtime.js';
import type { ComponentPlan } from '../component/model.js';
import type { FuncType } from '../component/types.js';
import { formatFunc } from '../component/wit-format.js';
import { manifestForBinary } from '../manifest/bare-binary.js';
import { loadManifest } from '../manifest/parse.js';
import type { Manifest } from '../manifest/schema.js';
import { type CacheEvent, ComponentCache } from './cache.js';
import { type CompiledComponent, compileComponent } from './compile.js';
import { exportName } from './export-names.js';
import { ComponentInstance } from './instance.js';
import { instantiateComponent, type Specialisations, specialise } from './instantiate.js';
import type { HostImports } from './link.js';
import { MemoryPool } from './memory-pool.js';
import { type BinaryCaps, type HostPolicy, resolvePolicy } from './policy.js';

export interface EngineOptions {
  /** Limits for every component; defaults in `policy.ts`. */
  policy?: Partial<Omit<HostPolicy, 'caps'>> & { caps?: Partial<BinaryCaps> };
  /** Folder of the compiled-component cache; `false` disables it. */
  cacheDir?: string | false;
  /** Receives one line per pipeline step (cache hit/miss, compile times). */
  log?: (line: string) => void;
}

export class Engine {
  readonly policy: HostPolicy;
  private readonly cache: ComponentCache | undefined;
  private readonly log: (line: string) => void;

  constructor(options: EngineOptions = {}) {
    this.policy = resolvePolicy(options.policy);
    this.log = options.log ?? (() => {});
    this.cache =
      options.cacheDir === false || options.cacheDir === undefined
        ? undefined
        : new ComponentCache(options.cacheDir, (event) => this.log(describeCacheEvent(event)));
  }

  /**
   * Loads a component from its folder or its `Component.toml`, validating and compiling it. A
   * path to a `.wasm` file is a component without a manifest: the host's default limits and no
   * permissions (`manifestForBinary`).
   */
  async load(pathOrManifest: string): Promise<Component> {
    const manifest = pathOrManifest.toLowerCase().endsWith('.wasm')
      ? manifestForBinary(pathOrManifest, this.policy)
      : await loadManifest(pathOrManifest, this.policy);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(manifest.component.wasm);
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      const fix =
        manifest.source.path === undefined ? 'check the path' : 'build the component or fix [component] wasm';
      throw new AirssysError(
        'not-found',
        `${manifest.component.name}: cannot read the component binary at ${manifest.component.wasm} (${why}); ${fix}`,
        { cause: error, blame: 'guest' },
      );
    }
    return this.compile(bytes, manifest);
  }

  /** Compiles a component binary under an already-parsed manifest. */
  compile(bytes: Uint8Array, manifest: Manifest): Component {
    const started = performance.now();
    const compiled = compileComponent(bytes, {
      policy: this.policy,
      memoryBytes: manifest.resources.memoryBytes,
      cache: this.cache,
    });
    this.log(
      `${manifest.component.name}: ${compiled.fromCache ? 'loaded from cache' : 'compiled'} in ${(performance.now() - started).toFixed(1)} ms (${compiled.modules.length} core modules, sha256 ${compiled.hash.slice(0, 12)}…)`,
    );
    return new Component(manifest, compiled);
  }
}

function describeCacheEvent(event: CacheEvent): string {
  switch (event.kind) {
    case 'hit':
      return `cache: hit ${event.key.slice(0, 16)}…`;
    case 'miss':
      return `cache: miss ${event.key.slice(0, 16)}…`;
    case 'corrupt':
      return `cache: discarded corrupt entry ${event.key.slice(0, 16)}… (${event.reason})`;
    case 'stored':
      return `cache: stored ${event.key.slice(0, 16)}…`;
  }
}

/** A validated, compiled component version: instantiate it as often as needed. */
export class Component {
  private code: Specialisations | undefined;
  /** Memories of disposed instances, for the next ones. */
  private readonly memoryPool = new MemoryPool();

  constructor(
    readonly manifest: Manifest,
    readonly compiled: CompiledComponent,
  ) {}

  get name(): string {
    return this.manifest.component.name;
  }

  get plan(): ComponentPlan {
    return this.compiled.plan;
  }

  /** The WIT type of an export (`iface.func` accepted for `iface#func`); throws `not-found`. */
  exportType(name: string): FuncType {
    const byName = Object.fromEntries(this.plan.exports.map((e) => [e.name, e.type]));
    const found = exportName(byName, name);
    if (found === undefined) {
      throw new AirssysError(
        'not-found',
        `${this.name} has no export "${name}"; it exports: ${Object.keys(byName).join(', ')}`,
        {
          blame: 'host',
          details: { export: name },
        },
      );
    }
    return byName[found];
  }

  /**
   * Creates a fresh instance with the manifest's fuel and timeout budgets per call. Its memory
   * may be one a disposed instance left (`ComponentInstance.dispose`), zeroed: nothing of the
   * earlier instance is visible. `jspi`: every export returns a promise and a guest that waits
   * (WASI `poll`, a sleep, a blocking read) is suspended instead of blocking the thread; use
   * `invokeAsync`. Needs JSPI (`hasJspi()`, Node.js 24+): `unsupported-runtime` otherwise.
   */
  instantiate(imports: HostImports = {}, options: { jspi?: boolean } = {}): ComponentInstance {
    this.code ??= specialise(this.compiled);
    const { resources } = this.manifest;
    const pool = this.memoryPool;
    if (options.jspi) requireJspi('an instance whose calls suspend (jspi)');
    const bound = instantiateComponent(this.compiled, this.code, {
      component: this.name,
      imports,
      fuel: resources.fuel,
      timeoutMs: resources.timeoutMs,
      memories: pool,
      jspi: options.jspi,
    });
    const shapes = this.compiled.memories;
    return new ComponentInstance(this.name, bound, (memories) => {
      for (const [module, memory] of memories) pool.give(module, shapes[module]!, memory);
    });
  }

  /** What `airssys-wasm inspect` shows: identity, limits, imports and exports with WIT-like types. */
  describe(): ComponentDescription {
    const { manifest, compiled } = this;
    return {
      name: manifest.component.name,
      version: manifest.component.version,
      world: manifest.component.world,
      sha256: compiled.hash,
      coreModules: compiled.modules.length,
      limits: {
        memoryBytes: manifest.resources.memoryBytes,
        fuel: manifest.resources.fuel,
        timeoutMs: manifest.resources.timeoutMs,
        mailbox: manifest.resources.mailbox,
      },
      imports: compiled.plan.imports.map((imp) =>
        imp.kind === 'func'
          ? { name: imp.name, kind: 'func', type: formatFunc(imp.type) }
          : imp.kind === 'instance'
            ? {
                name: imp.name,
                kind: 'interface',
                funcs: Object.fromEntries(Object.entries(imp.funcs).map(([n, t]) => [n, formatFunc(t)])),
              }
            : { name: imp.name, kind: 'type' },
      ),
      exports: compiled.plan.exports.map((exp) => ({ name: exp.name, type: formatFunc(exp.type) })),
    };
  }
}

export interface ComponentDescription {
  name: string;
  version: string;
  world: string | undefined;
  sha256: string;
  coreModules: number;
  limits: { memoryBytes: number; fuel: number; timeoutMs: number; mailbox: number };
  imports: { name: string; kind: string; type?: string; funcs?: Record<string, string> }[];
  exports: { name: string; type: string }[];
}
