/**
 * `osl`: the only code that touches files, network and processes (SPEC §1). Three ports with a
 * real (Node) and an in-memory implementation each; a guard chain in front of them (path guard,
 * egress policy, process guard, quota) with the audit step around it; capability grants, host
 * policy and operator access control. Knows nothing of WebAssembly. See docs/security.md.
 */

import '../shared/require-supported-node.js';

export type { AuditLog, AuditQuery, AuditRecord, Decision } from './audit/audit-log.js';
export { MemoryAuditLog } from './audit/memory-audit-log.js';
export { SqliteAuditLog, type SqliteAuditLogOptions } from './audit/sqlite-audit-log.js';
export { MemoryKeyValueStore } from './kv/memory-store.js';
export { SqliteKeyValueStore, type SqliteKeyValueStoreOptions } from './kv/sqlite-store.js';
export {
  DEFAULT_NAMESPACE_LIMITS,
  type KeyValueStore,
  type KvNamespace,
  type ListOptions,
  type ListPage,
  type NamespaceLimits,
  type Usage,
} from './kv/store.js';
export { MemoryFileSystem } from './memory/memory-file-system.js';
export {
  type MemoryHttpHandler,
  type MemoryHttpReply,
  MemoryNetwork,
  type MemoryTcpHandler,
} from './memory/memory-network.js';
export { type FakeOutcome, type FakeProgram, type FakeRun, MemoryProcess } from './memory/memory-process.js';
export { auditStep } from './middleware/audit-step.js';
export { compose, type Middleware, type Next, type Terminal } from './middleware/compose.js';
export {
  type EgressOptions,
  egressPolicy,
  type Resolver,
  systemResolver,
} from './middleware/egress-policy.js';
export { accessOf, pathGuard } from './middleware/path-guard.js';
export { processGuard } from './middleware/process-guard.js';
export { QuotaCounters, quotaGuard } from './middleware/quota.js';
export { NodeFileSystem, type NodeFileSystemOptions } from './node/node-file-system.js';
export { NodeNetwork } from './node/node-network.js';
export { NodeProcess } from './node/node-process.js';
export type { Operation, OperationContext, OperationKind } from './operation.js';
export { compileGlob, type Glob, type GlobOptions } from './policy/glob.js';
export { type Capabilities, compileCapabilities, type Grants } from './policy/grants.js';
export { compileHostPattern, type HostPattern } from './policy/host-pattern.js';
export {
  DEFAULT_MAX_REDIRECTS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_QUOTA,
  type HostPolicy,
  type QuotaLimits,
  SECURITY_MODES,
  type SecurityMode,
} from './policy/host-policy.js';
export { type AddressClass, classifyIp, parseIp } from './policy/ip.js';
export { type Access, checkPath, type PathGrant } from './policy/path-check.js';
export { type AccessRules, OperatorAcl } from './policy/rbac.js';
export type {
  DirEntry,
  EntryType,
  FileHandle,
  FileStat,
  FileSystem,
  Location,
  OpenMode,
} from './ports/file-system.js';
export type {
  ExchangeOptions,
  HttpRequest,
  HttpResponse,
  Lookup,
  Network,
  ResolvedAddress,
  TcpConnection,
} from './ports/network.js';
export type { Process, SpawnRequest, SpawnResult } from './ports/process.js';
export { createSandbox, type Sandbox, type SandboxOptions } from './sandbox/sandbox.js';
export { SandboxFileHandle, SandboxFileSystem } from './sandbox/sandbox-file-system.js';
export { type FetchInit, SandboxNetwork } from './sandbox/sandbox-network.js';
export { SandboxProcess, type SpawnOptions } from './sandbox/sandbox-process.js';
