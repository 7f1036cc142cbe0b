// The data-directory commands (install, list, status, uninstall) driven through the built
// command, against a registry in a temporary data directory and no running host.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'airssys-wasm.js'), ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

describe('airssys-wasm install / list / status / uninstall', () => {
  const dataDir = tempDir('cli-registry');

  it('install — stores a component folder and says it is new', () => {
    const r = cli('install', fixture('counter'), '--data-dir', dataDir);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^installed counter@0\.1\.0 \(sha256 [0-9a-f]{12}\)/);
  });

  it('install — takes a Component.toml path and prints one JSON document with --json', () => {
    const r = cli('install', join(fixture('counter-v2'), 'Component.toml'), '--data-dir', dataDir, '--json');
    expect(r.status).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, created: true, name: 'counter', version: '0.2.0' });
    expect(r.json().sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('install — the same version and bytes again is a no-op that exits 0', () => {
    const r = cli('install', fixture('counter'), '--data-dir', dataDir);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/counter@0\.1\.0 already installed/);
    expect(cli('install', fixture('counter'), '--data-dir', dataDir, '--json').json()).toMatchObject({
      ok: true,
      created: false,
    });
  });

  it('install — refuses the same version with other bytes and says to bump the version', () => {
    const changed = join(tempDir('cli-conflict'), 'counter');
    cpSync(fixture('counter'), changed, { recursive: true });
    copyFileSync(join(fixture('echo'), 'component.wasm'), join(changed, 'component.wasm'));
    const r = cli('install', changed, '--data-dir', dataDir, '--json');
    expect(r.status).not.toBe(0);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(r.json().error.message).toMatch(/bump \[component\] version/);
    const text = cli('install', changed, '--data-dir', dataDir);
    expect(text.status).not.toBe(0);
    expect(text.stderr).toMatch(/error \[invalid-argument\].*immutable/);
  });

  it('list — shows every version, newest first', () => {
    const doc = cli('list', '--data-dir', dataDir, '--json').json();
    expect(doc.ok).toBe(true);
    expect(doc.versions.map((v: { version: string }) => v.version)).toEqual(['0.2.0', '0.1.0']);
    expect(doc.versions[0]).toMatchObject({ name: 'counter', source: { kind: 'folder' } });
    const text = cli('list', 'counter', '--data-dir', dataDir);
    expect(text.status).toBe(0);
    expect(text.stdout.split('\n').slice(1, 3)).toEqual([
      expect.stringMatching(/^counter\s+0\.2\.0\s+[0-9a-f]{12}\s/),
      expect.stringMatching(/^counter\s+0\.1\.0\s+[0-9a-f]{12}\s/),
    ]);
  });

  it('status — an empty data directory has no deployments', () => {
    const empty = tempDir('cli-empty');
    expect(cli('status', '--data-dir', empty, '--json').json()).toEqual({ ok: true, deployments: [] });
    expect(cli('status', '--data-dir', empty).stdout).toMatch(/no deployments recorded/);
  });

  it('list and status — a missing data directory is not-found, not an empty registry', () => {
    const missing = join(tempDir('cli-missing'), 'nope');
    for (const command of ['list', 'status']) {
      const r = cli(command, '--data-dir', missing, '--json');
      expect(r.status).toBe(1);
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'not-found' } });
    }
  });

  it('uninstall — removes one version by hash prefix or version', () => {
    const [v2] = cli('list', '--data-dir', dataDir, '--json').json().versions;
    const r = cli('uninstall', 'counter', v2.sha256.slice(0, 12), '--data-dir', dataDir, '--json');
    expect(r.status).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, name: 'counter', version: '0.2.0' });
    expect(cli('uninstall', 'counter', '0.2.0', '--data-dir', dataDir, '--json').json().error.code).toBe(
      'not-found',
    );
    const left = cli('list', '--data-dir', dataDir, '--json').json().versions;
    expect(left.map((v: { version: string }) => v.version)).toEqual(['0.1.0']);
  });

  it('has --help for every command, naming --data-dir and its default', () => {
    for (const command of ['install', 'list', 'status', 'uninstall']) {
      const r = cli(command, '--help');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: airssys-wasm ${command}`));
      expect(r.stdout).toMatch(/--data-dir <dir>[\s\S]*\.\/\.airssys/);
    }
  });
});
