/**
 * Shadow instances: a candidate version that receives a copy of live messages and whose every
 * effect is discarded. Its sends, requests and publications go nowhere (they report success, so
 * the component behaves as it would in production); its storage writes land in an in-memory
 * overlay over the live namespace, so it reads real state and never changes it; its replies are
 * dropped by the router; its file, network and process operations are refused. What remains are its counters: handled, errors, crashes — the report a
 * shadow deployment compares with the serving version.
 */

import { addChecked, checkDelta, decodeCounter, encodeCounter } from '../osl/kv/counter.js';
import type { KvNamespace, ListOptions, ListPage } from '../osl/kv/store.js';
import { AirssysError } from '../shared/errors.js';
import type { ActorHost } from './component-actor.js';

/** An actor host whose outward effects are discarded (see the file comment). */
export function shadowHost(inner: ActorHost): ActorHost {
  let fakeCorrelation = 1n << 62n;
  return {
    dequeued: (key) => inner.dequeued(key),
    // Mirrored messages carry no reply route: there is nobody to answer or to defer for.
    answer: () => {},
    defer: () => {},
    stats: (key) => inner.stats(key),
    maxMessageBytes: inner.maxMessageBytes,
    log: (from, level, message) => inner.log(from, level, `[shadow] ${message}`),
    send: () => {},
    request: () => fakeCorrelation++,
    reply: () => {},
    publish: () => {},
    subscribe: () => {},
    unsubscribe: () => {},
    namespace: (from, name) => new OverlayNamespace(inner.namespace(from, name)),
    audit: (from, decision) => inner.audit(from, decision),
    // Files, sockets and children cannot be overlaid: a shadow reaches none of them.
    // Linked with no grants, so a component importing them still links: every request is refused.
    network: () => ({ http: {}, sockets: {} }),
    operate: (from) => {
      throw new AirssysError(
        'capability-denied',
        `${from.address} runs as a shadow, which has no file, network or process access; test it with a canary instead`,
        { blame: 'guest' },
      );
    },
  };
}

/** Reads through to the live namespace; keeps writes to itself. */
export class OverlayNamespace implements KvNamespace {
  /** Key → written value, or null for a deletion. */
  private readonly writes = new Map<string, Uint8Array | null>();

  constructor(private readonly live: KvNamespace) {}

  get name(): string {
    return this.live.name;
  }

  get(key: string): Uint8Array | undefined {
    const written = this.writes.get(key);
    if (written !== undefined) return written ?? undefined;
    return this.live.get(key);
  }

  set(key: string, value: Uint8Array): void {
    if (!(value instanceof Uint8Array)) this.live.set(key, value); // let the live rules reject it
    this.writes.set(key, value.slice());
  }

  delete(key: string): boolean {
    const existed = this.get(key) !== undefined;
    this.writes.set(key, null);
    return existed;
  }

  /** The live page with this overlay's writes applied (a page may hold fewer keys than `limit`). */
  listPrefix(prefix: string, options?: ListOptions): ListPage {
    const page = this.live.listPrefix(prefix, options);
    const keys = new Set(page.keys);
    for (const [key, value] of this.writes) {
      if (!key.startsWith(prefix)) continue;
      if (value === null) keys.delete(key);
      else if (options?.cursor === undefined || key > options.cursor) {
        if (page.next === undefined || key <= page.keys[page.keys.length - 1]) keys.add(key);
      }
    }
    return { keys: [...keys].sort(), next: page.next };
  }

  increment(key: string, delta: bigint): bigint {
    const next = addChecked(key, decodeCounter(key, this.get(key)), checkDelta(delta));
    this.writes.set(key, encodeCounter(next));
    return next;
  }

  compareAndSet(key: string, expected: Uint8Array | undefined, value: Uint8Array | undefined): boolean {
    const current = this.get(key);
    const same =
      current === undefined || expected === undefined
        ? current === expected
        : current.length === expected.length && current.every((b, i) => b === expected[i]);
    if (!same) return false;
    if (value === undefined) this.writes.set(key, null);
    else this.writes.set(key, value.slice());
    return true;
  }

  usage() {
    return this.live.usage();
  }
}
