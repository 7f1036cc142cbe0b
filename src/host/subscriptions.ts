/**
 * The subscriptions a node knows — its own and every other node's — as broker subscriptions.
 *
 * A component's subscription belongs to its address, not its instance: however many instances or
 * versions of the address subscribed to a pattern, one broker subscription delivers each
 * publication once, through the address's routing (weights, sticky instance). A host-API
 * subscription goes to its callback on the node that made it. Ids are `<node>:<n>`, so the
 * subscriptions of a node that was replaced can be dropped by prefix.
 */

import type { Broker, Subscription } from '../rt/index.js';
import type { Envelope } from './envelope.js';
import type { Member } from './node.js';

interface AddressSubscription {
  readonly ids: Set<string>;
  readonly sub: Subscription;
}

export class SubscriptionTable {
  private readonly byAddress = new Map<string, AddressSubscription>();
  /** Subscription id → its (address, pattern) key. */
  private readonly addressIds = new Map<string, string>();
  private readonly callbacks = new Map<string, Subscription>();

  constructor(
    private readonly broker: Broker,
    private readonly toAddress: (address: string, env: Envelope) => void,
    private readonly toCallback: (member: Member, env: Envelope, id: string) => void,
  ) {}

  addAddress(id: string, address: string, pattern: string): void {
    const key = `${address}\n${pattern}`;
    let entry = this.byAddress.get(key);
    if (entry === undefined) {
      const sub = this.broker.subscribe(pattern, (message) => this.toAddress(address, message as Envelope));
      entry = { ids: new Set(), sub };
      this.byAddress.set(key, entry);
    }
    entry.ids.add(id);
    this.addressIds.set(id, key);
  }

  /** A host-API subscription: publications go to the callback `id` on `member.node`. */
  addCallback(id: string, pattern: string, member: Member): void {
    this.callbacks.set(
      id,
      this.broker.subscribe(pattern, (message) => this.toCallback(member, message as Envelope, id)),
    );
  }

  drop(id: string): void {
    const callback = this.callbacks.get(id);
    if (callback !== undefined) {
      callback.unsubscribe();
      this.callbacks.delete(id);
      return;
    }
    const key = this.addressIds.get(id);
    if (key === undefined) return;
    this.addressIds.delete(id);
    const entry = this.byAddress.get(key);
    if (entry === undefined) return;
    entry.ids.delete(id);
    if (entry.ids.size === 0) {
      entry.sub.unsubscribe();
      this.byAddress.delete(key);
    }
  }

  /** Drops every subscription a node made (it was replaced: its actors are gone). */
  dropNode(node: number): void {
    const prefix = `${node}:`;
    for (const id of [...this.addressIds.keys(), ...this.callbacks.keys()]) {
      if (id.startsWith(prefix)) this.drop(id);
    }
  }
}
