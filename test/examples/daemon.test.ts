// The examples as an operator runs them: `airssys-wasm host --examples examples/build` (here
// startDaemon in this process, threads: 0), driven over the admin API; then kv-counter upgraded
// to a new version and the daemon restarted on the same data directory.

import { afterEach, describe, expect, it } from 'vitest';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import { adminApi } from '../support/admin-api.mjs';
import { tempDir } from '../support/temp.js';
import { EXAMPLES_BUILD, editedExample } from './support.js';

const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.close();
});

async function start(dataDir: string) {
  const daemon = await startDaemon({ dataDir, port: 0, threads: 0, examples: EXAMPLES_BUILD });
  daemons.push(daemon);
  const call = adminApi(daemon.url, daemon.token);
  const request = (address: string, payload: string) =>
    call('POST', `/v1/addresses/${address}/request`, { payload });
  return { daemon, call, request };
}

describe('examples with the host daemon', () => {
  it('installs and starts every example, which then serve over the admin API', async () => {
    const dataDir = tempDir('examples-daemon');
    const { call, request } = await start(dataDir);
    const status = await call('GET', '/v1/status');
    expect(status.addresses.map((a: { address: string }) => a.address).sort()).toEqual([
      'enrich',
      'http-fetch',
      'ingest',
      'kv-counter',
      'store',
    ]);

    expect(await request('kv-counter', 'inc apples')).toMatchObject({ ok: true, value: 1 });

    expect(await call('POST', '/v1/addresses/ingest/send', { payload: 'widget 4' })).toEqual({ ok: true });
    await expect
      .poll(async () => (await request('store', 'summary')).value)
      .toEqual({ orders: 1, revenue: 1000 });

    // No server needs to run for http-fetch to start; a URL outside its grant is refused.
    expect(await request('http-fetch', 'http://127.0.0.1:1/')).toMatchObject({
      ok: false,
      error: { code: 'capability-denied' },
    });
    const audit = await call('GET', '/v1/audit?component=http-fetch&decision=deny');
    expect(audit.records[0]).toMatchObject({ operation: 'net.fetch', decision: 'deny' });
  });

  it('keeps kv-counter counts through an upgrade deployed over the API and a daemon restart', async () => {
    const dataDir = tempDir('examples-daemon-upgrade');
    const first = await start(dataDir);
    await first.request('kv-counter', 'inc apples 41');

    const v2 = editedExample('kv-counter', (toml) => toml.replace('version = "0.1.0"', 'version = "0.2.0"'));
    expect(await first.call('POST', '/v1/components', { path: v2 })).toMatchObject({ ok: true });
    expect(
      await first.call('POST', '/v1/deployments', { name: 'kv-counter', version: '0.2.0' }),
    ).toMatchObject({ ok: true, status: 'done' });
    expect(await first.request('kv-counter', 'inc apples')).toMatchObject({ value: 42 });
    await first.daemon.close();

    // The examples folder is installed again (same bytes: nothing new) but not redeployed:
    // what served before the restart, 0.2.0, serves again.
    const second = await start(dataDir);
    const versions = await second.daemon.host.versions('kv-counter');
    expect(versions.map((v) => v.semver)).toEqual(['0.2.0']);
    expect(await second.request('kv-counter', 'get apples')).toMatchObject({ value: 42 });
  });
});
