/**
 * Placement: how many instances of each cluster deployment run on each host.
 *
 * Why every host computes it: `place` is a pure function of the declared deployments and the hosts
 * a member currently sees alive, so each host works out its own share without a leader, an
 * election or a placement log. Views converge as heartbeats converge, and so do the placements.
 * Input order never matters: requests are taken by address, hosts by rank.
 *
 * Why rendezvous (highest-random-weight) hashing: each address ranks the hosts by
 * `hash(address, hostId)`, and removing a host leaves the relative order of all the others as it
 * was. So when capacity is not binding, losing a host moves only the instances that were on it —
 * the survivors keep theirs (with 'spread' they may gain some, never lose) — instead of reshuffling
 * the cluster the way `hash mod n` would. The hash only has to be fast and the same everywhere:
 * FNV-1a 32 over UTF-16 code units, then a murmur3 finalizer to spread similar ids apart.
 */

import { AirssysError } from '../shared/errors.js';

export interface PlacementHost {
  readonly id: string;
  /** Instances this host accepts in total across all deployments; 0 = runs nothing (a client-only member). */
  readonly capacity: number;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PlacementRequest {
  readonly address: string;
  /** Instances wanted across the cluster (>= 1). */
  readonly instances: number;
  /** 'spread' (default): as evenly as possible over eligible hosts (per-host counts differ by at most 1 when capacity allows); 'pack': fill the first hosts in rendezvous order up to capacity before the next. */
  readonly spread?: 'spread' | 'pack';
  /** Only hosts whose labels include every key=value here are eligible. */
  readonly affinity?: Readonly<Record<string, string>>;
  /** At most this many instances of this address on one host (default: unlimited). */
  readonly maxPerHost?: number;
}

export interface Placement {
  /** address → hostId → instances (hosts with 0 omitted; addresses with nothing placed map to an empty Map). */
  readonly assignments: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** address → instances that could not be placed (no eligible host, capacity exhausted); absent when all placed. */
  readonly unplaced: ReadonlyMap<string, number>;
}

function fail(field: string, expected: string, got: unknown): never {
  throw new AirssysError('invalid-argument', `${field}: expected ${expected}, got ${JSON.stringify(got)}`, {
    details: { field },
  });
}

const isCount = (v: unknown, min: number): v is number => Number.isInteger(v) && (v as number) >= min;

// Note: plain `<` rather than localeCompare, so the order does not depend on a host's locale.
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The rendezvous weight of `hostId` for `address`: FNV-1a 32, then murmur3's fmix32. */
function score(address: string, hostId: string): number {
  let h = 0x811c9dc5;
  // Note: the NUL separator keeps ('ab', 'c') and ('a', 'bc') apart.
  const key = `${address}\u0000${hostId}`;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function rank<T>(address: string, items: readonly T[], idOf: (item: T) => string): T[] {
  const scored = items.map((item) => ({ item, id: idOf(item), s: score(address, idOf(item)) }));
  scored.sort((a, b) => b.s - a.s || byCodeUnits(a.id, b.id));
  return scored.map((x) => x.item);
}

/**
 * Order in which hosts roll an address to a new version in a rolling deploy: its hosts sorted by
 * rendezvous rank (deterministic).
 *
 * @example
 * rolloutOrder('shop/cart', ['h1', 'h2', 'h3']); // ['h3', 'h1', 'h2'], whatever the input order
 */
export function rolloutOrder(address: string, hostIds: readonly string[]): string[] {
  return rank(address, hostIds, (id) => id);
}

function validate(requests: readonly PlacementRequest[], hosts: readonly PlacementHost[]): void {
  const ids = new Set<string>();
  hosts.forEach((h, i) => {
    if (typeof h.id !== 'string' || h.id === '') fail(`hosts[${i}].id`, 'a non-empty string', h.id);
    if (ids.has(h.id)) fail(`hosts[${i}].id`, 'an id no other host has (duplicate)', h.id);
    ids.add(h.id);
    if (!isCount(h.capacity, 0)) fail(`hosts[${i}].capacity`, 'an integer >= 0', h.capacity);
  });
  const addresses = new Set<string>();
  requests.forEach((r, i) => {
    const at = `requests[${i}]`;
    if (typeof r.address !== 'string' || r.address === '')
      fail(`${at}.address`, 'a non-empty string', r.address);
    if (addresses.has(r.address))
      fail(`${at}.address`, 'an address no other request has (duplicate)', r.address);
    addresses.add(r.address);
    if (!isCount(r.instances, 1)) fail(`${at}.instances`, 'an integer >= 1', r.instances);
    if (r.spread !== undefined && r.spread !== 'spread' && r.spread !== 'pack')
      fail(`${at}.spread`, "'spread' | 'pack'", r.spread);
    if (r.maxPerHost !== undefined && !isCount(r.maxPerHost, 1))
      fail(`${at}.maxPerHost`, 'an integer >= 1', r.maxPerHost);
  });
}

const matches = (host: PlacementHost, affinity: Readonly<Record<string, string>> = {}) =>
  Object.entries(affinity).every(([k, v]) => Object.hasOwn(host.labels, k) && host.labels[k] === v);

/**
 * Places every request on the hosts, the same way on every host of the cluster. Requests are
 * served in address order, so when capacity runs short the same addresses lose out everywhere.
 * Throws `invalid-argument` naming the field for a bad count, capacity or a duplicate id/address.
 *
 * @example
 * place([{ address: 'shop/cart', instances: 3 }], [a, b, c]).assignments.get('shop/cart');
 * // Map { 'c' => 1, 'a' => 1, 'b' => 1 } (one each, keyed in rendezvous order)
 */
export function place(requests: readonly PlacementRequest[], hosts: readonly PlacementHost[]): Placement {
  validate(requests, hosts);
  const free = new Map(hosts.map((h) => [h.id, h.capacity]));
  const assignments = new Map<string, Map<string, number>>();
  const unplaced = new Map<string, number>();

  for (const r of [...requests].sort((a, b) => byCodeUnits(a.address, b.address))) {
    const cap = r.maxPerHost ?? Number.POSITIVE_INFINITY;
    const ranked = rank(
      r.address,
      hosts.filter((h) => h.capacity > 0 && matches(h, r.affinity)),
      (h) => h.id,
    ).map((h) => h.id);
    const counts = new Map<string, number>();
    const room = (id: string) => Math.min(free.get(id)!, cap - (counts.get(id) ?? 0));
    const give = (id: string, n: number) => {
      counts.set(id, (counts.get(id) ?? 0) + n);
      free.set(id, free.get(id)! - n);
    };
    let left = r.instances;
    if (r.spread === 'pack') {
      for (const id of ranked) {
        const n = Math.min(left, room(id));
        if (n > 0) give(id, n);
        left -= n;
      }
    } else {
      // Round-robin in rank order, one instance per host per round, skipping hosts without room.
      let gave = true;
      while (left > 0 && gave) {
        gave = false;
        for (const id of ranked) {
          if (left === 0) break;
          if (room(id) <= 0) continue;
          give(id, 1);
          left--;
          gave = true;
        }
      }
    }
    assignments.set(r.address, counts);
    if (left > 0) unplaced.set(r.address, left);
  }
  return { assignments, unplaced };
}
