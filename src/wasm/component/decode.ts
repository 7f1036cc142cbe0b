/**
 * Decodes a Component Model binary into a `ComponentPlan`.
 *
 * Rather than building an AST and interpreting it later, the decoder *evaluates* the component
 * symbolically while it reads: every definition lands in its index space as a resolved entity
 * (a structural type, a reference to a core export, an import path, a lifted function), nested
 * components are evaluated when they are instantiated, and core instantiations are appended to
 * the plan in definition order. What comes out is everything the engine needs to instantiate
 * and call the component, with no index left to follow.
 *
 * Supported: what `wasm-tools component new` (and so jco, componentize-js, wit-bindgen,
 * cargo-component) emits — core modules, core instances, aliases, value/func/instance/resource
 * types (with destructors), canon lift/lower and resource built-ins, nested components
 * instantiated with imports, imports and exports of functions, types and instances under every
 * name encoding (0x00, the legacy 0x01, 0x02 with attributes) — and what `wasm-tools compose`,
 * wac and componentize-qjs emit on top: adapter fusion (a function lifted and lowered again
 * inside the component, across nested instances). Rejected with `invalid-component` and a
 * message naming the feature: component-level start functions and values, imports of core
 * modules or components, Component Model async and thread built-ins.
 *
 * Note: nested instances are flattened into one plan; the decoder numbers them
 * (`Scope.instance`) only so that a borrow reaches its resource's implementer as the rep.
 * Re-entry between nested instances (`may_enter`) is not tracked: the engine's guard covers
 * the component as a whole.
 */

import { AirssysError } from '../../shared/errors.js';
import { invalid, Reader } from '../binary/reader.js';
import type {
  CanonOptionsPlan,
  ComponentPlan,
  CoreImportArg,
  CoreItemRef,
  ImportPlan,
  LiftedExportPlan,
} from './model.js';
import type {
  Case,
  Field,
  FuncType,
  Param,
  PrimitiveKind,
  ResourceType,
  StringEncoding,
  ValType,
} from './types.js';

const COMPONENT_VERSION = 0x0d;

const PRIMITIVES: Record<number, PrimitiveKind> = {
  127: 'bool',
  126: 's8',
  125: 'u8',
  124: 's16',
  123: 'u16',
  122: 's32',
  121: 'u32',
  120: 's64',
  119: 'u64',
  118: 'f32',
  117: 'f64',
  116: 'char',
  115: 'string',
};

/** A type as it sits in an index space. */
type TypeEntity =
  | { t: 'val'; v: ValType }
  | { t: 'func'; f: FuncType }
  | { t: 'instance'; exports: Map<string, DeclaredItem> }
  | { t: 'component' }
  | { t: 'resource'; r: ResourceType }
  | { t: 'core' };

/** What an instance type says one of its exports is. */
type DeclaredItem =
  | { sort: 'func'; type: FuncType }
  | { sort: 'type'; type: TypeEntity }
  | { sort: 'instance'; exports: Map<string, DeclaredItem> };

type Func =
  | { kind: 'import'; path: string[]; type: FuncType }
  | {
      kind: 'lifted';
      core: CoreItemRef;
      options: CanonOptionsPlan;
      type: FuncType;
      /** The component instance whose core function it lifts. */
      instance: number;
      /** The first name it is exported or passed under, for messages. */
      name?: string;
    };

type Item =
  | { sort: 'func'; func: Func }
  | { sort: 'type'; type: TypeEntity }
  | { sort: 'instance'; items: Map<string, Item> }
  | { sort: 'component'; component: ComponentDef };

interface ComponentDef {
  start: number;
  end: number;
  parent: Scope;
}

type CoreInstance = { kind: 'plan'; index: number } | { kind: 'items'; items: Map<string, CoreItemRef> };

/** Index spaces of one component (or one instance/component type while it is read). */
interface Scope {
  parent: Scope | undefined;
  types: TypeEntity[];
  coreModules: number[];
  coreInstances: CoreInstance[];
  coreFuncs: CoreItemRef[];
  coreTables: CoreItemRef[];
  coreMemories: CoreItemRef[];
  coreGlobals: CoreItemRef[];
  funcs: Func[];
  instances: Map<string, Item>[];
  components: ComponentDef[];
  exports: Map<string, Item>;
  /** Set when this scope is a nested component being instantiated with these arguments. */
  args: Map<string, Item> | undefined;
  /**
   * The component instance this scope evaluates (0 the root, then one per nested
   * instantiation); a type's declarations share their component's.
   */
  instance: number;
}

function newScope(parent: Scope | undefined, instance: number, args?: Map<string, Item>): Scope {
  return {
    instance,
    parent,
    types: [],
    coreModules: [],
    coreInstances: [],
    coreFuncs: [],
    coreTables: [],
    coreMemories: [],
    coreGlobals: [],
    funcs: [],
    instances: [],
    components: [],
    exports: new Map(),
    args,
  };
}

function fail(message: string, offset?: number): never {
  if (offset !== undefined) throw invalid(message, offset);
  throw new AirssysError('invalid-component', message, { blame: 'guest' });
}

export interface DecodeOptions {
  /** Most core modules accepted inside one component (nested components included). */
  maxCoreModules?: number;
}

/** Decodes and evaluates a component binary. Throws `invalid-component` on anything malformed. */
export function decodeComponent(bytes: Uint8Array, options: DecodeOptions = {}): ComponentPlan {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    fail('not a WebAssembly binary (bad magic number)');
  }
  if (bytes[6] !== 1 || bytes[7] !== 0) {
    fail('this is a core WebAssembly module, not a component; build it into a component first');
  }
  if (bytes[4] !== COMPONENT_VERSION || bytes[5] !== 0) {
    fail(`unsupported component binary version 0x${bytes[4].toString(16)} (this host reads 0x0d)`);
  }
  const plan: ComponentPlan = {
    modules: [],
    instances: [],
    lowered: [],
    exports: [],
    imports: [],
    resources: [],
    destructors: [],
    fused: [],
  };
  const decoder = new Decoder(bytes, plan, options.maxCoreModules ?? Number.POSITIVE_INFINITY);
  const root = newScope(undefined, 0);
  decoder.evaluate(root, 8, bytes.length);
  collectExports(plan, root.exports, '');
  return plan;
}

function collectExports(plan: ComponentPlan, items: Map<string, Item>, prefix: string): void {
  for (const [name, item] of items) {
    const full = prefix === '' ? name : `${prefix}#${name}`;
    if (item.sort === 'func') {
      const func = item.func;
      if (func.kind !== 'lifted')
        fail(`export "${full}" re-exports an import; this host does not support that`);
      if (func.core.kind !== 'export') fail(`export "${full}" lifts a function that is not a core export`);
      const lifted: LiftedExportPlan = {
        name: full,
        core: { instance: func.core.instance, name: func.core.name },
        type: func.type,
        options: func.options,
        componentInstance: func.instance,
      };
      plan.exports.push(lifted);
    } else if (item.sort === 'instance') {
      if (prefix !== '') fail(`export "${full}": instances nested in exported instances are not supported`);
      collectExports(plan, item.items, full);
    }
  }
}

class Decoder {
  private nextResource = 0;
  /** Nested component instances evaluated so far. */
  private componentInstances = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly plan: ComponentPlan,
    private readonly maxCoreModules: number,
  ) {}

  evaluate(scope: Scope, start: number, end: number): void {
    const r = new Reader(this.bytes, start, end);
    while (r.pos < end) {
      const id = r.u8();
      const size = r.u32();
      const sectionEnd = r.pos + size;
      if (sectionEnd > end) fail(`section ${id} runs past the end of the component`, r.pos);
      const s = new Reader(this.bytes, r.pos, sectionEnd);
      switch (id) {
        case 0:
          break;
        case 1:
          this.coreModule(scope, r.pos, size);
          break;
        case 2:
          s.vec(() => this.coreInstance(scope, s));
          break;
        case 3:
          s.vec(() => this.skipCoreType(s));
          break;
        case 4:
          scope.components.push({ start: r.pos + 8, end: sectionEnd, parent: scope });
          this.checkPreamble(r.pos, sectionEnd);
          break;
        case 5:
          s.vec(() => this.instance(scope, s));
          break;
        case 6:
          s.vec(() => this.alias(scope, s));
          break;
        case 7:
          s.vec(() => scope.types.push(this.defType(scope, s)));
          break;
        case 8:
          s.vec(() => this.canon(scope, s));
          break;
        case 9:
          fail('component start functions are not supported by this host', r.pos);
          break;
        case 10:
          s.vec(() => this.importDef(scope, s));
          break;
        case 11:
          s.vec(() => this.exportDef(scope, s));
          break;
        case 12:
          fail('component value definitions are not supported by this host', r.pos);
          break;
        default:
          fail(`unknown component section id ${id}`, r.pos - 1);
      }
      if (id !== 0 && id !== 1 && id !== 4 && s.pos !== sectionEnd) {
        fail(`section ${id} has ${sectionEnd - s.pos} unread trailing bytes`, s.pos);
      }
      r.pos = sectionEnd;
    }
  }

  private checkPreamble(start: number, end: number): void {
    const b = this.bytes;
    if (end - start < 8 || b[start + 4] !== COMPONENT_VERSION || b[start + 6] !== 1) {
      fail('nested component has a bad preamble', start);
    }
  }

  private coreModule(scope: Scope, offset: number, length: number): void {
    if (this.plan.modules.length >= this.maxCoreModules) {
      fail(
        `component has more than ${this.maxCoreModules} core modules (host policy maxCoreModules)`,
        offset,
      );
    }
    this.plan.modules.push({ offset, length });
    scope.coreModules.push(this.plan.modules.length - 1);
  }

  // ---- core instances, aliases, canon --------------------------------------------------------

  private coreInstance(scope: Scope, r: Reader): void {
    const tag = r.u8();
    if (tag === 0x00) {
      const moduleIdx = r.u32();
      const module = scope.coreModules[moduleIdx];
      if (module === undefined) fail(`core instance refers to unknown core module ${moduleIdx}`, r.pos);
      const args: Record<string, CoreImportArg> = {};
      r.vec(() => {
        const name = r.name();
        if (r.u8() !== 0x12) fail('core instantiation argument must be an instance', r.pos - 1);
        const inst = this.coreInstanceAt(scope, r.u32(), r.pos);
        args[name] =
          inst.kind === 'plan'
            ? { kind: 'instance', index: inst.index }
            : { kind: 'items', items: Object.fromEntries(inst.items) };
      });
      this.plan.instances.push({ module, args });
      scope.coreInstances.push({ kind: 'plan', index: this.plan.instances.length - 1 });
    } else if (tag === 0x01) {
      const items = new Map<string, CoreItemRef>();
      r.vec(() => {
        const name = r.name();
        const sort = r.u8();
        items.set(name, this.coreItem(scope, sort, r.u32(), r.pos));
      });
      scope.coreInstances.push({ kind: 'items', items });
    } else {
      fail(`unknown core instance form 0x${tag.toString(16)}`, r.pos - 1);
    }
  }

  private coreInstanceAt(scope: Scope, idx: number, at: number): CoreInstance {
    const inst = scope.coreInstances[idx];
    if (inst === undefined) fail(`unknown core instance ${idx}`, at);
    return inst;
  }

  private coreSpace(scope: Scope, sort: number, at: number): CoreItemRef[] {
    switch (sort) {
      case 0x00:
        return scope.coreFuncs;
      case 0x01:
        return scope.coreTables;
      case 0x02:
        return scope.coreMemories;
      case 0x03:
        return scope.coreGlobals;
      default:
        return fail(`core sort 0x${sort.toString(16)} is not supported here`, at);
    }
  }

  private coreItem(scope: Scope, sort: number, idx: number, at: number): CoreItemRef {
    const item = this.coreSpace(scope, sort, at)[idx];
    if (item === undefined) fail(`unknown core item ${idx} of sort 0x${sort.toString(16)}`, at);
    return item;
  }

  private alias(scope: Scope, r: Reader): void {
    const sort = r.u8();
    const coreSort = sort === 0x00 ? r.u8() : -1;
    const target = r.u8();
    if (target === 0x01) {
      if (sort !== 0x00) fail('core export alias must have a core sort', r.pos);
      const inst = this.coreInstanceAt(scope, r.u32(), r.pos);
      const name = r.name();
      let ref: CoreItemRef;
      if (inst.kind === 'plan') {
        ref = { kind: 'export', instance: inst.index, name };
      } else {
        const found = inst.items.get(name);
        if (found === undefined) fail(`core instance has no export "${name}"`, r.pos);
        ref = found;
      }
      this.coreSpace(scope, coreSort, r.pos).push(ref);
    } else if (target === 0x00) {
      const idx = r.u32();
      const inst = scope.instances[idx];
      if (inst === undefined) fail(`alias refers to unknown instance ${idx}`, r.pos);
      const name = r.name();
      const item = inst.get(name);
      if (item === undefined) fail(`instance ${idx} has no export "${name}"`, r.pos);
      this.push(scope, sort, item, r.pos);
    } else if (target === 0x02) {
      let count = r.u32();
      const idx = r.u32();
      let outer: Scope | undefined = scope;
      while (count-- > 0) outer = outer?.parent;
      if (outer === undefined) fail('outer alias reaches past the outermost component', r.pos);
      if (sort === 0x03) {
        const type = outer.types[idx];
        if (type === undefined) fail(`outer alias to unknown type ${idx}`, r.pos);
        scope.types.push(type);
      } else if (sort === 0x04) {
        const component = outer.components[idx];
        if (component === undefined) fail(`outer alias to unknown component ${idx}`, r.pos);
        scope.components.push(component);
      } else if (sort === 0x00 && coreSort === 0x11) {
        const module = outer.coreModules[idx];
        if (module === undefined) fail(`outer alias to unknown core module ${idx}`, r.pos);
        scope.coreModules.push(module);
      } else if (sort === 0x00 && coreSort === 0x10) {
        // core types carry nothing the engine needs
      } else {
        fail('outer aliases may only name types, modules or components', r.pos);
      }
    } else {
      fail(`unknown alias target 0x${target.toString(16)}`, r.pos - 1);
    }
  }

  /** Appends an item to the index space of `sort` (a component sort byte). */
  private push(scope: Scope, sort: number, item: Item, at: number): void {
    const expected = SORT_NAMES[sort];
    if (expected === undefined || expected !== item.sort) {
      fail(`expected a ${expected ?? `sort 0x${sort.toString(16)}`}, found a ${item.sort}`, at);
    }
    switch (item.sort) {
      case 'func':
        scope.funcs.push(item.func);
        break;
      case 'type':
        scope.types.push(item.type);
        break;
      case 'instance':
        scope.instances.push(item.items);
        break;
      case 'component':
        scope.components.push(item.component);
        break;
    }
  }

  private itemAt(scope: Scope, sort: number, idx: number, at: number): Item {
    let item: Item | undefined;
    switch (sort) {
      case 0x01: {
        const func = scope.funcs[idx];
        item = func && { sort: 'func', func };
        break;
      }
      case 0x03: {
        const type = scope.types[idx];
        item = type && { sort: 'type', type };
        break;
      }
      case 0x04: {
        const component = scope.components[idx];
        item = component && { sort: 'component', component };
        break;
      }
      case 0x05: {
        const items = scope.instances[idx];
        item = items && { sort: 'instance', items };
        break;
      }
      default:
        fail(`sort 0x${sort.toString(16)} cannot be referenced here`, at);
    }
    if (item === undefined) fail(`unknown ${SORT_NAMES[sort]} ${idx}`, at);
    return item;
  }

  private canonOptions(scope: Scope, r: Reader): CanonOptionsPlan {
    const options: CanonOptionsPlan = {
      stringEncoding: 'utf8',
      hasMemory: false,
      hasRealloc: false,
      hasPostReturn: false,
      memory: undefined,
      realloc: undefined,
      postReturn: undefined,
    };
    const encodings: StringEncoding[] = ['utf8', 'utf16', 'latin1+utf16'];
    r.vec(() => {
      const opt = r.u8();
      if (opt <= 0x02) options.stringEncoding = encodings[opt];
      else if (opt === 0x03) {
        options.memory = this.coreItem(scope, 0x02, r.u32(), r.pos);
        options.hasMemory = true;
      } else if (opt === 0x04) {
        options.realloc = this.coreItem(scope, 0x00, r.u32(), r.pos);
        options.hasRealloc = true;
      } else if (opt === 0x05) {
        options.postReturn = this.coreItem(scope, 0x00, r.u32(), r.pos);
        options.hasPostReturn = true;
      } else {
        fail(
          `canonical option 0x${opt.toString(16)} (async/callback/gc) is not supported by this host`,
          r.pos - 1,
        );
      }
    });
    return options;
  }

  private canon(scope: Scope, r: Reader): void {
    const op = r.u8();
    const at = r.pos - 1;
    switch (op) {
      case 0x00: {
        if (r.u8() !== 0x00) fail('canon lift must lift a core function', r.pos - 1);
        const core = this.coreItem(scope, 0x00, r.u32(), r.pos);
        const options = this.canonOptions(scope, r);
        const type = this.typeAt(scope, r.u32(), r.pos);
        if (type.t !== 'func') fail('canon lift needs a function type', r.pos);
        scope.funcs.push({ kind: 'lifted', core, options, type: type.f, instance: scope.instance });
        return;
      }
      case 0x01: {
        if (r.u8() !== 0x00) fail('canon lower must lower a function', r.pos - 1);
        const idx = r.u32();
        const func = scope.funcs[idx];
        if (func === undefined) fail(`canon lower of unknown function ${idx}`, r.pos);
        const options = this.canonOptions(scope, r);
        if (func.kind === 'lifted') {
          this.fuse(scope, func, options);
          return;
        }
        this.plan.lowered.push({ path: func.path, type: func.type, options });
        scope.coreFuncs.push({ kind: 'lowered', index: this.plan.lowered.length - 1 });
        return;
      }
      case 0x02:
      case 0x03:
      case 0x04: {
        const type = this.typeAt(scope, r.u32(), r.pos);
        if (type.t !== 'resource') fail('resource built-in needs a resource type', r.pos);
        const kind = op === 0x02 ? 'resource-new' : op === 0x03 ? 'resource-drop' : 'resource-rep';
        scope.coreFuncs.push({ kind, resource: type.r.id });
        return;
      }
      default:
        fail(
          `canonical built-in 0x${op.toString(16)} (async, threads or streams) is not supported by this host`,
          at,
        );
    }
  }

  /**
   * `canon lower` of a function lifted inside the same component (adapter fusion: what
   * `wasm-tools compose` and wac produce when one inner component's export feeds another's
   * import). The engine calls the lifted side directly from the lowered side.
   */
  private fuse(scope: Scope, func: Func & { kind: 'lifted' }, options: CanonOptionsPlan): void {
    this.plan.fused.push({
      name: func.name ?? `function ${this.plan.fused.length}`,
      type: func.type,
      callee: { core: func.core, options: func.options, componentInstance: func.instance },
      options,
    });
    scope.coreFuncs.push({ kind: 'fused', index: this.plan.fused.length - 1 });
  }

  // ---- component instances, imports, exports -------------------------------------------------

  private instance(scope: Scope, r: Reader): void {
    const tag = r.u8();
    if (tag === 0x00) {
      const idx = r.u32();
      const component = scope.components[idx];
      if (component === undefined) fail(`instantiation of unknown component ${idx}`, r.pos);
      const args = new Map<string, Item>();
      r.vec(() => {
        const name = r.name();
        const sort = r.u8();
        if (sort === 0x00) fail('core items cannot be passed to a component instantiation', r.pos);
        args.set(name, this.itemAt(scope, sort, r.u32(), r.pos));
      });
      const inner = newScope(component.parent, ++this.componentInstances, args);
      this.evaluate(inner, component.start, component.end);
      scope.instances.push(inner.exports);
    } else if (tag === 0x01) {
      const items = new Map<string, Item>();
      r.vec(() => {
        const name = this.externName(r);
        const sort = r.u8();
        if (sort === 0x00) fail('core items cannot be exported from a component instance', r.pos);
        const item = this.itemAt(scope, sort, r.u32(), r.pos);
        nameItem(item, name);
        items.set(name, item);
      });
      scope.instances.push(items);
    } else {
      fail(`unknown instance form 0x${tag.toString(16)}`, r.pos - 1);
    }
  }

  /**
   * `nameattributes` (the name of an import or export): `0x00 name`, `0x01 name`, or
   * `0x02 name vec(attribute)`. Attributes (`implements`, `versionsuffix`, `external-id`) are
   * metadata that never identify the item, so only the name is kept.
   *
   * Note: 0x01 is what wit-component wrote for `ns:pkg/iface` names until late 2023 (the
   * "interface" discriminator of component-model#263); it carries no suffix. A 2025 draft of
   * Binary.md gave 0x01 a trailing version suffix, which clashed with those binaries and was
   * moved into the 0x02 attribute list (component-model#623) before any tool emitted it.
   * wasmparser reads the tags the same way.
   */
  private externName(r: Reader): string {
    const tag = r.u8();
    if (tag > 0x02) fail(`unknown import/export name form 0x${tag.toString(16)}`, r.pos - 1);
    const name = r.name();
    if (tag === 0x02) {
      const seen = new Set<number>();
      r.vec(() => {
        const kind = r.u8();
        const what = NAME_ATTRIBUTES[kind];
        if (what === undefined) {
          fail(`unknown import/export name attribute 0x${kind.toString(16)} on "${name}"`, r.pos - 1);
        }
        if (seen.has(kind)) fail(`"${name}" has more than one ${what} attribute`, r.pos - 1);
        seen.add(kind);
        r.name();
      });
    }
    return name;
  }

  private importDef(scope: Scope, r: Reader): void {
    const name = this.externName(r);
    const at = r.pos;
    const desc = this.externDesc(scope, r, name);
    if (scope.args !== undefined) {
      const arg = scope.args.get(name);
      if (arg === undefined) fail(`nested component import "${name}" was not supplied`, at);
      scope.args.delete(name);
      // Note: wrapper components import types as `import-type-thing`; only exports name those.
      if (arg.sort === 'func') nameItem(arg, name);
      this.push(scope, SORT_BYTES[desc.sort], arg, at);
      return;
    }
    const item = this.importItem(desc, [name]);
    this.push(scope, SORT_BYTES[item.sort], item, at);
    this.plan.imports.push(toImportPlan(name, desc));
  }

  private importItem(desc: DeclaredItem, path: string[]): Item {
    if (desc.sort === 'func') return { sort: 'func', func: { kind: 'import', path, type: desc.type } };
    if (desc.sort === 'type') return { sort: 'type', type: desc.type };
    const items = new Map<string, Item>();
    for (const [name, inner] of desc.exports) items.set(name, this.importItem(inner, [...path, name]));
    return { sort: 'instance', items };
  }

  private exportDef(scope: Scope, r: Reader): void {
    const name = this.externName(r);
    const sort = r.u8();
    if (sort === 0x00) fail(`export "${name}": core items cannot be exported from a component`, r.pos);
    const item = this.itemAt(scope, sort, r.u32(), r.pos);
    nameItem(item, name);
    if (r.u8() === 0x01) this.externDesc(scope, r, name);
    scope.exports.set(name, item);
    this.push(scope, sort, item, r.pos);
  }

  private externDesc(scope: Scope, r: Reader, name: string): DeclaredItem {
    const tag = r.u8();
    const at = r.pos - 1;
    switch (tag) {
      case 0x01: {
        const type = this.typeAt(scope, r.u32(), r.pos);
        if (type.t !== 'func') fail(`"${name}" is declared as a function with a non-function type`, at);
        return { sort: 'func', type: type.f };
      }
      case 0x03: {
        const bound = r.u8();
        if (bound === 0x00) return { sort: 'type', type: this.typeAt(scope, r.u32(), r.pos) };
        if (bound === 0x01)
          return { sort: 'type', type: { t: 'resource', r: this.newResource(name, 'host') } };
        return fail(`unknown type bound 0x${bound.toString(16)}`, r.pos - 1);
      }
      case 0x05: {
        const type = this.typeAt(scope, r.u32(), r.pos);
        if (type.t !== 'instance') fail(`"${name}" is declared as an instance with a non-instance type`, at);
        return { sort: 'instance', exports: type.exports };
      }
      case 0x00:
        return fail(`"${name}": importing or exporting core modules is not supported`, at);
      case 0x02:
        return fail(`"${name}": component values are not supported`, at);
      case 0x04:
        return fail(`"${name}": importing or exporting components is not supported`, at);
      default:
        return fail(`unknown extern descriptor 0x${tag.toString(16)}`, at);
    }
  }

  private newResource(name: string, origin: 'guest' | 'host'): ResourceType {
    const resource: ResourceType = { id: this.nextResource++, name, origin };
    this.plan.resources.push(resource);
    return resource;
  }

  // ---- types ---------------------------------------------------------------------------------

  private typeAt(scope: Scope, idx: number, at: number): TypeEntity {
    const type = scope.types[idx];
    if (type === undefined) fail(`unknown type ${idx}`, at);
    return type;
  }

  private defType(scope: Scope, r: Reader): TypeEntity {
    const tag = r.bytes[r.pos];
    switch (tag) {
      case 0x40: {
        r.pos++;
        return { t: 'func', f: this.funcType(scope, r) };
      }
      case 0x43:
        return fail('async function types are not supported by this host', r.pos);
      case 0x41:
        r.pos++;
        this.declarations(scope, r, true);
        return { t: 'component' };
      case 0x42: {
        r.pos++;
        return { t: 'instance', exports: this.declarations(scope, r, false) };
      }
      case 0x3f: {
        r.pos++;
        if (r.u8() !== 0x7f) fail('resource representation must be i32', r.pos - 1);
        const hasDtor = r.u8();
        if (hasDtor > 0x01) fail(`bad destructor marker 0x${hasDtor.toString(16)}`, r.pos - 1);
        const dtor = hasDtor === 0x01 ? this.coreItem(scope, 0x00, r.u32(), r.pos) : undefined;
        // Named after the first export that names it (see `nameItem`); this is a fallback.
        const resource = this.newResource(`resource-${this.nextResource}`, 'guest');
        resource.implementer = scope.instance;
        if (dtor !== undefined) this.plan.destructors.push({ resource: resource.id, func: dtor });
        return { t: 'resource', r: resource };
      }
      case 0x3e:
        return fail('async resource types are not supported by this host', r.pos);
      default:
        return { t: 'val', v: this.defValType(scope, r) };
    }
  }

  /** Reads instance-type (or component-type) declarations in a fresh type index space. */
  private declarations(parent: Scope, r: Reader, isComponent: boolean): Map<string, DeclaredItem> {
    const local = newScope(parent, parent.instance);
    const exports = new Map<string, DeclaredItem>();
    r.vec(() => {
      const tag = r.u8();
      switch (tag) {
        case 0x00:
          this.skipCoreType(r);
          break;
        case 0x01:
          local.types.push(this.defType(local, r));
          break;
        case 0x02:
          this.alias(local, r);
          break;
        case 0x03:
        case 0x04: {
          if (tag === 0x03 && !isComponent)
            fail('import declarations are only allowed in component types', r.pos);
          const name = this.externName(r);
          const desc = this.externDesc(local, r, name);
          if (desc.sort === 'type') local.types.push(desc.type);
          if (tag === 0x04) exports.set(name, desc);
          break;
        }
        default:
          fail(`unknown type declaration 0x${tag.toString(16)}`, r.pos - 1);
      }
    });
    return exports;
  }

  private funcType(scope: Scope, r: Reader): FuncType {
    const params: Param[] = r.vec(() => ({ name: r.name(), type: this.valType(scope, r) }));
    const tag = r.u8();
    let result: ValType | undefined;
    if (tag === 0x00) result = this.valType(scope, r);
    else if (tag === 0x01) {
      const named = r.vec(() => ({ name: r.name(), type: this.valType(scope, r) }));
      if (named.length > 1) fail('functions with several named results are not supported', r.pos);
      result = named[0]?.type;
    } else fail(`unknown function result form 0x${tag.toString(16)}`, r.pos - 1);
    return { params, result };
  }

  private valType(scope: Scope, r: Reader): ValType {
    const at = r.pos;
    const v = r.s33();
    if (v < 0) {
      const kind = PRIMITIVES[v + 0x80];
      if (kind === undefined) fail(`unknown primitive value type 0x${(v + 0x80).toString(16)}`, at);
      return { kind };
    }
    const type = this.typeAt(scope, v, at);
    if (type.t !== 'val') fail(`type ${v} is not a value type`, at);
    return type.v;
  }

  private optionalValType(scope: Scope, r: Reader): ValType | undefined {
    const tag = r.u8();
    if (tag === 0x00) return undefined;
    if (tag !== 0x01) fail(`bad optional type marker 0x${tag.toString(16)}`, r.pos - 1);
    return this.valType(scope, r);
  }

  private resourceAt(scope: Scope, r: Reader): ResourceType {
    const type = this.typeAt(scope, r.u32(), r.pos);
    if (type.t !== 'resource') fail('own/borrow must name a resource type', r.pos);
    return type.r;
  }

  private defValType(scope: Scope, r: Reader): ValType {
    const at = r.pos;
    const tag = r.u8();
    const primitive = PRIMITIVES[tag];
    if (primitive !== undefined) return { kind: primitive };
    switch (tag) {
      case 0x72: {
        const fields: Field[] = r.vec(() => ({ name: r.name(), type: this.valType(scope, r) }));
        if (fields.length === 0) fail('a record needs at least one field', at);
        return { kind: 'record', fields };
      }
      case 0x71: {
        const cases: Case[] = r.vec(() => {
          const name = r.name();
          const type = this.optionalValType(scope, r);
          if (r.u8() !== 0x00) fail('variant case refinements are not supported', r.pos - 1);
          return { name, type };
        });
        if (cases.length === 0) fail('a variant needs at least one case', at);
        return { kind: 'variant', cases };
      }
      case 0x70:
        return { kind: 'list', element: this.valType(scope, r) };
      case 0x6f:
        return { kind: 'tuple', types: r.vec(() => this.valType(scope, r)) };
      case 0x6e: {
        const names = r.vec(() => r.name());
        if (names.length === 0 || names.length > 32) fail('flags must have 1 to 32 names', at);
        return { kind: 'flags', names };
      }
      case 0x6d: {
        const names = r.vec(() => r.name());
        if (names.length === 0) fail('an enum needs at least one case', at);
        return { kind: 'enum', names };
      }
      case 0x6b:
        return { kind: 'option', type: this.valType(scope, r) };
      case 0x6a:
        return { kind: 'result', ok: this.optionalValType(scope, r), err: this.optionalValType(scope, r) };
      case 0x69:
        return { kind: 'own', resource: this.resourceAt(scope, r) };
      case 0x68:
        return { kind: 'borrow', resource: this.resourceAt(scope, r) };
      case 0x67:
        return fail('fixed-length lists are not supported by this host', at);
      case 0x66:
      case 0x65:
      case 0x64:
        return fail('streams, futures and error-context are not supported by this host', at);
      default:
        return fail(`unknown value type 0x${tag.toString(16)}`, at);
    }
  }

  /** Core types (function and module types) carry nothing the engine needs: read past them. */
  private skipCoreType(r: Reader): void {
    const tag = r.u8();
    if (tag === 0x60) {
      r.vec(() => this.skipCoreValType(r));
      r.vec(() => this.skipCoreValType(r));
    } else if (tag === 0x50) {
      r.vec(() => {
        const decl = r.u8();
        if (decl === 0x00) {
          r.name();
          r.name();
          this.skipImportDesc(r);
        } else if (decl === 0x01) this.skipCoreType(r);
        else if (decl === 0x02) {
          r.u8();
          r.u8();
          r.u32();
          r.u32();
        } else if (decl === 0x03) {
          r.name();
          this.skipImportDesc(r);
        } else fail(`unknown core module type declaration 0x${decl.toString(16)}`, r.pos - 1);
      });
    } else {
      fail(`unsupported core type form 0x${tag.toString(16)}`, r.pos - 1);
    }
  }

  private skipCoreValType(r: Reader): void {
    const b = r.u8();
    if (b === 0x63 || b === 0x64) r.s33();
  }

  private skipLimits(r: Reader): void {
    const flags = r.u8();
    r.skipLeb(10);
    if (flags & 0x01) r.skipLeb(10);
  }

  private skipImportDesc(r: Reader): void {
    const kind = r.u8();
    if (kind === 0x00) r.u32();
    else if (kind === 0x01) {
      this.skipCoreValType(r);
      this.skipLimits(r);
    } else if (kind === 0x02) this.skipLimits(r);
    else if (kind === 0x03) {
      this.skipCoreValType(r);
      r.u8();
    } else if (kind === 0x04) {
      r.u8();
      r.u32();
    } else fail(`unknown core import kind 0x${kind.toString(16)}`, r.pos - 1);
  }
}

/** The attributes of a 0x02 import/export name, by tag; each may appear once. */
const NAME_ATTRIBUTES: Record<number, string> = { 0: 'implements', 1: 'versionsuffix', 2: 'external-id' };

const SORT_NAMES: Record<number, Item['sort']> = { 1: 'func', 3: 'type', 4: 'component', 5: 'instance' };
const SORT_BYTES: Record<Item['sort'], number> = { func: 0x01, type: 0x03, component: 0x04, instance: 0x05 };

/**
 * Gives a guest resource type, or a lifted function, the name it is first exported (or passed
 * to a nested component) under, for messages: their definitions are anonymous.
 */
function nameItem(item: Item, name: string): void {
  if (item.sort === 'func' && item.func.kind === 'lifted') item.func.name ??= name;
  if (item.sort !== 'type' || item.type.t !== 'resource') return;
  const resource = item.type.r;
  if (resource.origin === 'guest' && resource.name === `resource-${resource.id}`) resource.name = name;
}

function toImportPlan(name: string, desc: DeclaredItem): ImportPlan {
  if (desc.sort === 'func') return { kind: 'func', name, type: desc.type };
  if (desc.sort === 'type') {
    return desc.type.t === 'resource' && desc.type.r.origin === 'host'
      ? { kind: 'type', name, resource: desc.type.r }
      : { kind: 'type', name };
  }
  const funcs: Record<string, FuncType> = {};
  const types: Record<string, ValType | ResourceType> = {};
  for (const [inner, item] of desc.exports) {
    if (item.sort === 'func') funcs[inner] = item.type;
    else if (item.sort === 'type') {
      if (item.type.t === 'val') types[inner] = item.type.v;
      else if (item.type.t === 'resource') types[inner] = item.type.r;
    }
  }
  return { kind: 'instance', name, funcs, types };
}
