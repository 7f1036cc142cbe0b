/**
 * One component instance as an `rt` actor. The behaviour is created afresh on every (re)start
 * by its supervisor, so a restart means a new instance with fresh linear memory: whatever the
 * component keeps in storage survives, whatever it kept in memory does not.
 *
 * Budgets (fuel, timeout) are the instance's own per call, so every lifecycle call and every
 * message is bounded by the manifest. A trap, out-of-fuel or timeout fails the actor (after the
 * requester, if any, got the error as its reply) and the supervisor restarts it; an `err` the
 * component returns is an answer, not a failure.
 */

import type { ActorBehavior, ActorContext, ExitReason } from '../rt/index.js';
import { type AirssysError, toAirssysError } from '../shared/errors.js';
import type { Component } from '../wasm/engine/engine.js';
import type { ComponentInstance } from '../wasm/engine/instance.js';
import { createWasi, type WasiHttpOptions, type WasiSocketsOptions } from '../wasm/wasi/index.js';
import {
  type ActorStats,
  countError,
  FUEL_BUCKETS,
  FUEL_SAMPLE,
  LATENCY_BUCKETS_US,
  observe,
} from './actor-stats.js';
import { type Envelope, guestError } from './envelope.js';
import { extServices, type OperationBackend } from './ext-services.js';
import { type ActorIdentity, HOST_SERVICES, hostServices, type ServiceBackend } from './host-services.js';
import { formatTraceparent, newSpanId, parseTraceparent, type Span, type TraceContext } from './trace.js';

export const LIFECYCLE = 'airssys:core/component-lifecycle@1.0.0';
export const MIGRATION = 'airssys:core/migration@1.0.0';
const EMPTY = new Uint8Array(0);

type GuestFn = (...args: unknown[]) => unknown;
type GuestResult<T> = { tag: 'ok'; val?: T } | { tag: 'err'; val: { code: string; message: string } };
type Response =
  | { tag: 'none' }
  | { tag: 'reply'; val: { codec: number; payload: Uint8Array } }
  | { tag: 'deferred' };

/** What the actor needs from its node besides the host services. */
export interface ActorHost extends ServiceBackend, OperationBackend {
  /** Called before each message is handled: the message left the mailbox. */
  dequeued(key: number): void;
  /** Answers a request (`error` set: the request failed). */
  answer(
    from: ActorIdentity,
    request: Envelope,
    codec: number,
    payload: Uint8Array,
    error?: AirssysError,
  ): void;
  /** Remembers a request the component deferred, so its later `reply` finds the requester. */
  defer(from: ActorIdentity, request: Envelope): void;
  /** Per-actor counters, kept across restarts. */
  stats(key: number): ActorStats;
  /** The span exporter, when one is configured. */
  readonly span?: ((span: Span) => void) | undefined;
  /** The largest payload a message (a reply too) may carry, in bytes. */
  readonly maxMessageBytes: number;
  /**
   * What the instance's `wasi:http/outgoing-handler` may reach and its `wasi:sockets` may
   * connect to or listen on: its manifest's `network` grants under the host's policy (none
   * for a shadow: everything refused).
   */
  network(from: ActorIdentity): GuestNetwork;
}

/** A WASI guest's network grants, as `WasiOptions` takes them. */
export interface GuestNetwork {
  readonly http: WasiHttpOptions;
  readonly sockets: WasiSocketsOptions;
}

interface Lifecycle {
  instance: ComponentInstance;
  handleMessage: GuestFn;
}

export function componentActor(
  host: ActorHost,
  component: Component,
  identity: ActorIdentity,
): () => ActorBehavior<Envelope, Lifecycle> {
  // The extensions' closures are made only for components that import them: most do not, and
  // every closure made here is paid on each spawn.
  const usesExt = component.plan.imports.some((i) => i.name.startsWith('airssys:ext-'));
  // WASI without ambient access (see docs/wasi.md): output becomes the component's log, every
  // refused filesystem call an audited denial.
  const wasi = component.plan.imports.some((i) => i.name.startsWith('wasi:'))
    ? createWasi({
        stdout: (line) => host.log(identity, 'info', line),
        stderr: (line) => host.log(identity, 'warn', line),
        onDenied: (operation, subject, reason) =>
          host.audit(identity, { operation, subject, decision: 'deny', reason, code: 'capability-denied' }),
      })
    : undefined;
  const imports = {
    ...wasi?.imports,
    [HOST_SERVICES]: hostServices(host, identity),
    ...(usesExt ? extServices(host, identity) : {}),
  };
  const name = identity.address;
  const config = Object.entries(component.manifest.config);
  const stats = host.stats(identity.key);
  let sampled = 0;

  const probe = (instance: ComponentInstance, message: Envelope): void => {
    try {
      if (message.probe === 'health') {
        const status = instance.resolve(`${LIFECYCLE}#health`)() as string;
        host.answer(identity, message, 0x55, new TextEncoder().encode(status));
        return;
      }
      // migrate: a component without the optional `migration` export has nothing to migrate.
      const migrate = instance.exports[`${MIGRATION}#migrate`];
      const result = (migrate?.(new TextDecoder().decode(message.payload)) ?? {
        tag: 'ok',
      }) as GuestResult<never>;
      if (result.tag === 'err')
        host.answer(identity, message, 0, EMPTY, guestError(name, result.val.code, result.val.message));
      else host.answer(identity, message, 0x55, EMPTY);
    } catch (error) {
      const failure = toAirssysError(error);
      host.answer(identity, message, 0, EMPTY, failure);
      if (instance.trapped) throw failure; // restart a trapped instance like after any message
    }
  };

  /** One message in FUEL_SAMPLE: handled on the metered path, which also reads the memory size. */
  const meteredHandle = (state: Lifecycle, message: Envelope): unknown => {
    sampled = 0;
    let out: unknown;
    observe(
      stats.fuel,
      FUEL_BUCKETS,
      state.instance.meter(() => {
        out = state.handleMessage(message);
      }),
    );
    stats.memoryBytes = state.instance.memoryBytes;
    return out;
  };

  /** Starts the span of handling a traced message; what the instance sends meanwhile is its child. */
  const beginSpan = (traceparent: string) => {
    const parent = parseTraceparent(traceparent);
    if (parent === undefined) return undefined;
    const spanId = newSpanId();
    identity.trace = formatTraceparent(parent.traceId, spanId, parent.flags);
    return { parent, spanId };
  };
  const endSpan = (
    span: { parent: TraceContext; spanId: string },
    message: Envelope,
    started: number,
    status: string,
  ) => {
    identity.trace = undefined;
    const durationMs = performance.now() - started;
    host.span?.({
      traceId: span.parent.traceId,
      spanId: span.spanId,
      parentSpanId: span.parent.spanId,
      name: `handle ${name}`,
      address: name,
      version: identity.version,
      kind: message.kind,
      startMs: Date.now() - durationMs,
      durationMs,
      status,
    });
  };

  return () => ({
    init(): Lifecycle {
      const instance = component.instantiate(imports);
      stats.memoryBytes = instance.memoryBytes;
      return { instance, handleMessage: instance.resolve(`${LIFECYCLE}#handle-message`) };
    },

    preStart(ctx: ActorContext<Envelope, Lifecycle>): void {
      const init = ctx.state.instance.resolve(`${LIFECYCLE}#init`);
      const result = init(config) as GuestResult<never>;
      wasi?.endCall();
      if (result.tag === 'err') throw guestError(name, result.val.code, result.val.message);
    },

    handle(message: Envelope, ctx: ActorContext<Envelope, Lifecycle>): void {
      host.dequeued(identity.key);
      if (message.probe !== undefined) {
        // Asked in turn with the messages, so a busy instance answers when it gets to it.
        probe(ctx.state.instance, message);
        return;
      }
      let result: GuestResult<Response>;
      identity.current = message;
      const traced = message.trace === undefined ? undefined : beginSpan(message.trace);
      const started = performance.now();
      try {
        result = (
          ++sampled === FUEL_SAMPLE ? meteredHandle(ctx.state, message) : ctx.state.handleMessage(message)
        ) as GuestResult<Response>;
      } catch (error) {
        identity.current = undefined;
        wasi?.endCall();
        stats.crashes++;
        const failure = toAirssysError(error);
        countError(stats, failure.code, failure.message);
        if (traced !== undefined) endSpan(traced, message, started, failure.code);
        if (message.kind === 'request') host.answer(identity, message, 0, EMPTY, failure);
        throw failure; // the supervisor restarts the instance
      }
      observe(stats.latency, LATENCY_BUCKETS_US, (performance.now() - started) * 1000);
      identity.current = undefined;
      wasi?.endCall();
      if (traced !== undefined)
        endSpan(traced, message, started, result.tag === 'err' ? result.val.code : 'ok');
      stats.handled++;
      if (result.tag === 'err') {
        stats.errors++;
        countError(stats, result.val.code, result.val.message);
        if (message.kind === 'request')
          host.answer(identity, message, 0, EMPTY, guestError(name, result.val.code, result.val.message));
        return;
      }
      if (message.kind !== 'request') return;
      const response = result.val as Response;
      if (response.tag === 'reply') host.answer(identity, message, response.val.codec, response.val.payload);
      else if (response.tag === 'deferred') host.defer(identity, message);
      else host.answer(identity, message, 0x55, EMPTY);
    },

    postStop(ctx: ActorContext<Envelope, Lifecycle>, reason: ExitReason): void {
      // `shutdown` is for a stop the component can prepare for, not for an instance that failed.
      if (reason.kind !== 'shutdown' || ctx.state === undefined || ctx.state.instance.trapped) return;
      try {
        ctx.state.instance.resolve(`${LIFECYCLE}#shutdown`)();
      } catch (error) {
        host.log(identity, 'warn', `shutdown failed: ${(error as Error).message}`);
      }
    },
  });
}
