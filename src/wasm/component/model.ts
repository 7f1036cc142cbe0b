/**
 * What decoding a component yields: a flat, ordered plan the engine can execute without looking
 * at the binary again. Core instantiations are listed in definition order (which is the order
 * the Component Model instantiates them in); every import a core instance needs is a reference
 * to an earlier core instance's export, a lowered host function, or a resource built-in.
 * The plan is plain data so it can be cached on disk as JSON.
 */

import type { CanonOptionsShape, FuncType, ResourceType, ValType } from './types.js';

/** Where a core item comes from at instantiation time. */
export type CoreItemRef =
  | { kind: 'export'; instance: number; name: string }
  | { kind: 'lowered'; index: number }
  | { kind: 'resource-new' | 'resource-rep' | 'resource-drop'; resource: number };

/** What one import namespace of a core instantiation is bound to. */
export type CoreImportArg =
  | { kind: 'instance'; index: number }
  | { kind: 'items'; items: Record<string, CoreItemRef> };

export interface CoreInstancePlan {
  /** Index into `ComponentPlan.modules`. */
  module: number;
  /** Keyed by the core module's import namespace (`with "name" (instance …)`). */
  args: Record<string, CoreImportArg>;
}

/** Canonical options resolved to concrete core items. */
export interface CanonOptionsPlan extends CanonOptionsShape {
  memory: CoreItemRef | undefined;
  realloc: CoreItemRef | undefined;
  postReturn: CoreItemRef | undefined;
}

/** A host function the guest calls: an import of the component, lowered to a core function. */
export interface LoweredImportPlan {
  /** Import path, e.g. `['test:basic/host', 'log']` or `['log']` for a top-level func import. */
  path: string[];
  type: FuncType;
  options: CanonOptionsPlan;
}

/** A guest function the host calls: a core export lifted to a component function. */
export interface LiftedExportPlan {
  /** Dotted name the host calls it by: `add`, or `api.flip` for an exported interface's func. */
  name: string;
  core: { instance: number; name: string };
  type: FuncType;
  options: CanonOptionsPlan;
}

/** One import the component declares: a function, or an instance (interface) of functions. */
export type ImportPlan =
  | { kind: 'func'; name: string; type: FuncType }
  | {
      kind: 'instance';
      name: string;
      funcs: Record<string, FuncType>;
      types: Record<string, ValType | ResourceType>;
    }
  | { kind: 'type'; name: string };

export interface ComponentPlan {
  /** Byte ranges of the embedded core modules, in the component binary. */
  modules: { offset: number; length: number }[];
  instances: CoreInstancePlan[];
  lowered: LoweredImportPlan[];
  exports: LiftedExportPlan[];
  imports: ImportPlan[];
  resources: ResourceType[];
}
