// The host daemon in this process (threads: 0): admin API, auth, deploy/rollback over HTTP,
// metrics, the event stream, and a restart that restores what served.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Daemon, type DaemonOptions, startDaemon } from '../../src/daemon/daemon.js';
import { ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';
import { variant } from '../support/variant.js';

const examples = join(ROOT, 'fixtures', 'build');
const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.close();
});

async function start(dataDir = tempDir('daemon'), extra: Partial<DaemonOptions> = {}) {
  const daemon = await startDaemon({ dataDir, port: 0, threads: 0, examples, ...extra });
  daemons.push(daemon);
  const call = async (method: string, path: string, body?: unknown, token: string | null = daemon.token) => {
    const response = await fetch(`${daemon.url}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const type = response.headers.get('content-type') ?? '';
    return {
      status: response.status,
      body: type.includes('json') ? await response.json() : await response.text(),
    };
  };
  return { daemon, call, dataDir };
}

describe('host daemon', () => {
  it('serves probes openly and the API only with the token', async () => {
    const { call } = await start();
    expect((await call('GET', '/livez', undefined, null)).status).toBe(200);
    expect((await call('GET', '/readyz', undefined, null)).body).toMatchObject({ ok: true });
    const denied = await call('GET', '/v1/status', undefined, null);
    expect(denied.status).toBe(401);
    expect((await call('GET', '/v1/status', undefined, 'wrong')).status).toBe(401);
    const status = await call('GET', '/v1/status');
    expect(status.status).toBe(200);
    const addresses = status.body.addresses.map((a: { address: string }) => a.address);
    expect(addresses).toEqual(expect.arrayContaining(['counter', 'echo', 'stage', 'subscriber']));
  });

  it('sends requests, deploys and rolls back over HTTP', async () => {
    const { call } = await start();
    expect((await call('POST', '/v1/addresses/counter/request', { payload: 'inc' })).body).toMatchObject({
      ok: true,
      text: '1',
    });
    const bad = await call('POST', '/v1/addresses/counter/request', { payload: 'boom' });
    expect(bad.body).toMatchObject({ ok: false, error: { code: 'trap' } });
    const deploy = await call('POST', '/v1/deployments', { name: 'counter', version: '0.2.0' });
    expect(deploy.body).toMatchObject({ ok: true, status: 'done' });
    expect((await call('POST', '/v1/addresses/counter/request', { payload: 'get' })).body.text).toBe('v2:1');
    expect((await call('POST', '/v1/rollback', { address: 'counter' })).body).toMatchObject({
      status: 'done',
    });
    expect((await call('POST', '/v1/addresses/counter/request', { payload: 'get' })).body.text).toBe('1');
    const missing = await call('POST', '/v1/deployments', { name: 'nothing' });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect((await call('POST', '/v1/deployments', 'not json')).status).toBe(400);
  });

  it('exports metrics, streams events and writes a JSON log', async () => {
    const { daemon, call, dataDir } = await start();
    await call('POST', '/v1/addresses/echo/request', { payload: 'hi' });
    for (let i = 0; i < 20; i++) await call('POST', '/v1/addresses/counter/request', { payload: 'inc' });
    await call('POST', '/v1/addresses/counter/request', { payload: 'fail' });
    await call('POST', '/v1/addresses/counter/request', { payload: 'boom' });
    const metrics = await call('GET', '/v1/metrics');
    const body = metrics.body as string;
    const id = '[0-9a-f]{12}';
    expect(body).toMatch(
      new RegExp(`airssys_messages_handled_total\\{address="echo",version="0\\.1\\.0",id="${id}"\\} 1\n`),
    );
    // Errors by code, restarts, a latency histogram (cumulative buckets), sampled fuel, memory, depth.
    const counter = `address="counter",version="0\\.1\\.0",id="${id}"`;
    expect(body).toMatch(
      new RegExp(`airssys_message_errors_total\\{${counter},code="invalid-argument"\\} 1\n`),
    );
    expect(body).toMatch(new RegExp(`airssys_message_errors_total\\{${counter},code="trap"\\} 1\n`));
    expect(body).toMatch(new RegExp(`airssys_instance_restarts_total\\{${counter}\\} 1\n`));
    expect(body).toMatch(
      new RegExp(`airssys_message_duration_seconds_bucket\\{${counter},le="\\+Inf"\\} 21\n`),
    );
    expect(body).toMatch(new RegExp(`airssys_message_duration_seconds_count\\{${counter}\\} 21\n`));
    expect(body).toMatch(new RegExp(`airssys_message_fuel_count\\{${counter}\\} 1\n`)); // 1 in 16 metered
    expect(body).toMatch(new RegExp(`airssys_instance_memory_bytes\\{${counter}\\} [1-9]\\d*\n`));
    expect(body).toMatch(new RegExp(`airssys_mailbox_depth\\{${counter}\\} 0\n`));
    expect(body).toMatch(/# TYPE airssys_message_duration_seconds histogram/);
    expect(body).toMatch(/airssys_daemon_process_cpu_user_seconds_total \d/); // prom-client's own
    expect(metrics.status).toBe(200);
    const controller = new AbortController();
    const response = await fetch(`${daemon.url}/v1/events?token=${daemon.token}`, {
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toMatch(/^data: \{"type":"(lifecycle|log|deployment)"/);
    controller.abort();
    // The structured log: one JSON line per event, the component's own log call with its name and version.
    await daemon.close();
    const lines = readFileSync(join(dataDir, 'host.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        event: 'log',
        address: 'counter',
        component: 'counter',
        version: expect.stringMatching(/^[0-9a-f]{32}-[0-9a-f]{8}$/),
        msg: 'failing on request',
      }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ event: 'started', msg: 'host started' }));
    expect(lines.at(-1)).toMatchObject({ event: 'stopped' });
  });

  it('serves the audit log and a learn-mode suggestion; deploys wider permissions only when accepted', async () => {
    const { call } = await start(undefined, { learn: ['gw'] });
    const gw = (version: string, permissions: string[]) =>
      variant('ext-gateway', { name: 'gw', version, permissions });
    expect((await call('POST', '/v1/components', { path: gw('0.1.0', []) })).body.ok).toBe(true);
    expect((await call('POST', '/v1/deployments', { name: 'gw' })).body).toMatchObject({ status: 'done' });
    const refused = await call('POST', '/v1/addresses/gw/request', { payload: 'read /etc/hostname' });
    expect(refused.body).toMatchObject({ ok: false, error: { code: 'capability-denied' } });

    const audit = await call('GET', '/v1/audit?component=gw&decision=deny');
    expect(audit.status).toBe(200);
    expect(audit.body.records).toEqual([
      expect.objectContaining({ operation: 'fs.read-file', subject: '/etc/hostname', decision: 'deny' }),
    ]);
    const suggestion = await call('GET', '/v1/audit/suggest?component=gw');
    expect(suggestion.body).toMatchObject({
      ok: true,
      permissions: { 'filesystem.read': ['/etc/hostname'] },
      toml: '[permissions]\nfilesystem = { read = ["/etc/hostname"] }\n',
    });
    for (const bad of ['decision=maybe', 'limit=0', 'since=soon', 'colour=red']) {
      const r = await call('GET', `/v1/audit?${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.error.code).toBe('invalid-argument');
    }
    expect((await call('GET', '/v1/audit/suggest')).status).toBe(400);
    expect((await call('GET', '/v1/audit', undefined, null)).status).toBe(401);

    // A new version asking for more is refused until the operator accepts the diff.
    await call('POST', '/v1/components', {
      path: gw('0.2.0', ['filesystem = { read = ["/etc/hostname"] }']),
    });
    const widened = await call('POST', '/v1/deployments', { name: 'gw', version: '0.2.0' });
    expect(widened.status).toBe(403);
    expect(widened.body.error).toMatchObject({
      code: 'capability-denied',
      details: { reason: 'permissions-not-accepted', added: { 'filesystem.read': ['/etc/hostname'] } },
    });
    const accepted = await call('POST', '/v1/deployments', {
      name: 'gw',
      version: '0.2.0',
      acceptPermissions: true,
    });
    expect(accepted.body).toMatchObject({ ok: true, status: 'done' });
  });

  it('accepts components above the default memory ceiling only when maxMemoryBytes allows them', async () => {
    const js = join(ROOT, 'fixtures', 'build', 'js'); // StarlingMonkey: declares 16MiB
    const strict = await start();
    expect((await strict.call('POST', '/v1/components', { path: js })).body).toMatchObject({
      ok: false,
      error: { code: 'invalid-manifest' },
    });
    const roomy = await start(undefined, { maxMemoryBytes: 64 * 1024 * 1024 });
    expect((await roomy.call('POST', '/v1/components', { path: js })).body).toMatchObject({
      ok: true,
      version: { name: 'js' },
    });
  });

  it('refuses a non-loopback bind without --allow-remote', async () => {
    await expect(
      startDaemon({ dataDir: tempDir('daemon-remote'), port: 0, bind: '0.0.0.0', threads: 0 }),
    ).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('TLS'),
    });
  });

  it('restores components, versions and state after a restart', async () => {
    const dataDir = tempDir('daemon-restart');
    const first = await start(dataDir);
    await first.call('POST', '/v1/addresses/counter/request', { payload: 'inc' });
    await first.call('POST', '/v1/deployments', { name: 'counter', version: '0.2.0' });
    await first.daemon.close();
    daemons.splice(daemons.indexOf(first.daemon), 1);
    const second = await start(dataDir);
    expect(second.daemon.token).toBe(first.daemon.token);
    expect((await second.call('POST', '/v1/addresses/counter/request', { payload: 'get' })).body.text).toBe(
      'v2:1',
    );
    // A stopped address stays stopped across a restart, until it is deployed again.
    expect((await second.call('DELETE', '/v1/addresses/echo')).status).toBe(200);
    await second.daemon.close();
    daemons.splice(daemons.indexOf(second.daemon), 1);
    const third = await start(dataDir);
    const addresses = (await third.call('GET', '/v1/status')).body.addresses.map(
      (a: { address: string }) => a.address,
    );
    expect(addresses).not.toContain('echo');
    expect(addresses).toContain('counter');
  });
});
