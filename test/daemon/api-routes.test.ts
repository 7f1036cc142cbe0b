// Every admin API route, by table: refused without the token (and with a wrong one), and each
// kind of bad input answered with its status and error code — never a 500, never a crash. The
// table is checked against the routes declared in src/daemon/api.ts, so a new route needs a row.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import { ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** A valid call, for the auth checks. */
  body?: unknown;
  /** Bad inputs: [body or query, expected status, expected code]. */
  bad?: [unknown, number, string][];
}

const ROUTES: Route[] = [
  { method: 'GET', path: '/v1/status' },
  { method: 'GET', path: '/v1/components' },
  {
    method: 'POST',
    path: '/v1/components',
    body: { path: join(ROOT, 'fixtures', 'build', 'echo') },
    bad: [
      [{}, 400, 'invalid-argument'],
      [{ path: 42 }, 400, 'invalid-argument'],
      [{ url: 'http://127.0.0.1:1/x.tgz' }, 400, 'invalid-argument'], // no sha256
      [{ path: '/nonexistent/component' }, 404, 'not-found'],
      ['not json', 400, 'invalid-argument'],
    ],
  },
  { method: 'GET', path: '/v1/deployments' },
  {
    method: 'POST',
    path: '/v1/deployments',
    body: { name: 'echo' },
    bad: [
      [{}, 400, 'invalid-argument'],
      [{ name: 'echo', version: 7 }, 400, 'invalid-argument'],
      [{ name: 'nothing-installed' }, 404, 'not-found'],
      [[1, 2], 400, 'invalid-argument'],
    ],
  },
  {
    method: 'POST',
    path: '/v1/rollback',
    body: { address: 'echo' },
    bad: [
      [{}, 400, 'invalid-argument'],
      [{ address: 'echo', version: false }, 400, 'invalid-argument'],
    ],
  },
  { method: 'DELETE', path: '/v1/addresses/no-such-address' },
  {
    method: 'POST',
    path: '/v1/addresses/echo/send',
    body: { payload: 'x' },
    bad: [
      [{}, 400, 'invalid-argument'],
      [{ payload: 'x', codec: 'xml' }, 400, 'invalid-argument'],
      [{ payload: '{not json', codec: 'json' }, 400, 'invalid-argument'],
    ],
  },
  {
    method: 'POST',
    path: '/v1/addresses/echo/request',
    body: { payload: 'x' },
    bad: [
      [{ payload: 1 }, 400, 'invalid-argument'],
      [{ payload: 'x', timeoutMs: -5 }, 400, 'invalid-argument'],
    ],
  },
  {
    method: 'POST',
    path: '/v1/addresses/echo/run',
    body: {},
    bad: [
      [{}, 400, 'invalid-argument'], // echo is an actor, not a command
      [{ args: 'not a list' }, 400, 'invalid-argument'],
      ['not json', 400, 'invalid-argument'],
    ],
  },
  { method: 'GET', path: '/v1/http/routes' },
  { method: 'GET', path: '/v1/logs?limit=5' },
  {
    method: 'GET',
    path: '/v1/audit',
    bad: [
      ['?decision=perhaps', 400, 'invalid-argument'],
      ['?limit=99999999', 400, 'invalid-argument'],
      ['?until=tomorrow', 400, 'invalid-argument'],
    ],
  },
  {
    method: 'GET',
    path: '/v1/audit/suggest?component=echo',
    bad: [
      ['?', 400, 'invalid-argument'],
      ['?component=', 400, 'invalid-argument'],
    ],
  },
  { method: 'GET', path: '/v1/metrics' },
  { method: 'GET', path: '/v1/events' },
  // This host is in no cluster: each cluster route is not-found (with a cluster: test/cli/cluster-command.test.ts).
  { method: 'GET', path: '/v1/cluster', bad: [['', 404, 'not-found']] },
  {
    method: 'PUT',
    path: '/v1/cluster/deployments/echo',
    body: { component: 'echo' },
    bad: [
      [{ instances: 1 }, 404, 'not-found'],
      ['not json', 400, 'invalid-argument'],
    ],
  },
  { method: 'DELETE', path: '/v1/cluster/deployments/echo', bad: [[undefined, 404, 'not-found']] },
];

let daemon: Daemon;
beforeAll(async () => {
  daemon = await startDaemon({
    dataDir: tempDir('api-routes'),
    port: 0,
    threads: 0,
    examples: join(ROOT, 'fixtures', 'build'),
  });
});
afterAll(() => daemon.close());

async function call(route: Route, token: string | null, body = route.body, query = '') {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const path = query === '' ? route.path : `${route.path.split('?')[0]}${query}`;
  const response = await fetch(`${daemon.url}${path}`, { method: route.method, headers, body: payload });
  const text = await response.text();
  let json: { ok?: boolean; error?: { code: string; message: string } } | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
}

describe('admin API routes', () => {
  it('the table lists every route declared in api.ts', () => {
    const source = readFileSync(join(ROOT, 'src', 'daemon', 'api.ts'), 'utf8');
    const declared = [...source.matchAll(/app\.(get|post|delete|put)\('(\/v1\/[^']*)'/g)]
      .map((m) => `${m[1].toUpperCase()} ${m[2].replace(/:address/, 'X')}`)
      .sort();
    const tabled = ROUTES.map(
      (r) => `${r.method} ${r.path.split('?')[0].replace(/\/(addresses|deployments)\/[^/]+/, '/$1/X')}`,
    ).sort();
    expect(tabled).toEqual(declared);
  });

  for (const route of ROUTES) {
    it(`${route.method} ${route.path} — 401 without the token or with a wrong one`, async () => {
      for (const token of [null, 'wrong', `${daemon.token}x`]) {
        const r = await call(route, token);
        expect(r.status).toBe(401);
        expect(r.json?.error?.code).toBe('capability-denied');
      }
    });
  }

  for (const route of ROUTES.filter((r) => r.bad !== undefined)) {
    it(`${route.method} ${route.path} — bad input gets its status and code`, async () => {
      for (const [input, status, code] of route.bad!) {
        const r =
          route.method === 'GET'
            ? await call(route, daemon.token, undefined, input as string)
            : await call(route, daemon.token, input);
        expect(r.status, JSON.stringify(input)).toBe(status);
        expect(r.json?.error?.code, JSON.stringify(input)).toBe(code);
      }
      // The host still answers.
      expect((await fetch(`${daemon.url}/livez`)).status).toBe(200);
    });
  }

  it('a body over the limit is refused with 413 and the host stays up', async () => {
    const r = await call(ROUTES.find((x) => x.path === '/v1/addresses/echo/send')!, daemon.token, {
      payload: 'x'.repeat(3 * 1024 * 1024),
    });
    expect(r.status).toBe(413);
    expect(r.json?.error?.code).toBe('invalid-argument');
    expect((await fetch(`${daemon.url}/livez`)).status).toBe(200);
  });
});
