/**
 * How the CLI speaks: one JSON document on stdout with `--json`, readable lines otherwise, and
 * exit codes mapped from error codes in this one place.
 */

import { AirssysError, type ErrorCode, toAirssysError } from '../shared/errors.js';
import { toJsonValue } from '../wasm/component/json-values.js';

/** 0 success, 1 the operation failed, 2 the command line itself was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export function exitCodeFor(code: ErrorCode): number {
  return code === 'invalid-argument' ? EXIT_USAGE : EXIT_FAILED;
}

export function printJson(document: unknown): void {
  process.stdout.write(`${JSON.stringify(toJsonValue(document))}\n`);
}

/** Reports a failure in the requested format and returns the exit code to use. */
export function reportError(error: unknown, json: boolean): number {
  const failure = toAirssysError(error);
  if (json) printJson({ ok: false, error: failure.toJSON() });
  else process.stderr.write(`error [${failure.code}]: ${failure.message}\n`);
  return exitCodeFor(failure.code);
}

export function usage(message: string): AirssysError {
  return new AirssysError('invalid-argument', message, { blame: 'host' });
}
