/**
 * The Network port contract. Fixtures serve, for `host` (resolved only through `lookup`):
 * HTTP `/hello` (200 "hello", header `x-test: 1`), `/redirect` (302 to `/hello`), `/big`
 * (1 MiB), `/slow` (never answers), `/echo` (echoes a POST body); and a TCP echo service.
 */

import { describe, expect, it } from 'vitest';
import type { Lookup, Network } from '../../../src/osl/ports/network.js';
import { AirssysError } from '../../../src/shared/errors.js';

export interface NetworkFixture {
  net: Network;
  host: string;
  httpPort: number;
  tcpPort: number;
  closedPort: number;
  lookup: Lookup;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

export function runNetworkContract(name: string, { make }: { make: () => NetworkFixture }): void {
  describe(`${name} — Network contract`, () => {
    const get = (
      f: NetworkFixture,
      path: string,
      extra: Partial<{ max: number; timeout: number; lookup: Lookup }> = {},
    ) =>
      f.net.exchange(
        { url: new URL(`http://${f.host}:${f.httpPort}${path}`), method: 'GET', headers: {} },
        {
          lookup: extra.lookup ?? f.lookup,
          maxResponseBytes: extra.max ?? 4 << 20,
          timeoutMs: extra.timeout ?? 2000,
        },
      );

    it('performs one HTTP exchange through the given lookup', async () => {
      const f = make();
      const asked: string[] = [];
      const res = await get(f, '/hello', {
        lookup: async (h) => {
          asked.push(h);
          return f.lookup(h);
        },
      });
      expect(res.status).toBe(200);
      expect(text(res.body)).toBe('hello');
      expect(res.headers['x-test']).toBe('1');
      expect(res.remoteAddress).toMatch(/127\.0\.0\.1$/);
      expect(asked).toEqual([f.host]);
    });

    it('sends a request body', async () => {
      const f = make();
      const res = await f.net.exchange(
        {
          url: new URL(`http://${f.host}:${f.httpPort}/echo`),
          method: 'POST',
          headers: {},
          body: new TextEncoder().encode('ping'),
        },
        { lookup: f.lookup, maxResponseBytes: 100, timeoutMs: 2000 },
      );
      expect(text(res.body)).toBe('ping');
    });

    it('does not follow redirects', async () => {
      const f = make();
      const res = await get(f, '/redirect');
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/hello');
    });

    it('refuses a body over the cap', async () => {
      const f = make();
      await expect(get(f, '/big', { max: 1000 })).rejects.toMatchObject({ code: 'capability-denied' });
    });

    it('times out a server that never answers', async () => {
      const f = make();
      await expect(get(f, '/slow', { timeout: 150 })).rejects.toMatchObject({ code: 'timeout' });
    });

    it('fails with the lookup’s own error when the lookup refuses', async () => {
      const f = make();
      const refusal = new AirssysError('capability-denied', 'refused by the test lookup');
      await expect(
        get(f, '/hello', {
          lookup: async () => {
            throw refusal;
          },
        }),
      ).rejects.toMatchObject({ code: 'capability-denied' });
    });

    it('connects over TCP, echoes, and reports the close', async () => {
      const f = make();
      const conn = await f.net.connect(f.host, f.tcpPort, { lookup: f.lookup, timeoutMs: 2000 });
      let closed = false;
      conn.onClose(() => {
        closed = true;
      });
      await conn.write(new TextEncoder().encode('abc'));
      expect(text((await conn.read())!)).toBe('abc');
      await conn.close();
      await new Promise((r) => setTimeout(r, 20));
      expect(closed).toBe(true);
    });

    it('reports a refused connection as not-found', async () => {
      const f = make();
      await expect(
        f.net.connect(f.host, f.closedPort, { lookup: f.lookup, timeoutMs: 2000 }),
      ).rejects.toMatchObject({
        code: 'not-found',
      });
    });
  });
}
