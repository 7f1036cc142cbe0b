/**
 * `deploy`: installed versions (the registry), signatures and trust levels, the lifecycle state
 * machine, semver order, deployment strategies as pure functions and the reconciler that applies
 * them (SPEC §6). See docs/deploy.md and docs/signing.md.
 */

import '../shared/require-supported-node.js';

export { type AddressStatus, Deployer, type DeployerOptions, type DeployOptions } from './deployer.js';
export { type DeploymentRecord, DeploymentStore } from './deployment-store.js';
export { installFromArchive, isArchive } from './install-archive.js';
export { installFromUrl } from './install-url.js';
export {
  isLegalTransition,
  isLifecycleState,
  LIFECYCLE_STATES,
  Lifecycle,
  type LifecycleEvent,
  type LifecycleListener,
  type LifecycleOptions,
  type LifecycleState,
  legalPath,
  TRANSITIONS,
} from './lifecycle.js';
export {
  type DeploymentOutcome,
  type DeployRequest,
  Reconciler,
  type ReconcilerOptions,
} from './reconciler.js';
export {
  ComponentRegistry,
  type InstallRequest,
  type InstallSource,
  type ListFilter,
  type RegistryOptions,
  type RetainOptions,
  SOURCE_KINDS,
  type SourceKind,
  type VersionRecord,
} from './registry.js';
export { compareSemver, isValidSemver, parseSemver, type Semver, tryParseSemver } from './semver.js';
export {
  type ComponentFiles,
  generateKeyPair,
  keyFingerprint,
  loadTrustOptions,
  parseTrustLevel,
  readComponentFolder,
  readSignatureFile,
  SIGNATURE_FILE_NAME,
  type SignedVersion,
  signComponent,
  signingPayload,
  TRUST_LEVELS,
  type TrustLevel,
  verifyComponent,
  writeSignatureFile,
} from './signing.js';
export {
  isFinal,
  judgeCanary,
  plan,
  type RollbackRequest,
  rollbackDesired,
  type Verdict,
} from './strategies/index.js';
export type { Command, Desired, Observed, StrategySpec, VersionObservation } from './strategies/types.js';
