/**
 * An in-memory filesystem for tests: the same port contract as the real disk (resolution
 * beneath a root, symlinks, the same error codes), no I/O. Tests build its contents with the
 * `seed*` methods, which act as "the host" and bypass every rule.
 */

import { AirssysError } from '../../shared/errors.js';
import { denied, malformed } from '../deny.js';
import {
  type DirEntry,
  type FileHandle,
  type FileStat,
  type FileSystem,
  joinBeneath,
  type Location,
  type OpenMode,
  segmentsBeneath,
} from '../ports/file-system.js';
import { type Probe, resolveBeneath } from '../ports/resolve-beneath.js';

type Node =
  | { kind: 'directory'; entries: Map<string, Node>; mtimeMs: number }
  | { kind: 'file'; data: Uint8Array; mtimeMs: number }
  | { kind: 'symlink'; target: string; mtimeMs: number };

/**
 * @example
 * const mem = new MemoryFileSystem();
 * mem.seedFile('/data/in/a.txt', 'hello');
 * await mem.readFile({ root: '/data/in', path: '/data/in/a.txt' }, 1024);
 */
export class MemoryFileSystem implements FileSystem {
  private readonly tree: Node = { kind: 'directory', entries: new Map(), mtimeMs: Date.now() };

  /** Test seam, as in `NodeFileSystem`: runs between resolution and access. */
  beforeAccess: ((realPath: string) => void) | undefined;

  // --- seeding (host side, no rules) -----------------------------------------------------

  seedDir(path: string): void {
    let dir = this.tree;
    for (const seg of split(path)) {
      if (dir.kind !== 'directory') throw new Error(`seedDir: ${path} crosses a non-directory`);
      let next = dir.entries.get(seg);
      if (!next)
        dir.entries.set(seg, (next = { kind: 'directory', entries: new Map(), mtimeMs: Date.now() }));
      dir = next;
    }
  }

  seedFile(path: string, content: string | Uint8Array): void {
    const { parent, name } = this.seedParent(path);
    const data = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    parent.set(name, { kind: 'file', data, mtimeMs: Date.now() });
  }

  seedSymlink(target: string, path: string): void {
    const { parent, name } = this.seedParent(path);
    parent.set(name, { kind: 'symlink', target, mtimeMs: Date.now() });
  }

  seedRemove(path: string): void {
    const { parent, name } = this.seedParent(path);
    parent.delete(name);
  }

  private seedParent(path: string): { parent: Map<string, Node>; name: string } {
    const segs = split(path);
    const name = segs.pop()!;
    this.seedDir(`/${segs.join('/')}`);
    const dir = this.lookupRaw(segs);
    if (dir?.kind !== 'directory') throw new Error(`seed: parent of ${path} is not a directory`);
    return { parent: dir.entries, name };
  }

  // --- the port ---------------------------------------------------------------------------

  async resolve(at: Location): Promise<string> {
    return joinBeneath(at.root, this.resolveSegs(at));
  }

  async open(at: Location, mode: OpenMode): Promise<FileHandle> {
    const file = this.openFile(at, mode);
    return new MemoryFileHandle(file, mode);
  }

  async readFile(at: Location, maxBytes: number): Promise<Uint8Array> {
    const file = this.openFile(at, { read: true });
    if (file.data.length > maxBytes) {
      throw denied(`file is ${file.data.length} bytes, over the ${maxBytes}-byte limit`, {
        limit: maxBytes,
        actual: file.data.length,
        quota: 'bytes',
      });
    }
    return file.data.slice();
  }

  async writeFile(at: Location, data: Uint8Array, options: { append?: boolean } = {}): Promise<void> {
    const file = this.openFile(at, { write: true, create: true, truncate: !options.append });
    file.data = options.append ? concat(file.data, data) : data.slice();
    file.mtimeMs = Date.now();
  }

  async stat(at: Location): Promise<FileStat> {
    const node = this.access(at).node;
    if (!node) throw notFound(at.path);
    return statOf(node);
  }

  async readdir(at: Location): Promise<DirEntry[]> {
    const node = this.access(at).node;
    if (!node) throw notFound(at.path);
    if (node.kind !== 'directory') throw malformed(`a component of ${at.path} is not a directory`);
    return [...node.entries]
      .map(([name, n]) => ({ name, type: n.kind }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async mkdir(at: Location): Promise<void> {
    const { parent, name, node } = this.access(at, false);
    if (node) throw malformed(`${at.path} already exists`);
    parent!.set(name!, { kind: 'directory', entries: new Map(), mtimeMs: Date.now() });
  }

  async unlink(at: Location): Promise<void> {
    const { parent, name, node } = this.access(at, false);
    if (!node) throw notFound(at.path);
    if (node.kind === 'directory') throw malformed(`${at.path} is a directory`);
    parent!.delete(name!);
  }

  async rename(from: Location, to: Location): Promise<void> {
    const a = this.access(from, false);
    if (!a.node) throw notFound(from.path);
    const b = this.access(to, false);
    if (b.node?.kind === 'directory' && a.node.kind !== 'directory')
      throw malformed(`${to.path} is a directory`);
    a.parent!.delete(a.name!);
    b.parent!.set(b.name!, a.node);
  }

  // --- internals -------------------------------------------------------------------------

  private openFile(at: Location, mode: OpenMode): { data: Uint8Array; mtimeMs: number } {
    const { parent, name, node } = this.access(at, false);
    if (node?.kind === 'symlink') throw denied(`${at.path} became a symbolic link after the check`);
    if (node?.kind === 'directory') throw malformed(`${at.path} is a directory`);
    if (node && mode.create && mode.exclusive) throw malformed(`${at.path} already exists`);
    if (!node) {
      if (!mode.create) throw notFound(at.path);
      const file = { kind: 'file' as const, data: new Uint8Array(0), mtimeMs: Date.now() };
      parent!.set(name!, file);
      return file;
    }
    if (mode.truncate && (mode.write || mode.append)) node.data = new Uint8Array(0);
    return node;
  }

  private resolveSegs(at: Location): string[] {
    const realRoot = this.realPath(at.root);
    return resolveBeneath(at.root, realRoot, segmentsBeneath(at), (p) => this.probe(p));
  }

  /** Resolution (the check), then the access re-walks the real path without following links. */
  private access(at: Location, allowRoot = true) {
    const segs = this.resolveSegs(at);
    const realRoot = this.realPath(at.root);
    const full = [...split(realRoot), ...segs];
    this.beforeAccess?.(joinBeneath(realRoot, segs));
    if (segs.length === 0) {
      if (!allowRoot) throw malformed(`${at.path} is a grant root and cannot be changed`);
      return { parent: undefined, name: undefined, node: this.lookupRaw(full) };
    }
    const parentNode = this.lookupRaw(full.slice(0, -1), true);
    if (!parentNode) throw notFound(at.path);
    if (parentNode.kind !== 'directory') throw malformed(`a component of ${at.path} is not a directory`);
    const name = full[full.length - 1];
    return { parent: parentNode.entries, name, node: parentNode.entries.get(name) };
  }

  private realPath(root: string): string {
    const segs: string[] = [];
    const queue = split(root);
    let links = 0;
    while (queue.length) {
      const seg = queue.shift()!;
      const node = this.lookupRaw([...segs, seg]);
      if (node?.kind === 'symlink') {
        if (++links > 40) throw malformed('too many levels of symbolic links');
        if (node.target.startsWith('/')) segs.length = 0;
        queue.unshift(...node.target.split('/').filter((s) => s && s !== '.'));
      } else if (seg === '..') segs.pop();
      else segs.push(seg);
    }
    if (this.lookupRaw(segs)?.kind !== 'directory') throw notFound(root);
    return `/${segs.join('/')}`;
  }

  /** Walks without following symlinks; with `strict`, a symlink on the way (swapped in) is refused. */
  private lookupRaw(segs: readonly string[], strict = false): Node | undefined {
    let node: Node = this.tree;
    for (const seg of segs) {
      if (node.kind === 'symlink' && strict)
        throw denied('a directory became a symbolic link after the check');
      if (node.kind !== 'directory') return undefined;
      const next = node.entries.get(seg);
      if (!next) return undefined;
      node = next;
    }
    if (node.kind === 'symlink' && strict) throw denied('a directory became a symbolic link after the check');
    return node;
  }

  private probe(path: string): Probe {
    const node = this.lookupRaw(split(path));
    if (!node) return { kind: 'missing' };
    return node.kind === 'symlink' ? { kind: 'symlink', target: node.target } : { kind: 'other' };
  }
}

class MemoryFileHandle implements FileHandle {
  private closed = false;
  private position = 0;

  constructor(
    private readonly file: { data: Uint8Array; mtimeMs: number },
    private readonly mode: OpenMode,
  ) {}

  async read(length: number, position?: number): Promise<Uint8Array> {
    this.ensure(this.mode.read ?? !(this.mode.write || this.mode.append));
    const at = position ?? this.position;
    const out = this.file.data.slice(at, at + length);
    if (position === undefined) this.position += out.length;
    return out;
  }

  async write(data: Uint8Array, position?: number): Promise<number> {
    this.ensure(this.mode.write === true || this.mode.append === true);
    const at = this.mode.append ? this.file.data.length : (position ?? this.position);
    const end = at + data.length;
    const next = new Uint8Array(Math.max(end, this.file.data.length));
    next.set(this.file.data);
    next.set(data, at);
    this.file.data = next;
    this.file.mtimeMs = Date.now();
    if (position === undefined) this.position = end;
    return data.length;
  }

  async stat(): Promise<FileStat> {
    this.ensure(true);
    return { type: 'file', size: this.file.data.length, mtimeMs: this.file.mtimeMs };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private ensure(allowed: boolean): void {
    if (this.closed) throw malformed('file handle is closed');
    if (!allowed) throw malformed('file: not open for this access');
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '' && s !== '.');
}

function statOf(node: Node): FileStat {
  return { type: node.kind, size: node.kind === 'file' ? node.data.length : 0, mtimeMs: node.mtimeMs };
}

function notFound(path: string): AirssysError {
  return new AirssysError('not-found', `${path} does not exist`, { blame: 'guest', details: { path } });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
