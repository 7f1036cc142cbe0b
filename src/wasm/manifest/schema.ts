/**
 * The resolved `Component.toml` manifest (SPEC §3): every field validated, every default applied,
 * sizes in bytes, the wasm path absolute. Values returned by `parseManifest` / `loadManifest` are
 * deeply frozen.
 */

export type RestartPolicy = 'permanent' | 'transient' | 'temporary';

export const RESTART_POLICIES: readonly RestartPolicy[] = Object.freeze([
  'permanent',
  'transient',
  'temporary',
]);

export interface ComponentSection {
  /** `[a-z][a-z0-9-]*`, at most 64 characters. */
  readonly name: string;
  /** A strict semantic version (`MAJOR.MINOR.PATCH[-pre][+build]`). */
  readonly version: string;
  readonly description?: string;
  /** Absolute path of the component binary, resolved against the manifest's folder. */
  readonly wasm: string;
  /** WIT world, e.g. `airssys:core/component@1.0.0`; checked only when the host knows it. */
  readonly world?: string;
}

export interface Resources {
  /** Linear memory limit in bytes (required; within the host policy's range). */
  readonly memoryBytes: number;
  /** Fuel (metered instructions) per invocation. */
  readonly fuel: number;
  /** Wall-clock budget per invocation, in milliseconds. */
  readonly timeoutMs: number;
  /** Bounded mailbox capacity, in messages. */
  readonly mailbox: number;
}

/** Every list empty means nothing is granted: deny by default. */
export interface Permissions {
  /** Absolute path globs (`*`, `?`, `[...]`, `{a,b}`, `**` as a whole segment). */
  readonly filesystem: { readonly read: readonly string[]; readonly write: readonly string[] };
  /** `host[:port]` patterns; host is a DNS name (optionally `*.`-prefixed), IP, `[IPv6]` or `*`; no port = any port. Hosts are lower-cased. */
  readonly network: { readonly outbound: readonly string[]; readonly inbound: readonly string[] };
  /** Key-value namespaces (`[a-z][a-z0-9-_.]*`) and the quota of each of them, in bytes. */
  readonly storage: { readonly namespaces: readonly string[]; readonly quotaBytes: number };
  /** Absolute paths (or globs) of executables the component may spawn. */
  readonly process: { readonly spawn: readonly string[] };
  /** Topic patterns: dot-separated segments, `*` = one segment, `>` = the rest (last only). */
  readonly messaging: { readonly send: readonly string[]; readonly subscribe: readonly string[] };
  /** Host-defined capabilities: capability name → patterns, meaning defined by the host. Empty when not declared. */
  readonly custom: Readonly<Record<string, readonly string[]>>;
}

export interface Supervision {
  readonly restart: RestartPolicy;
  /** Restarts allowed within `withinSeconds` before the supervisor gives up (0 = never restart). */
  readonly maxRestarts: number;
  readonly withinSeconds: number;
}

/**
 * `[http]`: where the daemon serves a `wasi:http/proxy` component (the `incoming-handler`
 * export), on the host's HTTP listener. Empty `routes`: served by nothing but `airssys-wasm serve`.
 */
export interface HttpSection {
  /** `/exact` or `/prefix/...` paths; the longest matching route of all deployed components wins. */
  readonly routes: readonly string[];
  /** Largest request body the host reads for the component; larger requests get 413. */
  readonly maxBodyBytes: number;
  /**
   * Keep an instance for the next request after one it answered in full, instead of a fresh
   * instance per request (faster; requests then share the guest's memory).
   */
  readonly reuseInstance: boolean;
}

export interface ManifestSource {
  /** Absolute path of the manifest file, when it came from one. */
  readonly path: string | undefined;
  /** sha256 (lower-case hex) of the manifest text, UTF-8 encoded. */
  readonly digest: string;
}

export interface Manifest {
  readonly component: ComponentSection;
  readonly resources: Resources;
  readonly permissions: Permissions;
  readonly supervision: Supervision;
  readonly http: HttpSection;
  /** String pairs handed to the component's `init`. */
  readonly config: Readonly<Record<string, string>>;
  readonly source: ManifestSource;
}

/** Fuel per invocation when `[resources] fuel` is absent (capped at the policy's `maxFuel`). */
export const DEFAULT_FUEL = 50_000_000;
/** `timeout-ms` when absent (capped at the policy's `maxTimeoutMs`). */
export const DEFAULT_TIMEOUT_MS = 1_000;
/** `mailbox` when absent (capped at the policy's `maxMailbox`). */
export const DEFAULT_MAILBOX = 1_024;
/** `[permissions] storage.quota` when absent. */
export const DEFAULT_STORAGE_QUOTA_BYTES = 1024 * 1024;
/** `[supervision]` defaults (the same as Elixir's `Supervisor`: 3 restarts within 5 seconds). */
export const DEFAULT_SUPERVISION: Supervision = Object.freeze({
  restart: 'permanent',
  maxRestarts: 3,
  withinSeconds: 5,
});
/** `[http] max-body` when absent. */
export const DEFAULT_HTTP_MAX_BODY_BYTES = 1024 * 1024;
/** The largest `[http] max-body`: request bodies are read whole before the guest runs. */
export const MAX_HTTP_BODY_BYTES = 64 * 1024 * 1024;
/** The manifest's file name inside a component folder. */
export const MANIFEST_FILE_NAME = 'Component.toml';
/** Largest manifest accepted, in bytes of text. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
