/**
 * Turns whatever unwound a guest call into a categorised `AirssysError` (SPEC §5): trap,
 * out-of-fuel, out-of-memory, timeout, stack-overflow — or the host's own error, passed through.
 * V8 reports wasm traps as `WebAssembly.RuntimeError` and stack exhaustion as a `RangeError`;
 * their messages are stable across Node releases we support and are kept in `details`.
 */

import { AirssysError, isAirssysError } from '../../shared/errors.js';

export interface TrapContext {
  /** Component name, for messages. */
  component: string;
  /** The export being called. */
  export: string;
  /** A `memory.grow` failed during this call, so a later trap is most likely an allocation failure. */
  growFailed: boolean;
}

export function classifyTrap(error: unknown, context: TrapContext): AirssysError {
  const where = `${context.component}: export "${context.export}"`;
  if (isAirssysError(error)) return error;
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return new AirssysError(
      'stack-overflow',
      `${where} exhausted the call stack (unbounded recursion?); the instance was discarded`,
      { blame: 'guest', cause: error },
    );
  }
  if (error instanceof WebAssembly.RuntimeError) {
    if (context.growFailed) {
      return new AirssysError(
        'out-of-memory',
        `${where} trapped after its memory could not grow past the manifest's limit (${error.message}); raise [resources] memory or use less`,
        { blame: 'guest', cause: error, details: { trap: error.message } },
      );
    }
    return new AirssysError('trap', `${where} trapped: ${error.message}`, {
      blame: 'guest',
      cause: error,
      details: { trap: error.message },
    });
  }
  if (
    error instanceof Error &&
    /out of memory|Array buffer allocation failed|could not allocate memory/i.test(error.message)
  ) {
    return new AirssysError('out-of-memory', `${where}: ${error.message}`, { blame: 'guest', cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AirssysError('internal', `${where}: host error while the guest ran: ${message}`, {
    blame: 'host',
    cause: error,
  });
}
