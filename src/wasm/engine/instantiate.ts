/**
 * The instantiate half of the pipeline: link host functions, instantiate the instrumented core
 * modules in plan order, and bind the lifted exports to the generated call path.
 *
 * Lift/lower code is generated once per compiled component (per function) and kept on a
 * `Specialisations` object, so a warm instantiation is the core instantiations plus one closure
 * per export — close to what raw V8 instantiation costs.
 */

import { AirssysError } from '../../shared/errors.js';
import {
  compileLift,
  compileLower,
  createHandleTables,
  resourceDrop,
  resourceNew,
  resourceRep,
} from '../component/canon/index.js';
import type { CanonOptionsPlan, CoreItemRef } from '../component/model.js';
import type { CompiledComponent } from './compile.js';
import { shortNameAliases } from './export-names.js';
import { FUEL_COUNTER_EXPORT, FUEL_EXPORT_PREFIX } from './instrument.js';
import { type HostImports, linkImports } from './link.js';
import { InstanceRuntime } from './runtime.js';

type LiftFactory = ReturnType<typeof compileLift>;
type LowerFactory = ReturnType<typeof compileLower>;
// biome-ignore lint/complexity/noBannedTypes: core exports are untyped wasm functions
type CoreFunction = Function;

/** Generated call-path code of one compiled component, shared by all its instances. */
export interface Specialisations {
  lifts: LiftFactory[];
  lowers: LowerFactory[];
  /** Short `iface#func` names added to every instance's exports (not enumerable). */
  aliases: [string, string][];
  /**
   * Per lifted export, the core export name of its fuel wrapper: `airssys:fuel/<name>`, or the
   * name itself when the wrapper replaced the function (see `wrapperEntries` in compile.ts).
   * Resolved once, on first instantiation: building these strings per instance showed up.
   */
  entryKeys: (string | undefined)[];
}

export function specialise(compiled: CompiledComponent): Specialisations {
  return {
    lifts: compiled.plan.exports.map((lifted) =>
      compileLift(lifted.type, { shape: lifted.options, fuelParam: true, name: lifted.name }),
    ),
    lowers: compiled.plan.lowered.map((lowered) =>
      compileLower(lowered.type, { shape: lowered.options, name: lowered.path.join('#') }),
    ),
    aliases: shortNameAliases(compiled.plan.exports.map((e) => e.name)),
    entryKeys: compiled.plan.exports.map(() => undefined),
  };
}

export interface InstantiateOptions {
  component: string;
  imports: HostImports;
  fuel: number;
  timeoutMs: number;
}

export interface BoundInstance {
  runtime: InstanceRuntime;
  /** Callable exports by name (`add`, `api#flip`). */
  exports: Record<string, (...args: unknown[]) => unknown>;
}

function sameRef(a: CoreItemRef, b: CoreItemRef): boolean {
  if (a.kind === 'export' && b.kind === 'export') return a.instance === b.instance && a.name === b.name;
  return false;
}

export function instantiateComponent(
  compiled: CompiledComponent,
  code: Specialisations,
  options: InstantiateOptions,
): BoundInstance {
  const { plan } = compiled;
  const hostFunctions = linkImports(plan, options.imports, options.component);
  const runtime = new InstanceRuntime({
    component: options.component,
    fuel: options.fuel,
    timeoutMs: options.timeoutMs,
    handles: createHandleTables(plan.resources),
  });
  const instrumentImports = runtime.instrumentImports();
  const instances: WebAssembly.Instance[] = [];
  const lowered: CoreFunction[] = [];
  let memoryRef: CoreItemRef | undefined;

  const coreItem = (ref: CoreItemRef): unknown => {
    switch (ref.kind) {
      case 'export': {
        const value = instances[ref.instance]?.exports[ref.name];
        if (value === undefined) {
          throw new AirssysError(
            'invalid-component',
            `core instance ${ref.instance} has no export "${ref.name}"`,
            {
              blame: 'guest',
            },
          );
        }
        return value;
      }
      case 'lowered': {
        let fn = lowered[ref.index];
        if (fn === undefined) {
          const lower = plan.lowered[ref.index];
          bindMemory(lower.options);
          const realloc = lower.options.realloc && (coreItem(lower.options.realloc) as CoreFunction);
          fn = code.lowers[ref.index](hostFunctions[ref.index], runtime, realloc);
          lowered[ref.index] = fn;
        }
        return fn;
      }
      case 'resource-new':
        return (rep: number) => resourceNew(runtime, ref.resource, rep);
      case 'resource-rep':
        return (handle: number) => resourceRep(runtime, ref.resource, handle);
      case 'resource-drop':
        return (handle: number) => resourceDrop(runtime, ref.resource, handle);
    }
  };

  const bindMemory = (options: CanonOptionsPlan): void => {
    if (options.memory === undefined) return;
    if (memoryRef === undefined) {
      memoryRef = options.memory;
      runtime.memory = coreItem(options.memory) as WebAssembly.Memory;
    } else if (!sameRef(memoryRef, options.memory)) {
      throw new AirssysError(
        'invalid-component',
        `${options.memory.kind === 'export' ? `memory "${options.memory.name}"` : 'a second memory'}: components whose canonical options use more than one memory are not supported`,
        { blame: 'guest' },
      );
    }
  };

  // Start functions run during instantiation: meter them like a call, all fuel from the reserve.
  runtime.beginMetered(0);
  for (const [index, step] of plan.instances.entries()) {
    const importObject: WebAssembly.Imports = { 'airssys:instrument': instrumentImports };
    for (const [name, arg] of Object.entries(step.args)) {
      if (arg.kind === 'instance') {
        importObject[name] = instances[arg.index].exports as WebAssembly.ModuleImports;
      } else {
        const items: WebAssembly.ModuleImports = {};
        for (const [field, ref] of Object.entries(arg.items))
          items[field] = coreItem(ref) as WebAssembly.ImportValue;
        importObject[name] = items;
      }
    }
    try {
      const instance = new WebAssembly.Instance(compiled.modules[step.module], importObject);
      runtime.addCounter(instance.exports[FUEL_COUNTER_EXPORT] as WebAssembly.Global);
      instances.push(instance);
    } catch (error) {
      if (error instanceof WebAssembly.LinkError) {
        throw new AirssysError(
          'invalid-component',
          `core instance ${index} does not link: ${error.message}`,
          {
            blame: 'guest',
            cause: error,
          },
        );
      }
      throw runtime.fail(error, '(start function)');
    }
  }

  runtime.endMetered();

  const exports: Record<string, (...args: unknown[]) => unknown> = Object.create(null);
  for (const [index, lifted] of plan.exports.entries()) {
    bindMemory(lifted.options);
    const source = instances[lifted.core.instance];
    let key = code.entryKeys[index];
    if (key === undefined) {
      const prefixed = FUEL_EXPORT_PREFIX + lifted.core.name;
      key = code.entryKeys[index] = prefixed in source.exports ? prefixed : lifted.core.name;
    }
    const core = source.exports[key] as CoreFunction | undefined;
    if (core === undefined) {
      throw new AirssysError(
        'invalid-component',
        `export "${lifted.name}" lifts a core function that is not exported`,
        {
          blame: 'guest',
        },
      );
    }
    let realloc: CoreFunction | undefined;
    if (lifted.options.realloc !== undefined) {
      // The host's own calls into the allocator run on the same per-call budget as the export.
      const ref = lifted.options.realloc;
      const wrapped =
        ref.kind === 'export'
          ? (instances[ref.instance].exports[FUEL_EXPORT_PREFIX + ref.name] as CoreFunction | undefined)
          : undefined;
      realloc =
        wrapped === undefined
          ? (coreItem(ref) as CoreFunction)
          : (a: number, b: number, c: number, d: number) => wrapped(runtime.fuel, a, b, c, d);
    }
    const postReturn = lifted.options.postReturn && (coreItem(lifted.options.postReturn) as CoreFunction);
    exports[lifted.name] = code.lifts[index](core, runtime, realloc, postReturn) as (
      ...args: unknown[]
    ) => unknown;
  }
  for (const [alias, name] of code.aliases) {
    Object.defineProperty(exports, alias, { value: exports[name], enumerable: false });
  }
  return { runtime, exports };
}
