// Component actors on scheduler threads. Runs against dist/ (built by `npm test` before vitest):
// the threads load compiled JS.
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ComponentHost, type ComponentHostOptions } from '../../dist/host/index.js';
import { Engine } from '../../dist/index.js';
import { fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';
import { variant } from '../support/variant.js';

const engine = new Engine();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const hosts: ComponentHost[] = [];
const SEND_ALL = ['messaging = { send = [">"] }'];

async function newHost(options: ComponentHostOptions = {}): Promise<ComponentHost> {
  const host = await ComponentHost.create({ threads: 2, dataDir: tempDir('threads'), ...options });
  hosts.push(host);
  return host;
}

afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

describe('scheduler threads', () => {
  it('passes messages between components on different threads, FIFO per sender', async () => {
    const host = await newHost();
    const load = (name: string, config: Record<string, string>) =>
      engine.load(
        variant('stage', {
          name,
          config,
          permissions: [...SEND_ALL, 'storage = { namespaces = ["stage"] }'],
        }),
      );
    // Round-robin placement: c on thread 1, b on thread 2, a on thread 1.
    await host.start(await load('stage-c', { sink: 'yes' }));
    await host.start(await load('stage-b', { next: 'stage-c', tag: '>b' }));
    await host.start(await load('stage-a', { next: 'stage-b', tag: '>a' }));
    for (let i = 0; i < 300; i++) host.send('stage-a', `m${i}`);
    await expect
      .poll(async () => text((await host.request('stage-c', 'count')).payload), { timeout: 5000 })
      .toBe('300');
    // The SQLite file is shared: the main thread's store sees what the worker committed, in order.
    const ns = host.storage!.namespace('stage-c.stage');
    const stored = ns.listPrefix('m/', { limit: 1000 }).keys.map((k) => text(ns.get(k)!));
    expect(stored).toEqual(Array.from({ length: 300 }, (_, i) => `m${i}>a>b`));
  });

  it('keeps state across a trap-and-restart on a thread, and across a host restart', async () => {
    const dataDir = tempDir('threads-restart');
    const first = await newHost({ dataDir });
    await first.start(await engine.load(fixture('counter')));
    expect(text((await first.request('counter', 'inc')).payload)).toBe('1');
    await expect(first.request('counter', 'boom')).rejects.toMatchObject({ code: 'trap' });
    expect(text((await first.request('counter', 'inc')).payload)).toBe('2');
    await first.close();
    const second = await newHost({ dataDir });
    await second.start(await engine.load(fixture('counter')));
    expect(text((await second.request('counter', 'get')).payload)).toBe('2');
  });

  it('spreads pooled instances over the threads behind one address', async () => {
    const host = await newHost();
    await host.start(await engine.load(fixture('echo')), { instances: 4 });
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => host.request('echo', `n${i}`)));
    expect(replies.map((r) => text(r.payload))).toEqual(Array.from({ length: 50 }, (_, i) => `n${i}`));
    expect(await host.stats('echo')).toHaveLength(4);
  });

  it('fans publications out to subscribers on every thread', async () => {
    const host = await newHost();
    const names = ['sub-1', 'sub-2', 'sub-3'];
    for (const name of names) {
      await host.start(
        await engine.load(
          variant('subscriber', {
            name,
            config: { pattern: 'events.>' },
            permissions: ['messaging = { subscribe = [">"] }', 'storage = { namespaces = ["sub"] }'],
          }),
        ),
      );
    }
    const seen: string[] = [];
    host.subscribe('events.>', (m) => seen.push(m.topic ?? ''));
    await new Promise((r) => setTimeout(r, 50)); // subscriptions reach the other threads
    host.publish('events.a', 'x');
    await expect.poll(() => seen).toEqual(['events.a']);
  });

  it('terminates a thread a runaway holds and restarts its components; other threads keep serving', async () => {
    const logs: string[] = [];
    const host = await newHost({ stallMs: 300, log: (e) => logs.push(e.message) });
    await host.start(await engine.load(fixture('runaway'))); // thread 1
    await host.start(await engine.load(fixture('echo'))); // thread 2
    host.send('runaway', 'spin');
    await new Promise((r) => setTimeout(r, 100));
    // Thread 1 is stuck in the loop; echo on thread 2 answers meanwhile.
    const started = performance.now();
    expect(text((await host.request('echo', 'alive')).payload)).toBe('alive');
    expect(performance.now() - started).toBeLessThan(200);
    // The watchdog replaces thread 1 and restarts runaway there.
    await expect
      .poll(
        async () =>
          text(
            (
              await host
                .request('runaway', 'ok', { timeoutMs: 200 })
                .catch(() => ({ payload: new Uint8Array() }))
            ).payload,
          ),
        {
          timeout: 5000,
          interval: 100,
        },
      )
      .toBe('ok');
    expect(logs.some((l) => l.includes('stopped answering'))).toBe(true);
  });

  it('pushes back with mailbox-full across threads', async () => {
    const host = await newHost();
    await host.start(
      await engine.load(variant('stage', { name: 'slow', resources: { mailbox: 8 }, permissions: SEND_ALL })),
    ); // thread 1
    await host.start(await engine.load(fixture('flooder'))); // thread 2
    expect(text((await host.request('flooder', 'flood slow 100000')).payload)).toMatch(
      /^sent \d+ mailbox-full$/,
    );
  });
});

describe('ext operations on scheduler threads', () => {
  it('run on the thread of the instance and are audited into <dataDir>/audit.db', async () => {
    const root = realpathSync(tempDir('ext-threads-root'));
    mkdirSync(join(root, 'in'));
    writeFileSync(join(root, 'in', 'a.txt'), 'alpha');
    writeFileSync(join(root, 'secret.txt'), 'top secret');
    const host = await newHost();
    await host.start(
      await engine.load(
        variant('ext-gateway', { name: 'gw', permissions: [`filesystem = { read = ["${root}/in/**"] }`] }),
      ),
    );
    expect(text((await host.request('gw', `read ${root}/in/a.txt`)).payload)).toBe('alpha');
    await expect(host.request('gw', `read ${root}/secret.txt`)).rejects.toMatchObject({
      code: 'capability-denied',
    });
    // The thread's log commits at the end of its event-loop turn; the host reads the same file.
    await expect
      .poll(() => host.audit({ component: 'gw' }).map((r) => [r.operation, r.subject, r.decision]))
      .toEqual([
        ['fs.read-file', `${root}/secret.txt`, 'deny'],
        ['fs.read-file', `${root}/in/a.txt`, 'allow'],
      ]);
  });
});
