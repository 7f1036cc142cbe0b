/**
 * The `airssys:core/host-services` import of one component actor: what a component may ask of
 * the host. Each function is bound to the actor's identity, so the sender of every message is
 * stamped by the host and cannot be chosen by the component, and each is checked against the
 * capabilities the manifest declared. A refused or failed call returns `err({code, message})`
 * to the component; nothing a component passes can throw into the host or trap the instance.
 *
 * Every capability decision is written to the audit log once per instance and subject: the
 * decision is cached (a component sends to few distinct addresses) and a cached decision is
 * not a new one — so a component retrying a refused send a million times leaves one record,
 * not a million.
 */

import type { AuditRecord } from '../osl/audit/audit-log.js';
import type { KvNamespace } from '../osl/kv/store.js';
import { parsePattern, topicMatches } from '../rt/index.js';
import { AirssysError, toAirssysError } from '../shared/errors.js';
import type { Manifest } from '../wasm/manifest/schema.js';
import type { Envelope } from './envelope.js';

export const HOST_SERVICES = 'airssys:core/host-services@1.0.0';

/** What the services need from the node the actor runs on. */
export interface ServiceBackend {
  send(from: ActorIdentity, target: string, codec: number, payload: Uint8Array): void;
  request(from: ActorIdentity, target: string, codec: number, payload: Uint8Array, timeoutMs: number): bigint;
  reply(from: ActorIdentity, correlationId: bigint, codec: number, payload: Uint8Array): void;
  publish(from: ActorIdentity, topic: string, codec: number, payload: Uint8Array): void;
  subscribe(from: ActorIdentity, pattern: string): void;
  unsubscribe(from: ActorIdentity, pattern: string): void;
  namespace(from: ActorIdentity, name: string): KvNamespace;
  log(from: ActorIdentity, level: string, message: string): void;
  /** Records a capability decision (component, version and time are filled in by the node). */
  audit(from: ActorIdentity, decision: AuditDecision): void;
}

export type AuditDecision = Pick<AuditRecord, 'operation' | 'subject' | 'decision' | 'reason' | 'code'>;

/** Who is calling: the address messages are stamped with, and the actor's key on its node. */
export interface ActorIdentity {
  readonly address: string;
  /** The version id the instance runs (audit records name it). */
  readonly version: string;
  readonly key: number;
  readonly manifest: Manifest;
  /** The message being handled, if any (requests it makes join its causal chain). */
  current: Envelope | undefined;
  /** While handling a traced message: the traceparent what the instance sends carries. */
  trace?: string | undefined;
}

type Result<T> = { tag: 'ok'; val?: T } | { tag: 'err'; val: { code: string; message: string } };

const OK: Result<never> = Object.freeze({ tag: 'ok' }) as Result<never>;

function failure(error: unknown): Result<never> {
  const e = toAirssysError(error);
  return { tag: 'err', val: { code: e.code, message: e.message } };
}

function denied(address: string, what: string, field: string): AirssysError {
  return new AirssysError(
    'capability-denied',
    `${address} may not ${what}; declare it in Component.toml [permissions] ${field}`,
    { blame: 'guest', details: { capability: field } },
  );
}

/**
 * Decides a topic-pattern capability, caching decisions per name: components send to few
 * distinct addresses, and matching patterns on every message would cost more than the send.
 */
function patternGate(
  patterns: readonly string[],
  matches: (granted: string, name: string) => boolean,
  decided: (name: string, ok: boolean) => void,
): (name: string) => boolean {
  const cache = new Map<string, boolean>();
  return (name) => {
    let ok = cache.get(name);
    if (ok === undefined) {
      try {
        ok = patterns.some((p) => matches(p, name));
      } catch {
        ok = false; // not a well-formed name: nothing can match it
      }
      if (cache.size >= 1024) cache.clear();
      cache.set(name, ok);
      decided(name, ok);
    }
    return ok;
  };
}

/**
 * True when every topic `requested` matches is also matched by `granted`, so a component may
 * subscribe to a narrower pattern than it was granted (`events.orders` under `events.>`).
 */
export function patternCovers(granted: string, requested: string): boolean {
  const g = parsePattern(granted);
  const r = parsePattern(requested);
  for (let i = 0; i < g.length; i++) {
    if (g[i] === '>') return r.length > i;
    if (i >= r.length || r[i] === '>') return false;
    if (g[i] !== '*' && g[i] !== r[i]) return false;
  }
  return g.length === r.length;
}

export function hostServices(
  backend: ServiceBackend,
  me: ActorIdentity,
): Record<string, (...args: any[]) => unknown> {
  const { manifest, address } = me;
  const { messaging, storage } = manifest.permissions;
  const audited =
    (operation: string, what: (name: string) => string, field: string) => (name: string, ok: boolean) =>
      backend.audit(me, {
        operation,
        subject: name,
        decision: ok ? 'allow' : 'deny',
        reason: ok ? 'granted' : denied(address, what(name), field).message,
        code: ok ? undefined : 'capability-denied',
      });
  const sendTo = (name: string) => `send to "${name}"`;
  const subscribeTo = (name: string) => `subscribe to "${name}"`;
  const useNamespace = (name: string) => `use storage namespace "${name}"`;
  const maySend = patternGate(
    messaging.send,
    topicMatches,
    audited('messaging.send', sendTo, 'messaging.send'),
  );
  const maySubscribe = patternGate(
    messaging.subscribe,
    patternCovers,
    audited('messaging.subscribe', subscribeTo, 'messaging.subscribe'),
  );
  const mayUse = patternGate(
    storage.namespaces,
    (granted, name) => granted === name,
    audited('storage.open', useNamespace, 'storage.namespaces'),
  );
  const opened = new Map<string, KvNamespace>();

  const checkSend = (target: string) => {
    if (!maySend(target)) throw denied(address, sendTo(target), 'messaging.send');
  };
  const ns = (name: string): KvNamespace => {
    let handle = opened.get(name);
    if (handle === undefined) {
      if (!mayUse(name)) throw denied(address, useNamespace(name), 'storage.namespaces');
      handle = backend.namespace(me, name);
      opened.set(name, handle);
    }
    return handle;
  };

  return {
    log(level: string, message: string) {
      backend.log(me, level, message);
    },
    send(target: string, codec: number, payload: Uint8Array): Result<never> {
      try {
        checkSend(target);
        backend.send(me, target, codec, payload);
        return OK;
      } catch (error) {
        return failure(error);
      }
    },
    request(target: string, codec: number, payload: Uint8Array, timeoutMs: number): Result<bigint> {
      try {
        checkSend(target);
        return { tag: 'ok', val: backend.request(me, target, codec, payload, timeoutMs) };
      } catch (error) {
        return failure(error);
      }
    },
    reply(correlationId: bigint, codec: number, payload: Uint8Array): Result<never> {
      try {
        backend.reply(me, correlationId, codec, payload);
        return OK;
      } catch (error) {
        return failure(error);
      }
    },
    publish(topic: string, codec: number, payload: Uint8Array): Result<never> {
      try {
        if (!maySend(topic)) throw denied(address, sendTo(topic), 'messaging.send');
        backend.publish(me, topic, codec, payload);
        return OK;
      } catch (error) {
        return failure(error);
      }
    },
    subscribe(pattern: string): Result<never> {
      try {
        if (!maySubscribe(pattern)) throw denied(address, subscribeTo(pattern), 'messaging.subscribe');
        backend.subscribe(me, pattern);
        return OK;
      } catch (error) {
        return failure(error);
      }
    },
    unsubscribe(pattern: string): Result<never> {
      try {
        backend.unsubscribe(me, pattern);
        return OK;
      } catch (error) {
        return failure(error);
      }
    },
    'storage-get'(namespace: string, key: string): Result<Uint8Array | undefined> {
      try {
        return { tag: 'ok', val: ns(namespace).get(key) };
      } catch (error) {
        return failure(error);
      }
    },
    'storage-set'(namespace: string, key: string, value: Uint8Array): Result<never> {
      try {
        ns(namespace).set(key, value);
        return OK;
      } catch (error) {
        return failure(error);
      }
    },
    'storage-delete'(namespace: string, key: string): Result<boolean> {
      try {
        return { tag: 'ok', val: ns(namespace).delete(key) };
      } catch (error) {
        return failure(error);
      }
    },
    'storage-list-prefix'(
      namespace: string,
      prefix: string,
      cursor: string | undefined,
      limit: number,
    ): Result<{ keys: string[]; next: string | undefined }> {
      try {
        const page = ns(namespace).listPrefix(prefix, { cursor, limit: limit === 0 ? undefined : limit });
        return { tag: 'ok', val: { keys: page.keys, next: page.next } };
      } catch (error) {
        return failure(error);
      }
    },
    'storage-increment'(namespace: string, key: string, delta: bigint): Result<bigint> {
      try {
        return { tag: 'ok', val: ns(namespace).increment(key, delta) };
      } catch (error) {
        return failure(error);
      }
    },
    'storage-compare-and-set'(
      namespace: string,
      key: string,
      expected: Uint8Array | undefined,
      value: Uint8Array | undefined,
    ): Result<boolean> {
      try {
        return { tag: 'ok', val: ns(namespace).compareAndSet(key, expected, value) };
      } catch (error) {
        return failure(error);
      }
    },
    'config-get'(key: string): string | undefined {
      return Object.hasOwn(manifest.config, key) ? manifest.config[key] : undefined;
    },
    now(): bigint {
      return BigInt(Date.now());
    },
  };
}
