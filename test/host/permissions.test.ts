// A manifest's permissions as the host sees them: the osl grants they become, the diff between
// two versions, and the least-privilege suggestion learn mode makes from the audit log.
import { describe, expect, it } from 'vitest';
import {
  describeDiff,
  grantsOf,
  permissionDiff,
  permissionsToml,
  suggestPermissions,
  withoutPermissions,
} from '../../src/host/permissions.js';
import type { AuditRecord } from '../../src/osl/audit/audit-log.js';
import { manifestWith } from '../support/manifest.js';

const manifest = (...permissions: string[]) => manifestWith('p', permissions);

function denial(operation: string, subject: string, reason: string, code = 'capability-denied'): AuditRecord {
  return { time: 1, component: 'p', version: 'v', operation, subject, decision: 'deny', reason, code };
}

describe('grantsOf', () => {
  it('maps filesystem, network and process lists; a port-less host means any port', () => {
    const g = grantsOf(
      manifest(
        'filesystem = { read = ["/data/**"], write = ["/data/out/**"] }',
        'network = { outbound = ["api.example.com", "10.0.0.5:8080", "[::1]:9000"] }',
        'process = { spawn = ["/usr/bin/env"] }',
      ),
    );
    expect(g.filesystem).toEqual({ read: ['/data/**'], write: ['/data/out/**'] });
    expect(g.network?.outbound).toEqual(['api.example.com:*', '10.0.0.5:8080', '[::1]:9000']);
    // IP literals are granted as addresses too; names are not (their answers are still checked).
    expect(g.network?.addresses).toEqual(['10.0.0.5', '::1']);
    expect(g.process).toEqual({ spawn: ['/usr/bin/env'] });
  });

  it('learn mode strips every grant but keeps the storage quota', () => {
    const m = withoutPermissions(
      manifest('storage = { namespaces = ["a"], quota = "2KiB" }', 'messaging = { send = [">"] }'),
    );
    expect(m.permissions.storage).toEqual({ namespaces: [], quotaBytes: 2048 });
    expect(m.permissions.messaging.send).toEqual([]);
  });
});

describe('permissionDiff', () => {
  it('names what a new version adds and drops', () => {
    const from = manifest(
      'messaging = { send = ["a.b"] }',
      'storage = { namespaces = ["s"], quota = "1KiB" }',
    );
    const to = manifest(
      'messaging = { send = ["a.b", "c.>"] }',
      'storage = { namespaces = [], quota = "4KiB" }',
      'network = { outbound = ["x.example:443"] }',
    );
    const diff = permissionDiff(from.permissions, to.permissions);
    expect(diff.widens).toBe(true);
    expect(diff.added).toEqual({ 'messaging.send': ['c.>'], 'network.outbound': ['x.example:443'] });
    expect(diff.removed).toEqual({ 'storage.namespaces': ['s'] });
    expect(diff.quota).toEqual({ from: 1024, to: 4096 });
    expect(describeDiff(diff)).toEqual([
      '+ network.outbound "x.example:443"',
      '+ messaging.send "c.>"',
      '- storage.namespaces "s"',
      '~ storage.quota 1024 → 4096 bytes',
    ]);
  });

  it('narrowing does not widen; equal permissions have no diff', () => {
    const wide = manifest('messaging = { send = ["a.b", "c.d"] }');
    const narrow = manifest('messaging = { send = ["a.b"] }');
    expect(permissionDiff(wide.permissions, narrow.permissions).widens).toBe(false);
    expect(describeDiff(permissionDiff(wide.permissions, wide.permissions))).toEqual([]);
  });
});

describe('suggestPermissions', () => {
  it('turns missing-grant denials into exact grants, per field', () => {
    const records = [
      denial(
        'messaging.send',
        'orders.created',
        'p may not send to "orders.created"; declare it in Component.toml [permissions] messaging.send',
      ),
      denial(
        'storage.open',
        'cache',
        'p may not use storage namespace "cache"; declare it in Component.toml [permissions] storage.namespaces',
      ),
      denial('fs.read-file', '/data/in/a.txt', 'no filesystem read grant covers /data/in/a.txt'),
      denial('fs.write-file', '/data/out/b.txt', 'no filesystem write grant covers /data/out/b.txt'),
      denial('net.fetch', 'https://api.example.com/v1/x?y=1', 'no network grant covers api.example.com:443'),
      denial('net.fetch', 'http://127.0.0.1:8080/', 'no network grant covers 127.0.0.1:8080'),
      // A WASI guest's outgoing request, as the HTTP service's instance reports it.
      denial(
        'wasi.http.outgoing-handler.handle',
        'http://10.1.2.3:9000/x',
        'capability-denied: no network grant covers 10.1.2.3:9000',
      ),
      denial(
        'wasi.sockets.tcp.connect',
        '10.1.2.4:5432',
        'capability-denied: no network grant covers 10.1.2.4:5432',
      ),
      denial('process.spawn', '/usr/bin/env', 'executable /usr/bin/env is not granted'),
      // Same subject twice: one grant.
      denial(
        'messaging.send',
        'orders.created',
        'p may not send to "orders.created"; declare it in Component.toml [permissions] messaging.send',
      ),
    ];
    expect(suggestPermissions(records)).toEqual({
      'filesystem.read': ['/data/in/a.txt'],
      'filesystem.write': ['/data/out/b.txt'],
      'messaging.send': ['orders.created'],
      'network.outbound': ['10.1.2.3:9000', '10.1.2.4:5432', '127.0.0.1:8080', 'api.example.com:443'],
      'process.spawn': ['/usr/bin/env'],
      'storage.namespaces': ['cache'],
    });
  });

  it('leaves out refusals no grant can lift, and allowed operations', () => {
    const records: AuditRecord[] = [
      denial('fs.read-file', '/data/../etc/passwd', 'path leaves /data through ".." (resolve-beneath)'),
      denial('fs.read-file', '/data/secret', 'path is refused by deny rule /data/secret'),
      denial('fs.read-file', 'relative', 'path must be absolute', 'invalid-argument'),
      denial('net.fetch', 'http://169.254.169.254/', 'metadata address 169.254.169.254 is refused'),
      { ...denial('fs.read-file', '/ok', 'granted'), decision: 'allow' },
    ];
    expect(suggestPermissions(records)).toEqual({});
  });

  it('reads development mode would-deny notes too', () => {
    const records: AuditRecord[] = [
      {
        ...denial('fs.stat', '/srv/x', ''),
        decision: 'allow',
        reason: 'development mode: no filesystem read grant covers /srv/x',
        code: undefined,
      },
    ];
    expect(suggestPermissions(records)).toEqual({ 'filesystem.read': ['/srv/x'] });
  });

  it('prints a [permissions] fragment that the manifest parser accepts', () => {
    const lists = { 'messaging.send': ['a.b'], 'storage.namespaces': ['s'], 'filesystem.read': ['/x/"q"'] };
    const toml = permissionsToml(lists);
    const m = manifest(...toml.split('\n').slice(1));
    expect(m.permissions.messaging.send).toEqual(['a.b']);
    expect(m.permissions.storage.namespaces).toEqual(['s']);
    expect(m.permissions.filesystem.read).toEqual(['/x/"q"']);
  });
});
