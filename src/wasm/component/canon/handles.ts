/**
 * Resource handles: one handle table per component instance, shared by every resource type
 * (as in the canonical ABI's `HandleTable`), plus the `Resource` object the host sees for
 * resources the guest implements.
 *
 * - Host-origin resources (`origin: 'host'`): the host's own JS objects. Lowering `own<T>` or
 *   `borrow<T>` into the guest stores the object in the table and passes the i32 index, after
 *   `host-resources.ts` has checked it is a live T; lifting `own<T>` removes it and returns the
 *   object, lifting `borrow<T>` returns the object.
 * - Guest-origin resources (`origin: 'guest'`): the guest creates handles with `resource.new`; a
 *   handle that reaches the host (as `own<T>`) becomes a `Resource` object carrying the guest's
 *   `rep`. Passing it back as `own<T>` moves it into the table again (the object is then spent);
 *   passing it as `borrow<T>` hands the guest its `rep` directly when the lifted function
 *   belongs to the (nested) instance that implements `T`, a borrow handle otherwise. A borrow
 *   the guest lends to a host import is a `Resource` that goes dead when the import returns.
 * - Nested instances of a composed component share this one table: handles are still checked
 *   by resource type, but one nested instance could name another's handle by its index. The
 *   component is one trust domain to the host; isolation between its parts is not enforced.
 * - Destructors: dropping the last own handle of a guest resource whose type has a `dtor` runs
 *   it once, with the rep: inside the guest's call for `resource.drop`, and through `enter` (the
 *   engine's entry guard, with a fresh fuel slice) for `Resource.drop()` from the host.
 *
 * Not supported (documented gaps): lend counting on borrows the guest passes to host imports
 * (an import call is synchronous and the instance cannot be re-entered, so nothing can drop the
 * lent handle meanwhile); cross-instance transfer of guest resources (a `Resource` only goes
 * back to the instance it came from).
 */

import { AirssysError } from '../../../shared/errors.js';
import type { ResourceType } from '../types.js';
import { HostResources } from './host-resources.js';

/** A guest-implemented resource as seen by the host. */
export class Resource {
  /** @internal the table of the instance that implements it. */
  readonly owner: HandleTables;
  readonly type: ResourceType;
  /** The guest's representation (the `rep` given to `resource.new`). */
  readonly rep: number;
  /** `true` while the host owns it; `false` for a borrow, or once moved back into the guest or dropped. */
  owned: boolean;
  /** `true` for a borrow lent to the host, until the import call it was lent to returns. */
  borrowed: boolean;

  constructor(owner: HandleTables, type: ResourceType, rep: number, owned: boolean) {
    this.owner = owner;
    this.type = type;
    this.rep = rep;
    this.owned = owned;
    this.borrowed = !owned;
  }

  /**
   * Drops an owned guest resource: runs its type's destructor, if any, exactly once. Throws
   * `invalid-argument` when the host does not own it (already dropped, moved or borrowed), and
   * the engine's `trap` without dropping it when the instance cannot be entered (from inside a
   * host import, or after a trap).
   */
  drop(): void {
    if (!this.owned) {
      throw new AirssysError(
        'invalid-argument',
        `resource ${this.type.name}: not owned by the host (already dropped, moved or borrowed)`,
      );
    }
    const owner = this.owner;
    const destructor = owner.hostDestructors.get(this.type.id) ?? owner.destructors.get(this.type.id);
    if (destructor === undefined) {
      this.owned = false;
      return;
    }
    owner.enter(`[dtor]${this.type.name}`, () => {
      this.owned = false;
      destructor(this.rep);
    });
  }
}

interface Entry {
  type: number;
  /** JS object for host-origin resources, the guest's i32 rep for guest-origin ones. */
  rep: unknown;
  own: boolean;
}

export class HandleTables {
  /** Slot 0 is never used: handle 0 is always invalid. */
  readonly entries: (Entry | undefined)[] = [undefined];
  readonly free: number[] = [];
  readonly types: Map<number, ResourceType>;
  /** Borrow handles lent into the guest by the current export call that the guest has not dropped yet. */
  borrows = 0;
  /** Indices of the borrow handles lent by the current export call. */
  readonly lent: number[] = [];
  /** Guest resources the guest lent to the host imports now running (innermost last). */
  readonly lentToHost: Resource[] = [];
  /** Destructors of guest resources (by resource id), called with the rep while the guest runs (`resource.drop`). */
  readonly destructors = new Map<number, (rep: number) => void>();
  /** The same destructors as called from the host (`Resource.drop()`, through `enter`). */
  readonly hostDestructors = new Map<number, (rep: number) => void>();
  /** Which JS objects stand for which host resource types. */
  readonly host = new HostResources();
  /**
   * Called when the guest drops an owned host resource. By default the host object's
   * `[Symbol.dispose]()` runs, if it has one: what the object holds (an fd, a socket) is freed
   * when the guest lets go of it, not when the garbage collector gets to it.
   */
  onHostDrop: ((type: ResourceType, value: unknown) => void) | undefined = disposeHostObject;
  /**
   * Runs guest code the host starts outside an export call (a destructor); the engine replaces
   * it with its entry guard, which throws instead of re-entering a busy or trapped instance.
   */
  enter: (what: string, run: () => void) => void = (_what, run) => run();

  constructor(types: readonly ResourceType[] = []) {
    this.types = new Map(types.map((t) => [t.id, t]));
  }

  /**
   * Registers a guest resource's destructor: `inGuest` for `resource.drop` inside a call,
   * `fromHost` (default: the same) for `Resource.drop()`, which runs it through `enter`.
   */
  setDestructor(
    resourceId: number,
    inGuest: (rep: number) => void,
    fromHost: (rep: number) => void = inGuest,
  ): void {
    this.destructors.set(resourceId, inGuest);
    this.hostDestructors.set(resourceId, fromHost);
  }

  insert(type: number, rep: unknown, own: boolean): number {
    const entry: Entry = { type, rep, own };
    const i = this.free.pop();
    if (i !== undefined) {
      this.entries[i] = entry;
      return i;
    }
    this.entries.push(entry);
    return this.entries.length - 1;
  }

  get(i: number, type: number, what: string): Entry {
    const e = i > 0 ? this.entries[i] : undefined;
    if (e === undefined) throw trap(`${what}: handle ${i} is not in the handle table`);
    if (e.type !== type) {
      throw trap(`${what}: handle ${i} is a ${this.typeName(e.type)}, expected a ${this.typeName(type)}`);
    }
    return e;
  }

  remove(i: number): void {
    this.entries[i] = undefined;
    this.free.push(i);
  }

  typeName(id: number): string {
    return this.types.get(id)?.name ?? `resource #${id}`;
  }

  /** Forgets the borrows lent by an export call that never reached the guest (invalid argument). */
  releaseLent(): void {
    for (const i of this.lent) {
      const e = this.entries[i];
      if (e !== undefined && !e.own) this.remove(i);
    }
    this.lent.length = 0;
    this.borrows = 0;
  }
}

function disposeHostObject(_type: ResourceType, value: unknown): void {
  const dispose = (value as { [Symbol.dispose]?: unknown } | null)?.[Symbol.dispose];
  if (typeof dispose === 'function') dispose.call(value);
}

export function createHandleTables(resources: readonly ResourceType[] = []): HandleTables {
  return new HandleTables(resources);
}

function trap(message: string): AirssysError {
  return new AirssysError('trap', message, { blame: 'guest' });
}

interface HasHandles {
  handles: HandleTables;
}

/** `canon resource.new`: a new own handle for a guest resource with representation `rep`. */
export function resourceNew(inst: HasHandles, resourceId: number, rep: number): number {
  return inst.handles.insert(resourceId, rep >>> 0, true);
}

/** `canon resource.rep`: the representation behind a handle of a guest resource. */
export function resourceRep(inst: HasHandles, resourceId: number, handle: number): number {
  return inst.handles.get(handle >>> 0, resourceId, 'resource.rep').rep as number;
}

/** `canon resource.drop`: removes an own or borrow handle; dropping an own handle runs the destructor. */
export function resourceDrop(
  inst: HasHandles,
  resourceId: number,
  handle: number,
  destructor?: (rep: number) => void,
): void {
  const h = inst.handles;
  const i = handle >>> 0;
  const e = h.get(i, resourceId, 'resource.drop');
  h.remove(i);
  if (!e.own) {
    if (h.borrows > 0) h.borrows--;
    return;
  }
  const type = h.types.get(resourceId);
  if (type?.origin === 'host') {
    h.host.released(e.rep, true);
    h.onHostDrop?.(type, e.rep);
    return;
  }
  (destructor ?? h.destructors.get(resourceId))?.(e.rep as number);
}

// ---- helpers called by generated code ------------------------------------------------------

/**
 * Lowers an own host resource: stores the host's object, returns the handle, or -1 when it is
 * not a live object of this resource type. `minting`: it is an import's result (see host-resources.ts).
 */
export function lowerOwnHost(h: HandleTables, resourceId: number, value: unknown, minting: boolean): number {
  if (value instanceof Resource || !h.host.giveOwn(resourceId, value, minting)) return -1;
  return h.insert(resourceId, value, true);
}

/** Lowers a borrow of a host resource for the duration of an export call; -1 if not a live one. */
export function lowerBorrowHost(h: HandleTables, resourceId: number, value: unknown): number {
  if (value instanceof Resource || !h.host.lend(resourceId, value)) return -1;
  const i = h.insert(resourceId, value, false);
  h.borrows++;
  h.lent.push(i);
  return i;
}

/** Moves an owned guest `Resource` back into the guest's table; -1 if `value` is not one. */
export function lowerOwnGuest(h: HandleTables, resourceId: number, value: unknown): number {
  if (!(value instanceof Resource) || value.owner !== h || value.type.id !== resourceId || !value.owned)
    return -1;
  value.owned = false;
  return h.insert(resourceId, value.rep, true);
}

/**
 * Whether a borrow of `type` passed to component instance `callee` is its rep: the canonical
 * ABI hands the implementer its rep, and anyone else a borrow handle. Host resources never are.
 */
export function borrowsByRep(type: ResourceType, callee: number | undefined): boolean {
  if (type.origin === 'host') return false;
  return callee === undefined || type.implementer === undefined || type.implementer === callee;
}

function isLiveGuest(h: HandleTables, resourceId: number, value: unknown): value is Resource {
  if (!(value instanceof Resource) || value.owner !== h || value.type.id !== resourceId) return false;
  return value.owned || value.borrowed;
}

/** A borrow of a guest resource passed to the guest that implements it is its rep; -1 if invalid. */
export function lowerBorrowGuest(h: HandleTables, resourceId: number, value: unknown): number {
  return isLiveGuest(h, resourceId, value) ? value.rep : -1;
}

/** A borrow of a guest resource passed to a guest that does not implement it: a borrow handle. */
export function lowerBorrowGuestHandle(h: HandleTables, resourceId: number, value: unknown): number {
  if (!isLiveGuest(h, resourceId, value)) return -1;
  const i = h.insert(resourceId, value.rep, false);
  h.borrows++;
  h.lent.push(i);
  return i;
}

export function liftOwn(h: HandleTables, type: ResourceType, i: number, fn: string): unknown {
  i >>>= 0;
  const e = h.get(i, type.id, `${fn}: own<${type.name}>`);
  if (!e.own) throw trap(`${fn}: own<${type.name}>: handle ${i} is a borrow, not an own handle`);
  h.remove(i);
  if (type.origin === 'guest') return new Resource(h, type, e.rep as number, true);
  h.host.released(e.rep, false);
  return e.rep;
}

export function liftBorrow(h: HandleTables, type: ResourceType, i: number, fn: string): unknown {
  i >>>= 0;
  const e = h.get(i, type.id, `${fn}: borrow<${type.name}>`);
  if (type.origin === 'host') return e.rep;
  const lent = new Resource(h, type, e.rep as number, false);
  h.lentToHost.push(lent);
  return lent;
}

/** Ends the borrows the guest lent to a host import once it returns: those `Resource`s go dead. */
export function endHostBorrows(h: HandleTables, from: number): void {
  const lent = h.lentToHost;
  for (let i = from; i < lent.length; i++) lent[i].borrowed = false;
  lent.length = from;
}
