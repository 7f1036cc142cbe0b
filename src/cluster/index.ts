/**
 * `cluster`: several hosts as one over NATS (SPEC §9) — the message link, heartbeats, the shared
 * deployments in JetStream and the placement every host computes. See docs/cluster.md.
 */

import '../shared/require-supported-node.js';

export { type AddressProgress, ClusterAgent } from './agent.js';
export {
  Cluster,
  type ClusterDeployRequest,
  type ClusterHostStatus,
  type ClusterOptions,
  type ClusterStatus,
  readClusterKey,
} from './cluster.js';
export { type ClusterDeployment, ClusterDeployments, type RolloutKind } from './cluster-deployments.js';
export {
  decodeFrame,
  encodeFrame,
  type Frame,
  type FrameHeader,
  FrameWriter,
  MIN_CLUSTER_KEY_BYTES,
} from './frame.js';
export { type AddressReport, type Heartbeat, Membership } from './membership.js';
export { type LinkStats, NatsClusterLink } from './nats-link.js';
export {
  type Placement,
  type PlacementHost,
  type PlacementRequest,
  place,
  rolloutOrder,
} from './placement.js';
export { type ReplicatedEntry, SHIP_MS, StateReplicator } from './state-replication.js';
