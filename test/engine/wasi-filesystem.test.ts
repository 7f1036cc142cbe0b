// wasi:filesystem on real directories: C programs (wasi-libc + the preview1 adapter) on temp
// folders, the hostile cases (escapes by path, by symlink, by a swap after the check; a
// read-only preopen), a differential run against jco's reference host, and the host API's
// edge cases called directly.
import { spawnSync } from 'node:child_process';
import {
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { atParent, openBeneath } from '../../src/osl/node/beneath.js';
import { type Component, Engine } from '../../src/wasm/engine/engine.js';
import { resolvePreopens } from '../../src/wasm/wasi/filesystem/preopens.js';
import { resolveAt } from '../../src/wasm/wasi/filesystem/resolve.js';
import { type WasiOptions, wasiImports } from '../../src/wasm/wasi/index.js';
import { runCommand } from '../../src/wasm/wasi/run-command.js';
import { cComponent } from '../support/c-component.js';
import { ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

type Fn = (...args: any[]) => any;

/** What a C program's run printed and what the WASI layer refused. */
interface Run {
  status: number | undefined;
  stdout: string[];
  stderr: string[];
  denied: [string, string, string][];
}

function run(component: Component, options: WasiOptions): Run {
  const seen: Run = { status: undefined, stdout: [], stderr: [], denied: [] };
  const outcome = runCommand(component, {
    stdout: (line) => seen.stdout.push(line),
    stderr: (line) => seen.stderr.push(line),
    onDenied: (op, subject, reason) => seen.denied.push([op, subject, reason]),
    ...options,
  });
  if (!outcome.ok) throw outcome.error;
  seen.status = outcome.status;
  return seen;
}

/** Every path beneath `dir` with its kind and content, for comparing two trees. */
function tree(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isSymbolicLink()) out.push(`${prefix}${name} -> ${readlinkSync(path)}`);
    else if (st.isDirectory()) out.push(`${prefix}${name}/`, ...tree(path, `${prefix}${name}/`));
    else out.push(`${prefix}${name} = ${readFileSync(path, 'utf8')}`);
  }
  return out;
}

// Ordinary use: every libc call a file-using program makes, printed deterministically.
const BASIC = `
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *path) {
  DIR *d = opendir(path);
  if (!d) { printf("opendir %s: %s\\n", path, strerror(errno)); return; }
  char *names[64]; int n = 0; struct dirent *e;
  while ((e = readdir(d)) && n < 64)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof *names, cmp);
  printf("ls %s:", path);
  for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
  printf("\\n");
}

static void fails(const char *what, int rc) { printf("%s: %s\\n", what, rc == 0 ? "ok" : strerror(errno)); }

int main(void) {
  FILE *f = fopen("/data/notes.txt", "w");
  if (!f) { perror("fopen w"); return 1; }
  fputs("first line\\n", f);
  fprintf(f, "second %d\\n", 2);
  fclose(f);
  f = fopen("/data/notes.txt", "a");
  fputs("appended\\n", f);
  fclose(f);

  char buf[256];
  f = fopen("/data/notes.txt", "r");
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  printf("read %zu bytes: [%s]\\n", n, buf);
  fseek(f, 6, SEEK_SET);
  n = fread(buf, 1, 4, f);
  buf[n] = 0;
  printf("at 6: [%s] then tell %ld\\n", buf, ftell(f));
  fclose(f);

  struct stat st;
  stat("/data/notes.txt", &st);
  printf("size %lld regular %d\\n", (long long)st.st_size, S_ISREG(st.st_mode));

  fails("mkdir sub", mkdir("/data/sub", 0755));
  stat("/data/sub", &st);
  printf("sub is dir %d\\n", S_ISDIR(st.st_mode));
  fails("rename", rename("/data/notes.txt", "/data/sub/moved.txt"));
  list("/data");
  list("/data/sub");

  fails("fopen missing", fopen("/data/missing.txt", "r") == NULL ? -1 : 0);
  fails("mkdir again", mkdir("/data/sub", 0755));
  fails("rmdir non-empty", rmdir("/data/sub"));
  fails("opendir on a file", opendir("/data/input.txt") == NULL ? -1 : 0);
  fails("unlink a directory", unlink("/data/sub"));

  f = fopen("/data/input.txt", "r");
  n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  printf("input: [%s]\\n", buf);

  int fd = open("/data/sized.bin", O_CREAT | O_RDWR | O_TRUNC, 0644);
  write(fd, "0123456789", 10);
  ftruncate(fd, 4);
  pwrite(fd, "X", 1, 1);
  char small[16] = {0};
  pread(fd, small, sizeof small - 1, 0);
  fstat(fd, &st);
  printf("sized: [%s] size %lld\\n", small, (long long)st.st_size);
  close(fd);

  fails("symlink", symlink("input.txt", "/data/link"));
  ssize_t len = readlink("/data/link", buf, sizeof buf - 1);
  buf[len < 0 ? 0 : len] = 0;
  lstat("/data/link", &st);
  printf("readlink: [%s] is link %d\\n", buf, S_ISLNK(st.st_mode));
  f = fopen("/data/link", "r");
  n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  printf("through link: [%s]\\n", buf);
  fails("access", access("/data/input.txt", R_OK));

  fails("unlink", unlink("/data/sub/moved.txt"));
  fails("rmdir", rmdir("/data/sub"));
  list("/data");
  return 0;
}`;

const BASIC_OUTPUT = [
  'read 29 bytes: [first line',
  'second 2',
  'appended',
  ']',
  'at 6: [line] then tell 10',
  'size 29 regular 1',
  'mkdir sub: ok',
  'sub is dir 1',
  'rename: ok',
  'ls /data: input.txt sub',
  'ls /data/sub: moved.txt',
  'fopen missing: No such file or directory',
  'mkdir again: File exists',
  'rmdir non-empty: Directory not empty',
  'opendir on a file: Not a directory',
  'unlink a directory: Is a directory',
  'input: [given by the host]',
  'sized: [0X23] size 4',
  'symlink: ok',
  'readlink: [input.txt] is link 1',
  'through link: [given by the host]',
  'access: ok',
  'unlink: ok',
  'rmdir: ok',
  'ls /data: input.txt link sized.bin',
];

// Each way out of the preopen, tried through libc; prints what libc reported.
const HOSTILE = `
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void try_open(const char *path) {
  FILE *f = fopen(path, "r");
  if (f) {
    char buf[64] = {0};
    fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    printf("%s: OPENED [%s]\\n", path, buf);
  } else {
    printf("%s: %s\\n", path, strerror(errno));
  }
}

int main(void) {
  try_open("/data/../outside/secret.txt");
  try_open("/data/to-outside/secret.txt");
  try_open("/data/up-and-out/secret.txt");
  try_open("/data/abs-inside");
  try_open("/data/loop");
  try_open("/data/ok-link");
  printf("symlink abs: %s\\n", symlink("/etc/passwd", "/data/new-abs") ? strerror(errno) : "ok");
  printf("symlink up: %s\\n", symlink("../outside/secret.txt", "/data/new-up") ? strerror(errno) : "ok");
  printf("symlink in: %s\\n", symlink("sub/../input.txt", "/data/new-in") ? strerror(errno) : "ok");
  int fd = open("/data/to-outside/new.txt", O_CREAT | O_WRONLY, 0644);
  printf("create through link: %s\\n", fd < 0 ? strerror(errno) : "CREATED");
  return 0;
}`;

// Tries every kind of change on a read-only preopen.
const READ_ONLY = `
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void rc(const char *what, int r) { printf("%s: %s\\n", what, r == 0 ? "ok" : strerror(errno)); }

int main(void) {
  FILE *f = fopen("/ro/input.txt", "r");
  char buf[64] = {0};
  fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  printf("read: [%s]\\n", buf);
  rc("fopen w", fopen("/ro/input.txt", "w") ? 0 : -1);
  rc("fopen a", fopen("/ro/input.txt", "a") ? 0 : -1);
  rc("create", open("/ro/new.txt", O_CREAT | O_WRONLY, 0644) >= 0 ? 0 : -1);
  rc("mkdir", mkdir("/ro/dir", 0755));
  rc("unlink", unlink("/ro/input.txt"));
  rc("rename", rename("/ro/input.txt", "/ro/renamed.txt"));
  rc("symlink", symlink("input.txt", "/ro/link"));
  rc("truncate", truncate("/ro/input.txt", 0));
  return 0;
}`;

// Copies a file in 4 KiB chunks: many stream reads and writes, each at its own position.
const COPY = `
#include <stdio.h>
int main(void) {
  FILE *in = fopen("/data/big.bin", "rb");
  FILE *out = fopen("/data/copy.bin", "wb");
  if (!in || !out) { perror("fopen"); return 1; }
  static char buf[4096];
  size_t n, total = 0;
  unsigned sum = 0;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
    for (size_t i = 0; i < n; i++) sum = sum * 31 + (unsigned char)buf[i];
    fwrite(buf, 1, n, out);
    total += n;
  }
  fclose(in);
  fclose(out);
  printf("copied %zu bytes, sum %u\\n", total, sum);
  return 0;
}`;

// Opens and closes the same file many times, as a loop over files does.
const REOPENS = `
#include <stdio.h>
int main(void) {
  for (int i = 0; i < 40; i++) {
    FILE *f = fopen("/data/input.txt", "r");
    if (!f) { perror("fopen"); return 1; }
    fgetc(f);
    fclose(f);
  }
  puts("done");
  return 0;
}`;

let basic: Component;
let hostile: Component;
let readOnly: Component;
let copy: Component;
let reopens: Component;
let basicWasm: string;

beforeAll(async () => {
  const engine = new Engine();
  basicWasm = await cComponent(BASIC);
  basic = await engine.load(basicWasm);
  hostile = await engine.load(await cComponent(HOSTILE));
  readOnly = await engine.load(await cComponent(READ_ONLY));
  copy = await engine.load(await cComponent(COPY));
  reopens = await engine.load(await cComponent(REOPENS));
}, 120_000);

function dataDir(): string {
  const dir = tempDir('wasi-fs');
  writeFileSync(join(dir, 'input.txt'), 'given by the host');
  return dir;
}

describe('wasi:filesystem — C programs on a preopened directory', () => {
  it('writes, appends, reads, seeks, stats, renames, lists, links and removes files like a POSIX host', () => {
    const dir = dataDir();
    const seen = run(basic, { preopens: [{ host: dir, guest: '/data' }] });
    expect(seen.stderr).toEqual([]);
    expect(seen.stdout).toEqual(BASIC_OUTPUT);
    expect(seen.status).toBe(0);
    expect(seen.denied).toEqual([]);
    expect(tree(dir)).toEqual(['input.txt = given by the host', 'link -> input.txt', 'sized.bin = 0X23']);
  });

  it('copies a 300 kB file in 4 KiB chunks through the streams, byte for byte', () => {
    const dir = dataDir();
    const big = new Uint8Array(300_001).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
    writeFileSync(join(dir, 'big.bin'), big);
    let sum = 0;
    for (const b of big) sum = (Math.imul(sum, 31) + b) >>> 0;
    const seen = run(copy, { preopens: [{ host: dir, guest: '/data' }], limits: { maxOpenFiles: 1 } });
    expect(seen.stdout).toEqual([`copied 300001 bytes, sum ${sum}`]);
    expect(readFileSync(join(dir, 'copy.bin')).equals(Buffer.from(big))).toBe(true);
  });

  it('prints the same and leaves the same files as jco run (preview2-shim, the reference host)', () => {
    const ours = dataDir();
    const theirs = dataDir();
    const setup = join(tempDir('jco-setup'), 'preopens.mjs');
    const shim = join(
      ROOT,
      'node_modules/@bytecodealliance/jco/node_modules/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js',
    );
    writeFileSync(
      setup,
      `import { _setPreopens } from ${JSON.stringify(shim)};\n_setPreopens({ '/data': ${JSON.stringify(theirs)} });\n`,
    );
    const jco = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/@bytecodealliance/jco/dist/jco.js'), 'run', '--jco-import', setup, basicWasm],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(jco.stderr).toBe('');
    expect(jco.status).toBe(0);
    const seen = run(basic, { preopens: [{ host: ours, guest: '/data' }] });
    expect(seen.stdout).toEqual(jco.stdout.replace(/\n$/, '').split('\n'));
    expect(tree(ours)).toEqual(tree(theirs));
  }, 180_000);

  it('refuses every way out of the preopen — `..`, symlinks out, absolute targets, loops — and reports each', () => {
    const top = tempDir('wasi-fs-hostile');
    const dir = join(top, 'data');
    mkdirSync(dir);
    mkdirSync(join(top, 'outside'));
    writeFileSync(join(top, 'outside', 'secret.txt'), 'SECRET');
    writeFileSync(join(dir, 'input.txt'), 'inside');
    symlinkSync(join(top, 'outside'), join(dir, 'to-outside'));
    symlinkSync('../outside', join(dir, 'up-and-out'));
    symlinkSync(join(dir, 'input.txt'), join(dir, 'abs-inside'));
    symlinkSync('loop', join(dir, 'loop'));
    symlinkSync('input.txt', join(dir, 'ok-link'));
    const seen = run(hostile, { preopens: [{ host: dir, guest: '/data' }] });
    expect(seen.stdout).toEqual([
      // wasi-libc hands `../outside/secret.txt` to the /data preopen as it is: the host refuses.
      '/data/../outside/secret.txt: Operation not permitted',
      '/data/to-outside/secret.txt: Operation not permitted',
      '/data/up-and-out/secret.txt: Operation not permitted',
      '/data/abs-inside: Operation not permitted',
      '/data/loop: Symbolic link loop',
      '/data/ok-link: OPENED [inside]',
      'symlink abs: Operation not permitted',
      'symlink up: Operation not permitted',
      'symlink in: ok',
      'create through link: Operation not permitted',
    ]);
    expect(readdirSync(join(top, 'outside'))).toEqual(['secret.txt']);
    expect(existsSync(join(dir, 'new-abs')) || existsSync(join(dir, 'new-up'))).toBe(false);
    const subjects = seen.denied.map(([op, subject]) => `${op} ${subject}`);
    expect(subjects).toEqual(
      expect.arrayContaining([
        'wasi.filesystem.open-at /data/../outside/secret.txt',
        'wasi.filesystem.open-at /data/to-outside/secret.txt',
        'wasi.filesystem.open-at /data/up-and-out/secret.txt',
        'wasi.filesystem.open-at /data/abs-inside',
        'wasi.filesystem.symlink-at /data/new-abs -> /etc/passwd',
        'wasi.filesystem.symlink-at /data/new-up -> ../outside/secret.txt',
        'wasi.filesystem.open-at /data/to-outside/new.txt',
      ]),
    );
    for (const [, , reason] of seen.denied) expect(reason).not.toBe('');
  });

  it('refuses every change to a read-only preopen with EPERM, reporting it, and still reads', () => {
    const dir = dataDir();
    const seen = run(readOnly, { preopens: [{ host: dir, guest: '/ro', readOnly: true }] });
    expect(seen.stdout).toEqual([
      'read: [given by the host]',
      'fopen w: Operation not permitted',
      'fopen a: Operation not permitted',
      'create: Operation not permitted',
      'mkdir: Operation not permitted',
      'unlink: Operation not permitted',
      'rename: Operation not permitted',
      'symlink: Operation not permitted',
      'truncate: Operation not permitted',
    ]);
    expect(tree(dir)).toEqual(['input.txt = given by the host']);
    expect(seen.denied.length).toBeGreaterThanOrEqual(8);
    expect(seen.denied.every(([, , reason]) => /read-only/.test(reason))).toBe(true);
  });
});

// --- the host API, called directly --------------------------------------------------------

function fsApi(options: WasiOptions) {
  const denied: [string, string, string][] = [];
  const imports = wasiImports({
    ...options,
    onDenied: (op, subject, reason) => denied.push([op, subject, reason]),
  });
  const key = (name: string) =>
    Object.keys(imports).find((k) => k.startsWith(`${name}@`) || k === name) as string;
  const types = imports[key('wasi:filesystem/types')] as Record<string, Fn>;
  const streams = imports[key('wasi:io/streams')] as Record<string, Fn>;
  const dirs = (imports[key('wasi:filesystem/preopens')] as Record<string, Fn>)['get-directories']() as [
    unknown,
    string,
  ][];
  const call = (method: string, ...args: unknown[]) => types[`[method]descriptor.${method}`](...args);
  const unwrap = (result: { tag: string; val?: unknown }) => {
    if (result.tag !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(result)}`);
    return result.val as any;
  };
  const follow = { symlinkFollow: true };
  const noFollow = { symlinkFollow: false };
  const open = (
    dir: unknown,
    path: string,
    openFlags = {},
    flags: Record<string, boolean> = { read: true },
  ) => call('open-at', dir, follow, path, openFlags, flags);
  return { imports, types, streams, dirs, call, unwrap, open, follow, noFollow, denied };
}

const ERR = (val: string) => ({ tag: 'err', val });

describe('wasi:filesystem — the host functions', () => {
  it('hands out one descriptor per preopen, named as given, and none without preopens', () => {
    const a = dataDir();
    const b = dataDir();
    const { dirs, call, unwrap } = fsApi({
      preopens: [
        { host: a, guest: '/a' },
        { host: b, guest: '.' },
      ],
    });
    expect(dirs.map(([, name]) => name)).toEqual(['/a', '.']);
    expect(unwrap(call('get-type', dirs[0][0]))).toBe('directory');
    expect(unwrap(call('get-flags', dirs[0][0]))).toEqual({ read: true, mutateDirectory: true });
    expect(fsApi({}).dirs).toEqual([]);
  });

  it('fails createWasi for a preopen that is not an existing directory, saying which', () => {
    const dir = dataDir();
    expect(() => wasiImports({ preopens: [{ host: join(dir, 'nope'), guest: '/x' }] })).toThrow(
      expect.objectContaining({
        code: 'invalid-argument',
        message: expect.stringMatching(/preopens\[0\].*ENOENT/),
      }),
    );
    expect(() => wasiImports({ preopens: [{ host: join(dir, 'input.txt'), guest: '/x' }] })).toThrow(
      expect.objectContaining({
        code: 'invalid-argument',
        message: expect.stringMatching(/not a directory/),
      }),
    );
    expect(() => wasiImports({ preopens: [{ host: dir, guest: '' }] })).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
  });

  it('refuses absolute paths and `..` above the descriptor with not-permitted, reporting the guest path', () => {
    const dir = dataDir();
    mkdirSync(join(dir, 'sub'));
    const { dirs, open, unwrap, denied, call } = fsApi({ preopens: [{ host: dir, guest: '/data' }] });
    const root = dirs[0][0];
    expect(open(root, '/etc/passwd')).toEqual(ERR('not-permitted'));
    expect(open(root, '../etc/passwd')).toEqual(ERR('not-permitted'));
    expect(open(root, 'sub/../../etc/passwd')).toEqual(ERR('not-permitted'));
    // Beneath a subdirectory descriptor, `..` may not climb above it, even within the preopen.
    const sub = unwrap(open(root, 'sub', { directory: true }));
    expect(open(sub, '../input.txt')).toEqual(ERR('not-permitted'));
    expect(call('stat-at', sub, { symlinkFollow: false }, '..')).toEqual(ERR('not-permitted'));
    // …but `..` that stays beneath is fine.
    expect(open(root, 'sub/../input.txt').tag).toBe('ok');
    expect(denied.map(([op, subject]) => `${op} ${subject}`)).toEqual([
      'wasi.filesystem.open-at /etc/passwd',
      'wasi.filesystem.open-at /data/../etc/passwd',
      'wasi.filesystem.open-at /data/sub/../../etc/passwd',
      'wasi.filesystem.open-at /data/sub/../input.txt',
      'wasi.filesystem.stat-at /data/sub/..',
    ]);
  });

  it('refuses a directory swapped for a symlink out of the preopen after it was opened (check, then use)', () => {
    const top = tempDir('wasi-fs-swap');
    const dir = join(top, 'data');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    mkdirSync(join(top, 'outside'));
    writeFileSync(join(top, 'outside', 'secret.txt'), 'SECRET');
    writeFileSync(join(dir, 'sub', 'secret.txt'), 'fine');
    const { dirs, open, unwrap, call, denied } = fsApi({ preopens: [{ host: dir, guest: '/data' }] });
    const sub = unwrap(open(dirs[0][0], 'sub', { directory: true }));
    expect(open(sub, 'secret.txt').tag).toBe('ok');
    // Someone with write access inside the preopen swaps `sub` for a link to the outside.
    renameSync(join(dir, 'sub'), join(dir, 'sub-old'));
    symlinkSync(join(top, 'outside'), join(dir, 'sub'));
    expect(open(sub, 'secret.txt')).toEqual(ERR('not-permitted'));
    expect(call('stat-at', sub, { symlinkFollow: true }, 'secret.txt')).toEqual(ERR('not-permitted'));
    expect(call('create-directory-at', sub, 'made-outside')).toEqual(ERR('not-permitted'));
    expect(call('read-directory', sub)).toEqual(ERR('not-permitted'));
    expect(readdirSync(join(top, 'outside'))).toEqual(['secret.txt']);
    expect(denied.length).toBe(4);
    expect(denied[0][2]).toMatch(/left the root|changed after the check/);
  });

  it('refuses at the use a symlink swapped in between the check and the syscall of one call', () => {
    const top = tempDir('wasi-fs-race');
    const dir = join(top, 'data');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    mkdirSync(join(top, 'outside'));
    writeFileSync(join(top, 'outside', 'file.txt'), 'SECRET');
    writeFileSync(join(dir, 'sub', 'file.txt'), 'fine');
    writeFileSync(join(dir, 'leaf.txt'), 'fine');
    const [root] = resolvePreopens([{ host: dir, guest: '/d' }]);
    const base = { root, segments: [] };
    const denied = expect.objectContaining({ code: 'capability-denied' });
    // The check (resolveAt) sees a directory and a file; then both are swapped for links out.
    const inSub = resolveAt(base, 'sub/file.txt', true);
    const leaf = resolveAt(base, 'leaf.txt', true);
    renameSync(join(dir, 'sub'), join(dir, 'sub-old'));
    symlinkSync(join(top, 'outside'), join(dir, 'sub'));
    rmSync(join(dir, 'leaf.txt'));
    symlinkSync(join(top, 'outside', 'file.txt'), join(dir, 'leaf.txt'));
    // The use (osl's beneath.ts, what every descriptor method goes through) refuses each.
    expect(() => openBeneath(root.real, inSub.segments, constants.O_RDONLY)).toThrow(denied);
    expect(() => atParent(root.real, inSub.segments, (p) => rmSync(p))).toThrow(denied);
    expect(() => openBeneath(root.real, leaf.segments, constants.O_RDWR | constants.O_TRUNC)).toThrow(denied);
    expect(readFileSync(join(top, 'outside', 'file.txt'), 'utf8')).toBe('SECRET');
  });

  it('refuses a file replaced by a symlink out while its fd was closed to bound open files', () => {
    const top = tempDir('wasi-fs-evict');
    const dir = join(top, 'data');
    mkdirSync(dir);
    writeFileSync(join(top, 'secret.txt'), 'SECRET');
    writeFileSync(join(dir, 'a.txt'), 'aaaa');
    writeFileSync(join(dir, 'b.txt'), 'bbbb');
    const { dirs, open, unwrap, call, denied } = fsApi({
      preopens: [{ host: dir, guest: '/data' }],
      limits: { maxOpenFiles: 1 },
    });
    const a = unwrap(open(dirs[0][0], 'a.txt'));
    const b = unwrap(open(dirs[0][0], 'b.txt')); // closes a's fd
    expect(unwrap(call('read', b, 10n, 0n))[0]).toEqual(new TextEncoder().encode('bbbb'));
    expect(unwrap(call('read', a, 10n, 0n))[0]).toEqual(new TextEncoder().encode('aaaa')); // reopened
    unwrap(call('read', b, 1n, 0n)); // closes a's fd again
    rmSync(join(dir, 'a.txt'));
    symlinkSync(join(top, 'secret.txt'), join(dir, 'a.txt'));
    expect(call('read', a, 10n, 0n)).toEqual(ERR('not-permitted'));
    expect(denied.map(([op]) => op)).toEqual(['wasi.filesystem.read']);
    // A file replaced by another one is a dead descriptor, not the new file.
    rmSync(join(dir, 'a.txt'));
    writeFileSync(join(dir, 'a.txt'), 'other file');
    expect(call('read', a, 10n, 0n)).toEqual(ERR('bad-descriptor'));
  });

  it('closes the host fd when the guest closes the file, not when the garbage collector runs', () => {
    const before = readdirSync('/proc/self/fd').length;
    const seen = run(reopens, { preopens: [{ host: dataDir(), guest: '/data' }] });
    expect(seen.stdout).toEqual(['done']);
    expect(readdirSync('/proc/self/fd').length).toBe(before);
  });

  it('keeps at most maxOpenFiles fds open, however many files the guest opens', () => {
    const dir = dataDir();
    const { dirs, open, unwrap, call } = fsApi({
      preopens: [{ host: dir, guest: '/d' }],
      limits: { maxOpenFiles: 4 },
    });
    const before = readdirSync('/proc/self/fd').length;
    const files = [];
    for (let i = 0; i < 200; i++)
      files.push(unwrap(open(dirs[0][0], `f${i}`, { create: true }, { write: true })));
    expect(readdirSync('/proc/self/fd').length - before).toBeLessThanOrEqual(4);
    for (const [i, f] of files.entries())
      expect(unwrap(call('write', f, new TextEncoder().encode(`${i}`), 0n))).toBe(BigInt(`${i}`.length));
    expect(readFileSync(join(dir, 'f137'), 'utf8')).toBe('137');
    expect(readdirSync('/proc/self/fd').length - before).toBeLessThanOrEqual(4);
  });

  it('follows symlinks beneath the root but never one with an absolute target, out and back in, or in a loop', () => {
    const dir = dataDir();
    mkdirSync(join(dir, 'sub'));
    symlinkSync('../input.txt', join(dir, 'sub', 'up'));
    symlinkSync(join(dir, 'input.txt'), join(dir, 'absolute'));
    symlinkSync(`../${dir.split('/').pop()}/input.txt`, join(dir, 'out-and-in'));
    symlinkSync('loop-b', join(dir, 'loop-a'));
    symlinkSync('loop-a', join(dir, 'loop-b'));
    const { dirs, open, call, unwrap, noFollow } = fsApi({ preopens: [{ host: dir, guest: '/d' }] });
    const root = dirs[0][0];
    expect(open(root, 'sub/up').tag).toBe('ok');
    expect(open(root, 'absolute')).toEqual(ERR('not-permitted'));
    expect(open(root, 'out-and-in')).toEqual(ERR('not-permitted'));
    expect(open(root, 'loop-a')).toEqual(ERR('loop'));
    // Without symlink-follow the last component is the link itself.
    expect(call('open-at', root, noFollow, 'sub/up', {}, { read: true })).toEqual(ERR('loop'));
    expect(call('open-at', root, noFollow, 'sub/up', { directory: true }, { read: true })).toEqual(
      ERR('not-directory'),
    );
    expect(unwrap(call('stat-at', root, noFollow, 'absolute')).type).toBe('symbolic-link');
    expect(call('readlink-at', root, 'sub/up')).toEqual({ tag: 'ok', val: '../input.txt' });
    // An absolute target is a host path: not shown to the guest.
    expect(call('readlink-at', root, 'absolute')).toEqual(ERR('not-permitted'));
    // A link can be removed without following it.
    expect(call('unlink-file-at', root, 'absolute').tag).toBe('ok');
    expect(existsSync(join(dir, 'input.txt'))).toBe(true);
  });

  it('maps errno to error codes as wasmtime does', () => {
    const dir = dataDir();
    mkdirSync(join(dir, 'full'));
    writeFileSync(join(dir, 'full', 'x'), '');
    const { dirs, open, call } = fsApi({ preopens: [{ host: dir, guest: '/d' }] });
    const root = dirs[0][0];
    expect(open(root, 'missing.txt')).toEqual(ERR('no-entry'));
    expect(open(root, 'input.txt', { create: true, exclusive: true })).toEqual(ERR('exist'));
    expect(open(root, 'input.txt', { directory: true })).toEqual(ERR('not-directory'));
    expect(open(root, 'input.txt/')).toEqual(ERR('not-directory'));
    expect(open(root, 'input.txt/x')).toEqual(ERR('not-directory'));
    expect(open(root, 'full', {}, { read: true, write: true })).toEqual(ERR('is-directory'));
    expect(open(root, 'full', { directory: true, create: true })).toEqual(ERR('invalid'));
    expect(call('remove-directory-at', root, 'full')).toEqual(ERR('not-empty'));
    expect(call('remove-directory-at', root, 'input.txt')).toEqual(ERR('not-directory'));
    expect(call('unlink-file-at', root, 'full')).toEqual(ERR('is-directory'));
    expect(call('create-directory-at', root, 'full')).toEqual(ERR('exist'));
    expect(call('readlink-at', root, 'input.txt')).toEqual(ERR('invalid'));
    expect(call('rename-at', root, 'missing', root, 'x')).toEqual(ERR('no-entry'));
    expect(call('rename-at', root, 'input.txt', root, 'full')).toEqual(ERR('is-directory'));
    expect(call('remove-directory-at', root, '.')).toEqual(ERR('invalid'));
    expect(call('create-directory-at', root, 'a/b/c')).toEqual(ERR('no-entry'));
    const file = open(root, 'input.txt').val;
    expect(call('open-at', file, {}, 'x', {}, {})).toEqual(ERR('not-directory'));
    expect(call('read', root, 1n, 0n)).toEqual(ERR('bad-descriptor'));
    expect(call('read-via-stream', root, 0n)).toEqual(ERR('bad-descriptor'));
    expect(call('set-size', root, 0n)).toEqual(ERR('bad-descriptor'));
    expect(call('write', file, new Uint8Array([1]), 0n)).toEqual(ERR('bad-descriptor')); // opened read-only
    expect(call('link-at', root, { symlinkFollow: true }, 'input.txt', root, 'hard')).toEqual(ERR('invalid'));
  });

  it('never lets guest input crash the host: NUL bytes, huge paths and offsets, empty paths, bad times', () => {
    const dir = dataDir();
    const { dirs, open, call, unwrap } = fsApi({ preopens: [{ host: dir, guest: '/d' }] });
    const root = dirs[0][0];
    expect(open(root, 'input.txt\0/../../etc/passwd')).toEqual(ERR('invalid'));
    expect(open(root, '')).toEqual(ERR('no-entry'));
    expect(open(root, 'a/'.repeat(3000))).toEqual(ERR('name-too-long'));
    expect(open(root, 'x'.repeat(300))).toEqual(ERR('name-too-long'));
    expect(call('symlink-at', root, 'in\0put', 'l')).toEqual(ERR('invalid'));
    const file = unwrap(open(root, 'input.txt', {}, { read: true, write: true }));
    expect(unwrap(call('read', file, 1n << 62n, 0n))[0].length).toBeLessThanOrEqual(64 * 1024);
    expect(unwrap(call('read', file, 10n, (1n << 64n) - 1n))).toEqual([new Uint8Array(0), true]);
    expect(call('write', file, new Uint8Array([1]), (1n << 64n) - 1n)).toEqual(ERR('file-too-large'));
    expect(call('set-size', file, (1n << 64n) - 1n)).toEqual(ERR('file-too-large'));
    const bad = { tag: 'timestamp', val: { seconds: 1n, nanoseconds: 2_000_000_000 } };
    expect(call('set-times', file, bad, { tag: 'no-change' })).toEqual(ERR('invalid'));
    expect(readFileSync(join(dir, 'input.txt'), 'utf8')).toBe('given by the host');
  });

  it('reads and writes positionally, sets size, stats, and knows the same file by identity', () => {
    const dir = dataDir();
    const { dirs, open, call, unwrap, noFollow } = fsApi({ preopens: [{ host: dir, guest: '/d' }] });
    const root = dirs[0][0];
    const f = unwrap(open(root, 'new.bin', { create: true, truncate: true }, { read: true, write: true }));
    expect(unwrap(call('get-flags', f))).toMatchObject({ read: true, write: true });
    expect(unwrap(call('get-type', f))).toBe('regular-file');
    expect(unwrap(call('write', f, new TextEncoder().encode('hello world'), 0n))).toBe(11n);
    expect(unwrap(call('write', f, new TextEncoder().encode('W'), 6n))).toBe(1n);
    expect(new TextDecoder().decode(unwrap(call('read', f, 100n, 0n))[0])).toBe('hello World');
    expect(unwrap(call('read', f, 100n, 11n))).toEqual([new Uint8Array(0), true]);
    unwrap(call('set-size', f, 5n));
    const st = unwrap(call('stat', f));
    expect(st).toMatchObject({ type: 'regular-file', size: 5n, linkCount: 1n });
    expect(st.dataModificationTimestamp.seconds).toBeGreaterThan(1_600_000_000n);
    unwrap(
      call(
        'set-times',
        f,
        { tag: 'timestamp', val: { seconds: 1_000_000_000n, nanoseconds: 0 } },
        { tag: 'now' },
      ),
    );
    expect(unwrap(call('stat', f)).dataAccessTimestamp).toEqual({ seconds: 1_000_000_000n, nanoseconds: 0 });
    unwrap(
      call(
        'set-times-at',
        root,
        noFollow,
        'new.bin',
        { tag: 'no-change' },
        {
          tag: 'timestamp',
          val: { seconds: 1_200_000_000n, nanoseconds: 500_000_000 },
        },
      ),
    );
    const mtime = unwrap(call('stat-at', root, noFollow, 'new.bin')).dataModificationTimestamp;
    expect(mtime.seconds).toBe(1_200_000_000n);
    expect(Math.abs(mtime.nanoseconds - 500_000_000)).toBeLessThan(1000);
    const again = unwrap(open(root, 'new.bin'));
    expect(call('is-same-object', f, again)).toBe(true);
    expect(call('is-same-object', f, root)).toBe(false);
    expect(unwrap(call('metadata-hash', f))).toEqual(
      unwrap(call('metadata-hash-at', root, noFollow, 'new.bin')),
    );
    expect(unwrap(call('metadata-hash', f))).not.toEqual(unwrap(call('metadata-hash', root)));
    unwrap(call('sync', f));
    unwrap(call('sync-data', f));
    unwrap(call('sync', root));
    unwrap(call('set-times', root, { tag: 'now' }, { tag: 'now' }));
    expect(unwrap(call('stat', root)).type).toBe('directory');
    unwrap(call('advise', f, 0n, 0n, 'sequential'));
    unwrap(call('link-at', root, noFollow, 'new.bin', root, 'hard.bin'));
    expect(unwrap(call('stat', f)).linkCount).toBe(2n);
  });

  it('streams a file through read-via-stream, write-via-stream and append-via-stream', () => {
    const dir = dataDir();
    const { dirs, open, call, unwrap, streams, types } = fsApi({ preopens: [{ host: dir, guest: '/d' }] });
    const root = dirs[0][0];
    const f = unwrap(open(root, 'out.txt', { create: true }, { read: true, write: true }));
    const out = unwrap(call('write-via-stream', f, 0n));
    expect(unwrap(streams['[method]output-stream.check-write'](out))).toBeGreaterThan(0n);
    unwrap(streams['[method]output-stream.write'](out, new TextEncoder().encode('abc')));
    unwrap(streams['[method]output-stream.blocking-write-and-flush'](out, new TextEncoder().encode('def')));
    const tail = unwrap(call('append-via-stream', f));
    unwrap(streams['[method]output-stream.blocking-write-and-flush'](tail, new TextEncoder().encode('!')));
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('abcdef!');
    const input = unwrap(call('read-via-stream', f, 2n));
    expect(new TextDecoder().decode(unwrap(streams['[method]input-stream.blocking-read'](input, 3n)))).toBe(
      'cde',
    );
    expect(new TextDecoder().decode(unwrap(streams['[method]input-stream.read'](input, 100n)))).toBe('f!');
    expect(streams['[method]input-stream.read'](input, 100n)).toEqual({ tag: 'err', val: { tag: 'closed' } });
    // A write the OS refuses fails the stream; filesystem-error-code says why.
    const readOnly = unwrap(open(root, 'input.txt'));
    const broken = unwrap(call('write-via-stream', readOnly, 0n));
    const failed = streams['[method]output-stream.write'](broken, new Uint8Array([1]));
    expect(failed).toMatchObject({ tag: 'err', val: { tag: 'last-operation-failed' } });
    expect(types['filesystem-error-code'](failed.val.val)).toBe('bad-descriptor');
  });

  it('lists a directory without . and .., with entry types', () => {
    const dir = dataDir();
    mkdirSync(join(dir, 'sub'));
    symlinkSync('input.txt', join(dir, 'link'));
    const { dirs, call, unwrap, types } = fsApi({ preopens: [{ host: dir, guest: '/d' }] });
    const stream = unwrap(call('read-directory', dirs[0][0]));
    const entries = [];
    for (;;) {
      const entry = unwrap(types['[method]directory-entry-stream.read-directory-entry'](stream));
      if (entry === undefined) break;
      entries.push(entry);
    }
    expect(entries.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'input.txt', type: 'regular-file' },
      { name: 'link', type: 'symbolic-link' },
      { name: 'sub', type: 'directory' },
    ]);
  });

  it('refuses every change through a read-only preopen with not-permitted and reports it', () => {
    const dir = dataDir();
    mkdirSync(join(dir, 'sub'));
    const { dirs, open, call, unwrap, denied, noFollow } = fsApi({
      preopens: [{ host: dir, guest: '/ro', readOnly: true }],
    });
    const root = dirs[0][0];
    expect(unwrap(call('get-flags', root))).toEqual({ read: true, mutateDirectory: false });
    const file = unwrap(open(root, 'input.txt'));
    const now = { tag: 'now' };
    const refused = [
      open(root, 'input.txt', {}, { read: true, write: true }),
      open(root, 'input.txt', { truncate: true }),
      open(root, 'new.txt', { create: true }),
      call('create-directory-at', root, 'd'),
      call('remove-directory-at', root, 'sub'),
      call('unlink-file-at', root, 'input.txt'),
      call('rename-at', root, 'input.txt', root, 'x'),
      call('link-at', root, noFollow, 'input.txt', root, 'x'),
      call('symlink-at', root, 'input.txt', 'x'),
      call('set-times-at', root, noFollow, 'input.txt', now, now),
      call('set-times', file, now, now),
      call('set-size', file, 0n),
      call('write', file, new Uint8Array([1]), 0n),
    ];
    expect(refused.every((r) => r.tag === 'err' && r.val === 'not-permitted')).toBe(true);
    expect(call('write-via-stream', file, 0n)).toEqual(ERR('bad-descriptor'));
    expect(denied).toHaveLength(refused.length + 1);
    expect(tree(dir)).toEqual(['input.txt = given by the host', 'sub/']);
    // A writable preopen beside it cannot be the target of a rename out of the read-only one.
    const rw = dataDir();
    const both = fsApi({
      preopens: [
        { host: dir, guest: '/ro', readOnly: true },
        { host: rw, guest: '/rw' },
      ],
    });
    expect(both.call('rename-at', both.dirs[0][0], 'input.txt', both.dirs[1][0], 'stolen')).toEqual(
      ERR('not-permitted'),
    );
  });

  it('renames and hard-links across two writable preopens', () => {
    const a = dataDir();
    const b = tempDir('wasi-fs-b');
    const { dirs, call, unwrap, noFollow } = fsApi({
      preopens: [
        { host: a, guest: '/a' },
        { host: b, guest: '/b' },
      ],
    });
    unwrap(call('link-at', dirs[0][0], noFollow, 'input.txt', dirs[1][0], 'linked.txt'));
    unwrap(call('rename-at', dirs[0][0], 'input.txt', dirs[1][0], 'moved.txt'));
    expect(readdirSync(a)).toEqual([]);
    expect(readdirSync(b).sort()).toEqual(['linked.txt', 'moved.txt']);
  });
});
