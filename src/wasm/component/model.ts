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
  | { kind: 'fused'; index: number }
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

/**
 * A function lifted and lowered again inside the component (adapter fusion): the core function
 * one core instance imports is the lowered side, which calls the lifted side's core function.
 */
export interface FusedPlan {
  /** For messages: the name the lifted function was exported or passed under. */
  name: string;
  type: FuncType;
  /**
   * The lifted side: the core function that implements it, its canonical options, and the
   * component instance it belongs to (numbered by the decoder, see `ResourceType.implementer`).
   */
  callee: { core: CoreItemRef; options: CanonOptionsPlan; componentInstance: number };
  /** The lowered side's canonical options (the caller's memory and realloc). */
  options: CanonOptionsPlan;
}

/** A guest function the host calls: a core export lifted to a component function. */
export interface LiftedExportPlan {
  /** Dotted name the host calls it by: `add`, or `api.flip` for an exported interface's func. */
  name: string;
  core: { instance: number; name: string };
  type: FuncType;
  options: CanonOptionsPlan;
  /** The component instance whose core function it lifts (see `ResourceType.implementer`). */
  componentInstance?: number;
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
  | {
      kind: 'type';
      name: string;
      /** Set when the imported type is a resource (`(sub resource)`): the host implements it. */
      resource?: ResourceType;
    };

/**
 * The destructor of a guest resource type (`(resource (rep i32) (dtor $f))`): the core function
 * called with the rep when the last own handle is dropped, by the guest or by the host.
 */
export interface DestructorPlan {
  resource: number;
  func: CoreItemRef;
}

export interface ComponentPlan {
  /** Byte ranges of the embedded core modules, in the component binary. */
  modules: { offset: number; length: number }[];
  instances: CoreInstancePlan[];
  lowered: LoweredImportPlan[];
  exports: LiftedExportPlan[];
  imports: ImportPlan[];
  resources: ResourceType[];
  destructors: DestructorPlan[];
  fused: FusedPlan[];
}
