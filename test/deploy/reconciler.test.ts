// Deployments on a live host: strategies from src/deploy/strategies applied by the reconciler to
// real components under a steady stream of messages, counted.
import { afterEach, describe, expect, it } from 'vitest';
import { DeploymentStore, Reconciler } from '../../src/deploy/index.js';
import { ComponentHost, versionId } from '../../src/host/index.js';
import { type Component, Engine } from '../../src/wasm/index.js';
import { fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';
import { variant } from '../support/variant.js';

const engine = new Engine();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const hosts: ComponentHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

async function newHost() {
  const host = await ComponentHost.create({ threads: 0 });
  hosts.push(host);
  return { host, reconciler: new Reconciler(host, { store: new DeploymentStore(), pollMs: 2 }) };
}

/** The `stage` sink under the name `pipe`; `tag` only makes a distinct version. */
const sink = (tag: string) =>
  engine.load(
    variant('stage', {
      name: 'pipe',
      config: { sink: 'yes', tag },
      permissions: ['storage = { namespaces = ["stage"] }'],
    }),
  );

/** Sends `m0…` to `pipe` every millisecond until stopped; returns how many were accepted. */
function stream(host: ComponentHost) {
  let sent = 0;
  let refused = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      for (let i = 0; i < 5; i++) {
        try {
          host.send('pipe', `m${sent}`);
          sent++;
        } catch {
          refused++;
        }
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return { sent, refused };
    },
  };
}

function storedPayloads(host: ComponentHost): string[] {
  const ns = host.storage!.namespace('pipe.stage');
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = ns.listPrefix('m/', { cursor, limit: 1000 });
    out.push(...page.keys.map((k) => text(ns.get(k)!)));
    cursor = page.next;
  } while (cursor !== undefined);
  return out;
}

async function countedDeploy(strategy: Parameters<Reconciler['deploy']>[0]['strategy']) {
  const { host, reconciler } = await newHost();
  const v1 = await sink('v1');
  const v2 = await sink('v2');
  await host.start(v1);
  const traffic = stream(host);
  await new Promise((r) => setTimeout(r, 20));
  const outcome = await reconciler.deploy({ address: 'pipe', component: v2, strategy });
  await new Promise((r) => setTimeout(r, 20));
  const { sent, refused } = await traffic.stop();
  await new Promise((r) => setTimeout(r, 20));
  return { host, outcome, sent, refused, v2 };
}

describe('deployments under load', () => {
  it('blue-green: every accepted message handled exactly once, all traffic on green at the end', async () => {
    const { host, outcome, sent, refused, v2 } = await countedDeploy({ kind: 'blue-green' });
    expect(outcome).toMatchObject({ status: 'done' });
    expect(refused).toBe(0);
    const payloads = storedPayloads(host);
    expect(payloads).toHaveLength(sent);
    expect(new Set(payloads).size).toBe(sent);
    expect((await host.versions('pipe')).map((v) => [v.version, v.weight])).toEqual([[versionId(v2), 100]]);
  });

  it('canary: steps through the weights and promotes, every accepted message handled exactly once', async () => {
    const { host, outcome, sent, v2 } = await countedDeploy({
      kind: 'canary',
      steps: [10, 50, 100],
      stepMs: 40,
      minMessages: 5,
    });
    expect(outcome).toMatchObject({ status: 'done' });
    const payloads = storedPayloads(host);
    expect(payloads).toHaveLength(sent);
    expect(new Set(payloads).size).toBe(sent);
    const routes = outcome.record.history.filter((h) => h.op === 'route').map((h) => h.detail);
    expect(routes.length).toBeGreaterThanOrEqual(3);
    expect((await host.versions('pipe')).map((v) => v.version)).toEqual([versionId(v2)]);
  });
});

describe('deployments that must not go through', () => {
  async function counterHost() {
    const { host, reconciler } = await newHost();
    const v1 = await engine.load(fixture('counter'));
    await host.start(v1);
    for (let i = 0; i < 3; i++) await host.request('counter', 'inc');
    return { host, reconciler, v1 };
  }
  const counterV2 = (config: Record<string, string>): Promise<Component> =>
    engine.load(
      variant('counter-v2', {
        name: 'counter',
        config,
        permissions: ['storage = { namespaces = ["counter"] }'],
      }),
    );

  it('canary: a version that traps on its first message is rolled back automatically', async () => {
    const { host, reconciler, v1 } = await counterHost();
    const deploying = reconciler.deploy({
      address: 'counter',
      component: await counterV2({ trap: 'yes' }),
      strategy: { kind: 'canary', steps: [20, 100], stepMs: 200, minMessages: 3 },
    });
    const results: string[] = [];
    let finished = false;
    void deploying.finally(() => {
      finished = true;
    });
    while (!finished) {
      results.push(
        await host.request('counter', 'get').then(
          (r) => text(r.payload),
          (e) => e.code,
        ),
      );
      await new Promise((r) => setTimeout(r, 2));
    }
    const outcome = await deploying;
    expect(outcome).toMatchObject({ status: 'failed', rolledBack: true });
    expect(outcome.message).toMatch(/error rate/);
    expect(results).toContain('trap');
    expect((await host.versions('counter')).map((v) => [v.version, v.weight])).toEqual([
      [versionId(v1), 100],
    ]);
    expect(text((await host.request('counter', 'get')).payload)).toBe('3');
  });

  it('blue-green: a failing migrate leaves the old version serving, its state untouched', async () => {
    const { host, reconciler, v1 } = await counterHost();
    const outcome = await reconciler.deploy({
      address: 'counter',
      component: await counterV2({ 'fail-migrate': 'yes' }),
      strategy: { kind: 'blue-green' },
    });
    expect(outcome).toMatchObject({ status: 'failed', rolledBack: true });
    expect(outcome.message).toMatch(/migration refused/);
    expect((await host.versions('counter')).map((v) => v.version)).toEqual([versionId(v1)]);
    expect(text((await host.request('counter', 'get')).payload)).toBe('3');
  });

  it('migrates on the way forward, and a rollback deploy gives the old version its state back', async () => {
    const { host, reconciler, v1 } = await counterHost();
    const forward = await reconciler.deploy({
      address: 'counter',
      component: await engine.load(fixture('counter-v2')),
      strategy: { kind: 'blue-green' },
    });
    expect(forward.status).toBe('done');
    expect(text((await host.request('counter', 'get')).payload)).toBe('v2:3');
    await host.request('counter', 'inc');
    const back = await reconciler.deploy({
      address: 'counter',
      component: v1,
      strategy: { kind: 'stop-start' },
    });
    expect(back.status).toBe('done');
    expect(text((await host.request('counter', 'get')).payload)).toBe('3');
  });

  it('concurrent deploys of one address: one wins, the other is refused at once', async () => {
    const { reconciler } = await counterHost();
    const v2 = await engine.load(fixture('counter-v2'));
    const results = await Promise.allSettled([
      reconciler.deploy({ address: 'counter', component: v2, strategy: { kind: 'blue-green' } }),
      reconciler.deploy({ address: 'counter', component: v2, strategy: { kind: 'blue-green' } }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('in progress'),
    });
  });

  it('refuses a malformed strategy before anything changes', async () => {
    const { host, reconciler, v1 } = await counterHost();
    await expect(
      reconciler.deploy({
        address: 'counter',
        component: await engine.load(fixture('counter-v2')),
        strategy: { kind: 'canary', steps: [50, 10] },
      }),
    ).rejects.toMatchObject({ code: 'invalid-argument' });
    expect((await host.versions('counter')).map((v) => v.version)).toEqual([versionId(v1)]);
  });

  it('stores every deployment with its history in the data directory', async () => {
    const dir = tempDir('deployments');
    const host = await ComponentHost.create({ threads: 0 });
    hosts.push(host);
    const store = new DeploymentStore(dir);
    await host.start(await engine.load(fixture('counter')));
    const outcome = await new Reconciler(host, { store }).deploy({
      address: 'counter',
      component: await engine.load(fixture('counter-v2')),
      strategy: { kind: 'blue-green' },
    });
    const reopened = new DeploymentStore(dir).get(outcome.id)!;
    expect(reopened).toMatchObject({ status: 'done', fromSemver: '0.1.0', toSemver: '0.2.0' });
    expect(reopened.history.map((h) => h.op)).toContain('migrate');
    expect(new DeploymentStore(dir).unfinished()).toEqual([]);
  });
});

describe('shadow deployments', () => {
  it('mirrors live traffic to a candidate whose effects are discarded, then reports', async () => {
    const { host, reconciler } = await newHost();
    const v1 = await engine.load(fixture('counter'));
    await host.start(v1);
    const candidate = await engine.load(fixture('counter-v2'));
    const deploying = reconciler.deploy({
      address: 'counter',
      component: candidate,
      strategy: { kind: 'shadow', share: 100, durationMs: 150 },
    });
    let finished = false;
    void deploying.finally(() => {
      finished = true;
    });
    const replies: string[] = [];
    while (!finished) {
      replies.push(text((await host.request('counter', 'inc')).payload));
      await new Promise((r) => setTimeout(r, 2));
    }
    const outcome = await deploying;
    expect(outcome).toMatchObject({ status: 'done' });
    expect(outcome.message).toMatch(/handled/);
    // Every reply came from the serving version, in sequence; the candidate's writes went nowhere.
    expect(replies).toEqual(replies.map((_, i) => String(i + 1)));
    expect(host.storage!.namespace('counter.counter').get('total')).toBeUndefined();
    expect((await host.versions('counter')).map((v) => v.version)).toEqual([versionId(v1)]);
  });

  it('refuses to route real traffic to a shadow version', async () => {
    const { host } = await newHost();
    const v1 = await engine.load(fixture('counter'));
    await host.start(v1);
    const shadow = await host.startVersion('counter', await engine.load(fixture('counter-v2')), 1, {
      shadow: true,
    });
    await expect(host.setWeights('counter', { [shadow]: 100 })).rejects.toMatchObject({
      code: 'invalid-argument',
    });
    await expect(
      host.setWeights('counter', { [versionId(v1)]: 100 }, { [versionId(v1)]: 50 }),
    ).rejects.toMatchObject({
      code: 'invalid-argument',
    });
  });
});
