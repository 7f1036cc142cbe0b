/**
 * Snapshots of a component's storage, taken before a new version migrates it so a rollback can
 * give the old version back the state it expects. A snapshot is a copy of each namespace into a
 * sibling namespace `<component>.-<id>.<namespace>`: manifest namespaces start with a letter, so
 * the `-` keeps snapshots out of every component's reach. Each operation is one storage turn:
 * it happens entirely or not at all.
 */

import type { KeyValueStore, KvNamespace } from '../osl/kv/store.js';
import { AirssysError } from '../shared/errors.js';

/** Snapshots hold whatever the live namespace held, so they are not bound by its quota. */
const UNBOUNDED = { quotaBytes: Number.MAX_SAFE_INTEGER, maxKeys: Number.MAX_SAFE_INTEGER };
const PAGE = 1000;

export function liveNamespace(component: string, namespace: string): string {
  return `${component}.${namespace}`;
}

function snapshotNamespace(component: string, id: string, namespace: string): string {
  return `${component}.-${id}.${namespace}`;
}

function keysOf(ns: KvNamespace): string[] {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = ns.listPrefix('', { cursor, limit: PAGE });
    keys.push(...page.keys);
    cursor = page.next;
  } while (cursor !== undefined);
  return keys;
}

function copy(from: KvNamespace, to: KvNamespace): number {
  for (const key of keysOf(to)) to.delete(key);
  const keys = keysOf(from);
  for (const key of keys) to.set(key, from.get(key)!);
  return keys.length;
}

function inTurn<T>(store: KeyValueStore, work: () => T): T {
  store.beginTurn();
  try {
    const result = work();
    store.endTurn();
    return result;
  } catch (error) {
    store.abortTurn();
    throw error instanceof AirssysError
      ? error
      : new AirssysError('storage-error', `storage snapshot failed: ${String(error)}`, { cause: error });
  }
}

/** Copies each namespace from one naming to another, in one turn; returns the keys copied. */
function copyAll(
  store: KeyValueStore,
  namespaces: readonly string[],
  from: (ns: string) => string,
  to: (ns: string) => string,
): number {
  return inTurn(store, () =>
    namespaces.reduce(
      (n, ns) => n + copy(store.namespace(from(ns), UNBOUNDED), store.namespace(to(ns), UNBOUNDED)),
      0,
    ),
  );
}

/** Copies the component's namespaces into snapshot `id`; returns the number of keys copied. */
export function snapshotStorage(
  store: KeyValueStore,
  component: string,
  namespaces: readonly string[],
  id: string,
): number {
  return copyAll(
    store,
    namespaces,
    (ns) => liveNamespace(component, ns),
    (ns) => snapshotNamespace(component, id, ns),
  );
}

/** Puts snapshot `id` back as the component's live state (what was written since is gone). */
export function restoreStorage(
  store: KeyValueStore,
  component: string,
  namespaces: readonly string[],
  id: string,
): number {
  return copyAll(
    store,
    namespaces,
    (ns) => snapshotNamespace(component, id, ns),
    (ns) => liveNamespace(component, ns),
  );
}

/**
 * Replaces the component's live namespaces with `entries` (what another host replicated), in
 * one turn; returns the keys written.
 */
export function replaceLive(
  store: KeyValueStore,
  component: string,
  namespaces: readonly string[],
  entries: readonly { namespace: string; key: string; value: Uint8Array }[],
): number {
  return inTurn(store, () => {
    for (const ns of namespaces) {
      const live = store.namespace(liveNamespace(component, ns), UNBOUNDED);
      for (const key of keysOf(live)) live.delete(key);
    }
    for (const { namespace, key, value } of entries) {
      if (namespaces.includes(namespace))
        store.namespace(liveNamespace(component, namespace), UNBOUNDED).set(key, value);
    }
    return entries.length;
  });
}

export function dropSnapshot(
  store: KeyValueStore,
  component: string,
  namespaces: readonly string[],
  id: string,
): void {
  inTurn(store, () => {
    for (const ns of namespaces) {
      const snapshot = store.namespace(snapshotNamespace(component, id, ns), UNBOUNDED);
      for (const key of keysOf(snapshot)) snapshot.delete(key);
    }
  });
}
