/**
 * The host objects behind `descriptor` handles: a directory (a preopen or one the guest opened)
 * or an open file. Both are a location beneath a root — real segments, already resolved and
 * verified — plus what the guest may do through it.
 *
 * A directory holds no OS resource: each `*-at` call reaches its path through the root again
 * (check and use, see resolve.ts and osl's beneath.ts), so dropping one needs no cleanup. A
 * file holds an fd from the instance's `FdPool`, which bounds how many are open at once.
 */

import { type BigIntStats, closeSync, constants, fstatSync } from 'node:fs';
import { openBeneath } from '../../../osl/node/beneath.js';
import { AirssysError } from '../../../shared/errors.js';
import { Refusal, refuse } from './errors.js';
import type { FdPool, FdSlot } from './fd-pool.js';
import type { Root } from './preopens.js';

/** The `descriptor-flags` record, as the canon mapping names its fields. */
export interface DescriptorFlags {
  read?: boolean;
  write?: boolean;
  fileIntegritySync?: boolean;
  dataIntegritySync?: boolean;
  requestedWriteSync?: boolean;
  mutateDirectory?: boolean;
}

export abstract class Descriptor {
  constructor(
    readonly root: Root,
    /** Real segments beneath `root.real`. */
    readonly segments: readonly string[],
  ) {}

  /** Where the guest sees it (`/data/sub/a.txt`), for `onDenied` subjects and stream names. */
  get guestPath(): string {
    if (this.segments.length === 0) return this.root.guest;
    const base = this.root.guest.endsWith('/') ? this.root.guest.slice(0, -1) : this.root.guest;
    return `${base}/${this.segments.join('/')}`;
  }

  /** `get-flags`. */
  abstract flags(): DescriptorFlags;

  /** Refuses a change through a read-only preopen (`not-permitted`, as wasmtime; reported). */
  mutable(what: string): void {
    if (this.root.readOnly) throw refuse(`${this.root.guest} is read-only: ${what} is refused`);
  }
}

export class DirectoryDescriptor extends Descriptor {
  constructor(
    root: Root,
    segments: readonly string[],
    /** `mutate-directory` as asked at open (reported by `get-flags`; the root decides). */
    private readonly mutateFlag: boolean,
  ) {
    super(root, segments);
  }

  flags(): DescriptorFlags {
    return { read: true, mutateDirectory: this.mutateFlag && !this.root.readOnly };
  }
}

export interface FileMode {
  read: boolean;
  write: boolean;
  /** `file-integrity-sync` / `data-integrity-sync` / `requested-write-sync` as asked. */
  sync: Pick<DescriptorFlags, 'fileIntegritySync' | 'dataIntegritySync' | 'requestedWriteSync'>;
  /** `O_RDONLY` / `O_WRONLY` / `O_RDWR` plus `O_SYNC` / `O_DSYNC`: how to open it again. */
  osFlags: number;
}

export class FileDescriptor extends Descriptor {
  /** Pipes, sockets and devices have no positions: reads and writes go where the stream is. */
  readonly seekable: boolean;
  private readonly slot: FdSlot;
  /** Device, inode and birth time: which file this is (an inode number alone is soon reused). */
  private readonly identity: string;

  constructor(
    root: Root,
    segments: readonly string[],
    readonly mode: FileMode,
    private readonly pool: FdPool,
    fd: number,
  ) {
    super(root, segments);
    const st = fstatSync(fd, { bigint: true });
    this.identity = identityOf(st);
    this.seekable = st.isFile() || st.isBlockDevice();
    this.slot = pool.adopt(this, fd);
  }

  flags(): DescriptorFlags {
    return { read: this.mode.read, write: this.mode.write, ...this.mode.sync };
  }

  /** The guest dropped its handle: the fd closes now (a stream still reading the file reopens it). */
  [Symbol.dispose](): void {
    this.pool.release(this.slot);
  }

  /** Runs `fn` on the file's fd (reopened if the pool had closed it); `fn` must not keep it. */
  use<T>(fn: (fd: number) => T): T {
    return fn(this.pool.use(this.slot, () => this.reopen()));
  }

  /**
   * The same file again, by its path beneath the root. If something else is there now (it was
   * renamed, replaced or removed while evicted), the descriptor is dead: `bad-descriptor`.
   */
  private reopen(): number {
    let fd: number;
    try {
      fd = openBeneath(this.root.real, this.segments, this.mode.osFlags | constants.O_NONBLOCK);
    } catch (error) {
      if (error instanceof AirssysError && error.code === 'capability-denied') throw error;
      throw gone(this.guestPath);
    }
    const st = fstatSync(fd, { bigint: true });
    if (identityOf(st) !== this.identity) {
      closeSync(fd);
      throw gone(this.guestPath);
    }
    return fd;
  }
}

function identityOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.birthtimeNs}`;
}

function gone(path: string): Refusal {
  return new Refusal(
    'bad-descriptor',
    `${path} was closed to bound open files and is no longer there to reopen`,
  );
}
