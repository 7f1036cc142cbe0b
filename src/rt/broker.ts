/**
 * Publish/subscribe by topic pattern. Subscriptions live in a trie keyed by segment (with a `*`
 * branch and a `>` list per node), so matching a topic walks at most the branches that could
 * match it, whatever the number of unrelated subscriptions. The subscriber list per published
 * topic is cached until the subscriptions change, so a steady stream of publishes costs one map
 * lookup plus the deliveries.
 */

import { AirssysError } from '../shared/errors.js';
import type { ActorRef } from './actor-ref.js';
import { parsePattern, parseTopic } from './topic.js';

/** What an actor subscriber receives for each matching publish. */
export interface Publication<T = unknown> {
  readonly topic: string;
  readonly message: T;
}

export type TopicCallback = (message: unknown, topic: string) => void;

export interface Subscription {
  readonly pattern: string;
  unsubscribe(): void;
}

class Sub implements Subscription {
  active = true;
  constructor(
    readonly pattern: string,
    readonly ref: ActorRef | null,
    readonly callback: TopicCallback | null,
    private readonly broker: Broker,
  ) {}

  unsubscribe(): void {
    if (!this.active) return;
    this.active = false;
    this.broker.remove(this);
  }
}

class TrieNode {
  children: Map<string, TrieNode> | null = null;
  star: TrieNode | null = null;
  /** Subscriptions whose pattern ends here. */
  exact: Sub[] | null = null;
  /** Subscriptions whose pattern ends here with `>`. */
  rest: Sub[] | null = null;

  isEmpty(): boolean {
    return this.children === null && this.star === null && this.exact === null && this.rest === null;
  }
}

/** Entries before the topic cache is dropped; keeps topics with ids in them from growing it forever. */
const CACHE_LIMIT = 4096;

/**
 * @example
 * const sub = system.broker.subscribe('orders.*', orderActor); // orderActor gets { topic, message }
 * system.broker.publish('orders.created', { id: 1 });
 * sub.unsubscribe();
 */
export class Broker {
  private readonly root = new TrieNode();
  private readonly cache = new Map<string, Sub[]>();
  private count = 0;

  /** `onActorSubscribed` lets the system drop an actor's subscriptions when it stops. */
  constructor(private readonly onActorSubscribed?: (ref: ActorRef, unsubscribe: () => void) => void) {}

  /** Subscribes an actor (sent a {@link Publication}) or a callback; throws `invalid-argument` for a bad pattern. */
  subscribe(pattern: string, target: ActorRef | TopicCallback): Subscription {
    const segments = parsePattern(pattern);
    const isCallback = typeof target === 'function';
    if (!isCallback && (typeof target !== 'object' || target === null || typeof target.tell !== 'function')) {
      throw new AirssysError('invalid-argument', 'subscriber: expected an ActorRef or a function');
    }
    const sub = new Sub(pattern, isCallback ? null : target, isCallback ? target : null, this);
    let node = this.root;
    const last = segments.length - 1;
    for (let i = 0; i <= last; i++) {
      const s = segments[i];
      if (s === '>') {
        node.rest = [...(node.rest ?? []), sub];
        break;
      }
      let next: TrieNode | null | undefined;
      if (s === '*') next = node.star ??= new TrieNode();
      else {
        node.children ??= new Map();
        next = node.children.get(s);
        if (next === undefined) node.children.set(s, (next = new TrieNode()));
      }
      node = next;
      if (i === last) node.exact = [...(node.exact ?? []), sub];
    }
    this.count++;
    this.cache.clear();
    if (!isCallback && this.onActorSubscribed !== undefined)
      this.onActorSubscribed(target, () => sub.unsubscribe());
    return sub;
  }

  /** Number of active subscriptions. */
  get size(): number {
    return this.count;
  }

  /**
   * Delivers `message` to every subscription matching `topic`; returns how many received it.
   * Every subscriber is tried; then, if any refused (`mailbox-full`) or a callback threw, that
   * error is thrown so the loss is never silent. Subscribers that stopped are dropped.
   */
  publish(topic: string, message: unknown, sender: ActorRef | null = null): number {
    let subs = this.cache.get(topic);
    if (subs === undefined) {
      const segments = parseTopic(topic);
      subs = [];
      collect(this.root, segments, 0, subs);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(topic, subs);
    }
    const n = subs.length;
    if (n === 0) return 0;
    // One publication object shared by all actor subscribers: messages are not copied locally.
    const publication: Publication = { topic, message };
    let failed: unknown;
    let failures = 0;
    for (let i = 0; i < n; i++) {
      const sub = subs[i];
      try {
        if (sub.ref !== null) sub.ref.tell(publication, sender);
        else sub.callback!(message, topic);
      } catch (error) {
        if (error instanceof AirssysError && error.code === 'not-found') {
          sub.unsubscribe();
          continue;
        }
        failures++;
        failed ??= error;
      }
    }
    if (failures > 0) {
      if (failed instanceof AirssysError && failed.code === 'mailbox-full') {
        throw new AirssysError(
          'mailbox-full',
          `publish '${topic}': ${failures} of ${n} subscribers refused the message (${failed.message})`,
          { cause: failed, details: { topic, failures, subscribers: n } },
        );
      }
      throw new AirssysError(
        'messaging-error',
        `publish '${topic}': ${failures} of ${n} subscribers failed`,
        {
          cause: failed,
          details: { topic, failures, subscribers: n },
        },
      );
    }
    return n;
  }

  /** @internal */
  remove(sub: Sub): void {
    const segments = parsePattern(sub.pattern);
    const path: [TrieNode, string][] = [];
    let node: TrieNode | null | undefined = this.root;
    for (const s of segments) {
      if (s === '>') break;
      path.push([node, s]);
      node = s === '*' ? node.star : (node.children?.get(s) ?? null);
      if (node == null) return;
    }
    if (segments[segments.length - 1] === '>') node.rest = without(node.rest, sub);
    else node.exact = without(node.exact, sub);
    this.count--;
    this.cache.clear();
    // Prune nodes left empty so churn of unique patterns does not grow the trie.
    for (let k = path.length - 1; k >= 0 && node.isEmpty(); k--) {
      const [parent, s] = path[k];
      if (s === '*') parent.star = null;
      else {
        parent.children!.delete(s);
        if (parent.children!.size === 0) parent.children = null;
      }
      node = parent;
    }
  }
}

function without(list: Sub[] | null, sub: Sub): Sub[] | null {
  if (list === null) return null;
  const next = list.filter((s) => s !== sub);
  return next.length === 0 ? null : next;
}

function collect(node: TrieNode, segments: string[], i: number, out: Sub[]): void {
  if (i === segments.length) {
    if (node.exact !== null) for (const s of node.exact) out.push(s);
    return;
  }
  if (node.rest !== null) for (const s of node.rest) out.push(s);
  const child = node.children?.get(segments[i]);
  if (child !== undefined) collect(child, segments, i + 1, out);
  if (node.star !== null) collect(node.star, segments, i + 1, out);
}
