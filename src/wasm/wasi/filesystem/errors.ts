/**
 * `wasi:filesystem/types.error-code` from what the host saw: an errno (raw from Node, or kept in
 * `details.errno` by osl's `fromErrno`), a refusal by the guard (`capability-denied` from osl, or
 * a `Refusal` raised here), or a guest input no syscall should see. The errno table follows
 * wasmtime's, so a guest sees the codes it would see there.
 */

import { AirssysError } from '../../../shared/errors.js';

/** The `error-code` enum of `wasi:filesystem/types` (0.2.x), as the canon mapping names its cases. */
export type ErrorCode =
  | 'access'
  | 'would-block'
  | 'already'
  | 'bad-descriptor'
  | 'busy'
  | 'deadlock'
  | 'quota'
  | 'exist'
  | 'file-too-large'
  | 'illegal-byte-sequence'
  | 'in-progress'
  | 'interrupted'
  | 'invalid'
  | 'io'
  | 'is-directory'
  | 'loop'
  | 'too-many-links'
  | 'message-size'
  | 'name-too-long'
  | 'no-device'
  | 'no-entry'
  | 'no-lock'
  | 'insufficient-memory'
  | 'insufficient-space'
  | 'not-directory'
  | 'not-empty'
  | 'not-recoverable'
  | 'unsupported'
  | 'no-tty'
  | 'no-such-device'
  | 'overflow'
  | 'not-permitted'
  | 'pipe'
  | 'read-only'
  | 'invalid-seek'
  | 'text-file-busy'
  | 'cross-device';

const ERRNO: Readonly<Record<string, ErrorCode>> = {
  EPIPE: 'pipe',
  EPERM: 'not-permitted',
  ENOENT: 'no-entry',
  ENOMEM: 'insufficient-memory',
  EIO: 'io',
  EBADF: 'bad-descriptor',
  EBUSY: 'busy',
  EACCES: 'access',
  ENOTDIR: 'not-directory',
  EISDIR: 'is-directory',
  EINVAL: 'invalid',
  EEXIST: 'exist',
  EFBIG: 'file-too-large',
  ENOSPC: 'insufficient-space',
  ESPIPE: 'invalid-seek',
  EMLINK: 'too-many-links',
  ENAMETOOLONG: 'name-too-long',
  ENOTEMPTY: 'not-empty',
  ELOOP: 'loop',
  EOVERFLOW: 'overflow',
  EILSEQ: 'illegal-byte-sequence',
  ENOTSUP: 'unsupported',
  EOPNOTSUPP: 'unsupported',
  ENOSYS: 'unsupported',
  EALREADY: 'already',
  EINPROGRESS: 'in-progress',
  EINTR: 'interrupted',
  EAGAIN: 'would-block',
  EWOULDBLOCK: 'would-block',
  EDEADLK: 'deadlock',
  EDQUOT: 'quota',
  EXDEV: 'cross-device',
  ETXTBSY: 'text-file-busy',
  ENXIO: 'no-such-device',
  ENODEV: 'no-device',
  EROFS: 'read-only',
  ENOTTY: 'no-tty',
  ENOLCK: 'no-lock',
  EMSGSIZE: 'message-size',
  ENOTRECOVERABLE: 'not-recoverable',
  // Node's own checks on arguments it would not pass to the kernel.
  ERR_INVALID_ARG_VALUE: 'invalid', // a NUL byte in a path
  ERR_OUT_OF_RANGE: 'invalid',
  ERR_FS_FILE_TOO_LARGE: 'file-too-large',
};

/** An errno as a WASI error code; `io` for one without a counterpart (as wasmtime). */
export function errnoCode(errno: string | undefined): ErrorCode {
  return (errno !== undefined && ERRNO[errno]) || 'io';
}

/**
 * A request this layer refuses without asking the OS. `denial` marks a decision of the guard
 * (a path leaving its preopen, a change to a read-only one): those reach `onDenied`.
 */
export class Refusal extends Error {
  constructor(
    readonly errorCode: ErrorCode,
    message: string,
    readonly denial = false,
  ) {
    super(message);
  }
}

/** The guard said no: `not-permitted` (wasmtime's answer to a sandbox escape), reported. */
export function refuse(message: string): Refusal {
  return new Refusal('not-permitted', message, true);
}

export type Outcome = { code: ErrorCode; denied?: string };

/**
 * The error code for something a filesystem function threw, or undefined when it is not an
 * error the guest should see as one (a trap, a host bug): that is rethrown.
 */
export function outcomeOf(error: unknown): Outcome | undefined {
  if (error instanceof Refusal) {
    return error.denial ? { code: error.errorCode, denied: error.message } : { code: error.errorCode };
  }
  if (error instanceof AirssysError) {
    if (error.code === 'capability-denied') return { code: 'not-permitted', denied: error.message };
    const errno = error.details?.errno;
    if (typeof errno === 'string') return { code: errnoCode(errno) };
    return undefined;
  }
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof errno === 'string' ? { code: errnoCode(errno) } : undefined;
}
