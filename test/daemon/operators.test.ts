// Operators and roles on the admin API: each operator's own token, routes allowed by role,
// refusals answered 403 capability-denied and recorded in the audit log; bad configuration refused.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import { ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

let daemon: Daemon;
let dataDir: string;
const token = (name: string) => readFileSync(join(dataDir, 'operator-tokens', name), 'utf8').trim();

beforeAll(async () => {
  dataDir = tempDir('operators');
  daemon = await startDaemon({
    dataDir,
    port: 0,
    threads: 0,
    examples: join(ROOT, 'fixtures', 'build'),
    operators: { vera: { roles: ['viewer'] }, otto: { roles: ['operator'] }, dan: { roles: ['deployer'] } },
    roles: { deployer: ['deployment.create', 'status.read'] },
  });
});
afterAll(() => daemon.close());

async function call(method: string, path: string, as: string, body?: unknown) {
  const response = await fetch(`${daemon.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${as}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as { ok: boolean; error?: { code: string } },
  };
}

describe('admin API operators', () => {
  it('creates one owner-only token per operator', () => {
    for (const name of ['vera', 'otto', 'dan']) {
      expect(token(name)).toMatch(/^[0-9a-f]{64}$/);
      expect(statSync(join(dataDir, 'operator-tokens', name)).mode & 0o777).toBe(0o600);
    }
    expect(new Set(['vera', 'otto', 'dan'].map(token)).size).toBe(3);
  });

  it('a viewer reads but cannot act; the refusal is audited', async () => {
    const vera = token('vera');
    expect((await call('GET', '/v1/status', vera)).status).toBe(200);
    expect((await call('GET', '/v1/audit?limit=5', vera)).status).toBe(200);
    for (const [method, path, body] of [
      ['POST', '/v1/deployments', { name: 'counter', version: '0.2.0' }],
      ['POST', '/v1/addresses/counter/request', { payload: 'inc' }],
      ['DELETE', '/v1/addresses/counter', undefined],
      ['POST', '/v1/components', { path: '/tmp' }],
    ] as const) {
      const r = await call(method, path, vera, body);
      expect(r.status, path).toBe(403);
      expect(r.body.error?.code).toBe('capability-denied');
    }
    const denials = daemon.host.audit({ decision: 'deny', operation: 'operator.deployment.create' });
    expect(denials[0]).toMatchObject({ subject: 'operator:vera', code: 'capability-denied' });
  });

  it('an operator acts; a custom role allows exactly its operations; admin allows everything', async () => {
    expect(
      (await call('POST', '/v1/addresses/counter/request', token('otto'), { payload: 'inc' })).body.ok,
    ).toBe(true);
    const dan = token('dan');
    expect(
      (await call('POST', '/v1/deployments', dan, { name: 'counter', version: '0.2.0' })).body,
    ).toMatchObject({
      ok: true,
    });
    expect((await call('GET', '/v1/audit', dan)).status).toBe(403);
    const metrics = await fetch(`${daemon.url}/v1/metrics`, {
      headers: { authorization: `Bearer ${daemon.token}` },
    });
    expect(metrics.status).toBe(200);
    expect(daemon.host.audit({ operation: 'operator.deployment.create', decision: 'allow' })[0].subject).toBe(
      'operator:dan',
    );
  });

  it('refuses an unknown role or a reserved name at start', async () => {
    await expect(
      startDaemon({
        dataDir: tempDir('operators-bad'),
        port: 0,
        threads: 0,
        operators: { eve: { roles: ['root'] } },
      }),
    ).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('unknown role "root"'),
    });
    await expect(
      startDaemon({
        dataDir: tempDir('operators-bad'),
        port: 0,
        threads: 0,
        operators: { admin: { roles: ['viewer'] } },
      }),
    ).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});
