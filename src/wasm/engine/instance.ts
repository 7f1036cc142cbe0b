/**
 * A running component instance: its exports as plain JavaScript functions (the fast path), and
 * `invoke`, which also measures the fuel and wall time of one call and never throws for a
 * guest failure — it returns the categorised error instead, the way `airssys-wasm run` and the
 * component actors report it.
 */

import { AirssysError, isAirssysError } from '../../shared/errors.js';
import type { BoundInstance } from './instantiate.js';
import type { InstanceRuntime } from './runtime.js';

/**
 * The export key `name` refers to in `table`. Besides the exact key it accepts `.` for `#` and
 * an interface's short name: `types.flip` and `types#flip` both find
 * `my:pkg/types@0.1.0#flip` when only one exported interface is called `types`.
 */
export function exportName(table: Readonly<Record<string, unknown>>, name: string): string | undefined {
  if (Object.hasOwn(table, name)) return name;
  const split = Math.max(name.lastIndexOf('#'), name.lastIndexOf('.'));
  if (split <= 0) return undefined;
  const iface = name.slice(0, split);
  const func = name.slice(split + 1);
  const matches = Object.keys(table).filter((key) => {
    const hash = key.lastIndexOf('#');
    return (
      hash > 0 && key.slice(hash + 1) === func && shortInterface(key.slice(0, hash)) === shortInterface(iface)
    );
  });
  return matches.length === 1 ? matches[0] : undefined;
}

/**
 * Adds `iface#func` aliases (not enumerable) for `ns:pkg/iface@1.0.0#func` exports, where the
 * short name is unambiguous, so `exports['types#flip']` works as well as the full name.
 */
function withShortNames<T>(table: Record<string, T>): Record<string, T> {
  const seen = new Map<string, string | null>();
  for (const key of Object.keys(table)) {
    const hash = key.lastIndexOf('#');
    if (hash <= 0) continue;
    const alias = `${shortInterface(key.slice(0, hash))}${key.slice(hash)}`;
    if (alias !== key) seen.set(alias, seen.has(alias) || Object.hasOwn(table, alias) ? null : key);
  }
  for (const [alias, key] of seen) {
    if (key !== null) Object.defineProperty(table, alias, { value: table[key], enumerable: false });
  }
  return table;
}

/** `ns:pkg/iface@1.0.0` → `iface`; a plain name stays as it is. */
function shortInterface(name: string): string {
  const at = name.indexOf('@');
  const bare = at > 0 ? name.slice(0, at) : name;
  return bare.slice(bare.lastIndexOf('/') + 1);
}

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

  constructor(
    readonly component: string,
    bound: BoundInstance,
  ) {
    this.exports = Object.freeze(withShortNames(bound.exports));
    this.runtime = bound.runtime;
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
    this.runtime.current = name;
    return fn(...args);
  }

  /** Calls an export and reports the outcome with the fuel it consumed and its wall time. */
  invoke(name: string, args: readonly unknown[] = []): InvocationOutcome {
    const fn = this.resolve(name);
    const runtime = this.runtime;
    runtime.current = name;
    runtime.beginMetered();
    const started = performance.now();
    try {
      const value = fn(...args);
      const ms = performance.now() - started;
      return { ok: true, value, fuel: runtime.endMetered(), ms };
    } catch (error) {
      const ms = performance.now() - started;
      const fuel = runtime.endMetered();
      const failure = isAirssysError(error)
        ? error
        : new AirssysError('internal', String(error), { cause: error, blame: 'host' });
      return { ok: false, error: failure, fuel, ms };
    }
  }

  /** Changes the per-call budgets (fuel units, milliseconds) for later calls. */
  setBudget(fuel: number, timeoutMs: number): void {
    this.runtime.setBudget(fuel, timeoutMs);
  }
}
