import { afterEach, describe, expect, test } from 'vitest';
import { ActorSystem, Broker, type Publication, topicMatches } from '../../src/rt/index.js';
import { expectCode, flush } from './helpers.js';

let system: ActorSystem;
afterEach(async () => {
  await system?.shutdown();
});

// [pattern, topic, matches]
const MATCHING: [string, string, boolean][] = [
  ['a.b.c', 'a.b.c', true],
  ['a.b.c', 'a.b', false],
  ['a.b.c', 'a.b.c.d', false],
  ['a.b.c', 'a.b.x', false],
  ['a.*.c', 'a.b.c', true],
  ['a.*.c', 'a.xyz.c', true],
  ['a.*.c', 'a.c', false],
  ['a.*.c', 'a.b.b.c', false],
  ['*', 'a', true],
  ['*', 'a.b', false],
  ['*.*', 'a.b', true],
  ['a.>', 'a.b', true],
  ['a.>', 'a.b.c.d', true],
  ['a.>', 'a', false],
  ['>', 'a', true],
  ['>', 'a.b.c', true],
  ['*.b.>', 'a.b.c', true],
  ['*.b.>', 'a.b', false],
  ['*.b.>', 'a.x.c', false],
  ['orders.*.created', 'orders.eu.created', true],
  ['orders.*.created', 'orders.eu.deleted', false],
];

describe('topics — pattern matching', () => {
  test.each(MATCHING)('pattern %s against topic %s matches: %s', (pattern, topic, expected) => {
    expect(topicMatches(pattern, topic)).toBe(expected);
  });

  test.each(MATCHING)('the broker trie agrees: %s against %s → %s', (pattern, topic, expected) => {
    const broker = new Broker();
    const got: string[] = [];
    broker.subscribe(pattern, (_m, t) => got.push(t));
    expect(broker.publish(topic, 1)).toBe(expected ? 1 : 0);
    expect(got).toEqual(expected ? [topic] : []);
  });

  const BAD_PATTERNS: [string, RegExp][] = [
    ['', /non-empty/],
    ['a..b', /segments must be non-empty/],
    ['a.>.b', /'>' may only be the last segment/],
    ['a.b*', /wildcards must be a whole segment/],
    ['a b', /whitespace/],
  ];
  test.each(BAD_PATTERNS)('rejects the pattern %j with invalid-argument', (pattern, message) => {
    expectCode(() => new Broker().subscribe(pattern, () => {}), 'invalid-argument', message);
  });

  test('rejects publishing on a topic with wildcards', () => {
    expectCode(() => new Broker().publish('a.*', 1), 'invalid-argument', /wildcards are for patterns/);
    expectCode(() => new Broker().publish('a.>', 1), 'invalid-argument');
  });
});

describe('broker — delivery', () => {
  test('an actor subscriber receives the topic and message, in publish order', async () => {
    system = new ActorSystem();
    const got: Publication[] = [];
    const ref = system.spawn({ handle: (m: Publication) => void got.push(m) });
    system.broker.subscribe('orders.>', ref);
    system.broker.publish('orders.eu.created', 1);
    system.broker.publish('orders.us', 2);
    system.broker.publish('invoices.eu', 3);
    await flush();
    expect(got).toEqual([
      { topic: 'orders.eu.created', message: 1 },
      { topic: 'orders.us', message: 2 },
    ]);
  });

  test('unsubscribe stops delivery, and unrelated subscriptions are unaffected', () => {
    const broker = new Broker();
    const got: string[] = [];
    const a = broker.subscribe('x.*', (m) => got.push(`a${m}`));
    broker.subscribe('x.y', (m) => got.push(`b${m}`));
    broker.publish('x.y', 1);
    a.unsubscribe();
    a.unsubscribe();
    broker.publish('x.y', 2);
    expect(got.sort()).toEqual(['a1', 'b1', 'b2']);
    expect(broker.size).toBe(1);
  });

  test('a subscriber added after a publish on the same topic receives later ones (the cache is invalidated)', () => {
    const broker = new Broker();
    const got: number[] = [];
    broker.publish('t', 0);
    broker.subscribe('t', (m) => got.push(m as number));
    broker.publish('t', 1);
    expect(got).toEqual([1]);
  });

  test('an actor that stops is unsubscribed', async () => {
    system = new ActorSystem();
    const ref = system.spawn({ handle() {} });
    system.broker.subscribe('t.>', ref);
    expect(system.broker.size).toBe(1);
    await system.stop(ref);
    expect(system.broker.size).toBe(0);
    expect(system.broker.publish('t.x', 1)).toBe(0);
  });

  test('a full subscriber does not block the others, and the loss is reported as mailbox-full', async () => {
    system = new ActorSystem();
    const got: number[] = [];
    const full = system.spawn({ handle() {} }, { mailbox: { capacity: 1 } });
    const fine = system.spawn({ handle: (p: Publication<number>) => void got.push(p.message) });
    system.broker.subscribe('t', full);
    system.broker.subscribe('t', fine);
    system.broker.publish('t', 1);
    expectCode(() => system.broker.publish('t', 2), 'mailbox-full', /1 of 2 subscribers refused/);
    await flush();
    expect(got).toEqual([1, 2]);
  });

  test('publish cost does not depend on unrelated subscriptions', () => {
    const broker = new Broker();
    for (let i = 0; i < 10_000; i++) broker.subscribe(`other.${i}.>`, () => {});
    let hits = 0;
    broker.subscribe('hot.topic', () => hits++);
    const time = (n: number) => {
      const t = performance.now();
      for (let i = 0; i < n; i++) broker.publish('hot.topic', i);
      return performance.now() - t;
    };
    time(10_000);
    const small = new Broker();
    small.subscribe('hot.topic', () => hits++);
    const t = performance.now();
    for (let i = 0; i < 100_000; i++) small.publish('hot.topic', i);
    const baseline = performance.now() - t;
    // Generous bound: a linear scan over 10k subscriptions would be ~1000× slower.
    expect(time(100_000)).toBeLessThan(baseline * 5 + 20);
    expect(hits).toBeGreaterThan(0);
  });
});
