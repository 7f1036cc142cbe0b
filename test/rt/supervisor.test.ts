import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import {
  type ActorBehavior,
  ActorSystem,
  type ChildSpec,
  type LifecycleEvent,
  type Strategy,
  type SupervisorSpec,
} from '../../src/rt/index.js';
import { expectCode, expectRejection, flush, sleep } from './helpers.js';

let system: ActorSystem;
afterEach(async () => {
  await system?.shutdown();
});

type Msg = 'crash' | 'quit' | 'inc' | 'get';

/** A worker that logs its starts and stops into `log`. */
function worker(id: string, log: string[], postStopMs = 0): ActorBehavior<Msg, { n: number }> {
  return {
    init: () => ({ n: 0 }),
    preStart: () => void log.push(`start ${id}`),
    handle(msg, ctx) {
      if (msg === 'crash') throw new Error(`${id} crashed`);
      if (msg === 'quit') ctx.stop();
      else if (msg === 'inc') ctx.state.n++;
      else if (msg === 'get') ctx.reply(ctx.state.n);
    },
    postStop(_ctx, reason) {
      log.push(`stop ${id} ${reason.kind}`);
      if (postStopMs > 0) return sleep(postStopMs);
    },
  };
}

function threeChildren(strategy: Strategy, log: string[], extra: Partial<SupervisorSpec> = {}) {
  return system.startSupervisor({
    strategy,
    children: ['a', 'b', 'c'].map((id) => ({ id, start: worker(id, log) })),
    ...extra,
  });
}

async function stateOf(sup: ReturnType<typeof threeChildren>) {
  return Promise.all(['a', 'b', 'c'].map((id) => sup.child(id)!.ask('get')));
}

describe('supervisor — strategies', () => {
  test('one-for-one restarts only the failed child, with fresh state, behind the same ref', async () => {
    system = new ActorSystem();
    const log: string[] = [];
    const sup = threeChildren('one-for-one', log);
    const refs = sup.children().map((c) => c.ref);
    for (const id of ['a', 'b', 'c']) sup.child(id)!.tell('inc');
    log.length = 0;
    sup.child('b')!.tell('crash');
    await flush();
    await sup.settled();
    expect(log).toEqual(['stop b error', 'start b']);
    expect(await stateOf(sup)).toEqual([1, 0, 1]);
    expect(sup.children().map((c) => c.ref)).toEqual(refs);
  });

  test('one-for-all ends the others newest first, then restarts every child in start order', async () => {
    system = new ActorSystem();
    const log: string[] = [];
    const sup = threeChildren('one-for-all', log);
    for (const id of ['a', 'b', 'c']) sup.child(id)!.tell('inc');
    log.length = 0;
    sup.child('b')!.tell('crash');
    await flush();
    await sup.settled();
    expect(log).toEqual([
      'stop c shutdown',
      'stop b error',
      'stop a shutdown',
      'start a',
      'start b',
      'start c',
    ]);
    expect(await stateOf(sup)).toEqual([0, 0, 0]);
  });

  test('rest-for-one restarts the failed child and those started after it', async () => {
    system = new ActorSystem();
    const log: string[] = [];
    const sup = threeChildren('rest-for-one', log);
    for (const id of ['a', 'b', 'c']) sup.child(id)!.tell('inc');
    log.length = 0;
    sup.child('b')!.tell('crash');
    await flush();
    await sup.settled();
    expect(log).toEqual(['stop c shutdown', 'stop b error', 'start b', 'start c']);
    expect(await stateOf(sup)).toEqual([1, 0, 0]);
  });

  test('messages queued behind the failing one are handled by the restarted child', async () => {
    system = new ActorSystem();
    const sup = threeChildren('one-for-one', []);
    const b = sup.child('b')!;
    b.tell('crash');
    b.tell('inc');
    b.tell('inc');
    await sup.settled();
    expect(await b.ask('get')).toBe(2);
  });

  test('an ask whose handler crashes is rejected and the child is restarted', async () => {
    system = new ActorSystem();
    const sup = threeChildren('one-for-one', []);
    await expectRejection(sup.child('a')!.ask('crash'), 'messaging-error', /a crashed/);
    await sup.settled();
    expect(await sup.child('a')!.ask('get')).toBe(0);
  });
});

describe('supervisor — restart types', () => {
  test('a permanent child is restarted even after a normal exit', async () => {
    system = new ActorSystem();
    const log: string[] = [];
    const sup = system.startSupervisor({
      children: [{ id: 'p', start: worker('p', log), restart: 'permanent' }],
    });
    sup.child('p')!.tell('quit');
    await flush();
    await sup.settled();
    expect(log).toEqual(['start p', 'stop p normal', 'start p']);
    expect(sup.children().map((c) => [c.id, c.running])).toEqual([['p', true]]);
  });

  test('a transient child is restarted after a failure but not after a normal exit', async () => {
    system = new ActorSystem();
    const log: string[] = [];
    const sup = system.startSupervisor({
      children: [{ id: 't', start: worker('t', log), restart: 'transient' }],
    });
    const t = sup.child('t')!;
    t.tell('crash');
    await flush();
    await sup.settled();
    expect(t.alive).toBe(true);
    t.tell('quit');
    await flush();
    await sup.settled();
    expect(log).toEqual(['start t', 'stop t error', 'start t', 'stop t normal']);
    expect(t.alive).toBe(false);
    expect(sup.children()).toEqual([]);
  });

  test('a temporary child is never restarted', async () => {
    system = new ActorSystem();
    const log: string[] = [];
    const sup = system.startSupervisor({
      children: [{ id: 'x', start: worker('x', log), restart: 'temporary' }],
    });
    sup.child('x')!.tell('crash');
    await flush();
    await sup.settled();
    expect(log).toEqual(['start x', 'stop x error']);
    expect(sup.child('x')).toBeUndefined();
  });

  test('a temporary sibling ended by one-for-all is dropped, not restarted', async () => {
    system = new ActorSystem();
    const log: string[] = [];
    const sup = system.startSupervisor({
      strategy: 'one-for-all',
      children: [
        { id: 'p', start: worker('p', log) },
        { id: 'tmp', start: worker('tmp', log), restart: 'temporary' },
      ],
    });
    log.length = 0;
    sup.child('p')!.tell('crash');
    await flush();
    await sup.settled();
    expect(log).toEqual(['stop tmp shutdown', 'stop p error', 'start p']);
    expect(sup.children().map((c) => c.id)).toEqual(['p']);
  });

  test('system.stop on a supervised child stops it for good and removes it from its supervisor', async () => {
    system = new ActorSystem();
    const sup = threeChildren('one-for-one', []);
    await system.stop(sup.child('a')!);
    await sup.settled();
    expect(sup.children().map((c) => c.id)).toEqual(['b', 'c']);
  });
});

describe('supervisor — intensity and escalation', () => {
  test('more restarts than the intensity within the period makes the supervisor give up and escalate', async () => {
    system = new ActorSystem();
    const events: LifecycleEvent[] = [];
    system.onEvent((e) => events.push(e));
    const log: string[] = [];
    const sup = system.startSupervisor({
      intensity: 2,
      period: 10_000,
      children: [{ id: 'w', start: worker('w', log) }],
    });
    const w = sup.child('w')!;
    for (let i = 0; i < 3; i++) {
      w.tell('crash');
      await flush();
      await sup.settled();
    }
    await flush();
    expect(sup.alive).toBe(false);
    expect(w.alive).toBe(false);
    expect(log.filter((l) => l.startsWith('start'))).toHaveLength(3);
    const escalated = events.find((e) => e.type === 'escalated')!;
    expect(escalated.ref).toBe(sup.ref);
    expect((escalated as any).reason.error.message).toMatch(
      /more than 2 restarts within 10000 ms; last, child 'w'/,
    );
    const supStopped = events.find((e) => e.type === 'stopped' && e.ref === sup.ref) as any;
    expect(supStopped.reason.kind).toBe('error');
  });

  test('restarts older than the period no longer count (sliding window)', async () => {
    system = new ActorSystem();
    const sup = system.startSupervisor({
      intensity: 1,
      period: 40,
      children: [{ id: 'w', start: worker('w', []) }],
    });
    const w = sup.child('w')!;
    w.tell('crash');
    await sup.settled();
    await sleep(60);
    w.tell('crash');
    await flush();
    await sup.settled();
    expect(sup.alive).toBe(true);
    w.tell('crash');
    await flush();
    await sup.settled();
    await flush();
    expect(sup.alive).toBe(false);
  });

  test('a nested supervisor that gives up is restarted by its parent, and its subtree with it (children report first)', async () => {
    system = new ActorSystem();
    const events: LifecycleEvent[] = [];
    system.onEvent((e) => events.push(e));
    const log: string[] = [];
    const root = system.startSupervisor({
      strategy: 'one-for-one',
      intensity: 5,
      children: [
        { id: 'left', start: worker('left', log) },
        { id: 'inner', start: { intensity: 0, children: [{ id: 'leaf', start: worker('leaf', log) }] } },
      ],
    });
    const inner = root.childSupervisor('inner')!;
    const leaf = inner.child('leaf')!;
    log.length = 0;
    leaf.tell('crash');
    await flush();
    await inner.settled();
    await root.settled();
    await flush();
    expect(log).toEqual(['stop leaf error', 'start leaf']);
    expect(events.filter((e) => e.type === 'escalated').map((e) => e.childId)).toEqual(['inner']);
    expect(events.filter((e) => e.type === 'restarted').map((e) => e.childId)).toEqual(['leaf', 'inner']);
    expect([root.alive, inner.alive, leaf.alive]).toEqual([true, true, true]);
    expect(await leaf.ask('get')).toBe(0);
  });

  test('escalation reaches the top of a three-level tree when every level gives up', async () => {
    system = new ActorSystem();
    const root = system.startSupervisor({
      intensity: 0,
      children: [
        { id: 'mid', start: { intensity: 0, children: [{ id: 'leaf', start: worker('leaf', []) }] } },
      ],
    });
    const leaf = root.childSupervisor('mid')!.child('leaf')!;
    leaf.tell('crash');
    const reason = await system.watch(root.ref);
    expect(reason.kind).toBe('error');
    expect(leaf.alive).toBe(false);
  });

  test('backoff delays each restart, growing with restarts in the window', async () => {
    system = new ActorSystem();
    const sup = system.startSupervisor({
      intensity: 5,
      backoff: { initialMs: 30, factor: 2 },
      children: [{ id: 'w', start: worker('w', []) }],
    });
    const w = sup.child('w')!;
    w.tell('crash');
    await sleep(10);
    expect(sup.children()[0].running).toBe(false);
    await sleep(40);
    expect(sup.children()[0].running).toBe(true);
    const t = Date.now();
    w.tell('crash');
    await flush();
    await sup.settled();
    expect(Date.now() - t).toBeGreaterThanOrEqual(55);
  });
});

describe('supervisor — shutdown', () => {
  test('stopping a supervisor stops children newest first, waiting for async postStop', async () => {
    system = new ActorSystem();
    const log: string[] = [];
    const sup = system.startSupervisor({
      children: [
        { id: 'a', start: worker('a', log, 10) },
        { id: 'b', start: worker('b', log, 10) },
      ],
    });
    log.length = 0;
    await sup.stop();
    expect(log).toEqual(['stop b shutdown', 'stop a shutdown']);
    expect(sup.children()).toEqual([]);
  });

  test('a child overrunning its shutdown timeout is cut off and the stop goes on', async () => {
    system = new ActorSystem();
    const events: LifecycleEvent[] = [];
    system.onEvent((e) => events.push(e));
    const sup = system.startSupervisor({
      children: [{ id: 'slow', start: worker('slow', [], 1_000), shutdown: 30 }],
    });
    const t = Date.now();
    await sup.stop();
    expect(Date.now() - t).toBeLessThan(500);
    expect((events.find((e) => e.type === 'stopped' && e.childId === 'slow') as any).reason.kind).toBe(
      'killed',
    );
  });

  test('a restart waits for the failed child postStop up to its shutdown, then starts it again', async () => {
    system = new ActorSystem();
    const log: string[] = [];
    const sup = system.startSupervisor({
      children: [{ id: 'w', start: worker('w', log, 1_000), shutdown: 20 }],
    });
    sup.child('w')!.tell('crash');
    await flush();
    const t = Date.now();
    await sup.settled();
    expect(Date.now() - t).toBeLessThan(500);
    expect(log).toEqual(['start w', 'stop w error', 'start w']);
  });
});

describe('supervisor — child specs are checked up front', () => {
  const ok = { handle() {} };
  const cases: [string, unknown, RegExp][] = [
    ['a missing id', { children: [{ start: ok }] }, /children\[0\]\.id: expected a non-empty string/],
    [
      'a duplicate id',
      {
        children: [
          { id: 'a', start: ok },
          { id: 'a', start: ok },
        ],
      },
      /children\[1\]\.id/,
    ],
    [
      'a bad restart',
      { children: [{ id: 'a', start: ok, restart: 'forever' }] },
      /children\[0\]\.restart: expected 'permanent'/,
    ],
    ['a bad shutdown', { children: [{ id: 'a', start: ok, shutdown: -5 }] }, /children\[0\]\.shutdown/],
    ['a start that is no behaviour', { children: [{ id: 'a', start: 42 }] }, /children\[0\]\.start/],
    [
      'an unknown field',
      { children: [{ id: 'a', start: ok, restarts: 'temporary' }] },
      /children\[0\]\.restarts/,
    ],
    ['a bad strategy', { strategy: 'all-for-one', children: [] }, /strategy: expected 'one-for-one'/],
    ['a negative intensity', { intensity: -1, children: [] }, /intensity/],
    ['a zero period', { period: 0, children: [] }, /period/],
    ['a bad backoff', { backoff: { initialMs: -1 }, children: [] }, /backoff\.initialMs/],
    [
      'a nested mistake',
      { children: [{ id: 'n', start: { children: [{ id: 'x', start: ok, restart: 1 }] } }] },
      /children\[0\]\.start\.children\[0\]\.restart/,
    ],
  ];
  test.each(cases)('rejects %s with invalid-argument naming the field', (_name, spec, message) => {
    system = new ActorSystem();
    let started = 0;
    system.onEvent((e) => e.type === 'started' && started++);
    expectCode(() => system.startSupervisor(spec as SupervisorSpec), 'invalid-argument', message);
    expect(started).toBe(0);
  });

  test('a child whose start throws fails the supervisor start and stops the children already started', () => {
    system = new ActorSystem();
    const log: string[] = [];
    const bad: ChildSpec = {
      id: 'bad',
      start: {
        preStart() {
          throw new Error('cannot open');
        },
        handle() {},
      },
    };
    expectCode(
      () => system.startSupervisor({ children: [{ id: 'ok', start: worker('ok', log) }, bad] }),
      'internal',
      /child 'bad' .* failed to start: cannot open/,
    );
    expect(log).toEqual(['start ok', 'stop ok shutdown']);
  });
});

describe('supervisor — lifecycle events', () => {
  test('started, restarted with its reason, and stopped are observable', async () => {
    system = new ActorSystem();
    const events: LifecycleEvent[] = [];
    const off = system.onEvent((e) => events.push(e));
    const sup = system.startSupervisor({
      children: [{ id: 'w', start: worker('w', []), name: 'the-worker' }],
    });
    system.resolve('the-worker').tell('crash');
    await flush();
    await sup.settled();
    await sup.stop();
    off();
    const summary = events.map((e) => [e.type, e.childId, 'reason' in e ? e.reason.kind : undefined]);
    expect(summary).toEqual([
      ['started', 'w', undefined],
      ['started', undefined, undefined],
      ['restarted', 'w', 'error'],
      ['stopped', 'w', 'shutdown'],
      ['stopped', undefined, 'shutdown'],
    ]);
    expect(events[2].name).toBe('the-worker');
  });
});

describe('supervisor — property', () => {
  test('random crash schedules never leave a dead permanent child or a double-started one', async () => {
    const restartArb = fc.constantFrom('permanent', 'transient', 'temporary') as fc.Arbitrary<
      'permanent' | 'transient' | 'temporary'
    >;
    const actionArb = fc.record({
      child: fc.nat(5),
      kind: fc.constantFrom('crash', 'quit', 'async-crash', 'pause'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Strategy>('one-for-one', 'one-for-all', 'rest-for-one'),
        fc.array(fc.record({ restart: restartArb, slowStop: fc.boolean() }), { minLength: 1, maxLength: 5 }),
        fc.array(actionArb, { maxLength: 20 }),
        fc.integer({ min: 0, max: 6 }),
        async (strategy, kids, actions, intensity) => {
          system = new ActorSystem();
          const live = new Map<string, number>();
          let doubleStart = false;
          const behavior = (id: string, slowStop: boolean): ActorBehavior => ({
            preStart() {
              const n = (live.get(id) ?? 0) + 1;
              live.set(id, n);
              if (n > 1) doubleStart = true;
            },
            async handle(msg: string, ctx) {
              if (msg === 'crash') throw new Error('crash');
              if (msg === 'quit') ctx.stop();
              if (msg === 'async-crash') {
                await Promise.resolve();
                throw new Error('async crash');
              }
            },
            postStop() {
              live.set(id, live.get(id)! - 1);
              if (slowStop) return sleep(1);
            },
          });
          const specs: ChildSpec[] = kids.map((k, i) => ({
            id: `c${i}`,
            start: behavior(`c${i}`, k.slowStop),
            restart: k.restart,
            shutdown: 50,
          }));
          const sup = system.startSupervisor({ strategy, intensity, period: 60_000, children: specs });
          const refs = sup.children().map((c) => c.ref);
          for (const action of actions) {
            if (action.kind === 'pause') {
              await flush();
              continue;
            }
            const ref = refs[action.child % refs.length];
            if (ref.alive) ref.tell(action.kind);
          }
          for (let i = 0; i < 5; i++) {
            await flush();
            await sup.settled();
          }
          await sleep(5);
          await sup.settled();
          expect(doubleStart).toBe(false);
          if (sup.alive) {
            const present = new Set(sup.children().map((c) => c.id));
            specs.forEach((s, i) => {
              if (s.restart === 'permanent') {
                expect(present.has(s.id)).toBe(true);
                expect(refs[i].alive).toBe(true);
              }
            });
            for (const c of sup.children()) {
              expect(c.running).toBe(true);
              expect(live.get(c.id)).toBe(1);
            }
          } else {
            for (const r of refs) expect(r.alive).toBe(false);
            for (const n of live.values()) expect(n).toBe(0);
          }
          await system.shutdown();
          for (const n of live.values()) expect(n).toBe(0);
        },
      ),
      { numRuns: 80 },
    );
  });
});
