// examples/pipeline for real: ingest -> enrich -> store, three components in one ComponentHost,
// with the application sending orders, asking questions and watching the published records.
import { afterEach, describe, expect, it } from 'vitest';
import { ComponentHost, type ComponentHostOptions } from '../../src/host/index.js';
import { Engine } from '../../src/wasm/index.js';
import { tempDir } from '../support/temp.js';
import { example, text } from './support.js';

interface Order {
  id: number;
  item: string;
  quantity: number;
  price: number;
  total: number;
}

const engine = new Engine();
const hosts: ComponentHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

const PRICES: Record<string, number> = { widget: 250, gadget: 1200, gizmo: 75, sprocket: 0 }; // no price
const ITEMS = Object.keys(PRICES);

async function pipeline(options: ComponentHostOptions = {}) {
  const host = await ComponentHost.create({ threads: 0, ...options });
  hosts.push(host);
  // Downstream first, so that no stage sends to an address that is not there yet.
  for (const stage of ['store', 'enrich', 'ingest']) {
    await host.start(await engine.load(example(`pipeline-${stage}`)));
  }
  const observed: Order[] = [];
  host.subscribe('orders.>', (m) => observed.push(m.value as Order));
  const ask = async <T = unknown>(target: string, question: string) =>
    (await host.request<T>(target, question, { timeoutMs: 5000 })).value;
  const summary = () => ask<{ orders: number; revenue: number }>('store', 'summary');
  return { host, observed, ask, summary };
}

describe('examples/pipeline', () => {
  it('delivers N orders through three stages in order, and the observer sees each one', async () => {
    const logs: string[] = [];
    const { host, observed, ask, summary } = await pipeline({
      log: (e) => logs.push(`${e.address} ${e.level}: ${e.message}`),
    });
    const N = 300;
    for (let i = 0; i < N; i++) host.send('ingest', `${ITEMS[i % ITEMS.length]} ${i + 1}`);
    await expect.poll(async () => (await summary()).orders).toBe(N);

    const expected = Array.from({ length: N }, (_, i) => {
      const item = ITEMS[i % ITEMS.length];
      return { id: i + 1, item, quantity: i + 1, price: PRICES[item], total: PRICES[item] * (i + 1) };
    });
    // FIFO at every hop: ids were given in send order and kept in that order to the end.
    expect(observed).toEqual(expected);
    expect((await summary()).revenue).toBe(expected.reduce((sum, o) => sum + o.total, 0));
    expect(logs.filter((line) => line === 'enrich warn: no price for sprocket')).toHaveLength(N / 4);
    expect(await ask('store', 'get 37')).toEqual(expected[36]);
    const records = host.storage!.namespace('store.orders').listPrefix('order/', { limit: 1000 });
    expect(records.keys).toHaveLength(N);
    expect(records.keys[0]).toBe('order/0000000001');
  });

  it('answers a request with the id and reports a malformed one; a send is fire and forget', async () => {
    const logs: string[] = [];
    const { host, ask, summary } = await pipeline({
      log: (e) => logs.push(`${e.address} ${e.level}: ${e.message}`),
    });
    const reply = await host.request('ingest', 'gadget 2');
    expect(text(reply.payload)).toBe('1');
    await expect(ask('ingest', 'gadget two')).rejects.toMatchObject({ code: 'invalid-argument' });

    // The same mistake sent: no error reaches the sender; the component's stats keep it.
    host.send('ingest', 'gadget two');
    host.send('ingest', 'widget 1');
    await expect.poll(async () => (await summary()).orders).toBe(2);
    const [ingest] = await host.stats('ingest');
    expect(ingest).toMatchObject({ errors: 2, lastError: { code: 'invalid-argument' } });
    expect(logs).toContain('ingest warn: refused order: gadget two');
    expect(await ask('store', 'get 1')).toMatchObject({ item: 'gadget', quantity: 2, total: 2400 });
    await expect(ask('store', 'get 99')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('keeps orders only from its upstream, as stamped by the host', async () => {
    const { host, ask, summary } = await pipeline();
    host.send('store', '99 widget 1 250 250'); // from `host`, not from `enrich`
    await expect.poll(async () => (await host.stats('store'))[0].errors).toBe(1);
    expect((await host.stats('store'))[0].lastError).toMatchObject({
      code: 'capability-denied',
      message: expect.stringContaining('not from host'),
    });
    expect(await summary()).toEqual({ orders: 0, revenue: 0 });
    await expect(ask('store', 'get 99')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('keeps numbering and totals across a host restart with a data directory', async () => {
    const dataDir = tempDir('pipeline');
    const first = await pipeline({ dataDir });
    for (let i = 0; i < 3; i++) first.host.send('ingest', 'gizmo 4');
    await expect.poll(async () => (await first.summary()).orders).toBe(3);
    await first.host.close();

    const second = await pipeline({ dataDir });
    expect(text((await second.host.request('ingest', 'gizmo 4')).payload)).toBe('4');
    await expect.poll(async () => (await second.summary()).orders).toBe(4);
    expect(await second.summary()).toEqual({ orders: 4, revenue: 4 * 4 * 75 });
    expect(second.observed.map((o) => o.id)).toEqual([4]);
  });
});
