// `airssys-wasm run` of command components (wasi:cli/run) built by a standard toolchain: C with
// wasi-libc through jco's preview1 command adapter, run unchanged as `wasmtime run` would.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cComponent } from '../support/c-component.js';
import { ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

const cacheDir = tempDir('run-cache');

function run(args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'dist', 'cli', 'airssys-wasm.js'), 'run', '--cache-dir', cacheDir, ...args],
    { encoding: 'utf8', timeout: 30_000, input: options.input ?? '', env: options.env ?? process.env },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const HELLO = `
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\\n", i, argv[i]);
  const char *who = getenv("WHO");
  printf("WHO=%s\\n", who ? who : "(unset)");
  extern char **environ;
  int n = 0;
  for (char **e = environ; *e; e++) n++;
  printf("env=%d\\n", n);
  return 0;
}`;

const EXITS = `
#include <stdlib.h>
int main(int argc, char **argv) { return argc > 1 ? atoi(argv[1]) : 0; }`;

const TRAPS = `int main(void) { __builtin_trap(); }`;

const SPINS = `int main(void) { volatile unsigned n = 0; for (;;) n++; }`;

const LISTS = `
#include <dirent.h>
#include <stdio.h>
int main(int argc, char **argv) {
  DIR *d = opendir(argv[1]);
  if (!d) { perror("opendir"); return 1; }
  puts("opened");
  closedir(d);
  return 0;
}`;

let hello: string;
let exits: string;
let traps: string;
let spins: string;
let lists: string;

beforeAll(async () => {
  [hello, exits, traps, spins, lists] = await Promise.all(
    [HELLO, EXITS, TRAPS, SPINS, LISTS].map((c) => cComponent(c)),
  );
}, 120_000);

describe('airssys-wasm run FILE.wasm (a command component)', () => {
  it('runs main with the arguments after the file; argv[0] is the file name (as wasmtime passes it)', () => {
    const r = run([hello, '--', 'one', '--two']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`argv[0]=${basename(hello)}\nargv[1]=one\nargv[2]=--two\nWHO=(unset)\nenv=0\n`);
  });

  it('grants no environment by default; --env sets or copies one variable, --inherit-env all', () => {
    const env = { ...process.env, WHO: 'host' };
    expect(run([hello], { env }).stdout).toContain('WHO=(unset)\nenv=0\n');
    expect(run(['--env', 'WHO=flag', hello], { env }).stdout).toContain('WHO=flag\nenv=1\n');
    expect(run(['--env', 'WHO', hello], { env }).stdout).toContain('WHO=host\nenv=1\n');
    const all = run(['--inherit-env', hello], { env }).stdout;
    expect(all).toContain('WHO=host\n');
    expect(all).toContain(`env=${Object.values(env).filter((v) => v !== undefined).length}\n`);
  });

  it("exits with the guest's status: 0, and 1 for a non-zero exit (the preview1 adapter reports exit(err))", () => {
    expect(run([exits, '0']).status).toBe(0);
    const failed = run([exits, '3']);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toBe('');
  });

  it('a trap exits 134 with the error code on stderr', () => {
    const r = run([traps]);
    expect(r.status).toBe(134);
    expect(r.stderr).toMatch(/^error \[trap\]: /);
  });

  it('an endless loop ends at its budget (out-of-fuel or timeout) with exit 134', () => {
    const r = run([spins]);
    expect(r.status).toBe(134);
    expect(r.stderr).toMatch(/^error \[(out-of-fuel|timeout)\]: /);
  });

  it('a component that is not a command says to use --call', () => {
    const r = run([join(ROOT, 'fixtures', 'build', 'basic')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error \[not-found\]: .* does not export wasi:cli\/run .*--call/);
  });

  it('a missing file is not-found; --json without --call is a usage error', () => {
    expect(run([join(cacheDir, 'nope.wasm')]).stderr).toMatch(
      /^error \[not-found\]: .*cannot read the component binary/,
    );
    const json = run(['--json', hello]);
    expect(json.status).toBe(2);
    expect(json.stderr).toMatch(/^error \[invalid-argument\]: --json goes with --call/);
  });
});

describe('airssys-wasm run --dir', () => {
  it('a bare .wasm reaches no directory unless --dir grants it', () => {
    const data = tempDir('run-data');
    writeFileSync(join(data, 'a.txt'), 'a');
    const refused = run([lists, '--', '/data']);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe('');
    const granted = run(['--dir', `${data}::/data`, lists, '--', '/data']);
    expect(granted.stderr).toBe('');
    expect(granted.stdout).toBe('opened\n');
    expect(granted.status).toBe(0);
  });

  it('with a Component.toml, --dir may only narrow its grants (capability-denied names the fix)', () => {
    const granted = tempDir('run-granted');
    const other = tempDir('run-other');
    mkdirSync(join(granted, 'sub'));
    const dir = tempDir('run-manifest');
    copyFileSync(lists, join(dir, 'lists.wasm'));
    writeFileSync(
      join(dir, 'Component.toml'),
      [
        '[component]',
        'name = "lists"',
        'version = "1.0.0"',
        'wasm = "lists.wasm"',
        '[resources]',
        'memory = "4MiB"',
        '[permissions]',
        `filesystem = { read = ["${granted}/**"] }`,
      ].join('\n'),
    );
    const inside = run(['--dir', `${join(granted, 'sub')}::/in`, dir, '--', '/in']);
    expect(inside.stderr).toBe('');
    expect(inside.stdout).toBe('opened\n');
    const outside = run(['--dir', `${other}::/in`, dir, '--', '/in']);
    expect(outside.status).toBe(1);
    expect(outside.stderr).toMatch(
      /^error \[capability-denied\]: --dir .* does not grant .*\[permissions\] filesystem/,
    );
    const missing = run(['--dir', `${join(granted, 'nope')}::/in`, dir, '--', '/in']);
    expect(missing.stderr).toMatch(/^error \[not-found\]: --dir .*no such directory/);
  });
});

describe('airssys-wasm run: a componentize-js command', () => {
  it('runs the js-cli-hello fixture from its folder (its Component.toml asks 64 MiB)', () => {
    const folder = join(ROOT, 'fixtures', 'build', 'js-cli-hello');
    const refused = run([folder]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /^error \[invalid-manifest\]: resources\.memory: "64MiB" is above the host's maximum/,
    );
    const ran = run(['--max-memory', '64MiB', folder]);
    expect(ran.stdout).toBe('hello from a JavaScript command\n');
    expect(ran.stderr).toBe('random bytes: 8, clock: true\n');
    expect(ran.status).toBe(0);
  });
});
