/**
 * The `*-at` methods of a directory `descriptor`, and `read-directory`. Each one is the same
 * three steps: refuse what the preopen does not allow (a change through a read-only one), check
 * the path (resolve.ts: beneath the directory, symlinks resolved, escapes refused), then use it
 * through osl's `beneath.ts` (the parent directory verified, the last component reached with a
 * syscall that does not follow it). Error codes and permission rules are wasmtime's.
 */

import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { atParent, openBeneath, pathOfFd, probeDisk } from '../../../osl/node/beneath.js';
import { self as checked } from '../values.js';
import {
  Descriptor,
  type DescriptorFlags,
  DirectoryDescriptor,
  FileDescriptor,
  type FileMode,
} from './descriptor.js';
import { asDirectory, type NewTimestamp, secondsOf } from './descriptor-ops.js';
import { Refusal, refuse } from './errors.js';
import type { FdPool } from './fd-pool.js';
import { type Resolved, realPathOf, resolveAt, resolveEntry } from './resolve.js';
import {
  type DescriptorStat,
  type DescriptorType,
  descriptorStat,
  descriptorType,
  type MetadataHashValue,
  metadataHash,
} from './stat.js';

const C = constants;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface PathFlags {
  symlinkFollow?: boolean;
}

export interface OpenFlags {
  create?: boolean;
  directory?: boolean;
  exclusive?: boolean;
  truncate?: boolean;
}

function lstatAt(d: DirectoryDescriptor, at: Resolved) {
  return atParent(d.root.real, at.segments, (leaf) => lstatSync(leaf, { bigint: true }));
}

function statAtResolved(d: DirectoryDescriptor, at: Resolved) {
  const st = lstatAt(d, at);
  if (at.mustBeDirectory && !st.isDirectory()) throw new Refusal('not-directory', 'the path ends in "/"');
  return st;
}

export function statAt(self: Descriptor, flags: PathFlags, path: string): DescriptorStat {
  const d = asDirectory(self);
  return descriptorStat(statAtResolved(d, resolveAt(d, path, flags.symlinkFollow === true)));
}

export function metadataHashAt(self: Descriptor, flags: PathFlags, path: string): MetadataHashValue {
  const d = asDirectory(self);
  return metadataHash(statAtResolved(d, resolveAt(d, path, flags.symlinkFollow === true)));
}

export function setTimesAt(
  self: Descriptor,
  flags: PathFlags,
  path: string,
  atim: NewTimestamp,
  mtim: NewTimestamp,
): void {
  const d = asDirectory(self);
  d.mutable('set-times-at');
  const at = resolveAt(d, path, flags.symlinkFollow === true);
  // Followed or not, the resolved last component is changed itself (`lutimes`): a symlink
  // swapped in after the check gets its own times changed, never its target's.
  atParent(d.root.real, at.segments, (leaf) => {
    const now = lstatSync(leaf, { bigint: true });
    lutimesSync(leaf, secondsOf(atim, now.atimeNs), secondsOf(mtim, now.mtimeNs));
  });
}

export function createDirectoryAt(self: Descriptor, path: string): void {
  const d = asDirectory(self);
  d.mutable('create-directory-at');
  const at = resolveEntry(d, path, 'exist');
  atParent(d.root.real, at.segments, (leaf) => mkdirSync(leaf, 0o777));
}

export function removeDirectoryAt(self: Descriptor, path: string): void {
  const d = asDirectory(self);
  d.mutable('remove-directory-at');
  const at = resolveEntry(d, path, 'invalid');
  atParent(d.root.real, at.segments, (leaf) => rmdirSync(leaf));
}

export function unlinkFileAt(self: Descriptor, path: string): void {
  const d = asDirectory(self);
  d.mutable('unlink-file-at');
  const at = resolveEntry(d, path, 'is-directory');
  atParent(d.root.real, at.segments, (leaf) => {
    if (at.mustBeDirectory) {
      throw new Refusal(
        lstatSync(leaf).isDirectory() ? 'is-directory' : 'not-directory',
        'the path ends in "/"',
      );
    }
    unlinkSync(leaf);
  });
}

/** Both ends of a two-path operation: directories, both allowed to change (wasmtime). */
function pair(self: Descriptor, other: unknown, what: string): [DirectoryDescriptor, DirectoryDescriptor] {
  const from = asDirectory(self);
  const to = asDirectory(checked(other, Descriptor, `wasi:filesystem/types#[method]descriptor.${what}`));
  from.mutable(what);
  to.mutable(what);
  return [from, to];
}

export function renameAt(self: Descriptor, oldPath: string, other: unknown, newPath: string): void {
  const [from, to] = pair(self, other, 'rename-at');
  const src = resolveEntry(from, oldPath, 'invalid');
  const dst = resolveEntry(to, newPath, 'invalid');
  atParent(from.root.real, src.segments, (srcLeaf) =>
    atParent(to.root.real, dst.segments, (dstLeaf) => renameSync(srcLeaf, dstLeaf)),
  );
}

export function linkAt(
  self: Descriptor,
  flags: PathFlags,
  oldPath: string,
  other: unknown,
  newPath: string,
): void {
  const [from, to] = pair(self, other, 'link-at');
  if (flags.symlinkFollow) throw new Refusal('invalid', 'link-at does not follow symlinks');
  const src = resolveEntry(from, oldPath, 'invalid');
  const dst = resolveEntry(to, newPath, 'exist');
  atParent(from.root.real, src.segments, (srcLeaf) =>
    atParent(to.root.real, dst.segments, (dstLeaf) => linkSync(srcLeaf, dstLeaf)),
  );
}

/**
 * A symlink whose target leaves the preopen is refused when created (wasmtime refuses only
 * absolute targets; it would refuse to follow the others later). Measured from the link's
 * directory, lexically: a `..` past the root is out, whatever the disk holds meanwhile.
 */
export function symlinkAt(self: Descriptor, target: string, newPath: string): void {
  const d = asDirectory(self);
  d.mutable('symlink-at');
  if (target.includes('\0')) throw new Refusal('invalid', 'the target contains a NUL byte');
  if (target.startsWith('/')) throw refuse(`symlink target ${target} is absolute: it would name a host path`);
  const at = resolveEntry(d, newPath, 'exist');
  let depth = at.segments.length - 1;
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    depth += seg === '..' ? -1 : 1;
    if (depth < 0) throw refuse(`symlink target ${target} leaves ${d.root.guest}`);
  }
  atParent(d.root.real, at.segments, (leaf) => symlinkSync(target, leaf));
}

export function readlinkAt(self: Descriptor, path: string): string {
  const d = asDirectory(self);
  const at = resolveAt(d, path, false);
  const bytes = atParent(d.root.real, at.segments, (leaf) => readlinkSync(leaf, { encoding: 'buffer' }));
  let target: string;
  try {
    target = utf8.decode(bytes);
  } catch {
    throw new Refusal('illegal-byte-sequence', 'the link target is not UTF-8');
  }
  // As wasmtime (cap-std's read_link): an absolute target is a host path, not the guest's.
  if (target.startsWith('/')) throw refuse('the link has an absolute target, which is not shown');
  return target;
}

/**
 * `open-at`. Files keep their fd (pooled); directories are re-reached by path. Truncation
 * happens after the open was verified beneath the root (`ftruncate`), as in osl's port.
 */
export function openAt(
  self: Descriptor,
  pathFlags: PathFlags,
  path: string,
  openFlags: OpenFlags,
  flags: DescriptorFlags,
  pool: FdPool,
): Descriptor {
  const d = asDirectory(self);
  const { create = false, directory = false, exclusive = false, truncate = false } = openFlags;
  if (create || truncate || flags.write) d.mutable('open-at for writing');
  if (directory && (create || exclusive || truncate)) {
    throw new Refusal(
      'invalid',
      'open-flags.directory cannot be combined with create, exclusive or truncate',
    );
  }
  // O_CREAT|O_EXCL never follows a final symlink (POSIX): the link itself "exists".
  const follow = pathFlags.symlinkFollow === true && !(create && exclusive);
  const at = resolveAt(d, path, follow);
  const wantDirectory = directory || at.mustBeDirectory;
  if (!follow && at.segments.length > d.segments.length) {
    const probe = probeDisk(realPathOf(d.root, at.segments));
    if (probe.kind === 'symlink') {
      throw new Refusal(
        create && exclusive ? 'exist' : wantDirectory ? 'not-directory' : 'loop',
        'the path is a symlink',
      );
    }
  }
  // As wasmtime: creating or truncating implies writing; without `write`, the file is read.
  const writing = flags.write === true || create || truncate;
  const reading = flags.read === true || flags.write !== true;
  let osFlags = reading && writing ? C.O_RDWR : writing ? C.O_WRONLY : C.O_RDONLY;
  if (flags.fileIntegritySync || flags.requestedWriteSync) osFlags |= C.O_SYNC;
  if (flags.dataIntegritySync) osFlags |= C.O_DSYNC;
  let openFlagsOs = osFlags | C.O_NONBLOCK;
  if (create) openFlagsOs |= C.O_CREAT;
  if (create && exclusive) openFlagsOs |= C.O_EXCL;
  if (wantDirectory) openFlagsOs |= C.O_DIRECTORY;
  const fd = openBeneath(d.root.real, at.segments, openFlagsOs, 0o666);
  let adopted = false;
  try {
    if (fstatSync(fd).isDirectory()) {
      // Held by path, like every directory: the fd is closed below.
      return new DirectoryDescriptor(d.root, at.segments, flags.mutateDirectory === true);
    }
    if (truncate) ftruncateSync(fd, 0);
    const mode: FileMode = {
      read: reading,
      write: writing,
      sync: {
        fileIntegritySync: flags.fileIntegritySync === true,
        dataIntegritySync: flags.dataIntegritySync === true,
        requestedWriteSync: flags.requestedWriteSync === true,
      },
      osFlags,
    };
    const file = new FileDescriptor(d.root, at.segments, mode, pool, fd);
    adopted = true;
    return file;
  } finally {
    if (!adopted) closeSync(fd);
  }
}

/** The host object behind `directory-entry-stream`: a snapshot of the entries at the call. */
export class DirectoryEntryStream {
  private next = 0;

  constructor(private readonly entries: readonly ({ type: DescriptorType; name: string } | Refusal)[]) {}

  /** The next entry, or undefined at the end; `.` and `..` are not entries (WASI). */
  read(): { type: DescriptorType; name: string } | undefined {
    const entry = this.entries[this.next];
    if (entry === undefined) return undefined;
    this.next++;
    if (entry instanceof Refusal) throw entry;
    return entry;
  }
}

/**
 * `read-directory`: all entries at once (no fd is held for a stream the guest may never drop).
 * A name that is not UTF-8 cannot be a WIT string: that entry reads as `illegal-byte-sequence`.
 */
export function readDirectory(self: Descriptor): DirectoryEntryStream {
  const d = asDirectory(self);
  const fd = openBeneath(d.root.real, d.segments, C.O_RDONLY | C.O_DIRECTORY);
  try {
    const dirents = readdirSync(pathOfFd(fd, realPathOf(d.root, d.segments)), {
      withFileTypes: true,
      encoding: 'buffer',
    });
    return new DirectoryEntryStream(
      dirents.map((dirent) => {
        try {
          return { type: descriptorType(dirent), name: utf8.decode(dirent.name) };
        } catch {
          return new Refusal('illegal-byte-sequence', 'an entry name is not UTF-8');
        }
      }),
    );
  } finally {
    closeSync(fd);
  }
}
