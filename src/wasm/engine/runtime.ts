/**
 * The per-instance state the generated call path reads and the instrumentation calls back into:
 * entry guard, poisoning after a trap, and the fuel meter with its wall-clock watchdog.
 *
 * Every instrumented core module keeps its own fuel counter (an exported i64 global). A call
 * starts with `fuel = min(budget, FUEL_SLICE)` handed to the entry module's wrapper (one wasm
 * call sets it; a JS-side `Global.value` write would cost ~30 ns). Whenever a counter runs out —
 * the entry module's after its first slice, another module's as soon as code runs in it — the
 * instrumented code calls `out-of-fuel`, and the meter grants the next slice from the call's
 * remaining budget, checking the wall clock each time (which is how `timeout-ms` stops a loop
 * with a huge fuel budget without a second thread), or throws `out-of-fuel` / `timeout`.
 *
 * `invoke` (the metered path) zeroes every counter first and reports given − Σ remaining:
 * exact and the same for the same call whatever ran before. On the fast path (calling
 * `exports.f` directly) a module other than the entry module may start a call with up to one
 * slice left over from an earlier call: the budget is then enforced within one slice.
 */

import { AirssysError } from '../../shared/errors.js';
import type { CanonInstance, HandleTables } from '../component/canon/index.js';
import type { CallBudget } from './call-budget.js';
import { classifyTrap } from './traps.js';

/** Fuel handed out per slice; between two slices the meter reads the clock (~1–3 ms of guest work). */
export const FUEL_SLICE = 2_000_000;
/** Most fuel moved at once from one module's counter to another's when the reserve is empty. */
const TRANSFER_SLICE = 10_000n;

/**
 * Thrown through the guest when the meter stops a call; `fail` turns it into the error, named
 * after the export the generated call path reports (the meter itself does not know it).
 */
class MeterStop {
  constructor(readonly code: 'out-of-fuel' | 'timeout') {}
}

const IDLE = 0;
const BUSY = 1;
const POISONED = 2;
/** Busy, and the current call has already drawn on its reserve (set by the first refill). */
const BUSY_METERED = 3;

export interface RuntimeOptions {
  component: string;
  fuel: number;
  timeoutMs: number;
  handles: HandleTables;
}

export class InstanceRuntime implements CanonInstance {
  memory: WebAssembly.Memory | undefined = undefined;
  state = IDLE;
  /** The slice the entry wrapper starts each call with. */
  fuel: number;
  readonly handles: HandleTables;
  /** Fuel counters of the core instances, in instantiation order. */
  private readonly counters: WebAssembly.Global[] = [];

  /** The error that poisoned the instance, if one did. */
  poison: AirssysError | undefined = undefined;
  /** Set by `dispose`: the instance's memory may already belong to another instance. */
  private disposed = false;

  private budget: number;
  private readonly component: string;
  private timeoutMs: number;
  private reserve = 0;
  /** Fuel handed out beyond the first slice during the current metered call. */
  private refilled = 0;
  private startedAt = 0;
  private growFailed = false;
  /** Set by `beginMetered`: the reserve and clock were prepared before the call. */
  private precise = false;
  /** Fuel the entry wrapper handed out at the start of the metered call. */
  private entrySlice = 0;

  /**
   * The budget host functions that wait are linked with (`withCallBudget`): they cannot be
   * stopped by the meter, so they stop themselves at the deadline and end the call as it would.
   */
  readonly callBudget: CallBudget = {
    deadline: () => this.deadline(),
    expire: () => {
      throw new MeterStop('timeout');
    },
  };

  /** The same for an instance whose calls run on JSPI: a wait suspends the guest instead. */
  readonly suspendingBudget: CallBudget = { ...this.callBudget, suspends: true };

  constructor(options: RuntimeOptions) {
    this.component = options.component;
    this.budget = options.fuel;
    this.fuel = Math.min(options.fuel, FUEL_SLICE);
    this.timeoutMs = options.timeoutMs;
    this.handles = options.handles;
  }

  /** Imports every instrumented core module receives. */
  instrumentImports(): WebAssembly.ModuleImports {
    return {
      'out-of-fuel': () => this.outOfFuel(),
      'grow-failed': () => {
        this.growFailed = true;
      },
    };
  }

  /** Registers the fuel counter a core instance exports. */
  addCounter(counter: WebAssembly.Global): void {
    this.counters.push(counter);
  }

  setBudget(fuel: number, timeoutMs: number): void {
    if (!Number.isSafeInteger(fuel) || fuel <= 0) {
      throw new AirssysError('invalid-argument', `fuel budget must be a positive safe integer, got ${fuel}`);
    }
    this.budget = fuel;
    this.fuel = Math.min(fuel, FUEL_SLICE);
    this.timeoutMs = timeoutMs;
  }

  /**
   * Prepares precise accounting for one call: zeroes every counter and starts the clock now
   * rather than at the first refill. `entrySlice` is what the entry wrapper will hand out: the
   * slice for an export call, 0 for instantiation (start functions draw from the reserve).
   */
  beginMetered(entrySlice: number = this.fuel): void {
    for (const counter of this.counters) counter.value = 0n;
    this.precise = true;
    this.growFailed = false;
    this.refilled = 0;
    this.entrySlice = entrySlice;
    this.reserve = this.budget - entrySlice;
    this.startedAt = performance.now();
  }

  /** Ends a call begun with `beginMetered`; returns the fuel it consumed. */
  endMetered(): number {
    this.precise = false;
    if (this.state === BUSY_METERED) this.state = IDLE;
    let remaining = 0n;
    for (const counter of this.counters) remaining += counter.value as bigint;
    return this.entrySlice + this.refilled - Number(remaining);
  }

  /**
   * On the fast path nothing was prepared before the call: the reserve is set up, and the clock
   * started, on the first refill (at most one slice late) or when a host function first asks
   * for the deadline, whichever comes first.
   */
  private startDrawing(): void {
    this.state = BUSY_METERED;
    if (!this.precise) {
      this.startedAt = performance.now();
      this.reserve = this.budget - this.fuel;
      this.refilled = 0;
    }
  }

  /** When the current call's `timeout-ms` runs out, as `performance.now()` time. */
  private deadline(): number {
    if (this.state === BUSY) this.startDrawing();
    else if (this.state === IDLE && !this.precise) return Number.POSITIVE_INFINITY;
    return this.startedAt + this.timeoutMs;
  }

  /** Grants the next slice (returned to the guest as an i64) or throws. */
  private outOfFuel(): bigint {
    if (this.state === BUSY) this.startDrawing();
    if (performance.now() - this.startedAt > this.timeoutMs) {
      throw new MeterStop('timeout');
    }
    if (this.reserve > 0) {
      const grant = Math.min(this.reserve, FUEL_SLICE);
      this.reserve -= grant;
      this.refilled += grant;
      return BigInt(grant);
    }
    // The budget is spread over the modules' counters: move fuel from one that has some. Every
    // module on the stack wrote its counter back before the call that led here and reloads it
    // after, so the globals are authoritative at this moment.
    for (const counter of this.counters) {
      const available = counter.value as bigint;
      if (available > 0n) {
        const moved = available < TRANSFER_SLICE ? available : TRANSFER_SLICE;
        counter.value = available - moved;
        return moved;
      }
    }
    throw new MeterStop('out-of-fuel');
  }

  private meterError(code: MeterStop['code'], exportName: string): AirssysError {
    const where = `${this.component}: export "${exportName}"`;
    return code === 'timeout'
      ? new AirssysError(
          'timeout',
          `${where} ran past its ${this.timeoutMs} ms budget; raise [resources] timeout-ms or do less work per call`,
          { blame: 'guest', details: { timeoutMs: this.timeoutMs } },
        )
      : new AirssysError(
          'out-of-fuel',
          `${where} used its whole fuel budget (${this.budget}); raise [resources] fuel or do less work per call`,
          { blame: 'guest', details: { budget: this.budget } },
        );
  }

  /**
   * Ends the instance for good, unless a call is in progress (false then): every later entry
   * is refused, so its memory can go to another instance.
   */
  dispose(): boolean {
    if (this.state === BUSY || this.state === BUSY_METERED) return false;
    this.state = POISONED;
    this.disposed = true;
    this.memory = undefined;
    return true;
  }

  cannotEnter(): never {
    if (this.disposed) {
      throw new AirssysError('trap', `${this.component}: the instance was disposed; create a new instance`, {
        blame: 'host',
      });
    }
    if (this.state === POISONED) {
      throw new AirssysError(
        'trap',
        `${this.component}: the instance trapped earlier (${this.poison?.code}: ${this.poison?.message}); create a new instance`,
        { blame: 'guest', cause: this.poison },
      );
    }
    throw new AirssysError(
      'trap',
      `${this.component}: the instance was re-entered while a call was in progress (a host import called back into the guest)`,
      { blame: 'host' },
    );
  }

  fail(error: unknown, exportName: string): Error {
    const classified =
      error instanceof MeterStop
        ? this.meterError(error.code, exportName)
        : classifyTrap(error, { component: this.component, export: exportName, growFailed: this.growFailed });
    this.state = POISONED;
    this.poison = classified;
    return classified;
  }

  get poisoned(): boolean {
    return this.state === POISONED;
  }
}
