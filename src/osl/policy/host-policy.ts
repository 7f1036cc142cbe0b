/**
 * The host's side of every decision: the security mode, host-wide deny rules that no manifest
 * can override, and the default per-component quotas.
 *
 * - `strict` (the default): only what grants allow; special addresses (loopback, private,
 *   link-local, metadata) only through an explicit address grant.
 * - `permissive`: grants still apply, but a granted host may resolve to loopback or private
 *   addresses (a LAN or a developer box). The metadata service stays refused.
 * - `development`: an operation the grants do not cover is allowed and audited with the reason
 *   it would have been denied — the record learn mode reads. Malformed input, escapes beneath a
 *   root, host deny rules and quotas are enforced in every mode.
 */

export const SECURITY_MODES = ['strict', 'permissive', 'development'] as const;
export type SecurityMode = (typeof SECURITY_MODES)[number];

export interface QuotaLimits {
  /** Files open at once. */
  openFiles?: number;
  /** TCP connections and in-flight HTTP requests at once. */
  sockets?: number;
  /** Total bytes read from files over the component's life. */
  bytesRead?: number;
  /** Total bytes written to files over the component's life. */
  bytesWritten?: number;
}

export interface HostPolicy {
  securityMode?: SecurityMode;
  /** Host-wide deny rules: they beat every grant. */
  deny?: {
    filesystem?: readonly string[];
    network?: readonly string[];
  };
  /** Defaults for components whose sandbox does not set its own. */
  quota?: QuotaLimits;
  /** Largest HTTP response body a guest may receive (bytes). */
  maxResponseBytes?: number;
  /** Redirect hops followed before giving up. */
  maxRedirects?: number;
}

/** Documented defaults; chosen so a well-behaved plugin never meets them. */
export const DEFAULT_QUOTA: Required<QuotaLimits> = {
  openFiles: 64,
  sockets: 16,
  bytesRead: 1024 * 1024 * 1024,
  bytesWritten: 256 * 1024 * 1024,
};

export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_REDIRECTS = 5;
