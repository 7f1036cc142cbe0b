// Files, network and processes for components (`airssys:ext-*`), end to end: a C component
// (fixtures/src/ext-gateway) starts each operation and forwards its reply; the host runs it on
// the component's osl sandbox. Hostile cases assert the exact code, that the host stays up, and
// that the audit log recorded the decision.
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { unframe } from '../../src/host/ext-services.js';
import { ComponentHost, type ComponentHostOptions } from '../../src/host/index.js';
import { suggestPermissions } from '../../src/host/permissions.js';
import { Engine } from '../../src/wasm/index.js';
import { tempDir } from '../support/temp.js';
import { variant } from '../support/variant.js';

const engine = new Engine();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const hosts: ComponentHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/big') {
      res.end(Buffer.alloc(64 * 1024, 120));
      return;
    }
    if (req.url === '/redirect-out') {
      res.writeHead(302, { location: 'http://example.invalid/' });
      res.end();
      return;
    }
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      res.setHeader('x-seen', `${req.method} ${req.url}`);
      res.end(`hello ${body}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A data folder with `in/` (read grant), `out/` (write grant) and a secret beside them. */
function sandboxDir() {
  const root = realpathSync(tempDir('ext'));
  mkdirSync(join(root, 'in'));
  mkdirSync(join(root, 'out'));
  writeFileSync(join(root, 'in', 'a.txt'), 'alpha');
  writeFileSync(join(root, 'secret.txt'), 'top secret');
  return root;
}

async function gateway(permissions: string[], options: ComponentHostOptions = {}) {
  const host = await ComponentHost.create({ threads: 0, maxMessageBytes: 16 * 1024, ...options });
  hosts.push(host);
  await host.start(await engine.load(variant('ext-gateway', { name: 'gw', permissions })));
  const ask = async (command: string) => host.request('gw', command, { timeoutMs: 5000 });
  const fails = async (command: string) =>
    ask(command).then(
      (reply) => {
        throw new Error(`expected "${command}" to fail, got ${text(reply.payload)}`);
      },
      (error) => error as { code: string; message: string },
    );
  return { host, ask, fails };
}

const FS = (root: string) => [
  `filesystem = { read = ["${root}/in/**", "${root}/out/**"], write = ["${root}/out/**"] }`,
];

describe('ext-filesystem', () => {
  it('reads, writes, lists, stats, creates and removes within its grants', async () => {
    const root = sandboxDir();
    const { ask } = await gateway(FS(root));
    expect(text((await ask(`read ${root}/in/a.txt`)).payload)).toBe('alpha');
    await ask(`write ${root}/out/b.txt first line`);
    await ask(`append ${root}/out/b.txt , more`);
    expect(text((await ask(`read ${root}/out/b.txt`)).payload)).toBe('first line, more');
    expect((await ask(`list ${root}/in`)).value).toEqual([{ name: 'a.txt', type: 'file' }]);
    expect((await ask(`stat ${root}/out/b.txt`)).value).toMatchObject({ type: 'file', size: 16 });
    await ask(`mkdir ${root}/out/sub`);
    await ask(`rm ${root}/out/b.txt`);
    expect((await ask(`list ${root}/out`)).value).toEqual([{ name: 'sub', type: 'directory' }]);
  });

  it('refuses what is not granted, escapes and writes to read-only grants, and audits each', async () => {
    const root = sandboxDir();
    symlinkSync(join(root, 'secret.txt'), join(root, 'in', 'link.txt'));
    const { host, ask, fails } = await gateway(FS(root));
    const cases: [string, string][] = [
      [`read ${root}/secret.txt`, 'capability-denied'],
      [`read ${root}/in/../secret.txt`, 'capability-denied'],
      [`read ${root}/in/link.txt`, 'capability-denied'],
      [`read /etc/passwd`, 'capability-denied'],
      [`read /proc/self/environ`, 'capability-denied'],
      [`read in/a.txt`, 'invalid-argument'],
      [`write ${root}/in/a.txt overwritten`, 'capability-denied'],
      [`rm ${root}/in/a.txt`, 'capability-denied'],
      [`mkdir ${root}/in/new`, 'capability-denied'],
      [`read ${root}/in/missing.txt`, 'not-found'],
    ];
    for (const [command, code] of cases) expect((await fails(command)).code, command).toBe(code);
    // Nothing changed, and the host still serves.
    expect(text((await ask(`read ${root}/in/a.txt`)).payload)).toBe('alpha');
    const denials = host.audit({ component: 'gw', decision: 'deny' });
    expect(denials.map((r) => r.subject)).toEqual(
      expect.arrayContaining([`${root}/secret.txt`, '/etc/passwd', `${root}/in/a.txt`]),
    );
    expect(denials.length).toBeGreaterThanOrEqual(cases.length - 1); // not-found is an allowed open
    expect(
      host.audit({ component: 'gw', decision: 'allow', operation: 'fs.read-file' }).length,
    ).toBeGreaterThan(0);
  });

  it('a file larger than the message cap is refused before it is read', async () => {
    const root = sandboxDir();
    writeFileSync(join(root, 'in', 'big.bin'), Buffer.alloc(64 * 1024));
    const { fails } = await gateway(FS(root));
    expect((await fails(`read ${root}/in/big.bin`)).code).toBe('capability-denied');
  });

  it('an instance may have at most 64 operations in flight', async () => {
    const root = sandboxDir();
    const { ask } = await gateway(FS(root));
    expect(text((await ask(`flood 100 ${root}/in/a.txt`)).payload)).toBe('64 quota-exceeded');
    // Their replies drain; the limit frees up again.
    await expect.poll(async () => text((await ask(`flood 1 ${root}/in/a.txt`)).payload)).toBe('1 none');
  });

  it('without any grant every operation is refused', async () => {
    const root = sandboxDir();
    const { fails } = await gateway([]);
    expect((await fails(`read ${root}/in/a.txt`)).code).toBe('capability-denied');
    expect((await fails(`fetch GET http://127.0.0.1:${port}/`)).code).toBe('capability-denied');
    expect((await fails('spawn /bin/true')).code).toBe('capability-denied');
  });
});

describe('ext-network', () => {
  const GRANT = () => [`network = { outbound = ["127.0.0.1:${port}"] }`];

  it('sends a granted request and frames the response', async () => {
    const { ask } = await gateway(GRANT());
    const reply = await ask(`post http://127.0.0.1:${port}/echo world`);
    const { head, body } = unframe(reply.payload);
    expect(head).toMatchObject({ status: 200 });
    expect((head as { headers: string[][] }).headers).toContainEqual(['x-seen', 'POST /echo']);
    expect(text(body)).toBe('hello world');
  });

  it('refuses other hosts and ports, metadata, userinfo, redirects out, and oversized bodies', async () => {
    const { host, ask, fails } = await gateway(GRANT());
    const cases: [string, string][] = [
      [`fetch GET http://127.0.0.1:${port + 1}/`, 'capability-denied'],
      ['fetch GET http://169.254.169.254/latest/meta-data/', 'capability-denied'],
      ['fetch GET http://localhost/', 'capability-denied'],
      [`fetch GET http://user:pw@127.0.0.1:${port}/`, 'capability-denied'],
      [`fetch GET http://127.0.0.1:${port}/redirect-out`, 'capability-denied'],
      [`fetch GET http://127.0.0.1:${port}/big`, 'capability-denied'],
      ['fetch GET not-a-url', 'invalid-argument'],
      [`fetch GE\u0001T http://127.0.0.1:${port}/`, 'invalid-argument'],
    ];
    for (const [command, code] of cases) expect((await fails(command)).code, command).toBe(code);
    expect(unframe((await ask(`fetch GET http://127.0.0.1:${port}/`)).payload).head).toMatchObject({
      status: 200,
    });
    const denied = host.audit({ component: 'gw', decision: 'deny', operation: 'net.fetch' });
    expect(denied.length).toBeGreaterThanOrEqual(5);
  });
});

describe('ext-process', () => {
  it('runs a granted executable with an argument array and no shell', async () => {
    const echo = realpathSync('/bin/echo');
    const { ask } = await gateway([`process = { spawn = ["${echo}"] }`]);
    const { head, body } = unframe((await ask(`spawn ${echo} a;b $(id)`)).payload);
    expect(head).toMatchObject({ 'exit-code': 0, signal: null });
    const stdoutBytes = (head as { 'stdout-bytes': number })['stdout-bytes'];
    expect(text(body.subarray(0, stdoutBytes))).toBe('a;b $(id)\n');
  });

  it('refuses executables that are not granted, whether or not they exist', async () => {
    const echo = realpathSync('/bin/echo');
    const { host, fails } = await gateway([`process = { spawn = ["${echo}"] }`]);
    for (const command of ['spawn /bin/sh -c id', 'spawn /nonexistent', 'spawn echo hi'])
      expect((await fails(command)).code, command).toMatch(/capability-denied|invalid-argument/);
    expect(host.audit({ component: 'gw', decision: 'deny', operation: 'process.spawn' }).length).toBe(3);
  });
});

describe('learn mode', () => {
  it('runs with nothing granted and suggests the least privilege that would have allowed it', async () => {
    const root = sandboxDir();
    const echo = realpathSync('/bin/echo');
    const { host, fails } = await gateway(
      [...FS(root), `network = { outbound = ["127.0.0.1:${port}"] }`, `process = { spawn = ["${echo}"] }`],
      { learn: ['gw'] },
    );
    expect((await fails(`read ${root}/in/a.txt`)).code).toBe('capability-denied');
    expect((await fails(`write ${root}/out/x.txt data`)).code).toBe('capability-denied');
    expect((await fails(`fetch GET http://127.0.0.1:${port}/status`)).code).toBe('capability-denied');
    expect((await fails(`spawn ${echo} hi`)).code).toBe('capability-denied');
    expect(suggestPermissions(host.audit({ component: 'gw' }))).toEqual({
      'filesystem.read': [`${root}/in/a.txt`],
      'filesystem.write': [`${root}/out/x.txt`],
      'network.outbound': [`127.0.0.1:${port}`],
      'process.spawn': [echo],
    });
  });
});
