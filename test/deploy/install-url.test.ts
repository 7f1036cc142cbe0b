// Installing from an http(s) URL with a pinned hash, against a local HTTP server.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentRegistry, installFromUrl } from '../../src/deploy/index.js';
import { fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

let server: Server;
let base: string;
let served: Record<string, Uint8Array>;
const binary = readFileSync(join(fixture('counter'), 'component.wasm'));
const pinned = createHash('sha256').update(binary).digest('hex');

beforeAll(async () => {
  served = {
    '/counter/Component.toml': readFileSync(join(fixture('counter'), 'Component.toml')),
    '/counter/component.wasm': binary,
    '/swapped/Component.toml': readFileSync(join(fixture('counter'), 'Component.toml')),
    '/swapped/component.wasm': readFileSync(join(fixture('echo'), 'component.wasm')),
  };
  server = createServer((req, res) => {
    const body = served[req.url ?? ''];
    res.writeHead(body === undefined ? 404 : 200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('install from a URL', () => {
  it('installs when the binary matches the pinned sha256', async () => {
    const registry = ComponentRegistry.open(tempDir('url'));
    const record = await installFromUrl(registry, `${base}/counter`, pinned);
    expect(record).toMatchObject({
      name: 'counter',
      version: '0.1.0',
      hash: pinned,
      source: { kind: 'url' },
    });
    expect(registry.binary(record)).toEqual(new Uint8Array(binary));
    registry.close();
  });

  it('refuses a binary that differs from the pinned hash, and installs nothing', async () => {
    const registry = ComponentRegistry.open(tempDir('url-swapped'));
    await expect(installFromUrl(registry, `${base}/swapped`, pinned)).rejects.toMatchObject({
      code: 'signature-invalid',
      message: expect.stringContaining('not the pinned'),
    });
    expect(registry.list()).toEqual([]);
    registry.close();
  });

  it('refuses unpinned installs, other schemes, and reports missing files', async () => {
    const registry = ComponentRegistry.open(tempDir('url-bad'));
    await expect(installFromUrl(registry, `${base}/counter`, 'abc')).rejects.toMatchObject({
      code: 'invalid-argument',
    });
    await expect(installFromUrl(registry, 'file:///etc/passwd', pinned)).rejects.toMatchObject({
      code: 'invalid-argument',
    });
    await expect(installFromUrl(registry, `${base}/nothing`, pinned)).rejects.toMatchObject({
      code: 'not-found',
      message: expect.stringContaining('HTTP 404'),
    });
    registry.close();
  });
});
