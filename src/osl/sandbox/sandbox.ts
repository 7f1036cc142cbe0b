/**
 * The osl composition root for one component: its compiled capabilities, its quota counters
 * and one guard chain in front of all three ports, exposed as guest-shaped APIs (`fs`, `net`,
 * `process`) that take the guest's raw input. Nothing here is wasm-specific; the wasm layer
 * calls these from its WIT and WASI host functions.
 *
 * Chain order: audit → path guard → egress policy → process guard → (extra guards) → quota →
 * port. Audit is outermost so every outcome is recorded; quota is innermost so a request a guard
 * refused never consumes budget.
 */

import { toAirssysError } from '../../shared/errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import { auditStep } from '../middleware/audit-step.js';
import { compose, type Middleware } from '../middleware/compose.js';
import { egressPolicy, type Resolver } from '../middleware/egress-policy.js';
import { pathGuard } from '../middleware/path-guard.js';
import { processGuard } from '../middleware/process-guard.js';
import { QuotaCounters, quotaGuard } from '../middleware/quota.js';
import { NodeFileSystem } from '../node/node-file-system.js';
import { NodeNetwork } from '../node/node-network.js';
import { NodeProcess } from '../node/node-process.js';
import { describeSubject, type Operation, type OperationContext } from '../operation.js';
import { type Capabilities, compileCapabilities, type Grants } from '../policy/grants.js';
import {
  DEFAULT_MAX_REDIRECTS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_QUOTA,
  type HostPolicy,
  type QuotaLimits,
} from '../policy/host-policy.js';
import { SandboxFileSystem } from './sandbox-file-system.js';
import { SandboxNetwork } from './sandbox-network.js';
import { SandboxProcess } from './sandbox-process.js';
import { type Ports, terminal } from './terminal.js';

export interface SandboxOptions {
  component: string;
  version: string;
  /** Raw grants (compiled here) or capabilities compiled once and shared between instances. */
  grants: Grants | Capabilities;
  policy?: HostPolicy;
  audit: AuditLog;
  /** Defaults to the real Node ports. */
  ports?: Partial<Ports>;
  /** Name resolution for the egress policy; defaults to the system resolver. */
  resolver?: Resolver;
  /** Overrides the host policy's default quota for this component. */
  quota?: QuotaLimits;
  /** Extra guards, run after the built-in ones and before quota. */
  middleware?: readonly Middleware[];
}

/** What a component may do to the OS, all of it guarded and audited. */
export interface Sandbox {
  readonly component: string;
  readonly version: string;
  readonly capabilities: Capabilities;
  readonly quota: QuotaCounters;
  readonly fs: SandboxFileSystem;
  readonly net: SandboxNetwork;
  readonly process: SandboxProcess;
  /** Closes every file and connection the component left open. */
  close(): Promise<void>;
}

/** Runs one operation through the chain and returns the port's result. */
export type Run = <T>(op: Operation, subject: unknown) => Promise<T>;

/**
 * @example
 * const sandbox = createSandbox({
 *   component: 'thumbnailer', version: '1.0.0',
 *   grants: { filesystem: { read: ['/data/in/**'], write: ['/data/out/**'] } },
 *   audit: new SqliteAuditLog({ path: 'audit.db' }),
 * });
 * const bytes = await sandbox.fs.readFile('/data/in/photo.jpg');
 */
export function createSandbox(options: SandboxOptions): Sandbox {
  const policy = options.policy ?? {};
  const caps = isCompiled(options.grants) ? options.grants : compileCapabilities(options.grants, policy);
  const ports: Ports = {
    fs: options.ports?.fs ?? new NodeFileSystem(),
    net: options.ports?.net ?? new NodeNetwork(),
    process: options.ports?.process ?? new NodeProcess(),
  };
  const counters = new QuotaCounters();
  const limits = { ...DEFAULT_QUOTA, ...policy.quota, ...options.quota };
  const chain = compose(
    [
      auditStep(options.audit),
      pathGuard(caps, ports.fs),
      egressPolicy(caps, {
        resolver: options.resolver,
        maxRedirects: policy.maxRedirects ?? DEFAULT_MAX_REDIRECTS,
      }),
      processGuard(caps, ports.process),
      ...(options.middleware ?? []),
      quotaGuard(limits, counters),
    ],
    terminal(ports),
  );
  const run: Run = async <T>(op: Operation, subject: unknown): Promise<T> => {
    const ctx: OperationContext = {
      component: options.component,
      version: options.version,
      op,
      subject: describeSubject(subject),
      granted: false,
    };
    try {
      await chain(ctx);
    } catch (error) {
      // Note: whatever a port or guard threw, the guest sees a typed error; a host bug becomes
      // `internal`, never an exception that escapes into the host.
      throw toAirssysError(error);
    }
    return ctx.result as T;
  };
  const fs = new SandboxFileSystem(run);
  const net = new SandboxNetwork(run, {
    maxResponseBytes: policy.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
  });
  const process = new SandboxProcess(run);
  return {
    component: options.component,
    version: options.version,
    capabilities: caps,
    quota: counters,
    fs,
    net,
    process,
    close: async () => {
      await Promise.allSettled([fs.closeAll(), net.closeAll()]);
    },
  };
}

function isCompiled(grants: Grants | Capabilities): grants is Capabilities {
  return 'fsRead' in grants && 'mode' in grants;
}
