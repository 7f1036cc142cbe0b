// `airssys-wasm job` against a running host: a wasi:cli/command component deployed at an
// address runs once per call, stdin and arguments from the command line, the guest's exit status
// as the command's, its output in the host's log. Spawns the built CLI against a daemon started
// here (from dist/): run `npm run build` first.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Daemon, startDaemon } from '../../dist/daemon/daemon.js';
import type { DaemonEvent } from '../../dist/daemon/event-hub.js';
import { fixture, ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

const CLI = join(ROOT, 'dist', 'cli', 'airssys-wasm.js');
let daemon: Daemon;
let dataDir: string;
const events: DaemonEvent[] = [];

/** Runs the CLI (asynchronously: the daemon answering it runs on this thread). */
function cli(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, args[0], '--data-dir', dataDir, ...args.slice(1)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

beforeAll(async () => {
  dataDir = tempDir('job-cli');
  daemon = await startDaemon({ dataDir, port: 0, threads: 0 });
  daemon.events.watch((e) => events.push(e));
  const dir = join(tempDir('job-cli-wc'), 'wc');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(fixture('c-wc'), 'component.wasm'), join(dir, 'component.wasm'));
  writeFileSync(
    join(dir, 'Component.toml'),
    '[component]\nname = "wc"\nversion = "0.1.0"\nwasm = "component.wasm"\nworld = "wasi:cli/command@0.2.0"\n[resources]\nmemory = "1MiB"\n',
  );
  await daemon.deployer.install(dir);
  await daemon.deployer.deploy('wc');
}, 60_000);

afterAll(async () => {
  await daemon?.close();
});

describe('airssys-wasm job', () => {
  it("runs the command with --stdin; exits with the guest's status; the output is in the host's log", async () => {
    const input = join(tempDir('job-cli-in'), 'in.txt');
    writeFileSync(input, 'one two\nthree\n');
    const ran = await cli(['job', 'wc', '--stdin', input]);
    expect(ran.stderr).toMatch(/^wc exited with status 0 \(\d+\.\d ms\); its output is in the host's log\n$/);
    expect(ran.status).toBe(0);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'log', address: 'wc', message: '      2       3      14' }),
    );
  });

  it("passes the arguments after --, and a failing guest's status is the command's", async () => {
    const ran = await cli(['job', 'wc', '--json', '--', '/nowhere']);
    expect(ran.status).toBe(1);
    expect(JSON.parse(ran.stdout)).toMatchObject({ ok: true, status: 1 });
  });

  it('an address that serves nothing is not-found, exit 1', async () => {
    const ran = await cli(['job', 'nosuch']);
    expect(ran.stderr).toMatch(/^error \[not-found\]/);
    expect(ran.status).toBe(1);
  });
});
