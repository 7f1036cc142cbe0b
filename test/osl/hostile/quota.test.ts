/** Quota exhaustion, on the in-memory ports (the counting is port-independent). */

import { describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../../src/osl/audit/memory-audit-log.js';
import { MemoryFileSystem } from '../../../src/osl/memory/memory-file-system.js';
import { MemoryNetwork } from '../../../src/osl/memory/memory-network.js';
import type { QuotaLimits } from '../../../src/osl/policy/host-policy.js';
import { createSandbox } from '../../../src/osl/sandbox/sandbox.js';
import { expectRefused, tableResolver } from '../support.js';

function setup(quota: QuotaLimits) {
  const audit = new MemoryAuditLog();
  const fs = new MemoryFileSystem();
  fs.seedFile('/data/a', 'x'.repeat(20));
  const net = new MemoryNetwork();
  net.tcp('10.0.0.1', 7, (d) => d);
  const box = createSandbox({
    component: 'quota',
    version: '1.0.0',
    grants: {
      filesystem: { read: ['/data/**'], write: ['/data/**'] },
      network: { outbound: ['db.test:7'], addresses: ['10.0.0.1'] },
    },
    audit,
    quota,
    ports: { fs, net },
    resolver: tableResolver({ 'db.test': ['10.0.0.1'] }),
  });
  return { audit, box };
}

describe('hostile quota', () => {
  it('quota — open files are capped and released on close', async () => {
    const { audit, box } = setup({ openFiles: 2 });
    const a = await box.fs.open('/data/a');
    await box.fs.open('/data/a');
    await expectRefused(box.fs.open('/data/a'), 'capability-denied', audit, { operation: 'fs.open' });
    expect(audit.records.at(-1)?.reason).toMatch(/openFiles exhausted: 2 of 2/);
    await a.close();
    await (await box.fs.open('/data/a')).close();
    expect(box.quota.openFiles).toBe(1);
  });

  it('quota — a whole-file read cannot exceed the bytes-read budget', async () => {
    const { audit, box } = setup({ bytesRead: 10 });
    await expectRefused(box.fs.readFile('/data/a'), 'capability-denied', audit);
  });

  it('quota — handle reads over the budget are refused and audited (bulk denials are recorded)', async () => {
    const { audit, box } = setup({ bytesRead: 15 });
    const h = await box.fs.open('/data/a');
    expect((await h.read(10)).length).toBe(10);
    await expectRefused(h.read(10), 'capability-denied', audit, { operation: 'fs.read' });
    await h.close();
  });

  it('quota — writes over the bytes-written budget are refused and write nothing', async () => {
    const { audit, box } = setup({ bytesWritten: 10 });
    await box.fs.writeFile('/data/b', new Uint8Array(10));
    await expectRefused(box.fs.writeFile('/data/c', new Uint8Array(1)), 'capability-denied', audit);
    await expect(box.fs.stat('/data/c')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('quota — sockets are capped and released when a connection closes', async () => {
    const { audit, box } = setup({ sockets: 1 });
    const conn = await box.net.connect('db.test', 7);
    await expectRefused(box.net.connect('db.test', 7), 'capability-denied', audit, {
      operation: 'net.connect',
    });
    await conn.close();
    await (await box.net.connect('db.test', 7)).close();
    expect(box.quota.sockets).toBe(0);
  });

  it('quota — closing the sandbox releases everything the component left open', async () => {
    const { box } = setup({});
    await box.fs.open('/data/a');
    await box.net.connect('db.test', 7);
    await box.close();
    expect(box.quota).toMatchObject({ openFiles: 0, sockets: 0 });
  });
});
