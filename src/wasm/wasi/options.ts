/**
 * What the embedder decides about a component's WASI preview 2 world: where its output goes,
 * what environment, clocks and randomness it sees, and the limits that keep a guest from
 * turning a host convenience into a memory bomb. Everything defaults to "nothing": no output
 * kept, no variables, no arguments, no directories.
 */

import { randomFillSync } from 'node:crypto';
import type { AuditRecord } from '../../osl/audit/audit-log.js';
import type { Grants } from '../../osl/policy/grants.js';
import type { HostPolicy, SecurityMode } from '../../osl/policy/host-policy.js';
import { AirssysError } from '../../shared/errors.js';
import { type ByteSink, type ByteSource, bytesSource } from './byte-io.js';

/** `wasi:clocks/wall-clock.datetime`: seconds and nanoseconds since the Unix epoch (UTC). */
export interface Datetime {
  seconds: bigint;
  nanoseconds: number;
}

/** Source of `wasi:clocks/wall-clock`. */
export interface WallClock {
  now(): Datetime;
  resolution(): Datetime;
}

/** Source of `wasi:clocks/monotonic-clock`, in nanoseconds. */
export interface MonotonicClock {
  now(): bigint;
  resolution(): bigint;
}

/** Fills `buffer` with random bytes (`wasi:random/*` all draw from it). */
export type RandomSource = (buffer: Uint8Array) => void;

/** Receives one line of a component's stdout or stderr, without its line terminator. */
export type LineSink = (line: string) => void;

/**
 * A host directory handed to the guest as a `wasi:filesystem/preopens` directory. Everything
 * the guest does through it stays beneath `host` (see docs/wasi.md, "Preopens and the guard").
 */
export interface Preopen {
  /** The host directory; resolved (symlinks included) when the options are applied. */
  host: string;
  /** The name the guest sees, e.g. `/data` or `.`. */
  guest: string;
  /** Refuse every change (write, create, remove, rename, set-size, set-times): `not-permitted`. */
  readOnly?: boolean;
}

/** Called for every request refused by the WASI layer, for the host's audit log. */
export type DeniedCallback = (operation: string, subject: string, reason: string) => void;

export interface WasiLimits {
  /** Longest line handed to a sink, in UTF-16 code units; the rest of the line is dropped (`…`). */
  maxLineChars: number;
  /** Bytes per stream forwarded to its sink per call (between two `endCall()`s); the rest is dropped. */
  maxOutputBytesPerCall: number;
  /** What `check-write` permits per `write` (a larger write traps, as WASI specifies). */
  maxWriteBytes: number;
  /** Largest `get-random-bytes` / `get-insecure-random-bytes` request; a larger one traps. */
  maxRandomBytes: number;
  /** Most bytes one `read` / `skip` / `splice` returns, whatever `len` the guest asks for. */
  maxReadBytes: number;
  /**
   * Files of the preopens kept open at once (host fds); past it the least recently used one is
   * closed, and reopened by its path when used again.
   */
  maxOpenFiles: number;
}

export const DEFAULT_WASI_LIMITS: Readonly<WasiLimits> = Object.freeze({
  maxLineChars: 4096,
  maxOutputBytesPerCall: 64 * 1024,
  maxWriteBytes: 64 * 1024,
  maxRandomBytes: 1024 * 1024,
  maxReadBytes: 64 * 1024,
  maxOpenFiles: 64,
});

/** Which standard streams are terminals (`wasi:cli/terminal-*`); none unless the embedder says so. */
export interface WasiTerminals {
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

/**
 * What `wasi:http/outgoing-handler` may reach, judged by the host's egress policy on the
 * address each request really connects to (osl/middleware/egress-policy.ts). Absent: every
 * outgoing request is refused with `HTTP-request-denied`.
 */
export interface WasiHttpOptions {
  /**
   * osl grants: `outbound` `host[:port]` patterns (no port = 80 and 443) and the special
   * `addresses` (loopback, private…) a granted name may resolve to. A manifest's
   * `network.outbound` maps onto these with `grantsOf` (host/permissions.ts).
   */
  network?: Grants['network'];
  /** Default `strict`: loopback and private addresses only through `network.addresses`. */
  securityMode?: SecurityMode;
  /** The host's network deny rules (`HostPolicy.deny.network`): they beat every grant. */
  deny?: readonly string[];
  /** Largest response body read for the guest (default 16 MiB); larger: `HTTP-response-body-size`. */
  maxResponseBodyBytes?: number;
  /** Who asks, in the audit records (default `guest`, version `0.0.0`). */
  component?: string;
  version?: string;
  /** Every decision the egress policy made (allowed or refused); refusals also reach `onDenied`. */
  onAudit?: (record: AuditRecord) => void;
}

/**
 * What `wasi:sockets` may reach and where it may listen, judged on the socket thread by the
 * host's egress policy (osl/middleware/egress-policy.ts), as outgoing HTTP is. Absent:
 * `createWasi` does not link `wasi:sockets` at all (a component importing it fails to link).
 * Given but empty: linked, and every lookup, connect and bind answers `access-denied`.
 */
export interface WasiSocketsOptions {
  /**
   * osl grants: `outbound` `host[:port]` patterns a TCP connect may reach (no port = 80 and
   * 443) and whose names a lookup may resolve (any port of the name grants its lookup); the
   * special `addresses` (loopback, private…) they may resolve or connect to; `listen`
   * `address:port` patterns the guest may bind and listen on (`:*` for any port, port 0
   * included). A manifest's `network.outbound` maps onto the first two with `networkGrantsOf`
   * (host/permissions.ts), as for `http`.
   */
  network?: Grants['network'];
  /** Default `strict`: loopback and private addresses only through `network.addresses`. */
  securityMode?: SecurityMode;
  /** The host's network deny rules (`HostPolicy.deny.network`): they beat every grant. */
  deny?: readonly string[];
  /** Sockets open at once (TCP, accepted ones included); past it `new-socket-limit`. Default 64. */
  maxSockets?: number;
  /** Who asks, in the audit records (default `guest`, version `0.0.0`). */
  component?: string;
  version?: string;
  /** Every decision the egress policy made (allowed or refused); refusals also reach `onDenied`. */
  onAudit?: (record: AuditRecord) => void;
}

export interface WasiOptions {
  /** Lines the component writes to stdout, capped (see `limits`); discarded when absent. */
  stdout?: LineSink;
  /** Lines the component writes to stderr, capped (see `limits`); discarded when absent. */
  stderr?: LineSink;
  /**
   * Every byte the component writes to stdout, as written: no line splitting, no caps
   * (`fdSink(1)` for a process's own stdout). Instead of `stdout`, not with it.
   */
  stdoutBytes?: ByteSink;
  /** Every byte the component writes to stderr, as written (`fdSink(2)`). Instead of `stderr`. */
  stderrBytes?: ByteSink;
  /**
   * What the component reads from stdin: `bytesSource(...)`, `fdSource(0)` for a process's own
   * stdin. Default: at its end at once.
   */
  stdin?: ByteSource;
  /** Which standard streams the component is told are terminals; default none. */
  terminals?: WasiTerminals;
  /** `initial-cwd`; none by default. */
  initialCwd?: string;
  /** `get-environment`; empty by default (the host's `process.env` is never used). */
  env?: Readonly<Record<string, string>>;
  /** `get-arguments`; empty by default. */
  args?: readonly string[];
  /** Default: the host's real time (`Date.now()`, 1 ms resolution). */
  wallClock?: WallClock;
  /** Default: `process.hrtime.bigint()`. */
  monotonicClock?: MonotonicClock;
  /** Default: `crypto.randomFillSync`. */
  random?: RandomSource;
  /** Told about every refusal (filesystem access, an over-limit random request). */
  onDenied?: DeniedCallback;
  /** Told the status the component passed to `exit` (0 = success) before the call fails. */
  onExit?: (status: number) => void;
  limits?: Partial<WasiLimits>;
  /** Directories the guest may use; none by default (nothing of the host is reachable). */
  preopens?: readonly Preopen[];
  /** Where `wasi:http/outgoing-handler` may send requests; nowhere by default. */
  http?: WasiHttpOptions;
  /** `wasi:sockets` and its grants; not linked by default. */
  sockets?: WasiSocketsOptions;
}

/** The host policy that `http` or `sockets` options ask the egress policy to apply. */
export function egressPolicyOf(options: Pick<WasiHttpOptions, 'securityMode' | 'deny'>): HostPolicy {
  return {
    ...(options.securityMode === undefined ? {} : { securityMode: options.securityMode }),
    ...(options.deny === undefined ? {} : { deny: { network: options.deny } }),
  };
}

/** Options with every default applied; what the interface files receive. */
export interface WasiContext {
  readonly stdout: LineSink | undefined;
  readonly stderr: LineSink | undefined;
  readonly stdoutBytes: ByteSink | undefined;
  readonly stderrBytes: ByteSink | undefined;
  readonly stdin: ByteSource;
  readonly terminals: Readonly<Required<WasiTerminals>>;
  readonly initialCwd: string | undefined;
  readonly env: readonly (readonly [string, string])[];
  readonly args: readonly string[];
  readonly wallClock: WallClock;
  readonly monotonicClock: MonotonicClock;
  readonly random: RandomSource;
  readonly denied: DeniedCallback;
  readonly onExit: ((status: number) => void) | undefined;
  readonly limits: Readonly<WasiLimits>;
  readonly preopens: readonly Readonly<Preopen>[];
}

export const systemWallClock: WallClock = {
  now() {
    const ms = Date.now();
    return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1_000_000 };
  },
  resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
};

export const systemMonotonicClock: MonotonicClock = {
  now: () => process.hrtime.bigint(),
  resolution: () => 1n,
};

export const systemRandom: RandomSource = (buffer) => {
  randomFillSync(buffer);
};

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`wasi limits.${name} must be a positive safe integer, got ${value}`);
  }
  return value;
}

export function resolveOptions(options: WasiOptions): WasiContext {
  const limits = { ...DEFAULT_WASI_LIMITS, ...options.limits };
  for (const [name, value] of Object.entries(limits)) positiveInteger(name, value);
  // Copied now: a later change to the caller's objects must not reach a running component.
  const env = Object.entries(options.env ?? {}).map(([k, v]) => [String(k), String(v)] as const);
  const onDenied = options.onDenied;
  for (const stream of ['stdout', 'stderr'] as const) {
    if (options[stream] !== undefined && options[`${stream}Bytes`] !== undefined) {
      throw new AirssysError(
        'invalid-argument',
        `wasi options: give ${stream} (lines) or ${stream}Bytes (raw bytes), not both`,
      );
    }
  }
  const terminals = options.terminals ?? {};
  return {
    stdout: options.stdout,
    stderr: options.stderr,
    stdoutBytes: options.stdoutBytes,
    stderrBytes: options.stderrBytes,
    stdin: options.stdin ?? bytesSource(),
    terminals: Object.freeze({
      stdin: terminals.stdin === true,
      stdout: terminals.stdout === true,
      stderr: terminals.stderr === true,
    }),
    initialCwd: options.initialCwd === undefined ? undefined : String(options.initialCwd),
    env: Object.freeze(env),
    args: Object.freeze((options.args ?? []).map(String)),
    wallClock: options.wallClock ?? systemWallClock,
    monotonicClock: options.monotonicClock ?? systemMonotonicClock,
    random: options.random ?? systemRandom,
    denied: onDenied === undefined ? () => {} : onDenied,
    onExit: options.onExit,
    limits: Object.freeze(limits),
    preopens: Object.freeze((options.preopens ?? []).map((p) => Object.freeze({ ...p }))),
  };
}
