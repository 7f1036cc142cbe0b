// `airssys-wasm cluster`, driven through the built command (`npm run build`) as a user runs it:
// keygen writes a key the host accepts and never overwrites one; status, deploy and undeploy
// against a host without a cluster answer not-found; and end to end over a real nats-server: a
// daemon in this process joins as h1, the CLI installs echo and deploys it across the cluster,
// status shows it placed on h1 and served there, undeploy removes it, and bad flags exit 2.
// Note: the commands run asynchronously — a blocking spawnSync would stall the daemon that
// answers them, which lives in this process.
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClusterKey } from '../../src/cluster/cluster.js';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import { until } from '../support/cluster.js';
import { fixture, ROOT } from '../support/fixtures.js';
import { type NatsServer, startNats } from '../support/nats-server.mjs';
import { tempDir } from '../support/temp.js';

const CLI = join(ROOT, 'dist', 'cli', 'airssys-wasm.js');

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
  json(): any;
}

function cli(...args: string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, json: () => JSON.parse(stdout) });
    });
  });
}

describe('airssys-wasm cluster keygen', () => {
  const dir = tempDir('cluster-keygen');

  it('cluster keygen — writes 32 random bytes as 64 hex digits, readable by its owner only', async () => {
    const file = join(dir, 'keys', 'cluster.key');
    const r = await cli('cluster', 'keygen', file, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.json()).toEqual({ ok: true, file, bytes: 32 });
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^[0-9a-f]{64}\n$/);
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readClusterKey(file)).toString('hex')).toBe(text.trim());
    const other = join(dir, 'other.key');
    const human = await cli('cluster', 'keygen', other);
    expect(human.stdout).toContain(`wrote ${other}`);
    expect(readFileSync(other, 'utf8')).not.toBe(text);
  });

  it('cluster keygen — refuses to overwrite an existing file (exit 2) and leaves it as it was', async () => {
    const file = join(dir, 'existing.key');
    writeFileSync(file, 'keep me\n');
    const r = await cli('cluster', 'keygen', file, '--json');
    expect(r.status).toBe(2);
    expect(r.json().error).toMatchObject({ code: 'invalid-argument' });
    expect(r.json().error.message).toMatch(/already exists.*remove it first/);
    expect(readFileSync(file, 'utf8')).toBe('keep me\n');
    const human = await cli('cluster', 'keygen', file);
    expect(human.status).toBe(2);
    expect(human.stderr).toMatch(/^error \[invalid-argument\]: .*already exists/);
  });
});

describe('airssys-wasm cluster — a host without a cluster', () => {
  let daemon: Daemon;
  const dataDir = tempDir('cluster-none');
  beforeAll(async () => {
    daemon = await startDaemon({ dataDir, port: 0, threads: 0 });
  });
  afterAll(() => daemon?.close());

  it('cluster status, deploy, undeploy — not-found (exit 1), saying how to join one', async () => {
    for (const args of [['status'], ['deploy', 'echo'], ['undeploy', 'echo']]) {
      const r = await cli('cluster', ...args, '--data-dir', dataDir, '--json');
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'not-found' } });
      expect(r.json().error.message).toContain('--cluster');
    }
    const human = await cli('cluster', 'status', '--data-dir', dataDir);
    expect(human.status).toBe(1);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/^error \[not-found\]: this host is not in a cluster/);
  });
});

describe('airssys-wasm cluster — end to end over NATS', () => {
  let nats: NatsServer;
  let daemon: Daemon;
  const dataDir = tempDir('cluster-e2e');
  const keyFile = join(tempDir('cluster-e2e-key'), 'cluster.key');

  beforeAll(async () => {
    expect((await cli('cluster', 'keygen', keyFile)).status).toBe(0);
    nats = await startNats();
    daemon = await startDaemon({
      dataDir,
      port: 0,
      threads: 0,
      cluster: { url: nats.url, keyFile, hostId: 'h1', heartbeatMs: 100, lostAfterMs: 500 },
    });
  }, 60_000);
  afterAll(async () => {
    await daemon?.close();
    await nats?.stop();
  });

  const status = async () => {
    const r = await cli('cluster', 'status', '--data-dir', dataDir, '--json');
    expect(r.status, r.stderr).toBe(0);
    return r.json().cluster;
  };

  it('cluster deploy — places echo on h1; status shows the placement and h1 serving it', async () => {
    const installed = await cli('install', fixture('echo'), '--data-dir', dataDir);
    expect(installed.status, installed.stderr).toBe(0);
    const r = await cli('cluster', 'deploy', 'echo', '--instances', '1', '--data-dir', dataDir, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      ok: true,
      deployment: { address: 'echo', component: 'echo', version: '0.1.0', instances: 1, rollout: 'rolling' },
    });
    expect(r.json().deployment.manifestText).toBeUndefined();

    await until(
      async () => {
        const s = await status();
        const d = s.deployments.find((x: { address: string }) => x.address === 'echo');
        const h1 = s.hosts.find((h: { id: string }) => h.id === 'h1');
        return (
          JSON.stringify(d?.placement) === JSON.stringify({ h1: 1 }) &&
          d?.unplaced === 0 &&
          h1?.addresses.echo?.instances === 1
        );
      },
      20_000,
      'echo placed on h1 and served there',
    );
    const s = await status();
    expect(s).toMatchObject({ name: 'default', self: 'h1' });
    expect(s.hosts).toEqual([
      expect.objectContaining({
        id: 'h1',
        self: true,
        addresses: { echo: { versions: ['0.1.0'], instances: 1 } },
      }),
    ]);
    expect(s.progress).toEqual([expect.objectContaining({ address: 'echo', want: 1, phase: 'serving' })]);

    const human = await cli('cluster', 'status', '--data-dir', dataDir);
    expect(human.status).toBe(0);
    expect(human.stdout).toContain('cluster default, this host h1');
    expect(human.stdout).toMatch(/^h1 \(this host\) +1024 +— +\d+ ms +echo@0\.1\.0 ×1$/m);
    expect(human.stdout).toMatch(/^echo +echo@0\.1\.0 +1 +rolling +h1=1 +0 /m);
    expect(human.stdout).toContain('  echo: serving, 1 instance(s) here');
  }, 60_000);

  it('cluster deploy — bad flags are usage errors (exit 2) and change nothing', async () => {
    for (const flags of [
      ['--instances', '0'],
      ['--instances', 'two'],
      ['--spread', 'wide'],
      ['--rollout', 'sideways'],
      ['--max-per-host', '0'],
      ['--affinity', 'zone'],
    ]) {
      const r = await cli('cluster', 'deploy', 'echo', ...flags, '--data-dir', dataDir, '--json');
      expect(r.status, flags.join(' ')).toBe(2);
      expect(r.json().error.code, flags.join(' ')).toBe('invalid-argument');
    }
    const human = await cli('cluster', 'deploy', 'echo', '--instances', '0', '--data-dir', dataDir);
    expect(human.status).toBe(2);
    expect(human.stderr).toContain('error [invalid-argument]: --instances: a whole number >= 1, not 0');
    expect((await status()).deployments).toEqual([
      expect.objectContaining({ address: 'echo', instances: 1 }),
    ]);
  });

  it('cluster undeploy — removes the deployment, and h1 stops serving echo', async () => {
    const r = await cli('cluster', 'undeploy', 'echo', '--data-dir', dataDir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('removed the cluster deployment echo');
    await until(
      async () => {
        const s = await status();
        return s.deployments.length === 0 && s.hosts[0]?.addresses.echo === undefined;
      },
      20_000,
      'echo gone from the cluster',
    );
    const again = await cli('cluster', 'undeploy', 'never-deployed', '--data-dir', dataDir, '--json');
    expect(again.status).toBe(1);
    expect(again.json().error.code).toBe('not-found');
  }, 60_000);
});
