/**
 * The *use* half of RESOLVE_BENEATH on the real disk, synchronous: reaching a path that
 * `resolveBeneath` (the check) has already resolved, so that nothing outside the root is touched
 * even if the disk changed in between. Shared by `NodeFileSystem` (osl's port) and the WASI
 * filesystem (`wasm/wasi/filesystem/`), which must not each keep their own copy of this.
 *
 * THREAT MODEL: checking a path and then using it by name is a time-of-check/time-of-use race:
 * between the two, anyone who can write inside the root can swap a directory or file for a
 * symlink to `/etc`, and the syscall follows it. Node has no `openat2`, so the guarantee comes
 * from procfs:
 *
 * 1. open the *parent directory* and read back the real path of the descriptor from
 *    `/proc/self/fd/N`; if it is not beneath the root, something moved: refuse;
 * 2. reach the last component through `/proc/self/fd/N/<name>` — relative to the directory just
 *    verified, not to a path that may have changed — with a syscall that does not follow a
 *    final symlink (`O_NOFOLLOW` for open: a symlink appearing there now fails with ELOOP,
 *    refused as `capability-denied`), and verify an opened descriptor's real path the same way.
 *
 * Without `/proc` (not Linux) the checks fall back to comparing the opened descriptor's device
 * and inode with the resolved path: that narrows the race window but cannot close it.
 *
 * Errors: `capability-denied` when access would leave the root; otherwise the `AirssysError`
 * of `fromErrno`, whose `details.errno` keeps the errno for callers that need it (WASI).
 */

import * as fs from 'node:fs';
import { AirssysError } from '../../shared/errors.js';
import { denied } from '../deny.js';
import { joinBeneath } from '../ports/file-system.js';
import type { Probe } from '../ports/resolve-beneath.js';

const C = fs.constants;

export const HAS_PROC_FD = fs.existsSync('/proc/self/fd');

/** Test seam: called with the real path about to be used, after the check and before the use. */
export type BeforeAccess = (realPath: string) => void;

/** `resolveBeneath`'s view of the real disk: what one component is right now (never followed). */
export function probeDisk(absolute: string): Probe {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    throw fromErrno(error, absolute);
  }
  return st.isSymbolicLink() ? { kind: 'symlink', target: fs.readlinkSync(absolute) } : { kind: 'other' };
}

/**
 * Opens `realRoot/segments` (already resolved) and proves the descriptor is beneath the root
 * before returning it. `flags` get `O_NOFOLLOW` for the last component; the caller closes the fd.
 */
export function openBeneath(
  realRoot: string,
  segments: readonly string[],
  flags: number,
  createMode = 0o644,
  beforeAccess?: BeforeAccess,
): number {
  if (segments.length === 0) {
    const fd = openOrThrow(realRoot, flags & ~C.O_NOFOLLOW, createMode, realRoot);
    return verifiedOrClosed(fd, realRoot, realRoot);
  }
  const target = joinBeneath(realRoot, segments);
  return atParent(
    realRoot,
    segments,
    (leafPath) => {
      const fd = openOrThrow(leafPath, flags | C.O_NOFOLLOW, createMode, target);
      return verifiedOrClosed(fd, realRoot, target);
    },
    beforeAccess,
  );
}

/**
 * Runs `fn` on the last component of `realRoot/segments` (already resolved), reached through
 * its verified parent directory. `fn` must use syscalls that do not follow a final symlink
 * (`lstat`, `unlink`, `rename`, `mkdir`, `lutimes`…). For the root itself `fn` gets `realRoot`.
 */
export function atParent<T>(
  realRoot: string,
  segments: readonly string[],
  fn: (leafPath: string) => T,
  beforeAccess?: BeforeAccess,
): T {
  if (segments.length === 0) return fn(realRoot);
  const parentPath = joinBeneath(realRoot, segments.slice(0, -1));
  beforeAccess?.(joinBeneath(realRoot, segments));
  const parent = openOrThrow(parentPath, C.O_RDONLY | C.O_DIRECTORY, 0, parentPath);
  try {
    verifyBeneath(parent, realRoot, parentPath);
    const leaf = segments[segments.length - 1];
    return fn(HAS_PROC_FD ? `/proc/self/fd/${parent}/${leaf}` : `${parentPath}/${leaf}`);
  } finally {
    fs.closeSync(parent);
  }
}

/** A path naming the open descriptor `fd` itself (for `readdir` on a verified directory). */
export function pathOfFd(fd: number, fallback: string): string {
  return HAS_PROC_FD ? `/proc/self/fd/${fd}` : fallback;
}

/** Refuses with `capability-denied` unless the open `fd` is `realRoot` or beneath it. */
export function verifyBeneath(fd: number, realRoot: string, expected: string): void {
  if (HAS_PROC_FD) {
    let real = fs.readlinkSync(`/proc/self/fd/${fd}`);
    // Note: an open file that was unlinked since reads back as "<path> (deleted)".
    if (real.endsWith(' (deleted)')) real = real.slice(0, -' (deleted)'.length);
    const prefix = realRoot === '/' ? '/' : `${realRoot}/`;
    if (real !== realRoot && !real.startsWith(prefix)) {
      throw denied(`access left the root: ${expected} is really ${real} (changed after the check)`, {
        expected,
        real,
      });
    }
    return;
  }
  const a = fs.fstatSync(fd);
  const b = fs.statSync(expected);
  if (a.dev !== b.dev || a.ino !== b.ino) throw denied(`${expected} changed between check and access`);
}

function verifiedOrClosed(fd: number, realRoot: string, expected: string): number {
  try {
    verifyBeneath(fd, realRoot, expected);
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  return fd;
}

/**
 * `openSync`, with a symlink where the check saw none refused as `capability-denied`: ELOOP
 * from `O_NOFOLLOW`, or ENOTDIR from `O_NOFOLLOW | O_DIRECTORY` on a link (Linux says that).
 */
export function openOrThrow(path: string, flags: number, mode: number, shown: string): number {
  try {
    return fs.openSync(path, flags, mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || (code === 'ENOTDIR' && (flags & C.O_NOFOLLOW) !== 0 && isSymlink(path))) {
      throw denied(`${shown} became a symbolic link after the check`, { path: shown, errno: code });
    }
    throw fromErrno(error, shown);
  }
}

function isSymlink(path: string): boolean {
  try {
    return fs.lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** errno → stable code, keeping the errno in `details.errno`. Already-typed errors pass through. */
export function fromErrno(error: unknown, path: string): AirssysError {
  if (error instanceof AirssysError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const options = { cause: error, blame: 'guest' as const, details: { path, errno: code } };
  switch (code) {
    case 'ENOENT':
      return new AirssysError('not-found', `${path} does not exist`, options);
    case 'EEXIST':
      return new AirssysError('invalid-argument', `${path} already exists`, options);
    case 'ENOTDIR':
      return new AirssysError('invalid-argument', `a component of ${path} is not a directory`, options);
    case 'EISDIR':
      return new AirssysError('invalid-argument', `${path} is a directory`, options);
    case 'ENOTEMPTY':
      return new AirssysError('invalid-argument', `${path} is not empty`, options);
    case 'EXDEV':
      return new AirssysError('invalid-argument', `${path}: cannot rename across filesystems`, options);
    case 'EBADF':
      return new AirssysError('invalid-argument', `${path}: not open for this access`, options);
    default:
      return new AirssysError('storage-error', `${path}: ${(error as Error).message}`, {
        ...options,
        blame: 'host',
      });
  }
}
