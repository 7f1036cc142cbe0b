// Differential test (slow: jco transpiles the component on every run, a few seconds each): the
// same C command, with the same stdin and arguments, run by `airssys-wasm run` and by `jco run`
// (the reference JS host) must print the same bytes and exit with the same status. argv[0] is
// not compared: jco passes the file name without its extension, wasmtime (and we) with it. stdin is a real pipe from a shell producer, sometimes a
// slow one; stdout and stderr go to files (jco run drops the end of a large output on a pipe).
// Not compared, because jco is no reference there: `isatty` (jco reports every stream as a
// terminal, even a file; this host only what the embedder says) and poll(2) on stdin (jco's
// stdin pollable is always ready; wasi-io.test.ts checks that ours waits for data).

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cComponent } from '../support/c-component.js';
import { fixture, ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';
import { BIG_WRITE, CAT, EXIT, SLEEP } from '../support/wasi-c-programs.js';

const JCO = join(ROOT, 'node_modules/@bytecodealliance/jco/dist/jco.js');
const CLI = join(ROOT, 'dist', 'cli', 'airssys-wasm.js');

interface Result {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

let dir: string;
let cacheDir: string;

/** Runs `host` (argv) with stdin from the shell command `producer`, output into files. */
function runWith(name: string, producer: string, host: readonly string[]): Promise<Result> {
  const out = join(dir, `${name}.out`);
  const err = join(dir, `${name}.err`);
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `(${producer}) | "$@" > "${out}" 2> "${err}"`, 'sh', ...host], {
      stdio: 'ignore',
    });
    child.on('error', reject);
    child.on('exit', (status) =>
      resolve({ status, stdout: readFileSync(out), stderr: readFileSync(err, 'utf8') }),
    );
  });
}

async function both(name: string, source: string, producer: string, args: readonly string[] = []) {
  return bothOn(name, await cComponent(source, { kind: 'command' }), producer, args);
}

async function bothOn(name: string, wasm: string, producer: string, args: readonly string[] = []) {
  const [ours, jco] = await Promise.all([
    runWith(`${name}-ours`, producer, [
      process.execPath,
      CLI,
      'run',
      '--cache-dir',
      cacheDir,
      wasm,
      '--',
      ...args,
    ]),
    runWith(`${name}-jco`, producer, [
      process.execPath,
      JCO,
      'run',
      '--jco-dir',
      tempDir('jco'),
      wasm,
      ...args,
    ]),
  ]);
  return { ours, jco };
}

const ARGS = `
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) printf("%d:%s\\n", i, argv[i]);
  fprintf(stderr, "to stderr\\n");
  return atoi(argv[argc - 1]);
}`;

describe('airssys-wasm run and jco run: the same C programs, the same bytes (slow)', () => {
  beforeAll(async () => {
    dir = tempDir('wasi-jco');
    cacheDir = tempDir('wasi-jco-cache');
  });

  it('arguments, stderr and a status from main', async () => {
    const { ours, jco } = await both('args', ARGS, 'true', ['one', '--two', '0']);
    expect(ours.stdout.toString()).toBe('1:one\n2:--two\n3:0\n');
    expect(ours.stdout.equals(jco.stdout)).toBe(true);
    expect(ours.stderr).toBe('to stderr\n');
    expect(ours.stderr).toBe(jco.stderr);
    expect([ours.status, jco.status]).toEqual([0, 0]);
  });

  it('the c-wc fixture counts piped stdin', async () => {
    const wc = join(fixture('c-wc'), 'component.wasm');
    const { ours, jco } = await bothOn('wc', wc, "printf 'one two\\nthree\\n\\nfour five six\\n'");
    expect(ours.stdout.toString()).toBe('      4       6      29\n');
    expect(ours.stdout.equals(jco.stdout)).toBe(true);
    expect([ours.status, jco.status]).toEqual([0, 0]);
  });

  it('cat: stdin piped in echoes byte for byte', async () => {
    const { ours, jco } = await both('cat', CAT, "printf 'hello\\nworld\\n\\001\\377 no newline'");
    expect(ours.stdout.toString('latin1')).toBe('hello\nworld\n\x01\xff no newline');
    expect(ours.stdout.equals(jco.stdout)).toBe(true);
    expect(ours.stderr).toBe(jco.stderr);
    expect([ours.status, jco.status]).toEqual([0, 0]);
  });

  it('cat: a slow producer, and a failing exit code (3 becomes 1 through the adapter)', async () => {
    const { ours, jco } = await both(
      'slow-cat',
      CAT,
      "printf 'a'; sleep 0.2; printf 'b'; sleep 0.1; printf 'c'",
      ['3'],
    );
    expect(ours.stdout.toString()).toBe('abc');
    expect(ours.stdout.equals(jco.stdout)).toBe(true);
    expect(ours.stderr).toBe('read 3 bytes\n');
    expect(ours.stderr).toBe(jco.stderr);
    expect([ours.status, jco.status]).toEqual([1, 1]);
  });

  it('a megabyte in one write(2), then interleaved stdout and stderr', async () => {
    const { ours, jco } = await both('big', BIG_WRITE, 'true', ['1000003']);
    expect(ours.stdout.length).toBe(1_000_006);
    expect(ours.stdout.equals(jco.stdout)).toBe(true);
    expect(ours.stderr).toBe('EEE');
    expect(ours.stderr).toBe(jco.stderr);
    expect([ours.status, jco.status]).toEqual([0, 0]);
  });

  it('exit(n) from inside the program, with buffered output flushed first', async () => {
    const runs = await Promise.all(['0', '7'].map((code) => both(`exit-${code}`, EXIT, 'true', [code])));
    for (const [i, { ours, jco }] of runs.entries()) {
      const code = ['0', '7'][i];
      expect(ours.stdout.toString()).toBe(`exiting with ${code}\n`);
      expect(ours.stdout.equals(jco.stdout)).toBe(true);
      expect(ours.status).toBe(jco.status);
      expect(ours.status).toBe(code === '0' ? 0 : 1);
    }
  });

  it('usleep(200 ms): both sleep, print nothing and succeed', async () => {
    const started = performance.now();
    const { ours, jco } = await both('sleep', SLEEP, 'true', ['q', '200000']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    expect(ours.stdout.length).toBe(0);
    expect(ours.stdout.equals(jco.stdout)).toBe(true);
    expect([ours.status, jco.status]).toEqual([0, 0]);
  });
});

describe('airssys-wasm run and jco run: a componentize-js command (slow)', () => {
  it('the js-cli-hello fixture prints the same lines and succeeds under both', async () => {
    dir ??= tempDir('wasi-jco');
    cacheDir ??= tempDir('wasi-jco-cache');
    const wasm = join(fixture('js-cli-hello'), 'component.wasm');
    // StarlingMonkey needs more than the default 4 MiB ceiling of a bare .wasm.
    const ours = await runWith('js-ours', 'true', [
      process.execPath,
      CLI,
      'run',
      '--cache-dir',
      cacheDir,
      '--max-memory',
      '64MiB',
      wasm,
    ]);
    const jco = await runWith('js-jco', 'true', [
      process.execPath,
      JCO,
      'run',
      '--jco-dir',
      tempDir('jco'),
      wasm,
    ]);
    expect(ours.stdout.toString()).toBe('hello from a JavaScript command\n');
    expect(ours.stdout.equals(jco.stdout)).toBe(true);
    expect(ours.stderr).toBe('random bytes: 8, clock: true\n');
    expect(ours.stderr).toBe(jco.stderr);
    expect([ours.status, jco.status]).toEqual([0, 0]);
  }, 120_000);
});
