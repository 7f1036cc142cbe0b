/**
 * Resource handles: one handle table per component instance, shared by every resource type
 * (as in the canonical ABI's `HandleTable`), plus the `Resource` object the host sees for
 * resources the guest implements.
 *
 * - Host-origin resources (`origin: 'host'`): the host's own JS objects. Lowering `own<T>` or
 *   `borrow<T>` into the guest stores the object in the table and passes the i32 index; lifting
 *   `own<T>` removes it and returns the object, lifting `borrow<T>` returns the object.
 * - Guest-origin resources (`origin: 'guest'`): the guest creates handles with `resource.new`; a
 *   handle that reaches the host (as `own<T>`) becomes a `Resource` object carrying the guest's
 *   `rep`. Passing it back as `own<T>` moves it into the table again (the object is then spent);
 *   passing it as `borrow<T>` hands the guest its `rep` directly (the guest implements `T`).
 *
 * Not supported (documented gaps): lend counting on borrows the guest passes to host imports
 * (an import call is synchronous and the instance cannot be re-entered, so nothing can drop the
 * lent handle meanwhile); cross-instance transfer of guest resources (a `Resource` only goes
 * back to the instance it came from); destructors run through `setDestructor`, outside the
 * instance's re-entry guard (the engine should wrap them).
 */

import { AirssysError } from '../../../shared/errors.js';
import type { ResourceType } from '../types.js';

/** A guest-implemented resource as seen by the host. */
export class Resource {
  /** @internal the table of the instance that implements it. */
  readonly owner: HandleTables;
  readonly type: ResourceType;
  /** The guest's representation (the `rep` given to `resource.new`). */
  readonly rep: number;
  /** `true` while the host owns it; `false` for a borrow, or once moved back into the guest or dropped. */
  owned: boolean;
  /** `true` for a borrow lent to the host for the duration of one import call. */
  readonly borrowed: boolean;

  constructor(owner: HandleTables, type: ResourceType, rep: number, owned: boolean) {
    this.owner = owner;
    this.type = type;
    this.rep = rep;
    this.owned = owned;
    this.borrowed = !owned;
  }

  /** Drops an owned guest resource: runs the destructor registered for its type, if any. */
  drop(): void {
    if (!this.owned) {
      throw new AirssysError(
        'invalid-argument',
        `resource ${this.type.name}: not owned by the host (already dropped, moved or borrowed)`,
      );
    }
    this.owned = false;
    this.owner.destructors.get(this.type.id)?.(this.rep);
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
  /** Destructors of guest resources (by resource id), called with the rep when an own handle is dropped. */
  readonly destructors = new Map<number, (rep: number) => void>();
  /** Called when the guest drops an owned host resource. */
  onHostDrop: ((type: ResourceType, value: unknown) => void) | undefined = undefined;

  constructor(types: readonly ResourceType[] = []) {
    this.types = new Map(types.map((t) => [t.id, t]));
  }

  setDestructor(resourceId: number, destructor: (rep: number) => void): void {
    this.destructors.set(resourceId, destructor);
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
    h.onHostDrop?.(type, e.rep);
    return;
  }
  (destructor ?? h.destructors.get(resourceId))?.(e.rep as number);
}

// ---- helpers called by generated code ------------------------------------------------------

/** Lowers an own host resource: stores the host's object, returns the handle (or -1 if not an object). */
export function lowerOwnHost(h: HandleTables, resourceId: number, value: unknown): number {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return -1;
  return h.insert(resourceId, value, true);
}

/** Lowers a borrow of a host resource for the duration of an export call. */
export function lowerBorrowHost(h: HandleTables, resourceId: number, value: unknown): number {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return -1;
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

/** A borrow of a guest resource passed to the guest that implements it is its rep; -1 if invalid. */
export function lowerBorrowGuest(h: HandleTables, resourceId: number, value: unknown): number {
  if (!(value instanceof Resource) || value.owner !== h || value.type.id !== resourceId) return -1;
  if (!value.owned && !value.borrowed) return -1;
  return value.rep;
}

export function liftOwn(h: HandleTables, type: ResourceType, i: number, fn: string): unknown {
  i >>>= 0;
  const e = h.get(i, type.id, `${fn}: own<${type.name}>`);
  if (!e.own) throw trap(`${fn}: own<${type.name}>: handle ${i} is a borrow, not an own handle`);
  h.remove(i);
  return type.origin === 'host' ? e.rep : new Resource(h, type, e.rep as number, true);
}

export function liftBorrow(h: HandleTables, type: ResourceType, i: number, fn: string): unknown {
  i >>>= 0;
  const e = h.get(i, type.id, `${fn}: borrow<${type.name}>`);
  return type.origin === 'host' ? e.rep : new Resource(h, type, e.rep as number, false);
}
