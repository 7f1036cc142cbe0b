/**
 * The filesystem port: what osl needs from a filesystem, and nothing of how. Every call is made
 * *at a location beneath a root*, the contract of Linux `openat2(dirfd, path, RESOLVE_BENEATH)`:
 * an implementation resolves symlinks itself and must never touch anything outside `root`,
 * whatever the path or the disk looks like at the moment of access. Guards decide which root
 * and which access; the port makes the decision hold at the syscall.
 *
 * Two implementations pass one contract suite (test/osl/contract/file-system.case.ts):
 * `NodeFileSystem` (the real disk) and `MemoryFileSystem` (for tests).
 */

/** A path beneath a root. Both absolute and normalised; `path` equals or starts with `root/`. */
export interface Location {
  readonly root: string;
  readonly path: string;
}

export interface OpenMode {
  /** Defaults to true unless `write` or `append` is set. */
  read?: boolean;
  write?: boolean;
  append?: boolean;
  create?: boolean;
  /** With `create`: fail with `invalid-argument` if the file exists. */
  exclusive?: boolean;
  /** Empty the file on open. Needs `write`. */
  truncate?: boolean;
}

export type EntryType = 'file' | 'directory' | 'symlink' | 'other';

export interface FileStat {
  readonly type: EntryType;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface DirEntry {
  readonly name: string;
  readonly type: EntryType;
}

/** An open regular file. Reads return fewer bytes than asked at end of file, none past it. */
export interface FileHandle {
  read(length: number, position?: number): Promise<Uint8Array>;
  write(data: Uint8Array, position?: number): Promise<number>;
  stat(): Promise<FileStat>;
  close(): Promise<void>;
}

/**
 * Errors are `AirssysError`s: `not-found` (no such entry), `invalid-argument` (exists, not a
 * directory, is a directory, not empty, not a regular file, too many links),
 * `capability-denied` (resolution or access would leave the root) and `storage-error` (the rest).
 */
export interface FileSystem {
  /** The real path beneath root (symlinks resolved; missing trailing parts kept as written). */
  resolve(at: Location): Promise<string>;
  open(at: Location, mode: OpenMode): Promise<FileHandle>;
  /** Whole-file read, refused with `capability-denied` when larger than `maxBytes`. */
  readFile(at: Location, maxBytes: number): Promise<Uint8Array>;
  /** Creates or replaces (or appends to) a whole file. */
  writeFile(at: Location, data: Uint8Array, options?: { append?: boolean }): Promise<void>;
  stat(at: Location): Promise<FileStat>;
  readdir(at: Location): Promise<DirEntry[]>;
  mkdir(at: Location): Promise<void>;
  /** Removes a file (not a directory). */
  unlink(at: Location): Promise<void>;
  rename(from: Location, to: Location): Promise<void>;
}

/** Path of `at` relative to its root, as segments (empty for the root itself). */
export function segmentsBeneath(at: Location): string[] {
  if (at.path === at.root) return [];
  const prefix = at.root === '/' ? '/' : `${at.root}/`;
  if (!at.path.startsWith(prefix)) {
    throw new TypeError(`location ${at.path} is not beneath ${at.root}`);
  }
  return at.path.slice(prefix.length).split('/');
}

export function joinBeneath(root: string, segments: readonly string[]): string {
  if (segments.length === 0) return root;
  return root === '/' ? `/${segments.join('/')}` : `${root}/${segments.join('/')}`;
}
