/**
 * Hostile network requests against real loopback servers. Names resolve through a test
 * resolver (no real DNS); loopback is granted explicitly only where a test needs a connection.
 */

import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../../src/osl/audit/memory-audit-log.js';
import type { Grants } from '../../../src/osl/policy/grants.js';
import { createSandbox, type Sandbox } from '../../../src/osl/sandbox/sandbox.js';
import { expectRefused, fixtureHttpHandler, tableResolver } from '../support.js';

let server: http.Server;
let tcp: net.Server;
let hits = 0;
let port = 0;
let tcpPort = 0;
const audit = new MemoryAuditLog();

const resolver = tableResolver({
  'svc.test': ['127.0.0.1'],
  'evil.test': ['127.0.0.1'],
  'api.test': ['127.0.0.1'],
  'meta.test': ['169.254.169.254'],
  'mixed.test': ['93.184.216.34', '127.0.0.1'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'lan.test': ['10.0.0.7'],
  'xn--xample-2of.test': ['127.0.0.1'],
});

function sandbox(grants: Grants): Sandbox {
  return createSandbox({ component: 'egress', version: '2.0.0', grants, audit, resolver });
}

/** Loopback granted: these tests need a real connection. */
const trusting = () =>
  sandbox({ network: { outbound: ['svc.test:*', 'example.test:*'], addresses: ['127.0.0.1/32'] } });
/** Nothing special granted: a name resolving to loopback must be refused. */
const strict = () =>
  sandbox({
    network: { outbound: ['api.test:*', 'meta.test:*', 'mixed.test:*', 'mapped.test:*', 'lan.test:*'] },
  });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits++;
    fixtureHttpHandler(req, res);
  });
  tcp = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as net.AddressInfo).port;
  tcpPort = (tcp.address() as net.AddressInfo).port;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
  tcp.close();
});

afterEach(async () => {
  // The host stayed up: a granted request still works.
  const res = await trusting().net.fetch(`http://svc.test:${port}/hello`);
  expect(res.status).toBe(200);
});

describe('hostile egress', () => {
  it('egress — a granted host works and is audited as allowed', async () => {
    const res = await trusting().net.fetch(`http://svc.test:${port}/hello`);
    expect(new TextDecoder().decode(res.body)).toBe('hello');
    expect(audit.query({ decision: 'allow', operation: 'net.fetch' })[0].subject).toBe(
      `http://svc.test:${port}/hello`,
    );
  });

  it.each([['127.1'], ['0x7f.1'], ['2130706433'], ['0177.0.0.1'], ['[::ffff:127.0.0.1]'], ['[::1]']])(
    'egress — the IP literal %s is not a granted host',
    async (host) => {
      const before = hits;
      await expectRefused(trusting().net.fetch(`http://${host}:${port}/hello`), 'capability-denied', audit);
      expect(hits).toBe(before);
    },
  );

  it('egress — an IDN homograph is compared after ToASCII and refused', async () => {
    // "еxample.test" with a Cyrillic "е" (U+0435) is not "example.test".
    await expectRefused(
      trusting().net.fetch(`http://\u0435xample.test:${port}/hello`),
      'capability-denied',
      audit,
      {
        subject: /xn--/,
      },
    );
  });

  it('egress — userinfo naming an allowed host is refused', async () => {
    await expectRefused(
      trusting().net.fetch(`http://svc.test@evil.test:${port}/hello`),
      'capability-denied',
      audit,
    );
    await expectRefused(
      trusting().net.fetch(`http://svc.test:x@svc.test:${port}/hello`),
      'capability-denied',
      audit,
    );
  });

  it('egress — a fragment naming an allowed host does not change the host', async () => {
    await expectRefused(
      trusting().net.fetch(`http://evil.test:${port}#@svc.test/`),
      'capability-denied',
      audit,
      {
        subject: `http://evil.test:${port}/`,
      },
    );
  });

  it('egress — DNS rebinding of a granted name to 127.0.0.1 is refused at connect', async () => {
    const before = hits;
    await expectRefused(strict().net.fetch(`http://api.test:${port}/hello`), 'capability-denied', audit, {
      decision: 'deny',
    });
    expect(audit.records.at(-1)?.reason).toMatch(/127\.0\.0\.1 \(loopback\)/);
    expect(hits).toBe(before);
  });

  it('egress — a name resolving to the metadata service is refused, even with link-local granted', async () => {
    const box = sandbox({ network: { outbound: ['meta.test:*'], addresses: ['169.254.0.0/16'] } });
    await expectRefused(box.net.fetch('http://meta.test/latest/meta-data/'), 'capability-denied', audit);
    expect(audit.records.at(-1)?.reason).toMatch(/metadata/);
  });

  it('egress — one private answer among public ones refuses the whole lookup', async () => {
    await expectRefused(strict().net.fetch(`http://mixed.test:${port}/hello`), 'capability-denied', audit);
  });

  it('egress — an IPv4-mapped IPv6 answer is classified as the IPv4 it carries', async () => {
    await expectRefused(strict().net.fetch(`http://mapped.test:${port}/hello`), 'capability-denied', audit);
  });

  it('egress — a private LAN answer is refused in strict mode', async () => {
    await expectRefused(strict().net.fetch('http://lan.test/'), 'capability-denied', audit);
  });

  it('egress — a redirect to a denied host is refused at that hop', async () => {
    const to = encodeURIComponent(`http://evil.test:${port}/hello`);
    await expectRefused(
      trusting().net.fetch(`http://svc.test:${port}/redirect?to=${to}`),
      'capability-denied',
      audit,
      {
        subject: `http://evil.test:${port}/hello`,
      },
    );
    expect(audit.records.at(-2)).toMatchObject({
      decision: 'allow',
      subject: expect.stringContaining('/redirect'),
    });
  });

  it('egress — a redirect to the metadata address is refused', async () => {
    const to = encodeURIComponent('http://169.254.169.254/latest/meta-data/');
    await expectRefused(
      trusting().net.fetch(`http://svc.test:${port}/redirect?to=${to}`),
      'capability-denied',
      audit,
    );
  });

  it('egress — a redirect loop stops at the hop limit', async () => {
    await expectRefused(trusting().net.fetch(`http://svc.test:${port}/loop`), 'capability-denied', audit);
    expect(audit.records.at(-1)?.reason).toMatch(/redirects/);
  });

  it('egress — an oversized response is cut at the cap (declared length)', async () => {
    await expectRefused(
      trusting().net.fetch(`http://svc.test:${port}/big`, { maxResponseBytes: 1000 }),
      'capability-denied',
      audit,
      { decision: 'deny' },
    );
  });

  it('egress — an endless response without a length is cut at the cap', async () => {
    await expectRefused(
      trusting().net.fetch(`http://svc.test:${port}/stream`, { maxResponseBytes: 200_000 }),
      'capability-denied',
      audit,
    );
  });

  it('egress — non-HTTP schemes are refused', async () => {
    await expectRefused(trusting().net.fetch('file:///etc/passwd'), 'capability-denied', audit);
    await expectRefused(trusting().net.fetch('gopher://svc.test/'), 'capability-denied', audit);
  });

  it('egress — TCP to a port the pattern does not grant is refused', async () => {
    const box = sandbox({ network: { outbound: ['svc.test:1'], addresses: ['127.0.0.1'] } });
    await expectRefused(box.net.connect('svc.test', tcpPort), 'capability-denied', audit, {
      operation: 'net.connect',
    });
  });

  it('egress — TCP to a name rebound to loopback is refused; granted loopback connects', async () => {
    await expectRefused(
      sandbox({ network: { outbound: ['api.test:*'] } }).net.connect('api.test', tcpPort),
      'capability-denied',
      audit,
    );
    const conn = await trusting().net.connect('svc.test', tcpPort);
    await conn.write(new TextEncoder().encode('ok'));
    expect(new TextDecoder().decode((await conn.read())!)).toBe('ok');
    await conn.close();
  });

  it('egress — permissive mode lets a granted name reach loopback, never the metadata service', async () => {
    const box = createSandbox({
      component: 'egress',
      version: '2.0.0',
      grants: { network: { outbound: ['api.test:*', 'meta.test:*'] } },
      policy: { securityMode: 'permissive' },
      audit,
      resolver,
    });
    expect((await box.net.fetch(`http://api.test:${port}/hello`)).status).toBe(200);
    await expectRefused(box.net.fetch('http://meta.test/'), 'capability-denied', audit);
  });

  it('egress — host deny rules beat grants', async () => {
    const box = createSandbox({
      component: 'egress',
      version: '2.0.0',
      grants: { network: { outbound: ['svc.test:*'], addresses: ['127.0.0.1'] } },
      policy: { deny: { network: ['svc.test:*'] } },
      audit,
      resolver,
    });
    await expectRefused(box.net.fetch(`http://svc.test:${port}/hello`), 'capability-denied', audit);
  });
});
