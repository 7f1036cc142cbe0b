/**
 * A `wasi:cli/command` component as an `rt` actor: each request is one run to completion, like
 * `airssys-wasm run` — a fresh instance, `wasi:cli/run#run` called once with the request's
 * arguments and environment, the manifest's fuel, timeout and memory. Its stdout and stderr
 * lines become the component's log; the reply is the exit status. A run that fails (trap,
 * out-of-fuel, timeout) answers its error; nothing carries over from one run to the next.
 *
 * A guest that waits (a sleep, `poll`, an outgoing HTTP request) must not hold the scheduler
 * thread it shares with other actors. On JSPI (Node.js 24+) it is suspended and the thread's
 * other actors go on. Without JSPI (Node.js 22), or when `AIRSSYS_GUEST_THREADS=1` forces it,
 * each actor runs its jobs on a `CommandThread` of its own (started at the first job, stopped
 * with the actor): the guest blocks that thread, the scheduler thread waits on a promise. Either
 * way the actor stays serial: its next message is taken once the run has ended.
 *
 * On the wire (codec CBOR): the request is `JobRequest`, the reply `JobReply`.
 */

import type { ActorBehavior } from '../rt/index.js';
import { AirssysError, toAirssysError } from '../shared/errors.js';
import { guestThreads } from '../shared/node-runtime.js';
import type { Component } from '../wasm/engine/engine.js';
import { bytesSource } from '../wasm/wasi/byte-io.js';
import { CommandThread } from '../wasm/wasi/command-thread.js';
import { type CommandOutcome, runCommandAsync } from '../wasm/wasi/run-command.js';
import { countError, LATENCY_BUCKETS_US, observe } from './actor-stats.js';
import { CODECS, decodePayload, encodePayload } from './codec.js';
import type { ActorHost } from './component-actor.js';
import type { Envelope } from './envelope.js';
import type { ActorIdentity } from './host-services.js';

export interface JobRequest {
  /** Arguments after the program name (which is the component's address). */
  args?: string[];
  env?: Record<string, string>;
  /** Bytes the guest reads from stdin (none by default: stdin is at its end at once). */
  stdin?: Uint8Array;
}

export interface JobReply {
  status: number;
  fuel: number;
  ms: number;
}

const EMPTY = new Uint8Array(0);
const HEALTHY = new TextEncoder().encode('healthy');
/** Bounds on what a job request may carry: the guest copies all of it into its memory. */
const MAX_ARGS = 1024;
const MAX_ENV = 1024;

export function commandActor(
  host: ActorHost,
  component: Component,
  identity: ActorIdentity,
): () => ActorBehavior<Envelope, CommandThread | undefined> {
  // Decided per actor, not per module, so a test can force the thread path on Node.js 24.
  const threads = guestThreads();
  const stats = host.stats(identity.key);
  const { http, sockets } = host.network(identity);
  const log = {
    stdout: (line: string) => host.log(identity, 'info', line),
    stderr: (line: string) => host.log(identity, 'warn', line),
    onDenied: (operation: string, subject: string, reason: string) =>
      host.audit(identity, { operation, subject, decision: 'deny', reason, code: 'capability-denied' }),
  };

  return () => ({
    // The thread itself starts with the first job: an actor that never runs one costs nothing.
    init: () => (threads ? new CommandThread(component) : undefined),

    postStop(ctx): Promise<void> | undefined {
      return ctx.state?.close();
    },

    handle(message: Envelope, ctx): void | Promise<void> {
      host.dequeued(identity.key);
      if (message.probe !== undefined) {
        host.answer(identity, message, CODECS.raw, message.probe === 'health' ? HEALTHY : EMPTY);
        return;
      }
      let job: Required<JobRequest>;
      try {
        job = decodeJob(message);
      } catch (error) {
        if (message.kind === 'request') host.answer(identity, message, 0, EMPTY, toAirssysError(error));
        return;
      }
      const started = performance.now();
      // It could not start (an import not granted, memory): the same answer as a failed run.
      const notStarted = (error: unknown): CommandOutcome => ({
        ok: false,
        error: toAirssysError(error),
        fuel: 0,
        ms: 0,
      });
      const run = { ...log, args: [identity.address, ...job.args], env: job.env, http, sockets };
      // On a thread of its own, or on JSPI (no thread means JSPI is there): either way this
      // thread's other actors go on while the guest runs or waits.
      const outcome =
        ctx.state !== undefined
          ? ctx.state.run({ ...run, stdin: job.stdin })
          : runCommandAsync(component, { ...run, stdin: bytesSource(job.stdin) });
      return outcome.then(
        (done) => finish(message, done, started),
        (error) => finish(message, notStarted(error), started),
      );
    },
  });

  function finish(message: Envelope, outcome: CommandOutcome, started: number): void {
    observe(stats.latency, LATENCY_BUCKETS_US, (performance.now() - started) * 1000);
    stats.handled++;
    if (!outcome.ok) {
      stats.crashes++;
      countError(stats, outcome.error.code, outcome.error.message);
      host.log(identity, 'warn', `run failed [${outcome.error.code}]: ${outcome.error.message}`);
      host.answer(identity, message, 0, EMPTY, outcome.error);
      return;
    }
    if (outcome.status !== 0) stats.errors++;
    host.log(identity, outcome.status === 0 ? 'info' : 'warn', `exited with status ${outcome.status}`);
    const reply: JobReply = { status: outcome.status, fuel: outcome.fuel, ms: outcome.ms };
    host.answer(identity, message, CODECS.cbor, encodePayload('cbor', reply));
  }
}

/** A job from a request (CBOR `JobRequest`); an empty payload of any codec is a run without arguments. */
function decodeJob(message: Envelope): Required<JobRequest> {
  if (message.payload.byteLength === 0) return { args: [], env: {}, stdin: EMPTY };
  const value = (message.codec === CODECS.cbor ? decodePayload(CODECS.cbor, message.payload) : undefined) as
    | JobRequest
    | undefined;
  const args = value?.args ?? [];
  const env = value?.env ?? {};
  const stdin = value?.stdin ?? EMPTY;
  const bad = (what: string): never => {
    throw new AirssysError(
      'invalid-argument',
      `${message.target} is a command: ${what} (send CBOR {args?: string[], env?: {NAME: value}, stdin?: bytes})`,
    );
  };
  if (value === undefined || typeof value !== 'object') bad('its request is not a job');
  if (!Array.isArray(args) || args.length > MAX_ARGS || !args.every((a) => typeof a === 'string'))
    bad(`args must be at most ${MAX_ARGS} strings`);
  if (typeof env !== 'object' || env === null || Array.isArray(env)) bad('env must be a table of strings');
  const entries = Object.entries(env);
  if (
    entries.length > MAX_ENV ||
    !entries.every(([k, v]) => typeof v === 'string' && k !== '' && !k.includes('='))
  )
    bad(`env must be at most ${MAX_ENV} NAME: value strings (no "=" in a name)`);
  if (!(stdin instanceof Uint8Array)) bad('stdin must be bytes');
  return { args, env, stdin };
}
