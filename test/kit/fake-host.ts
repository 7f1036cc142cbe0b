/**
 * An in-memory `airssys:core/host-services` for driving C-kit components without the actor
 * runtime: it records every call, keeps storage in a map (counters as 8-byte little-endian
 * s64, as the host stores them), hands out correlation ids, and queues what components send so
 * a test can deliver it. Refusals are injected per function with `refuse`.
 */

import type { HostImports } from '../../src/wasm/index.js';

export type Result<T = undefined> = { tag: 'ok'; val?: T } | { tag: 'err'; val: HostError };
export interface HostError {
  code: string;
  message: string;
}

export interface Message {
  kind: 'send' | 'request' | 'reply' | 'publish';
  sender: string;
  target: string;
  topic: string | undefined;
  correlationId: bigint | undefined;
  codec: number;
  payload: Uint8Array;
}

export interface Call {
  fn: string;
  args: unknown[];
}

/** What a component sent, published or replied: `to` is an address, a topic or a correlation id. */
export interface Outgoing {
  fn: 'send' | 'request' | 'reply' | 'publish';
  to: string | bigint;
  codec: number;
  payload: Uint8Array;
  correlationId?: bigint;
}

const ok = <T>(val?: T): Result<T> => (val === undefined ? { tag: 'ok' } : { tag: 'ok', val });

export const RAW = 0x55;
export const JSON_CODEC = 0x0200;
export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

export class FakeHost {
  readonly calls: Call[] = [];
  readonly outbox: Outgoing[] = [];
  readonly storage = new Map<string, Uint8Array>();
  config: Record<string, string> = {};
  private nextCorrelation = 100n;
  /** Per function name: decides whether the n-th call (0-based) is refused, and how. */
  private readonly refusals = new Map<string, (n: number, args: unknown[]) => HostError | undefined>();
  private readonly counts = new Map<string, number>();

  /** Refuses calls of `fn` for which `when(n, args)` returns an error. */
  refuse(fn: string, when: (n: number, args: unknown[]) => HostError | undefined): this {
    this.refusals.set(fn, when);
    return this;
  }

  callsOf(fn: string): unknown[][] {
    return this.calls.filter((c) => c.fn === fn).map((c) => c.args);
  }

  private record(fn: string, args: unknown[]): HostError | undefined {
    // Copies: a list lifted from the guest must not be read after the call returns.
    const kept = args.map((a) => (a instanceof Uint8Array ? a.slice() : a));
    this.calls.push({ fn, args: kept });
    const n = this.counts.get(fn) ?? 0;
    this.counts.set(fn, n + 1);
    return this.refusals.get(fn)?.(n, kept);
  }

  private outgoing(fn: Outgoing['fn'], to: string | bigint, codec: number, payload: Uint8Array): Result {
    const refused = this.record(fn, [to, codec, payload]);
    if (refused) return { tag: 'err', val: refused };
    this.outbox.push({ fn, to, codec, payload: payload.slice() });
    return ok();
  }

  private counter(ns: string, key: string): bigint {
    const v = this.storage.get(`${ns}/${key}`);
    return v === undefined ? 0n : new DataView(v.buffer, v.byteOffset, 8).getBigInt64(0, true);
  }

  imports(): HostImports {
    const functions = {
      log: (level: string, message: string) => {
        this.record('log', [level, message]);
      },
      send: (target: string, codec: number, payload: Uint8Array) =>
        this.outgoing('send', target, codec, payload),
      request: (target: string, codec: number, payload: Uint8Array, timeoutMs: number): Result<bigint> => {
        const refused = this.record('request', [target, codec, payload, timeoutMs]);
        if (refused) return { tag: 'err', val: refused };
        const id = this.nextCorrelation++;
        this.outbox.push({ fn: 'request', to: target, codec, payload: payload.slice(), correlationId: id });
        return ok(id);
      },
      reply: (id: bigint, codec: number, payload: Uint8Array) => this.outgoing('reply', id, codec, payload),
      publish: (topic: string, codec: number, payload: Uint8Array) =>
        this.outgoing('publish', topic, codec, payload),
      subscribe: (pattern: string) => this.unit('subscribe', [pattern]),
      unsubscribe: (pattern: string) => this.unit('unsubscribe', [pattern]),
      'storage-get': (ns: string, key: string): Result<Uint8Array> => {
        const refused = this.record('storage-get', [ns, key]);
        if (refused) return { tag: 'err', val: refused };
        return ok(this.storage.get(`${ns}/${key}`));
      },
      'storage-set': (ns: string, key: string, value: Uint8Array) => {
        const refused = this.record('storage-set', [ns, key, value]);
        if (refused) return { tag: 'err', val: refused };
        this.storage.set(`${ns}/${key}`, value.slice());
        return ok();
      },
      'storage-delete': (ns: string, key: string): Result<boolean> => {
        const refused = this.record('storage-delete', [ns, key]);
        if (refused) return { tag: 'err', val: refused };
        return { tag: 'ok', val: this.storage.delete(`${ns}/${key}`) };
      },
      'storage-list-prefix': (ns: string, prefix: string, cursor: string | undefined, limit: number) => {
        const refused = this.record('storage-list-prefix', [ns, prefix, cursor, limit]);
        if (refused) return { tag: 'err', val: refused };
        const keys = [...this.storage.keys()]
          .filter((k) => k.startsWith(`${ns}/${prefix}`))
          .map((k) => k.slice(ns.length + 1))
          .filter((k) => cursor === undefined || k > cursor)
          .sort();
        const page = keys.slice(0, limit);
        return ok({ keys: page, next: keys.length > limit ? page[page.length - 1] : undefined });
      },
      'storage-increment': (ns: string, key: string, delta: bigint): Result<bigint> => {
        const refused = this.record('storage-increment', [ns, key, delta]);
        if (refused) return { tag: 'err', val: refused };
        const value = BigInt.asIntN(64, this.counter(ns, key) + delta);
        const bytes = new Uint8Array(8);
        new DataView(bytes.buffer).setBigInt64(0, value, true);
        this.storage.set(`${ns}/${key}`, bytes);
        return ok(value);
      },
      'storage-compare-and-set': (
        ns: string,
        key: string,
        expected: Uint8Array | undefined,
        value: Uint8Array | undefined,
      ): Result<boolean> => {
        const refused = this.record('storage-compare-and-set', [ns, key, expected, value]);
        if (refused) return { tag: 'err', val: refused };
        const current = this.storage.get(`${ns}/${key}`);
        const same =
          current === undefined || expected === undefined
            ? current === expected
            : current.length === expected.length && current.every((b, i) => b === expected[i]);
        if (!same) return { tag: 'ok', val: false };
        if (value === undefined) this.storage.delete(`${ns}/${key}`);
        else this.storage.set(`${ns}/${key}`, value.slice());
        return { tag: 'ok', val: true };
      },
      'config-get': (key: string): string | undefined => {
        this.record('config-get', [key]);
        return this.config[key];
      },
      now: (): bigint => {
        this.record('now', []);
        return 1_700_000_000_000n;
      },
    };
    // Note: every component of the world also imports `airssys:core/types` (type definitions
    // only: component-lifecycle `use`s them). A linker that skips function-less interfaces
    // ignores the empty entry; one that does not needs it.
    return { 'airssys:core/host-services': functions, 'airssys:core/types': {} };
  }

  private unit(fn: string, args: unknown[]): Result {
    const refused = this.record(fn, args);
    return refused ? { tag: 'err', val: refused } : ok();
  }
}

/** A message as the host delivers it; defaults: a raw request from `host` with correlation id 1. */
export function message(payload: string | Uint8Array, fields: Partial<Message> = {}): Message {
  const kind = fields.kind ?? 'request';
  return {
    kind,
    sender: 'host',
    target: 'component',
    topic: undefined,
    correlationId: kind === 'request' || kind === 'reply' ? 1n : undefined,
    codec: RAW,
    payload: typeof payload === 'string' ? text(payload) : payload,
    ...fields,
  };
}
