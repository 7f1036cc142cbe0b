/**
 * Who is in the cluster: every host publishes a sealed heartbeat (its capacity, labels and what
 * it runs) every `heartbeatMs`, and a host not heard from for `lostAfterMs` is declared lost.
 * A host that leaves cleanly says so in a last heartbeat, so the others need not wait.
 *
 * Note: loss is judged on this host's clock from the arrival of heartbeats, never from the
 * sender's timestamp, so hosts with skewed clocks still agree on who is alive.
 *
 * Threat model: heartbeats decide where traffic goes, so they are sealed with the cluster key
 * (seal.ts), and a captured one replayed later — to keep a dead host "alive" or to evict a live
 * one with `leaving` — is refused: each process (`boot`) numbers its heartbeats and a number at
 * or below the last one seen is ignored; a heartbeat more than `MAX_SKEW_MS` away from this
 * host's clock is ignored too (hosts of a cluster must keep their clocks within that).
 */

import { randomUUID } from 'node:crypto';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { toAirssysError } from '../shared/errors.js';
import { type ThrottledLog, throttledLog } from '../shared/log-throttle.js';
import { openJson, sealJson } from './seal.js';
import { within } from './within.js';

/** What one host runs at an address: versions (semver) and instances. */
export interface AddressReport {
  readonly versions: readonly string[];
  readonly instances: number;
}

/** Heartbeats further than this from the receiver's clock are ignored (replays, broken clocks). */
export const MAX_SKEW_MS = 30_000;

export interface Heartbeat {
  readonly id: string;
  /** A random id of the sending process. */
  readonly boot: string;
  /** Increases by one per heartbeat of one process. */
  readonly seq: number;
  /** Sender's clock (ms since epoch), for display only. */
  readonly at: number;
  readonly capacity: number;
  readonly labels: Readonly<Record<string, string>>;
  /** The host's admin API, when it serves one. */
  readonly admin?: string;
  readonly addresses: Readonly<Record<string, AddressReport>>;
  readonly leaving?: boolean;
}

export interface PeerState {
  readonly heartbeat: Heartbeat;
  /** `performance.now()` on this host when the last heartbeat arrived. */
  readonly seenAt: number;
}

export interface MembershipOptions {
  readonly nc: NatsConnection;
  readonly prefix: string;
  readonly key: Uint8Array;
  /** This host's heartbeat, built afresh for every beat. */
  readonly describe: () => Omit<Heartbeat, 'seq' | 'at' | 'boot'>;
  readonly heartbeatMs: number;
  readonly lostAfterMs: number;
  /** Called after the set of hosts, or what one of them runs, changed. */
  readonly onChange: (lost: readonly string[]) => void;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
}

export class Membership {
  private readonly peers = new Map<string, PeerState>();
  private readonly options: MembershipOptions;
  private sub: Subscription | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private seq = 0;
  private last: Heartbeat | undefined;
  private readonly boot = randomUUID();
  /** Last heartbeat number accepted per `id/boot`, kept after a host is lost (replays stay refused). */
  private readonly seen = new Map<string, number>();

  /** Anyone on the bus can send heartbeats: refusals are logged once per second at most. */
  private readonly refusals: ThrottledLog;

  constructor(options: MembershipOptions) {
    this.options = options;
    this.refusals = throttledLog((message) => options.log?.('warn', message));
  }

  start(): void {
    this.sub = this.options.nc.subscribe(`${this.options.prefix}.hb`, {
      callback: (error, msg) => {
        if (error === null) this.heard(msg.data);
      },
    });
    this.beat();
    this.timer = setInterval(() => {
      this.beat();
      this.sweep();
    }, this.options.heartbeatMs);
    this.timer.unref();
  }

  /** This host's last heartbeat and the live peers' (self first). */
  hosts(): Heartbeat[] {
    const self = this.last === undefined ? [] : [this.last];
    return [...self, ...[...this.peers.values()].map((p) => p.heartbeat)];
  }

  peer(id: string): PeerState | undefined {
    return this.peers.get(id);
  }

  /** Sends a heartbeat now (after a change worth telling the others at once). */
  beat(leaving = false): void {
    const hb: Heartbeat = {
      ...this.options.describe(),
      boot: this.boot,
      seq: ++this.seq,
      at: Date.now(),
      leaving,
    };
    this.last = hb;
    try {
      this.options.nc.publish(`${this.options.prefix}.hb`, sealJson(this.options.key, hb));
    } catch (error) {
      this.options.log?.('warn', `cluster: heartbeat not sent: ${toAirssysError(error).message}`);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.beat(true);
    await within(this.options.nc.flush(), 1000);
    this.sub?.unsubscribe();
  }

  private heard(bytes: Uint8Array): void {
    let hb: Heartbeat;
    try {
      hb = openJson<Heartbeat>(this.options.key, bytes);
    } catch (error) {
      this.refusals(
        'cluster: heartbeats refused',
        `cluster: heartbeat refused: ${toAirssysError(error).message}`,
      );
      return;
    }
    if (hb.id === this.last?.id || Math.abs(Date.now() - hb.at) > MAX_SKEW_MS) return;
    const process = `${hb.id}/${hb.boot}`;
    if ((this.seen.get(process) ?? 0) >= hb.seq) return;
    this.seen.set(process, hb.seq);
    const before = this.peers.get(hb.id);
    if (hb.leaving === true) {
      if (before !== undefined) {
        this.peers.delete(hb.id);
        this.options.log?.('info', `cluster: host ${hb.id} left`);
        this.options.onChange([]);
      }
      return;
    }
    this.peers.set(hb.id, { heartbeat: hb, seenAt: performance.now() });
    if (before === undefined) this.options.log?.('info', `cluster: host ${hb.id} joined`);
    if (before === undefined || !sameWork(before.heartbeat, hb)) this.options.onChange([]);
  }

  private sweep(): void {
    const now = performance.now();
    const lost: string[] = [];
    for (const [id, peer] of this.peers) {
      if (now - peer.seenAt > this.options.lostAfterMs) {
        this.peers.delete(id);
        lost.push(id);
      }
    }
    if (lost.length === 0) return;
    this.options.log?.(
      'warn',
      `cluster: host${lost.length > 1 ? 's' : ''} ${lost.join(', ')} lost (no heartbeat for ${this.options.lostAfterMs} ms)`,
    );
    this.options.onChange(lost);
  }
}

function sameWork(a: Heartbeat, b: Heartbeat): boolean {
  return (
    a.capacity === b.capacity &&
    JSON.stringify(a.addresses) === JSON.stringify(b.addresses) &&
    JSON.stringify(a.labels) === JSON.stringify(b.labels)
  );
}
