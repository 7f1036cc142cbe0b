// examples/kv-counter for real: named counters in host storage, driven through ComponentHost.
import { afterEach, describe, expect, it } from 'vitest';
import { ComponentHost, type ComponentHostOptions } from '../../src/host/index.js';
import { Engine } from '../../src/wasm/index.js';
import { tempDir } from '../support/temp.js';
import { editedExample, example } from './support.js';

const engine = new Engine();
const hosts: ComponentHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

async function counterHost(options: ComponentHostOptions = {}, dir = example('kv-counter')) {
  const host = await ComponentHost.create({ threads: 0, ...options });
  hosts.push(host);
  await host.start(await engine.load(dir));
  const ask = async <T = unknown>(command: string) =>
    (await host.request<T>('kv-counter', command, { timeoutMs: 5000 })).value;
  return { host, ask };
}

describe('examples/kv-counter', () => {
  it('counts by name and answers JSON', async () => {
    const { ask } = await counterHost();
    expect(await ask('inc apples')).toBe(1);
    expect(await ask('inc apples')).toBe(2);
    expect(await ask('inc apples 10')).toBe(12);
    expect(await ask('inc pears')).toBe(1);
    expect(await ask('get apples')).toBe(12);
    expect(await ask('get never-counted')).toBe(0);
  });

  it('resets with compare-and-set only when the counter holds the expected value', async () => {
    const { ask } = await counterHost();
    await ask('inc apples 3');
    // Someone counted past what the caller saw: nothing is reset, and the answer says why.
    expect(await ask('reset apples 2')).toEqual({ reset: false, value: 3 });
    expect(await ask('reset apples 3')).toEqual({ reset: true, value: 0 });
    expect(await ask('get apples')).toBe(0);
    expect(await ask('inc apples')).toBe(1);
    expect(await ask('reset apples')).toEqual({ reset: true, value: 0 }); // whatever it held
    expect(await ask('reset never-counted')).toEqual({ reset: true, value: 0 });
  });

  it('lists counters by prefix, a page at a time', async () => {
    const { ask } = await counterHost();
    for (let i = 0; i < 60; i++) await ask(`inc page-${String(i).padStart(2, '0')} ${i + 1}`);
    await ask('inc other');
    type Page = { counters: Record<string, number>; next?: string };
    const first = await ask<Page>('list page-');
    expect(Object.keys(first.counters)).toHaveLength(50);
    expect(first.counters['page-00']).toBe(1);
    expect(first.next).toBe('page-49');
    const second = await ask<Page>(`list page- after=${first.next}`);
    expect(second).toEqual({
      counters: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`page-${50 + i}`, 51 + i])),
    });
    expect(await ask('list oth')).toEqual({ counters: { other: 1 } });
    expect(Object.keys((await ask<Page>('list')).counters)).toContain('other');
  });

  it('refuses malformed commands and names with invalid-argument', async () => {
    const { host, ask } = await counterHost();
    for (const command of [
      '',
      'inc',
      'inc bad/name',
      'inc apples -1',
      'get a b',
      'frobnicate x',
      'list a b',
    ]) {
      await expect(ask(command), JSON.stringify(command)).rejects.toMatchObject({ code: 'invalid-argument' });
    }
    const [stats] = await host.stats('kv-counter');
    expect(stats).toMatchObject({ crashes: 0 });
  });

  it('keeps its counts across a host restart and an upgrade to a new version', async () => {
    const dataDir = tempDir('kv-counter');
    const first = await counterHost({ dataDir });
    await first.ask('inc apples 41');
    await first.host.close();

    const second = await counterHost({ dataDir });
    expect(await second.ask('inc apples')).toBe(42);
    await second.host.close();

    // Same binary, version 0.2.0: the namespace belongs to the component's name, not its version.
    const upgraded = editedExample('kv-counter', (toml) =>
      toml.replace('version = "0.1.0"', 'version = "0.2.0"'),
    );
    const third = await counterHost({ dataDir }, upgraded);
    expect((await third.host.versions('kv-counter'))[0].semver).toBe('0.2.0');
    expect(await third.ask('get apples')).toBe(42);
  });
});
