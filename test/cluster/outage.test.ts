// The NATS server is the cluster's only shared part: when it goes away, each host keeps serving
// its own components, messages to other hosts fail with the usual codes, and nothing crashes;
// when it comes back on the same address, the hosts find each other again and messages flow.
// Also: a message too large for NATS's max_payload is refused with its reason.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../../src/cluster/cluster.js';
import { joinMember, type Member, until } from '../support/cluster.js';
import { fixture } from '../support/fixtures.js';
import { type NatsServer, startNats } from '../support/nats-server.mjs';
import { tempDir } from '../support/temp.js';
import { variant } from '../support/variant.js';

const text = new TextDecoder();
let nats: NatsServer;
let a: Member;
let b: Member;

beforeAll(async () => {
  nats = await startNats();
  a = await joinMember(nats.url, 'a');
  b = await joinMember(nats.url, 'b');
  await a.deployer.install(fixture('echo'));
  await a.deployer.deploy('echo');
  await until(
    () => b.cluster.status().hosts.some((h) => h.id === 'a' && h.addresses.echo !== undefined),
    5000,
    'b to see echo on a',
  );
}, 20_000);

afterAll(async () => {
  await b?.close();
  await a?.close();
  await nats?.stop();
});

describe('cluster — NATS outage and limits', () => {
  it('refuses a request whose payload cannot fit in one NATS message, with message-too-large', async () => {
    const big = new Uint8Array(b.host.maxMessageBytes); // at the host's cap, over NATS's 1 MiB with the frame
    await expect(b.host.request('echo', big, { timeoutMs: 2000 })).rejects.toMatchObject({
      code: 'messaging-error',
      message: expect.stringContaining('max_payload'),
    });
    expect(text.decode((await b.host.request('echo', 'small', { timeoutMs: 2000 })).payload)).toBe('small');
  });

  it('keeps both hosts up while the NATS server is down, and reconnects when it is back', async () => {
    const { port, dir } = nats;
    await nats.stop({ keepData: true });
    // The host that runs echo still serves it locally.
    expect(text.decode((await a.host.request('echo', 'local', { timeoutMs: 1000 })).payload)).toBe('local');
    // The other host loses sight of it: a timeout while a is still thought alive, then not-found.
    await expect(b.host.request('echo', 'x', { timeoutMs: 200 })).rejects.toMatchObject({
      code: expect.stringMatching(/^(timeout|not-found)$/),
    });
    await until(() => b.cluster.status().hosts.length === 1, 5000, 'b to declare a lost');
    await expect(b.host.request('echo', 'x', { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'not-found',
    });

    nats = await startNats({ port, dir });
    await until(() => b.cluster.status().hosts.length === 2, 15_000, 'the hosts to meet again');
    await until(
      async () =>
        b.host.request('echo', 'again', { timeoutMs: 300 }).then(
          (r) => text.decode(r.payload) === 'again',
          () => false,
        ),
      10_000,
      'echo to answer across hosts again',
    );
    // The shared deployments survived the restart (JetStream keeps them on disk).
    await a.deployer.install(fixture('counter'));
    await a.cluster.deploy({ component: 'counter', instances: 2 });
    await until(() => [a, b].every((m) => m.host.addresses().includes('counter')), 10_000, 'counter on both');
  }, 40_000);

  it('a host that was down while an address was undeployed stops it when it rejoins', async () => {
    const dataDir = tempDir('cluster-c');
    let c = await joinMember(nats.url, 'c', { dataDir });
    await a.deployer.install(variant('echo', { name: 'gone' }));
    await a.cluster.deploy({ component: 'gone', instances: 3 });
    await until(
      () => [a, b, c].every((m) => m.host.addresses().includes('gone')),
      10_000,
      'gone on a, b and c',
    );
    await c.close();
    await a.cluster.undeploy('gone');
    await until(
      () => [a, b].every((m) => !m.host.addresses().includes('gone')),
      10_000,
      'gone stopped on a and b',
    );
    c = await joinMember(nats.url, 'c', { dataDir, recover: true });
    try {
      // c brought it back from its own records at restart, then learned it is no longer deployed.
      await until(() => !c.host.addresses().includes('gone'), 10_000, 'c to stop gone');
    } finally {
      await c.close();
    }
  }, 40_000);

  it('a host leaves promptly when the NATS server is gone (nothing waits for a reconnection)', async () => {
    const lonely = await startNats();
    const member = await joinMember(lonely.url, 'lonely');
    await lonely.stop();
    const started = performance.now();
    await member.close();
    expect(performance.now() - started).toBeLessThan(8000);
  }, 20_000);

  it('a NATS server that cannot be reached is messaging-error, with no credentials from the URL in the message', async () => {
    const error = await Cluster.connect({
      url: 'nats://alice:s3cret@127.0.0.1:1',
      hostId: 'x',
      key: new Uint8Array(32),
    }).catch((e) => e);
    expect(error).toMatchObject({ code: 'messaging-error' });
    expect(error.message).toContain('nats://…@127.0.0.1:1');
    expect(error.message).not.toContain('s3cret');
  });
});
