/**
 * The filesystem port on the real disk, race-free on Linux.
 *
 * THREAT MODEL: checking a path and then opening it by name is a time-of-check/time-of-use
 * race: between the two, anyone who can write inside the granted folder can swap a directory
 * or file for a symlink to `/etc`, and the open follows it. So every access is two steps:
 *
 * 1. resolve the path beneath the root component by component (resolve-beneath.ts) — the check;
 * 2. reach it through its verified parent directory (`/proc/self/fd/N/<name>`, `O_NOFOLLOW`,
 *    the opened descriptor's real path verified again; see beneath.ts) — the use. `O_NONBLOCK`
 *    keeps a FIFO from hanging the host, and a file is truncated only after that verification
 *    (`ftruncate`), never with `O_TRUNC` at open, so a swapped link can never empty a file
 *    outside the root.
 *
 * Metadata syscalls are synchronous (microseconds on a local disk, and no thread-pool hop);
 * file contents move asynchronously. Without `/proc` (not Linux) the use falls back to
 * comparing device and inode: the check then narrows the race window but cannot close it —
 * docs/security.md says so.
 */

import * as fs from 'node:fs';
import { promisify } from 'node:util';
import type { AirssysError } from '../../shared/errors.js';
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
import { resolveBeneath } from '../ports/resolve-beneath.js';
import { atParent, fromErrno, openBeneath, pathOfFd, probeDisk } from './beneath.js';

export { fromErrno } from './beneath.js';

const C = fs.constants;
const readAsync = promisify(fs.read);
const writeAsync = promisify(fs.write);

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
    const dir = openBeneath(realRoot, segments, C.O_RDONLY | C.O_DIRECTORY, 0, this.options.beforeAccess);
    try {
      const path = pathOfFd(dir, joinBeneath(realRoot, segments));
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

  private openFile(at: Location, mode: OpenMode): number {
    const { realRoot, segments } = this.resolveSync(at);
    if (segments.length === 0) throw malformed(`${at.path} is a directory`);
    const writing = mode.write === true || mode.append === true;
    const reading = mode.read ?? !writing;
    let flags = reading && writing ? C.O_RDWR : writing ? C.O_WRONLY : C.O_RDONLY;
    if (mode.append) flags |= C.O_APPEND;
    if (mode.create) flags |= C.O_CREAT;
    if (mode.create && mode.exclusive) flags |= C.O_EXCL;
    const fd = openBeneath(realRoot, segments, flags | C.O_NONBLOCK, 0o644, this.options.beforeAccess);
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
    if (segments.length === 0 && !allowRoot) {
      throw malformed(`${at.path} is a grant root and cannot be changed`);
    }
    return atParent(realRoot, segments, (leaf) => wrap(() => fn(leaf), at.path), this.options.beforeAccess);
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
