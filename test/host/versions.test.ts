// Several versions behind one address: weights, probes by version, migrate, drain, storage
// snapshots — the host operations deployments are built from.
import { afterEach, describe, expect, it } from 'vitest';
import { ComponentHost, versionId } from '../../src/host/index.js';
import { Engine } from '../../src/wasm/index.js';
import { fixture } from '../support/fixtures.js';
import { variant } from '../support/variant.js';

const engine = new Engine();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const hosts: ComponentHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

async function setup() {
  const host = await ComponentHost.create({ threads: 0 });
  hosts.push(host);
  const v1 = await engine.load(fixture('counter'));
  const v2 = await engine.load(fixture('counter-v2'));
  await host.start(v1);
  for (let i = 0; i < 3; i++) await host.request('counter', 'inc');
  return { host, v1, v2 };
}

const ask = async (host: ComponentHost, payload: string) =>
  text((await host.request('counter', payload)).payload);

describe('versions behind one address', () => {
  it('starts a new version without traffic, migrates it, and switches all traffic at once', async () => {
    const { host, v1, v2 } = await setup();
    const green = await host.startVersion('counter', v2);
    expect(await host.health('counter', { version: green })).toBe('healthy');
    expect(await ask(host, 'get')).toBe('3'); // still v1
    await host.migrate('counter', green, v1.manifest.component.version);
    await host.setWeights('counter', { [green]: 100, [versionId(v1)]: 0 });
    expect(await ask(host, 'get')).toBe('v2:3');
    expect(await ask(host, 'inc')).toBe('v2:4');
    await host.drain('counter', versionId(v1));
    await host.stopVersion('counter', versionId(v1));
    expect((await host.versions('counter')).map((v) => [v.semver, v.weight])).toEqual([['0.2.0', 100]]);
  });

  it('splits traffic by weight, exactly', async () => {
    const { host, v1, v2 } = await setup();
    const green = await host.startVersion('counter', v2);
    await host.setWeights('counter', { [versionId(v1)]: 90, [green]: 10 });
    const replies = await Promise.all(Array.from({ length: 200 }, () => ask(host, 'get')));
    expect(replies.filter((r) => r.startsWith('v2:'))).toHaveLength(20);
    const [blue, canary] = await host.versions('counter');
    expect(blue.stats[0].handled).toBe(3 + 180);
    expect(canary.stats[0].handled).toBe(20);
  });

  it('refuses weights that do not sum to 100, unknown versions, and stopping a version with traffic', async () => {
    const { host, v1, v2 } = await setup();
    const green = await host.startVersion('counter', v2);
    await expect(host.setWeights('counter', { [green]: 50 })).rejects.toMatchObject({
      code: 'invalid-argument',
    });
    await expect(host.setWeights('counter', { nope: 100 })).rejects.toMatchObject({ code: 'not-found' });
    await expect(host.stopVersion('counter', versionId(v1))).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('setWeights'),
    });
    await expect(host.startVersion('counter', v2)).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('a failing migrate rejects and leaves the old version serving', async () => {
    const { host, v1 } = await setup();
    const bad = await engine.load(
      variant('counter-v2', {
        name: 'counter',
        config: { 'fail-migrate': 'yes' },
        permissions: ['storage = { namespaces = ["counter"] }'],
      }),
    );
    const green = await host.startVersion('counter', bad);
    await expect(host.migrate('counter', green, '0.1.0')).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('migration refused'),
    });
    await host.stopVersion('counter', green);
    expect(await ask(host, 'get')).toBe('3');
    expect((await host.versions('counter')).map((v) => v.version)).toEqual([versionId(v1)]);
  });

  it('a component without the migration export migrates trivially', async () => {
    const { host, v1 } = await setup();
    const again = await engine.load(
      variant('counter', { name: 'counter', permissions: ['storage = { namespaces = ["counter"] }'] }),
    );
    const green = await host.startVersion('counter', again);
    await expect(host.migrate('counter', green, v1.manifest.component.version)).resolves.toBeUndefined();
  });

  it('restores the storage snapshot taken before migrate', async () => {
    const { host, v1, v2 } = await setup();
    expect(host.snapshotStorage(v1, 'deploy-1')).toBe(1);
    const green = await host.startVersion('counter', v2);
    await host.migrate('counter', green, '0.1.0');
    await host.request('counter', 'inc'); // v1 writes after the snapshot: discarded by the restore
    const live = host.storage!.namespace('counter.counter');
    expect(live.get('total')).toBeDefined();
    host.restoreStorage(v1, 'deploy-1');
    expect(live.get('total')).toBeUndefined();
    expect(await ask(host, 'get')).toBe('3');
    host.dropSnapshot(v1, 'deploy-1');
    expect(host.storage!.namespace('counter.-deploy-1.counter').listPrefix('').keys).toEqual([]);
  });

  it('delivers one copy of each publication to an address, whatever the versions and instances', async () => {
    const host = await ComponentHost.create({ threads: 0 });
    hosts.push(host);
    const sub = (config: Record<string, string>) =>
      engine.load(
        variant('subscriber', {
          name: 'listener',
          config,
          permissions: ['messaging = { subscribe = [">"] }', 'storage = { namespaces = ["sub"] }'],
        }),
      );
    await host.start(await sub({ pattern: 'a.>' }), { instances: 3 });
    const second = await host.startVersion('listener', await sub({ pattern: 'a.>', other: 'x' }));
    await host.setWeights('listener', { [second]: 50, [(await host.versions('listener'))[0].version]: 50 });
    for (let i = 0; i < 10; i++) host.publish('a.b', `${i}`);
    await expect.poll(() => host.storage!.namespace('listener.sub').get('count')?.[0]).toBe(10);
  });
});
