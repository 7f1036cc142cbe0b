// Hosts of one cluster in this process, over a real nats-server: messages cross hosts with the
// same semantics and error codes as on one host, forged traffic is refused, and deployments
// declared once are placed across the hosts. The multi-process failover test is in
// test/cluster/processes.test.ts.

import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/cluster/frame.js';
import { sealJson } from '../../src/cluster/seal.js';
import { joinMember, type Member, TEST_KEY, until } from '../support/cluster.js';
import { fixture } from '../support/fixtures.js';
import { type NatsServer, startNats } from '../support/nats-server.mjs';
import { variant } from '../support/variant.js';

const SEND_ALL = ['messaging = { send = [">"] }'];
const PUBLISH = ['messaging = { send = ["events.>"] }'];
const text = new TextDecoder();

let nats: NatsServer;
let a: Member;
let b: Member;

/** Waits until `member` routes `address` to another host (its heartbeat arrived). */
function seesRemote(member: Member, address: string) {
  return until(
    () => member.cluster.status().hosts.some((h) => !h.self && (h.addresses[address]?.instances ?? 0) > 0),
    5000,
    `${member.id} to see ${address} on another host`,
  );
}

async function runOn(member: Member, folder: string, instances = 1): Promise<void> {
  const record = await member.deployer.install(folder);
  await member.deployer.deploy(record.name, { instances });
  member.cluster.status(); // the next heartbeat carries it
}

beforeAll(async () => {
  nats = await startNats();
  a = await joinMember(nats.url, 'a');
  b = await joinMember(nats.url, 'b');
  await until(() => [a, b].every((m) => m.cluster.status().hosts.length === 2), 5000, 'both hosts to meet');
  await runOn(a, fixture('echo'));
  await runOn(a, variant('requester', { name: 'holder', permissions: SEND_ALL }));
  await runOn(a, variant('requester', { name: 'ra', config: { peer: 'rb' }, permissions: SEND_ALL }));
  await runOn(b, variant('requester', { name: 'rb', config: { peer: 'ra' }, permissions: SEND_ALL }));
  await runOn(b, variant('requester', { name: 'asker', config: { peer: 'echo' }, permissions: SEND_ALL }));
  await runOn(
    a,
    variant('stage', { name: 'announcer', config: { topic: 'events.a' }, permissions: PUBLISH }),
  );
  for (const address of ['echo', 'holder', 'ra', 'announcer']) await seesRemote(b, address);
  for (const address of ['rb', 'asker']) await seesRemote(a, address);
}, 30_000);

afterAll(async () => {
  await b?.close();
  await a?.close();
  await nats?.stop();
});

describe('cluster — messages across hosts', () => {
  it("a request to an address another host runs gets that host's reply", async () => {
    const reply = await b.host.request('echo', 'hello', { timeoutMs: 2000 });
    expect(text.decode(reply.payload)).toBe('hello');
  });

  it('a component on one host requests a component on another, and the reply comes back through it', async () => {
    const reply = await a.host.request('asker', 'ping', { timeoutMs: 2000 });
    expect(text.decode(reply.payload)).toBe('re:ping');
  });

  it('refuses a request cycle that crosses hosts (ra on a → rb on b → ra) with the same error as on one host', async () => {
    await expect(b.host.request('ra', 'x', { timeoutMs: 3000 })).rejects.toMatchObject({
      code: 'messaging-error',
      message: expect.stringContaining('request cycle: host → ra → rb → ra'),
    });
  });

  it('times out a request the other host never answers, with timeout', async () => {
    await expect(b.host.request('holder', 'x', { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'timeout',
    });
  });

  it('answers not-found for an address no host runs', async () => {
    expect(() => b.host.send('nobody-here', 'x')).toThrow(expect.objectContaining({ code: 'not-found' }));
  });

  it('refuses a payload over the cap before it leaves the host', async () => {
    const big = new Uint8Array(b.host.maxMessageBytes + 1);
    expect(() => b.host.send('echo', big)).toThrow(
      expect.objectContaining({
        code: 'messaging-error',
        details: expect.objectContaining({ reason: 'message-too-large' }),
      }),
    );
  });

  it("delivers a component's publication to subscribers on other hosts, stamped with its sender", async () => {
    const seen: { sender: string; topic: string | undefined; body: string }[] = [];
    const unsubscribe = b.host.subscribe('events.>', (m) =>
      seen.push({ sender: m.sender, topic: m.topic, body: text.decode(m.payload) }),
    );
    try {
      b.host.send('announcer', 'news');
      await until(() => seen.length > 0, 3000, 'the publication to reach b');
      expect(seen[0]).toMatchObject({ sender: 'announcer', topic: 'events.a' });
      expect(seen[0].body.startsWith('news')).toBe(true);
    } finally {
      unsubscribe();
    }
  });

  it('delivers the host API publications of one host to the other host once', async () => {
    const seen: string[] = [];
    const unsubscribe = a.host.subscribe('notes.*', (m) =>
      seen.push(`${m.sender}:${text.decode(m.payload)}`),
    );
    try {
      b.host.publish('notes.one', 'n1');
      await until(() => seen.length > 0, 3000, 'the publication to reach a');
      await new Promise((r) => setTimeout(r, 100));
      expect(seen).toEqual(['host:n1']);
    } finally {
      unsubscribe();
    }
  });
});

describe('cluster — hostile traffic on the bus', () => {
  it('refuses frames sealed with another key, garbage, and replays, and keeps serving', async () => {
    const nc = await connect({ servers: nats.url });
    try {
      const before = a.cluster.status().link.refused;
      const forged = encodeFrame(
        new Uint8Array(32).fill(7),
        { host: 'b', boot: 'x>a', seq: 1, at: Date.now() },
        [
          {
            kind: 'send',
            sender: 'admin',
            target: 'echo',
            topic: undefined,
            correlationId: undefined,
            codec: 0x55,
            payload: new Uint8Array(1),
          },
        ],
      );
      nc.publish('airssys.default.host.a', forged);
      nc.publish('airssys.default.host.a', new Uint8Array([1, 2, 3]));
      // A genuine frame, sealed with the key but sent twice: the second is a replay.
      const genuine = encodeFrame(TEST_KEY, { host: 'mallory', boot: 'm>a', seq: 1, at: Date.now() }, []);
      nc.publish('airssys.default.host.a', genuine);
      nc.publish('airssys.default.host.a', genuine);
      // Sent to a but sealed for b: misdirected.
      nc.publish(
        'airssys.default.host.a',
        encodeFrame(TEST_KEY, { host: 'mallory', boot: 'm>b', seq: 2, at: Date.now() }, []),
      );
      await nc.flush();
      await until(() => a.cluster.status().link.refused >= before + 4, 3000, 'a to refuse the frames');
      expect(a.cluster.status().link.refused).toBe(before + 4);
      const reply = await b.host.request('echo', 'still-up', { timeoutMs: 2000 });
      expect(text.decode(reply.payload)).toBe('still-up');
    } finally {
      await nc.close();
    }
  });

  it('a flood of forged frames is refused and counted, and logged in a few lines, not one per frame', async () => {
    const lines: string[] = [];
    const watched = await joinMember(nats.url, 'watched', { log: (_level, message) => lines.push(message) });
    const nc = await connect({ servers: nats.url });
    try {
      const forged = encodeFrame(
        new Uint8Array(32).fill(7),
        { host: 'x', boot: 'x>watched', seq: 1, at: Date.now() },
        [],
      );
      for (let i = 0; i < 5000; i++) nc.publish('airssys.default.host.watched', forged);
      await nc.flush();
      await until(() => watched.cluster.status().link.refused === 5000, 5000, 'the frames to be refused');
      expect(lines.filter((l) => l.includes('frame')).length).toBeLessThanOrEqual(2);
    } finally {
      await nc.close();
      await watched.close();
    }
  });

  it('ignores heartbeats sealed with another key: no route to a host that does not hold the key', async () => {
    const nc = await connect({ servers: nats.url });
    try {
      const hb = {
        id: 'intruder',
        boot: 'i',
        seq: 1,
        at: Date.now(),
        capacity: 1000,
        labels: {},
        addresses: { echo: { versions: ['0.1.0'], instances: 1 } },
      };
      nc.publish('airssys.default.hb', sealJson(new Uint8Array(32).fill(9), hb));
      await nc.flush();
      await new Promise((r) => setTimeout(r, 200));
      expect(
        a.cluster
          .status()
          .hosts.map((h) => h.id)
          .sort(),
      ).toEqual(['a', 'b']);
    } finally {
      await nc.close();
    }
  });
});

describe('cluster — deployments placed across hosts', () => {
  it('places a deployment of 2 instances one per host, each serving requests, with storage per host', async () => {
    await a.deployer.install(fixture('counter'));
    await a.cluster.deploy({ component: 'counter', instances: 2 });
    await until(
      () => [a, b].every((m) => m.host.addresses().includes('counter')),
      10_000,
      'counter to run on both hosts',
    );
    const placement = a.cluster.status().deployments.find((d) => d.address === 'counter')?.placement;
    expect(placement).toEqual({ a: 1, b: 1 });
    // b installed the version from the cluster's artifact store, not from a file.
    expect(b.deployer.registry.get('counter', '0.1.0').source.kind).toBe('cluster');
    expect(text.decode((await b.host.request('counter', 'inc')).payload)).toBe('1');
  });

  it('refuses a cluster deployment that widens permissions until they are accepted', async () => {
    await a.deployer.install(variant('requester', { name: 'widening', permissions: [] }));
    await a.cluster.deploy({ component: 'widening' });
    await a.deployer.install(
      variant('requester', { name: 'widening', version: '0.2.0', permissions: SEND_ALL }),
    );
    await expect(a.cluster.deploy({ component: 'widening', version: '0.2.0' })).rejects.toMatchObject({
      code: 'capability-denied',
      details: expect.objectContaining({ reason: 'permissions-not-accepted' }),
    });
    await a.cluster.deploy({ component: 'widening', version: '0.2.0', acceptPermissions: true });
    await a.cluster.undeploy('widening');
    // Gone: a second undeploy finds nothing.
    await expect(a.cluster.undeploy('widening')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('a new version keeps the placement settings the deploy does not change', async () => {
    await a.deployer.install(variant('echo', { name: 'sticky' }));
    await a.deployer.install(variant('echo', { name: 'sticky', version: '0.2.0' }));
    await a.cluster.deploy({
      component: 'sticky',
      version: '0.1.0',
      affinity: { zone: 'x' },
      maxPerHost: 1,
      bakeMs: 5,
    });
    const next = await a.cluster.deploy({ component: 'sticky', version: '0.2.0' });
    expect(next).toMatchObject({ affinity: { zone: 'x' }, maxPerHost: 1, bakeMs: 5 });
    const cleared = await a.cluster.deploy({ component: 'sticky', version: '0.2.0', affinity: {} });
    expect(cleared.affinity).toBeUndefined();
    await a.cluster.undeploy('sticky');
  });

  it('refuses an invalid cluster deployment before storing anything', async () => {
    await expect(a.cluster.deploy({ component: 'counter', instances: 0 })).rejects.toMatchObject({
      code: 'invalid-argument',
    });
    await expect(a.cluster.deploy({ component: 'no-such-component' })).rejects.toMatchObject({
      code: 'not-found',
    });
    // Checked before the registry is asked: a bad count says so, whatever the component.
    await expect(a.cluster.deploy({ component: 'no-such-component', instances: -1 })).rejects.toMatchObject({
      code: 'invalid-argument',
      details: { field: 'instances' },
    });
    await expect(a.cluster.deploy({ component: 'counter', address: 'a b' })).rejects.toMatchObject({
      code: 'invalid-argument',
      details: { field: 'address' },
    });
    await expect(a.cluster.undeploy('a b')).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('a canary rollout switches one host first and the others only after its bake time', async () => {
    await a.deployer.install(variant('echo', { name: 'canaried' }));
    await a.deployer.install(variant('echo', { name: 'canaried', version: '0.2.0' }));
    await a.cluster.deploy({ component: 'canaried', version: '0.1.0', instances: 2 });
    await until(
      () => [a, b].every((m) => m.host.addresses().includes('canaried')),
      10_000,
      'canaried on both',
    );
    await a.cluster.deploy({ component: 'canaried', version: '0.2.0', rollout: 'canary', bakeMs: 600 });
    await until(
      () => a.cluster.status().hosts.every((h) => h.addresses.canaried?.versions.join() === '0.2.0'),
      15_000,
      'both hosts on 0.2.0',
    );
    const switches = [a, b]
      .map((m) => m.deployer.deployments.list('canaried').find((d) => d.toSemver === '0.2.0')!)
      .map((d) => ({ from: d.history[0].at, to: d.history[d.history.length - 1].at }))
      .sort((x, y) => x.from - y.from);
    expect(switches[1].from - switches[0].to).toBeGreaterThanOrEqual(600 - 50);
  }, 30_000);

  it('rolls a new version across the hosts one at a time without losing a request', async () => {
    await a.deployer.install(fixture('counter-v2'));
    const client = await joinMember(nats.url, 'client', { capacity: 0 });
    try {
      await seesRemote(client, 'counter');
      let failures = 0;
      let done = 0;
      let rolling = true;
      const traffic = (async () => {
        while (rolling) {
          await client.host.request('counter', 'inc', { timeoutMs: 2000 }).then(
            () => done++,
            () => failures++,
          );
        }
      })();
      await new Promise((r) => setTimeout(r, 100));
      await a.cluster.deploy({ component: 'counter', version: '0.2.0' });
      await until(
        () =>
          a.cluster
            .status()
            .hosts.every((h) => h.capacity === 0 || h.addresses.counter?.versions.join() === '0.2.0'),
        20_000,
        'both hosts to serve counter 0.2.0',
      );
      await new Promise((r) => setTimeout(r, 100));
      rolling = false;
      await traffic;
      expect(failures).toBe(0);
      expect(done).toBeGreaterThan(10);
      // One host after the other: the second switch started after the first ended.
      const switches = [a, b]
        .map((m) => m.deployer.deployments.list('counter').find((d) => d.toSemver === '0.2.0')!)
        .map((d) => ({ from: d.history[0].at, to: d.history[d.history.length - 1].at }))
        .sort((x, y) => x.from - y.from);
      expect(switches[1].from).toBeGreaterThanOrEqual(switches[0].to);
    } finally {
      await client.close();
    }
  }, 30_000);
});
