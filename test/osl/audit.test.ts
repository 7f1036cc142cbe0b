import { describe, expect, it } from 'vitest';
import type { AuditLog, AuditRecord } from '../../src/osl/audit/audit-log.js';
import { MemoryAuditLog } from '../../src/osl/audit/memory-audit-log.js';
import { SqliteAuditLog } from '../../src/osl/audit/sqlite-audit-log.js';
import { OperatorAcl } from '../../src/osl/policy/rbac.js';
import { tempDir } from '../support/temp.js';

const rec = (time: number, component: string, decision: 'allow' | 'deny'): AuditRecord => ({
  time,
  component,
  version: '1.0.0',
  operation: 'fs.open',
  subject: `/data/${time}`,
  decision,
  reason: decision === 'deny' ? 'capability-denied: no' : 'granted',
  ...(decision === 'deny' ? { code: 'capability-denied' } : {}),
});

function runAuditContract(name: string, make: () => AuditLog) {
  describe(`${name} — audit log`, () => {
    it('queries by component, decision and time range, newest first', () => {
      const log = make();
      log.record(rec(1, 'a', 'allow'));
      log.record(rec(2, 'a', 'deny'));
      log.record(rec(3, 'b', 'deny'));
      log.record(rec(4, 'a', 'deny'));
      expect(log.query({ component: 'a' }).map((r) => r.time)).toEqual([4, 2, 1]);
      expect(log.query({ decision: 'deny' }).map((r) => r.time)).toEqual([4, 3, 2]);
      expect(log.query({ since: 2, until: 4 }).map((r) => r.time)).toEqual([3, 2]);
      expect(log.query({ component: 'a', decision: 'deny', limit: 1 })).toEqual([rec(4, 'a', 'deny')]);
      log.close();
    });
  });
}

runAuditContract('MemoryAuditLog', () => new MemoryAuditLog());
runAuditContract('SqliteAuditLog', () => new SqliteAuditLog({ path: ':memory:' }));

describe('SqliteAuditLog', () => {
  it('audit — survives a reopen (durable) and batches a burst into one transaction', () => {
    const path = `${tempDir('audit')}/audit.db`;
    const first = new SqliteAuditLog({ path });
    for (let i = 0; i < 5000; i++) first.record(rec(i, 'burst', i % 2 ? 'deny' : 'allow'));
    first.close();
    const second = new SqliteAuditLog({ path });
    expect(second.query({ component: 'burst', decision: 'deny', limit: 10_000 })).toHaveLength(2500);
    second.close();
  });

  it('audit — writes on the next turn without an explicit flush', async () => {
    const log = new SqliteAuditLog({ path: `${tempDir('audit')}/a.db` });
    log.record(rec(1, 'x', 'allow'));
    await new Promise((r) => setImmediate(r));
    expect(log.query({ component: 'x' })).toHaveLength(1);
    log.close();
  });
});

describe('OperatorAcl', () => {
  const audit = new MemoryAuditLog();
  const acl = new OperatorAcl(
    {
      roles: { admin: ['*'], operator: ['component.*', 'audit.read'], viewer: ['audit.read'] },
      principals: { root: ['admin'], alice: ['operator'], bob: ['viewer'] },
    },
    audit,
  );

  it('rbac — roles grant exact names, dotted prefixes or everything', () => {
    expect(acl.can('root', 'host.shutdown')).toBe(true);
    expect(acl.can('alice', 'component.deploy')).toBe(true);
    expect(acl.can('alice', 'componentx.deploy')).toBe(false);
    expect(acl.can('bob', 'audit.read')).toBe(true);
    expect(acl.can('mallory', 'audit.read')).toBe(false);
    expect(acl.can('__proto__', 'audit.read')).toBe(false);
  });

  it('rbac — authorize refuses and audits', () => {
    expect(() => acl.authorize('bob', 'component.deploy', 'counter')).toThrowError(
      expect.objectContaining({ code: 'capability-denied' }),
    );
    expect(audit.query({ component: 'counter' })[0]).toMatchObject({
      decision: 'deny',
      operation: 'operator.component.deploy',
      subject: 'operator:bob',
    });
    acl.authorize('alice', 'component.deploy', 'counter');
    expect(audit.query({ component: 'counter' })[0].decision).toBe('allow');
  });
});
