/**
 * The instantiate half of the pipeline: link host functions, instantiate the instrumented core
 * modules in plan order, and bind the lifted exports to the generated call path. Also wired
 * here: guest resource destructors (with the entry guard when the host drops a handle), fused
 * adapters between the parts of a composed component, and one memory per part.
 *
 * Lift/lower code is generated once per compiled component (per function) and kept on a
 * `Specialisations` object, so a warm instantiation is the core instantiations plus one closure
 * per export — close to what raw V8 instantiation costs.
 */

import { AirssysError } from '../../shared/errors.js';
import type { CanonInstance } from '../component/canon/index.js';
import {
  compileLift,
  compileLower,
  createHandleTables,
  resourceDrop,
  resourceNew,
  resourceRep,
} from '../component/canon/index.js';
import type { CanonOptionsPlan, CoreItemRef } from '../component/model.js';
import { bindCallBudget, mayWait, retryAfterSuspension } from './call-budget.js';
import type { CompiledComponent } from './compile.js';
import { shortNameAliases } from './export-names.js';
import { FUEL_COUNTER_EXPORT, FUEL_EXPORT_PREFIX, INSTRUMENT_MODULE, MEMORY_IMPORT } from './instrument.js';
import { mayLendBytes } from './lent-bytes.js';
import { type HostImports, linkImports, linkResourceClasses } from './link.js';
import type { MemoryPool } from './memory-pool.js';
import { InstanceRuntime } from './runtime.js';

type LiftFactory = ReturnType<typeof compileLift>;
type LowerFactory = ReturnType<typeof compileLower>;
// biome-ignore lint/complexity/noBannedTypes: core exports are untyped wasm functions
type CoreFunction = Function;

/** JSPI's two constructors, present when `hasJspi()` (Node.js 24+); not in the WebAssembly typings yet. */
const JSPI = WebAssembly as unknown as {
  Suspending: new (fn: CoreFunction) => CoreFunction;
  promising: (fn: CoreFunction) => CoreFunction;
};

/** Generated call-path code of one compiled component, shared by all its instances. */
export interface Specialisations {
  lifts: LiftFactory[];
  lowers: LowerFactory[];
  /** Per fused adapter (`plan.fused`), its two halves. */
  fused: { lift: LiftFactory; lower: LowerFactory }[];
  /** Short `iface#func` names added to every instance's exports (not enumerable). */
  aliases: [string, string][];
  /**
   * Per lifted export, the core export name of its fuel wrapper: `airssys:fuel/<name>`, or the
   * name itself when the wrapper replaced the function (see `wrapperEntries` in compile.ts).
   * Resolved once, on first instantiation: building these strings per instance showed up.
   */
  entryKeys: (string | undefined)[];
  /** The JSPI variants, generated on the first instantiation that needs them (see `jspi`). */
  asyncLifts: (LiftFactory | undefined)[];
  suspendingLowers: (LowerFactory | undefined)[];
  /** Lowers whose byte lists are views of guest memory, for host functions that allow it. */
  lendingLowers: (LowerFactory | undefined)[];
}

export function specialise(compiled: CompiledComponent): Specialisations {
  return {
    lifts: compiled.plan.exports.map((lifted) =>
      compileLift(lifted.type, {
        shape: lifted.options,
        fuelParam: true,
        name: lifted.name,
        componentInstance: lifted.componentInstance,
      }),
    ),
    lowers: compiled.plan.lowered.map((lowered) =>
      compileLower(lowered.type, { shape: lowered.options, name: lowered.path.join('#') }),
    ),
    fused: (compiled.plan.fused ?? []).map((fused) => ({
      lift: compileLift(fused.type, {
        shape: fused.callee.options,
        fuelParam: false,
        name: fused.name,
        fused: true,
        componentInstance: fused.callee.componentInstance,
      }),
      lower: compileLower(fused.type, { shape: fused.options, name: fused.name }),
    })),
    aliases: shortNameAliases(compiled.plan.exports.map((e) => e.name)),
    entryKeys: compiled.plan.exports.map(() => undefined),
    asyncLifts: [],
    suspendingLowers: [],
    lendingLowers: [],
  };
}

export interface InstantiateOptions {
  component: string;
  imports: HostImports;
  fuel: number;
  timeoutMs: number;
  /**
   * Run calls on JSPI (the caller checked `hasJspi()`): every export returns a promise, and a
   * host function that may wait (`withCallBudget`) suspends the guest instead of blocking the
   * thread, so other work of the thread goes on meanwhile.
   */
  jspi?: boolean;
  /** Where the memories the host hands the core modules come from (default: new ones). */
  memories?: MemoryPool;
}

export interface BoundInstance {
  runtime: InstanceRuntime;
  /** Callable exports by name (`add`, `api#flip`). */
  exports: Record<string, (...args: unknown[]) => unknown>;
  /** The memories the host handed core modules (`compiled.memories`), by module index. */
  memories: [number, WebAssembly.Memory][];
}

function sameRef(a: CoreItemRef, b: CoreItemRef): boolean {
  if (a.kind === 'export' && b.kind === 'export') return a.instance === b.instance && a.name === b.name;
  return false;
}

/**
 * The instance as seen by canonical ABI code whose options name another memory than the first
 * one bound (composed components have one per inner component): everything but `memory` is
 * the runtime's own, so the entry guard and the handle table stay shared.
 */
function memoryView(runtime: InstanceRuntime, memory: WebAssembly.Memory): CanonInstance {
  return {
    memory,
    get state() {
      return runtime.state;
    },
    set state(value: number) {
      runtime.state = value;
    },
    get fuel() {
      return runtime.fuel;
    },
    handles: runtime.handles,
    cannotEnter: () => runtime.cannotEnter(),
    fail: (error, exportName) => runtime.fail(error, exportName),
  };
}

export function instantiateComponent(
  compiled: CompiledComponent,
  code: Specialisations,
  options: InstantiateOptions,
): BoundInstance {
  const { plan } = compiled;
  const linked = linkImports(plan, options.imports, options.component);
  const resourceClasses = linkResourceClasses(plan, options.imports);
  const runtime = new InstanceRuntime({
    component: options.component,
    fuel: options.fuel,
    timeoutMs: options.timeoutMs,
    handles: createHandleTables(plan.resources),
  });
  // Host functions that wait bound their wait by this instance's call deadline; on JSPI they
  // suspend the guest rather than block, and are called again when they may go on.
  const jspi = options.jspi === true;
  const suspends = linked.map((fn) => jspi && mayWait(fn));
  const hostFunctions = linked.map((fn, i) =>
    suspends[i]
      ? retryAfterSuspension(bindCallBudget(fn, runtime.suspendingBudget))
      : bindCallBudget(fn, runtime.callBudget),
  );
  const instrumentImports = runtime.instrumentImports();
  const memories: [number, WebAssembly.Memory][] = [];
  const instances: WebAssembly.Instance[] = [];
  const lowered: CoreFunction[] = [];
  const fused: CoreFunction[] = [];
  let memoryRef: CoreItemRef | undefined;
  const views = new Map<string, CanonInstance>();

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
          const realloc = lower.options.realloc && (coreItem(lower.options.realloc) as CoreFunction);
          if (suspends[ref.index]) {
            const factory = (code.suspendingLowers[ref.index] ??= compileLower(lower.type, {
              shape: lower.options,
              name: lower.path.join('#'),
              suspending: true,
            }));
            fn = new JSPI.Suspending(factory(hostFunctions[ref.index], instFor(lower.options), realloc));
          } else {
            const factory = mayLendBytes(linked[ref.index])
              ? (code.lendingLowers[ref.index] ??= compileLower(lower.type, {
                  shape: lower.options,
                  name: lower.path.join('#'),
                  lendBytes: true,
                }))
              : code.lowers[ref.index];
            fn = factory(hostFunctions[ref.index], instFor(lower.options), realloc);
          }
          lowered[ref.index] = fn;
        }
        return fn;
      }
      case 'fused': {
        // The lowered side calls the lifted side; both run inside the caller's export call.
        let fn = fused[ref.index];
        if (fn === undefined) {
          const { callee, options } = plan.fused[ref.index];
          const half = code.fused[ref.index];
          const lift = half.lift(
            innerCall(callee.core),
            instFor(callee.options),
            callee.options.realloc && innerCall(callee.options.realloc),
            callee.options.postReturn && innerCall(callee.options.postReturn),
          );
          const realloc = options.realloc && innerCall(options.realloc);
          fn = half.lower(lift, instFor(options), realloc);
          fused[ref.index] = fn;
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

  /**
   * A core function the guest's own code reaches (a destructor run by `resource.drop`, the
   * callee of a fused adapter, its allocator): the function itself, so it draws on the running
   * call's fuel. Note: when it is also a lifted
   * export, its fuel wrapper took its name (compile.ts `wrapperEntries`); the wrapper is then
   * called with 0 fuel, which charges the callee's module from the call's reserve.
   */
  const innerCall = (ref: CoreItemRef): CoreFunction => {
    const fn = coreItem(ref) as CoreFunction;
    if (ref.kind !== 'export' || FUEL_EXPORT_PREFIX + ref.name in instances[ref.instance].exports) return fn;
    return (...args: unknown[]) => fn(0, ...args);
  };

  /** The same function started by the host: through its fuel wrapper, with a call's first slice. */
  const entryCall = (ref: CoreItemRef): CoreFunction => {
    if (ref.kind !== 'export') return coreItem(ref) as CoreFunction;
    const exports = instances[ref.instance].exports;
    const wrapper = (exports[FUEL_EXPORT_PREFIX + ref.name] ?? coreItem(ref)) as CoreFunction;
    return (...args: unknown[]) => wrapper(runtime.fuel, ...args);
  };

  for (const [resource, cls] of resourceClasses) runtime.handles.host.declare(resource, cls);
  // Guest code the host starts outside an export call (a destructor) passes the same entry guard
  // as an export: never while a call is in progress, never after a trap, which it causes.
  runtime.handles.enter = (what, run) => {
    if (runtime.state !== 0) runtime.cannotEnter();
    runtime.state = 1;
    try {
      run();
    } catch (error) {
      throw runtime.fail(error, what);
    }
    runtime.state = 0;
  };
  // Resolved on first use: the core instance exporting a destructor may not exist yet.
  for (const { resource, func } of plan.destructors ?? []) {
    let inGuest: CoreFunction | undefined;
    let fromHost: CoreFunction | undefined;
    runtime.handles.setDestructor(
      resource,
      (rep) => (inGuest ??= innerCall(func))(rep),
      (rep) => (fromHost ??= entryCall(func))(rep),
    );
  }

  /** The instance the code of one lift/lower sees: the runtime, or a view with its own memory. */
  const instFor = (options: CanonOptionsPlan): CanonInstance => {
    const ref = options.memory;
    if (ref === undefined) return runtime;
    if (memoryRef === undefined) {
      memoryRef = ref;
      runtime.memory = coreItem(ref) as WebAssembly.Memory;
    }
    if (sameRef(memoryRef, ref) || ref.kind !== 'export') return runtime;
    const key = `${ref.instance}/${ref.name}`;
    let view = views.get(key);
    if (view === undefined) {
      view = memoryView(runtime, coreItem(ref) as WebAssembly.Memory);
      views.set(key, view);
    }
    return view;
  };

  // Start functions run during instantiation: meter them like a call, all fuel from the reserve.
  runtime.beginMetered(0);
  for (const [index, step] of plan.instances.entries()) {
    const importObject: WebAssembly.Imports = { [INSTRUMENT_MODULE]: instrumentImports };
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
      const shape = compiled.memories[step.module];
      if (shape !== undefined) {
        const memory = options.memories?.take(step.module, shape) ?? new WebAssembly.Memory(shape);
        memories.push([step.module, memory]);
        importObject[INSTRUMENT_MODULE] = { ...instrumentImports, [MEMORY_IMPORT]: memory };
      }
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
    const inst = instFor(lifted.options);
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
      // Note: only through the wrapper when the allocator shares the entry's module (whose
      // counter the entry wrapper sets again). In another module (a composed component's
      // libc) the wrapper would leave a fresh slice in that module's counter on every call;
      // called directly, it draws from the call's reserve like any other module.
      const ref = lifted.options.realloc;
      const wrapped =
        ref.kind === 'export' && ref.instance === lifted.core.instance
          ? (instances[ref.instance].exports[FUEL_EXPORT_PREFIX + ref.name] as CoreFunction | undefined)
          : undefined;
      realloc =
        wrapped === undefined
          ? (coreItem(ref) as CoreFunction)
          : (a: number, b: number, c: number, d: number) => wrapped(runtime.fuel, a, b, c, d);
    }
    const postReturn = lifted.options.postReturn && (coreItem(lifted.options.postReturn) as CoreFunction);
    const lift = jspi
      ? (code.asyncLifts[index] ??= compileLift(lifted.type, {
          shape: lifted.options,
          fuelParam: true,
          name: lifted.name,
          componentInstance: lifted.componentInstance,
          async: true,
        }))
      : code.lifts[index];
    exports[lifted.name] = lift(jspi ? JSPI.promising(core) : core, inst, realloc, postReturn) as (
      ...args: unknown[]
    ) => unknown;
  }
  for (const [alias, name] of code.aliases) {
    Object.defineProperty(exports, alias, { value: exports[name], enumerable: false });
  }
  return { runtime, exports, memories };
}
