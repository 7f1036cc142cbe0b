/**
 * The compile half of the pipeline: validate → decompose → instrument → compile → cache.
 * Everything that can be refused is refused here, before any guest code runs: binary size,
 * per-module caps (functions, imports, exports, locals, params), the memory a module asks for,
 * and malformed bytes. The result is shared by every instance of the component.
 */

import { AirssysError } from '../../shared/errors.js';
import { type CoreModuleInfo, checkCoreModuleLimits, inspectCoreModule } from '../binary/module-info.js';
import { decodeComponent } from '../component/decode.js';
import type { ComponentPlan, CoreItemRef } from '../component/model.js';
import { type ComponentCache, sha256 } from './cache.js';
import { INSTRUMENT_VERSION, importedMemory, instrument, type MemoryShape } from './instrument.js';
import type { HostPolicy } from './policy.js';

export const WASM_PAGE = 65_536;

export interface CompiledComponent {
  /** sha256 of the component binary: its identity. */
  readonly hash: string;
  readonly plan: ComponentPlan;
  /** Instrumented, compiled core modules, indexed like `plan.modules`. */
  readonly modules: readonly WebAssembly.Module[];
  /** Sizes of the instrumented core modules, in bytes. */
  readonly moduleSizes: readonly number[];
  /** Per core module, the memory the host hands it at instantiation (`importMemory`), if any. */
  readonly memories: readonly (MemoryShape | undefined)[];
  readonly memoryMaxPages: number;
  readonly fromCache: boolean;
}

export interface CompileOptions {
  policy: HostPolicy;
  /** The manifest's `[resources] memory`, in bytes: every core memory is clamped to it. */
  memoryBytes: number;
  cache?: ComponentCache;
}

function invalid(message: string, details?: Record<string, unknown>): AirssysError {
  return new AirssysError('invalid-component', message, { blame: 'guest', details });
}

function compileModule(bytes: Uint8Array, index: number): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (error) {
    throw invalid(`core module ${index} does not compile: ${(error as Error).message}`, { module: index });
  }
}

/**
 * Per core module, the exports the host only calls through their fuel wrapper (lifted
 * functions no other module imports and no canonical option names), so the wrapper can take
 * their name rather than be exported beside them.
 */
function wrapperEntries(plan: ComponentPlan, infos: readonly CoreModuleInfo[]): Set<string>[] {
  const entries = plan.modules.map(() => new Set<string>());
  const moduleOf = (instance: number) => plan.instances[instance].module;
  for (const lifted of plan.exports) entries[moduleOf(lifted.core.instance)].add(lifted.core.name);
  const keep = (ref: CoreItemRef | undefined) => {
    if (ref?.kind === 'export') entries[moduleOf(ref.instance)].delete(ref.name);
  };
  for (const { options } of [...plan.exports, ...plan.lowered]) {
    keep(options.memory);
    keep(options.realloc);
    keep(options.postReturn);
  }
  for (const step of plan.instances) {
    for (const [namespace, arg] of Object.entries(step.args)) {
      if (arg.kind === 'items') {
        for (const ref of Object.values(arg.items)) keep(ref);
      } else {
        const from = entries[moduleOf(arg.index)];
        for (const imported of infos[step.module].importNames)
          if (imported.module === namespace) from.delete(imported.name);
      }
    }
  }
  return entries;
}

export function compileComponent(bytes: Uint8Array, options: CompileOptions): CompiledComponent {
  const { policy, cache } = options;
  const caps = policy.caps;
  if (bytes.length > caps.maxBinaryBytes) {
    throw invalid(
      `component binary is ${bytes.length} bytes, above the host's cap of ${caps.maxBinaryBytes} bytes (maxBinaryBytes)`,
      { cap: 'maxBinaryBytes', limit: caps.maxBinaryBytes, actual: bytes.length },
    );
  }
  const memoryMaxPages = Math.floor(options.memoryBytes / WASM_PAGE);
  const hash = sha256(bytes);
  const key = cache?.key(hash, memoryMaxPages, INSTRUMENT_VERSION);

  const cached = key === undefined ? undefined : cache?.load(key);
  if (cached !== undefined) {
    return {
      hash,
      plan: cached.plan,
      modules: cached.modules.map(compileModule),
      moduleSizes: cached.modules.map((m) => m.length),
      memories: cached.modules.map(importedMemory),
      memoryMaxPages,
      fromCache: true,
    };
  }

  const plan = decodeComponent(bytes, { maxCoreModules: caps.maxCoreModules });
  if (plan.imports.length > caps.maxImports) {
    throw invalid(`component declares ${plan.imports.length} imports, above the cap of ${caps.maxImports}`, {
      cap: 'maxImports',
    });
  }
  if (plan.exports.length > caps.maxExports) {
    throw invalid(`component declares ${plan.exports.length} exports, above the cap of ${caps.maxExports}`, {
      cap: 'maxExports',
    });
  }
  const cores = plan.modules.map(({ offset, length }) => bytes.subarray(offset, offset + length));
  const infos = cores.map((core) => inspectCoreModule(core));
  for (const info of infos) checkCoreModuleLimits(info, caps);
  const entries = wrapperEntries(plan, infos);
  const results = cores.map((core, m) =>
    instrument(core, { memoryMaxPages, entries: entries[m], importMemory: true }),
  );
  const instrumented = results.map((result) => result.bytes);
  const modules = instrumented.map(compileModule);
  if (key !== undefined) cache?.store(key, { plan, modules: instrumented });
  return {
    hash,
    plan,
    modules,
    moduleSizes: instrumented.map((m) => m.length),
    memories: results.map((result) => result.memory),
    memoryMaxPages,
    fromCache: false,
  };
}
