/**
 * Calling a component's `wasi:http/incoming-handler` export for one request, as `wasmtime
 * serve` does: the request goes in as an `incoming-request`, the answer comes out through a
 * `response-outparam` into the server's `ResponseTarget`. Each call runs with the manifest's
 * fuel and `timeout-ms`. By default every request gets a fresh instance (nothing a request
 * leaves in the guest's memory reaches the next one); `reuseInstance` keeps an instance for the
 * next request after a request it answered in full, which saves the instantiation for guests
 * built to handle many requests per instance, at the price of that isolation. An instance whose
 * request failed in any way is dropped. (StarlingMonkey's `fetch` event answers one request per
 * instance: the second `handle` never sets its response, so it needs fresh instances.)
 *
 * Fresh instances come from a small pool (`poolSize`, default 2) of instances made ahead of
 * need: after a request, the pool is refilled on a later turn of the event loop (`setImmediate`),
 * so the request path pays for instantiation only when requests come faster than refills. An
 * instance in the pool has handled no request; a used one is disposed, and its memory, zeroed,
 * may serve a later instance (engine/memory-pool.ts).
 */

import { AirssysError, toAirssysError } from '../../../shared/errors.js';
import type { Component } from '../../engine/engine.js';
import type { ComponentInstance, InvocationOutcome } from '../../engine/instance.js';
import type { HostImports } from '../../engine/link.js';
import { wasi02Export } from '../exports.js';
import { createWasi, type Wasi } from '../index.js';
import { DEFAULT_WASI_LIMITS, type WasiOptions } from '../options.js';
import { outgoingHandlerInterface } from './outgoing-handler.js';
import { IncomingRequest, type RequestData } from './request.js';
import { ResponseOutparam, type ResponseTarget } from './response.js';
import { httpTypesInterface } from './types-interface.js';

export interface IncomingHandlerOptions {
  /** WASI for each instance (stdout and stderr, typically); created once per instance. */
  wasi?: WasiOptions;
  /** Keep a healthy instance for the next request instead of a fresh one each time. */
  reuseInstance?: boolean;
  /** Fresh instances kept ready, made off the request path (default 2; 0: none). */
  poolSize?: number;
  /**
   * Instances on JSPI (Node.js 24+): requests go through `handleAsync`, and a guest that waits
   * (an outgoing request, a sleep) is suspended instead of blocking the thread.
   */
  jspi?: boolean;
}

export const DEFAULT_POOL_SIZE = 2;

export type HandleOutcome =
  | { ok: true; fuel: number; ms: number }
  | {
      ok: false;
      error: AirssysError;
      /** The guest had set its response: its head, perhaps some of its body, went to the target. */
      responded: boolean;
      fuel: number;
      ms: number;
    };

/** The name of the component's incoming-handler export, or undefined when it has none. */
export function incomingHandlerExport(component: Component): string | undefined {
  return wasi02Export(component, 'wasi:http/incoming-handler', 'handle');
}

interface Live {
  instance: ComponentInstance;
  wasi: Wasi;
}

export class IncomingHandler {
  private readonly exportName: string;
  private readonly imports: HostImports;
  private readonly poolSize: number;
  private idle: Live | undefined;
  /** Fresh instances no request has used, oldest first. */
  private readonly ready: Live[] = [];
  private refill: NodeJS.Immediate | undefined;
  private closed = false;

  /** Throws `not-found` when the component does not export `wasi:http/incoming-handler`. */
  constructor(
    private readonly component: Component,
    private readonly options: IncomingHandlerOptions = {},
  ) {
    const name = incomingHandlerExport(component);
    if (name === undefined) {
      const exports = component.plan.exports.map((e) => e.name).join(', ') || 'nothing';
      throw new AirssysError(
        'not-found',
        `${component.name} is not an HTTP handler: it does not export wasi:http/incoming-handler (it exports ${exports}); build it for the wasi:http/proxy world`,
        { blame: 'host', details: { export: 'wasi:http/incoming-handler#handle' } },
      );
    }
    this.exportName = name;
    this.poolSize = options.reuseInstance ? 0 : (options.poolSize ?? DEFAULT_POOL_SIZE);
    if (!Number.isInteger(this.poolSize) || this.poolSize < 0) {
      throw new AirssysError('invalid-argument', `poolSize must be a whole number, got ${options.poolSize}`, {
        blame: 'host',
      });
    }
    const permit = options.wasi?.limits?.maxWriteBytes ?? DEFAULT_WASI_LIMITS.maxWriteBytes;
    this.imports = {
      'wasi:http/types@0.2': httpTypesInterface(permit),
      'wasi:http/outgoing-handler@0.2': outgoingHandlerInterface(options.wasi),
    };
  }

  /**
   * Instantiates now, so that a component that cannot link fails at start-up rather than on
   * the first request, and fills the pool (with `reuseInstance`, keeps the one instance), so
   * the first request does not pay for it.
   */
  prepare(): void {
    const live = this.instantiate();
    if (this.options.reuseInstance) this.idle = live;
    else if (this.ready.length < this.poolSize) this.ready.push(live);
    else discard(live);
    while (this.ready.length < this.poolSize) this.ready.push(this.instantiate());
  }

  /** Drops the instances kept ready and stops refilling; `handle` still works, unpooled. */
  close(): void {
    this.closed = true;
    if (this.refill !== undefined) clearImmediate(this.refill);
    this.refill = undefined;
    for (const live of this.ready.splice(0)) discard(live);
    if (this.idle !== undefined) discard(this.idle);
    this.idle = undefined;
  }

  /**
   * Runs the guest for `request`, answering into `target`. Never throws for a guest failure:
   * a trap, `out-of-fuel`, `timeout`, a `handle` that never set the response, or one that left
   * its body unfinished is an outcome with its error.
   *
   * @example
   * const outcome = handler.handle(request, target);
   * if (!outcome.ok) log(`error [${outcome.error.code}]: ${outcome.error.message}`);
   */
  handle(request: RequestData, target: ResponseTarget): HandleOutcome {
    if (this.options.jspi) throw usage('handle', 'handleAsync');
    return this.serve(request, target, (live, args) => {
      try {
        return this.judge(live, live.instance.invoke(this.exportName, args), args[1]);
      } finally {
        live.wasi.endCall();
      }
    });
  }

  /** `handle` for a handler made with `jspi`: resolves once the guest answered or failed. */
  async handleAsync(request: RequestData, target: ResponseTarget): Promise<HandleOutcome> {
    if (!this.options.jspi) throw usage('handleAsync', 'handle');
    return this.serve(request, target, async (live, args) => {
      try {
        return this.judge(live, await live.instance.invokeAsync(this.exportName, args), args[1]);
      } finally {
        live.wasi.endCall();
      }
    });
  }

  /** Takes an instance, runs the call on it, then drops it (unless kept) and refills the pool. */
  private serve<T extends HandleOutcome | Promise<HandleOutcome>>(
    request: RequestData,
    target: ResponseTarget,
    call: (live: Live, args: [IncomingRequest, ResponseOutparam]) => T,
  ): T | HandleOutcome {
    let live: Live;
    try {
      live = this.idle ?? this.ready.shift() ?? this.instantiate();
    } catch (error) {
      // Instantiation can fail per request too (memory, a start function that traps).
      return { ok: false, error: toAirssysError(error), responded: false, fuel: 0, ms: 0 };
    }
    this.idle = undefined;
    const maxRead = this.options.wasi?.limits?.maxReadBytes ?? DEFAULT_WASI_LIMITS.maxReadBytes;
    const done = () => {
      if (this.idle !== live) discard(live);
      this.scheduleRefill();
    };
    let result: T;
    try {
      result = call(live, [new IncomingRequest(request, maxRead), new ResponseOutparam(target)]);
    } catch (error) {
      done();
      throw error;
    }
    if (result instanceof Promise) return result.finally(done) as T;
    done();
    return result;
  }

  /** What the call's outcome and the outparam say about the request. */
  private judge(live: Live, outcome: InvocationOutcome, outparam: ResponseOutparam): HandleOutcome {
    const { fuel, ms } = outcome;
    const answer = outparam.answer;
    const responded = answer.kind === 'response';
    if (!outcome.ok) return { ok: false, error: outcome.error, responded, fuel, ms };
    if (answer.kind === 'none') {
      return {
        ok: false,
        error: guestFailed('returned without calling response-outparam.set'),
        responded,
        fuel,
        ms,
      };
    }
    if (answer.kind === 'error') {
      return {
        ok: false,
        error: guestFailed(`answered with the error-code ${answer.code.tag}`),
        responded,
        fuel,
        ms,
      };
    }
    if (answer.body !== undefined && !answer.body.finished) {
      return {
        ok: false,
        error: guestFailed('returned without outgoing-body.finish: the response body is incomplete'),
        responded,
        fuel,
        ms,
      };
    }
    // Only after a request it answered in full: a guest that failed once is not trusted with the next.
    if (this.options.reuseInstance && !live.instance.trapped) this.idle = live;
    return { ok: true, fuel, ms };
  }

  private instantiate(): Live {
    const wasi = createWasi(this.options.wasi);
    const instance = this.component.instantiate(
      { ...wasi.imports, ...this.imports },
      { jspi: this.options.jspi === true },
    );
    return { instance, wasi };
  }

  /** One instance per turn of the event loop, so refilling never holds up requests waiting. */
  private scheduleRefill(): void {
    if (this.closed || this.refill !== undefined || this.ready.length >= this.poolSize) return;
    this.refill = setImmediate(() => {
      this.refill = undefined;
      if (this.closed || this.ready.length >= this.poolSize) return;
      try {
        this.ready.push(this.instantiate());
      } catch {
        // The next request instantiates on its own and reports the failure.
        return;
      }
      this.scheduleRefill();
    });
    // An idle refill must not keep the process alive.
    this.refill.unref();
  }
}

/** A used (or unwanted) instance: never entered again; its memory may serve a new instance. */
function discard(live: Live): void {
  live.instance.dispose();
}

function usage(called: string, instead: string): AirssysError {
  return new AirssysError(
    'invalid-argument',
    `${called} is for a handler made ${called === 'handle' ? 'without' : 'with'} jspi; call ${instead}`,
    { blame: 'host' },
  );
}

function guestFailed(what: string): AirssysError {
  return new AirssysError('trap', `the guest's wasi:http handler ${what}`, { blame: 'guest' });
}
