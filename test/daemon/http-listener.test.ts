// The daemon's HTTP listener on the wire: what node:http parses and the host answers before any
// guest runs, and an absolute-form request target (`GET http://host/path`, what a proxy sends)
// routed and passed on by its path. Runs against dist/ (built by `npm test` before vitest).
import { copyFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Daemon, startDaemon } from '../../dist/daemon/daemon.js';
import { fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

let daemon: Daemon;
let port: number;

/**
 * Sends `raw` as it is and resolves everything the listener answered until it closed (each
 * request asks `connection: close`, or is one the host answers and closes). The socket is not
 * half-closed after the write: node:http may drop a request whose client ended before the
 * (slower, off-thread on Node.js 22) answer.
 */
function exchange(raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

beforeAll(async () => {
  daemon = await startDaemon({
    dataDir: tempDir('daemon-http-listener'),
    port: 0,
    threads: 0,
    httpListen: { bind: '127.0.0.1', port: 0 },
  });
  const dir = tempDir('listener-wat-http-hello');
  copyFileSync(join(fixture('wat-http-hello'), 'component.wasm'), join(dir, 'component.wasm'));
  writeFileSync(
    join(dir, 'Component.toml'),
    '[component]\nname = "counter"\nversion = "0.1.0"\nwasm = "component.wasm"\n[resources]\nmemory = "1MiB"\n[http]\nroutes = ["/count"]\n',
  );
  await daemon.deployer.install(dir);
  await daemon.deployer.deploy('counter');
  port = Number(new URL(daemon.http!.url).port);
}, 60_000);

afterAll(async () => {
  await daemon?.close();
});

describe('the daemon HTTP listener', () => {
  it('routes an absolute-form request by its path', async () => {
    const answer = await exchange(
      'GET http://example.test/count HTTP/1.1\r\nhost: example.test\r\nconnection: close\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toMatch(/\r\n\r\n1\r\n1\r\n0\r\n\r\n$/); // chunked "1": a fresh instance's first request
  });

  it('answers 400 to a request node:http cannot parse, and goes on serving', async () => {
    expect(await exchange('NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await exchange('GET /count HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 200 /,
    );
  });

  it('answers 431 to oversized headers', async () => {
    const big = `x-big: ${'a'.repeat(20_000)}\r\n`;
    expect(await exchange(`GET /count HTTP/1.1\r\nhost: x\r\n${big}\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
  });
});
