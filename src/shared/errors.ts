/**
 * The one error type of the product. Every failure a user can cause is an `AirssysError` with a
 * stable `code` (SPEC §8) that callers switch on, a message that says what to do, the `cause`
 * when one exists, and who is to blame: the `guest` (the component did it) or the `host`.
 */

export const ERROR_CODES = [
  'invalid-component',
  'invalid-manifest',
  'invalid-argument',
  'not-found',
  'trap',
  'out-of-fuel',
  'out-of-memory',
  'timeout',
  'stack-overflow',
  'capability-denied',
  'mailbox-full',
  'storage-error',
  'quota-exceeded',
  'messaging-error',
  'signature-invalid',
  'unsupported-runtime',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export type Blame = 'guest' | 'host';

export interface ErrorOptions {
  cause?: unknown;
  blame?: Blame;
  /** Extra, machine-readable facts about the failure (field name, limit, actual value…). */
  details?: Record<string, unknown>;
}

export class AirssysError extends Error {
  readonly code: ErrorCode;
  readonly blame: Blame;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AirssysError';
    this.code = code;
    this.blame = options.blame ?? 'host';
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isAirssysError(value: unknown): value is AirssysError {
  return value instanceof AirssysError;
}

/** An error as it crosses a thread or a wire: `toJSON()`, and the blame beside it. */
export type AirssysErrorJson = ReturnType<AirssysError['toJSON']>;

/**
 * Rebuilds an error that crossed a thread as `toJSON()` (a code this build does not know
 * becomes `internal`, keeping the message).
 */
export function errorFromJSON(json: AirssysErrorJson, blame: Blame): AirssysError {
  const code = (ERROR_CODES as readonly string[]).includes(json.code) ? json.code : 'internal';
  return new AirssysError(code, json.message, { blame, details: json.details });
}

/** Wraps anything thrown into an `AirssysError`, keeping one that already is. */
export function toAirssysError(value: unknown, fallback: ErrorCode = 'internal'): AirssysError {
  if (value instanceof AirssysError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new AirssysError(fallback, message, { cause: value });
}
