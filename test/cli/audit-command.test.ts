// `airssys-wasm audit`, driven through the built command against the audit log a host left in
// its data directory (no host running): filters, --json, and the learn-mode suggestion.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteAuditLog } from '../../src/osl/audit/sqlite-audit-log.js';
import { ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'airssys-wasm.js'), ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

describe('airssys-wasm audit', () => {
  const dataDir = tempDir('cli-audit');
  const now = Date.now();
  const log = new SqliteAuditLog({ path: join(dataDir, 'audit.db') });
  const base = { component: 'gw', version: 'abc', code: 'capability-denied' as const };
  log.record({
    ...base,
    time: now - 7_200_000,
    operation: 'fs.read-file',
    subject: '/srv/old.txt',
    decision: 'deny',
    reason: 'no filesystem read grant covers /srv/old.txt',
  });
  log.record({
    ...base,
    time: now - 1000,
    operation: 'net.fetch',
    subject: 'https://api.example.com/v1/items',
    decision: 'deny',
    reason: 'no network grant covers api.example.com:443',
  });
  log.record({
    ...base,
    time: now - 500,
    operation: 'process.spawn',
    subject: '/usr/bin/env FOO',
    decision: 'deny',
    reason: 'executable /usr/bin/env is not granted',
  });
  log.record({
    component: 'gw',
    version: 'abc',
    time: now - 100,
    operation: 'fs.read-file',
    subject: '/srv/ok.txt',
    decision: 'allow',
    reason: 'granted',
  });
  log.record({
    ...base,
    time: now,
    operation: 'messaging.send',
    subject: 'x',
    decision: 'deny',
    reason: 'other component',
    component: 'other',
  });
  log.close();

  it('prints records newest first, filtered by component, decision and time', () => {
    const r = cli('audit', 'gw', '--data-dir', dataDir, '--decision', 'deny', '--since', '1h');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/deny {2}gw@abc process\.spawn \/usr\/bin\/env FOO — executable/);
    expect(lines[1]).toContain('net.fetch https://api.example.com/v1/items');
  });

  it('--json prints one document with the records', () => {
    const r = cli('audit', '--data-dir', dataDir, '--json', '--limit', '2');
    expect(r.status).toBe(0);
    const doc = r.json();
    expect(doc.ok).toBe(true);
    expect(doc.records.map((x: { component: string }) => x.component)).toEqual(['other', 'gw']);
  });

  it('--suggest prints the [permissions] that would have allowed the refusals', () => {
    const r = cli('audit', 'gw', '--suggest', '--data-dir', dataDir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('[permissions]');
    expect(r.stdout).toContain('filesystem = { read = ["/srv/old.txt"] }');
    expect(r.stdout).toContain('network = { outbound = ["api.example.com:443"] }');
    expect(r.stdout).toContain('process = { spawn = ["/usr/bin/env"] }');
    expect(cli('audit', 'gw', '--suggest', '--data-dir', dataDir, '--json').json().permissions).toEqual({
      'filesystem.read': ['/srv/old.txt'],
      'network.outbound': ['api.example.com:443'],
      'process.spawn': ['/usr/bin/env'],
    });
  });

  it('bad flags are usage errors (exit 2); a missing data directory is not-found', () => {
    expect(cli('audit', '--data-dir', dataDir, '--decision', 'maybe').status).toBe(2);
    expect(cli('audit', '--data-dir', dataDir, '--since', 'yesterday-ish').status).toBe(2);
    expect(cli('audit', '--suggest', '--data-dir', dataDir).status).toBe(2);
    const missing = cli('audit', '--data-dir', join(dataDir, 'nope'), '--json');
    expect(missing.status).toBe(1);
    expect(missing.json().error.code).toBe('not-found');
  });
});
