/**
 * The filesystem port on the real disk, race-free on Linux.
 *
 * THREAT MODEL: checking a path and then opening it by name is a time-of-check/time-of-use
 * race: between the two, anyone who can write inside the granted folder can swap a directory
 * or file for a symlink to `/etc`, and the open follows it. Node has no `openat2`, so this port
 * gets the same guarantee from procfs:
 *
 * 1. resolve the path beneath the root component by component (resolve-beneath.ts) — the check;
 * 2. open the *parent directory* and read back the real path of the descriptor from
 *    `/proc/self/fd/N`; if it is not beneath the root, something moved: refuse;
 * 3. reach the last component through `/proc/self/fd/N/<name>` — relative to the directory we
 *    verified, not to a path that may have changed — with `O_NOFOLLOW` (a symlink appearing
 *    there now fails with ELOOP, reported as `capability-denied`) and `O_NONBLOCK` (a FIFO
 *    cannot hang the host), and verify the opened file's real path the same way;
 * 4. truncate only after that verification (`ftruncate`), never with `O_TRUNC` at open, so a
 *    swapped link can never empty a file outside the root.
 *
 * Metadata syscalls are synchronous (microseconds on a local disk, and no thread-pool hop);
 * file contents move asynchronously. Without `/proc` (not Linux) step 2–3 fall back to
 * comparing the opened descriptor's device and inode with the resolved path: the check then
 * narrows the race window but cannot close it — docs/security.md says so.
 */

import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { AirssysError } from '../../shared/errors.js';
import { denied, malformed } from '../deny.js';
import {
  type DirEntry,
  type EntryType,
  type FileHandle,
  type FileStat,
  type FileSystem,
  joinBeneath,
  type Location,
  type OpenMode,
  segmentsBeneath,
} from '../ports/file-system.js';
import { type Probe, resolveBeneath } from '../ports/resolve-beneath.js';

const C = fs.constants;
const readAsync = promisify(fs.read);
const writeAsync = promisify(fs.write);
const HAS_PROC_FD = fs.existsSync('/proc/self/fd');

export interface NodeFileSystemOptions {
  /**
   * Test seam: called after resolution and before the access, with the real path about to be
   * used. Hostile tests swap symlinks here to prove the check at access holds.
   */
  beforeAccess?: (realPath: string) => void;
}

/**
 * @example
 * const fsPort = new NodeFileSystem();
 * const bytes = await fsPort.readFile({ root: '/data/in', path: '/data/in/a.txt' }, 1 << 20);
 */
export class NodeFileSystem implements FileSystem {
  private readonly realRoots = new Map<string, string>();

  constructor(private readonly options: NodeFileSystemOptions = {}) {}

  async resolve(at: Location): Promise<string> {
    return joinBeneath(at.root, this.resolveSync(at).segments);
  }

  async open(at: Location, mode: OpenMode): Promise<FileHandle> {
    const fd = this.openFile(at, mode);
    return new NodeFileHandle(fd);
  }

  async readFile(at: Location, maxBytes: number): Promise<Uint8Array> {
    const fd = this.openFile(at, { read: true });
    try {
      const size = fs.fstatSync(fd).size;
      if (size > maxBytes) throw tooBig(size, maxBytes);
      const buffer = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) {
        const { bytesRead } = await readAsync(fd, buffer, got, size - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      // Note: a file that grew after fstat is read only up to the size we checked.
      return got === size ? buffer : buffer.subarray(0, got);
    } finally {
      fs.closeSync(fd);
    }
  }

  async writeFile(at: Location, data: Uint8Array, options: { append?: boolean } = {}): Promise<void> {
    const fd = this.openFile(at, {
      write: true,
      create: true,
      truncate: !options.append,
      append: options.append,
    });
    try {
      let done = 0;
      while (done < data.length) {
        done += (await writeAsync(fd, data, done, data.length - done, options.append ? null : done))
          .bytesWritten;
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  async stat(at: Location): Promise<FileStat> {
    return this.atParent(at, true, (leafPath) => toStat(fs.lstatSync(leafPath)));
  }

  async readdir(at: Location): Promise<DirEntry[]> {
    const { realRoot, segments } = this.resolveSync(at);
    const dir = this.openVerified(realRoot, segments, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
    try {
      const path = HAS_PROC_FD ? `/proc/self/fd/${dir}` : joinBeneath(realRoot, segments);
      return fs
        .readdirSync(path, { withFileTypes: true })
        .map((d) => ({ name: d.name, type: direntType(d) }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (error) {
      throw fromErrno(error, at.path);
    } finally {
      fs.closeSync(dir);
    }
  }

  async mkdir(at: Location): Promise<void> {
    this.atParent(at, false, (leafPath) => fs.mkdirSync(leafPath, 0o755));
  }

  async unlink(at: Location): Promise<void> {
    this.atParent(at, false, (leafPath) => {
      if (fs.lstatSync(leafPath).isDirectory()) throw malformed(`${at.path} is a directory`);
      fs.unlinkSync(leafPath);
    });
  }

  async rename(from: Location, to: Location): Promise<void> {
    this.atParent(from, false, (fromLeaf) =>
      this.atParent(to, false, (toLeaf) => fs.renameSync(fromLeaf, toLeaf)),
    );
  }

  // --- the beneath machinery -------------------------------------------------------------

  private realRoot(root: string): string {
    let real = this.realRoots.get(root);
    if (real === undefined) {
      try {
        real = fs.realpathSync(root);
      } catch (error) {
        throw fromErrno(error, root);
      }
      this.realRoots.set(root, real);
    }
    return real;
  }

  private resolveSync(at: Location): { realRoot: string; segments: string[] } {
    const realRoot = this.realRoot(at.root);
    const segments = resolveBeneath(at.root, realRoot, segmentsBeneath(at), probeDisk);
    return { realRoot, segments };
  }

  /** Opens `realRoot/segments` and proves the descriptor is beneath the root before returning it. */
  private openVerified(realRoot: string, segments: string[], flags: number, createMode = 0o644): number {
    if (segments.length === 0) {
      const fd = openOrThrow(realRoot, flags & ~C.O_NOFOLLOW, createMode, realRoot);
      return fd;
    }
    const parentPath = joinBeneath(realRoot, segments.slice(0, -1));
    const leaf = segments[segments.length - 1];
    this.options.beforeAccess?.(joinBeneath(realRoot, segments));
    const parent = openOrThrow(parentPath, C.O_RDONLY | C.O_DIRECTORY, 0, parentPath);
    try {
      verifyBeneath(parent, realRoot, parentPath);
      const leafPath = HAS_PROC_FD ? `/proc/self/fd/${parent}/${leaf}` : `${parentPath}/${leaf}`;
      const fd = openOrThrow(leafPath, flags | C.O_NOFOLLOW, createMode, joinBeneath(realRoot, segments));
      try {
        verifyBeneath(fd, realRoot, joinBeneath(realRoot, segments));
      } catch (error) {
        fs.closeSync(fd);
        throw error;
      }
      return fd;
    } finally {
      fs.closeSync(parent);
    }
  }

  private openFile(at: Location, mode: OpenMode): number {
    const { realRoot, segments } = this.resolveSync(at);
    if (segments.length === 0) throw malformed(`${at.path} is a directory`);
    const writing = mode.write === true || mode.append === true;
    const reading = mode.read ?? !writing;
    let flags = reading && writing ? C.O_RDWR : writing ? C.O_WRONLY : C.O_RDONLY;
    if (mode.append) flags |= C.O_APPEND;
    if (mode.create) flags |= C.O_CREAT;
    if (mode.create && mode.exclusive) flags |= C.O_EXCL;
    const fd = this.openVerified(realRoot, segments, flags | C.O_NONBLOCK);
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw malformed(`${at.path} is not a regular file`);
      if (mode.truncate && writing) fs.ftruncateSync(fd, 0);
      return fd;
    } catch (error) {
      fs.closeSync(fd);
      throw fromErrno(error, at.path);
    }
  }

  /** Runs `fn` on the last component reached through its verified parent directory. */
  private atParent<T>(at: Location, allowRoot: boolean, fn: (leafPath: string) => T): T {
    const { realRoot, segments } = this.resolveSync(at);
    if (segments.length === 0) {
      if (!allowRoot) throw malformed(`${at.path} is a grant root and cannot be changed`);
      return wrap(() => fn(realRoot), at.path);
    }
    const parentPath = joinBeneath(realRoot, segments.slice(0, -1));
    this.options.beforeAccess?.(joinBeneath(realRoot, segments));
    const parent = openOrThrow(parentPath, C.O_RDONLY | C.O_DIRECTORY, 0, parentPath);
    try {
      verifyBeneath(parent, realRoot, parentPath);
      const leaf = segments[segments.length - 1];
      return wrap(
        () => fn(HAS_PROC_FD ? `/proc/self/fd/${parent}/${leaf}` : `${parentPath}/${leaf}`),
        at.path,
      );
    } finally {
      fs.closeSync(parent);
    }
  }
}

class NodeFileHandle implements FileHandle {
  private closed = false;

  constructor(private readonly fd: number) {}

  async read(length: number, position?: number): Promise<Uint8Array> {
    this.ensureOpen();
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await wrapAsync(() => readAsync(this.fd, buffer, 0, length, position ?? null));
    return buffer.subarray(0, bytesRead);
  }

  async write(data: Uint8Array, position?: number): Promise<number> {
    this.ensureOpen();
    const { bytesWritten } = await wrapAsync(() =>
      writeAsync(this.fd, data, 0, data.length, position ?? null),
    );
    return bytesWritten;
  }

  async stat(): Promise<FileStat> {
    this.ensureOpen();
    return toStat(fs.fstatSync(this.fd));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }

  private ensureOpen(): void {
    if (this.closed) throw malformed('file handle is closed');
  }
}

function probeDisk(absolute: string): Probe {
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

function verifyBeneath(fd: number, realRoot: string, expected: string): void {
  if (HAS_PROC_FD) {
    const real = fs.readlinkSync(`/proc/self/fd/${fd}`);
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

function openOrThrow(path: string, flags: number, mode: number, shown: string): number {
  try {
    return fs.openSync(path, flags, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
      throw denied(`${shown} became a symbolic link after the check`, { path: shown });
    }
    throw fromErrno(error, shown);
  }
}

function wrap<T>(fn: () => T, shown: string): T {
  try {
    return fn();
  } catch (error) {
    throw fromErrno(error, shown);
  }
}

async function wrapAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw fromErrno(error, 'file');
  }
}

function tooBig(size: number, limit: number): AirssysError {
  return denied(`file is ${size} bytes, over the ${limit}-byte limit`, {
    limit,
    actual: size,
    quota: 'bytes',
  });
}

/** errno → stable code. Already-typed errors pass through untouched. */
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

function toStat(st: fs.Stats): FileStat {
  const type: EntryType = st.isFile()
    ? 'file'
    : st.isDirectory()
      ? 'directory'
      : st.isSymbolicLink()
        ? 'symlink'
        : 'other';
  return { type, size: st.size, mtimeMs: st.mtimeMs };
}

function direntType(d: fs.Dirent): EntryType {
  return d.isFile() ? 'file' : d.isDirectory() ? 'directory' : d.isSymbolicLink() ? 'symlink' : 'other';
}
