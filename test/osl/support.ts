/** Shared test helpers for osl: fixture servers, a fake resolver, and the hostile-test assertion. */

import type http from 'node:http';
import { expect } from 'vitest';
import type { Decision } from '../../src/osl/audit/audit-log.js';
import type { MemoryAuditLog } from '../../src/osl/audit/memory-audit-log.js';
import { MemoryNetwork } from '../../src/osl/memory/memory-network.js';
import { MemoryProcess } from '../../src/osl/memory/memory-process.js';
import type { Lookup, ResolvedAddress } from '../../src/osl/ports/network.js';

/** Every `*.test` name resolves to loopback; anything else does not exist. */
export const loopbackLookup: Lookup = async (host) => {
  if (host === 'svc.test' || host.endsWith('.test')) return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
};

/** A resolver from a fixed table, for DNS tricks (rebinding, mapped addresses). */
export function tableResolver(table: Record<string, string[]>): (host: string) => Promise<ResolvedAddress[]> {
  return async (host) => {
    const answers = table[host];
    if (!answers) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

export const fixtureHttpHandler: http.RequestListener = (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  switch (url.pathname) {
    case '/hello':
      res.writeHead(200, { 'x-test': '1', 'content-type': 'text/plain' }).end('hello');
      return;
    case '/redirect':
      res.writeHead(302, { location: url.searchParams.get('to') ?? '/hello' }).end();
      return;
    case '/big':
      res.writeHead(200).end(Buffer.alloc(1 << 20, 120));
      return;
    case '/stream': {
      // No content-length: the cap must hold while bytes are still arriving.
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 121);
      const pump = () => {
        while (res.write(chunk)) if (res.destroyed) return;
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
      return;
    }
    case '/loop':
      res.writeHead(302, { location: '/loop' }).end();
      return;
    case '/slow':
      return; // never answers
    case '/echo': {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => res.writeHead(200).end(Buffer.concat(chunks)));
      return;
    }
    default:
      res.writeHead(404).end();
  }
};

/** The same routes on the in-memory network. */
export function memoryFixtureNetwork(address: string, httpPort: number, tcpPort: number): MemoryNetwork {
  const mem = new MemoryNetwork();
  mem.http(address, httpPort, async (req) => {
    switch (req.url.pathname) {
      case '/hello':
        return { body: 'hello', headers: { 'X-Test': '1' } };
      case '/redirect':
        return { status: 302, headers: { Location: req.url.searchParams.get('to') ?? '/hello' } };
      case '/big':
        return { body: new Uint8Array(1 << 20) };
      case '/slow':
        return new Promise(() => {});
      case '/echo':
        return { body: req.body ?? new Uint8Array() };
      default:
        return { status: 404 };
    }
  });
  mem.tcp(address, tcpPort, (data) => data);
  return mem;
}

/**
 * The hostile-test assertion: the call fails with exactly `code`, and the audit log holds a
 * matching decision for it (the host evidently stayed up: we are still running assertions).
 */
export async function expectRefused(
  call: Promise<unknown>,
  code: string,
  audit: MemoryAuditLog,
  expected: { operation?: string; decision?: Decision; subject?: string | RegExp } = {},
): Promise<void> {
  const before = audit.records.length;
  await expect(call).rejects.toMatchObject({ code, name: 'AirssysError' });
  expect(audit.records.length).toBeGreaterThan(before);
  const last = audit.records[audit.records.length - 1];
  expect(last).toMatchObject({ decision: expected.decision ?? 'deny', code });
  if (expected.operation) expect(last.operation).toBe(expected.operation);
  if (expected.subject instanceof RegExp) expect(last.subject).toMatch(expected.subject);
  else if (expected.subject) expect(last.subject).toBe(expected.subject);
}

/** Fake coreutils with the same observable behaviour as the real ones. */
export function fakeCoreutils(): MemoryProcess {
  const proc = new MemoryProcess();
  proc.install('/usr/bin/echo', ({ args }) => ({ stdout: `${args.join(' ')}\n` }));
  proc.install('/usr/bin/env', ({ env }) => ({
    stdout: Object.entries(env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  }));
  proc.install('/usr/bin/sleep', ({ args }) => ({ durationMs: Number(args[0]) * 1000 }));
  proc.install('/usr/bin/yes', () => ({ stdout: 'y\n'.repeat(1 << 20) }));
  proc.install('/usr/bin/false', () => ({ exitCode: 1 }));
  proc.link('/bin/echo', '/usr/bin/echo');
  return proc;
}
