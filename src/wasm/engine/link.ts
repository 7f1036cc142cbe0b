/**
 * Linking: matching a component's imports with the host functions the host grants. There is no
 * ambient authority — nothing (no WASI, no clock, no log) is provided unless the embedder put it
 * in `HostImports`, so a component that imports anything else fails here, before any of its
 * code runs, with `capability-denied` naming the import.
 */

import { AirssysError } from '../../shared/errors.js';
import type { ComponentPlan } from '../component/model.js';

export type HostFunction = (...args: any[]) => unknown;

/**
 * Host functions by import name: a top-level function import maps to a function, an interface
 * import (`ns:pkg/iface@1.0.0`) to an object of functions keyed by their WIT names.
 *
 * @example
 * const imports: HostImports = { 'test:basic/host': { log: (msg: string) => console.log(msg) } };
 */
export type HostImports = Record<string, HostFunction | Record<string, HostFunction>>;

function lookup(imports: HostImports, name: string): HostFunction | Record<string, HostFunction> | undefined {
  const exact = imports[name];
  if (exact !== undefined) return exact;
  const at = name.lastIndexOf('@');
  return at > 0 ? imports[name.slice(0, at)] : undefined;
}

function denied(component: string, what: string): AirssysError {
  return new AirssysError(
    'capability-denied',
    `${component} imports ${what}, which this host does not grant; provide it in the host's imports or remove the import from the component`,
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
      if (typeof provided !== 'function') throw denied(component, `function "${declared.name}"`);
      continue;
    }
    if (provided === undefined || typeof provided === 'function') {
      throw denied(component, `interface "${declared.name}"`);
    }
    for (const func of Object.keys(declared.funcs)) {
      if (typeof provided[func] !== 'function') throw denied(component, `"${declared.name}#${func}"`);
    }
  }
  return plan.lowered.map((lowered) => {
    const [first, second] = lowered.path;
    const provided = lookup(imports, first);
    const fn = second === undefined ? provided : typeof provided === 'object' ? provided[second] : undefined;
    if (typeof fn !== 'function') throw denied(component, `"${lowered.path.join('#')}"`);
    return fn;
  });
}
