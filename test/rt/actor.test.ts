import { afterEach, describe, expect, test } from 'vitest';
import { type ActorBehavior, ActorSystem, type DownSignal, type ExitSignal } from '../../src/rt/index.js';
import { expectCode, expectRejection, flush, sleep } from './helpers.js';

let system: ActorSystem;
afterEach(async () => {
  await system?.shutdown();
});

const counter: ActorBehavior<'inc' | 'get' | 'boom', { n: number }> = {
  init: () => ({ n: 0 }),
  handle(msg, ctx) {
    if (msg === 'inc') ctx.state.n++;
    else if (msg === 'get') ctx.reply(ctx.state.n);
    else throw new Error('boom');
  },
};

describe('actors — tell and ask', () => {
  test('a told message is handled in the same tick, without a timer', async () => {
    system = new ActorSystem();
    const seen: unknown[] = [];
    const ref = system.spawn({ handle: (m) => void seen.push(m) });
    ref.tell('hi');
    expect(seen).toEqual([]);
    await Promise.resolve();
    expect(seen).toEqual(['hi']);
  });

  test('ask resolves with the reply and state is kept between messages', async () => {
    system = new ActorSystem();
    const ref = system.spawn(counter);
    ref.tell('inc');
    ref.tell('inc');
    expect(await ref.ask('get')).toBe(2);
  });

  test('one behaviour shared by many actors keeps separate state for each', async () => {
    system = new ActorSystem();
    const a = system.spawn(counter);
    const b = system.spawn(counter);
    a.tell('inc');
    expect([await a.ask('get'), await b.ask('get')]).toEqual([1, 0]);
  });

  test('ask rejects with timeout when the actor never replies', async () => {
    system = new ActorSystem();
    const ref = system.spawn({ handle() {} });
    const started = Date.now();
    await expectRejection(ref.ask('x', { timeoutMs: 30 }), 'timeout', /did not reply within 30 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  test('a reply after the ask timed out is ignored and does not crash the replier', async () => {
    system = new ActorSystem();
    const ref = system.spawn<string, number>({
      init: () => 0,
      async handle(msg, ctx) {
        if (msg === 'slow') {
          await sleep(40);
          ctx.reply('late');
        } else {
          ctx.state++;
          ctx.reply(ctx.state);
        }
      },
    });
    await expectRejection(ref.ask('slow', { timeoutMs: 10 }), 'timeout');
    await sleep(50);
    expect(await ref.ask('count')).toBe(1);
  });

  test('ask rejects at once with the failure when the handler throws', async () => {
    system = new ActorSystem();
    const ref = system.spawn(counter);
    await expectRejection(ref.ask('boom'), 'messaging-error', /failed while handling the request: boom/);
  });

  test('ask rejects an invalid timeout with invalid-argument', async () => {
    system = new ActorSystem();
    await expectRejection(
      system.spawn(counter).ask('get', { timeoutMs: -1 }),
      'invalid-argument',
      /timeoutMs/,
    );
  });

  test('reply without a sender is an invalid-argument failure', async () => {
    system = new ActorSystem();
    const reasons: unknown[] = [];
    const ref = system.spawn(counter);
    void system.watch(ref).then((r) => reasons.push(r));
    ref.tell('get');
    await flush();
    expect(reasons).toHaveLength(1);
    expect((reasons[0] as any).error.code).toBe('invalid-argument');
  });

  test('a spawn whose preStart throws fails and leaves no actor behind', () => {
    system = new ActorSystem();
    expect(() =>
      system.spawn(
        {
          preStart() {
            throw new Error('nope');
          },
          handle() {},
        },
        { name: 'x' },
      ),
    ).toThrow('nope');
    expect(system.lookup('x')).toBeUndefined();
  });

  test('a malformed behaviour is rejected with invalid-argument', () => {
    system = new ActorSystem();
    expectCode(() => system.spawn({} as ActorBehavior), 'invalid-argument', /handle/);
  });
});

describe('actors — ordering and scheduling', () => {
  test('messages from one sender are handled in the order sent', async () => {
    system = new ActorSystem();
    const seen: number[] = [];
    const ref = system.spawn({ handle: (m: number) => void seen.push(m) });
    for (let i = 0; i < 500; i++) ref.tell(i);
    await flush();
    expect(seen).toEqual([...Array(500).keys()]);
  });

  test('per-sender order holds while several senders interleave', async () => {
    system = new ActorSystem({ throughput: 3 });
    const seen: [string, number][] = [];
    const sink = system.spawn({ handle: (m: [string, number]) => void seen.push(m) });
    const senders = ['a', 'b', 'c'].map((name) =>
      system.spawn({
        handle(n: number, ctx) {
          for (let i = 0; i < n; i++) sink.tell([name, i], ctx.self);
        },
      }),
    );
    for (const s of senders) s.tell(50);
    await flush();
    for (const name of ['a', 'b', 'c']) {
      expect(seen.filter(([s]) => s === name).map(([, i]) => i)).toEqual([...Array(50).keys()]);
    }
  });

  test('a hot actor yields after its throughput budget so others are served', async () => {
    system = new ActorSystem({ throughput: 4 });
    const log: string[] = [];
    const hot = system.spawn({ handle: () => void log.push('hot') });
    const cold = system.spawn({ handle: () => void log.push('cold') });
    for (let i = 0; i < 20; i++) hot.tell(i);
    cold.tell(0);
    await flush();
    expect(log.indexOf('cold')).toBe(4);
  });

  test('an async handler finishes before the next message starts', async () => {
    system = new ActorSystem();
    const log: string[] = [];
    const ref = system.spawn({
      async handle(m: number) {
        log.push(`start ${m}`);
        await sleep(5);
        log.push(`end ${m}`);
      },
    });
    ref.tell(1);
    ref.tell(2);
    await sleep(30);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  test('messages wait for an async preStart', async () => {
    system = new ActorSystem();
    const log: string[] = [];
    const ref = system.spawn({
      async preStart() {
        await sleep(5);
        log.push('ready');
      },
      handle: (m: string) => void log.push(m),
    });
    ref.tell('first');
    await sleep(20);
    expect(log).toEqual(['ready', 'first']);
  });

  test('the drain yields to the event loop under sustained load', async () => {
    system = new ActorSystem({ sliceMs: 1, throughput: 1 });
    let handled = 0;
    const ref = system.spawn({
      handle(_m, ctx) {
        handled++;
        const until = performance.now() + 0.01;
        while (performance.now() < until) {}
        ctx.self.tell(0);
      },
    });
    ref.tell(0);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(handled).toBeGreaterThan(0);
    await system.stop(ref);
  });
});

describe('actors — mailboxes', () => {
  test('a full mailbox rejects the next tell with mailbox-full and keeps what it holds', async () => {
    system = new ActorSystem();
    const seen: number[] = [];
    const ref = system.spawn({ handle: (m: number) => void seen.push(m) }, { mailbox: { capacity: 3 } });
    ref.tell(1);
    ref.tell(2);
    ref.tell(3);
    expectCode(() => ref.tell(4), 'mailbox-full', /3 messages waiting/);
    await flush();
    expect(seen).toEqual([1, 2, 3]);
    ref.tell(5);
    await flush();
    expect(seen).toEqual([1, 2, 3, 5]);
  });

  test('ask on a full mailbox rejects with mailbox-full', async () => {
    system = new ActorSystem();
    const ref = system.spawn({ handle() {} }, { mailbox: { capacity: 1 } });
    ref.tell(1);
    await expectRejection(ref.ask(2), 'mailbox-full');
  });

  test('a drop-oldest mailbox discards the oldest messages when full', async () => {
    system = new ActorSystem();
    const seen: number[] = [];
    const ref = system.spawn(
      { handle: (m: number) => void seen.push(m) },
      { mailbox: { capacity: 3, overflow: 'drop-oldest' } },
    );
    for (let i = 1; i <= 6; i++) ref.tell(i);
    await flush();
    expect(seen).toEqual([4, 5, 6]);
  });

  test('the system-wide default mailbox applies to actors that declare none', () => {
    system = new ActorSystem({ mailbox: { capacity: 2 } });
    const ref = system.spawn({ handle() {} });
    ref.tell(1);
    ref.tell(2);
    expectCode(() => ref.tell(3), 'mailbox-full');
  });

  test('mailbox options are checked and name the field', () => {
    system = new ActorSystem();
    expectCode(
      () => system.spawn({ handle() {} }, { mailbox: { capacity: 0 } }),
      'invalid-argument',
      /mailbox\.capacity/,
    );
    expectCode(
      () => system.spawn({ handle() {} }, { mailbox: { overflow: 'drop-newest' as any } }),
      'invalid-argument',
      /mailbox\.overflow/,
    );
  });
});

describe('actors — stopping', () => {
  test('tell and ask to a stopped actor fail with not-found', async () => {
    system = new ActorSystem();
    const ref = system.spawn(counter, { name: 'c' });
    await system.stop(ref);
    expect(ref.alive).toBe(false);
    expectCode(() => ref.tell('inc'), 'not-found', /actor #\d+ \('c'\) has stopped/);
    await expectRejection(ref.ask('get'), 'not-found');
  });

  test('asks in flight or still queued when an actor stops are rejected with not-found, not left to time out', async () => {
    system = new ActorSystem();
    const ref = system.spawn({
      async handle(_m, ctx) {
        await sleep(20);
        ctx.reply('done');
      },
    });
    const first = ref.ask('a');
    const second = ref.ask('b', { timeoutMs: 10_000 });
    await flush();
    await system.stop(ref);
    await expectRejection(first, 'not-found');
    await expectRejection(second, 'not-found', /stopped before answering/);
  });

  test('ctx.stop ends the actor after the current message; postStop sees reason normal', async () => {
    system = new ActorSystem();
    const reasons: string[] = [];
    const ref = system.spawn({
      handle(m: string, ctx) {
        if (m === 'quit') ctx.stop();
      },
      postStop: (_ctx, reason) => void reasons.push(reason.kind),
    });
    ref.tell('quit');
    expect((await system.watch(ref)).kind).toBe('normal');
    expect(reasons).toEqual(['normal']);
  });

  test('an unsupervised actor that throws stops with the error as its reason', async () => {
    system = new ActorSystem();
    const ref = system.spawn(counter);
    ref.tell('boom');
    const reason = await system.watch(ref);
    expect(reason.kind).toBe('error');
    expect((reason as any).error.message).toBe('boom');
  });

  test('children stop before their parent, newest first', async () => {
    system = new ActorSystem();
    const log: string[] = [];
    const parent = system.spawn({
      preStart(ctx) {
        for (const name of ['a', 'b']) ctx.spawn({ handle() {}, postStop: () => void log.push(name) });
      },
      handle() {},
      postStop: () => void log.push('parent'),
    });
    await system.stop(parent);
    expect(log).toEqual(['b', 'a', 'parent']);
  });

  test('an async postStop is awaited, and cut off at the shutdown timeout with reason killed', async () => {
    system = new ActorSystem();
    const log: string[] = [];
    const slow = system.spawn(
      {
        handle() {},
        async postStop() {
          await sleep(200);
          log.push('never');
        },
      },
      { shutdown: 20 },
    );
    const reason = system.watch(slow);
    const started = Date.now();
    await system.stop(slow);
    expect(Date.now() - started).toBeLessThan(150);
    expect((await reason).kind).toBe('killed');
    const fine = system.spawn({
      handle() {},
      async postStop() {
        await sleep(5);
        log.push('cleaned');
      },
    });
    await system.stop(fine);
    expect(log).toEqual(['cleaned']);
  });

  test('brutal-kill skips postStop', async () => {
    system = new ActorSystem();
    const log: string[] = [];
    const ref = system.spawn({ handle() {}, postStop: () => void log.push('postStop') });
    await system.stop(ref, { shutdown: 'brutal-kill' });
    expect(log).toEqual([]);
  });

  test('shutdown stops every actor', async () => {
    system = new ActorSystem();
    const refs = [system.spawn(counter), system.spawn(counter)];
    await system.shutdown();
    expect(refs.map((r) => r.alive)).toEqual([false, false]);
  });
});

describe('actors — monitors and links', () => {
  test('a monitoring actor receives a down signal with the reason when the other stops', async () => {
    system = new ActorSystem();
    const downs: DownSignal[] = [];
    const target = system.spawn(counter);
    const watcher = system.spawn({
      preStart: (ctx) => ctx.monitor(target),
      handle: (m: DownSignal) => void downs.push(m),
    });
    target.tell('boom');
    await flush();
    expect(downs).toHaveLength(1);
    expect(downs[0].ref).toBe(target);
    expect(downs[0].reason.kind).toBe('error');
    expect(watcher.alive).toBe(true);
  });

  test('monitoring an actor that already stopped delivers down at once', async () => {
    system = new ActorSystem();
    const target = system.spawn(counter);
    await system.stop(target);
    const downs: DownSignal[] = [];
    system.spawn({ preStart: (ctx) => ctx.monitor(target), handle: (m: DownSignal) => void downs.push(m) });
    await flush();
    expect(downs.map((d) => d.reason.kind)).toEqual(['shutdown']);
  });

  test('demonitor cancels the down signal', async () => {
    system = new ActorSystem();
    const downs: unknown[] = [];
    const target = system.spawn(counter);
    system.spawn({
      preStart(ctx) {
        ctx.monitor(target);
        ctx.demonitor(target);
      },
      handle: (m) => void downs.push(m),
    });
    await system.stop(target);
    await flush();
    expect(downs).toEqual([]);
  });

  test('a linked actor fails when its peer fails, but not when it stops normally', async () => {
    system = new ActorSystem();
    const a = system.spawn(counter);
    const b = system.spawn({ preStart: (ctx) => ctx.link(a), handle() {} });
    const c = system.spawn(counter);
    const d = system.spawn({ preStart: (ctx) => ctx.link(c), handle() {} });
    a.tell('boom');
    await system.stop(c);
    await flush();
    expect([b.alive, d.alive]).toEqual([false, true]);
    expect(((await system.watch(b)) as any).error.message).toBe('boom');
  });

  test('an actor that traps exits receives an exit signal instead of failing', async () => {
    system = new ActorSystem();
    const exits: ExitSignal[] = [];
    const a = system.spawn(counter);
    const b = system.spawn(
      { preStart: (ctx) => ctx.link(a), handle: (m: ExitSignal) => void exits.push(m) },
      { trapExit: true },
    );
    a.tell('boom');
    await flush();
    expect(b.alive).toBe(true);
    expect(exits.map((e) => [e.type, e.ref, e.reason.kind])).toEqual([['exit', a, 'error']]);
  });

  test('unlink stops failure propagation', async () => {
    system = new ActorSystem();
    const a = system.spawn(counter);
    const b = system.spawn({
      preStart(ctx) {
        ctx.link(a);
        ctx.unlink(a);
      },
      handle() {},
    });
    a.tell('boom');
    await flush();
    expect(b.alive).toBe(true);
  });
});

describe('registry', () => {
  test('a named actor is found by name until it stops', async () => {
    system = new ActorSystem();
    const ref = system.spawn(counter, { name: 'counter' });
    expect(system.lookup('counter')).toBe(ref);
    expect(system.resolve('counter')).toBe(ref);
    await system.stop(ref);
    expect(system.lookup('counter')).toBeUndefined();
    expectCode(() => system.resolve('counter'), 'not-found', /no actor is registered as 'counter'/);
  });

  test('a second actor with a taken name is refused with invalid-argument', () => {
    system = new ActorSystem();
    system.spawn(counter, { name: 'dup' });
    expectCode(
      () => system.spawn(counter, { name: 'dup' }),
      'invalid-argument',
      /'dup' is already registered/,
    );
    const other = system.spawn(counter);
    expectCode(() => system.register('dup', other), 'invalid-argument');
  });

  test('register binds an existing actor and is released when it stops', async () => {
    system = new ActorSystem();
    const ref = system.spawn(counter);
    system.register('late', ref);
    expect(system.lookup('late')).toBe(ref);
    await system.stop(ref);
    expect(system.lookup('late')).toBeUndefined();
  });
});
