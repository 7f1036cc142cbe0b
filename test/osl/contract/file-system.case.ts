/**
 * The FileSystem port contract, run against every implementation (Hono's `runTest({ newRouter })`).
 * Each fixture hands over a port, an existing empty root, host-side seeding and the
 * between-check-and-access seam.
 */

import { describe, expect, it } from 'vitest';
import type { FileSystem } from '../../../src/osl/ports/file-system.js';

export interface FileSystemFixture {
  fs: FileSystem;
  root: string;
  file(rel: string, text: string): void;
  dir(rel: string): void;
  symlink(target: string, rel: string): void;
  remove(rel: string): void;
  /** Installs the seam called between resolution and access. */
  beforeAccess(fn: ((realPath: string) => void) | undefined): void;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

export function runFileSystemContract(name: string, { make }: { make: () => FileSystemFixture }): void {
  describe(`${name} — FileSystem contract`, () => {
    const at = (f: FileSystemFixture, rel: string) => ({
      root: f.root,
      path: rel ? `${f.root}/${rel}` : f.root,
    });

    it('writes a file and reads it back', async () => {
      const f = make();
      await f.fs.writeFile(at(f, 'a.txt'), bytes('hello'));
      expect(text(await f.fs.readFile(at(f, 'a.txt'), 100))).toBe('hello');
      await f.fs.writeFile(at(f, 'a.txt'), bytes(' world'), { append: true });
      expect(text(await f.fs.readFile(at(f, 'a.txt'), 100))).toBe('hello world');
    });

    it('reports a missing file as not-found', async () => {
      const f = make();
      await expect(f.fs.readFile(at(f, 'nope'), 10)).rejects.toMatchObject({ code: 'not-found' });
      await expect(f.fs.stat(at(f, 'nope'))).rejects.toMatchObject({ code: 'not-found' });
    });

    it('refuses a whole-file read over the byte limit', async () => {
      const f = make();
      f.file('big', 'x'.repeat(100));
      await expect(f.fs.readFile(at(f, 'big'), 99)).rejects.toMatchObject({ code: 'capability-denied' });
    });

    it('opens handles for positioned reads and writes', async () => {
      const f = make();
      const h = await f.fs.open(at(f, 'h.bin'), { read: true, write: true, create: true });
      expect(await h.write(bytes('abcdef'), 0)).toBe(6);
      expect(text(await h.read(3, 2))).toBe('cde');
      expect(text(await h.read(10, 6))).toBe('');
      expect((await h.stat()).size).toBe(6);
      await h.close();
      await expect(h.read(1, 0)).rejects.toMatchObject({ code: 'invalid-argument' });
    });

    it('refuses writing through a read-only handle', async () => {
      const f = make();
      f.file('ro', 'data');
      const h = await f.fs.open(at(f, 'ro'), { read: true });
      await expect(h.write(bytes('x'), 0)).rejects.toMatchObject({ code: 'invalid-argument' });
      await h.close();
    });

    it('truncates on request and refuses an exclusive create of an existing file', async () => {
      const f = make();
      f.file('t', 'content');
      const h = await f.fs.open(at(f, 't'), { write: true, truncate: true });
      await h.close();
      expect((await f.fs.stat(at(f, 't'))).size).toBe(0);
      await expect(
        f.fs.open(at(f, 't'), { write: true, create: true, exclusive: true }),
      ).rejects.toMatchObject({
        code: 'invalid-argument',
      });
    });

    it('stats, lists (sorted, typed), makes and removes', async () => {
      const f = make();
      f.file('b.txt', '12');
      await f.fs.mkdir(at(f, 'sub'));
      await expect(f.fs.mkdir(at(f, 'sub'))).rejects.toMatchObject({ code: 'invalid-argument' });
      expect(await f.fs.readdir(at(f, ''))).toEqual([
        { name: 'b.txt', type: 'file' },
        { name: 'sub', type: 'directory' },
      ]);
      expect(await f.fs.stat(at(f, 'b.txt'))).toMatchObject({ type: 'file', size: 2 });
      expect(await f.fs.stat(at(f, 'sub'))).toMatchObject({ type: 'directory' });
      await expect(f.fs.unlink(at(f, 'sub'))).rejects.toMatchObject({ code: 'invalid-argument' });
      await f.fs.unlink(at(f, 'b.txt'));
      await expect(f.fs.stat(at(f, 'b.txt'))).rejects.toMatchObject({ code: 'not-found' });
    });

    it('renames within the root', async () => {
      const f = make();
      f.file('from', 'x');
      f.dir('d');
      await f.fs.rename(at(f, 'from'), at(f, 'd/to'));
      expect(text(await f.fs.readFile(at(f, 'd/to'), 10))).toBe('x');
      await expect(f.fs.stat(at(f, 'from'))).rejects.toMatchObject({ code: 'not-found' });
    });

    it('refuses to change the root itself', async () => {
      const f = make();
      await expect(f.fs.unlink(at(f, ''))).rejects.toMatchObject({ code: 'invalid-argument' });
    });

    it('treats a file used as a directory as invalid-argument', async () => {
      const f = make();
      f.file('plain', 'x');
      await expect(f.fs.readFile(at(f, 'plain/inner'), 10)).rejects.toMatchObject({
        code: 'invalid-argument',
      });
    });

    it('follows symlinks that stay beneath the root', async () => {
      const f = make();
      f.file('real/target.txt', 'inside');
      f.symlink('real/target.txt', 'link');
      f.symlink(`${f.root}/real`, 'abs-dir');
      expect(await f.fs.resolve(at(f, 'link'))).toBe(`${f.root}/real/target.txt`);
      expect(text(await f.fs.readFile(at(f, 'link'), 10))).toBe('inside');
      expect(text(await f.fs.readFile(at(f, 'abs-dir/target.txt'), 10))).toBe('inside');
    });

    it('refuses symlinks that leave the root, absolute or through ..', async () => {
      const f = make();
      f.symlink('/etc', 'abs');
      f.symlink('../..', 'up');
      for (const rel of ['abs/passwd', 'up/etc/passwd']) {
        await expect(f.fs.readFile(at(f, rel), 10)).rejects.toMatchObject({ code: 'capability-denied' });
        await expect(f.fs.resolve(at(f, rel))).rejects.toMatchObject({ code: 'capability-denied' });
      }
    });

    it('refuses an escape that comes back in (RESOLVE_BENEATH, not a final-path check)', async () => {
      const f = make();
      f.file('x/ok', 'ok');
      f.symlink(`../${f.root.split('/').pop()}/x/ok`, 'bounce');
      await expect(f.fs.readFile(at(f, 'bounce'), 10)).rejects.toMatchObject({ code: 'capability-denied' });
    });

    it('refuses when a checked path is swapped for a symlink before the access', async () => {
      const f = make();
      f.file('dir/file', 'inside');
      f.beforeAccess(() => {
        f.remove('dir/file');
        f.symlink('/etc/hostname', 'dir/file');
      });
      await expect(f.fs.readFile(at(f, 'dir/file'), 100)).rejects.toMatchObject({
        code: 'capability-denied',
      });
      f.beforeAccess(undefined);
    });

    it('refuses when a checked directory is swapped for a symlink before the access', async () => {
      const f = make();
      f.file('dir/file', 'inside');
      f.beforeAccess(() => {
        f.remove('dir');
        f.symlink('/etc', 'dir');
      });
      await expect(f.fs.readFile(at(f, 'dir/file'), 100)).rejects.toMatchObject({
        code: 'capability-denied',
      });
      await expect(f.fs.writeFile(at(f, 'dir/new'), bytes('x'))).rejects.toMatchObject({
        code: 'capability-denied',
      });
      f.beforeAccess(undefined);
    });
  });
}
