// The daemon runs components of the WASI worlds too: a wasi:http/proxy component served at its
// [http] routes on the host's HTTP listener (one request message each), a wasi:cli/command
// component run as jobs; install checks the declared world against the binary and refuses a
// route another component claims. Runs against dist/ (built by `npm test` before vitest): the
// scheduler threads load compiled JS.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Daemon, startDaemon } from '../../dist/daemon/daemon.js';
import type { DaemonEvent } from '../../dist/daemon/event-hub.js';
import { hasJspi } from '../../src/shared/node-runtime.js';
import { cComponent } from '../support/c-component.js';
import { ROOT } from '../support/fixtures.js';
import { socketsProbe } from '../support/sockets-probe.js';
import { tempDir } from '../support/temp.js';
import { SLEEP } from '../support/wasi-c-programs.js';

const BUILD = join(ROOT, 'fixtures', 'build');
const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.close();
  delete process.env.AIRSSYS_GUEST_THREADS;
});

/**
 * The ways a waiting guest leaves its scheduler thread to the others: JSPI where Node.js has it,
 * threads of their own where it does not (22), and on a JSPI line the thread path too, forced by
 * `AIRSSYS_GUEST_THREADS=1` (read when an actor is made; scheduler threads copy the environment).
 */
const GUEST_PATHS = hasJspi()
  ? [
      { path: 'JSPI', force: false },
      { path: 'threads of their own (forced)', force: true },
    ]
  : [{ path: 'threads of their own', force: false }];

function useGuestPath(force: boolean): void {
  if (force) process.env.AIRSSYS_GUEST_THREADS = '1';
}

/** A component folder: a fixture's binary (or a .wasm file) under a manifest written here. */
function folder(fixture: string, manifest: string): string {
  const dir = tempDir(`world-${fixture.replace(/\W/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  const wasm = fixture.endsWith('.wasm') ? fixture : join(BUILD, fixture, 'component.wasm');
  copyFileSync(wasm, join(dir, 'component.wasm'));
  writeFileSync(join(dir, 'Component.toml'), manifest);
  return dir;
}

function httpManifest(name: string, routes: string[], extra = ''): string {
  return `[component]
name = "${name}"
version = "0.1.0"
wasm = "component.wasm"
world = "wasi:http/proxy@0.2.10"

[resources]
memory = "64MiB"
fuel = 2_000_000_000
timeout-ms = 2000

[http]
routes = ${JSON.stringify(routes)}
${extra}`;
}

const WC = `[component]
name = "wc"
version = "0.1.0"
wasm = "component.wasm"
world = "wasi:cli/command@0.2.0"

[resources]
memory = "1MiB"
timeout-ms = 5000
`;

async function start(threads = 0) {
  const daemon = await startDaemon({
    dataDir: tempDir('daemon-worlds'),
    port: 0,
    threads,
    maxMemoryBytes: 64 * 1024 * 1024,
    httpListen: { bind: '127.0.0.1', port: 0 },
  });
  daemons.push(daemon);
  const events: DaemonEvent[] = [];
  daemon.events.watch((e) => events.push(e));
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${daemon.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${daemon.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  return { daemon, api, events, http: daemon.http!.url };
}

describe('daemon: wasi:http/proxy components at their [http] routes', () => {
  it('answers matched routes through the component and the host answers the rest (on a scheduler thread)', async () => {
    const { daemon, api, events, http } = await start(1);
    await daemon.deployer.install(
      folder('js-http-hello', httpManifest('hello', ['/hello', '/echo', '/throw', '/loop'])),
    );
    await daemon.deployer.deploy('hello');

    const hello = await fetch(`${http}/hello?name=daemon`);
    expect(hello.status).toBe(200);
    expect(hello.headers.get('x-served-by')).toBe('js-http-hello');
    expect(await hello.text()).toBe('hello daemon');

    const echo = await fetch(`${http}/echo`, {
      method: 'POST',
      body: 'ping',
      headers: { 'content-type': 'text/x-test' },
    });
    expect(await echo.text()).toBe('ping');
    expect(echo.headers.get('x-echo-method')).toBe('POST');
    expect(echo.headers.get('content-type')).toBe('text/x-test');

    // No route: the host answers; the component never sees it.
    const none = await fetch(`${http}/status`);
    expect(none.status).toBe(404);

    // A guest failure: 500 with the code only, an event, and the next request is served.
    const thrown = await fetch(`${http}/throw`);
    expect(thrown.status).toBe(500);
    expect(await thrown.text()).toMatch(/^internal server error \[trap\]/);
    expect(
      events.some((e) => e.type === 'log' && e.address === 'hello' && /GET \/throw: 500/.test(e.message)),
    ).toBe(true);
    const loop = await fetch(`${http}/loop`);
    expect(loop.status).toBe(500);
    expect(await loop.text()).toMatch(/\[(out-of-fuel|timeout)\]/);
    expect((await fetch(`${http}/hello`)).status).toBe(200);

    // Counted like messages, listed by the API, in the metrics.
    const routes = await api('GET', '/v1/http/routes');
    expect(routes.body.routes).toContainEqual({ route: '/hello', address: 'hello' });
    const metrics = await (
      await fetch(`${daemon.url}/v1/metrics`, { headers: { authorization: `Bearer ${daemon.token}` } })
    ).text();
    expect(metrics).toMatch(/airssys_http_responses_total\{address="hello",status="200"\} [3-9]/);
    expect(metrics).toMatch(/airssys_messages_handled_total\{address="hello"[^}]*\} [5-9]/);
  }, 120_000);

  it('refuses a body over [http] max-body with 413 before the guest runs', async () => {
    const { daemon, http } = await start();
    await daemon.deployer.install(
      folder('js-http-hello', httpManifest('hello', ['/echo'], 'max-body = "1KiB"\n')),
    );
    await daemon.deployer.deploy('hello');
    const big = await fetch(`${http}/echo`, { method: 'POST', body: 'x'.repeat(4096) });
    expect(big.status).toBe(413);
    expect((await fetch(`${http}/echo`, { method: 'POST', body: 'small' })).status).toBe(200);
  }, 120_000);

  it('a prefix route serves everything below it; an exact route of another component wins', async () => {
    const { daemon, http } = await start();
    await daemon.deployer.install(folder('js-http-hello', httpManifest('all', ['/...'])));
    await daemon.deployer.deploy('all');
    const below = await fetch(`${http}/status?code=201`);
    expect(below.status).toBe(201);
    await daemon.deployer.install(folder('js-http-hello', httpManifest('exact', ['/hello'])));
    await daemon.deployer.deploy('exact');
    expect((await fetch(`${http}/hello`)).status).toBe(200);
    expect(daemon.http!.counts()).toEqual(
      expect.arrayContaining([
        { address: 'all', status: 201, count: 1 },
        { address: 'exact', status: 200, count: 1 },
      ]),
    );
    // Another name claiming the same route is an install error naming the owner.
    await expect(
      daemon.deployer.install(folder('js-http-hello', httpManifest('other', ['/...']))),
    ).rejects.toMatchObject({
      code: 'invalid-manifest',
      message: expect.stringMatching(/http\.routes: "\/\.\.\." is already the route of all@0\.1\.0/),
    });
  }, 120_000);
});

describe('daemon: outgoing requests of an HTTP service', () => {
  let upstream: Server;
  let port: number;
  beforeAll(async () => {
    upstream = createServer((req, res) => {
      // /slow answers after 600 ms: long enough to see whether the thread waited with it.
      setTimeout(() => res.end(`upstream ${req.url}`), req.url === '/slow' ? 600 : 0);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    port = (upstream.address() as { port: number }).port;
  });
  afterAll(async () => {
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });
  const fetchVia = (http: string, route: string, path: string) =>
    fetch(`${http}${route}?url=${encodeURIComponent(`http://127.0.0.1:${port}${path}`)}`);

  it.each(GUEST_PATHS)(
    "on $path go out on the manifest's network.outbound grants; anything else is refused and audited",
    async ({ force }) => {
      useGuestPath(force);
      const granted = await start(1);
      const grant = `[permissions]\nnetwork = { outbound = ["127.0.0.1:${port}"] }\n`;
      await granted.daemon.deployer.install(
        folder('js-http-hello', httpManifest('granted', ['/fetch'], grant)),
      );
      await granted.daemon.deployer.deploy('granted');
      const ok = await fetchVia(granted.http, '/fetch', '/data');
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('upstream /data');
      await expect
        .poll(
          async () =>
            (await granted.api('GET', '/v1/audit?component=granted&decision=allow')).body.records.length,
          { timeout: 5000 },
        )
        .toBeGreaterThan(0);

      // The same component without the grant: its fetch fails, the host answers 500 and audits.
      const bare = await start(1);
      await bare.daemon.deployer.install(folder('js-http-hello', httpManifest('bare', ['/fetch'])));
      await bare.daemon.deployer.deploy('bare');
      const refused = await fetchVia(bare.http, '/fetch', '/data');
      expect(refused.status).toBe(500);
      // The record crosses from the scheduler thread beside the reply, not before it: poll.
      await expect
        .poll(async () => (await bare.api('GET', '/v1/audit?component=bare&decision=deny')).body.records, {
          timeout: 5000,
        })
        .toContainEqual(
          expect.objectContaining({ operation: 'wasi.http.outgoing-handler.handle', decision: 'deny' }),
        );
    },
    120_000,
  );

  it.each(GUEST_PATHS)(
    'on $path a service waiting for its upstream leaves the thread to the others',
    async ({ force }) => {
      useGuestPath(force);
      const { daemon, http, events } = await start(1);
      const grant = `[permissions]\nnetwork = { outbound = ["127.0.0.1:${port}"] }\n`;
      await daemon.deployer.install(
        folder('js-http-hello', httpManifest('waiter', ['/fetch', '/log'], grant)),
      );
      await daemon.deployer.install(folder('wat-http-hello', httpManifest('quick', ['/quick'])));
      await daemon.deployer.deploy('waiter');
      await daemon.deployer.deploy('quick');
      expect((await fetch(`${http}/quick`)).status).toBe(200); // warm

      const started = performance.now();
      const slow = fetchVia(http, '/fetch', '/slow').then((r) => ({
        status: r.status,
        at: performance.now() - started,
      }));
      await new Promise((r) => setTimeout(r, 100));
      const quick = await fetch(`${http}/quick`);
      const quickAt = performance.now() - started;
      expect(await quick.text()).toBe('hello world');
      const waited = await slow;
      expect(waited.status).toBe(200);
      // Blocking the thread would have held /quick until the upstream answered (600 ms).
      expect(quickAt).toBeLessThan(waited.at - 200);
      // What the guest writes reaches the log, whichever thread it runs on.
      expect(await (await fetch(`${http}/log?msg=hi`)).text()).toBe('logged');
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'log', address: 'waiter', message: 'log route: hi' }),
      );
    },
    120_000,
  );
});

describe.each(GUEST_PATHS)('daemon: wasi:cli/command components as jobs, on $path', ({ force }) => {
  it("connects with wasi:sockets on the manifest's network.outbound, and is refused (and audited) without it", async () => {
    useGuestPath(force);
    const listener = createNetServer((c) => c.end());
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    try {
      const tcpPort = (listener.address() as { port: number }).port;
      const probe = join(tempDir('world-probe'), 'probe.wasm');
      writeFileSync(probe, await socketsProbe({ port: tcpPort }));
      const manifest = (name: string, permissions: string) =>
        `[component]\nname = "${name}"\nversion = "0.1.0"\nwasm = "component.wasm"\n[resources]\nmemory = "1MiB"\n${permissions}`;
      const { daemon, api } = await start(1);
      await daemon.deployer.install(
        folder(
          probe,
          manifest('dialer', `[permissions]\nnetwork = { outbound = ["127.0.0.1:${tcpPort}"] }\n`),
        ),
      );
      await daemon.deployer.install(folder(probe, manifest('mute', '')));
      await daemon.deployer.deploy('dialer');
      await daemon.deployer.deploy('mute');
      expect((await api('POST', '/v1/addresses/dialer/run', {})).body).toMatchObject({ ok: true, status: 0 });
      expect((await api('POST', '/v1/addresses/mute/run', {})).body).toMatchObject({ ok: true, status: 1 });
      await expect
        .poll(async () => (await api('GET', '/v1/audit?component=mute&decision=deny')).body.records, {
          timeout: 5000,
        })
        .toContainEqual(expect.objectContaining({ operation: 'wasi.sockets.tcp.connect', decision: 'deny' }));
    } finally {
      await new Promise((r) => listener.close(r));
    }
  }, 120_000);

  it('runs one to completion per request: stdin in, output to the log, status in the reply and an event', async () => {
    useGuestPath(force);
    const { daemon, api, events } = await start();
    await daemon.deployer.install(folder('c-wc', WC));
    await daemon.deployer.deploy('wc');
    const run = await api('POST', '/v1/addresses/wc/run', { stdin: 'one two\nthree\n' });
    expect(run.body).toMatchObject({ ok: true, status: 0 });
    expect(
      events.some((e) => e.type === 'log' && e.address === 'wc' && /^\s+2\s+3\s+14$/.test(e.message)),
    ).toBe(true);
    expect(events).toContainEqual(expect.objectContaining({ type: 'job', address: 'wc', status: 0 }));

    // A file it cannot open (nothing is preopened): wc's own exit status 1, its message in the log.
    const missing = await api('POST', '/v1/addresses/wc/run', { args: ['/etc/passwd'] });
    expect(missing.body).toMatchObject({ ok: true, status: 1 });
    expect(
      events.some((e) => e.type === 'log' && e.address === 'wc' && /wc: \/etc\/passwd:/.test(e.message)),
    ).toBe(true);

    const bad = await api('POST', '/v1/addresses/wc/run', { args: 'not a list' });
    expect(bad.status).toBe(400);
  }, 60_000);
});

describe.each(GUEST_PATHS)('daemon: a waiting job on $path', ({ force }) => {
  it('does not hold its scheduler thread: two sleeping jobs on one thread overlap', async () => {
    useGuestPath(force);
    const { daemon, api } = await start(1);
    const sleeper = await cComponent(SLEEP, { kind: 'command' });
    for (const name of ['nap-a', 'nap-b']) {
      await daemon.deployer.install(folder(sleeper, WC.replace('name = "wc"', `name = "${name}"`)));
      await daemon.deployer.deploy(name);
    }
    const started = performance.now();
    const runs = await Promise.all(
      ['nap-a', 'nap-b'].map((name) => api('POST', `/v1/addresses/${name}/run`, { args: ['u', '400000'] })),
    );
    const elapsed = performance.now() - started;
    for (const run of runs) expect(run.body).toMatchObject({ ok: true, status: 0 });
    // One after the other they would take 800 ms and more.
    expect(elapsed).toBeLessThan(750);
  }, 60_000);
});

describe('install checks the declared world against the binary', () => {
  it('refuses a mismatch and a typo, naming both', async () => {
    const { daemon } = await start();
    await expect(
      daemon.deployer.install(folder('c-wc', WC.replace('wasi:cli/command@0.2.0', 'wasi:http/proxy@0.2.0'))),
    ).rejects.toMatchObject({
      code: 'invalid-manifest',
      message: expect.stringMatching(
        /declares "wasi:http\/proxy@0\.2\.0", but the binary does not export wasi:http\/incoming-handler.*wasi:cli\/command component/,
      ),
    });
    await expect(
      daemon.deployer.install(folder('c-wc', WC.replace('wasi:cli/command', 'wasi:cli/comand'))),
    ).rejects.toMatchObject({
      code: 'invalid-manifest',
      message: expect.stringMatching(/knows no world wasi:cli\/comand/),
    });
    await expect(
      daemon.deployer.install(folder('c-wc', WC.replace('@0.2.0', '@0.3.0'))),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/WASI 0\.3 is not supported yet/),
    });
    // Nothing was stored.
    expect(daemon.deployer.registry.list()).toEqual([]);
  }, 60_000);
});
