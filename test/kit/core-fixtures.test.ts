/**
 * The C authoring kit (kit/c) end to end: the fixture components written with it, built by
 * scripts/build-fixtures.mjs for world airssys:core/component@1.0.0, run on the real engine
 * against an in-memory host-services (fake-host.ts).
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { type Component, type ComponentInstance, DEFAULT_HOST_POLICY, Engine } from '../../src/wasm/index.js';
import { fixture } from '../support/fixtures.js';
import { FakeHost, JSON_CODEC, type Message, message, RAW, str, text } from './fake-host.js';

const LIFECYCLE = 'airssys:core/component-lifecycle@1.0.0';
const NAMES = ['counter', 'stage', 'echo', 'requester', 'subscriber', 'flooder', 'runaway'] as const;
const components = {} as Record<(typeof NAMES)[number], Component>;

beforeAll(async () => {
  const engine = new Engine();
  for (const name of NAMES) components[name] = await engine.load(fixture(name));
});

/** An instance of a fixture wired to `host`, with its lifecycle exports as typed functions. */
function start(name: (typeof NAMES)[number], host = new FakeHost(), config: [string, string][] = []) {
  const instance = components[name].instantiate(host.imports());
  const call = (fn: string, ...args: unknown[]) => instance.call(`${LIFECYCLE}#${fn}`, args);
  const init = call('init', config);
  return {
    host,
    instance,
    init,
    handle: (m: Message) => call('handle-message', m),
    health: () => call('health'),
    shutdown: () => call('shutdown'),
  };
}

const reply = (payload: string | Uint8Array, codec = RAW) => ({
  tag: 'ok',
  val: { tag: 'reply', val: { codec, payload: typeof payload === 'string' ? text(payload) : payload } },
});
/** The payload of a `reply` response; throws on anything else. */
function replyPayload(result: unknown): Uint8Array {
  const r = result as { tag: string; val?: { tag: string; val?: { payload: Uint8Array } } };
  if (r.tag !== 'ok' || r.val?.tag !== 'reply' || !r.val.val) {
    throw new Error(`not a reply: ${JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? `${v}` : v))}`);
  }
  return r.val.val.payload;
}
const none = { tag: 'ok', val: { tag: 'none' } };
const deferred = { tag: 'ok', val: { tag: 'deferred' } };
const mailboxFull = { code: 'mailbox-full', message: 'b is full' };

function hops(h: number, length = 12): Uint8Array {
  const bytes = new Uint8Array(length);
  bytes.set(text('HOPS'));
  new DataView(bytes.buffer).setUint32(4, h, true);
  return bytes;
}

function failure(instance: ComponentInstance, m: Message) {
  const outcome = instance.invoke(`${LIFECYCLE}#handle-message`, [m]);
  if (outcome.ok) throw new Error(`handle-message unexpectedly returned ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

describe('C kit — the built components', () => {
  it('import only the host functions they call, and echo calls none', () => {
    const funcs = (name: (typeof NAMES)[number]) =>
      components[name]
        .describe()
        .imports.flatMap((i) => Object.keys(i.funcs ?? {}))
        .sort();
    expect(funcs('echo')).toEqual([]);
    expect(funcs('runaway')).toEqual([]);
    expect(funcs('counter')).toEqual(['log', 'storage-get', 'storage-increment']);
    expect(funcs('stage')).toEqual(['config-get', 'publish', 'send', 'storage-increment', 'storage-set']);
    expect(funcs('requester')).toEqual(['reply', 'request']);
    expect(funcs('subscriber')).toEqual(['storage-increment', 'storage-set', 'subscribe']);
    expect(funcs('flooder')).toEqual(['send']);
  });

  it('answer init, health and shutdown with the kit defaults', () => {
    const echo = start('echo');
    expect(echo.init).toEqual({ tag: 'ok' });
    expect(echo.health()).toBe('healthy');
    expect(echo.shutdown()).toBeUndefined();
  });

  it('keep memory flat: 10,000 messages of 4 KiB pass through a 1 MiB memory', () => {
    expect(components.echo.manifest.resources.memoryBytes).toBe(1024 * 1024);
    const payload = new Uint8Array(4096).fill(7);
    const echo = start('echo');
    const stage = start('stage', Object.assign(new FakeHost(), { config: { next: 'b', tag: 'tag' } }));
    const counter = start('counter');
    counter.handle(message('inc'));
    for (let i = 0; i < 10_000; i++) {
      // host-allocated arguments and reply
      // (a length check: deep equality of 4 KiB arrays 10,000 times takes minutes)
      expect(replyPayload(echo.handle(message(payload))).length).toBe(4096);
      // plus the component's own arena use (payload + tag)
      expect(stage.handle(message(payload, { kind: 'send' }))).toEqual(none);
      // plus host-allocated import results (storage-get bytes)
      expect(counter.handle(message('get'))).toEqual(reply('1'));
      stage.host.outbox.length = 0;
      stage.host.calls.length = 0;
      counter.host.calls.length = 0;
    }
    // what init kept (config-get answers) survived 10,000 arena resets
    stage.handle(message('end', { kind: 'send' }));
    expect(stage.host.outbox).toEqual([{ fn: 'send', to: 'b', codec: RAW, payload: text('endtag') }]);
  });

  it('are bounded by the manifest memory: one 2 MiB message is out-of-memory', () => {
    const echo = start('echo');
    expect(failure(echo.instance, message(new Uint8Array(2 * 1024 * 1024))).code).toBe('out-of-memory');
  });
});

describe('C kit — counter', () => {
  it('increments in storage and replies with the new value as decimal text', () => {
    const { handle, host } = start('counter');
    expect(handle(message('inc'))).toEqual(reply('1'));
    expect(handle(message('inc'))).toEqual(reply('2'));
    expect(host.callsOf('storage-increment')).toEqual([
      ['counter', 'count', 1n],
      ['counter', 'count', 1n],
    ]);
  });

  it('increments without a reply for a send', () => {
    const { handle, host } = start('counter');
    expect(handle(message('inc', { kind: 'send' }))).toEqual(none);
    expect(handle(message('get'))).toEqual(reply('1'));
    expect(host.callsOf('storage-get')).toEqual([['counter', 'count']]);
  });

  it('reads a missing counter as 0 and a stored one from its 8 little-endian bytes', () => {
    const host = new FakeHost();
    expect(start('counter', host).handle(message('get'))).toEqual(reply('0'));
    host.storage.set('counter/count', Uint8Array.of(0x39, 0x30, 0, 0, 0, 0, 0, 0));
    expect(start('counter', host).handle(message('get'))).toEqual(reply('12345'));
  });

  it('returns the error it was asked for, and the host error storage answered', () => {
    const { handle } = start('counter');
    expect(handle(message('fail'))).toEqual({
      tag: 'err',
      val: { code: 'invalid-argument', message: 'asked to fail' },
    });
    const denied = { code: 'capability-denied', message: 'no storage for you' };
    const refused = start(
      'counter',
      new FakeHost().refuse('storage-increment', () => denied),
    );
    expect(refused.handle(message('inc'))).toEqual({ tag: 'err', val: denied });
  });

  it('traps on boom, and the instance refuses further calls', () => {
    const { instance } = start('counter');
    expect(failure(instance, message('boom')).code).toBe('trap');
    expect(instance.trapped).toBe(true);
  });
});

describe('C kit — stage', () => {
  const stageWith = (config: Record<string, string>, host = new FakeHost()) =>
    start('stage', Object.assign(host, { config }));

  it('reads next, topic, tag and sink with config-get in init', () => {
    const { host } = stageWith({ next: 'b' });
    expect(host.callsOf('config-get').map(([k]) => k)).toEqual(['next', 'topic', 'tag', 'sink']);
  });

  it('forwards to next with the tag appended, in the same codec', () => {
    const { handle, host } = stageWith({ next: 'b', tag: '+s1' });
    expect(handle(message('hi', { kind: 'send', codec: JSON_CODEC }))).toEqual(none);
    expect(host.outbox).toEqual([{ fn: 'send', to: 'b', codec: JSON_CODEC, payload: text('hi+s1') }]);
  });

  it('publishes on topic instead of sending when topic is set', () => {
    const { handle, host } = stageWith({ next: 'b', topic: 'out.x' });
    handle(message('hi', { kind: 'send' }));
    expect(host.outbox).toEqual([{ fn: 'publish', to: 'out.x', codec: RAW, payload: text('hi') }]);
  });

  it('sinks each payload into storage under m/<8-digit sequence>', () => {
    const { handle, host } = stageWith({ sink: 'yes' });
    handle(message('one', { kind: 'send' }));
    handle(message('two', { kind: 'send' }));
    expect(host.callsOf('storage-increment')).toEqual([
      ['stage', 'seq', 1n],
      ['stage', 'seq', 1n],
    ]);
    expect(host.storage.get('stage/m/00000001')).toEqual(text('one'));
    expect(host.storage.get('stage/m/00000002')).toEqual(text('two'));
    expect(host.outbox).toEqual([]);
  });

  it('relays HOPS with the hop count decremented, untagged, and publishes bench.done at 0', () => {
    const { handle, host } = stageWith({ next: 'b', tag: 'x', sink: 'yes' });
    handle(message(hops(3), { kind: 'send' }));
    handle(message(hops(0), { kind: 'send' }));
    expect(host.outbox).toEqual([
      { fn: 'send', to: 'b', codec: RAW, payload: hops(2) },
      { fn: 'publish', to: 'bench.done', codec: RAW, payload: hops(0) },
    ]);
    expect(host.callsOf('storage-set')).toEqual([]);
  });

  it('makes h component-to-component messages from one injected HOPS message', () => {
    // a ring of three stages, a → b → c → a, delivered through the fake host's outbox
    const host = new FakeHost();
    const ring = {
      a: stageWith({ next: 'b' }, host),
      b: stageWith({ next: 'c' }, host),
      c: stageWith({ next: 'a' }, host),
    };
    ring.a.handle(message(hops(10), { kind: 'send' }));
    let delivered = 0;
    for (let out = host.outbox.shift(); out?.fn === 'send'; out = host.outbox.shift()) {
      ring[out.to as keyof typeof ring].handle(message(out.payload, { kind: 'send', codec: out.codec }));
      delivered++;
    }
    expect(delivered).toBe(10);
    expect(host.callsOf('publish')).toEqual([['bench.done', RAW, hops(0)]]);
    const counts = Object.values(ring).map((s) => str(replyPayload(s.handle(message('count')))));
    expect(counts).toEqual(['4', '4', '3']);
  });

  it('fails the message with the host error when a send is refused', () => {
    const { handle } = stageWith(
      { next: 'b' },
      new FakeHost().refuse('send', () => mailboxFull),
    );
    expect(handle(message('hi', { kind: 'send' }))).toEqual({ tag: 'err', val: mailboxFull });
    expect(handle(message(hops(2), { kind: 'send' }))).toEqual({ tag: 'err', val: mailboxFull });
  });

  it('answers count with the number of messages handled', () => {
    const { handle } = stageWith({});
    for (let i = 0; i < 3; i++) handle(message('x', { kind: 'send' }));
    expect(handle(message('count'))).toEqual(reply('3'));
  });
});

describe('C kit — echo', () => {
  it('replies to a request with its own codec and payload', () => {
    const { handle } = start('echo');
    const bytes = Uint8Array.of(0, 1, 2, 255);
    expect(handle(message(bytes, { codec: 0x51 }))).toEqual(reply(bytes, 0x51));
    expect(handle(message(''))).toEqual(reply(''));
  });

  it('answers nothing to sends and publications', () => {
    const { handle } = start('echo');
    expect(handle(message('x', { kind: 'send' }))).toEqual(none);
    expect(handle(message('x', { kind: 'publish', topic: 'events.a' }))).toEqual(none);
  });
});

describe('C kit — requester', () => {
  it('defers a request, asks its peer, and replies re:<answer> to the original requester', () => {
    const { handle, host } = start('requester', new FakeHost(), [['peer', 'echo']]);
    expect(handle(message('ping', { correlationId: 7n }))).toEqual(deferred);
    expect(host.callsOf('request')).toEqual([['echo', RAW, text('ping'), 1000]]);
    expect(handle(message('pong', { kind: 'reply', correlationId: 100n }))).toEqual(none);
    expect(host.callsOf('reply')).toEqual([[7n, RAW, text('re:pong')]]);
  });

  it('matches interleaved replies to their requests', () => {
    const { handle, host } = start('requester', new FakeHost(), [['peer', 'echo']]);
    handle(message('a', { correlationId: 1n }));
    handle(message('b', { correlationId: 2n }));
    handle(message('B', { kind: 'reply', correlationId: 101n }));
    handle(message('A', { kind: 'reply', correlationId: 100n }));
    expect(host.callsOf('reply')).toEqual([
      [2n, RAW, text('re:B')],
      [1n, RAW, text('re:A')],
    ]);
  });

  it('forwards an error reply byte for byte', () => {
    const { handle, host } = start('requester', new FakeHost(), [['peer', 'echo']]);
    handle(message('ping', { correlationId: 9n }));
    const error = text('{"code":"timeout","message":"no reply within 1000 ms"}');
    handle(message(error, { kind: 'reply', correlationId: 100n, codec: JSON_CODEC }));
    expect(host.callsOf('reply')).toEqual([[9n, JSON_CODEC, error]]);
  });

  it('refuses a reply nobody waits for, and reports a refused request', () => {
    const { handle } = start('requester', new FakeHost(), [['peer', 'echo']]);
    expect(handle(message('x', { kind: 'reply', correlationId: 555n }))).toMatchObject({
      tag: 'err',
      val: { code: 'not-found' },
    });
    const denied = { code: 'capability-denied', message: 'echo is not allowed' };
    const refused = start(
      'requester',
      new FakeHost().refuse('request', () => denied),
      [['peer', 'echo']],
    );
    expect(refused.handle(message('ping'))).toEqual({ tag: 'err', val: denied });
  });
});

describe('C kit — subscriber', () => {
  it('subscribes to events.> by default, or to config pattern', () => {
    expect(start('subscriber').host.callsOf('subscribe')).toEqual([['events.>']]);
    expect(start('subscriber', new FakeHost(), [['pattern', 'orders.*']]).host.callsOf('subscribe')).toEqual([
      ['orders.*'],
    ]);
  });

  it('fails init with the host error when the subscription is refused', () => {
    const denied = { code: 'capability-denied', message: 'not allowed' };
    expect(
      start(
        'subscriber',
        new FakeHost().refuse('subscribe', () => denied),
      ).init,
    ).toEqual({
      tag: 'err',
      val: denied,
    });
  });

  it('counts publications and records the last topic', () => {
    const { handle, host } = start('subscriber');
    handle(message('x', { kind: 'publish', target: 'events.a', topic: 'events.a' }));
    handle(message('y', { kind: 'publish', target: 'events.b.c', topic: 'events.b.c' }));
    expect(handle(message('z', { kind: 'send' }))).toEqual(none);
    expect(host.callsOf('storage-increment')).toEqual([
      ['sub', 'count', 1n],
      ['sub', 'count', 1n],
    ]);
    expect(host.storage.get('sub/last-topic')).toEqual(text('events.b.c'));
  });
});

describe('C kit — flooder', () => {
  it('sends until the first refusal and reports how many got through', () => {
    const host = new FakeHost().refuse('send', (n) => (n >= 5 ? mailboxFull : undefined));
    const { handle } = start('flooder', host);
    expect(handle(message('flood b 10'))).toEqual(reply('sent 5 mailbox-full'));
    expect(host.callsOf('send')).toHaveLength(6);
    expect(host.outbox[0]).toEqual({ fn: 'send', to: 'b', codec: RAW, payload: new Uint8Array(64) });
  });

  it('reports ok when every send went through, and floods on a send without replying', () => {
    const { handle, host } = start('flooder');
    expect(handle(message('flood b 3'))).toEqual(reply('sent 3 ok'));
    expect(handle(message('flood c 2', { kind: 'send' }))).toEqual(none);
    expect(host.outbox.map((o) => o.to)).toEqual(['b', 'b', 'b', 'c', 'c']);
  });

  it('rejects a malformed command', () => {
    const { handle } = start('flooder');
    expect(handle(message('flood b'))).toMatchObject({ tag: 'err', val: { code: 'invalid-argument' } });
    expect(handle(message('flood b x'))).toMatchObject({ tag: 'err', val: { code: 'invalid-argument' } });
  });
});

describe('C kit — runaway', () => {
  it('declares the largest fuel and timeout the default host policy allows', () => {
    const { resources } = components.runaway.manifest;
    expect(resources.fuel).toBe(DEFAULT_HOST_POLICY.maxFuel);
    expect(resources.timeoutMs).toBe(DEFAULT_HOST_POLICY.maxTimeoutMs);
  });

  it('replies ok', () => {
    expect(start('runaway').handle(message('ok'))).toEqual(reply('ok'));
  });

  it('spins until a budget stops it: out-of-fuel, or timeout with unlimited fuel', () => {
    const fuel = start('runaway').instance;
    fuel.setBudget(1_000_000, 10_000);
    expect(failure(fuel, message('spin')).code).toBe('out-of-fuel');
    const clock = start('runaway').instance;
    clock.setBudget(DEFAULT_HOST_POLICY.maxFuel, 50);
    expect(failure(clock, message('spin')).code).toBe('timeout');
  });
});
