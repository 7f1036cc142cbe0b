// What a hostile component can pass to the host services: every call answers `err` with the
// right code (or is ignored), nothing throws into the host, nothing reaches what it was not granted.
import { describe, expect, it } from 'vitest';
import { type ActorIdentity, hostServices } from '../../src/host/host-services.js';
import { HostNode, type LogEntry } from '../../src/host/node.js';
import type { AuditRecord } from '../../src/osl/audit/audit-log.js';
import { MemoryKeyValueStore } from '../../src/osl/kv/memory-store.js';
import { manifestWith } from '../support/manifest.js';

function setup(permissions: string[] = [], maxMessageBytes = 1024) {
  const logs: LogEntry[] = [];
  const audit: AuditRecord[] = [];
  const store = new MemoryKeyValueStore();
  const node = new HostNode({
    index: 0,
    depths: [new Int32Array(64)],
    store,
    maxMessageBytes,
    log: (e) => logs.push(e),
    audit: (r) => audit.push(r),
  });
  const manifest = manifestWith('evil', permissions);
  const me: ActorIdentity = { address: 'evil', version: 'v1', key: 1, manifest, current: undefined };
  return { services: hostServices(node, me), store, logs, node, audit };
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe('host services against a hostile component', () => {
  it('sends to odd addresses answer not-found or capability-denied, never throw', () => {
    const { services } = setup(['messaging = { send = [">"] }']);
    for (const target of ['', '../etc/passwd', 'x\u0000y', 'a'.repeat(100_000), 'host', '*', '>', 'a..b']) {
      const result = services.send(target, 0x55, bytes('x')) as { tag: string; val: { code: string } };
      expect(result.tag).toBe('err');
      expect(['not-found', 'capability-denied']).toContain(result.val.code);
    }
  });

  it('without a grant, send, request and publish are refused', () => {
    const { services } = setup();
    expect(services.send('anyone', 0x55, bytes('x'))).toMatchObject({
      tag: 'err',
      val: { code: 'capability-denied' },
    });
    expect(services.request('anyone', 0x55, bytes('x'), 100)).toMatchObject({
      tag: 'err',
      val: { code: 'capability-denied' },
    });
    expect(services.publish('a.b', 0x55, bytes('x'))).toMatchObject({
      tag: 'err',
      val: { code: 'capability-denied' },
    });
    expect(services.subscribe('a.>')).toMatchObject({ tag: 'err', val: { code: 'capability-denied' } });
  });

  it('every messaging and storage decision is audited once per subject, a flood of refusals once', () => {
    const { services, audit } = setup([
      'messaging = { send = ["orders.*"] }',
      'storage = { namespaces = ["mine"] }',
    ]);
    for (let i = 0; i < 1000; i++) services.send('payments', 0x55, bytes('x'));
    services.publish('orders.new', 0x55, bytes('x'));
    services.publish('orders.new', 0x55, bytes('x'));
    services.subscribe('events.>');
    services['storage-get']('theirs', 'k');
    services['storage-get']('theirs', 'k');
    services['storage-set']('mine', 'k', bytes('v'));
    const rows = audit.map((r) => [r.operation, r.subject, r.decision, r.code]);
    expect(rows).toEqual([
      ['messaging.send', 'payments', 'deny', 'capability-denied'],
      ['messaging.send', 'orders.new', 'allow', undefined],
      ['messaging.subscribe', 'events.>', 'deny', 'capability-denied'],
      ['storage.open', 'theirs', 'deny', 'capability-denied'],
      ['storage.open', 'mine', 'allow', undefined],
    ]);
    expect(audit[0]).toMatchObject({
      component: 'evil',
      version: 'v1',
      reason: expect.stringContaining('messaging.send'),
    });
  });

  it('a grant covers only what it names', () => {
    const { services } = setup(['messaging = { send = ["orders.*"], subscribe = ["events.orders"] }']);
    expect(services.publish('orders.new', 0x55, bytes('x'))).toEqual({ tag: 'ok' });
    expect(services.publish('orders.new.deep', 0x55, bytes('x'))).toMatchObject({
      tag: 'err',
      val: { code: 'capability-denied' },
    });
    expect(services.subscribe('events.orders')).toEqual({ tag: 'ok' });
    expect(services.subscribe('events.>')).toMatchObject({ tag: 'err', val: { code: 'capability-denied' } });
  });

  it('malformed patterns and topics are refused as errors', () => {
    const { services } = setup(['messaging = { send = [">"], subscribe = [">"] }']);
    expect(services.subscribe('a.>.b')).toMatchObject({ tag: 'err' });
    expect(services.subscribe('')).toMatchObject({ tag: 'err' });
    expect(services.publish('a.*', 0x55, bytes('x'))).toMatchObject({ tag: 'err' });
  });

  it('oversized payloads are refused at send', () => {
    const { services } = setup(['messaging = { send = [">"] }'], 16);
    services.subscribe('x');
    expect(services.publish('t', 0x55, new Uint8Array(17))).toMatchObject({
      tag: 'err',
      val: { code: 'messaging-error', message: expect.stringContaining('17 bytes') },
    });
  });

  it('storage outside the declared namespaces is refused whatever the name', () => {
    const { services, store } = setup(['storage = { namespaces = ["mine"], quota = "1KiB" }']);
    for (const ns of ['other', 'evil.other', '../mine', 'mine/..', 'MINE', '']) {
      expect(services['storage-set'](ns, 'k', bytes('v'))).toMatchObject({
        tag: 'err',
        val: { code: 'capability-denied' },
      });
    }
    // Keys are opaque: a path-like key stays inside the component's own namespace.
    expect(services['storage-set']('mine', '../other/k', bytes('v'))).toEqual({ tag: 'ok' });
    expect(store.namespace('evil.mine').get('../other/k')).toEqual(bytes('v'));
    expect(store.namespace('other').get('k')).toBeUndefined();
    expect(services['storage-set']('mine', 'nul\u0000key', bytes('v'))).toMatchObject({
      tag: 'err',
      val: { code: 'invalid-argument' },
    });
    expect(services['storage-set']('mine', 'big', new Uint8Array(2048))).toMatchObject({
      tag: 'err',
      val: { code: 'quota-exceeded' },
    });
    expect(services['storage-increment']('mine', '../other/k', 1n)).toMatchObject({
      tag: 'err',
      val: { code: 'invalid-argument' },
    });
  });

  it('reply to a request it never deferred is not-found; bad timeouts are invalid-argument', () => {
    const { services } = setup(['messaging = { send = [">"] }']);
    expect(services.reply(42n, 0x55, bytes('x'))).toMatchObject({ tag: 'err', val: { code: 'not-found' } });
    expect(services.request('x', 0x55, bytes('x'), 0)).toMatchObject({
      tag: 'err',
      val: { code: 'invalid-argument' },
    });
  });

  it('log floods are cut to a bounded size', () => {
    const { services, logs } = setup();
    services.log('info', 'x'.repeat(1_000_000));
    expect(logs).toHaveLength(1);
    expect(logs[0].message.length).toBeLessThanOrEqual(4097);
    expect(logs[0].address).toBe('evil');
  });

  it('config-get answers only the manifest config, not inherited properties', () => {
    const { services } = setup();
    expect(services['config-get']('__proto__')).toBeUndefined();
    expect(services['config-get']('constructor')).toBeUndefined();
  });
});
