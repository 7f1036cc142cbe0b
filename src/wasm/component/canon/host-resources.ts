/**
 * Which JS objects may stand for a host-implemented resource type (one imported by the
 * component), so that lowering `own<T>` / `borrow<T>` into the guest only ever stores a live T.
 *
 * Threat model: the handle table keeps guest handles unforgeable, but host resources are the
 * host's own JS objects. Without a check, anything an export's caller passes (`{}`, a number, a
 * `socket` where a `file` is expected, a file the guest already dropped and the host closed)
 * would be stored in the table, and the guest could then hand it to the host methods of T: a
 * confused deputy inside the host. Every refusal is an `invalid-argument` blamed on the host.
 *
 * An object is a T, in one instance, when
 * - it is an instance of the class the embedder declared for T beside the interface's functions
 *   (`{ 'ns:pkg/files': { file: File, open } }`, see `link.ts`), or
 * - with no class declared, the host's implementation of the imports handed it to the guest as
 *   an own<T> (it minted it). An export's caller cannot mint: the implementation can.
 * One object is one resource type. An object whose last own handle the guest dropped is dead for
 * export arguments until the implementation hands it out again (WASI hands out its one stdout
 * object on every `get-stdout`); an own<T> argument the guest still owns cannot be given twice.
 */

/** The class of a host resource's objects, as the embedder declares it. */
export type HostResourceClass = abstract new (...args: any[]) => object;

interface HostObject {
  type: number;
  /** Own handles to it in the guest's table. */
  guestOwned: number;
  /** The guest dropped its last own handle. */
  dropped: boolean;
}

export class HostResources {
  private readonly classes = new Map<number, HostResourceClass>();
  private readonly objects = new WeakMap<object, HostObject>();

  declare(type: number, cls: HostResourceClass): void {
    this.classes.set(type, cls);
  }

  /**
   * The state of `value` as a T about to be lowered, or `undefined` when it is not a live T.
   * `minting`: the host's import implementation returns it (an own<T> result).
   */
  private admit(type: number, value: unknown, minting: boolean): HostObject | undefined {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
    const cls = this.classes.get(type);
    if (cls !== undefined && !(value instanceof cls)) return undefined;
    const known = this.objects.get(value);
    if (known === undefined) {
      if (!minting && cls === undefined) return undefined;
      const fresh: HostObject = { type, guestOwned: 0, dropped: false };
      this.objects.set(value, fresh);
      return fresh;
    }
    if (known.type !== type) return undefined;
    if (minting) known.dropped = false;
    else if (known.dropped) return undefined;
    return known;
  }

  /** Before an own<T> handle to `value` enters the table; false to refuse it. */
  giveOwn(type: number, value: unknown, minting: boolean): boolean {
    const state = this.admit(type, value, minting);
    if (state === undefined || (!minting && state.guestOwned > 0)) return false;
    state.guestOwned++;
    return true;
  }

  /** Before a borrow<T> handle to `value` is lent to the guest; false to refuse it. */
  lend(type: number, value: unknown): boolean {
    return this.admit(type, value, false) !== undefined;
  }

  /** An own handle to `value` left the table: lifted back to the host, or dropped by the guest. */
  released(value: unknown, dropped: boolean): void {
    const state =
      typeof value === 'object' || typeof value === 'function'
        ? this.objects.get(value as object)
        : undefined;
    if (state === undefined) return;
    if (state.guestOwned > 0) state.guestOwned--;
    if (dropped && state.guestOwned === 0) state.dropped = true;
  }
}
