// Component actors in the caller's thread (threads: 0): messaging, storage, supervision, with
// the C fixtures built from source (fixtures/src/{counter,stage,echo,requester,subscriber,…}).
import { afterEach, describe, expect, it } from 'vitest';
import { ComponentHost, type ComponentHostOptions, ERROR_CODEC, type Span } from '../../src/host/index.js';
import { Engine } from '../../src/wasm/index.js';
import { fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';
import { variant } from '../support/variant.js';

const engine = new Engine();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const hosts: ComponentHost[] = [];

async function newHost(options: ComponentHostOptions = {}): Promise<ComponentHost> {
  const host = await ComponentHost.create({ threads: 0, ...options });
  hosts.push(host);
  return host;
}

afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

async function ask(host: ComponentHost, target: string, payload: string): Promise<string> {
  return text((await host.request(target, payload, { timeoutMs: 2000 })).payload);
}

const SEND_ALL = ['messaging = { send = [">"] }'];

/** `<prefix>-a` → `<prefix>-b` → `<prefix>-c`: three `stage` instances relaying, the last a sink. */
async function startPipeline(host: ComponentHost, prefix: string): Promise<void> {
  const load = (name: string, config: Record<string, string>) =>
    engine.load(
      variant('stage', { name, config, permissions: [...SEND_ALL, 'storage = { namespaces = ["stage"] }'] }),
    );
  await host.start(await load(`${prefix}-c`, { sink: 'yes' }));
  await host.start(await load(`${prefix}-b`, { next: `${prefix}-c`, tag: '>b' }));
  await host.start(await load(`${prefix}-a`, { next: `${prefix}-b`, tag: '>a' }));
}

describe('component actors: counter and storage', () => {
  it('keeps its count in storage across a trap and restart', async () => {
    const host = await newHost();
    await host.start(await engine.load(fixture('counter')));
    expect(await ask(host, 'counter', 'inc')).toBe('1');
    expect(await ask(host, 'counter', 'inc')).toBe('2');
    await expect(host.request('counter', 'boom')).rejects.toMatchObject({ code: 'trap' });
    // The supervisor restarted the instance (fresh memory); the count was in storage.
    expect(await ask(host, 'counter', 'get')).toBe('2');
    expect(await ask(host, 'counter', 'inc')).toBe('3');
    const [stats] = await host.stats('counter');
    expect(stats).toMatchObject({ crashes: 1, handled: 4 });
  });

  it('keeps its count across a host restart (SQLite in the data directory)', async () => {
    const dataDir = tempDir('host-restart');
    const first = await newHost({ dataDir });
    await first.start(await engine.load(fixture('counter')));
    for (let i = 0; i < 5; i++) await ask(first, 'counter', 'inc');
    await first.close();
    const second = await newHost({ dataDir });
    await second.start(await engine.load(fixture('counter')));
    expect(await ask(second, 'counter', 'get')).toBe('5');
  });

  it('reports an error the component returns without restarting it', async () => {
    const host = await newHost();
    await host.start(await engine.load(fixture('counter')));
    await expect(host.request('counter', 'fail')).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('asked to fail'),
    });
    const [stats] = await host.stats('counter');
    expect(stats).toMatchObject({ errors: 1, crashes: 0 });
  });

  it('gives up after max-restarts and reports the component failed', async () => {
    const failed: string[] = [];
    const host = await newHost({ onFailed: (address) => failed.push(address) });
    const dir = variant('counter', {
      name: 'fragile',
      permissions: ['storage = { namespaces = ["counter"] }'],
      supervision: ['max-restarts = 1', 'within-seconds = 60'],
    });
    await host.start(await engine.load(dir));
    await expect(host.request('fragile', 'boom')).rejects.toMatchObject({ code: 'trap' });
    await expect(host.request('fragile', 'boom')).rejects.toMatchObject({ code: 'trap' });
    await new Promise((r) => setTimeout(r, 20));
    expect(failed).toEqual(['fragile']);
    await expect(host.request('fragile', 'get', { timeoutMs: 200 })).rejects.toMatchObject({
      code: expect.stringMatching(/not-found|timeout/),
    });
  });

  it('refuses storage the manifest does not declare', async () => {
    const host = await newHost();
    await host.start(await engine.load(variant('counter', { name: 'nostore' })));
    await expect(host.request('nostore', 'inc')).rejects.toMatchObject({
      code: 'capability-denied',
      message: expect.stringContaining('storage'),
    });
  });
});

describe('component actors: messaging', () => {
  const pipeline = (host: ComponentHost) => startPipeline(host, 'stage');

  function stored(host: ComponentHost, component: string): string[] {
    const ns = host.storage!.namespace(`${component}.stage`);
    const { keys } = ns.listPrefix('m/', { limit: 1000 });
    return keys.map((k) => text(ns.get(k)!));
  }

  it('passes messages through a pipeline of three components, FIFO per sender', async () => {
    const host = await newHost();
    await pipeline(host);
    for (let i = 0; i < 200; i++) host.send('stage-a', `m${i}`);
    await expect.poll(() => stored(host, 'stage-c').length).toBe(200);
    expect(stored(host, 'stage-c')).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}>a>b`));
  });

  it('answers a request through a deferred request to a peer', async () => {
    const host = await newHost();
    await host.start(await engine.load(fixture('echo')));
    await host.start(
      await engine.load(
        variant('requester', { name: 'asker', config: { peer: 'echo' }, permissions: SEND_ALL }),
      ),
    );
    expect(await ask(host, 'asker', 'ping')).toBe('re:ping');
  });

  it('refuses a request cycle A → B → A with a clear error', async () => {
    const host = await newHost();
    await host.start(
      await engine.load(variant('requester', { name: 'ra', config: { peer: 'rb' }, permissions: SEND_ALL })),
    );
    await host.start(
      await engine.load(variant('requester', { name: 'rb', config: { peer: 'ra' }, permissions: SEND_ALL })),
    );
    await expect(host.request('ra', 'x')).rejects.toMatchObject({
      code: 'messaging-error',
      message: expect.stringContaining('request cycle: host → ra → rb → ra'),
    });
  });

  it('times out a request nobody answers, for the host and for a component', async () => {
    const host = await newHost();
    await host.start(await engine.load(variant('requester', { name: 'holder', permissions: SEND_ALL })));
    await host.start(
      await engine.load(
        variant('requester', { name: 'asker', config: { peer: 'holder' }, permissions: SEND_ALL }),
      ),
    );
    // Without a peer, a requester defers and never answers.
    await expect(host.request('holder', 'x', { timeoutMs: 50 })).rejects.toMatchObject({
      code: 'timeout',
    });
    // asker's own request to holder times out after its 1 s; the timeout reaches asker as an error
    // reply, which it forwards unchanged: the host sees the timeout, not asker's silence.
    await expect(host.request('asker', 'x', { timeoutMs: 3000 })).rejects.toMatchObject({
      code: 'timeout',
      message: expect.stringContaining('got no reply in time'),
    });
  });

  it('asks an instance for its health in turn with its messages', async () => {
    const host = await newHost();
    await host.start(await engine.load(fixture('echo')));
    expect(await host.health('echo')).toBe('healthy');
    await expect(host.health('nobody')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('fans a publication out to every subscriber', async () => {
    const host = await newHost();
    const names = ['sub-1', 'sub-2', 'sub-3'];
    for (const name of names) {
      await host.start(
        await engine.load(
          variant('subscriber', {
            name,
            config: { pattern: 'events.>' },
            permissions: ['messaging = { subscribe = ["events.>"] }', 'storage = { namespaces = ["sub"] }'],
          }),
        ),
      );
    }
    const seen: string[] = [];
    host.subscribe('events.*', (m) => seen.push(`${m.topic}:${text(m.payload)}`));
    host.publish('events.created', 'a');
    host.publish('events.created', 'b');
    host.publish('other.topic', 'c');
    const count = (name: string) => host.storage!.namespace(`${name}.sub`).get('count');
    await expect.poll(() => names.map((n) => count(n)?.[0])).toEqual([2, 2, 2]);
    expect(seen).toEqual(['events.created:a', 'events.created:b']);
    expect(text(host.storage!.namespace('sub-1.sub').get('last-topic')!)).toBe('events.created');
  });

  it('lets a component publish to host subscribers, stamped with its address', async () => {
    const host = await newHost();
    await host.start(
      await engine.load(
        variant('stage', {
          name: 'announcer',
          config: { topic: 'news.today', tag: '!' },
          permissions: SEND_ALL,
        }),
      ),
    );
    const got: { sender: string; topic?: string; body: string }[] = [];
    host.subscribe('news.>', (m) => got.push({ sender: m.sender, topic: m.topic, body: text(m.payload) }));
    host.send('announcer', 'hi');
    await expect.poll(() => got).toEqual([{ sender: 'announcer', topic: 'news.today', body: 'hi!' }]);
  });

  it('refuses sends the manifest does not grant', async () => {
    const host = await newHost();
    await host.start(await engine.load(fixture('echo')));
    await host.start(await engine.load(variant('requester', { name: 'mute', config: { peer: 'echo' } })));
    await expect(host.request('mute', 'x')).rejects.toMatchObject({ code: 'capability-denied' });
  });

  it('pushes back with mailbox-full on a flood, and the rest keep answering', async () => {
    const host = await newHost();
    await host.start(
      await engine.load(variant('stage', { name: 'slow', resources: { mailbox: 8 }, permissions: SEND_ALL })),
    );
    await host.start(await engine.load(fixture('flooder')));
    await host.start(await engine.load(fixture('echo')));
    expect(await ask(host, 'flooder', 'flood slow 1000')).toBe('sent 8 mailbox-full');
    // The host API feels the same back-pressure, synchronously.
    for (let i = 0; i < 8; i++) host.send('slow', 'x');
    expect(() => host.send('slow', 'x')).toThrow(expect.objectContaining({ code: 'mailbox-full' }));
    const started = performance.now();
    expect(await ask(host, 'echo', 'still here')).toBe('still here');
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('rejects messages over the size cap at send, from the host and from a component', async () => {
    const host = await newHost({ maxMessageBytes: 64 });
    await host.start(await engine.load(fixture('echo')));
    await host.start(
      await engine.load(
        variant('stage', {
          name: 'grower',
          config: { next: 'echo', tag: 'x'.repeat(10) },
          permissions: SEND_ALL,
        }),
      ),
    );
    expect(() => host.send('echo', new Uint8Array(65))).toThrow(
      expect.objectContaining({
        code: 'messaging-error',
        details: expect.objectContaining({ reason: 'message-too-large' }),
      }),
    );
    await expect(host.request('grower', new Uint8Array(60))).rejects.toMatchObject({
      code: 'messaging-error',
    });
  });

  it('sends to an unknown address fail with not-found', async () => {
    const host = await newHost();
    expect(() => host.send('nobody', 'x')).toThrow(expect.objectContaining({ code: 'not-found' }));
  });

  it('encodes and decodes payloads by codec', async () => {
    const host = await newHost();
    await host.start(await engine.load(fixture('echo')));
    for (const codec of ['json', 'cbor', 'msgpack'] as const) {
      const reply = await host.request('echo', { n: 1, list: [1, 2] }, { codec });
      expect(reply.value).toEqual({ n: 1, list: [1, 2] });
    }
    const schema = { struct: { n: 'u32', name: 'string' } } as const;
    const reply = await host.request('echo', { n: 7, name: 'x' }, { codec: 'borsh', schema });
    expect(reply.value).toEqual({ n: 7, name: 'x' });
    expect(ERROR_CODEC).toBe(0x300002);
  });
});

describe('trace context', () => {
  it('carries a traceparent through a pipeline, one span per hop, each the child of the last', async () => {
    const spans: Span[] = [];
    const host = await newHost({ onSpan: (s) => spans.push(s) });
    await startPipeline(host, 't');
    const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    host.send('t-a', 'm', { traceparent: caller });
    await expect.poll(() => spans.length).toBe(3);
    const [a, b, c] = ['t-a', 't-b', 't-c'].map((address) => spans.find((s) => s.address === address)!);
    for (const s of [a, b, c])
      expect(s).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', status: 'ok' });
    expect(a.parentSpanId).toBe('00f067aa0ba902b7');
    expect(b.parentSpanId).toBe(a.spanId);
    expect(c.parentSpanId).toBe(b.spanId);
    expect(new Set([a.spanId, b.spanId, c.spanId]).size).toBe(3);

    // Without a traceparent the host starts a trace (it exports spans); a malformed one is replaced.
    spans.length = 0;
    host.send('t-c', 'x', { traceparent: '00-zz-bad-01' });
    await expect.poll(() => spans.length).toBe(1);
    expect(spans[0].traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(spans[0].traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('records no span without an exporter', async () => {
    const host = await newHost();
    await host.start(await engine.load(fixture('echo')));
    const reply = await host.request('echo', 'x', {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(text(reply.payload)).toBe('x');
  });
});
