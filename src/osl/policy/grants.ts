/**
 * Capability grants: the `[permissions]` a manifest asked for and the host accepted (SPEC §3),
 * compiled once at load into the allow-lists the guards consult on every call (Spin's
 * "validate and prepare at load, hand each instance its prepared state").
 *
 * The wasm layer maps its Manifest onto `Grants`; osl knows nothing of manifests.
 */

import { AirssysError } from '../../shared/errors.js';
import { compileGlob, type Glob } from './glob.js';
import { compileHostPattern, type HostPattern } from './host-pattern.js';
import { type HostPolicy, SECURITY_MODES, type SecurityMode } from './host-policy.js';
import { type Cidr, parseCidr, parseIp } from './ip.js';
import { rememberDecisionsFor } from './path-decisions.js';

/** What one component may touch. Everything absent is denied. */
export interface Grants {
  filesystem?: {
    /** Path globs the component may read (`*` one segment, `**` any depth). */
    read?: readonly string[];
    /** Path globs the component may create, write, truncate, rename and remove. */
    write?: readonly string[];
    /** Globs refused even when `read`/`write` match: deny beats allow. */
    deny?: readonly string[];
  };
  network?: {
    /** `host[:port]` patterns; `*.` for subdomains, `:*` for any port, no port = 80 and 443. */
    outbound?: readonly string[];
    /**
     * Special-purpose addresses (loopback, private, link-local) this component may connect to
     * after DNS resolution, as CIDRs or single addresses. The metadata service needs its exact
     * address here (`169.254.169.254`), never a wider range.
     */
    addresses?: readonly string[];
    /**
     * `address:port` patterns a component may bind and listen on (`wasi:sockets`): IP
     * literals only, `:*` for any port (an ephemeral port 0 needs it). None: no listening.
     */
    listen?: readonly string[];
  };
  process?: {
    /** Absolute paths of executables the component may spawn (compared by real path). */
    spawn?: readonly string[];
    /** Environment variable names the component may set on a child; all others are refused. */
    env?: readonly string[];
  };
}

/**
 * Grants and host policy, compiled. Frozen, rule lists included; share it between calls. Path
 * checks against it are memoised (path-decisions.ts), which is sound only because it is frozen.
 */
export interface Capabilities {
  readonly mode: SecurityMode;
  readonly fsRead: readonly Glob[];
  readonly fsWrite: readonly Glob[];
  /** Grant deny rules and host deny rules together. */
  readonly fsDeny: readonly Glob[];
  readonly outbound: readonly HostPattern[];
  readonly netDeny: readonly HostPattern[];
  readonly addresses: readonly Cidr[];
  readonly listen: readonly HostPattern[];
  readonly spawn: readonly string[];
  readonly env: ReadonlySet<string>;
}

/**
 * Validates and compiles grants against the host policy. A malformed pattern is an
 * `invalid-argument` naming the field, raised at load rather than at first use.
 *
 * @example
 * const caps = compileCapabilities(
 *   { filesystem: { read: ['/data/in/**'] }, network: { outbound: ['api.example.com:443'] } },
 *   { securityMode: 'strict' },
 * );
 */
export function compileCapabilities(grants: Grants, policy: HostPolicy = {}): Capabilities {
  const mode = policy.securityMode ?? 'strict';
  if (!SECURITY_MODES.includes(mode)) {
    throw new AirssysError('invalid-argument', `security-mode must be one of ${SECURITY_MODES.join(', ')}`, {
      details: { field: 'security-mode', value: mode },
    });
  }
  const fs = grants.filesystem ?? {};
  const net = grants.network ?? {};
  const proc = grants.process ?? {};
  const caps: Capabilities = Object.freeze({
    mode,
    fsRead: each('filesystem.read', fs.read, (s) => compileGlob(s)),
    fsWrite: each('filesystem.write', fs.write, (s) => compileGlob(s)),
    fsDeny: Object.freeze([
      ...each('filesystem.deny', fs.deny, (s) => compileGlob(s, { dot: true })),
      ...each('policy.deny.filesystem', policy.deny?.filesystem, (s) => compileGlob(s, { dot: true })),
    ]),
    outbound: each('network.outbound', net.outbound, compileHostPattern),
    netDeny: each('policy.deny.network', policy.deny?.network, compileHostPattern),
    addresses: each('network.addresses', net.addresses, (s) => {
      const cidr = parseCidr(s);
      if (!cidr) throw new TypeError(`not an address or CIDR: ${JSON.stringify(s)}`);
      return cidr;
    }),
    listen: each('network.listen', net.listen, (s) => {
      const pattern = compileHostPattern(s);
      if (pattern.wildcard || parseIp(pattern.host) === undefined)
        throw new TypeError(`not an address:port: ${JSON.stringify(s)}`);
      return pattern;
    }),
    spawn: each('process.spawn', proc.spawn, (s) => {
      if (!s.startsWith('/') || s.includes('\0')) throw new TypeError(`not an absolute path: ${s}`);
      return s;
    }),
    env: new Set(each('process.env', proc.env, (s) => s)),
  });
  rememberDecisionsFor(caps);
  return caps;
}

/** Compiles every item of a grant list; the result is frozen. */
function each<T>(
  field: string,
  list: readonly string[] | undefined,
  compile: (s: string) => T,
): readonly T[] {
  if (list === undefined) return Object.freeze([]);
  if (!Array.isArray(list)) throw new AirssysError('invalid-argument', `${field} must be a list of strings`);
  const compiled = list.map((item, i) => {
    if (typeof item !== 'string') {
      throw new AirssysError('invalid-argument', `${field}[${i}] must be a string`, { details: { field } });
    }
    try {
      return compile(item);
    } catch (error) {
      throw new AirssysError('invalid-argument', `${field}[${i}]: ${(error as Error).message}`, {
        cause: error,
        details: { field, value: item },
      });
    }
  });
  return Object.freeze(compiled);
}
