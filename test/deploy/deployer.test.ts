// The platform API: install into the registry, deploy by name and version, roll back, status.
import { afterEach, describe, expect, it } from 'vitest';
import { Deployer } from '../../src/deploy/index.js';
import { ComponentHost } from '../../src/host/index.js';
import { Engine } from '../../src/wasm/index.js';
import { fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';
import { variant } from '../support/variant.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function platform() {
  const dataDir = tempDir('deployer');
  const host = await ComponentHost.create({ threads: 0, dataDir });
  const deployer = new Deployer({ host, engine: new Engine(), dataDir, pollMs: 1 });
  cleanups.push(async () => {
    await host.close();
    deployer.close();
  });
  return { host, deployer };
}

describe('Deployer', () => {
  it('installs, deploys the first version, upgrades with migrate, and rolls back', async () => {
    const { host, deployer } = await platform();
    expect(await deployer.install(fixture('counter'))).toMatchObject({
      name: 'counter',
      version: '0.1.0',
      created: true,
    });
    expect(await deployer.install(fixture('counter'))).toMatchObject({ created: false });
    await deployer.install(fixture('counter-v2'));

    expect(await deployer.deploy('counter', { version: '0.1.0' })).toMatchObject({ status: 'done' });
    for (let i = 0; i < 2; i++) await host.request('counter', 'inc');

    expect(await deployer.deploy('counter')).toMatchObject({ status: 'done' }); // latest: 0.2.0
    expect(text((await host.request('counter', 'get')).payload)).toBe('v2:2');

    expect(await deployer.rollback('counter')).toMatchObject({ status: 'done' });
    expect(text((await host.request('counter', 'get')).payload)).toBe('2');

    // Every step of each version is a lifecycle event, stored in the registry.
    expect(deployer.lifecycle.state('counter@0.1.0')).toBe('running');
    expect(deployer.lifecycle.state('counter@0.2.0')).toBe('stopped');
    const path = deployer.registry.events('counter@0.2.0').map((e) => e.to);
    expect(path).toEqual([
      'installing',
      'installed',
      'starting',
      'running',
      'updating',
      'running',
      'stopping',
      'stopped',
    ]);

    const status = await deployer.status();
    expect(status.addresses).toEqual([
      { address: 'counter', versions: [expect.objectContaining({ semver: '0.1.0', weight: 100 })] },
    ]);
    expect(status.deployments.map((d) => [d.fromSemver, d.toSemver, d.status])).toEqual([
      ['0.2.0', '0.1.0', 'done'],
      ['0.1.0', '0.2.0', 'done'],
      [undefined, '0.1.0', 'done'],
    ]);
  });

  it('a new version that asks for more permissions is deployed only once they are accepted', async () => {
    const { host, deployer } = await platform();
    const v1 = variant('counter', {
      name: 'counter',
      permissions: ['storage = { namespaces = ["counter"] }'],
    });
    const v2 = variant('counter', {
      name: 'counter',
      version: '0.2.0',
      permissions: [
        'storage = { namespaces = ["counter", "audit"] }',
        'network = { outbound = ["api.example.com:443"] }',
      ],
    });
    await deployer.install(v1);
    await deployer.install(v2);
    await deployer.deploy('counter', { version: '0.1.0' });
    const refused = await deployer.deploy('counter', { version: '0.2.0' }).catch((e) => e);
    expect(refused).toMatchObject({
      code: 'capability-denied',
      details: {
        reason: 'permissions-not-accepted',
        added: { 'storage.namespaces': ['audit'], 'network.outbound': ['api.example.com:443'] },
      },
    });
    expect(refused.message).toContain('+ network.outbound "api.example.com:443"');
    expect((await host.versions('counter')).map((v) => v.semver)).toEqual(['0.1.0']); // still serving

    expect(await deployer.deploy('counter', { version: '0.2.0', acceptPermissions: true })).toMatchObject({
      status: 'done',
    });
    // Going back to narrower permissions needs no acceptance.
    expect(await deployer.rollback('counter')).toMatchObject({ status: 'done' });
  });

  it('refuses to deploy what is not installed, or to roll back without a previous version', async () => {
    const { deployer } = await platform();
    await expect(deployer.deploy('nothing')).rejects.toMatchObject({ code: 'not-found' });
    await deployer.install(fixture('counter'));
    await deployer.deploy('counter');
    await expect(deployer.rollback('counter')).rejects.toMatchObject({
      code: 'not-found',
      message: expect.stringContaining('no previous version'),
    });
  });

  it('brings back what served after a clean restart', async () => {
    const dataDir = tempDir('deployer-restart');
    {
      const host = await ComponentHost.create({ threads: 0, dataDir });
      const deployer = new Deployer({ host, engine: new Engine(), dataDir });
      await deployer.install(fixture('counter'));
      await deployer.deploy('counter');
      await host.request('counter', 'inc');
      await host.close();
      deployer.close();
    }
    const host = await ComponentHost.create({ threads: 0, dataDir });
    const deployer = new Deployer({ host, engine: new Engine(), dataDir });
    cleanups.push(async () => {
      await host.close();
      deployer.close();
    });
    expect(await deployer.recover()).toEqual([{ address: 'counter', semver: '0.1.0', settled: undefined }]);
    expect(text((await host.request('counter', 'get')).payload)).toBe('1');
  });
});
