/**
 * The `descriptor` methods on the descriptor itself, not on a path beneath it: its stat, type,
 * times, sync, identity, and for files their contents (`read`, `write`, `set-size`, streams).
 * A directory is reached again beneath its root for each (it holds no fd); a file through its
 * pooled fd. Permission rules are wasmtime's: a change through a read-only preopen is
 * `not-permitted`; a file-only method on a directory is `bad-descriptor`.
 */

import {
  type BigIntStats,
  closeSync,
  constants,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  futimesSync,
  readSync,
  writeSync,
} from 'node:fs';
import { openBeneath } from '../../../osl/node/beneath.js';
import { InputStream, OutputStream } from '../streams.js';
import { type Descriptor, DirectoryDescriptor, FileDescriptor } from './descriptor.js';
import { Refusal } from './errors.js';
import { FileSink, FileSource, type StreamDenied } from './file-streams.js';
import {
  type DescriptorStat,
  type DescriptorType,
  descriptorStat,
  type MetadataHashValue,
  metadataHash,
} from './stat.js';

/** `new-timestamp`. */
export type NewTimestamp =
  | { tag: 'no-change' }
  | { tag: 'now' }
  | { tag: 'timestamp'; val: { seconds: bigint; nanoseconds: number } };

export interface StreamLimits {
  maxReadBytes: number;
  maxWriteBytes: number;
}

export function asFile(d: Descriptor): FileDescriptor {
  if (d instanceof FileDescriptor) return d;
  throw new Refusal('bad-descriptor', `${d.guestPath} is a directory`);
}

export function asDirectory(d: Descriptor): DirectoryDescriptor {
  if (d instanceof DirectoryDescriptor) return d;
  throw new Refusal('not-directory', `${d.guestPath} is not a directory`);
}

/** Runs `fn` on a freshly opened, verified fd of the directory. */
export function withDirectoryFd<T>(d: DirectoryDescriptor, fn: (fd: number) => T): T {
  const fd = openBeneath(d.root.real, d.segments, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}

function withFd<T>(d: Descriptor, fn: (fd: number) => T): T {
  return d instanceof FileDescriptor ? d.use(fn) : withDirectoryFd(d as DirectoryDescriptor, fn);
}

function fstat(fd: number): BigIntStats {
  return fstatSync(fd, { bigint: true });
}

export function stat(d: Descriptor): DescriptorStat {
  return descriptorStat(withFd(d, fstat));
}

export function getType(d: Descriptor): DescriptorType {
  if (d instanceof DirectoryDescriptor) return 'directory';
  return descriptorStat(withFd(d, fstat)).type;
}

export function metadataHashOf(d: Descriptor): MetadataHashValue {
  return metadataHash(withFd(d, fstat));
}

/** Same device and inode. The WIT gives this no error case: anything failing means "no". */
export function isSameObject(a: Descriptor, b: Descriptor): boolean {
  if (a === b) return true;
  try {
    const sa = withFd(a, fstat);
    const sb = withFd(b, fstat);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

export function sync(d: Descriptor, dataOnly: boolean): void {
  withFd(d, dataOnly ? fdatasyncSync : fsyncSync);
}

/** Seconds since the epoch for `futimes`, from a `new-timestamp` and the current value (ns). */
export function secondsOf(ts: NewTimestamp, currentNs: bigint): number {
  switch (ts.tag) {
    case 'no-change':
      // Note: Node takes times as a double of seconds, so an unchanged time keeps ~0.1 µs.
      return Number(currentNs) / 1e9;
    case 'now':
      return Date.now() / 1000;
    case 'timestamp':
      if (!(ts.val.nanoseconds >= 0 && ts.val.nanoseconds < 1e9)) {
        throw new Refusal('invalid', `nanoseconds must be below 10^9, got ${ts.val.nanoseconds}`);
      }
      return Number(ts.val.seconds) + ts.val.nanoseconds / 1e9;
  }
}

export function setTimes(d: Descriptor, atim: NewTimestamp, mtim: NewTimestamp): void {
  d.mutable('set-times');
  withFd(d, (fd) => {
    const now = fstat(fd);
    futimesSync(fd, secondsOf(atim, now.atimeNs), secondsOf(mtim, now.mtimeNs));
  });
}

// --- files only ----------------------------------------------------------------------------

/** A u64 offset as a number; past 2^53, `beyond` (no file is that large). */
function offsetOf<T>(value: bigint, beyond: T): number | T {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? beyond : Number(value);
}

export function read(
  d: Descriptor,
  len: bigint,
  offset: bigint,
  limits: StreamLimits,
): [Uint8Array, boolean] {
  const file = asFile(d);
  const at = offsetOf(offset, undefined);
  if (at === undefined) return [new Uint8Array(0), true];
  const buffer = new Uint8Array(Math.min(offsetOf(len, limits.maxReadBytes), limits.maxReadBytes));
  if (buffer.length === 0) return [buffer, false];
  const n = file.use((fd) => readSync(fd, buffer, 0, buffer.length, file.seekable ? at : null));
  return [buffer.subarray(0, n), n === 0];
}

export function write(d: Descriptor, bytes: Uint8Array, offset: bigint): bigint {
  const file = asFile(d);
  d.mutable('write');
  const at = offsetOf(offset, undefined);
  if (at === undefined || at + bytes.length > Number.MAX_SAFE_INTEGER) {
    throw new Refusal('file-too-large', 'a write ending past byte 2^53 of the file is refused');
  }
  let done = 0;
  file.use((fd) => {
    while (done < bytes.length) {
      done += writeSync(fd, bytes, done, bytes.length - done, file.seekable ? at + done : null);
    }
  });
  return BigInt(done);
}

export function setSize(d: Descriptor, size: bigint): void {
  const file = asFile(d);
  d.mutable('set-size');
  const n = offsetOf(size, undefined);
  if (n === undefined) throw new Refusal('file-too-large', 'a size past 2^53 bytes is refused');
  file.use((fd) => ftruncateSync(fd, n));
}

export function readViaStream(
  d: Descriptor,
  offset: bigint,
  limits: StreamLimits,
  denied: StreamDenied,
): InputStream {
  const file = asFile(d);
  const at = offsetOf(offset, Number.MAX_SAFE_INTEGER);
  return new InputStream(`file ${file.guestPath}`, new FileSource(file, at, denied), limits.maxReadBytes);
}

export function writeViaStream(
  d: Descriptor,
  offset: bigint | 'append',
  limits: StreamLimits,
  denied: StreamDenied,
): OutputStream {
  const file = asFile(d);
  // wasmtime's answer for a file whose preopen forbids writing (a read-only open is refused by
  // the OS at the first write instead).
  if (file.root.readOnly) {
    throw new Refusal('bad-descriptor', `${file.root.guest} is read-only: writing is refused`, true);
  }
  const at = offset === 'append' ? offset : offsetOf(offset, Number.MAX_SAFE_INTEGER);
  return new OutputStream(`file ${file.guestPath}`, new FileSink(file, at, denied), limits.maxWriteBytes);
}
