// `airssys-wasm serve` of the js-http-hello fixture's /fetch route: the guest's `fetch` goes out
// through wasi:http/outgoing-handler, judged by the egress policy, to an upstream node:http
// server in this test. Granted → the body comes through; not granted → the guest's fetch
// rejects (500 from the host) with a `denied` line, and the server stays up; an upstream past
// the call's timeout; a response over the body limit; `--allow-outbound` narrowing a manifest.
// Spawns the built CLI: run `npm run build` (and `node scripts/build-fixtures.mjs js-http-hello`) first.

import { spawn } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../support/fixtures.js';
import { CLI, jcoServe, type Running, serveCli } from '../support/server-process.js';
import { tempDir } from '../support/temp.js';

let cacheDir: string;

function serve(component: string, ...flags: string[]): Promise<Running> {
  return serveCli(component, cacheDir, ...flags);
}

/** Runs the CLI to its end; resolves with its exit code and stderr. */
function runCli(argv: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

async function eventually(text: () => string, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 100 && !pattern.test(text()); i++) await new Promise((r) => setTimeout(r, 20));
  expect(text()).toMatch(pattern);
}

let upstream: Server;
let upstreamPort: number;
let wasm: string;
let granted: Running;
let bare: Running;

/** A folder with the fixture and a Component.toml granting `outbound`. */
function withManifest(name: string, outbound: string[], timeoutMs = 2000): string {
  const dir = tempDir(name);
  copyFileSync(join(fixture('js-http-hello'), 'component.wasm'), join(dir, 'component.wasm'));
  writeFileSync(
    join(dir, 'Component.toml'),
    [
      '[component]',
      `name = "${name}"`,
      'version = "0.1.0"',
      'wasm = "component.wasm"',
      '[resources]',
      'memory = "64MiB"',
      'fuel = 2_000_000_000',
      `timeout-ms = ${timeoutMs}`,
      '[permissions]',
      `network = { outbound = ${JSON.stringify(outbound)} }`,
      '',
    ].join('\n'),
  );
  return dir;
}

beforeAll(async () => {
  cacheDir = tempDir('serve-outgoing-cache');
  upstream = createServer((req, res) => {
    if (req.url === '/slow') {
      const timer = setTimeout(() => res.end('too late'), 5000);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (req.url === '/huge') {
      // Announces more than the host's 16 MiB cap: refused from the head, before the body.
      res.writeHead(200, { 'content-length': String(17 * 1024 * 1024) });
      res.write('x'.repeat(1024));
      return;
    }
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'x-upstream': 'yes' });
      res.end(`upstream ${req.method} ${req.url} ${body}`);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upstreamPort = (upstream.address() as { port: number }).port;
  const dir = tempDir('serve-outgoing-bare');
  wasm = join(dir, 'fetcher.wasm');
  copyFileSync(join(fixture('js-http-hello'), 'component.wasm'), wasm);
  [granted, bare] = await Promise.all([
    serve(withManifest('fetcher', [`127.0.0.1:${upstreamPort}`])),
    serve(wasm),
  ]);
});

afterAll(async () => {
  await Promise.all([granted?.stop(), bare?.stop()]);
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
});

const fetchVia = (server: Running, target: string, query = '') =>
  fetch(`${server.url}/fetch?url=${encodeURIComponent(target)}${query}`);

describe('airssys-wasm serve: outgoing requests through the egress policy', () => {
  it("a request the manifest grants (127.0.0.1:PORT) goes out; the upstream's status and body come back", async () => {
    const res = await fetchVia(granted, `http://127.0.0.1:${upstreamPort}/hello?x=1`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('200 upstream GET /hello?x=1 ');
    expect(res.headers.get('x-upstream-status')).toBe('200');
  });

  it('sends the body the guest wrote (POST) and passes a 404 through as a response, not a failure', async () => {
    const posted = await fetchVia(granted, `http://127.0.0.1:${upstreamPort}/echo`, '&method=POST&body=abc');
    expect(await posted.text()).toBe('200 upstream POST /echo abc');
    const missing = await fetchVia(granted, `http://127.0.0.1:${upstreamPort}/missing`);
    expect(await missing.text()).toBe('404 upstream GET /missing ');
  });

  it('a request no grant covers fails in the guest (500 from the host), is printed as denied, and the server goes on', async () => {
    const res = await fetchVia(bare, `http://127.0.0.1:${upstreamPort}/secret`);
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/^internal server error \[/);
    await eventually(
      bare.stderr,
      /^denied wasi\.http\.outgoing-handler\.handle http:\/\/127\.0\.0\.1:\d+\/secret: capability-denied: no network grant covers/m,
    );
    expect(await (await fetch(`${bare.url}/hello?name=after`)).text()).toBe('hello after');
  });

  it('a granted name that resolves to loopback is refused: the policy judges the address, not the name', async () => {
    const res = await fetchVia(granted, `http://localhost:${upstreamPort}/x`);
    expect(res.status).toBe(500);
    await eventually(
      granted.stderr,
      /^denied wasi\.http\.outgoing-handler\.handle http:\/\/localhost:\d+\/x: /m,
    );
  });

  it('a response announcing more than the 16 MiB body limit fails the fetch (HTTP-response-body-size)', async () => {
    const res = await fetchVia(granted, `http://127.0.0.1:${upstreamPort}/huge`);
    expect(res.status).toBe(500);
    await eventually(
      granted.stderr,
      /^denied wasi\.http\.outgoing-handler\.handle .*\/huge: .*16777216-byte limit/m,
    );
    expect((await fetchVia(granted, `http://127.0.0.1:${upstreamPort}/ok`)).status).toBe(200);
  });

  it("an upstream slower than the call's timeout-ms ends the call with timeout; the server answers the next", async () => {
    const quick = await serve(withManifest('fetcher-quick', [`127.0.0.1:${upstreamPort}`], 400));
    try {
      const started = performance.now();
      const res = await fetchVia(quick, `http://127.0.0.1:${upstreamPort}/slow`);
      expect(res.status).toBe(500);
      expect(await res.text()).toBe('internal server error [timeout]\n');
      expect(performance.now() - started).toBeLessThan(3000);
      expect(await (await fetchVia(quick, `http://127.0.0.1:${upstreamPort}/ok`)).text()).toBe(
        '200 upstream GET /ok ',
      );
    } finally {
      await quick.stop();
    }
  });

  it('--allow-outbound grants a bare .wasm exactly that place', async () => {
    const allowed = await serve(wasm, '--allow-outbound', `127.0.0.1:${upstreamPort}`);
    try {
      expect(await (await fetchVia(allowed, `http://127.0.0.1:${upstreamPort}/flag`)).text()).toBe(
        '200 upstream GET /flag ',
      );
      expect((await fetchVia(allowed, `http://127.0.0.2:${upstreamPort}/flag`)).status).toBe(500);
    } finally {
      await allowed.stop();
    }
  });

  it('with a Component.toml, --allow-outbound may only narrow network.outbound (a usage error otherwise)', async () => {
    const dir = withManifest('fetcher-narrow', ['*.example.com', `127.0.0.1:${upstreamPort}`]);
    const wider = await runCli([
      'serve',
      dir,
      '--listen',
      '127.0.0.1:0',
      '--max-memory',
      '64MiB',
      '--allow-outbound',
      'example.org',
    ]);
    expect(wider.code).toBe(2);
    expect(wider.stderr).toMatch(
      /--allow-outbound example\.org: fetcher-narrow's Component\.toml does not grant it/,
    );
    const narrowed = await serve(dir, '--allow-outbound', 'api.example.com:443');
    try {
      // Narrowed to api.example.com: the manifest's 127.0.0.1 grant no longer applies.
      expect((await fetchVia(narrowed, `http://127.0.0.1:${upstreamPort}/x`)).status).toBe(500);
      await eventually(narrowed.stderr, /^denied .*no network grant covers 127\.0\.0\.1:\d+/m);
    } finally {
      await narrowed.stop();
    }
  });
});

describe('airssys-wasm serve and jco serve: the same /fetch answer (slow)', () => {
  let jco: Running | undefined;

  beforeAll(async () => {
    jco = await jcoServe(wasm);
  }, 120_000);

  afterAll(async () => {
    await jco?.stop();
  });

  it('GET /fetch of a granted upstream: same status and body', async () => {
    if (jco === undefined) throw new Error('jco serve did not start');
    const target = `http://127.0.0.1:${upstreamPort}/same`;
    const [ours, theirs] = await Promise.all([fetchVia(granted, target), fetchVia(jco, target)]);
    expect(ours.status).toBe(theirs.status);
    expect(await ours.text()).toBe(await theirs.text());
  });
});
