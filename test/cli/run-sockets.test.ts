// `airssys-wasm run` of a command that connects with wasi:sockets (test/support/sockets-probe.ts),
// through the bundled CLI and its socket thread: connected where --allow-outbound grants, refused
// and reported on stderr where not.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/fixtures.js';
import { socketsProbe } from '../support/sockets-probe.js';
import { tempDir } from '../support/temp.js';

const dir = tempDir('run-sockets');
let server: ChildProcess;
let port: number;
let wasm: string;

beforeAll(async () => {
  server = spawn(
    process.execPath,
    [
      '-e',
      "const s = require('node:net').createServer((c) => c.end()).listen(0, '127.0.0.1', () => console.log(s.address().port));",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  port = Number(
    await new Promise<string>((r) => server.stdout?.once('data', (d: Buffer) => r(d.toString()))),
  );
  wasm = join(dir, 'probe.wasm');
  writeFileSync(wasm, await socketsProbe({ port }));
});

afterAll(() => {
  server?.kill();
});

function run(args: readonly string[]) {
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'dist', 'cli', 'airssys-wasm.js'), 'run', '--cache-dir', join(dir, 'cache'), ...args],
    { encoding: 'utf8', timeout: 30_000 },
  );
  return { status: r.status, stderr: r.stderr };
}

describe('airssys-wasm run — wasi:sockets', () => {
  it('connects where --allow-outbound grants the address (exit 0)', () => {
    const r = run(['--allow-outbound', `127.0.0.1:${port}`, wasm]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('refuses without a grant: the guest gets access-denied (exit 1) and stderr says why', () => {
    const r = run([wasm]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^denied wasi\\.sockets\\.tcp\\.connect 127\\.0\\.0\\.1:${port}: `));
    const other = run(['--allow-outbound', '127.0.0.1:1', wasm]);
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/no network grant covers/);
  });
});
