/**
 * A node: the component actors of one thread (the caller's thread when the host runs with zero
 * scheduler threads, else one worker each) and everything a message needs on its way — the
 * address directory, the mailbox depth counters, pending requests, subscriptions, and the
 * storage turn.
 *
 * Back-pressure works across threads without a round trip: every actor has a depth counter in
 * a SharedArrayBuffer that all nodes see. A sender increments the receiver's counter before the
 * message leaves, and gets `mailbox-full` at once when the counter is at the mailbox capacity;
 * the receiver decrements it when the message leaves the mailbox. So a full mailbox is refused
 * at `send` whatever thread the receiver runs on, and nothing is dropped on arrival.
 *
 * A turn is one drain of the scheduler: storage writes made in it are committed together at its
 * end (group commit), and only then do messages leave for other threads and do replies reach the
 * host API, so nobody outside the thread sees the effects of a write that is not yet durable.
 */

import { type AuditRecord, recordInto } from '../osl/audit/audit-log.js';
import type { KeyValueStore, KvNamespace } from '../osl/kv/store.js';
import type { Resolver } from '../osl/middleware/egress-policy.js';
import type { HostPolicy } from '../osl/policy/host-policy.js';
import { createSandbox, type Sandbox } from '../osl/sandbox/sandbox.js';
import type { Ports } from '../osl/sandbox/terminal.js';
import { type ActorRef, ActorSystem, type ExitReason, type Supervisor } from '../rt/index.js';
import { AirssysError, toAirssysError } from '../shared/errors.js';
import { throttledLog } from '../shared/log-throttle.js';
import type { Component } from '../wasm/engine/engine.js';
import { type ComponentKind, checkWorld, KIND_WORLDS } from '../wasm/engine/world.js';
import { type ActorStats, newStats } from './actor-stats.js';
import { commandActor } from './command-actor.js';
import { type ActorHost, componentActor, type GuestNetwork } from './component-actor.js';
import { Deadlines } from './deadlines.js';
import {
  type Envelope,
  ERROR_CODEC,
  errorReply,
  guestError,
  HOST_ADDRESS,
  type ReplyRoute,
  tooLarge,
} from './envelope.js';
import type { ExtSender, Operation } from './ext-services.js';
import type { ActorIdentity, AuditDecision } from './host-services.js';
import { httpActor } from './http-actor.js';
import { grantsOf, listenGrantsOf, networkGrantsOf } from './permissions.js';
import { shadowHost } from './shadow.js';
import { liveNamespace } from './storage-snapshot.js';
import { SubscriptionTable } from './subscriptions.js';
import type { Span } from './trace.js';

/**
 * One instance behind an address: the node it runs on and its key there. A member on another
 * host of a cluster has `node` `REMOTE_NODE` and `key` the host's number (see `ClusterLink`).
 */
export interface Member {
  readonly node: number;
  readonly key: number;
}

/** The node index of "another host of the cluster"; the member's or route's `key` names the host. */
export const REMOTE_NODE = -1;
/** Host number meaning "every other host": where publications go. */
export const ALL_HOSTS = 0;

/** One version of the component behind an address, and its share of the traffic. */
export interface Route {
  /** The version's id (the component's content hash). */
  readonly version: string;
  readonly members: readonly Member[];
  readonly capacity: number;
  /** Percent of messages routed to this version (the weights of an address sum to 100). */
  readonly weight: number;
  /** Percent of the address's messages mirrored to this version (a shadow candidate). */
  readonly shadow?: number;
}

/** Where an address lives: usually one route; two while a deployment moves traffic. */
export interface AddressEntry {
  readonly routes: readonly Route[];
}

/** What travels between nodes, in order, over one channel per pair. */
export type NodeMessage =
  | { readonly t: 'batch'; readonly items: readonly BatchItem[] }
  | { readonly t: 'address'; readonly address: string; readonly entry: AddressEntry | null }
  /** A subscription: of an address (`address` set) or of a host-API callback on `member`. */
  | {
      readonly t: 'sub';
      readonly id: string;
      readonly pattern: string;
      readonly address?: string;
      readonly member?: Member;
    }
  | { readonly t: 'unsub'; readonly id: string }
  /** A node was replaced: its old actors' subscriptions are void. */
  | { readonly t: 'forget-node'; readonly node: number };

/**
 * `key` 0 with a `sub` id: a publication for a host-API subscription on node 0. `remote`: a
 * message for another host (`key` its number), which leaves through node 0.
 */
export interface BatchItem {
  readonly op: 'deliver' | 'reply' | 'remote';
  readonly key: number;
  readonly env: Envelope;
  readonly sub?: string;
}

export interface LogEntry {
  readonly address: string;
  /** Set on a component's own `log` calls: its name and version id. */
  readonly component?: string;
  readonly version?: string;
  readonly level: string;
  readonly message: string;
  readonly at: number;
}

export interface NodeOptions {
  readonly index: number;
  /** Depth counters of every node, indexed by node; this node's own at `index`. */
  readonly depths: readonly Int32Array[];
  readonly store: KeyValueStore | undefined;
  readonly maxMessageBytes: number;
  /** Delivers a message to another node (absent when there is only one). */
  readonly post?: (node: number, message: NodeMessage) => void;
  readonly log?: (entry: LogEntry) => void;
  /** Called when a component's supervisor gave up on it. */
  readonly onFailed?: (address: string, reason: string, version: string) => void;
  /** Receives every capability decision of this node's components. */
  readonly audit?: (record: AuditRecord) => void;
  /** How components reach files, network and processes (`airssys:ext-*`). */
  readonly osl?: NodeOsl;
  /** The span exporter: receives one span per traced message handled (absent: none recorded). */
  readonly onSpan?: (span: Span) => void;
  /**
   * The host is in a cluster: node 0 gets `toCluster`, which takes messages for other hosts;
   * the other nodes get `clustered` and hand such messages (and every publication) to node 0.
   */
  readonly toCluster?: (host: number, env: Envelope) => void;
  readonly clustered?: boolean;
}

export interface NodeOsl {
  readonly policy?: HostPolicy;
  /** Replaces the real Node ports (tests; only where the node runs on the caller's thread). */
  readonly ports?: Partial<Ports>;
  readonly resolver?: Resolver;
}

type HostCallback = (message: Envelope) => void;

interface HostWaiter {
  resolve(reply: Envelope): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

/** The instances of one version of an address on this node. */
interface LocalGroup {
  readonly supervisor: Supervisor;
  readonly keys: readonly number[];
}

const MAX_LOG_CHARS = 4096;
/** Longest chain of requests waiting on each other (A asks B, which asks C, …). */
const MAX_REQUEST_CHAIN = 32;
/** Deferred requests remembered per node before the oldest are forgotten (their requesters time out). */
const MAX_DEFERRED = 100_000;
const EMPTY = new Uint8Array(0);
/** Correlation ids of mirrored requests: a bit no node's ids use, so they never meet real ones. */
const MIRROR_BASE = 1n << 62n;
/**
 * `airssys:ext-*` operations one instance may have in flight: each holds a promise, buffers
 * and perhaps a socket or a child, so a loop of calls must meet a limit, not the host's memory.
 */
export const MAX_OPERATIONS_IN_FLIGHT = 64;

export class HostNode implements ActorHost {
  readonly index: number;
  readonly system: ActorSystem;
  private readonly depths: readonly Int32Array[];
  private readonly own: Int32Array;
  private readonly directory = new Map<string, AddressEntry>();
  /** Local instances by `address@version`: one group per start (a resize adds groups). */
  private readonly local = new Map<string, LocalGroup[]>();
  private nextGroup = 1;
  /** Deterministic weighted split: messages routed per address on this node. */
  private readonly routed = new Map<string, number>();
  private readonly mirrored = new Map<string, number>();
  /** Per route, the members `pick` chooses among (this node's, when it has any). */
  private readonly localMembers = new WeakMap<Route, readonly Member[]>();
  private readonly actors: (ActorRef | undefined)[] = [];
  private readonly statsByKey: (ActorStats | undefined)[] = [];
  private readonly freeKeys: number[] = [];
  private nextKey = 1;
  private nextCorrelation = 1n;
  private readonly correlationBase: bigint;
  /** Requests made by actors of this node that await a reply: correlation id → requester key. */
  private readonly waiting = new Map<bigint, number>();
  private readonly deadlines: Deadlines<bigint>;
  /** Requests an actor of this node deferred: correlation id → responder key and the request. */
  private readonly deferred = new Map<bigint, { key: number; request: Envelope }>();
  private readonly hostWaiters = new Map<bigint, HostWaiter>();
  private readonly hostSubs = new Map<string, HostCallback>();
  private readonly subscriptions: SubscriptionTable;
  /** This node's actors' subscriptions: actor key → subscription id → pattern. */
  private readonly subsByKey = new Map<number, Map<string, string>>();
  private nextSub = 1;
  private readonly outboxes = new Map<number, BatchItem[]>();
  private turnOpen = false;
  private turnQueued = false;
  private readonly store: KeyValueStore | undefined;
  readonly maxMessageBytes: number;
  private readonly post: ((node: number, message: NodeMessage) => void) | undefined;
  private readonly logSink: (entry: LogEntry) => void;
  private readonly onFailed: (address: string, reason: string, version: string) => void;
  private readonly auditSink: (record: AuditRecord) => void;
  readonly span: ((span: Span) => void) | undefined;
  private readonly osl: NodeOsl;
  /** One sandbox per version of an address on this node, made at its first operation. */
  private readonly sandboxes = new Map<string, Sandbox>();
  /** Operations in flight per actor key. */
  private readonly operations = new Map<number, number>();
  private readonly endTurnFn = () => this.endTurn();
  private readonly toCluster: ((host: number, env: Envelope) => void) | undefined;
  private readonly clustered: boolean;
  /** Node 0 in a cluster: messages for other hosts, handed over at the end of the turn (after the commit). */
  private readonly remoteOut: { host: number; env: Envelope }[] = [];
  /** Sends from other hosts that could not be delivered: logged once per kind and second, since other hosts decide how many. */
  private readonly clusterDrops = throttledLog((message) =>
    this.logSink({ address: HOST_ADDRESS, level: 'warn', message, at: Date.now() }),
  );

  constructor(options: NodeOptions) {
    this.index = options.index;
    this.depths = options.depths;
    this.own = options.depths[options.index];
    this.store = options.store;
    this.maxMessageBytes = options.maxMessageBytes;
    this.post = options.post;
    this.logSink = options.log ?? (() => {});
    this.onFailed = options.onFailed ?? (() => {});
    this.auditSink = options.audit ?? (() => {});
    this.span = options.onSpan;
    this.osl = options.osl ?? {};
    this.toCluster = options.toCluster;
    this.clustered = options.clustered === true || options.toCluster !== undefined;
    // Correlation ids are unique across nodes: the node index in the high bits.
    this.correlationBase = BigInt(options.index + 1) << 48n;
    this.system = new ActorSystem();
    this.deadlines = new Deadlines((id) => this.requestTimedOut(id));
    this.subscriptions = new SubscriptionTable(
      this.system.broker,
      (address, env) => this.routeTo(address, env),
      (member, env, id) => this.deliver(member, env, Number.MAX_SAFE_INTEGER, id),
    );
    this.system.onEvent((event) => {
      if (event.type === 'escalated' && event.name !== undefined) {
        // Supervisors are named `address@version`, and `address@version~n` for later groups.
        const at = event.name.lastIndexOf('@');
        const version = event.name.slice(at + 1).split('~')[0];
        this.onFailed(event.name.slice(0, at), describeReason(event.reason), version);
      }
    });
  }

  // -------------------------------------------------------------------------------------------
  // components

  /**
   * Starts `count` instances of one version of a component behind `address` on this node;
   * returns their keys. Traffic reaches them once a route names them (`setAddress`).
   */
  startMembers(
    address: string,
    version: string,
    component: Component,
    count: number,
    shadow = false,
  ): number[] {
    const group = `${address}@${version}`;
    const groups = this.local.get(group) ?? [];
    const { supervision, resources } = component.manifest;
    const kind = runnableKind(component);
    const keys: number[] = [];
    const children = [];
    for (let i = 0; i < count; i++) {
      const key = this.allocateKey();
      keys.push(key);
      const identity: ActorIdentity = {
        address,
        version,
        key,
        manifest: component.manifest,
        current: undefined,
      };
      children.push({
        id: `${group}#${i}`,
        start: actorFor(kind, shadow ? shadowHost(this) : this, component, identity),
        restart: supervision.restart,
        // The depth counter enforces the manifest's capacity; the rt mailbox only needs room
        // for replies, which are never refused.
        mailbox: { capacity: resources.mailbox + 1024 },
      });
    }
    let supervisor: Supervisor;
    try {
      supervisor = this.system.startSupervisor(
        {
          strategy: 'one-for-one',
          intensity: supervision.maxRestarts,
          period: supervision.withinSeconds * 1000,
          children,
        },
        { name: groups.length === 0 ? group : `${group}~${this.nextGroup++}` },
      );
    } catch (error) {
      for (const key of keys) this.releaseKey(key);
      throw error;
    }
    keys.forEach((key, i) => {
      this.actors[key] = supervisor.child(`${group}#${i}`);
    });
    groups.push({ supervisor, keys });
    this.local.set(group, groups);
    return keys;
  }

  /**
   * Stops one version's instances of `address` on this node (each gets its `shutdown` call):
   * all of them, or the groups (as `startMembers` started them) whose first key is in `only`.
   */
  async stopMembers(address: string, version: string, only?: readonly number[]): Promise<void> {
    const group = `${address}@${version}`;
    const groups = this.local.get(group);
    if (groups === undefined) return;
    const stopping = only === undefined ? groups : groups.filter((g) => only.includes(g.keys[0]));
    const staying = groups.filter((g) => !stopping.includes(g));
    if (staying.length === 0) this.local.delete(group);
    else this.local.set(group, staying);
    for (const entry of stopping) {
      await entry.supervisor.stop();
      for (const key of entry.keys) {
        this.dropSubscriptions(key);
        this.releaseKey(key);
      }
    }
    if (staying.length > 0) return;
    const sandbox = this.sandboxes.get(group);
    if (sandbox !== undefined) {
      this.sandboxes.delete(group);
      await sandbox.close();
    }
  }

  /** Stops everything on this node and commits the last turn. */
  async shutdown(): Promise<void> {
    for (const group of [...this.local.keys()].reverse()) {
      const at = group.lastIndexOf('@');
      await this.stopMembers(group.slice(0, at), group.slice(at + 1));
    }
    await this.system.shutdown();
    this.deadlines.clear();
    for (const waiter of this.hostWaiters.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new AirssysError('not-found', 'the host shut down before the reply arrived'));
    }
    this.hostWaiters.clear();
    this.endTurn();
  }

  /** Records where an address lives (every node keeps the whole directory). */
  setAddress(address: string, entry: AddressEntry | null): void {
    if (entry === null) this.directory.delete(address);
    else this.directory.set(address, entry);
  }

  stats(key: number): ActorStats {
    let s = this.statsByKey[key];
    if (s === undefined) {
      s = newStats();
      this.statsByKey[key] = s;
    }
    return s;
  }

  /** Counters of the local instances of one version of an address. */
  versionStats(address: string, version: string): ActorStats[] {
    return (this.local.get(`${address}@${version}`) ?? [])
      .flatMap((g) => g.keys)
      .map((k) => {
        const s = this.stats(k);
        s.mailboxDepth = Atomics.load(this.own, k);
        return s;
      });
  }

  private allocateKey(): number {
    const key = this.freeKeys.pop() ?? this.nextKey++;
    if (key >= this.own.length) {
      this.nextKey--;
      throw new AirssysError(
        'invalid-argument',
        `this scheduler thread runs ${this.own.length - 1} component instances already; raise the host's maxInstancesPerThread or add threads`,
      );
    }
    Atomics.store(this.own, key, 0);
    this.statsByKey[key] = undefined;
    return key;
  }

  private releaseKey(key: number): void {
    this.actors[key] = undefined;
    Atomics.store(this.own, key, 0);
    this.freeKeys.push(key);
  }

  // -------------------------------------------------------------------------------------------
  // routing

  /** The route a message takes: by weight, in a fixed rotation so shares are exact. */
  private chooseRoute(address: string, entry: AddressEntry, version: string | undefined): Route {
    const routes = entry.routes;
    if (version !== undefined) {
      const named = routes.find((r) => r.version === version);
      if (named === undefined) {
        throw new AirssysError('not-found', `${address} has no running version ${version}`, {
          details: { target: address, version },
        });
      }
      return named;
    }
    if (routes.length === 1 && routes[0].weight > 0) return routes[0];
    if (routes.every((r) => r.weight === 0)) {
      throw new AirssysError(
        'not-found',
        `${address} is switching versions and takes no messages for now; retry`,
        {
          details: { target: address, reason: 'paused' },
        },
      );
    }
    const n = (this.routed.get(address) ?? 0) + 1;
    this.routed.set(address, n);
    // Spread each version's share evenly over 100 messages (slots visited in steps of 37), not in a block.
    const slot = spread(n % 100);
    let sum = 0;
    for (const route of routes) {
      sum += route.weight;
      if (slot < sum) return route;
    }
    return routes[routes.length - 1];
  }

  private pick(route: Route, sender: string): Member {
    const members = route.members;
    if (members.length === 1) return members[0];
    // Sticky per sender, so messages from one sender stay in order; prefer this node's members,
    // found once per route rather than filtered on every message.
    let pool = this.localMembers.get(route);
    if (pool === undefined) {
      const here = members.filter((m) => m.node === this.index);
      pool = here.length > 0 ? here : members;
      this.localMembers.set(route, pool);
    }
    return pool[hash(sender) % pool.length];
  }

  private resolve(target: string): AddressEntry {
    const entry = this.directory.get(target);
    if (entry === undefined) {
      throw new AirssysError(
        'not-found',
        `no component at address "${target}"; start it first or check the name`,
        {
          details: { target },
        },
      );
    }
    return entry;
  }

  /** Sends one message to an address; `mailbox-full` or `not-found` are thrown to the sender. */
  private route(env: Envelope): void {
    if (env.payload.byteLength > this.maxMessageBytes) {
      throw tooLarge(env.payload.byteLength, this.maxMessageBytes, env.target);
    }
    this.routeTo(env.target, env);
  }

  private routeTo(address: string, env: Envelope): void {
    const entry = this.resolve(address);
    const route = this.chooseRoute(address, entry, env.version);
    if (route.members.length === 0) {
      throw new AirssysError('not-found', `${address} has no instances of version ${route.version}`, {
        details: { target: address },
      });
    }
    this.deliver(this.pick(route, env.sender), env, route.capacity, undefined);
    if (entry.routes.length > 1 && env.version === undefined) this.mirror(address, entry, env);
  }

  /**
   * Copies a message to the shadow versions of an address, best effort: the copy has its own
   * correlation id and no reply route, and a full shadow mailbox drops it rather than
   * pushing back on live traffic.
   */
  private mirror(address: string, entry: AddressEntry, env: Envelope): void {
    for (const route of entry.routes) {
      if (route.shadow === undefined || route.shadow === 0 || route.members.length === 0) continue;
      const n = (this.mirrored.get(address) ?? 0) + 1;
      this.mirrored.set(address, n);
      if (spread(n % 100) >= route.shadow) continue;
      const copy: Envelope = {
        ...env,
        correlationId: env.correlationId === undefined ? undefined : MIRROR_BASE | this.nextCorrelation++,
        replyTo: undefined,
        chain: undefined,
      };
      try {
        this.deliver(this.pick(route, env.sender), copy, route.capacity, undefined);
      } catch {
        // A shadow is an experiment: its full mailbox must not push back on live traffic.
      }
    }
  }

  private deliver(member: Member, env: Envelope, capacity: number, sub: string | undefined): void {
    if (member.node === REMOTE_NODE) {
      // Back-pressure across hosts is the receiving host's: it refuses a full mailbox on arrival.
      this.toRemote(member.key, env);
      return;
    }
    if (member.key === 0) {
      this.toHost(member.node, env, sub);
      return;
    }
    const depths = this.depths[member.node];
    if (Atomics.add(depths, member.key, 1) >= capacity) {
      Atomics.sub(depths, member.key, 1);
      throw new AirssysError(
        'mailbox-full',
        `the mailbox of ${env.target} is full (${capacity} messages); retry later or slow down`,
        { details: { target: env.target, capacity } },
      );
    }
    if (member.node === this.index) {
      const ref = this.actors[member.key];
      if (ref === undefined) {
        Atomics.sub(depths, member.key, 1);
        throw new AirssysError('not-found', `${env.target} stopped`, { details: { target: env.target } });
      }
      ref.tell(env);
    } else {
      this.queue(member.node, { op: 'deliver', key: member.key, env });
    }
  }

  private toHost(node: number, env: Envelope, sub: string | undefined): void {
    if (node === this.index) {
      const callback = sub === undefined ? undefined : this.hostSubs.get(sub);
      if (callback !== undefined) callback(env);
    } else {
      this.queue(node, { op: 'deliver', key: 0, env, sub });
    }
  }

  /** Hands a message for another host to node 0, which owns the cluster link. */
  private toRemote(host: number, env: Envelope): void {
    if (this.index === 0) {
      this.remoteOut.push({ host, env });
      this.scheduleTurnEnd();
    } else {
      this.queue(0, { op: 'remote', key: host, env });
    }
  }

  /**
   * Node 0: a message another host of the cluster sent here. Requests get a reply route back to
   * that host; an address this host does not run (any more) is `not-found` for the sender, never
   * forwarded again, so a stale directory cannot bounce a message between hosts.
   */
  fromCluster(host: number, env: Envelope): void {
    if (env.kind === 'reply') {
      const route = env.replyTo;
      if (route !== undefined && route.node >= 0 && route.node < this.depths.length) {
        this.routeReply(route, { ...env, replyTo: undefined });
      }
      return;
    }
    if (env.kind === 'publish') {
      if (env.payload.byteLength <= this.maxMessageBytes) this.system.broker.publish(env.target, env);
      return;
    }
    const arrived: Envelope =
      env.kind === 'request' && env.replyTo !== undefined
        ? { ...env, replyTo: { node: REMOTE_NODE, key: host, via: env.replyTo } }
        : env;
    try {
      const entry = this.directory.get(env.target);
      if (entry === undefined || entry.routes[0]?.members[0]?.node === REMOTE_NODE) {
        throw new AirssysError('not-found', `no component at address "${env.target}" on this host any more`, {
          details: { target: env.target },
        });
      }
      this.route(arrived);
    } catch (error) {
      const failure = toAirssysError(error);
      if (arrived.kind === 'request' && arrived.replyTo !== undefined) {
        this.routeReply(arrived.replyTo, errorReply(arrived, env.target, failure));
      } else {
        this.clusterDrops(
          `messages to ${env.target} from other hosts dropped (${failure.code})`,
          `message from ${env.sender} to ${env.target} (from another host) dropped: ${failure.message}`,
        );
      }
    }
  }

  private queue(node: number, item: BatchItem): void {
    let box = this.outboxes.get(node);
    if (box === undefined) {
      box = [];
      this.outboxes.set(node, box);
    }
    box.push(item);
    this.scheduleTurnEnd();
  }

  /** A message from another node. */
  receive(message: NodeMessage): void {
    switch (message.t) {
      case 'batch':
        for (const item of message.items) {
          if (item.op === 'reply') this.acceptReply(item.key, item.env);
          else if (item.op === 'remote') this.toRemote(item.key, item.env);
          else if (item.key === 0) this.toHost(this.index, item.env, item.sub);
          else this.arrive(item.key, item.env);
        }
        return;
      case 'address':
        this.setAddress(message.address, message.entry);
        return;
      case 'sub':
        if (message.address !== undefined) {
          this.subscriptions.addAddress(message.id, message.address, message.pattern);
        } else if (message.member !== undefined) {
          this.subscriptions.addCallback(message.id, message.pattern, message.member);
        }
        return;
      case 'unsub':
        this.subscriptions.drop(message.id);
        return;
      case 'forget-node':
        this.subscriptions.dropNode(message.node);
        return;
    }
  }

  /** A message for a local actor whose depth the sender already counted. */
  private arrive(key: number, env: Envelope): void {
    const ref = this.actors[key];
    if (ref === undefined) {
      Atomics.sub(this.own, key, 1);
      if (env.kind === 'request' && env.replyTo !== undefined) {
        this.routeReply(env.replyTo, errorReply(env, env.target, stoppedError(env.target)));
      }
      return;
    }
    try {
      ref.tell(env);
    } catch (error) {
      Atomics.sub(this.own, key, 1);
      if (env.kind === 'request' && env.replyTo !== undefined) {
        this.routeReply(env.replyTo, errorReply(env, env.target, error as AirssysError));
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // ActorHost: what component actors call

  dequeued(key: number): void {
    Atomics.sub(this.own, key, 1);
  }

  send(from: ActorIdentity, target: string, codec: number, payload: Uint8Array): void {
    this.route({
      kind: 'send',
      sender: from.address,
      target,
      topic: undefined,
      correlationId: undefined,
      codec,
      payload,
      trace: from.trace,
    });
  }

  request(
    from: ActorIdentity,
    target: string,
    codec: number,
    payload: Uint8Array,
    timeoutMs: number,
  ): bigint {
    if (!(timeoutMs > 0)) {
      throw new AirssysError('invalid-argument', `request timeout-ms must be > 0, got ${timeoutMs}`);
    }
    const parent = from.current;
    const chain =
      parent?.kind === 'request' ? [...(parent.chain ?? [parent.sender]), from.address] : [from.address];
    if (chain.includes(target) || chain.length > MAX_REQUEST_CHAIN) {
      throw new AirssysError(
        'messaging-error',
        `request cycle: ${[...chain, target].join(' → ')}; ${target} is already waiting on this chain of requests, so it could only be answered by a timeout — reply first, or send instead of request`,
        { blame: 'guest', details: { reason: 'request-cycle', chain: [...chain, target] } },
      );
    }
    const id = this.correlationBase | this.nextCorrelation++;
    this.route({
      kind: 'request',
      sender: from.address,
      target,
      topic: undefined,
      correlationId: id,
      codec,
      payload,
      trace: from.trace,
      replyTo: { node: this.index, key: from.key },
      chain,
    });
    this.waiting.set(id, from.key);
    this.deadlines.add(performance.now() + timeoutMs, id);
    return id;
  }

  reply(from: ActorIdentity, correlationId: bigint, codec: number, payload: Uint8Array): void {
    const found = this.deferred.get(correlationId);
    if (found === undefined || found.key !== from.key) {
      throw new AirssysError(
        'not-found',
        `no deferred request ${correlationId} to answer: it was answered already, was never deferred by this instance, or was forgotten`,
        { blame: 'guest' },
      );
    }
    this.deferred.delete(correlationId);
    this.answer(from, found.request, codec, payload);
  }

  answer(
    from: ActorIdentity,
    request: Envelope,
    codec: number,
    payload: Uint8Array,
    error?: AirssysError,
  ): void {
    if (request.replyTo === undefined) return;
    if (error === undefined && payload.byteLength > this.maxMessageBytes) {
      error = tooLarge(payload.byteLength, this.maxMessageBytes, request.sender);
    }
    const reply: Envelope =
      error !== undefined
        ? errorReply(request, from.address, error)
        : {
            kind: 'reply',
            sender: from.address,
            target: request.sender,
            topic: undefined,
            correlationId: request.correlationId,
            codec,
            payload,
          };
    this.routeReply(request.replyTo, reply);
  }

  defer(from: ActorIdentity, request: Envelope): void {
    if (request.correlationId === undefined) return;
    if (this.deferred.size >= MAX_DEFERRED) {
      const oldest = this.deferred.keys().next().value as bigint;
      this.deferred.delete(oldest);
    }
    this.deferred.set(request.correlationId, { key: from.key, request });
  }

  publish(from: ActorIdentity, topic: string, codec: number, payload: Uint8Array): void {
    this.publishEnvelope({
      kind: 'publish',
      sender: from.address,
      target: topic,
      topic,
      correlationId: undefined,
      codec,
      payload,
      trace: from.trace,
    });
  }

  subscribe(from: ActorIdentity, pattern: string): void {
    let mine = this.subsByKey.get(from.key);
    if (mine === undefined) {
      mine = new Map();
      this.subsByKey.set(from.key, mine);
    }
    for (const existing of mine.values()) if (existing === pattern) return;
    const id = `${this.index}:${this.nextSub++}`;
    this.subscriptions.addAddress(id, from.address, pattern);
    mine.set(id, pattern);
    this.broadcast({ t: 'sub', id, pattern, address: from.address });
  }

  unsubscribe(from: ActorIdentity, pattern: string): void {
    const mine = this.subsByKey.get(from.key);
    if (mine === undefined) return;
    for (const [id, subscribed] of mine) {
      if (subscribed !== pattern) continue;
      mine.delete(id);
      this.subscriptions.drop(id);
      this.broadcast({ t: 'unsub', id });
    }
  }

  namespace(from: ActorIdentity, name: string): KvNamespace {
    if (this.store === undefined) {
      throw new AirssysError(
        'storage-error',
        'this host runs without storage; give it a data directory or a store',
      );
    }
    // Namespaces belong to the component (not the version or the instance), so state survives
    // restarts and version updates, and two components never share one by choosing a name.
    const full = liveNamespace(from.manifest.component.name, name);
    const inner = this.store.namespace(full, { quotaBytes: from.manifest.permissions.storage.quotaBytes });
    return turnBound(inner, () => this.touchStore());
  }

  audit(from: ActorIdentity, decision: AuditDecision): void {
    this.auditSink({
      time: Date.now(),
      component: from.manifest.component.name,
      version: from.version,
      ...decision,
    });
  }

  operate(from: ActorIdentity, sender: ExtSender, work: Operation): bigint {
    const key = from.key;
    const inFlight = this.operations.get(key) ?? 0;
    if (inFlight >= MAX_OPERATIONS_IN_FLIGHT) {
      throw new AirssysError(
        'quota-exceeded',
        `${from.address} has ${inFlight} operations in flight, the most one instance may have; wait for their replies before starting more`,
        { blame: 'guest', details: { limit: MAX_OPERATIONS_IN_FLIGHT } },
      );
    }
    this.operations.set(key, inFlight + 1);
    const ref = this.actors[key];
    const id = this.correlationBase | this.nextCorrelation++;
    const origin: Envelope = {
      kind: 'request',
      sender: from.address,
      target: sender,
      topic: undefined,
      correlationId: id,
      codec: 0,
      payload: EMPTY,
    };
    let started: Promise<{ codec: number; payload: Uint8Array }>;
    try {
      started = work(this.sandboxOf(from), this.maxMessageBytes);
    } catch (error) {
      started = Promise.reject(error);
    }
    started
      .then(
        ({ codec, payload }) =>
          payload.byteLength > this.maxMessageBytes
            ? errorReply(origin, sender, tooLarge(payload.byteLength, this.maxMessageBytes, from.address))
            : {
                kind: 'reply' as const,
                sender,
                target: from.address,
                topic: undefined,
                correlationId: id,
                codec,
                payload,
              },
        (error) => errorReply(origin, sender, toAirssysError(error)),
      )
      .then((reply) => {
        const left = (this.operations.get(key) ?? 1) - 1;
        if (left === 0) this.operations.delete(key);
        else this.operations.set(key, left);
        // The instance that started the operation may have stopped (its key reused since): the
        // reply is for it alone.
        if (ref === undefined || this.actors[key] !== ref) return;
        Atomics.add(this.own, key, 1);
        try {
          ref.tell(reply);
        } catch {
          Atomics.sub(this.own, key, 1); // stopping: nobody left to tell
        }
      });
    return id;
  }

  network(from: ActorIdentity): GuestNetwork {
    const policy = this.osl.policy;
    const { outbound, inbound } = from.manifest.permissions.network;
    const common = {
      ...(policy?.securityMode === undefined ? {} : { securityMode: policy.securityMode }),
      ...(policy?.deny?.network === undefined ? {} : { deny: policy.deny.network }),
      component: from.manifest.component.name,
      version: from.version,
      // A refusal reaches the audit log through the instance's onDenied; the rest from here.
      onAudit: (record: AuditRecord) => {
        if (record.decision !== 'deny') this.auditSink(record);
      },
    };
    return {
      http: {
        ...common,
        network: networkGrantsOf(outbound),
        ...(policy?.maxResponseBytes === undefined ? {} : { maxResponseBodyBytes: policy.maxResponseBytes }),
      },
      sockets: { ...common, network: { ...networkGrantsOf(outbound), listen: listenGrantsOf(inbound) } },
    };
  }

  private sandboxOf(from: ActorIdentity): Sandbox {
    const group = `${from.address}@${from.version}`;
    let sandbox = this.sandboxes.get(group);
    if (sandbox === undefined) {
      sandbox = createSandbox({
        component: from.manifest.component.name,
        version: from.version,
        grants: grantsOf(from.manifest),
        policy: this.osl.policy,
        audit: recordInto(this.auditSink),
        ports: this.osl.ports,
        resolver: this.osl.resolver,
      });
      this.sandboxes.set(group, sandbox);
    }
    return sandbox;
  }

  log(from: ActorIdentity, level: string, message: string): void {
    this.logSink({
      address: from.address,
      component: from.manifest.component.name,
      version: from.version,
      level,
      message: message.length > MAX_LOG_CHARS ? `${message.slice(0, MAX_LOG_CHARS)}…` : message,
      at: Date.now(),
    });
  }

  // -------------------------------------------------------------------------------------------
  // host API (node 0)

  hostSend(target: string, codec: number, payload: Uint8Array, trace?: string): void {
    this.route({
      kind: 'send',
      sender: HOST_ADDRESS,
      target,
      topic: undefined,
      correlationId: undefined,
      codec,
      payload,
      trace,
    });
  }

  hostRequest(
    target: string,
    codec: number,
    payload: Uint8Array,
    timeoutMs: number,
    probe?: 'health' | 'migrate',
    version?: string,
    trace?: string,
  ): Promise<Envelope> {
    const id = this.correlationBase | this.nextCorrelation++;
    return new Promise<Envelope>((resolve, reject) => {
      this.route({
        probe,
        version,
        kind: 'request',
        sender: HOST_ADDRESS,
        target,
        topic: undefined,
        correlationId: id,
        codec,
        payload,
        replyTo: { node: this.index, key: 0 },
        chain: [HOST_ADDRESS],
        trace,
      });
      const timer = setTimeout(() => {
        if (!this.hostWaiters.delete(id)) return;
        reject(
          new AirssysError('timeout', `${target} did not reply within ${timeoutMs} ms`, {
            details: { target, timeoutMs },
          }),
        );
      }, timeoutMs);
      this.hostWaiters.set(id, { resolve, reject, timer });
    });
  }

  hostPublish(topic: string, codec: number, payload: Uint8Array, trace?: string): void {
    this.publishEnvelope({
      kind: 'publish',
      sender: HOST_ADDRESS,
      target: topic,
      topic,
      correlationId: undefined,
      codec,
      payload,
      trace,
    });
  }

  hostSubscribe(pattern: string, callback: HostCallback): () => void {
    const id = `${this.index}:${this.nextSub++}`;
    const member = { node: this.index, key: 0 };
    this.subscriptions.addCallback(id, pattern, member);
    this.hostSubs.set(id, callback);
    this.broadcast({ t: 'sub', id, pattern, member });
    return () => {
      if (!this.hostSubs.delete(id)) return;
      this.subscriptions.drop(id);
      this.broadcast({ t: 'unsub', id });
    };
  }

  // -------------------------------------------------------------------------------------------
  // internals

  private publishEnvelope(env: Envelope): void {
    if (env.payload.byteLength > this.maxMessageBytes) {
      throw tooLarge(env.payload.byteLength, this.maxMessageBytes, env.target);
    }
    this.system.broker.publish(env.target, env);
    if (this.clustered) this.toRemote(ALL_HOSTS, env);
  }

  private dropSubscriptions(key: number): void {
    const mine = this.subsByKey.get(key);
    if (mine === undefined) return;
    this.subsByKey.delete(key);
    for (const id of mine.keys()) {
      this.subscriptions.drop(id);
      this.broadcast({ t: 'unsub', id });
    }
  }

  private broadcast(message: NodeMessage): void {
    if (this.post === undefined) return;
    for (let node = 0; node < this.depths.length; node++) if (node !== this.index) this.post(node, message);
  }

  private routeReply(route: ReplyRoute, reply: Envelope): void {
    if (route.node === REMOTE_NODE) this.toRemote(route.key, { ...reply, replyTo: route.via });
    else if (route.node === this.index) this.acceptReply(route.key, reply);
    else this.queue(route.node, { op: 'reply', key: route.key, env: reply });
  }

  private acceptReply(key: number, reply: Envelope): void {
    const id = reply.correlationId;
    if (id === undefined) return;
    if (key === 0) {
      const waiter = this.hostWaiters.get(id);
      if (waiter === undefined) return; // the host stopped waiting (timeout)
      this.hostWaiters.delete(id);
      clearTimeout(waiter.timer);
      // Settled at the end of the turn, after the storage commit: a reply promises durability.
      this.afterCommit.push(() => {
        const error = replyError(reply);
        if (error !== undefined) waiter.reject(error);
        else waiter.resolve(reply);
      });
      this.scheduleTurnEnd();
      return;
    }
    if (!this.waiting.delete(id)) return; // late: the requester got its timeout already
    const ref = this.actors[key];
    if (ref === undefined) return;
    Atomics.add(this.own, key, 1);
    try {
      ref.tell(reply);
    } catch (error) {
      Atomics.sub(this.own, key, 1);
      this.logSink({
        address: reply.target,
        level: 'error',
        message: `reply ${id} lost: ${(error as Error).message}`,
        at: Date.now(),
      });
    }
  }

  private requestTimedOut(id: bigint): void {
    const key = this.waiting.get(id);
    if (key === undefined) return;
    const reply = errorReply(
      {
        kind: 'request',
        sender: '',
        target: '',
        topic: undefined,
        correlationId: id,
        codec: 0,
        payload: EMPTY,
      },
      HOST_ADDRESS,
      new AirssysError('timeout', `request ${id} got no reply in time`),
    );
    this.acceptReply(key, reply);
  }

  private readonly afterCommit: (() => void)[] = [];

  private touchStore(): void {
    if (this.turnOpen || this.store === undefined) return;
    this.store.beginTurn();
    this.turnOpen = true;
    this.scheduleTurnEnd();
  }

  private scheduleTurnEnd(): void {
    if (this.turnQueued) return;
    this.turnQueued = true;
    queueMicrotask(this.endTurnFn);
  }

  private endTurn(): void {
    this.turnQueued = false;
    if (this.turnOpen) {
      this.turnOpen = false;
      try {
        this.store!.endTurn();
      } catch (error) {
        this.logSink({
          address: HOST_ADDRESS,
          level: 'error',
          message: `storage commit failed, the turn's writes were rolled back: ${(error as Error).message}`,
          at: Date.now(),
        });
      }
    }
    if (this.post !== undefined && this.outboxes.size > 0) {
      for (const [node, items] of this.outboxes) this.post(node, { t: 'batch', items });
      this.outboxes.clear();
    }
    if (this.remoteOut.length > 0 && this.toCluster !== undefined) {
      for (const { host, env } of this.remoteOut.splice(0)) this.toCluster(host, env);
    }
    if (this.afterCommit.length > 0) {
      const settle = this.afterCommit.splice(0);
      for (const fn of settle) fn();
    }
  }
}

/** The error a reply carries: set by the host, or forwarded by a component in the error codec. */
function replyError(reply: Envelope): AirssysError | undefined {
  if (reply.error !== undefined)
    return new AirssysError(reply.error.code, reply.error.message, { blame: 'guest' });
  if (reply.codec !== ERROR_CODEC) return undefined;
  try {
    const body = JSON.parse(new TextDecoder().decode(reply.payload)) as { code?: unknown; message?: unknown };
    return guestError(reply.sender, body.code, body.message);
  } catch {
    return new AirssysError(
      'messaging-error',
      `${reply.sender} replied in the error codec with a malformed body`,
      {
        blame: 'guest',
      },
    );
  }
}

/** 0..99 → 0..99, neighbours far apart: a 10 % share is every tenth message, not ten in a row. */
function spread(n: number): number {
  return (n * 37) % 100;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

function stoppedError(address: string): AirssysError {
  return new AirssysError('not-found', `${address} stopped before it could take the message`, {
    details: { target: address },
  });
}

function describeReason(reason: ExitReason): string {
  if (reason.kind !== 'error') return reason.kind;
  return reason.error instanceof Error ? reason.error.message : String(reason.error);
}

/** A namespace whose writes open the node's storage turn first (reads need no turn). */
function turnBound(inner: KvNamespace, touch: () => void): KvNamespace {
  return {
    name: inner.name,
    get: (key) => inner.get(key),
    set: (key, value) => {
      touch();
      inner.set(key, value);
    },
    delete: (key) => {
      touch();
      return inner.delete(key);
    },
    listPrefix: (prefix, options) => inner.listPrefix(prefix, options),
    increment: (key, delta) => {
      touch();
      return inner.increment(key, delta);
    },
    compareAndSet: (key, expected, value) => {
      touch();
      return inner.compareAndSet(key, expected, value);
    },
    usage: () => inner.usage(),
  };
}

/** The kind of actor a component runs as; `invalid-component` when it is none the host runs. */
function runnableKind(component: Component): ComponentKind {
  const kind = checkWorld(component);
  if (kind !== undefined) return kind;
  const exports = component.plan.exports.map((e) => e.name).join(', ') || 'nothing';
  throw new AirssysError(
    'invalid-component',
    `${component.name} is not a component the host can run: it exports ${exports}, but a host runs ${Object.values(KIND_WORLDS).join(', ')} components (see docs/host.md)`,
    { blame: 'guest', details: { exports: component.plan.exports.map((e) => e.name) } },
  );
}

function actorFor(kind: ComponentKind, host: ActorHost, component: Component, identity: ActorIdentity) {
  if (kind === 'http') return httpActor(host, component, identity);
  if (kind === 'command') return commandActor(host, component, identity);
  return componentActor(host, component, identity);
}
