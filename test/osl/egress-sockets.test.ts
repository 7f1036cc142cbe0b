// The egress policy's socket operations: a lookup on its own (`net.lookup`) and a listener
// (`net.listen`), through a sandbox's chain with a fake resolver and a fake listening port.
import { describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../src/osl/audit/memory-audit-log.js';
import { MemoryNetwork } from '../../src/osl/memory/memory-network.js';
import type { Grants } from '../../src/osl/policy/grants.js';
import { createSandbox } from '../../src/osl/sandbox/sandbox.js';
import { tableResolver } from './support.js';

const resolver = tableResolver({
  'api.example.com': ['93.184.215.14'],
  'rebound.example.com': ['93.184.215.14', '127.0.0.1'],
});

function sandbox(network: Grants['network']) {
  const audit = new MemoryAuditLog();
  const net = Object.assign(new MemoryNetwork(), {
    listen: async (address: string, port: number) => ({
      address,
      port: port || 40000,
      close: async () => {},
    }),
  });
  const box = createSandbox({
    component: 'c',
    version: '1',
    grants: { network },
    audit,
    resolver,
    ports: { net },
  });
  return { box, audit };
}

describe('egress policy — lookups and listeners', () => {
  it('looks a name up when some port of it is granted, and checks the answers as a connect would', async () => {
    const { box, audit } = sandbox({ outbound: ['api.example.com:443', 'rebound.example.com:443'] });
    expect(await box.net.lookup('API.example.com.')).toEqual([{ address: '93.184.215.14', family: 4 }]);
    await expect(box.net.lookup('rebound.example.com')).rejects.toMatchObject({ code: 'capability-denied' });
    await expect(box.net.lookup('other.example.com')).rejects.toThrow(
      /no network grant covers other\.example\.com/,
    );
    const records = (await audit.query({})).reverse(); // newest first
    expect(records.map((r) => [r.operation, r.subject, r.decision])).toEqual([
      ['net.lookup', 'api.example.com', 'allow'],
      ['net.lookup', 'rebound.example.com', 'deny'],
      ['net.lookup', 'other.example.com', 'deny'],
    ]);
  });

  it('listens only on an address and port network.listen grants; port 0 needs a :* grant', async () => {
    const { box } = sandbox({ listen: ['127.0.0.1:8080', '[::1]:*'] });
    expect(await box.net.listen('127.0.0.1', 8080)).toMatchObject({ address: '127.0.0.1', port: 8080 });
    expect(await box.net.listen('::1', 0)).toMatchObject({ address: '::1', port: 40000 });
    await expect(box.net.listen('127.0.0.1', 0)).rejects.toThrow(/no listen grant covers 127\.0\.0\.1:0/);
    await expect(box.net.listen('0.0.0.0', 8080)).rejects.toMatchObject({ code: 'capability-denied' });
    await expect(box.net.listen('localhost', 8080)).rejects.toThrow(/needs an IP address/);
  });

  it('refuses a listen grant that is not an address:port when compiling', () => {
    expect(() => sandbox({ listen: ['example.com:80'] })).toThrow(/network\.listen\[0\]/);
  });
});
