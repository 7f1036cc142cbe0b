/**
 * WASI preview 2 (0.2.x) for components built with ordinary toolchains (wasi-libc, the preview1
 * adapter, wit-bindgen), granting no ambient host access: output goes to the embedder's line
 * or byte sinks, stdin, the environment, arguments, clocks and randomness are the embedder's,
 * and the only directories are the embedder's `preopens`, each a boundary no path leaves. See docs/wasi.md.
 *
 * The interface files name interfaces without a version; here they are keyed `@0.2`
 * (`wasi:io/streams@0.2`), which the linker matches to every 0.2.x import and to no other
 * release (a 0.3 import is refused, not served by 0.2 functions of the same name).
 * `wasi:sockets` is linked only when `options.sockets` is given (its grants; see sockets/).
 * `wasi:http` is not provided here (`IncomingHandler` and `runCommand` link it, see http/). A
 * component importing what is not linked fails to link with `capability-denied`.
 */

import type { HostImports } from '../engine/link.js';
import { cliInterfaces } from './cli.js';
import { clockInterfaces } from './clocks.js';
import { filesystemInterfaces } from './filesystem/index.js';
import { LineOutput } from './line-output.js';
import { resolveOptions, type WasiOptions } from './options.js';
import { pollInterface } from './poll.js';
import { randomInterfaces } from './random.js';
import { socketsInterfaces } from './sockets/index.js';
import { errorInterface, InputStream, OutputStream, streamsInterface } from './streams.js';

export { type ByteSink, type ByteSource, bytesSource } from './byte-io.js';
export { WasiExit } from './cli.js';
export { type FdSource, fdSink, fdSource } from './fd-io.js';
export { DESCRIPTOR_METHODS, DIRECTORY_ENTRY_STREAM_METHODS } from './filesystem/index.js';
export {
  type Datetime,
  DEFAULT_WASI_LIMITS,
  type DeniedCallback,
  type LineSink,
  type MonotonicClock,
  type Preopen,
  type RandomSource,
  systemMonotonicClock,
  systemRandom,
  systemWallClock,
  type WallClock,
  type WasiHttpOptions,
  type WasiLimits,
  type WasiOptions,
  type WasiSocketsOptions,
  type WasiTerminals,
} from './options.js';
export { IoError } from './streams.js';

/** The WASI release line these interfaces implement, as the key suffix the linker matches. */
const VERSION = '@0.2';

/** The WASI world of one component instance. */
export interface Wasi {
  /** Pass to `instantiate` (merge with the host's own interfaces). */
  readonly imports: HostImports;
  /**
   * Ends one export call: hands a partial last line of stdout/stderr to the line sinks and
   * starts a new output budget (`maxOutputBytesPerCall`). Call it after every export call;
   * without it the budget covers the instance's whole life. Byte sinks are not affected.
   */
  endCall(): void;
}

/**
 * WASI preview 2 for one component instance (its stdout/stderr state is not shareable).
 *
 * @example
 * const wasi = createWasi({ stdout: (line) => log.info(line), onDenied: (op, subject, reason) => audit(op, subject, reason) });
 * const instance = component.instantiate({ ...wasi.imports, ...hostImports });
 * try { instance.exports.run(); } finally { wasi.endCall(); }
 */
export function createWasi(options: WasiOptions = {}): Wasi {
  const ctx = resolveOptions(options);
  const { maxLineChars, maxOutputBytesPerCall, maxWriteBytes, maxReadBytes } = ctx.limits;
  const stdoutLines = new LineOutput(ctx.stdout, maxLineChars, maxOutputBytesPerCall);
  const stderrLines = new LineOutput(ctx.stderr, maxLineChars, maxOutputBytesPerCall);
  const stdio = {
    stdin: new InputStream('stdin', ctx.stdin, maxReadBytes),
    stdout: new OutputStream('stdout', ctx.stdoutBytes ?? stdoutLines, maxWriteBytes),
    stderr: new OutputStream('stderr', ctx.stderrBytes ?? stderrLines, maxWriteBytes),
  };
  const interfaces: HostImports = {
    'wasi:io/error': errorInterface(),
    'wasi:io/poll': pollInterface(),
    'wasi:io/streams': streamsInterface(),
    ...cliInterfaces(ctx, stdio),
    ...clockInterfaces(ctx),
    ...randomInterfaces(ctx),
    ...filesystemInterfaces(ctx),
    ...(options.sockets === undefined ? {} : socketsInterfaces(ctx, options.sockets)),
  };
  const imports: HostImports = {};
  for (const [name, functions] of Object.entries(interfaces)) imports[`${name}${VERSION}`] = functions;
  return {
    imports,
    endCall() {
      stdoutLines.endCall();
      stderrLines.endCall();
    },
  };
}

/**
 * The imports of `createWasi(options)`, for one-shot runs and tests: without `endCall()`, a
 * partial last line is never emitted and the output budget covers the instance's whole life.
 *
 * @example
 * const instance = component.instantiate(wasiImports({ stdout: (line) => lines.push(line) }));
 */
export function wasiImports(options: WasiOptions = {}): HostImports {
  return createWasi(options).imports;
}
