// examples/http-fetch for real: a ComponentHost, the component with its manifest's one outbound
// grant pointed at a local server started here, and the refusals recorded in the audit log.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ComponentHost } from '../../src/host/index.js';
import { Engine } from '../../src/wasm/index.js';
import { editedExample, text } from './support.js';

const engine = new Engine();
const hosts: ComponentHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

let server: Server;
let port: number;
const seen: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers['user-agent']}`);
    if (req.url === '/missing') res.statusCode = 404;
    res.end(req.url === '/hello' ? 'hello from the test server\n' : `no ${req.url}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The example, its one grant moved from 127.0.0.1:8787 to this test's server. */
async function fetcher() {
  const dir = editedExample('http-fetch', (toml) =>
    toml.replace('outbound = ["127.0.0.1:8787"]', `outbound = ["127.0.0.1:${port}"]`),
  );
  const host = await ComponentHost.create({ threads: 0 });
  hosts.push(host);
  await host.start(await engine.load(dir));
  const fetch = async (url: string) =>
    text((await host.request('http-fetch', url, { timeoutMs: 5000 })).payload);
  return { host, fetch };
}

describe('examples/http-fetch', () => {
  it('fetches a granted URL and answers with the status and the body', async () => {
    const { fetch } = await fetcher();
    expect(await fetch(`http://127.0.0.1:${port}/hello`)).toBe('200\nhello from the test server\n');
    expect(await fetch(`http://127.0.0.1:${port}/missing`)).toBe('404\nno /missing\n');
    expect(seen).toContain('GET /hello airssys-http-fetch-example');
  });

  it('runs several fetches at once', async () => {
    const { fetch } = await fetcher();
    const bodies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => fetch(`http://127.0.0.1:${port}/n${i}`)),
    );
    expect(bodies).toEqual(Array.from({ length: 10 }, (_, i) => `200\nno /n${i}\n`));
  });

  it('gets capability-denied for another port or another name for the same address, and audits it', async () => {
    const { host, fetch } = await fetcher();
    const other = port === 65535 ? port - 1 : port + 1;
    for (const url of [`http://127.0.0.1:${other}/hello`, `http://localhost:${port}/hello`]) {
      await expect(fetch(url), url).rejects.toMatchObject({ code: 'capability-denied' });
    }
    const denied = host.audit({ component: 'http-fetch', decision: 'deny', operation: 'net.fetch' });
    expect(denied.map((r) => r.subject)).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`127.0.0.1:${other}`),
        expect.stringContaining('localhost'),
      ]),
    );
    // Refusals are answers, not failures: the instance is the one that started, and still serves.
    expect(await fetch(`http://127.0.0.1:${port}/hello`)).toBe('200\nhello from the test server\n');
    expect((await host.stats('http-fetch'))[0]).toMatchObject({ crashes: 0 });
    expect(host.audit({ component: 'http-fetch', decision: 'allow', operation: 'net.fetch' }).length).toBe(1);
  });

  it('passes on a malformed URL as invalid-argument', async () => {
    const { fetch } = await fetcher();
    await expect(fetch('not a url')).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});
