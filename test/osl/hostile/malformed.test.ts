/** Malformed input of every shape: typed `invalid-argument`, audited, never a crash. */

import { describe, it } from 'vitest';
import { MemoryAuditLog } from '../../../src/osl/audit/memory-audit-log.js';
import { MemoryFileSystem } from '../../../src/osl/memory/memory-file-system.js';
import { MemoryNetwork } from '../../../src/osl/memory/memory-network.js';
import { createSandbox } from '../../../src/osl/sandbox/sandbox.js';
import { expectRefused, fakeCoreutils, tableResolver } from '../support.js';

const audit = new MemoryAuditLog();
const fs = new MemoryFileSystem();
fs.seedDir('/data');
const box = createSandbox({
  component: 'malformed',
  version: '1.0.0',
  grants: {
    filesystem: { read: ['/data/**'] },
    network: { outbound: ['svc.test:*'] },
    process: { spawn: ['/usr/bin/echo'] },
  },
  audit,
  ports: { fs, net: new MemoryNetwork(), process: fakeCoreutils() },
  resolver: tableResolver({ 'svc.test': ['93.184.216.34'] }),
});

describe('hostile malformed input', () => {
  it('malformed — a path that is not a string', async () => {
    await expectRefused(box.fs.readFile(42 as never), 'invalid-argument', audit, { subject: '42' });
  });

  it('malformed — a path longer than PATH_MAX', async () => {
    await expectRefused(box.fs.readFile(`/data/${'a/'.repeat(3000)}`), 'invalid-argument', audit);
  });

  it('malformed — a path segment longer than NAME_MAX', async () => {
    await expectRefused(box.fs.stat(`/data/${'x'.repeat(300)}`), 'invalid-argument', audit);
  });

  it('malformed — a URL that does not parse', async () => {
    await expectRefused(box.net.fetch('http://[::1'), 'invalid-argument', audit, { operation: 'net.fetch' });
  });

  it('malformed — CRLF in a header (request splitting)', async () => {
    await expectRefused(
      box.net.fetch('http://svc.test/', { headers: { 'x-a': 'b\r\nHost: evil.test' } }),
      'invalid-argument',
      audit,
    );
  });

  it('malformed — a method that is not a token', async () => {
    await expectRefused(
      box.net.fetch('http://svc.test/', { method: 'GET / HTTP/1.1\r\n' }),
      'invalid-argument',
      audit,
    );
  });

  it('malformed — a TCP port out of range', async () => {
    await expectRefused(box.net.connect('svc.test', 70000), 'invalid-argument', audit);
  });

  it('malformed — an environment variable name with "="', async () => {
    await expectRefused(
      box.process.spawn('/usr/bin/echo', [], { env: { 'A=B': 'c' } }),
      'invalid-argument',
      audit,
    );
  });

  it('malformed — arguments that are not an array of strings', async () => {
    await expectRefused(box.process.spawn('/usr/bin/echo', 'rm -rf /' as never), 'invalid-argument', audit);
  });
});
