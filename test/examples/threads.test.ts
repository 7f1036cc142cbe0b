// The pipeline and kv-counter examples on scheduler threads. Runs against dist/ (built by
// `npm test` before vitest): the threads load compiled JS.
import { afterEach, describe, expect, it } from 'vitest';
import { ComponentHost } from '../../dist/host/index.js';
import { Engine } from '../../dist/index.js';
import { tempDir } from '../support/temp.js';
import { example } from './support.js';

const engine = new Engine();
const hosts: ComponentHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

describe('examples on scheduler threads', () => {
  it('delivers the pipeline in order across threads, with kv-counter pooled beside it', async () => {
    const host = await ComponentHost.create({ threads: 2, dataDir: tempDir('examples-threads') });
    hosts.push(host);
    // Round-robin placement puts neighbouring stages on different threads.
    for (const stage of ['store', 'enrich', 'ingest']) {
      await host.start(await engine.load(example(`pipeline-${stage}`)));
    }
    await host.start(await engine.load(example('kv-counter')), { instances: 2 });
    const observed: number[] = [];
    host.subscribe('orders.stored', (m) => observed.push((m.value as { id: number }).id));

    const N = 500;
    for (let i = 0; i < N; i++) host.send('ingest', `widget ${i + 1}`);
    const counted = await Promise.all(
      Array.from({ length: 50 }, () => host.request('kv-counter', 'inc hits', { timeoutMs: 5000 })),
    );
    await expect
      .poll(async () => (await host.request('store', 'summary')).value, { timeout: 10_000 })
      .toEqual({ orders: N, revenue: (250 * N * (N + 1)) / 2 });
    expect(observed).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(counted.map((r) => r.value).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
  });
});
