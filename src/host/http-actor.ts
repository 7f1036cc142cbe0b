/**
 * A `wasi:http/proxy` component as an `rt` actor: each message is one HTTP request (the daemon's
 * HTTP listener sends it, see daemon/http-gateway.ts) handled by the component's
 * `incoming-handler` with the manifest's fuel, timeout and memory, and answered with the whole
 * response. Instances come from an `IncomingHandler`: a fresh one per request unless
 * `[http] reuse-instance`. A request the guest fails is answered with its error and counted;
 * the actor itself does not restart (the instance that failed is dropped by the handler).
 *
 * A guest waiting on an outgoing request (or a sleep) must not hold the scheduler thread it
 * shares with other actors. On JSPI (Node.js 24+) its instance is suspended and the thread's
 * other actors go on. Without JSPI (Node.js 22), or when `AIRSSYS_GUEST_THREADS=1` forces it,
 * each actor serves its requests on an `HttpWorkerPool` of one thread of its own (started in
 * `preStart`, stopped with the actor): the guest blocks that thread, the scheduler thread
 * waits on a promise; output, refusals and audit records come back as messages. Either way the
 * actor stays serial: its next request is taken once the response is whole.
 *
 * On the wire (codec CBOR, both ways): the request is `RequestData`, the reply `HttpReply`. The
 * reply is whole because it crosses threads as one message: its size is bounded by the host's
 * message cap (`--max-message-bytes`), past which the request fails with `messaging-error`.
 */

import type { ActorBehavior } from '../rt/index.js';
import { AirssysError, toAirssysError } from '../shared/errors.js';
import { guestThreads } from '../shared/node-runtime.js';
import type { Component } from '../wasm/engine/engine.js';
import { type HandleOutcome, IncomingHandler } from '../wasm/wasi/http/incoming-handler.js';
import type { RequestData } from '../wasm/wasi/http/request.js';
import type { ResponseTarget } from '../wasm/wasi/http/response.js';
import { HttpWorkerPool } from '../wasm/wasi/http/worker-pool.js';
import type { WasiOptions } from '../wasm/wasi/options.js';
import { countError, LATENCY_BUCKETS_US, observe } from './actor-stats.js';
import { CODECS, decodePayload, encodePayload } from './codec.js';
import type { ActorHost } from './component-actor.js';
import type { Envelope } from './envelope.js';
import type { ActorIdentity } from './host-services.js';

/** What the component answered: sent back to the HTTP listener as one message. */
export interface HttpReply {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  trailers: [string, string][] | undefined;
}

const EMPTY = new Uint8Array(0);
const HEALTHY = new TextEncoder().encode('healthy');

export function httpActor(
  host: ActorHost,
  component: Component,
  identity: ActorIdentity,
): () => ActorBehavior<Envelope, IncomingHandler | HttpWorkerPool | undefined> {
  // Decided per actor, not per module, so a test can force the thread path on Node.js 24.
  const threads = guestThreads();
  const stats = host.stats(identity.key);
  const { http, sockets } = host.network(identity);
  const wasi: WasiOptions = {
    stdout: (line: string) => host.log(identity, 'info', line),
    stderr: (line: string) => host.log(identity, 'warn', line),
    onDenied: (operation: string, subject: string, reason: string) =>
      host.audit(identity, { operation, subject, decision: 'deny', reason, code: 'capability-denied' }),
    http,
    sockets,
  };
  let warned = false;

  return () => ({
    init(): IncomingHandler | undefined {
      if (threads) return undefined; // preStart starts the pool
      const handler = new IncomingHandler(component, {
        reuseInstance: component.manifest.http.reuseInstance,
        wasi,
        jspi: true,
      });
      handler.prepare(); // a component that cannot link fails its start, not its first request
      return handler;
    },

    async preStart(ctx): Promise<void> {
      if (!threads) return;
      // Rejects (the actor fails to start) when the component cannot link, as `prepare` throws.
      ctx.state = await HttpWorkerPool.start(component, {
        threads: 1,
        reuseInstance: component.manifest.http.reuseInstance,
        ...wasi,
      });
    },

    // The instances (or the thread) kept ready are not needed after a stop or before a restart.
    postStop(ctx): void | Promise<void> {
      return ctx.state?.close(); // undefined when the start failed
    },

    handle(message: Envelope, ctx): void | Promise<void> {
      host.dequeued(identity.key);
      if (message.probe !== undefined) {
        // Nothing to migrate in an HTTP handler; healthy when it can take a request.
        host.answer(identity, message, CODECS.raw, message.probe === 'health' ? HEALTHY : EMPTY);
        return;
      }
      if (message.kind !== 'request') {
        if (!warned)
          host.log(identity, 'warn', `an HTTP handler takes requests only; a ${message.kind} was dropped`);
        warned = true;
        return;
      }
      let request: RequestData;
      try {
        request = decodeRequest(message);
      } catch (error) {
        host.answer(identity, message, 0, EMPTY, toAirssysError(error));
        return;
      }
      const started = performance.now();
      const target = new BufferedResponse(host.maxMessageBytes);
      const state = ctx.state!;
      // On a thread of its own, or on JSPI (a waiting guest is suspended): either way this
      // thread's other actors go on meanwhile.
      const outcome =
        state instanceof HttpWorkerPool ? state.handle(request, target) : state.handleAsync(request, target);
      return outcome.then((done) => finish(message, done, target, started));
    },
  });

  function finish(
    message: Envelope,
    outcome: HandleOutcome,
    target: BufferedResponse,
    started: number,
  ): void {
    observe(stats.latency, LATENCY_BUCKETS_US, (performance.now() - started) * 1000);
    stats.handled++;
    if (!outcome.ok) {
      stats.crashes++; // its instance is dropped, as a crash restarts an actor's
      countError(stats, outcome.error.code, outcome.error.message);
      host.answer(identity, message, 0, EMPTY, outcome.error);
      return;
    }
    host.answer(identity, message, CODECS.cbor, encodePayload('cbor', target.reply()));
  }
}

function decodeRequest(message: Envelope): RequestData {
  const value = message.codec === CODECS.cbor ? decodePayload(CODECS.cbor, message.payload) : undefined;
  const request = value as Partial<RequestData> | undefined;
  if (
    request === undefined ||
    typeof request.method !== 'string' ||
    typeof request.pathWithQuery !== 'string' ||
    !Array.isArray(request.headers) ||
    !(request.body instanceof Uint8Array)
  ) {
    throw new AirssysError(
      'invalid-argument',
      `${message.target} is an HTTP handler: send it an HTTP request (CBOR {method, pathWithQuery, headers, body}) through the host's HTTP listener`,
    );
  }
  return {
    method: request.method,
    pathWithQuery: request.pathWithQuery,
    scheme: request.scheme ?? 'http',
    authority: request.authority,
    headers: request.headers,
    body: request.body,
    trailers: request.trailers ?? [],
  };
}

/** Collects the guest's response, refusing bytes past `limit` (the guest's write then fails). */
class BufferedResponse implements ResponseTarget {
  private status = 500;
  private headers: [string, string][] = [];
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  private trailers: [string, string][] | undefined;

  constructor(private readonly limit: number) {}

  start(status: number, headers: [string, string][]): void {
    this.status = status;
    this.headers = headers;
  }

  write(bytes: Uint8Array): void {
    if (this.size + bytes.length > this.limit) {
      throw new Error(`the response body is over the host's ${this.limit}-byte message limit`);
    }
    this.chunks.push(bytes.slice());
    this.size += bytes.length;
  }

  end(trailers: [string, string][] | undefined): void {
    this.trailers = trailers;
  }

  reply(): HttpReply {
    return {
      status: this.status,
      headers: this.headers,
      body: Buffer.concat(this.chunks, this.size),
      trailers: this.trailers,
    };
  }
}
