/**
 * A running component instance: its exports as plain JavaScript functions (the fast path), and
 * `invoke`, which also measures the fuel and wall time of one call and never throws for a
 * guest failure — it returns the categorised error instead, the way `airssys-wasm run` and the
 * component actors report it.
 */

import { AirssysError, isAirssysError } from '../../shared/errors.js';
import { exportName } from './export-names.js';
import type { BoundInstance } from './instantiate.js';
import type { InstanceRuntime } from './runtime.js';

export type InvocationOutcome =
  | { ok: true; value: unknown; fuel: number; ms: number }
  | { ok: false; error: AirssysError; fuel: number; ms: number };

export class ComponentInstance {
  /**
   * The component's exports by name: top-level functions by their WIT name (`add`), functions
   * of exported interfaces as `<interface>#<function>` (`api#flip`).
   *
   * @example
   * const sum = instance.exports.add(1, 2); // 3
   */
  readonly exports: Readonly<Record<string, (...args: unknown[]) => unknown>>;
  private readonly runtime: InstanceRuntime;
  private memories: BoundInstance['memories'] | undefined;

  /** `release` receives the instance's host-made memories once, on `dispose`. */
  constructor(
    readonly component: string,
    bound: BoundInstance,
    private readonly release?: (memories: BoundInstance['memories']) => void,
  ) {
    this.exports = Object.freeze(bound.exports);
    this.runtime = bound.runtime;
    this.memories = bound.memories;
  }

  /**
   * Ends this instance for good: every later call fails, and its memory may serve a new
   * instance of the same component (zeroed first). A no-op during a call of this instance.
   *
   * @example
   * const instance = component.instantiate(imports);
   * try { instance.invoke('handle', [request]); } finally { instance.dispose(); }
   */
  dispose(): void {
    const memories = this.memories;
    if (memories === undefined || !this.runtime.dispose()) return;
    this.memories = undefined;
    this.release?.(memories);
  }

  /** Export names, in the order the component declares them. */
  get exportNames(): string[] {
    return Object.keys(this.exports);
  }

  /** True once a call trapped: the instance refuses further calls and must be replaced. */
  get trapped(): boolean {
    return this.runtime.poisoned;
  }

  /** Finds an export by name; `iface.func` is accepted for `iface#func`. */
  resolve(name: string): (...args: unknown[]) => unknown {
    const found = exportName(this.exports, name);
    if (found !== undefined) return this.exports[found];
    throw new AirssysError(
      'not-found',
      `${this.component} has no export "${name}"; it exports: ${this.exportNames.join(', ') || '(nothing)'}`,
      { blame: 'host', details: { export: name } },
    );
  }

  /** Calls an export and returns its value; throws the categorised `AirssysError` on failure. */
  call(name: string, args: readonly unknown[] = []): unknown {
    const fn = this.resolve(name);
    return fn(...args);
  }

  /** Calls an export and reports the outcome with the fuel it consumed and its wall time. */
  invoke(name: string, args: readonly unknown[] = []): InvocationOutcome {
    const fn = this.resolve(name);
    this.runtime.beginMetered();
    const started = performance.now();
    try {
      return this.ended(started, true, fn(...args));
    } catch (error) {
      return this.ended(started, false, error);
    }
  }

  /**
   * `invoke` for an instance made with `jspi`: resolves once the call ended (a guest that waits
   * is suspended meanwhile, and the thread does other work); never rejects for a guest failure.
   */
  async invokeAsync(name: string, args: readonly unknown[] = []): Promise<InvocationOutcome> {
    const fn = this.resolve(name);
    this.runtime.beginMetered();
    const started = performance.now();
    try {
      return this.ended(started, true, await fn(...args));
    } catch (error) {
      return this.ended(started, false, error);
    }
  }

  /** The outcome of a metered call that began at `started`: its value or its error, and its cost. */
  private ended(started: number, ok: boolean, result: unknown): InvocationOutcome {
    const ms = performance.now() - started;
    const fuel = this.runtime.endMetered();
    return ok ? { ok: true, value: result, fuel, ms } : { ok: false, error: categorised(result), fuel, ms };
  }

  /**
   * Runs `call` (which calls this instance's exports) on the metered path and returns the fuel
   * it consumed; `call`'s failure is rethrown after the meter stops.
   */
  meter(call: () => void): number {
    this.runtime.beginMetered();
    let fuel = 0;
    try {
      call();
    } finally {
      fuel = this.runtime.endMetered();
    }
    return fuel;
  }

  /** Bytes of the linear memory the component's canonical ABI uses (0 if it has none). */
  get memoryBytes(): number {
    return this.runtime.memory?.buffer.byteLength ?? 0;
  }

  /** Changes the per-call budgets (fuel units, milliseconds) for later calls. */
  setBudget(fuel: number, timeoutMs: number): void {
    this.runtime.setBudget(fuel, timeoutMs);
  }
}

function categorised(error: unknown): AirssysError {
  return isAirssysError(error)
    ? error
    : new AirssysError('internal', String(error), { cause: error, blame: 'host' });
}
