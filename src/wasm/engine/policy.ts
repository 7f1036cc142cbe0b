/**
 * Host policy: the limits an operator sets for every component this host loads, checked before
 * anything is compiled. A manifest may ask for less than the policy allows, never more.
 */

export interface BinaryCaps {
  /** Largest component (or core module) binary accepted, in bytes. */
  maxBinaryBytes: number;
  /** Most core modules inside one component. */
  maxCoreModules: number;
  /** Most functions (imported + defined) per core module. */
  maxFunctions: number;
  /** Most imports per core module, and per component. */
  maxImports: number;
  /** Most exports per core module, and per component. */
  maxExports: number;
  /** Most locals (params excluded) declared by one function. */
  maxLocals: number;
  /** Most parameters of one function type. */
  maxParams: number;
}

export interface HostPolicy {
  /** Smallest `[resources] memory` a manifest may declare, in bytes. */
  minMemoryBytes: number;
  /** Largest `[resources] memory` a manifest may declare, in bytes. */
  maxMemoryBytes: number;
  /** Largest `fuel` per invocation a manifest may declare. */
  maxFuel: number;
  /** Largest `timeout-ms` a manifest may declare. */
  maxTimeoutMs: number;
  /** Largest `mailbox` a manifest may declare. */
  maxMailbox: number;
  caps: BinaryCaps;
}

export const DEFAULT_BINARY_CAPS: Readonly<BinaryCaps> = Object.freeze({
  maxBinaryBytes: 64 * 1024 * 1024,
  maxCoreModules: 64,
  maxFunctions: 100_000,
  maxImports: 10_000,
  maxExports: 10_000,
  maxLocals: 50_000,
  maxParams: 1_000,
});

export const DEFAULT_HOST_POLICY: Readonly<HostPolicy> = Object.freeze({
  minMemoryBytes: 512 * 1024,
  maxMemoryBytes: 4 * 1024 * 1024,
  maxFuel: Number.MAX_SAFE_INTEGER,
  maxTimeoutMs: 10 * 60 * 1000,
  maxMailbox: 1_000_000,
  caps: DEFAULT_BINARY_CAPS,
});

/** Merges a partial policy over the defaults. */
export function resolvePolicy(
  partial: Partial<Omit<HostPolicy, 'caps'>> & { caps?: Partial<BinaryCaps> } = {},
): HostPolicy {
  return {
    ...DEFAULT_HOST_POLICY,
    ...partial,
    caps: { ...DEFAULT_BINARY_CAPS, ...partial.caps },
  };
}
