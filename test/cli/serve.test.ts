// `airssys-wasm serve` of the js-http-hello fixture (componentize-js, a `fetch` event listener):
// real requests over real sockets, the host's own refusals (400, 413, 503), guest failures (500,
// the server staying up), and a differential check against `jco serve` of the same component.
// Spawns the built CLI: run `npm run build` (and `node scripts/build-fixtures.mjs js-http-hello`) first.

import { spawn } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../support/fixtures.js';
import { CLI, jcoServe, type Running, serveCli } from '../support/server-process.js';
import { tempDir } from '../support/temp.js';

let cacheDir: string;

function serve(component: string, ...flags: string[]): Promise<Running> {
  return serveCli(component, cacheDir, ...flags);
}

/** Sends raw bytes and returns everything the server answered before closing or `ms` passed. */
function raw(url: string, bytes: string, ms = 3000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let got = '';
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on('data', (d) => {
      got += d.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

/** Waits until `text()` matches, for output a child writes after it answered. */
async function eventually(text: () => string, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 100 && !pattern.test(text()); i++) await new Promise((r) => setTimeout(r, 20));
  expect(text()).toMatch(pattern);
}

let server: Running;
let component: string;

beforeAll(async () => {
  cacheDir = tempDir('serve-cache');
  component = fixture('js-http-hello');
  server = await serve(component, '--max-body', '64KiB', '--json');
});

afterAll(async () => {
  await server?.stop();
});

describe('airssys-wasm serve: a wasi:http/proxy component over HTTP', () => {
  it('prints the address it listens on', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.stderr()).toMatch(/^serving js-http-hello on http:\/\/127\.0\.0\.1:\d+$/m);
  });

  it('with --json, also prints {ok, url, component} as the first line of stdout', async () => {
    await eventually(server.stdout, /\n/);
    expect(JSON.parse(server.stdout().split('\n')[0])).toEqual({
      ok: true,
      url: server.url,
      component: 'js-http-hello',
    });
  });

  it('answers GET /hello?name=X with "hello X" and the headers the guest set', async () => {
    const res = await fetch(`${server.url}/hello?name=X`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-served-by')).toBe('js-http-hello');
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(await res.text()).toBe('hello X');
  });

  it('passes the query through as the guest decodes it (UTF-8, escapes)', async () => {
    const res = await fetch(`${server.url}/hello?name=${encodeURIComponent('été & co')}`);
    expect(await res.text()).toBe('hello été & co');
  });

  it('echoes a POST body byte for byte, with the request method and content-type seen by the guest', async () => {
    const body = new Uint8Array(40_000).map((_, i) => (i * 7) % 256);
    const res = await fetch(`${server.url}/echo`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-test' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-echo-method')).toBe('POST');
    expect(res.headers.get('x-echo-length')).toBe('40000');
    expect(res.headers.get('content-type')).toBe('application/x-test');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(body);
  });

  it('echoes a PUT with an empty body', async () => {
    const res = await fetch(`${server.url}/echo`, { method: 'PUT', body: '' });
    expect(res.headers.get('x-echo-method')).toBe('PUT');
    expect(await res.text()).toBe('');
  });

  it("sends the guest's status code and its 404 for an unknown route", async () => {
    const created = await fetch(`${server.url}/status?code=201`);
    expect(created.status).toBe(201);
    expect(await created.text()).toBe('teapot');
    const missing = await fetch(`${server.url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('not found');
  });

  it("writes the guest's console.log to the process's stdout", async () => {
    const res = await fetch(`${server.url}/log?msg=from-the-guest`);
    expect(await res.text()).toBe('logged');
    await eventually(server.stdout, /log route: from-the-guest/);
  });

  it('answers a malformed request 400 without calling the guest', async () => {
    const answer = await raw(server.url, 'GET /hello HTTP/1.1\r\nHost: x\r\nbad header line\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const garbage = await raw(server.url, 'NOT HTTP AT ALL\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('answers headers over 16 KiB 431 without calling the guest', async () => {
    const answer = await raw(
      server.url,
      `GET /hello HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('answers HEAD with the head the guest set and no body', async () => {
    const res = await fetch(`${server.url}/hello?name=X`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-served-by')).toBe('js-http-hello');
    expect(await res.text()).toBe('');
  });

  it('answers a body over --max-body 413 without calling the guest', async () => {
    const res = await fetch(`${server.url}/echo`, { method: 'POST', body: new Uint8Array(64 * 1024 + 1) });
    expect(res.status).toBe(413);
    expect(await res.text()).toMatch(/request body over 65536 bytes/);
    const exact = await fetch(`${server.url}/echo`, { method: 'POST', body: new Uint8Array(64 * 1024) });
    expect(exact.headers.get('x-echo-length')).toBe('65536');
  });

  it('answers a chunked body that grows past --max-body 413', async () => {
    const chunk = 'x'.repeat(40_000);
    const hex = chunk.length.toString(16);
    const answer = await raw(
      server.url,
      `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${hex}\r\n${chunk}\r\n${hex}\r\n${chunk}\r\n0\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('a guest that throws gets 500 naming only the error code; the error goes to stderr', async () => {
    const res = await fetch(`${server.url}/throw`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).toBe('internal server error [trap]\n');
    expect(text).not.toMatch(/throw route/);
    await eventually(server.stderr, /^error \[trap\]: GET \/throw: /m);
  });

  it('a guest that loops runs out of fuel: 500 [out-of-fuel], and the server answers the next request', async () => {
    const res = await fetch(`${server.url}/loop`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('internal server error [out-of-fuel]\n');
    await eventually(server.stderr, /^error \[out-of-fuel\]: GET \/loop: /m);
    const next = await fetch(`${server.url}/hello?name=after`);
    expect(await next.text()).toBe('hello after');
  });

  it('serves requests sent at once, each with its own answer', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `n${i}`);
    const bodies = await Promise.all(
      names.map(async (n) => (await fetch(`${server.url}/hello?name=${n}`)).text()),
    );
    expect(bodies).toEqual(names.map((n) => `hello ${n}`));
  });
});

describe('airssys-wasm serve: fresh instances from a pool, and --threads (wat-http-hello)', () => {
  const wat = () => fixture('wat-http-hello');

  it('every request gets an instance no request used before; --reuse-instance keeps one', async () => {
    const fresh = await serve(wat(), '--pool', '1');
    const reused = await serve(wat(), '--reuse-instance');
    try {
      const counts = async (url: string) => {
        const out: string[] = [];
        for (let i = 0; i < 4; i++) out.push(await (await fetch(`${url}/count`)).text());
        return out;
      };
      expect(await counts(fresh.url)).toEqual(['1', '1', '1', '1']);
      expect(await counts(reused.url)).toEqual(['1', '2', '3', '4']);
    } finally {
      await fresh.stop();
      await reused.stop();
    }
  });

  it('--threads 2 runs two slow requests at once', async () => {
    const threaded = await serve(wat(), '--threads', '2');
    try {
      const started = performance.now();
      const answers = await Promise.all(
        [0, 1].map(() => fetch(`${threaded.url}/spin`).then((r) => r.text())),
      );
      const ms = performance.now() - started;
      expect(answers).toEqual(['hello world', 'hello world']);
      // Each spins 300 ms of guest work: one after the other would take 600 ms or more.
      expect(ms).toBeLessThan(560);
    } finally {
      await threaded.stop();
    }
  });

  it('--threads: a trap in one thread is a 500, a guest loop ends at its budget, and the server stays up', async () => {
    const threaded = await serve(wat(), '--threads', '2');
    try {
      const trapped = await fetch(`${threaded.url}/trap`);
      expect(trapped.status).toBe(500);
      expect(await trapped.text()).toBe('internal server error [trap]\n');
      const looped = await fetch(`${threaded.url}/loop`);
      expect(looped.status).toBe(500);
      expect(await looped.text()).toMatch(/\[(out-of-fuel|timeout)\]/);
      await eventually(threaded.stderr, /error \[trap\]: GET \/trap: /);
      const answers = await Promise.all(
        [0, 1, 2, 3].map(() => fetch(`${threaded.url}/count`).then((r) => r.text())),
      );
      expect(answers).toEqual(['1', '1', '1', '1']);
    } finally {
      await threaded.stop();
    }
  });

  it('--threads with --max-concurrent 1: a second request while one runs gets 503', async () => {
    const threaded = await serve(wat(), '--threads', '2', '--max-concurrent', '1');
    try {
      const slow = fetch(`${threaded.url}/spin`);
      await new Promise((r) => setTimeout(r, 100));
      expect((await fetch(`${threaded.url}/`)).status).toBe(503);
      expect(await (await slow).text()).toBe('hello world');
    } finally {
      await threaded.stop();
    }
  });

  it('refuses --threads 0 and --pool -1 with a usage error', async () => {
    for (const flags of [
      ['--threads', '0'],
      ['--pool', '-1'],
    ]) {
      await expect(serve(wat(), ...flags)).rejects.toThrow(/expected a whole number of at least/);
    }
  });
});

describe('airssys-wasm serve: limits and start-up', () => {
  it('answers 503 past --max-concurrent while a request is still being read', async () => {
    const busy = await serve(component, '--max-concurrent', '1');
    try {
      const { hostname, port } = new URL(busy.url);
      // One request holds the only slot: its body is announced but not all sent yet.
      const slow = connect(Number(port), hostname);
      let slowAnswer = '';
      slow.on('data', (d) => {
        slowAnswer += d.toString();
      });
      await new Promise<void>((r) => slow.once('connect', () => r()));
      slow.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab');
      await new Promise((r) => setTimeout(r, 200));
      const refused = await fetch(`${busy.url}/hello?name=X`);
      expect(refused.status).toBe(503);
      expect(await refused.text()).toMatch(/server busy/);
      slow.write('cd');
      await eventually(() => slowAnswer, /\r\n\r\nabcd$/);
      slow.destroy();
      // The slot is free again.
      await new Promise((r) => setTimeout(r, 100));
      const next = await fetch(`${busy.url}/hello?name=Y`);
      expect(await next.text()).toBe('hello Y');
    } finally {
      await busy.stop();
    }
  });

  it('serves a bare .wasm with the host defaults (no Component.toml)', async () => {
    const dir = tempDir('serve-bare');
    const wasm = join(dir, 'hello-http.wasm');
    copyFileSync(join(component, 'component.wasm'), wasm);
    const bare = await serve(wasm);
    try {
      expect(bare.stderr()).toMatch(/serving hello-http on /);
      const res = await fetch(`${bare.url}/hello?name=bare`);
      expect(await res.text()).toBe('hello bare');
    } finally {
      await bare.stop();
    }
  });

  it("a guest past its timeout-ms gets 500 [timeout] (a Component.toml's limits apply)", async () => {
    const dir = tempDir('serve-timeout');
    copyFileSync(join(component, 'component.wasm'), join(dir, 'component.wasm'));
    writeFileSync(
      join(dir, 'Component.toml'),
      [
        '[component]',
        'name = "slow-http"',
        'version = "0.1.0"',
        'wasm = "component.wasm"',
        '[resources]',
        'memory = "64MiB"',
        'fuel = 1_000_000_000_000_000',
        'timeout-ms = 300',
        '',
      ].join('\n'),
    );
    const slow = await serve(dir);
    try {
      const started = performance.now();
      const res = await fetch(`${slow.url}/loop`);
      expect(res.status).toBe(500);
      expect(await res.text()).toBe('internal server error [timeout]\n');
      expect(performance.now() - started).toBeLessThan(5000);
      await eventually(slow.stderr, /^error \[timeout\]: GET \/loop: /m);
      expect(await (await fetch(`${slow.url}/hello?name=in-time`)).text()).toBe('hello in-time');
    } finally {
      await slow.stop();
    }
  });

  it('--reuse-instance: a handle that never sets its response gets 500, and that instance is dropped', async () => {
    // StarlingMonkey's fetch event answers one request per instance: the second call on the same
    // instance returns without response-outparam.set.
    const reusing = await serve(component, '--reuse-instance');
    try {
      expect(await (await fetch(`${reusing.url}/hello?name=1`)).text()).toBe('hello 1');
      const second = await fetch(`${reusing.url}/hello?name=2`);
      expect(second.status).toBe(500);
      expect(await second.text()).toBe('internal server error [trap]\n');
      await eventually(
        reusing.stderr,
        /^error \[trap\]: GET \/hello\?name=2: .*without calling response-outparam\.set/m,
      );
      expect(await (await fetch(`${reusing.url}/hello?name=3`)).text()).toBe('hello 3');
    } finally {
      await reusing.stop();
    }
  });

  it('refuses a component that does not export wasi:http/incoming-handler', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'serve', fixture('c-wc'), '--listen', '127.0.0.1:0', '--cache-dir', cacheDir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).not.toBe(0);
    expect(err).toMatch(/^error \[not-found\]: .*does not export wasi:http\/incoming-handler/m);
  });

  it('refuses a --listen it cannot parse with a usage error', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', component, '--listen', 'nowhere'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(err).toMatch(/--listen nowhere: expected HOST:PORT/);
  });
});

describe('airssys-wasm serve and jco serve: the same component, the same answers (slow)', () => {
  let jco: Running | undefined;

  beforeAll(async () => {
    // jco serve reuses one instance by default, and StarlingMonkey answers only one request per
    // instance there; a fresh instance per request is also what airssys-wasm serve does.
    jco = await jcoServe(join(component, 'component.wasm'));
  }, 120_000);

  afterAll(async () => {
    await jco?.stop();
  });

  const routes: [string, RequestInit?][] = [
    ['/hello?name=X'],
    ['/hello'],
    ['/status?code=201'],
    ['/nowhere'],
    ['/echo', { method: 'POST', body: 'abc123', headers: { 'content-type': 'text/x-test' } }],
  ];

  for (const [path, init] of routes) {
    it(`${init?.method ?? 'GET'} ${path}: same status, body and guest headers`, async () => {
      if (jco === undefined) throw new Error('jco serve did not start');
      const [ours, theirs] = await Promise.all([
        fetch(`${server.url}${path}`, init),
        fetch(`${jco.url}${path}`, init),
      ]);
      expect(ours.status).toBe(theirs.status);
      expect(await ours.text()).toBe(await theirs.text());
      for (const name of ['content-type', 'x-served-by', 'x-echo-method', 'x-echo-length']) {
        expect(ours.headers.get(name), name).toBe(theirs.headers.get(name));
      }
    });
  }
});
