/**
 * `airssys-wasm/rt`: an Erlang/OTP-style actor runtime (SPEC §1). Actors with bounded mailboxes
 * and location-transparent refs, supervisors (one-for-one, one-for-all, rest-for-one, restart
 * intensity, backoff), a topic broker, a name registry and lifecycle events. Knows nothing of
 * WebAssembly.
 */

import '../shared/require-supported-node.js';

export {
  type ActorBehavior,
  type ActorContext,
  type BehaviorSource,
  type DownSignal,
  type ExitReason,
  type ExitSignal,
  isAbnormal,
  KILLED,
  NORMAL,
  SHUTDOWN,
  type Shutdown,
  type SpawnOptions,
} from './actor.js';
export { ActorRef } from './actor-ref.js';
export { Broker, type Publication, type Subscription, type TopicCallback } from './broker.js';
export {
  type BackoffOptions,
  type ChildSpec,
  RESTART_TYPES,
  type RestartType,
  STRATEGIES,
  type Strategy,
  type SupervisorSpec,
  type ValidChildSpec,
  type ValidSupervisorSpec,
  validateSupervisorSpec,
} from './child-spec.js';
export type { LifecycleEvent, LifecycleListener } from './events.js';
export { LocalTransport } from './local-transport.js';
export { DEFAULT_MAILBOX_CAPACITY, type MailboxOptions, type OverflowPolicy } from './mailbox.js';
export { RestartWindow } from './restart-window.js';
export type { SchedulerOptions } from './scheduler.js';
export { type ChildInfo, Supervisor } from './supervisor.js';
export { ActorSystem, type ActorSystemOptions } from './system.js';
export { parsePattern, parseTopic, topicMatches } from './topic.js';
export { type AskOptions, DEFAULT_ASK_TIMEOUT_MS, type Transport } from './transport.js';
