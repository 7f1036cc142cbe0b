/**
 * `airssys-wasm/host`: components as supervised actors on scheduler threads, talking by
 * messages, keeping state in a per-component key-value store (SPEC §4, §5).
 */

import '../shared/require-supported-node.js';

export {
  type ActorStats,
  FUEL_BUCKETS,
  FUEL_SAMPLE,
  type Histogram,
  LATENCY_BUCKETS_US,
} from './actor-stats.js';
export {
  type BorshSchema,
  CODECS,
  type CodecName,
  codecCode,
  codecName,
  decodePayload,
  encodePayload,
} from './codec.js';
export { LIFECYCLE, MIGRATION } from './component-actor.js';
export { DEFAULT_MAX_MESSAGE_BYTES, ERROR_CODEC, HOST_ADDRESS, type MessageKind } from './envelope.js';
export { FRAMED_CODEC, unframe } from './ext-services.js';
export {
  ComponentHost,
  type ComponentHostOptions,
  type ReceivedMessage,
  type RequestOptions,
  type SendOptions,
  type StartOptions,
  type VersionStatus,
  versionId,
  versionIdOf,
} from './host.js';
export { HOST_SERVICES } from './host-services.js';
export type { LogEntry } from './node.js';
export { permissionDiff, suggestPermissions } from './permissions.js';
export { formatTraceparent, parseTraceparent, type Span } from './trace.js';
