/**
 * Linking: matching a component's imports with the host functions the host grants. There is no
 * ambient authority — nothing (no WASI, no clock, no log) is provided unless the embedder put it
 * in `HostImports`, so a component that imports anything else fails here, before any of its
 * code runs, with `capability-denied` naming the import.
 */

import { AirssysError } from '../../shared/errors.js';
import type { HostResourceClass } from '../component/canon/host-resources.js';
import type { ComponentPlan } from '../component/model.js';
import type { ResourceType } from '../component/types.js';
import { importHint } from './import-hints.js';

export type HostFunction = (...args: any[]) => unknown;
export type { HostResourceClass };

/**
 * Host functions by import name: a top-level function import maps to a function, an interface
 * import (`ns:pkg/iface@1.0.0`) to an object of functions keyed by their WIT names.
 *
 * An import `name@X.Y.Z` is matched by, in order: the exact key; its semver-compatible key
 * (`name@X` for X ≥ 1, `name@0.Y` for 0.Y with Y ≥ 1, as Cargo and wasmtime's linker count
 * compatibility, so `wasi:io/streams@0.2` serves every 0.2.x but no 0.3); the unversioned
 * `name`, which serves any version.
 *
 * A resource the host implements may have its class beside the functions, keyed by the
 * resource's WIT name (or at the top level for a world-level resource): only instances of it
 * are then accepted as that resource (see `component/canon/host-resources.ts`).
 *
 * @example
 * const imports: HostImports = { 'test:basic/host': { log: (msg: string) => console.log(msg) } };
 * const files: HostImports = { 'test:fs/files': { file: File, open: (path: string) => new File(path) } };
 */
export type HostImports = Record<
  string,
  HostFunction | HostResourceClass | Record<string, HostFunction | HostResourceClass>
>;

/** `name@0.2` for `name@0.2.7` (or `0.2.0-rc-…`), `name@1` for `name@1.4.0`; undefined otherwise. */
export function compatibleKey(name: string): string | undefined {
  const at = name.lastIndexOf('@');
  if (at <= 0) return undefined;
  const version = /^(\d+)\.(\d+)\.\d+(?:[-+].*)?$/.exec(name.slice(at + 1));
  if (version === null) return undefined;
  const [, major, minor] = version;
  if (major !== '0') return `${name.slice(0, at)}@${major}`;
  return minor === '0' ? undefined : `${name.slice(0, at)}@0.${minor}`;
}

function lookup(imports: HostImports, name: string): HostImports[string] | undefined {
  const exact = imports[name];
  if (exact !== undefined) return exact;
  const compatible = compatibleKey(name);
  const semver = compatible === undefined ? undefined : imports[compatible];
  if (semver !== undefined) return semver;
  const at = name.lastIndexOf('@');
  return at > 0 ? imports[name.slice(0, at)] : undefined;
}

function denied(component: string, what: string, name: string): AirssysError {
  const hint = importHint(name);
  return new AirssysError(
    'capability-denied',
    `${component} imports ${what}, which this host does not grant; ${hint ?? "provide it in the host's imports or remove the import from the component"}`,
    { blame: 'guest', details: { import: what } },
  );
}

/** Resolves every lowered import of the plan to its host function, in `plan.lowered` order. */
export function linkImports(plan: ComponentPlan, imports: HostImports, component: string): HostFunction[] {
  for (const declared of plan.imports) {
    if (declared.kind === 'type') continue;
    // An interface of types only (like `airssys:core/types`) carries no authority: nothing to grant.
    if (declared.kind === 'instance' && Object.keys(declared.funcs).length === 0) continue;
    const provided = lookup(imports, declared.name);
    if (declared.kind === 'func') {
      if (typeof provided !== 'function')
        throw denied(component, `function "${declared.name}"`, declared.name);
      continue;
    }
    if (provided === undefined || typeof provided === 'function') {
      throw denied(component, `interface "${declared.name}"`, declared.name);
    }
    for (const func of Object.keys(declared.funcs)) {
      if (typeof provided[func] !== 'function')
        throw denied(component, `"${declared.name}#${func}"`, declared.name);
    }
  }
  return plan.lowered.map((lowered) => {
    const [first, second] = lowered.path;
    const provided = lookup(imports, first);
    const fn = second === undefined ? provided : typeof provided === 'object' ? provided[second] : undefined;
    if (typeof fn !== 'function') throw denied(component, `"${lowered.path.join('#')}"`, first);
    return fn as HostFunction;
  });
}

/**
 * The classes the embedder declared for the resources the host implements, by resource id. A
 * value under a resource's name that is not a class is refused here, before any guest code runs.
 */
export function linkResourceClasses(
  plan: ComponentPlan,
  imports: HostImports,
): Map<number, HostResourceClass> {
  const classes = new Map<number, HostResourceClass>();
  const declare = (where: string, value: unknown, resource: ResourceType): void => {
    if (value === undefined) return;
    if (typeof value !== 'function' || typeof value.prototype !== 'object' || value.prototype === null) {
      const got = typeof value === 'function' ? 'a function that is not a class' : typeof value;
      throw new AirssysError(
        'invalid-argument',
        `imports ${where}: expected the class of the host's ${resource.name} objects, got ${got}; pass the class or leave the key out`,
        { blame: 'host', details: { import: where } },
      );
    }
    classes.set(resource.id, value as HostResourceClass);
  };
  for (const declared of plan.imports) {
    if (declared.kind === 'type') {
      if (declared.resource !== undefined)
        declare(`"${declared.name}"`, lookup(imports, declared.name), declared.resource);
    } else if (declared.kind === 'instance') {
      const provided = lookup(imports, declared.name);
      if (provided === undefined || typeof provided === 'function') continue;
      for (const [name, type] of Object.entries(declared.types)) {
        if ('origin' in type && type.origin === 'host')
          declare(`"${declared.name}#${name}"`, provided[name], type);
      }
    }
  }
  return classes;
}
