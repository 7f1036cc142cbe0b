/** The guest's filesystem API: raw guest input in, every call through the guard chain. */

import type { DirEntry, FileHandle, FileStat, OpenMode } from '../ports/file-system.js';
import type { Run } from './sandbox.js';

/** Largest whole-file read when the caller does not say (the quota may lower it further). */
export const DEFAULT_MAX_READ = 64 * 1024 * 1024;

/** An open file of the guest. Reads and writes pass the chain (quota), audited when refused. */
export class SandboxFileHandle {
  private closed = false;

  constructor(
    private readonly run: Run,
    private readonly handle: FileHandle,
    readonly path: string,
    private readonly onClose: (h: SandboxFileHandle) => void,
  ) {}

  read(length: number, position?: number): Promise<Uint8Array> {
    return this.run({ kind: 'fs.read', handle: this.handle, path: this.path, length, position }, this.path);
  }

  write(data: Uint8Array, position?: number): Promise<number> {
    return this.run({ kind: 'fs.write', handle: this.handle, path: this.path, data, position }, this.path);
  }

  stat(): Promise<FileStat> {
    return this.handle.stat();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    await this.handle.close();
  }
}

/**
 * @example
 * await sandbox.fs.writeFile('/data/out/result.json', new TextEncoder().encode('{}'));
 * const entries = await sandbox.fs.readdir('/data/in');
 */
export class SandboxFileSystem {
  private readonly open_ = new Set<SandboxFileHandle>();

  constructor(private readonly run: Run) {}

  async open(path: string | Uint8Array, mode: OpenMode = { read: true }): Promise<SandboxFileHandle> {
    const handle = await this.run<FileHandle>({ kind: 'fs.open', path, mode: { ...mode } }, path);
    const guestHandle = new SandboxFileHandle(this.run, handle, String(path), (h) => this.open_.delete(h));
    this.open_.add(guestHandle);
    return guestHandle;
  }

  readFile(path: string | Uint8Array, options: { maxBytes?: number } = {}): Promise<Uint8Array> {
    return this.run({ kind: 'fs.read-file', path, maxBytes: options.maxBytes ?? DEFAULT_MAX_READ }, path);
  }

  writeFile(path: string | Uint8Array, data: Uint8Array, options: { append?: boolean } = {}): Promise<void> {
    return this.run({ kind: 'fs.write-file', path, data, append: options.append === true }, path);
  }

  stat(path: string | Uint8Array): Promise<FileStat> {
    return this.run({ kind: 'fs.stat', path }, path);
  }

  readdir(path: string | Uint8Array): Promise<DirEntry[]> {
    return this.run({ kind: 'fs.readdir', path }, path);
  }

  mkdir(path: string | Uint8Array): Promise<void> {
    return this.run({ kind: 'fs.mkdir', path }, path);
  }

  unlink(path: string | Uint8Array): Promise<void> {
    return this.run({ kind: 'fs.unlink', path }, path);
  }

  rename(from: string | Uint8Array, to: string | Uint8Array): Promise<void> {
    return this.run({ kind: 'fs.rename', from, to }, `${String(from)} -> ${String(to)}`);
  }

  /** Files currently open. */
  get openCount(): number {
    return this.open_.size;
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.open_].map((h) => h.close()));
  }
}
