/**
 * The cluster link over NATS: each host listens on its own subject for messages addressed to
 * it (`airssys.<cluster>.host.<id>`) and on one subject for publications
 * (`airssys.<cluster>.pub`). Messages for one destination are batched into one frame per
 * synchronous run (or sooner, past `FLUSH_BYTES`), so a burst of small messages costs one
 * NATS publish and one MAC, not one each. The cut happens in a microtask, not on the next turn
 * of the event loop: everything sent by one synchronous run (a burst, or the replies to one
 * arriving frame) still shares a frame, and a lone request does not wait for the I/O phase.
 *
 * Threat model: anyone who can reach the NATS server could publish on these subjects. Every
 * frame is authenticated with the cluster key (see frame.ts), so without the key nobody can
 * inject a message, stamp a sender, or alter one in flight. A captured frame replayed later is
 * refused by its sequence number: each sender boot numbers its frames per destination, and the
 * receiver remembers the last number per sender boot and subject. NATS credentials
 * (user/password or token in the URL) are complementary: they keep strangers off the bus, but
 * an account that may publish could still forge senders without the key.
 */

import { randomUUID } from 'node:crypto';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { ClusterLink } from '../host/cluster-link.js';
import { type Envelope, errorReply } from '../host/envelope.js';
import { AirssysError, toAirssysError } from '../shared/errors.js';
import { type ThrottledLog, throttledLog } from '../shared/log-throttle.js';
import { decodeFrame, FrameWriter } from './frame.js';

/** A frame is cut at this size even within a turn, so one burst does not hold everything back. */
const FLUSH_BYTES = 64 * 1024;
/** Room for a frame's header, MAC and an item's fixed fields besides its strings and payload. */
const FRAME_OVERHEAD = 512;
/** Sender boots remembered per host for replay checks (a host restarting often keeps a few). */
const BOOTS_REMEMBERED = 8;

export interface NatsLinkOptions {
  readonly nc: NatsConnection;
  /** Subject prefix, `airssys.<cluster>`. */
  readonly prefix: string;
  readonly hostId: string;
  readonly key: Uint8Array;
  readonly log?: (level: 'warn' | 'error', message: string) => void;
}

export interface LinkStats {
  framesOut: number;
  framesIn: number;
  messagesOut: number;
  messagesIn: number;
  /** Frames refused: bad MAC, malformed, or replayed. */
  refused: number;
  /** Messages that could not leave: too large for NATS, or no such host. */
  dropped: number;
}

export class NatsClusterLink implements ClusterLink {
  readonly stats: LinkStats = {
    framesOut: 0,
    framesIn: 0,
    messagesOut: 0,
    messagesIn: 0,
    refused: 0,
    dropped: 0,
  };
  private readonly nc: NatsConnection;
  private readonly prefix: string;
  private readonly hostId: string;
  private readonly key: Uint8Array;
  private readonly boot = randomUUID();
  private readonly log: (level: 'warn' | 'error', message: string) => void;
  /** Host number → id; number 0 is "every other host" (publications). */
  private readonly ids: string[] = [''];
  private readonly numbers = new Map<string, number>();
  private readonly writers = new Map<number, FrameWriter>();
  private readonly seqs = new Map<number, number>();
  /** Last sequence number accepted per `host/boot/channel`. */
  private readonly accepted = new Map<string, Map<string, number>>();
  private readonly subs: Subscription[] = [];
  private arrive: ((host: number, env: Envelope) => void) | undefined;
  private flushQueued = false;
  private readonly maxFrameBytes: number;
  /** Whoever reaches the NATS server decides how many bad frames arrive: one line per kind and second. */
  private readonly warnings: ThrottledLog;

  constructor(options: NatsLinkOptions) {
    this.nc = options.nc;
    this.prefix = options.prefix;
    this.hostId = options.hostId;
    this.key = options.key;
    this.log = options.log ?? (() => {});
    this.maxFrameBytes = options.nc.info?.max_payload ?? 1024 * 1024;
    this.warnings = throttledLog((message) => this.log('warn', message));
  }

  /** The number this host gives the host `id` (assigned at first sight, stable for the process). */
  numberOf(id: string): number {
    let n = this.numbers.get(id);
    if (n === undefined) {
      n = this.ids.length;
      this.ids.push(id);
      this.numbers.set(id, n);
    }
    return n;
  }

  attach(arrive: (host: number, env: Envelope) => void): void {
    this.arrive = arrive;
    this.subs.push(
      this.nc.subscribe(`${this.prefix}.host.${this.hostId}`, {
        callback: (error, msg) => {
          if (error === null) this.receive(msg.data, 'direct');
        },
      }),
      this.nc.subscribe(`${this.prefix}.pub`, {
        callback: (error, msg) => {
          if (error === null) this.receive(msg.data, 'pub');
        },
      }),
    );
  }

  send(host: number, env: Envelope): void {
    const size = env.payload.byteLength + FRAME_OVERHEAD + 3 * textLength(env);
    if (size > this.maxFrameBytes || (host !== 0 && this.ids[host] === undefined)) {
      this.refuse(env, size);
      return;
    }
    let writer = this.writers.get(host);
    if (writer === undefined) {
      writer = new FrameWriter(this.key);
      this.writers.set(host, writer);
    }
    if (writer.count > 0 && writer.byteLength + size > this.maxFrameBytes) this.flush(host, writer);
    writer.append(env);
    if (writer.byteLength >= FLUSH_BYTES) this.flush(host, writer);
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flushAll());
    }
  }

  /** Sends every pending frame now. */
  flushAll(): void {
    this.flushQueued = false;
    for (const [host, writer] of this.writers) if (writer.count > 0) this.flush(host, writer);
  }

  async close(): Promise<void> {
    this.flushAll();
    for (const sub of this.subs) sub.unsubscribe();
    this.subs.length = 0;
  }

  private flush(host: number, writer: FrameWriter): void {
    const seq = (this.seqs.get(host) ?? 0) + 1;
    this.seqs.set(host, seq);
    const to = host === 0 ? '*' : this.ids[host];
    this.stats.messagesOut += writer.count;
    this.stats.framesOut++;
    const frame = writer.finish({ host: this.hostId, boot: `${this.boot}>${to}`, seq, at: Date.now() });
    const subject = host === 0 ? `${this.prefix}.pub` : `${this.prefix}.host.${to}`;
    try {
      this.nc.publish(subject, frame);
    } catch (error) {
      // The connection is closed or draining: the frame is lost, as with a host that stops.
      this.log('error', `cluster: a frame for ${to} was lost: ${toAirssysError(error).message}`);
    }
  }

  private receive(bytes: Uint8Array, channel: 'direct' | 'pub'): void {
    let frame: ReturnType<typeof decodeFrame>;
    try {
      frame = decodeFrame(this.key, bytes);
      const expected = channel === 'pub' ? '*' : this.hostId;
      if (!frame.boot.endsWith(`>${expected}`) || !this.fresh(frame.host, frame.boot, frame.seq)) {
        throw new AirssysError('messaging-error', 'replayed or misdirected frame', {
          details: { reason: 'replayed' },
        });
      }
    } catch (error) {
      this.stats.refused++;
      const failure = toAirssysError(error);
      this.warnings(
        `cluster: frames refused (${String(failure.details?.reason ?? failure.code)})`,
        `cluster: frame refused: ${failure.message}`,
      );
      return;
    }
    this.stats.framesIn++;
    this.stats.messagesIn += frame.items.length;
    const host = this.numberOf(frame.host);
    for (const env of frame.items) this.arrive?.(host, env);
  }

  private fresh(host: string, boot: string, seq: number): boolean {
    let boots = this.accepted.get(host);
    if (boots === undefined) {
      boots = new Map();
      this.accepted.set(host, boots);
    }
    const last = boots.get(boot);
    if (last !== undefined && seq <= last) return false;
    boots.delete(boot);
    boots.set(boot, seq);
    if (boots.size > BOOTS_REMEMBERED) boots.delete(boots.keys().next().value as string);
    return true;
  }

  /** A message that cannot leave: a request gets its error reply at once, a send is logged. */
  private refuse(env: Envelope, size: number): void {
    this.stats.dropped++;
    const error =
      size > this.maxFrameBytes
        ? new AirssysError(
            'messaging-error',
            `message to ${env.target} is too large to cross hosts (NATS max_payload ${this.maxFrameBytes} bytes); send less or raise max_payload on the NATS server`,
            { details: { reason: 'message-too-large', size, max: this.maxFrameBytes } },
          )
        : new AirssysError('not-found', `the host that served ${env.target} left the cluster`, {
            details: { target: env.target },
          });
    if (env.kind === 'request' && env.replyTo !== undefined) {
      this.arrive?.(0, { ...errorReply(env, env.target, error), replyTo: env.replyTo });
    } else if (env.kind === 'reply' && env.replyTo !== undefined) {
      this.warnings(
        `cluster: replies to ${env.target} lost`,
        `cluster: reply from ${env.sender} to ${env.target} lost: ${error.message}`,
      );
    } else {
      this.warnings(
        `cluster: messages to ${env.target} dropped`,
        `cluster: message from ${env.sender} to ${env.target} dropped: ${error.message}`,
      );
    }
  }
}

/** Characters of an envelope's strings (UTF-8 takes at most 3 bytes for each). */
function textLength(env: Envelope): number {
  let n = env.sender.length + env.target.length + (env.topic?.length ?? 0) + (env.trace?.length ?? 0);
  if (env.chain !== undefined) for (const address of env.chain) n += address.length + 4;
  return n;
}
